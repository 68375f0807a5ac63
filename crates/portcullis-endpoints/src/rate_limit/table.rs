//! A bounded, sharded in-memory map whose entries expire: the state of every limiter.
//!
//! Each shard is a `Mutex<HashMap>` held only for one synchronous update, never across an
//! `.await`. A table holds at most about `capacity` keys: when a new key finds its shard
//! full, expired entries are dropped first, then the entry that expires soonest (the key
//! the limiter constrains least). Evicting forgets a key's state — it fails open for that
//! one key — rather than refusing every newcomer, so flooding the table with fresh keys
//! cannot lock legitimate users out (DESIGN §5: a cache with a bound and an expiry).

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hash};
use std::sync::{Mutex, PoisonError};

use time::OffsetDateTime;

/// A table entry that stops mattering at some instant.
pub(crate) trait Expiring {
    /// From this instant on, the entry is the same as no entry.
    fn expires(&self) -> OffsetDateTime;
}

/// Tables at least this large are split into [`SHARDS`] shards; smaller ones have one.
const SHARD_THRESHOLD: usize = 1024;
/// How many shards a large table has.
const SHARDS: usize = 16;

/// A bounded map of live entries, sharded by key hash.
#[derive(Debug)]
pub(crate) struct Table<K, V> {
    shards: Box<[Mutex<HashMap<K, V>>]>,
    hasher: RandomState,
    per_shard: usize,
}

impl<K: Hash + Eq + Clone, V: Expiring> Table<K, V> {
    /// A table of at most about `capacity` keys (at least one).
    pub(crate) fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        let shards = if capacity >= SHARD_THRESHOLD {
            SHARDS
        } else {
            1
        };
        Table {
            shards: (0..shards).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
            per_shard: capacity.div_ceil(shards),
        }
    }

    /// Runs `update` on `key`'s live entry (`None` if it has none or it expired) and stores
    /// what it returns as the new entry (`None` removes it); answers `update`'s result.
    pub(crate) fn update<R>(
        &self,
        key: K,
        now: OffsetDateTime,
        update: impl FnOnce(Option<&V>) -> (Option<V>, R),
    ) -> R {
        let index =
            usize::try_from(self.hasher.hash_one(&key)).unwrap_or_default() % self.shards.len();
        let Some(shard) = self.shards.get(index) else {
            // Unreachable: the index is reduced modulo the number of shards.
            return update(None).1;
        };
        let mut map = shard.lock().unwrap_or_else(PoisonError::into_inner);
        let current = map.get(&key).filter(|entry| entry.expires() > now);
        let (next, result) = update(current);
        match next {
            Some(entry) => {
                if !map.contains_key(&key) && map.len() >= self.per_shard {
                    make_room(&mut map, now);
                }
                map.insert(key, entry);
            }
            None => {
                map.remove(&key);
            }
        }
        result
    }

    /// How many entries the table holds, expired ones included (for tests).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| shard.lock().unwrap_or_else(PoisonError::into_inner).len())
            .sum()
    }
}

/// Drops expired entries; if none were, drops the one that expires soonest.
fn make_room<K: Hash + Eq + Clone, V: Expiring>(map: &mut HashMap<K, V>, now: OffsetDateTime) {
    let before = map.len();
    map.retain(|_, entry| entry.expires() > now);
    if map.len() < before {
        return;
    }
    let soonest = map
        .iter()
        .min_by_key(|(_, entry)| entry.expires())
        .map(|(key, _)| key.clone());
    if let Some(soonest) = soonest {
        map.remove(&soonest);
    }
}
