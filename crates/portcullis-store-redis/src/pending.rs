//! Pending authorizations (RFC 6749 §4.1.1 requests waiting for login and consent): one
//! string key each, expiring at `expires_at`; `take_pending` is a `GETDEL`.

use async_trait::async_trait;
use portcullis_store::{PendingAuthorization, PendingAuthorizationStore, RecordFamily, StoreError};
use portcullis_tokens::TokenHash;
use time::OffsetDateTime;

use crate::encoding::{decode, encode, expiry_millis};
use crate::error::command_failed;
use crate::scripts;
use crate::store::{PENDING, RedisStore};

const FAMILY: RecordFamily = RecordFamily::PendingAuthorization;

impl RedisStore {
    /// Decodes a stored value, unless the record has expired at `now`.
    fn live_pending(
        value: Option<String>,
        now: OffsetDateTime,
    ) -> Result<Option<PendingAuthorization>, StoreError> {
        let Some(value) = value else {
            return Ok(None);
        };
        let pending: PendingAuthorization = decode(FAMILY, &value)?;
        Ok((!pending.is_expired(now)).then_some(pending))
    }
}

#[async_trait]
impl PendingAuthorizationStore for RedisStore {
    async fn insert_pending(&self, pending: PendingAuthorization) -> Result<(), StoreError> {
        let value = encode(FAMILY, pending.expires_at, &pending)?;
        let mut connection = self.connection().await?;
        let stored: bool = scripts::INSERT
            .key(self.key(PENDING, pending.handle))
            .key(self.expiries())
            .arg(value)
            .arg(expiry_millis(pending.expires_at))
            .arg(format!("{PENDING}{}", pending.handle))
            .invoke_async(&mut connection)
            .await
            .map_err(|error| command_failed("insert_pending", error))?;
        if stored {
            Ok(())
        } else {
            Err(StoreError::Conflict {
                family: FAMILY,
                key: pending.handle.to_string(),
            })
        }
    }

    async fn get_pending(
        &self,
        handle: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<PendingAuthorization>, StoreError> {
        let mut connection = self.connection().await?;
        let value: Option<String> = redis::cmd("GET")
            .arg(self.key(PENDING, handle))
            .query_async(&mut connection)
            .await
            .map_err(|error| command_failed("get_pending", error))?;
        RedisStore::live_pending(value, now)
    }

    async fn take_pending(
        &self,
        handle: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<PendingAuthorization>, StoreError> {
        let mut connection = self.connection().await?;
        let value: Option<String> = scripts::TAKE
            .key(self.key(PENDING, handle))
            .key(self.expiries())
            .arg(format!("{PENDING}{handle}"))
            .invoke_async(&mut connection)
            .await
            .map_err(|error| command_failed("take_pending", error))?;
        RedisStore::live_pending(value, now)
    }
}
