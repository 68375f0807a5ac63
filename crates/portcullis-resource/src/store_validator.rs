//! Validating tokens by looking them up in the provider's store: for a resource server in
//! the same process as the provider, or sharing its database.
//!
//! Opaque tokens are looked up by their hash. RFC 9068 JWT access tokens are accepted only
//! when the validator was given the provider's keys ([`StoreValidator::with_keys`]): the
//! signature is verified first, then the record is looked up by the token's `jti`, so a
//! revoked JWT is refused although its signature is still valid (DESIGN §4.1).

use std::sync::Arc;

use async_trait::async_trait;
use portcullis_grants::{AT_JWT_TYP, Clock, SystemClock};
use portcullis_registry::ClientId;
use portcullis_store::{Store, StoreError};
use portcullis_tokens::{JwtExpectations, KeySet, RawToken, TokenHash, TokenKind};
use serde::Deserialize;

use crate::{AccessToken, BearerError, TokenValidator};

/// Where the provider's current signing keys come from: called for every JWT, so a key
/// rotation is seen at once.
type KeySource = Arc<dyn Fn() -> Arc<KeySet> + Send + Sync>;

/// Looks bearer tokens up in the store. A token is valid when it is a live access token
/// (not expired, revoked or rotated) whose client still exists and is not revoked.
///
/// ```
/// use portcullis_resource::{StoreValidator, TokenValidator};
/// use std::sync::Arc;
///
/// # tokio::runtime::Builder::new_current_thread().build().expect("rt").block_on(async {
/// let validator = StoreValidator::new(Arc::new(portcullis_store::MemoryStore::new()));
/// assert!(validator.validate("pc_at_unknown").await.is_err());
/// # });
/// ```
pub struct StoreValidator {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    jwt: Option<JwtVerification>,
    audience: Option<String>,
}

/// How JWT access tokens are verified before the store is asked about them.
struct JwtVerification {
    keys: KeySource,
    issuer: String,
}

impl StoreValidator {
    /// Validates against `store` with the system clock. JWT access tokens are refused
    /// until [`with_keys`](StoreValidator::with_keys) says how to verify them.
    pub fn new(store: Arc<dyn Store>) -> StoreValidator {
        StoreValidator {
            store,
            clock: Arc::new(SystemClock),
            jwt: None,
            audience: None,
        }
    }

    /// This resource server's identifier (its RFC 8707 resource URI): a token restricted
    /// to other resources is refused as `invalid_token`. Tokens requested without a
    /// `resource` are unrestricted and still accepted.
    ///
    /// ```
    /// use portcullis_resource::StoreValidator;
    /// use std::sync::Arc;
    /// let validator = StoreValidator::new(Arc::new(portcullis_store::MemoryStore::new()))
    ///     .audience("https://api.example/");
    /// # let _ = validator;
    /// ```
    #[must_use]
    pub fn audience(mut self, resource: impl Into<String>) -> StoreValidator {
        self.audience = Some(resource.into());
        self
    }

    /// Uses `clock` for expiry (tests; or to share the provider's clock).
    #[must_use]
    pub fn clock(mut self, clock: impl Clock) -> StoreValidator {
        self.clock = Arc::new(clock);
        self
    }

    /// Also accepts RFC 9068 JWT access tokens issued by `issuer` and signed with one of
    /// the keys `keys` returns (called for each JWT, so rotations are seen at once): the
    /// header `typ` must be `at+jwt` and the token unexpired (RFC 9068 §4), and then its
    /// record, found by `jti`, must be live like an opaque token's. The audience is not
    /// checked: the store is the provider's, and it vouches for its own tokens.
    ///
    /// In the provider's process, pass its keys:
    ///
    /// ```
    /// use portcullis_endpoints::Provider;
    /// use portcullis_resource::StoreValidator;
    /// use portcullis_store::MemoryStore;
    /// use std::sync::Arc;
    ///
    /// let store = Arc::new(MemoryStore::new());
    /// let provider = Provider::builder("https://id.example", store.clone()).build()?;
    /// let keys = provider.clone();
    /// let validator = StoreValidator::new(store)
    ///     .with_keys(move || keys.signing_keys(), provider.issuer());
    /// # let _ = validator;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_keys(
        mut self,
        keys: impl Fn() -> Arc<KeySet> + Send + Sync + 'static,
        issuer: impl Into<String>,
    ) -> StoreValidator {
        self.jwt = Some(JwtVerification {
            keys: Arc::new(keys),
            issuer: issuer.into(),
        });
        self
    }
}

/// What the lookup of a JWT access token needs from its claims.
#[derive(Deserialize)]
struct JwtAccessTokenClaims {
    jti: String,
    client_id: ClientId,
}

impl JwtVerification {
    /// The claims of `token` if it verifies now; `None` otherwise (the reason is logged,
    /// never the token).
    fn verify(&self, token: &str, now: time::OffsetDateTime) -> Option<JwtAccessTokenClaims> {
        let expect = JwtExpectations::new(self.issuer.as_str(), now).with_typ(AT_JWT_TYP);
        match (self.keys)().verify(token, &expect) {
            Ok(claims) => Some(claims),
            Err(err) => {
                tracing::debug!("bearer JWT refused: {err}");
                None
            }
        }
    }
}

fn unavailable(err: StoreError) -> BearerError {
    tracing::error!("token validation failed: storage: {err}");
    BearerError::Unavailable(err.to_string())
}

#[async_trait]
impl TokenValidator for StoreValidator {
    async fn validate(&self, token: &str) -> Result<AccessToken, BearerError> {
        let invalid =
            || BearerError::InvalidToken("the access token is invalid, expired or revoked".into());
        let now = self.clock.now();
        let (key, issued_to) = match RawToken::parse(token, TokenKind::AccessToken) {
            Ok(raw) => (raw.lookup_key(), None),
            Err(_) => {
                let claims = self
                    .jwt
                    .as_ref()
                    .and_then(|jwt| jwt.verify(token, now))
                    .ok_or_else(invalid)?;
                (TokenHash::of(&claims.jti), Some(claims.client_id))
            }
        };
        let record = self
            .store
            .find_token(&key, now)
            .await
            .map_err(unavailable)?
            .filter(|record| {
                record.kind == TokenKind::AccessToken
                    && record.is_active(now)
                    && issued_to.as_ref().is_none_or(|id| *id == record.client_id)
                    // RFC 8707 §2: a token for other resource servers is not for this one.
                    && self.audience.as_ref().is_none_or(|resource| {
                        record.audience.is_empty() || record.audience.contains(resource)
                    })
            })
            .ok_or_else(invalid)?;
        let client = self
            .store
            .get_client(&record.client_id)
            .await
            .map_err(unavailable)?;
        if client.is_none_or(|client| client.revoked) {
            return Err(invalid());
        }
        Ok(AccessToken {
            subject: record.subject,
            client_id: record.client_id,
            scopes: record.scopes,
            roles: record.roles,
            issued_at: record.issued_at,
            expires_at: record.expires_at,
            confirmation: record.confirmation,
        })
    }
}

#[cfg(test)]
mod tests;
