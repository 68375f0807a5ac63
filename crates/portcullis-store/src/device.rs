//! Device authorizations (RFC 8628): a device asked for authorization, shows the user a
//! short user code, and polls the token endpoint with its device code while the user
//! approves or denies on another screen.

use async_trait::async_trait;
use portcullis_registry::{ClientId, ScopeSet};
use portcullis_tokens::TokenHash;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::StoreError;

/// A device authorization request (RFC 8628 §3.1–3.2) and what has become of it.
///
/// Keyed twice: by the SHA-256 of the device code (the device's secret, RFC 8628 §3.2) and
/// by the SHA-256 of the normalized user code (what the user types, §6.1).
///
/// ```
/// use portcullis_registry::{ClientId, ScopeSet};
/// use portcullis_store::{DeviceAuthorization, DeviceStatus};
/// use portcullis_tokens::TokenHash;
/// use time::{Duration, OffsetDateTime};
///
/// let now = OffsetDateTime::now_utc();
/// let device = DeviceAuthorization {
///     device_code: TokenHash::of("pc_dc_the-device-code"),
///     user_code: TokenHash::of("WDJBMJHT"),
///     client_id: ClientId::new("tv-app").expect("valid id"),
///     scopes: ScopeSet::parse("openid profile").expect("valid scopes"),
///     status: DeviceStatus::Pending,
///     interval_secs: 5,
///     last_polled_at: None,
///     created_at: now,
///     expires_at: now + Duration::minutes(10),
/// };
/// assert!(!device.is_expired(now));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceAuthorization {
    /// SHA-256 of the device code.
    pub device_code: TokenHash,
    /// SHA-256 of the normalized user code.
    pub user_code: TokenHash,
    /// The client (the device) that asked.
    pub client_id: ClientId,
    /// The scopes requested, already checked against the client and the catalog.
    pub scopes: ScopeSet,
    /// Waiting, approved by a user, or denied.
    pub status: DeviceStatus,
    /// The minimum seconds between polls (RFC 8628 §3.2 `interval`); grows by 5 at every
    /// `slow_down` (§3.5).
    pub interval_secs: u32,
    /// When the device last polled the token endpoint.
    pub last_polled_at: Option<OffsetDateTime>,
    /// When the request arrived.
    pub created_at: OffsetDateTime,
    /// After this instant the device code and the user code are gone (§3.2 `expires_in`).
    pub expires_at: OffsetDateTime,
}

impl DeviceAuthorization {
    /// Whether the request has expired at `now`.
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        now >= self.expires_at
    }
}

/// What the user decided for a device authorization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum DeviceStatus {
    /// No decision yet.
    Pending,
    /// A user approved: the token endpoint issues tokens for them, once.
    Approved {
        /// The user's subject identifier.
        subject: String,
        /// When the user authenticated.
        auth_time: OffsetDateTime,
        /// The scopes the user granted (a subset of those requested).
        scopes: ScopeSet,
    },
    /// The user denied the request.
    Denied,
}

/// What one poll of the token endpoint with a device code finds (RFC 8628 §3.4–3.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DevicePoll {
    /// No such device code, or it expired, or it was used already (`expired_token` or
    /// `invalid_grant` for the caller to choose).
    Gone,
    /// Still waiting; the poll respected the interval (`authorization_pending`).
    Pending,
    /// Still waiting, and the device polled sooner than `interval_secs` after its last
    /// poll: the interval has grown by 5 seconds to the value given (`slow_down`).
    SlowDown {
        /// The new interval.
        interval_secs: u32,
    },
    /// A user approved: the record, now removed, so this happens once (issue tokens).
    Approved(DeviceAuthorization),
    /// The user denied: the record, now removed (`access_denied`).
    Denied(DeviceAuthorization),
}

/// Where device authorizations wait.
///
/// Contract: expired records are never returned and count as absent; `poll_device` and
/// `decide_device` are atomic: of concurrent polls of an approved request exactly one gets
/// [`DevicePoll::Approved`], and a decision is taken only once (the first wins).
///
/// ```
/// # async fn demo(store: &impl portcullis_store::DeviceAuthorizationStore) -> Result<(), portcullis_store::StoreError> {
/// use portcullis_store::DevicePoll;
/// use portcullis_tokens::TokenHash;
/// let now = time::OffsetDateTime::now_utc();
/// match store.poll_device(&TokenHash::of("pc_dc_from_the_device"), now).await? {
///     DevicePoll::Approved(device) => println!("issue tokens to {}", device.client_id),
///     DevicePoll::Pending => println!("authorization_pending"),
///     DevicePoll::SlowDown { interval_secs } => println!("slow_down to {interval_secs}s"),
///     DevicePoll::Denied(_) => println!("access_denied"),
///     DevicePoll::Gone => println!("expired_token"),
/// }
/// # Ok(()) }
/// ```
#[async_trait]
pub trait DeviceAuthorizationStore: Send + Sync {
    /// Stores a new request ([`StoreError::Conflict`] if its device code or user code is
    /// taken by a live request).
    async fn insert_device(&self, device: DeviceAuthorization) -> Result<(), StoreError>;
    /// The live request with this user code, if any.
    async fn device_by_user_code(
        &self,
        user_code: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<DeviceAuthorization>, StoreError>;
    /// Records the user's decision (`Approved` or `Denied`) on a live, still pending
    /// request: `true` if it was recorded, `false` if there is no such pending request.
    async fn decide_device(
        &self,
        user_code: &TokenHash,
        decision: DeviceStatus,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// One poll by the device: see [`DevicePoll`]. Updates `last_polled_at` (and the
    /// interval on `SlowDown`); removes the record when it answers `Approved` or `Denied`.
    async fn poll_device(
        &self,
        device_code: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<DevicePoll, StoreError>;
}
