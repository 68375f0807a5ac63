//! The time source, injected so that expiry, TTL and reuse tests are deterministic.

use std::sync::{Arc, Mutex, PoisonError};

use time::{Duration, OffsetDateTime};

/// Where the provider reads the current time.
///
/// ```
/// use portcullis_grants::{Clock, SystemClock};
/// let now = SystemClock.now();
/// assert!(now.year() >= 2024);
/// ```
pub trait Clock: Send + Sync + 'static {
    /// The current instant, in UTC.
    fn now(&self) -> OffsetDateTime;
}

/// The system clock: the default.
///
/// ```
/// use portcullis_grants::{Clock, SystemClock};
/// assert!(SystemClock.now() <= time::OffsetDateTime::now_utc());
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that only moves when told to, for tests.
///
/// ```
/// use portcullis_grants::{Clock, ManualClock};
/// use time::{Duration, OffsetDateTime};
///
/// let start = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
/// let clock = ManualClock::new(start);
/// clock.advance(Duration::minutes(11));
/// assert_eq!(clock.now(), start + Duration::minutes(11));
/// ```
#[derive(Debug)]
pub struct ManualClock(Mutex<OffsetDateTime>);

impl ManualClock {
    /// A clock standing at `at`.
    ///
    /// ```
    /// let clock = portcullis_grants::ManualClock::new(time::OffsetDateTime::UNIX_EPOCH);
    /// ```
    pub fn new(at: OffsetDateTime) -> ManualClock {
        ManualClock(Mutex::new(at))
    }

    /// A clock standing at the current system time, truncated to whole seconds.
    ///
    /// ```
    /// use portcullis_grants::{Clock, ManualClock};
    /// assert_eq!(ManualClock::starting_now().now().nanosecond(), 0);
    /// ```
    pub fn starting_now() -> ManualClock {
        let now = OffsetDateTime::now_utc();
        ManualClock::new(now.replace_nanosecond(0).unwrap_or(now))
    }

    /// Moves the clock to `at`.
    ///
    /// ```
    /// use portcullis_grants::{Clock, ManualClock};
    /// let clock = ManualClock::starting_now();
    /// clock.set(time::OffsetDateTime::UNIX_EPOCH);
    /// assert_eq!(clock.now(), time::OffsetDateTime::UNIX_EPOCH);
    /// ```
    pub fn set(&self, at: OffsetDateTime) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = at;
    }

    /// Moves the clock forward by `by`.
    ///
    /// ```
    /// use portcullis_grants::{Clock, ManualClock};
    /// let clock = ManualClock::new(time::OffsetDateTime::UNIX_EPOCH);
    /// clock.advance(time::Duration::seconds(5));
    /// assert_eq!(clock.now().unix_timestamp(), 5);
    /// ```
    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> OffsetDateTime {
        (**self).now()
    }
}
