//! [`DeviceAuthorizationStore`](portcullis_store::DeviceAuthorizationStore) and
//! [`ReplayStore`](portcullis_store::ReplayStore), written once for both backends.
//!
//! [`impl_extensions!`] expands into the implementations for one store type, in a module
//! that has `sql` in scope (that backend's [statements](super::statements)); the type
//! provides what [`crate::store_impl`] documents (`pool`, `write`, `begin_write`).

macro_rules! impl_extensions {
    ($store:ty) => {
        use async_trait::async_trait;
        use portcullis_store::{
            DeviceAuthorization, DeviceAuthorizationStore, DevicePoll, DeviceStatus, RecordFamily,
            ReplayStore, StoreError,
        };
        use portcullis_tokens::TokenHash;
        use time::{Duration, OffsetDateTime};
        use $crate::codec::{micros, sql_count};
        use $crate::error::{Class, classify, failed, retrying, store_error};
        use $crate::extensions::rows::{DeviceRow, StatusColumns};

        /// How much `slow_down` adds to a device's polling interval (RFC 8628 §3.5).
        const SLOW_DOWN_STEP_SECS: u32 = 5;

        /// The error for a refused insert: a unique violation is the conflict the contract
        /// asks for, named after the key that clashed.
        fn insert_device_error(device: &DeviceAuthorization, err: sqlx::Error) -> StoreError {
            if classify(&err) != Class::UniqueViolation {
                return store_error("insert_device", err);
            }
            // PostgreSQL names the index, SQLite the column: both say `user_code`.
            let on_user_code = err
                .as_database_error()
                .is_some_and(|db| db.message().contains("user_code"));
            let key = if on_user_code {
                device.user_code
            } else {
                device.device_code
            };
            StoreError::Conflict {
                family: RecordFamily::DeviceAuthorization,
                key: key.to_string(),
            }
        }

        /// The operations that run in a transaction, each one attempt; the trait methods
        /// below retry them.
        impl $store {
            async fn try_insert_device(
                &self,
                device: &DeviceAuthorization,
            ) -> Result<(), StoreError> {
                const OP: &str = "insert_device";
                let status = StatusColumns::of(&device.status);
                let mut tx = self.begin_write().await.map_err(failed(OP))?;
                let result = async {
                    // Expired holders of either code give way; live ones make the insert
                    // fail on the table's unique indexes.
                    sqlx::query(sql::DEVICE_DELETE_EXPIRED_HOLDERS)
                        .bind(device.device_code.as_bytes().as_slice())
                        .bind(device.user_code.as_bytes().as_slice())
                        .bind(micros(device.created_at))
                        .execute(tx.conn())
                        .await
                        .map_err(failed(OP))?;
                    sqlx::query(sql::DEVICE_INSERT)
                        .bind(device.device_code.as_bytes().as_slice())
                        .bind(device.user_code.as_bytes().as_slice())
                        .bind(device.client_id.as_str())
                        .bind(device.scopes.to_string())
                        .bind(status.status)
                        .bind(status.subject.as_deref())
                        .bind(status.auth_time)
                        .bind(status.granted_scopes.as_deref())
                        .bind(i64::from(device.interval_secs))
                        .bind(device.last_polled_at.map(micros))
                        .bind(micros(device.created_at))
                        .bind(micros(device.expires_at))
                        .execute(tx.conn())
                        .await
                        .map_err(|err| insert_device_error(device, err))?;
                    Ok(())
                }
                .await;
                tx.finish(result, OP).await
            }

            async fn try_poll_device(
                &self,
                device_code: &TokenHash,
                now: OffsetDateTime,
            ) -> Result<DevicePoll, StoreError> {
                const OP: &str = "poll_device";
                let mut tx = self.begin_write().await.map_err(failed(OP))?;
                let result = async {
                    // Read under the write lock (SQLite) or a row lock (PostgreSQL):
                    // concurrent polls of one device take turns, and each sees what the
                    // previous one wrote or deleted.
                    let row = sqlx::query_as::<_, DeviceRow>(sql::DEVICE_FOR_POLL)
                        .bind(device_code.as_bytes().as_slice())
                        .bind(micros(now))
                        .fetch_optional(tx.conn())
                        .await
                        .map_err(failed(OP))?;
                    let Some(row) = row else {
                        return Ok(DevicePoll::Gone);
                    };
                    let device = row.into_record()?;
                    if device.status == DeviceStatus::Pending {
                        let too_soon = device.last_polled_at.is_some_and(|last| {
                            last.checked_add(Duration::seconds(i64::from(device.interval_secs)))
                                .is_none_or(|next| now < next)
                        });
                        let interval_secs = if too_soon {
                            device.interval_secs.saturating_add(SLOW_DOWN_STEP_SECS)
                        } else {
                            device.interval_secs
                        };
                        sqlx::query(sql::DEVICE_POLLED)
                            .bind(device_code.as_bytes().as_slice())
                            .bind(micros(now))
                            .bind(i64::from(interval_secs))
                            .execute(tx.conn())
                            .await
                            .map_err(failed(OP))?;
                        return Ok(if too_soon {
                            DevicePoll::SlowDown { interval_secs }
                        } else {
                            DevicePoll::Pending
                        });
                    }
                    // Decided: the answer is given once, with the record's removal.
                    let deleted = sqlx::query(sql::DEVICE_DELETE)
                        .bind(device_code.as_bytes().as_slice())
                        .execute(tx.conn())
                        .await
                        .map_err(failed(OP))?
                        .rows_affected();
                    if deleted == 0 {
                        return Ok(DevicePoll::Gone);
                    }
                    Ok(match device.status {
                        DeviceStatus::Denied => DevicePoll::Denied(device),
                        _ => DevicePoll::Approved(device),
                    })
                }
                .await;
                tx.finish(result, OP).await
            }

            /// Deletes up to `batch` expired device authorizations and used assertion ids
            /// (`now` in unix microseconds), for `sweep_expired`.
            pub(crate) async fn sweep_extensions(
                &self,
                now: i64,
                batch: usize,
            ) -> Result<usize, StoreError> {
                const OP: &str = "sweep_expired";
                let mut swept: usize = 0;
                for statement in [sql::SWEEP_DEVICES, sql::SWEEP_USED_ASSERTIONS] {
                    let left = batch.saturating_sub(swept);
                    if left == 0 {
                        break;
                    }
                    let mut writer = self.write().await.map_err(failed(OP))?;
                    let deleted = sqlx::query(statement)
                        .bind(now)
                        .bind(sql_count(left))
                        .execute(writer.conn())
                        .await
                        .map_err(failed(OP))?
                        .rows_affected();
                    swept = swept.saturating_add(usize::try_from(deleted).unwrap_or(usize::MAX));
                }
                Ok(swept)
            }
        }

        #[async_trait]
        impl DeviceAuthorizationStore for $store {
            async fn insert_device(&self, device: DeviceAuthorization) -> Result<(), StoreError> {
                retrying!(self.try_insert_device(&device))
            }

            async fn device_by_user_code(
                &self,
                user_code: &TokenHash,
                now: OffsetDateTime,
            ) -> Result<Option<DeviceAuthorization>, StoreError> {
                sqlx::query_as::<_, DeviceRow>(sql::DEVICE_BY_USER_CODE)
                    .bind(user_code.as_bytes().as_slice())
                    .bind(micros(now))
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(failed("device_by_user_code"))?
                    .map(DeviceRow::into_record)
                    .transpose()
            }

            async fn decide_device(
                &self,
                user_code: &TokenHash,
                decision: DeviceStatus,
                now: OffsetDateTime,
            ) -> Result<bool, StoreError> {
                const OP: &str = "decide_device";
                let status = StatusColumns::of(&decision);
                retrying!(async {
                    let mut writer = self.write().await.map_err(failed(OP))?;
                    // The first decision wins: only a live, pending request matches.
                    let decided = sqlx::query(sql::DEVICE_DECIDE)
                        .bind(user_code.as_bytes().as_slice())
                        .bind(status.status)
                        .bind(status.subject.as_deref())
                        .bind(status.auth_time)
                        .bind(status.granted_scopes.as_deref())
                        .bind(micros(now))
                        .execute(writer.conn())
                        .await
                        .map_err(failed(OP))?
                        .rows_affected();
                    Ok(decided > 0)
                })
            }

            async fn poll_device(
                &self,
                device_code: &TokenHash,
                now: OffsetDateTime,
            ) -> Result<DevicePoll, StoreError> {
                retrying!(self.try_poll_device(device_code, now))
            }
        }

        #[async_trait]
        impl ReplayStore for $store {
            async fn first_use(
                &self,
                key: TokenHash,
                expires_at: OffsetDateTime,
                now: OffsetDateTime,
            ) -> Result<bool, StoreError> {
                const OP: &str = "first_use";
                retrying!(async {
                    let mut writer = self.write().await.map_err(failed(OP))?;
                    // One statement: inserted (new key), taken over (expired key), or
                    // nothing (live key, or a concurrent caller won).
                    let recorded = sqlx::query(sql::ASSERTION_FIRST_USE)
                        .bind(key.as_bytes().as_slice())
                        .bind(micros(expires_at))
                        .bind(micros(now))
                        .execute(writer.conn())
                        .await
                        .map_err(failed(OP))?
                        .rows_affected();
                    Ok(recorded > 0)
                })
            }
        }
    };
}

pub(crate) use impl_extensions;
