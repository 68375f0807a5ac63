//! Signing and verifying (spec "Signature scheme", "Verifying signatures").

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;
use subtle::ConstantTimeEq as _;
use time::OffsetDateTime;

use super::{HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, WebhookSecret};
use crate::Envelope;

/// The version identifier of symmetric (HMAC-SHA256) signatures.
const VERSION: &str = "v1";
/// HMAC-SHA256's block size: keys up to this length are zero-padded to it (RFC 2104 §2).
const BLOCK: usize = 64;

/// Why a webhook was refused.
///
/// ```
/// use portcullis_events::webhook::WebhookError;
/// assert_eq!(WebhookError::Stale.to_string(), "webhook-timestamp outside the tolerance");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// A required header is absent or not visible ASCII.
    #[error("missing or unreadable header {0}")]
    MissingHeader(&'static str),
    /// `webhook-timestamp` is not an integer count of seconds.
    #[error("webhook-timestamp is not Unix seconds")]
    BadTimestamp,
    /// `webhook-timestamp` is further than the tolerance from now, in the past or future.
    #[error("webhook-timestamp outside the tolerance")]
    Stale,
    /// No `v1` signature in `webhook-signature` matches.
    #[error("no valid signature")]
    BadSignature,
    /// This `webhook-id` was already accepted.
    #[error("webhook-id already seen")]
    Replayed,
    /// The body is not an envelope, or its id is not the `webhook-id`.
    #[error("the body is not the expected event envelope")]
    BadPayload,
}

impl WebhookError {
    /// The HTTP status a receiver answers with: 400 for a request that is not a webhook
    /// (missing header, unreadable timestamp, wrong body), 401 for one that is not
    /// authentic now (bad signature, stale, replayed). Any non-2xx makes the sender retry.
    ///
    /// ```
    /// use portcullis_events::webhook::WebhookError;
    /// assert_eq!(WebhookError::BadSignature.status(), http::StatusCode::UNAUTHORIZED);
    /// assert_eq!(WebhookError::BadPayload.status(), http::StatusCode::BAD_REQUEST);
    /// ```
    #[must_use]
    pub fn status(&self) -> http::StatusCode {
        match self {
            WebhookError::MissingHeader(_)
            | WebhookError::BadTimestamp
            | WebhookError::BadPayload => http::StatusCode::BAD_REQUEST,
            WebhookError::Stale | WebhookError::BadSignature | WebhookError::Replayed => {
                http::StatusCode::UNAUTHORIZED
            }
        }
    }
}

/// Computes `HMAC-SHA256(key, "{id}.{timestamp}.{body}")`.
fn mac(secret: &WebhookSecret, msg_id: &str, timestamp_secs: i64, body: &[u8]) -> [u8; 32] {
    // Secrets are at most 64 bytes (one block), so zero-padding the key to the block is
    // exactly what HMAC does itself, and makes construction infallible.
    let mut padded = [0_u8; BLOCK];
    for (slot, byte) in padded.iter_mut().zip(secret.key()) {
        *slot = *byte;
    }
    let mut mac = Hmac::<Sha256>::new(&padded.into());
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp_secs.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().into()
}

/// The `webhook-signature` value for one message: `v1,` and the base64 HMAC-SHA256 of
/// `{msg_id}.{timestamp_secs}.{body}` under `secret` (spec "Signature scheme").
///
/// To rotate a secret, send the signatures under the old and the new secret joined by a
/// space; a receiver accepts the message if any one matches.
///
/// ```
/// use portcullis_events::webhook::{sign, WebhookSecret};
/// let secret = WebhookSecret::parse("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD")?;
/// let body = br#"{"email":"test@example.com","username":"test_user"}"#;
/// assert_eq!(
///     sign(&secret, "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", 1649367553, body),
///     "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=",
/// );
/// # Ok::<(), portcullis_events::webhook::SecretError>(())
/// ```
#[must_use]
pub fn sign(secret: &WebhookSecret, msg_id: &str, timestamp_secs: i64, body: &[u8]) -> String {
    format!(
        "{VERSION},{}",
        STANDARD.encode(mac(secret, msg_id, timestamp_secs, body))
    )
}

/// Checks a received webhook and returns its envelope (spec "Verifying signatures").
///
/// In order: the three headers are present; `webhook-timestamp` is within `tolerance` of
/// `now` either way; one `v1` signature in `webhook-signature` matches (compared in
/// constant time; other versions are skipped); the body is an [`Envelope`] whose `id` is
/// the `webhook-id`; and the id was not accepted before (recorded in `replay` only when
/// everything else passed).
///
/// # Errors
///
/// The first check that fails, as a [`WebhookError`].
///
/// ```
/// use std::time::Duration;
/// use portcullis_events::webhook::{verify, ReplayGuard, WebhookError, WebhookSecret};
/// let secret = WebhookSecret::generate()?;
/// let headers = http::HeaderMap::new();
/// let refused = verify(&headers, b"{}", &secret, Duration::from_secs(300),
///     time::OffsetDateTime::now_utc(), &ReplayGuard::new(10));
/// assert_eq!(refused, Err(WebhookError::MissingHeader("webhook-id")));
/// # Ok::<(), portcullis_events::webhook::SecretError>(())
/// ```
pub fn verify(
    headers: &http::HeaderMap,
    body: &[u8],
    secret: &WebhookSecret,
    tolerance: Duration,
    now: OffsetDateTime,
    replay: &ReplayGuard,
) -> Result<Envelope, WebhookError> {
    let msg_id = header(headers, HEADER_ID)?;
    let timestamp = header(headers, HEADER_TIMESTAMP)?;
    let signatures = header(headers, HEADER_SIGNATURE)?;

    let timestamp: i64 = timestamp.parse().map_err(|_| WebhookError::BadTimestamp)?;
    let tolerance_secs = i64::try_from(tolerance.as_secs()).unwrap_or(i64::MAX);
    let age = now.unix_timestamp().saturating_sub(timestamp);
    if age.checked_abs().is_none_or(|age| age > tolerance_secs) {
        return Err(WebhookError::Stale);
    }

    let expected = mac(secret, msg_id, timestamp, body);
    let mut matched = subtle::Choice::from(0);
    for candidate in signatures.split(' ') {
        let Some((VERSION, encoded)) = candidate.split_once(',') else {
            continue;
        };
        let Ok(decoded) = STANDARD.decode(encoded) else {
            continue;
        };
        // `ct_eq` on slices of different lengths is false, without looking at contents.
        matched |= decoded.as_slice().ct_eq(&expected);
    }
    if !bool::from(matched) {
        return Err(WebhookError::BadSignature);
    }

    let envelope: Envelope = serde_json::from_slice(body).map_err(|_| WebhookError::BadPayload)?;
    if envelope.id != msg_id {
        return Err(WebhookError::BadPayload);
    }

    // A replayed message keeps its timestamp, so once that is out of tolerance the
    // timestamp check refuses it: the id need only be remembered until then.
    let forget_at = timestamp.saturating_add(tolerance_secs);
    if !replay.first_time(msg_id, forget_at, now.unix_timestamp()) {
        return Err(WebhookError::Replayed);
    }
    Ok(envelope)
}

fn header<'a>(headers: &'a http::HeaderMap, name: &'static str) -> Result<&'a str, WebhookError> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .ok_or(WebhookError::MissingHeader(name))
}

/// The ids of accepted webhooks, each kept until its timestamp leaves the tolerance
/// (spec "Verifying signatures": use `webhook-id` as an idempotency key). Bounded: when
/// `capacity` ids are remembered, the oldest is forgotten first, so size it above the
/// number of webhooks expected within twice the tolerance.
///
/// Only messages with a valid signature are recorded, so no one without the secret can
/// fill it.
///
/// ```
/// use portcullis_events::webhook::ReplayGuard;
/// let guard = ReplayGuard::new(2);
/// assert!(guard.is_empty());
/// ```
#[derive(Debug)]
pub struct ReplayGuard {
    capacity: usize,
    seen: Mutex<Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    /// id → Unix second after which it may be forgotten.
    ids: HashMap<String, i64>,
    /// Insertion order, for eviction.
    order: VecDeque<(String, i64)>,
}

impl ReplayGuard {
    /// A guard remembering at most `capacity` ids (at least 1).
    ///
    /// ```
    /// use portcullis_events::webhook::ReplayGuard;
    /// let guard = ReplayGuard::new(10_000);
    /// assert_eq!(guard.len(), 0);
    /// ```
    #[must_use]
    pub fn new(capacity: usize) -> ReplayGuard {
        ReplayGuard {
            capacity: capacity.max(1),
            seen: Mutex::new(Seen::default()),
        }
    }

    /// How many ids are remembered now.
    ///
    /// ```
    /// # use portcullis_events::webhook::ReplayGuard;
    /// assert_eq!(ReplayGuard::new(1).len(), 0);
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.seen.lock().map(|seen| seen.ids.len()).unwrap_or(0)
    }

    /// Whether no id is remembered.
    ///
    /// ```
    /// # use portcullis_events::webhook::ReplayGuard;
    /// assert!(ReplayGuard::new(1).is_empty());
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Records `id` until `forget_at` and says whether it was new. A poisoned lock
    /// refuses (fails closed).
    fn first_time(&self, id: &str, forget_at: i64, now: i64) -> bool {
        let Ok(mut seen) = self.seen.lock() else {
            return false;
        };
        let Seen { ids, order } = &mut *seen;
        // Forget what expired at the front (ids arrive roughly in timestamp order; one
        // that expires out of order is skipped by the `until >= now` check below and
        // leaves with eviction). An entry whose id was re-recorded later is skipped.
        while let Some((old, until)) = order.front() {
            if *until >= now {
                break;
            }
            if ids.get(old) == Some(until) {
                ids.remove(old);
            }
            order.pop_front();
        }
        if ids.get(id).is_some_and(|until| *until >= now) {
            return false;
        }
        while ids.len() >= self.capacity {
            let Some((old, until)) = order.pop_front() else {
                break;
            };
            if ids.get(&old) == Some(&until) {
                ids.remove(&old);
            }
        }
        ids.insert(id.to_owned(), forget_at);
        order.push_back((id.to_owned(), forget_at));
        true
    }
}

/// What a receiving route needs to [`verify`] webhooks: the secret, the tolerance and a
/// shared [`ReplayGuard`]. Cloning shares the guard. The axum and actix adapters'
/// `VerifiedWebhook` extractors read it from the request's extensions / app data.
///
/// ```
/// use portcullis_events::webhook::{WebhookReceiver, WebhookSecret};
/// let receiver = WebhookReceiver::new(WebhookSecret::generate()?);
/// assert_eq!(receiver.tolerance, std::time::Duration::from_secs(300));
/// # Ok::<(), portcullis_events::webhook::SecretError>(())
/// ```
#[derive(Debug, Clone)]
pub struct WebhookReceiver {
    /// The endpoint's secret, shared with the sender.
    pub secret: WebhookSecret,
    /// How far `webhook-timestamp` may be from now, either way.
    pub tolerance: Duration,
    /// The ids already accepted.
    pub replay: Arc<ReplayGuard>,
}

impl WebhookReceiver {
    /// Five minutes' tolerance (the reference libraries' default) and a guard for 10,000
    /// ids.
    ///
    /// ```
    /// # use portcullis_events::webhook::{WebhookReceiver, WebhookSecret};
    /// let receiver = WebhookReceiver::new(WebhookSecret::generate()?);
    /// assert!(receiver.replay.is_empty());
    /// # Ok::<(), portcullis_events::webhook::SecretError>(())
    /// ```
    #[must_use]
    pub fn new(secret: WebhookSecret) -> WebhookReceiver {
        WebhookReceiver {
            secret,
            tolerance: Duration::from_secs(300),
            replay: Arc::new(ReplayGuard::new(10_000)),
        }
    }

    /// [`verify`] with these settings.
    ///
    /// # Errors
    ///
    /// As [`verify`].
    ///
    /// ```
    /// # use portcullis_events::webhook::{WebhookReceiver, WebhookSecret, WebhookError};
    /// let receiver = WebhookReceiver::new(WebhookSecret::generate()?);
    /// let refused = receiver.verify(&http::HeaderMap::new(), b"", time::OffsetDateTime::now_utc());
    /// assert_eq!(refused, Err(WebhookError::MissingHeader("webhook-id")));
    /// # Ok::<(), portcullis_events::webhook::SecretError>(())
    /// ```
    pub fn verify(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
        now: OffsetDateTime,
    ) -> Result<Envelope, WebhookError> {
        verify(
            headers,
            body,
            &self.secret,
            self.tolerance,
            now,
            &self.replay,
        )
    }

    /// [`WebhookReceiver::verify`] at the current time: what the adapters' extractors call.
    ///
    /// # Errors
    ///
    /// As [`verify`].
    ///
    /// ```
    /// # use portcullis_events::webhook::{WebhookReceiver, WebhookSecret, WebhookError};
    /// let receiver = WebhookReceiver::new(WebhookSecret::generate()?);
    /// let refused = receiver.verify_now(&http::HeaderMap::new(), b"");
    /// assert_eq!(refused, Err(WebhookError::MissingHeader("webhook-id")));
    /// # Ok::<(), portcullis_events::webhook::SecretError>(())
    /// ```
    pub fn verify_now(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<Envelope, WebhookError> {
        self.verify(headers, body, OffsetDateTime::now_utc())
    }
}

#[cfg(test)]
mod tests {
    use super::ReplayGuard;

    /// An id is refused until its forget time, then may be recorded again.
    #[test]
    fn an_id_is_remembered_until_it_expires() {
        let guard = ReplayGuard::new(8);
        assert!(guard.first_time("a", 10, 0));
        assert!(!guard.first_time("a", 10, 5));
        assert!(
            !guard.first_time("a", 10, 10),
            "the forget time is inclusive"
        );
        assert!(guard.first_time("a", 30, 11));
        assert!(!guard.first_time("a", 30, 20));
        assert_eq!(guard.len(), 1);
    }

    /// Expired ids leave as new ones arrive, so the guard does not fill with old ones.
    #[test]
    fn expired_ids_are_dropped() {
        let guard = ReplayGuard::new(100);
        for i in 0..50 {
            assert!(guard.first_time(&format!("id{i}"), i + 5, i));
        }
        assert!(
            guard.len() <= 6,
            "only the last few are live: {}",
            guard.len()
        );
    }

    /// Over capacity, the oldest id goes first.
    #[test]
    fn the_oldest_id_is_evicted_first() {
        let guard = ReplayGuard::new(2);
        assert!(guard.first_time("a", 100, 0));
        assert!(guard.first_time("b", 100, 0));
        assert!(guard.first_time("c", 100, 0));
        assert_eq!(guard.len(), 2);
        assert!(!guard.first_time("c", 100, 0));
        assert!(!guard.first_time("b", 100, 0));
        assert!(guard.first_time("a", 100, 0), "evicted");
    }
}
