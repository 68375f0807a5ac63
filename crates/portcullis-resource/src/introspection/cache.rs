//! The bounded, expiring cache of positive introspection answers.
//!
//! Keyed by the SHA-256 of the presented token ([`TokenHash`]), never by the token, so a
//! memory dump of the cache yields no usable credential. Only active answers are kept: a
//! token issued a moment ago is never refused because of an earlier "inactive".

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};

use portcullis_tokens::TokenHash;
use time::{Duration, OffsetDateTime};

use crate::AccessToken;

/// One cached answer and the instant from which it may no longer be served.
#[derive(Debug, Clone)]
struct Entry {
    token: AccessToken,
    /// `min(exp, fetched_at + ttl)`: served only while `now < until`.
    until: OffsetDateTime,
}

/// Positive answers, each served until the earlier of the token's `exp` and `ttl` after the
/// question was sent; at most `capacity` entries.
///
/// The lock is held only for map operations; no method is `async`, so it cannot be held
/// across an `.await`.
pub(super) struct Cache {
    ttl: Duration,
    capacity: usize,
    entries: Mutex<HashMap<TokenHash, Entry>>,
}

impl fmt::Debug for Cache {
    /// Settings and size only: the entries are no one's business.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cache")
            .field("ttl", &self.ttl)
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .finish()
    }
}

impl Cache {
    /// A cache keeping answers up to `ttl`, at most `capacity` of them. A `ttl` of zero (or
    /// less) or a `capacity` of zero keeps nothing.
    pub(super) fn new(ttl: Duration, capacity: usize) -> Cache {
        Cache {
            ttl,
            capacity,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Whether the cache keeps anything at all.
    pub(super) fn is_enabled(&self) -> bool {
        self.ttl > Duration::ZERO && self.capacity > 0
    }

    /// The cached answer for `key`, if it may still be served at `now`. An entry past its
    /// time is dropped.
    pub(super) fn get(&self, key: &TokenHash, now: OffsetDateTime) -> Option<AccessToken> {
        if !self.is_enabled() {
            return None;
        }
        let mut entries = self.lock();
        match entries.get(key) {
            Some(entry) if now < entry.until => Some(entry.token.clone()),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }

    /// Keeps `token`, whose question was sent at `fetched_at` and answered by `now`.
    ///
    /// The entry is served until `min(token.expires_at, fetched_at + ttl)`: never past the
    /// token's expiry, and a revocation the provider saw after `fetched_at` is honoured at
    /// most `ttl` after it happened. An entry that would already be stale is not kept. When
    /// the cache is full, expired entries go first, then the soonest to expire (a tenth of
    /// the capacity, at least one), so the cache never holds more than `capacity` entries.
    pub(super) fn insert(
        &self,
        key: TokenHash,
        token: &AccessToken,
        fetched_at: OffsetDateTime,
        now: OffsetDateTime,
    ) {
        if !self.is_enabled() {
            return;
        }
        let until = fetched_at
            .checked_add(self.ttl)
            .map_or(token.expires_at, |limit| limit.min(token.expires_at));
        if until <= now {
            return;
        }
        let mut entries = self.lock();
        if !entries.contains_key(&key) && entries.len() >= self.capacity {
            make_room(&mut entries, self.capacity, now);
        }
        entries.insert(
            key,
            Entry {
                token: token.clone(),
                until,
            },
        );
    }

    /// Forgets `key` (the provider has just called the token inactive).
    pub(super) fn remove(&self, key: &TokenHash) {
        self.lock().remove(key);
    }

    /// How many entries the cache holds, stale ones not yet dropped included.
    pub(super) fn len(&self) -> usize {
        self.lock().len()
    }

    /// The map. A panic while the lock was held cannot leave the map half-updated (every
    /// critical section is a single map operation or a `retain`), so a poisoned lock is
    /// simply taken over.
    fn lock(&self) -> MutexGuard<'_, HashMap<TokenHash, Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Frees at least one slot in a full map: drops every entry stale at `now`; if that freed
/// nothing, drops the entries that expire soonest, a tenth of `capacity` (at least one), so
/// that a cache under steady load does not scan the whole map on every insert.
fn make_room(entries: &mut HashMap<TokenHash, Entry>, capacity: usize, now: OffsetDateTime) {
    entries.retain(|_, entry| now < entry.until);
    if entries.len() < capacity {
        return;
    }
    let mut by_expiry: Vec<(OffsetDateTime, TokenHash)> = entries
        .iter()
        .map(|(key, entry)| (entry.until, *key))
        .collect();
    if by_expiry.is_empty() {
        return;
    }
    let evict = (capacity / 10).clamp(1, by_expiry.len());
    // `evict` is at least 1 and at most the length, so the index is in range.
    by_expiry.select_nth_unstable(evict - 1);
    for (_, key) in by_expiry.iter().take(evict) {
        entries.remove(key);
    }
}
