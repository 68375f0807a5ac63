//! A keyed rate limiter: the generic cell rate algorithm (GCRA), the token bucket in its
//! one-timestamp form.
//!
//! A [`Rate`] of `count` per `period` spaces requests `period / count` apart (the emission
//! interval) and lets `count` of them come at once. Each key keeps one instant, its
//! *theoretical arrival time* (TAT): the time at which its bucket is full again. A request
//! at `now` conforms when `max(TAT, now) + interval - period <= now`, and then moves the
//! TAT to `max(TAT, now) + interval`; otherwise it is refused until that instant, and the
//! TAT does not move (refused requests cost nothing). A TAT in the past is a full bucket,
//! so such entries expire and are evicted first.

use std::hash::Hash;

use time::{Duration, OffsetDateTime};

use super::Rate;
use super::table::{Expiring, Table};

/// When a key's bucket is full again.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tat(OffsetDateTime);

impl Expiring for Tat {
    fn expires(&self) -> OffsetDateTime {
        self.0
    }
}

/// A GCRA limiter over keys `K`, at one [`Rate`], keeping at most about `capacity` keys.
#[derive(Debug)]
pub(crate) struct Gcra<K> {
    rate: Rate,
    table: Table<K, Tat>,
}

impl<K: Hash + Eq + Clone> Gcra<K> {
    pub(crate) fn new(rate: Rate, capacity: usize) -> Self {
        Gcra {
            rate,
            table: Table::new(capacity),
        }
    }

    /// Admits one request by `key` at `now`, or answers how long until one would conform.
    pub(crate) fn check(&self, key: K, now: OffsetDateTime) -> Result<(), Duration> {
        let interval = self.rate.interval();
        let period = self.rate.period;
        self.table.update(key, now, |tat| {
            let start = tat.map_or(now, |tat| tat.0.max(now));
            let next = start + interval;
            let conforms_at = next - period;
            if conforms_at > now {
                (tat.copied(), Err(conforms_at - now))
            } else {
                (Some(Tat(next)), Ok(()))
            }
        })
    }

    /// How many keys the table holds (for tests).
    #[cfg(test)]
    pub(crate) fn keys(&self) -> usize {
        self.table.len()
    }
}
