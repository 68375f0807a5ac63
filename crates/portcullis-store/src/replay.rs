//! One-time use of assertions: the `jti` of a JWT bearer assertion (RFC 7523 §3, item 7)
//! or the `ID` of a SAML 2.0 assertion (RFC 7522 §3, item 8) is remembered until the
//! assertion expires, so the same assertion cannot be presented twice.

use async_trait::async_trait;
use portcullis_tokens::TokenHash;
use time::OffsetDateTime;

use crate::StoreError;

/// Where used assertion identifiers are remembered.
///
/// The key is the SHA-256 of whatever identifies an assertion uniquely (for example the
/// issuer and the `jti` joined by a separator the issuer cannot contain), so stores never
/// hold assertion contents.
///
/// Contract: [`ReplayStore::first_use`] is atomic: of any number of concurrent callers with
/// the same key, exactly one gets `true`; after that every caller gets `false` until
/// `expires_at` has passed. An expired record counts as absent and is removed by
/// [`SweepExpired`](crate::SweepExpired).
///
/// ```
/// # async fn demo(store: &impl portcullis_store::ReplayStore) -> Result<(), portcullis_store::StoreError> {
/// use portcullis_tokens::TokenHash;
/// use time::{Duration, OffsetDateTime};
/// let now = OffsetDateTime::now_utc();
/// let key = TokenHash::of("https://idp.example\u{0}jti-42");
/// if !store.first_use(key, now + Duration::minutes(5), now).await? {
///     println!("replayed assertion: refuse it (invalid_grant)");
/// }
/// # Ok(()) }
/// ```
#[async_trait]
pub trait ReplayStore: Send + Sync {
    /// Records the first use of `key` until `expires_at`: `true` the first time, `false` if
    /// it was recorded already and has not expired at `now`.
    async fn first_use(
        &self,
        key: TokenHash,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;
}
