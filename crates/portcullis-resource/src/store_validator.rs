//! Validating tokens by looking them up in the provider's store: for a resource server in
//! the same process as the provider, or sharing its database.

use std::sync::Arc;

use async_trait::async_trait;
use portcullis_grants::{Clock, SystemClock};
use portcullis_store::{Store, StoreError};
use portcullis_tokens::{RawToken, TokenKind};

use crate::{AccessToken, BearerError, TokenValidator};

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
}

impl StoreValidator {
    /// Validates against `store` with the system clock.
    pub fn new(store: Arc<dyn Store>) -> StoreValidator {
        StoreValidator {
            store,
            clock: Arc::new(SystemClock),
        }
    }

    /// Uses `clock` for expiry (tests; or to share the provider's clock).
    #[must_use]
    pub fn clock(mut self, clock: impl Clock) -> StoreValidator {
        self.clock = Arc::new(clock);
        self
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
        let raw = RawToken::parse(token, TokenKind::AccessToken).map_err(|_| invalid())?;
        let now = self.clock.now();
        let record = self
            .store
            .find_token(&raw.lookup_key(), now)
            .await
            .map_err(unavailable)?
            .filter(|record| record.kind == TokenKind::AccessToken && record.is_active(now))
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
        })
    }
}
