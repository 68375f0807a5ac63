//! Failed-login backoff: per key, the failures in a row; past a threshold, each further
//! failure locks the key for twice as long as the one before, up to a cap. A success
//! forgets the key; so does a quiet spell of [`LoginLockout::reset_after`] with no lock in
//! force.

use std::hash::Hash;

use time::{Duration, OffsetDateTime};

use super::LoginLockout;
use super::table::{Expiring, Table};

/// One key's failures in a row.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Failures {
    count: u32,
    locked_until: OffsetDateTime,
    forget_at: OffsetDateTime,
}

impl Expiring for Failures {
    fn expires(&self) -> OffsetDateTime {
        self.forget_at
    }
}

/// The backoff table.
#[derive(Debug)]
pub(crate) struct Lockouts<K> {
    policy: LoginLockout,
    table: Table<K, Failures>,
}

impl<K: Hash + Eq + Clone> Lockouts<K> {
    pub(crate) fn new(policy: LoginLockout, capacity: usize) -> Self {
        Lockouts {
            policy,
            table: Table::new(capacity),
        }
    }

    /// Whether `key` may try now; if it is locked, for how much longer.
    pub(crate) fn check(&self, key: K, now: OffsetDateTime) -> Result<(), Duration> {
        self.table.update(key, now, |failures| match failures {
            Some(failures) if failures.locked_until > now => {
                (Some(*failures), Err(failures.locked_until - now))
            }
            other => (other.copied(), Ok(())),
        })
    }

    /// Counts a failure by `key`; answers the lock it starts, if any.
    pub(crate) fn failed(&self, key: K, now: OffsetDateTime) -> Option<Duration> {
        let policy = self.policy;
        self.table.update(key, now, |failures| {
            let count = failures.map_or(0, |f| f.count).saturating_add(1);
            let lock = policy.lock_after(count);
            let locked_until = now + lock.unwrap_or(Duration::ZERO);
            let forget_at = (now + policy.reset_after).max(locked_until);
            let next = Failures {
                count,
                locked_until,
                forget_at,
            };
            (Some(next), lock)
        })
    }

    /// Forgets `key`'s failures (a successful login).
    pub(crate) fn succeeded(&self, key: K, now: OffsetDateTime) {
        self.table.update(key, now, |_| (None, ()));
    }

    /// How many keys the table holds (for tests).
    #[cfg(test)]
    pub(crate) fn keys(&self) -> usize {
        self.table.len()
    }
}

impl LoginLockout {
    /// The lock that the `count`-th failure in a row starts: none below the threshold, then
    /// `first`, doubling with each further failure, at most `max`.
    pub(crate) fn lock_after(&self, count: u32) -> Option<Duration> {
        let beyond = count.checked_sub(self.threshold)?;
        let factor = 1_i32.checked_shl(beyond).filter(|factor| *factor > 0);
        let lock = factor
            .and_then(|factor| self.first.checked_mul(factor))
            .unwrap_or(self.max);
        Some(lock.min(self.max))
    }
}
