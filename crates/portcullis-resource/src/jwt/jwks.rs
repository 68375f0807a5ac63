//! The provider's JWK Set (RFC 7517 §5), fetched over HTTP and cached with an expiry.
//!
//! Policy (the validator's documentation explains why):
//!
//! - The keys of the last good fetch are used until `max_age` after that fetch started;
//!   after that they are never used, and the next request that needs a key fetches.
//! - A `kid` the cached keys do not know triggers one refetch, so a rotation at the provider
//!   is followed as soon as a token signed by the new key arrives.
//! - Fetches are rate-limited: none starts within `min_interval` of the start of the last
//!   completed one, successful or not. An unknown `kid` within that interval is answered from
//!   what the last fetch found.
//! - At most one fetch is in flight: concurrent requests that need one wait for it and use
//!   its result. A fetch abandoned half-way (its request was dropped) counts for nothing.
//! - A failed fetch keeps the previous keys (until their own expiry).
//!
//! The state sits behind a `std` mutex held for a few field reads or writes, never across an
//! `.await`; the single fetch in flight is serialized by a `tokio` mutex, which exists to be
//! held across one.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use http::StatusCode;
use http::header::ACCEPT;
use portcullis_grants::Clock;
use portcullis_tokens::PublicKey;
use serde::Deserialize;
use serde_json::Value;
use time::{Duration, OffsetDateTime};

use crate::BearerError;

/// The largest JWK Set document read, in bytes: room for dozens of RSA keys. A larger one
/// is a provider fault, and this bound is what keeps the cache bounded.
const MAX_JWKS_BYTES: usize = 256 * 1024;

/// Where and how the JWK Set is fetched.
pub(super) struct Fetcher {
    pub(super) url: reqwest::Url,
    pub(super) http: reqwest::Client,
    pub(super) timeout: std::time::Duration,
}

/// How long keys are kept, and how often they may be fetched.
#[derive(Debug, Clone, Copy)]
pub(super) struct Policy {
    /// Keys are used while `now < fetched_at + max_age`. Positive.
    pub(super) max_age: Duration,
    /// No fetch starts before `last_attempt + min_interval`. Not negative.
    pub(super) min_interval: Duration,
}

/// The usable keys of one JWK Set document, by `kid`.
struct Keys {
    by_kid: HashMap<String, Arc<PublicKey>>,
    /// When the fetch that found them started: they expire `max_age` after it.
    fetched_at: OffsetDateTime,
}

/// The last completed fetch.
struct Attempt {
    started_at: OffsetDateTime,
    /// Why it failed; `None` if it succeeded.
    failure: Option<String>,
}

#[derive(Default)]
struct State {
    keys: Option<Arc<Keys>>,
    last_attempt: Option<Attempt>,
    /// Counts completed fetches, so a request that waited for one in flight knows it need
    /// not fetch again.
    generation: u64,
}

impl State {
    /// The cached keys, if they may still be used at `now`.
    fn fresh_keys(&self, now: OffsetDateTime, max_age: Duration) -> Option<&Arc<Keys>> {
        self.keys.as_ref().filter(|keys| {
            keys.fetched_at
                .checked_add(max_age)
                .is_none_or(|until| now < until)
        })
    }

    /// Whether a fetch may start at `now`.
    fn may_fetch(&self, now: OffsetDateTime, min_interval: Duration) -> bool {
        self.last_attempt.as_ref().is_none_or(|attempt| {
            attempt
                .started_at
                .checked_add(min_interval)
                .is_some_and(|earliest| earliest <= now)
        })
    }

    /// Why no key can be had, when the last fetch failed.
    fn failure(&self) -> Option<&str> {
        self.last_attempt
            .as_ref()
            .and_then(|attempt| attempt.failure.as_deref())
    }
}

/// The cached JWK Set and the means to refresh it.
pub(super) struct KeyCache {
    fetcher: Fetcher,
    policy: Policy,
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
    /// Held by the one request fetching.
    in_flight: tokio::sync::Mutex<()>,
}

impl fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("KeyCache")
            .field("jwks_uri", &self.fetcher.url.as_str())
            .field("policy", &self.policy)
            .field(
                "keys",
                &state
                    .keys
                    .as_ref()
                    .map(|keys| (keys.by_kid.len(), keys.fetched_at)),
            )
            .field("fetches", &state.generation)
            .finish_non_exhaustive()
    }
}

impl KeyCache {
    pub(super) fn new(fetcher: Fetcher, policy: Policy, clock: Arc<dyn Clock>) -> KeyCache {
        KeyCache {
            fetcher,
            policy,
            clock,
            state: Mutex::new(State::default()),
            in_flight: tokio::sync::Mutex::new(()),
        }
    }

    pub(super) fn jwks_uri(&self) -> &str {
        self.fetcher.url.as_str()
    }

    /// The key named `kid`, from the cache, or after fetching the JWK Set when the cache
    /// has expired or does not know `kid` (subject to the rate limit).
    ///
    /// # Errors
    ///
    /// - [`BearerError::InvalidToken`]: a fetch that succeeded (now, or within the rate
    ///   limit) does not publish `kid`.
    /// - [`BearerError::Unavailable`]: no usable keys (never fetched, expired, and the fetch
    ///   failed or is rate-limited after a failure), or keys that do not know `kid` and a
    ///   refetch that failed.
    pub(super) async fn key(&self, kid: &str) -> Result<Arc<PublicKey>, BearerError> {
        let seen = {
            let state = self.lock();
            if let Some(key) = state
                .fresh_keys(self.clock.now(), self.policy.max_age)
                .and_then(|keys| keys.by_kid.get(kid))
            {
                return Ok(Arc::clone(key));
            }
            state.generation
        };
        self.refresh(Some(seen)).await;

        let state = self.lock();
        let Some(keys) = state.fresh_keys(self.clock.now(), self.policy.max_age) else {
            let reason = state.failure().unwrap_or("no JWKS has been fetched");
            return Err(BearerError::Unavailable(format!(
                "no signing keys to verify with: {reason}"
            )));
        };
        if let Some(key) = keys.by_kid.get(kid) {
            return Ok(Arc::clone(key));
        }
        match state.failure() {
            // The keys we have do not know `kid`, and the provider could not be asked
            // whether it is new: no verdict.
            Some(reason) => Err(BearerError::Unavailable(format!(
                "the token's key is not cached and the JWKS refetch failed: {reason}"
            ))),
            None => Err(BearerError::InvalidToken(super::INVALID.into())),
        }
    }

    /// Fetches the JWK Set now, whatever the rate limit (but never two fetches at once), and
    /// returns how many usable keys it holds.
    pub(super) async fn refresh_now(&self) -> Result<usize, BearerError> {
        self.refresh(None).await;
        let state = self.lock();
        match (state.failure(), &state.keys) {
            (Some(reason), _) => Err(BearerError::Unavailable(reason.to_owned())),
            (None, Some(keys)) => Ok(keys.by_kid.len()),
            // A completed fetch that did not fail stored keys.
            (None, None) => Err(BearerError::Unavailable("no JWKS has been fetched".into())),
        }
    }

    /// Fetches the JWK Set unless another request completed a fetch since this one looked
    /// at generation `seen`, or the rate limit forbids it. `seen: None` forces the fetch.
    async fn refresh(&self, seen: Option<u64>) {
        let _flight = self.in_flight.lock().await;
        let started_at = self.clock.now();
        if let Some(seen) = seen {
            let state = self.lock();
            if state.generation != seen || !state.may_fetch(started_at, self.policy.min_interval) {
                return;
            }
        }
        // Nothing is recorded until the fetch completes: if this future is dropped while
        // fetching, the next request in line fetches instead.
        let outcome = self.fetch().await;
        let mut state = self.lock();
        state.generation = state.generation.wrapping_add(1);
        match outcome {
            Ok(by_kid) => {
                tracing::debug!(
                    jwks_uri = %self.fetcher.url,
                    keys = by_kid.len(),
                    "fetched the JWKS"
                );
                state.keys = Some(Arc::new(Keys {
                    by_kid,
                    fetched_at: started_at,
                }));
                state.last_attempt = Some(Attempt {
                    started_at,
                    failure: None,
                });
            }
            Err(reason) => {
                tracing::warn!(jwks_uri = %self.fetcher.url, "JWKS fetch failed: {reason}");
                state.last_attempt = Some(Attempt {
                    started_at,
                    failure: Some(reason),
                });
            }
        }
    }

    /// GETs the JWK Set and reads its usable keys.
    async fn fetch(&self) -> Result<HashMap<String, Arc<PublicKey>>, String> {
        let mut response = self
            .fetcher
            .http
            .get(self.fetcher.url.clone())
            .header(ACCEPT, "application/jwk-set+json, application/json")
            .timeout(self.fetcher.timeout)
            .send()
            .await
            .map_err(|err| format!("JWKS request failed: {err}"))?;
        let status = response.status();
        if status != StatusCode::OK {
            return Err(format!("the JWKS endpoint answered {status}"));
        }
        if response
            .content_length()
            .is_some_and(|length| length > MAX_JWKS_BYTES as u64)
        {
            return Err("the JWKS document is too large".into());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|err| format!("reading the JWKS document: {err}"))?
        {
            if body.len().saturating_add(chunk.len()) > MAX_JWKS_BYTES {
                return Err("the JWKS document is too large".into());
            }
            body.extend_from_slice(&chunk);
        }
        read_jwks(&body)
    }

    /// The state. Every critical section is a few field reads or writes that cannot panic
    /// half-way, so a poisoned lock is simply taken over.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A JWK Set document: `{"keys": [...]}` (RFC 7517 §5); other members are ignored.
#[derive(Deserialize)]
struct JwkSet {
    keys: Vec<Value>,
}

/// Reads the usable keys of a JWK Set document, by `kid`.
///
/// A key portcullis cannot verify with (another key type or curve, an encryption key, a
/// `kid` that is not its RFC 7638 thumbprint) is skipped and logged: it cannot have signed
/// a token this validator accepts, and one odd key must not hide the others.
///
/// # Errors
///
/// The document is not a JWK Set, or holds no usable key (a misconfiguration to report as
/// a 503, not a reason to refuse every token as invalid).
pub(super) fn read_jwks(body: &[u8]) -> Result<HashMap<String, Arc<PublicKey>>, String> {
    let set: JwkSet =
        serde_json::from_slice(body).map_err(|err| format!("not a JWK Set document: {err}"))?;
    let mut by_kid = HashMap::with_capacity(set.keys.len());
    for (index, jwk) in set.keys.iter().enumerate() {
        match PublicKey::from_jwk(jwk) {
            Ok(key) => {
                by_kid
                    .entry(key.kid().to_owned())
                    .or_insert_with(|| Arc::new(key));
            }
            Err(err) => tracing::debug!(index, "JWKS key skipped: {err}"),
        }
    }
    if by_kid.is_empty() {
        return Err(format!(
            "the JWKS holds no usable signing key ({} keys published; ES256, EdDSA and \
             RS256 keys whose kid is their RFC 7638 thumbprint are used)",
            set.keys.len()
        ));
    }
    Ok(by_kid)
}
