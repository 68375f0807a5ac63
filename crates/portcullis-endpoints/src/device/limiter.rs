//! A bounded in-memory limiter of failed attempts, for the user codes of RFC 8628, which
//! are short enough to guess unless wrong entries are rate limited (§5.1).
//!
//! Failures are counted per key in fixed windows, and provider-wide in the same windows.
//! The table holds at most [`AttemptLimiter::capacity`] keys; expired windows are dropped
//! when room is needed, and when every slot holds a live window a new key is refused (fail
//! closed) until one expires. It is a per-instance cache with a bound and an expiry (DESIGN
//! §5): several instances each enforce their own limits.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use time::{Duration, OffsetDateTime};

/// One key's failures in the current window.
#[derive(Debug, Clone, Copy)]
struct Window {
    started: OffsetDateTime,
    failures: u32,
}

impl Window {
    fn live(&self, now: OffsetDateTime, length: Duration) -> bool {
        now < self.started + length
    }
}

#[derive(Debug, Default)]
struct Table {
    keys: HashMap<String, Window>,
    global: Option<Window>,
}

/// Counts failed attempts per key and refuses further attempts once a key (or the
/// provider as a whole) reached its limit in the current window.
#[derive(Debug)]
pub(crate) struct AttemptLimiter {
    table: Mutex<Table>,
    per_key: u32,
    global: u32,
    window: Duration,
    capacity: usize,
}

/// Refused: try again after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limited {
    pub(crate) retry_after: Duration,
}

impl AttemptLimiter {
    /// `per_key` failures per key and `global` failures in all per `window`; at most
    /// `capacity` keys tracked.
    pub(crate) fn new(per_key: u32, global: u32, window: Duration, capacity: usize) -> Self {
        AttemptLimiter {
            table: Mutex::new(Table::default()),
            per_key,
            global,
            window,
            capacity,
        }
    }

    /// How many keys the table holds at most.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Whether `key` may make an attempt now.
    pub(crate) fn check(&self, key: &str, now: OffsetDateTime) -> Result<(), Limited> {
        let mut table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        let window = self.window;
        let refuse = |started: OffsetDateTime| Limited {
            retry_after: (started + window - now).max(Duration::seconds(1)),
        };
        if let Some(global) = table.global.filter(|w| w.live(now, window))
            && global.failures >= self.global
        {
            return Err(refuse(global.started));
        }
        match table.keys.get(key).filter(|w| w.live(now, window)) {
            Some(own) if own.failures >= self.per_key => Err(refuse(own.started)),
            Some(_) => Ok(()),
            None => {
                if table.keys.len() >= self.capacity {
                    table.keys.retain(|_, w| w.live(now, window));
                }
                if table.keys.len() >= self.capacity && !table.keys.contains_key(key) {
                    let oldest = table.keys.values().map(|w| w.started).min().unwrap_or(now);
                    return Err(refuse(oldest));
                }
                Ok(())
            }
        }
    }

    /// Counts a failed attempt by `key` (and provider-wide).
    pub(crate) fn record_failure(&self, key: &str, now: OffsetDateTime) {
        let mut table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        let window = self.window;
        let bump = |slot: &mut Window| {
            if slot.live(now, window) {
                slot.failures = slot.failures.saturating_add(1);
            } else {
                *slot = Window {
                    started: now,
                    failures: 1,
                };
            }
        };
        let fresh = Window {
            started: now,
            failures: 0,
        };
        bump(table.global.get_or_insert(fresh));
        if !table.keys.contains_key(key) && table.keys.len() >= self.capacity {
            table.keys.retain(|_, w| w.live(now, window));
            if table.keys.len() >= self.capacity {
                // No room: the global count still holds this failure.
                return;
            }
        }
        bump(table.keys.entry(key.to_owned()).or_insert(fresh));
    }
}

#[cfg(test)]
mod tests;
