//! ID tokens: OpenID Connect Core §2, signed per §10.1, with `at_hash` (§3.1.3.6, §3.2.2.10)
//! and `c_hash` (§3.3.2.11).
//!
//! An ID token is a JWT signed by the provider's active key, with no `typ` header. It always
//! carries `iss`, `sub`, `aud` (the client id; never a list here, so no `azp`), `exp` and
//! `iat`; `auth_time` when the caller decides it must ([`IssuerSettings::auth_time_in_id_token`]);
//! `nonce` exactly as the authorization request sent it; `amr` when known; and `at_hash` /
//! `c_hash` when it travels with an access token / a code. The user's claims go in only when
//! no access token is issued (`response_type=id_token`, Core §5.4); otherwise the client reads
//! them from UserInfo.
//!
//! ```
//! use portcullis_grants::{IdToken, IssuerSettings};
//! use portcullis_registry::ClientId;
//! use portcullis_tokens::{JwtExpectations, KeySet, SigningAlgorithm, SigningKey, Subject, oidc_hash};
//! use serde_json::Value;
//! use time::OffsetDateTime;
//!
//! let settings = IssuerSettings::new("https://id.example");
//! let keys = KeySet::new(SigningKey::generate(SigningAlgorithm::ES256)?);
//! let now = OffsetDateTime::now_utc();
//! let jwt = IdToken::new(Subject::new("user-1")?, ClientId::new("web-app")?, now)
//!     .nonce(Some("n-0S6_WzA2Mj"))
//!     .access_token("pc_at_example")
//!     .sign(&settings, &keys)?;
//!
//! let expect = JwtExpectations::new("https://id.example", now).with_audience("web-app");
//! let claims: Value = keys.verify(&jwt, &expect)?;
//! assert_eq!(claims["sub"], "user-1");
//! assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
//! assert_eq!(claims["at_hash"], oidc_hash(SigningAlgorithm::ES256, "pc_at_example"));
//! assert!(claims.get("auth_time").is_none());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use portcullis_registry::ClientId;
use portcullis_tokens::{KeySet, Subject, TokenError, oidc_hash};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::{IssuerSettings, TokenResponse};

/// Claims the provider asserts itself: a [`ClaimsSource`](crate::ClaimsSource) cannot set or
/// override them (OpenID Connect Core §2, §3.1.3.6, §3.3.2.11; RFC 7519 §4.1).
pub const PROTOCOL_CLAIMS: [&str; 15] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "azp",
    "at_hash",
    "c_hash",
    "sid",
];

/// The response member carrying the ID token, at the token endpoint (Core §3.1.3.3) and in
/// authorization responses (Core §3.2.2.5).
pub const ID_TOKEN: &str = "id_token";

/// One ID token to sign (OpenID Connect Core §2).
///
/// ```
/// use portcullis_grants::IdToken;
/// use portcullis_registry::ClientId;
/// use portcullis_tokens::Subject;
///
/// let id_token = IdToken::new(Subject::new("u")?, ClientId::new("c")?, time::OffsetDateTime::UNIX_EPOCH)
///     .amr(["pwd"]);
/// assert_eq!(id_token.subject.as_str(), "u");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct IdToken {
    /// `sub`: the user.
    pub subject: Subject,
    /// `aud`: the client the token is for.
    pub audience: ClientId,
    /// `iat`; `exp` is this plus the provider's ID token lifetime.
    pub issued_at: OffsetDateTime,
    /// `auth_time`, when it must be included.
    pub auth_time: Option<OffsetDateTime>,
    /// `nonce`, exactly as the authorization request sent it.
    pub nonce: Option<String>,
    /// The access token issued with it, for `at_hash`.
    pub access_token: Option<String>,
    /// The authorization code issued with it, for `c_hash`.
    pub code: Option<String>,
    /// `amr` (authentication method references, RFC 8176), when known.
    pub amr: Vec<String>,
    /// The user's claims (Core §5.1), for an ID token issued without an access token.
    pub claims: Map<String, Value>,
}

impl IdToken {
    /// An ID token about `subject` for the client `audience`, issued at `issued_at`, with
    /// nothing optional.
    pub fn new(subject: Subject, audience: ClientId, issued_at: OffsetDateTime) -> IdToken {
        IdToken {
            subject,
            audience,
            issued_at,
            auth_time: None,
            nonce: None,
            access_token: None,
            code: None,
            amr: Vec::new(),
            claims: Map::new(),
        }
    }

    /// Sets `auth_time` (`None` leaves it out).
    #[must_use]
    pub fn auth_time(mut self, auth_time: Option<OffsetDateTime>) -> IdToken {
        self.auth_time = auth_time;
        self
    }

    /// Sets `nonce` (`None` leaves it out).
    #[must_use]
    pub fn nonce(mut self, nonce: Option<&str>) -> IdToken {
        self.nonce = nonce.map(str::to_owned);
        self
    }

    /// Adds `at_hash` of `access_token` (Core §3.1.3.6, §3.2.2.10).
    #[must_use]
    pub fn access_token(mut self, access_token: &str) -> IdToken {
        self.access_token = Some(access_token.to_owned());
        self
    }

    /// Adds `c_hash` of `code` (Core §3.3.2.11).
    #[must_use]
    pub fn code(mut self, code: &str) -> IdToken {
        self.code = Some(code.to_owned());
        self
    }

    /// Sets `amr` (RFC 8176 values such as `pwd`); empty leaves it out.
    #[must_use]
    pub fn amr<S: Into<String>>(mut self, amr: impl IntoIterator<Item = S>) -> IdToken {
        self.amr = amr.into_iter().map(Into::into).collect();
        self
    }

    /// Adds the user's claims; those named in [`PROTOCOL_CLAIMS`] are dropped.
    #[must_use]
    pub fn claims(mut self, claims: Map<String, Value>) -> IdToken {
        self.claims = claims;
        self
    }

    /// The claims set, as it will be signed.
    ///
    /// ```
    /// use portcullis_grants::{IdToken, IssuerSettings};
    /// use portcullis_registry::ClientId;
    /// use portcullis_tokens::{SigningAlgorithm, Subject};
    /// use serde_json::{json, Map};
    ///
    /// let mut claims = Map::new();
    /// claims.insert("email".into(), json!("u@example.com"));
    /// claims.insert("sub".into(), json!("someone-else"));
    /// let set = IdToken::new(Subject::new("u")?, ClientId::new("c")?, time::OffsetDateTime::UNIX_EPOCH)
    ///     .claims(claims)
    ///     .claims_set(&IssuerSettings::new("https://id.example"), SigningAlgorithm::ES256);
    /// assert_eq!(set["sub"], "u");
    /// assert_eq!(set["email"], "u@example.com");
    /// assert_eq!(set["exp"], 3600);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn claims_set(
        &self,
        settings: &IssuerSettings,
        algorithm: portcullis_tokens::SigningAlgorithm,
    ) -> Map<String, Value> {
        let mut set: Map<String, Value> = self
            .claims
            .iter()
            .filter(|(name, _)| !PROTOCOL_CLAIMS.contains(&name.as_str()))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        let expires_at = self.issued_at + settings.id_token_lifetime;
        set.insert("iss".into(), settings.issuer.clone().into());
        set.insert("sub".into(), self.subject.as_str().into());
        set.insert("aud".into(), self.audience.as_str().into());
        set.insert("exp".into(), expires_at.unix_timestamp().into());
        set.insert("iat".into(), self.issued_at.unix_timestamp().into());
        if let Some(auth_time) = self.auth_time {
            set.insert("auth_time".into(), auth_time.unix_timestamp().into());
        }
        if let Some(nonce) = &self.nonce {
            set.insert("nonce".into(), nonce.clone().into());
        }
        if !self.amr.is_empty() {
            set.insert("amr".into(), self.amr.clone().into());
        }
        if let Some(access_token) = &self.access_token {
            set.insert("at_hash".into(), oidc_hash(algorithm, access_token).into());
        }
        if let Some(code) = &self.code {
            set.insert("c_hash".into(), oidc_hash(algorithm, code).into());
        }
        set
    }

    /// Signs the ID token with the active key of `keys` (no `typ` header).
    ///
    /// # Errors
    ///
    /// [`TokenError`] when signing fails.
    pub fn sign(&self, settings: &IssuerSettings, keys: &KeySet) -> Result<String, TokenError> {
        let key = keys.active();
        key.sign(None, &self.claims_set(settings, key.algorithm()))
    }
}

impl TokenResponse {
    /// Adds `id_token` to the response (OpenID Connect Core §3.1.3.3).
    ///
    /// ```
    /// use portcullis_grants::TokenResponse;
    /// use portcullis_tokens::{mint, TokenKind};
    ///
    /// let mut response = TokenResponse::bearer(mint(TokenKind::AccessToken)?, 300, Default::default());
    /// response.set_id_token("eyJ.eyJ.sig".into());
    /// assert_eq!(response.extra["id_token"], "eyJ.eyJ.sig");
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    pub fn set_id_token(&mut self, id_token: String) {
        self.extra.insert(ID_TOKEN.into(), id_token.into());
    }
}

#[cfg(test)]
mod tests;
