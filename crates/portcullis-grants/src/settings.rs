//! How the provider issues signed tokens: ID tokens (OpenID Connect Core §2) and JWT
//! access tokens (RFC 9068).

use time::Duration;

/// Provider-wide settings for signed tokens, with their defaults.
///
/// ```
/// use portcullis_grants::IssuerSettings;
/// let settings = IssuerSettings::new("https://id.example");
/// assert_eq!(settings.id_token_lifetime, time::Duration::hours(1));
/// assert_eq!(settings.access_token_audience, "https://id.example");
/// assert!(!settings.jwt_access_tokens);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IssuerSettings {
    /// The issuer identifier: `iss` of every signed token.
    pub issuer: String,
    /// Lifetime of ID tokens. Default one hour.
    pub id_token_lifetime: Duration,
    /// Put `auth_time` in every ID token, not only when `max_age` was requested
    /// (OpenID Connect Core §2). Default `false`.
    pub always_include_auth_time: bool,
    /// Issue RFC 9068 JWT access tokens to every client, not only to clients registered
    /// with `AccessTokenFormat::Jwt`. Default `false`.
    pub jwt_access_tokens: bool,
    /// `aud` of JWT access tokens (RFC 9068 §3): the resource servers' identifier.
    /// Default: the issuer. A token requested for RFC 8707 resources has those as `aud`.
    pub access_token_audience: String,
    /// Which RFC 8707 resource indicators are accepted. Default: any absolute URI.
    pub resources: crate::ResourcePolicy,
    /// The provider's secret salt for pairwise subject identifiers (OpenID Connect Core
    /// §8.1). Without one, pairwise clients cannot be served (`server_error`) and discovery
    /// lists only `public`. Keep it stable: changing it changes every pairwise `sub`.
    pub pairwise_salt: Option<PairwiseSalt>,
}

/// The secret that makes pairwise subject identifiers unguessable: at least 16 bytes,
/// never printed.
///
/// ```
/// use portcullis_grants::PairwiseSalt;
/// let salt = PairwiseSalt::new(b"0123456789abcdef-a-stable-secret".to_vec()).expect("long enough");
/// let a = salt.subject("app.example", "user-1");
/// assert_eq!(a, salt.subject("app.example", "user-1")); // stable
/// assert_ne!(a, salt.subject("other.example", "user-1")); // per sector
/// assert_ne!(a, "user-1");
/// assert!(PairwiseSalt::new(b"short".to_vec()).is_none());
/// assert_eq!(format!("{salt:?}"), "PairwiseSalt(..)");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct PairwiseSalt(Vec<u8>);

impl PairwiseSalt {
    /// A salt of `bytes`; `None` when shorter than 16 bytes.
    #[must_use]
    pub fn new(bytes: Vec<u8>) -> Option<PairwiseSalt> {
        (bytes.len() >= 16).then_some(PairwiseSalt(bytes))
    }

    /// The pairwise `sub` of `local` for `sector`: base64url(SHA-256(sector ‖ 0 ‖ local ‖ 0 ‖
    /// salt)), the construction OpenID Connect Core §8.1 suggests. 43 characters.
    #[must_use]
    pub fn subject(&self, sector: &str, local: &str) -> String {
        use base64::Engine as _;
        use sha2::Digest as _;
        let mut hasher = sha2::Sha256::new();
        hasher.update(sector.as_bytes());
        hasher.update([0]);
        hasher.update(local.as_bytes());
        hasher.update([0]);
        hasher.update(&self.0);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hasher.finalize())
    }
}

impl std::fmt::Debug for PairwiseSalt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PairwiseSalt(..)")
    }
}

impl IssuerSettings {
    /// The `sub` `client` sees for `subject` in ID tokens and userinfo: the subject itself
    /// for a public-subject client, its pairwise identifier for a pairwise one (OpenID
    /// Connect Core §8.1).
    ///
    /// ```
    /// use portcullis_grants::{IssuerSettings, PairwiseSalt};
    /// use portcullis_registry::{ClientKind, NewClient, ScopeCatalog, SubjectType};
    /// use portcullis_tokens::Subject;
    /// let client = NewClient::new("Reports", ClientKind::Web)
    ///     .redirect_uri("https://reports.example/cb")
    ///     .subject_type(SubjectType::Pairwise)
    ///     .build(&ScopeCatalog::with_oidc_scopes())?
    ///     .client;
    /// let alice = Subject::new("user-alice")?;
    /// let mut settings = IssuerSettings::new("https://id.example");
    /// assert!(settings.subject_for_client(&client, &alice).is_err()); // no salt configured
    /// settings.pairwise_salt = PairwiseSalt::new(vec![7; 32]);
    /// let sub = settings.subject_for_client(&client, &alice)?;
    /// assert_ne!(sub, alice);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`GrantError::Application`](crate::GrantError::Application) when the client is
    /// pairwise but no salt is configured or the client has no sector.
    pub fn subject_for_client(
        &self,
        client: &portcullis_registry::Client,
        subject: &portcullis_tokens::Subject,
    ) -> Result<portcullis_tokens::Subject, crate::GrantError> {
        if client.subject_type != portcullis_registry::SubjectType::Pairwise {
            return Ok(subject.clone());
        }
        let misconfigured = |what: &str| {
            crate::GrantError::Application(
                format!("pairwise subjects for client {}: {what}", client.id).into(),
            )
        };
        let salt = self
            .pairwise_salt
            .as_ref()
            .ok_or_else(|| misconfigured("the provider has no pairwise salt"))?;
        let sector = client
            .sector_identifier()
            .ok_or_else(|| misconfigured("the client has no sector identifier"))?;
        portcullis_tokens::Subject::new(salt.subject(&sector, subject.as_str()))
            .map_err(|_| misconfigured("the pairwise identifier is not a valid subject"))
    }

    /// The defaults for `issuer`.
    pub fn new(issuer: impl Into<String>) -> IssuerSettings {
        let issuer = issuer.into();
        IssuerSettings {
            access_token_audience: issuer.clone(),
            issuer,
            id_token_lifetime: Duration::hours(1),
            always_include_auth_time: false,
            jwt_access_tokens: false,
            resources: crate::ResourcePolicy::Any,
            pairwise_salt: None,
        }
    }

    /// Whether an ID token carries `auth_time`: when the authorization request had
    /// `max_age` (OpenID Connect Core §3.1.2.1: "the ID Token returned MUST include an
    /// auth_time Claim Value"), or always when
    /// [`always_include_auth_time`](IssuerSettings::always_include_auth_time) is set.
    ///
    /// ```
    /// use portcullis_grants::IssuerSettings;
    /// let mut settings = IssuerSettings::new("https://id.example");
    /// assert!(settings.auth_time_in_id_token(true));
    /// assert!(!settings.auth_time_in_id_token(false));
    /// settings.always_include_auth_time = true;
    /// assert!(settings.auth_time_in_id_token(false));
    /// ```
    pub fn auth_time_in_id_token(&self, max_age_requested: bool) -> bool {
        max_age_requested || self.always_include_auth_time
    }
}
