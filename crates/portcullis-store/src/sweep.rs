//! Removing expired records.

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::StoreError;

/// Deletes expired records: pending authorizations, codes, tokens and browser sessions
/// whose `expires_at` is at or before `now`. Signing keys never expire and are not swept.
///
/// Stores never return expired records whether or not they have been swept; sweeping only
/// frees space. It works in bounded batches so one call never holds a lock or a
/// transaction for long: call it on a timer until it returns less than `batch`.
///
/// ```
/// # async fn demo(store: &impl portcullis_store::SweepExpired) -> Result<(), portcullis_store::StoreError> {
/// let now = time::OffsetDateTime::now_utc();
/// while store.sweep_expired(now, 1000).await? == 1000 {}
/// # Ok(()) }
/// ```
#[async_trait]
pub trait SweepExpired: Send + Sync {
    /// Deletes up to `batch` expired records; answers how many were deleted.
    async fn sweep_expired(&self, now: OffsetDateTime, batch: usize) -> Result<usize, StoreError>;
}
