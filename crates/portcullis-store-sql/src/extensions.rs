//! The extension grants' families in SQL: device authorizations (RFC 8628, table
//! `device_authorizations`) and used assertion identifiers (RFC 7522, RFC 7523, table
//! `used_assertions`), for [`SqliteStore`], [`PostgresStore`] and [`SqlStore`].
//!
//! Atomicity, as the traits ask:
//!
//! - `poll_device` is one write transaction: the row is read under SQLite's write lock
//!   (`BEGIN IMMEDIATE`) or PostgreSQL's row lock (`SELECT … FOR UPDATE`), then updated
//!   (pending: last poll, interval) or deleted (decided), so of concurrent polls of an
//!   approved request exactly one gets `Approved`;
//! - `decide_device` is one conditional `UPDATE … WHERE user_code = ? AND status =
//!   'pending' AND expires_at > ?`: the first decision wins;
//! - `insert_device` deletes expired holders of its device code or user code and inserts,
//!   in one transaction; a live holder makes the insert fail on a unique index (`Conflict`);
//! - `first_use` is one `INSERT … ON CONFLICT (hash) DO UPDATE … WHERE <expired>`: only the
//!   caller whose statement changed a row gets `true`.

use async_trait::async_trait;
use portcullis_store::{
    DeviceAuthorization, DeviceAuthorizationStore, DevicePoll, DeviceStatus, ReplayStore,
    StoreError,
};
use portcullis_tokens::TokenHash;
use time::OffsetDateTime;

use crate::SqlStore;
#[cfg(doc)]
use crate::{PostgresStore, SqliteStore};

mod rows;
mod statements;
mod store_impl;

mod sqlite {
    use super::statements::sqlite as sql;

    super::store_impl::impl_extensions!(crate::SqliteStore);
}

mod postgres {
    use super::statements::postgres as sql;

    super::store_impl::impl_extensions!(crate::PostgresStore);
}

use crate::sql_store::delegate;

#[async_trait]
impl DeviceAuthorizationStore for SqlStore {
    async fn insert_device(&self, device: DeviceAuthorization) -> Result<(), StoreError> {
        delegate!(self, s => s.insert_device(device).await)
    }
    async fn device_by_user_code(
        &self,
        user_code: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<DeviceAuthorization>, StoreError> {
        delegate!(self, s => s.device_by_user_code(user_code, now).await)
    }
    async fn decide_device(
        &self,
        user_code: &TokenHash,
        decision: DeviceStatus,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        delegate!(self, s => s.decide_device(user_code, decision, now).await)
    }
    async fn poll_device(
        &self,
        device_code: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<DevicePoll, StoreError> {
        delegate!(self, s => s.poll_device(device_code, now).await)
    }
}

#[async_trait]
impl ReplayStore for SqlStore {
    async fn first_use(
        &self,
        key: TokenHash,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        delegate!(self, s => s.first_use(key, expires_at, now).await)
    }
}
