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
    /// Default: the issuer.
    pub access_token_audience: String,
}

impl IssuerSettings {
    /// The defaults for `issuer`.
    pub fn new(issuer: impl Into<String>) -> IssuerSettings {
        let issuer = issuer.into();
        IssuerSettings {
            access_token_audience: issuer.clone(),
            issuer,
            id_token_lifetime: Duration::hours(1),
            always_include_auth_time: false,
            jwt_access_tokens: false,
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
