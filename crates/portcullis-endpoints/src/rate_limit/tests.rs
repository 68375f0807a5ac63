#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::net::IpAddr;

use time::{Duration, OffsetDateTime};

use super::gcra::Gcra;
use super::lockout::Lockouts;
use super::{LoginLockout, Rate, RateLimits, Throttled, login_key, network};
use crate::ConfigError;

fn t0() -> OffsetDateTime {
    OffsetDateTime::UNIX_EPOCH + Duration::days(20_000)
}

/// GCRA: 3 per minute admits a burst of 3, then one every 20 s; a refusal says when the
/// next request conforms and costs nothing.
#[test]
fn gcra_burst_then_spacing() {
    let limiter = Gcra::new(Rate::per_minute(3), 100);
    // (seconds since start, expected: Ok or Err(seconds to wait))
    let table: [(i64, Result<(), i64>); 9] = [
        (0, Ok(())),
        (0, Ok(())),
        (0, Ok(())),
        (0, Err(20)),
        (5, Err(15)),
        (20, Ok(())),
        (20, Err(20)),
        (100, Ok(())), // the bucket refilled past full: a burst again
        (100, Ok(())),
    ];
    for (i, (at, expected)) in table.into_iter().enumerate() {
        let got = limiter
            .check("client", t0() + Duration::seconds(at))
            .map_err(|wait| wait.whole_seconds());
        assert_eq!(got, expected, "step {i} at +{at}s");
    }
}

/// Keys are independent.
#[test]
fn gcra_keys_are_independent() {
    let limiter = Gcra::new(Rate::per_hour(1), 100);
    assert_eq!(limiter.check("a", t0()), Ok(()));
    assert!(limiter.check("a", t0()).is_err());
    assert_eq!(limiter.check("b", t0()), Ok(()));
}

/// DESIGN §5: memory is bounded. Filling past the cap evicts expired keys first, then
/// the least limited; the table never grows beyond its capacity.
#[test]
fn gcra_table_is_bounded() {
    let limiter = Gcra::new(Rate::per_minute(1), 16);
    for i in 0..1000 {
        limiter.check(i, t0()).unwrap();
        assert!(limiter.keys() <= 16, "{} keys after {i}", limiter.keys());
    }
    // Key 999 is still remembered (only the soonest-expiring went).
    assert!(limiter.check(999, t0()).is_err());
    // A minute later every entry expired: a new key makes room by dropping them all.
    limiter.check(5000, t0() + Duration::minutes(1)).unwrap();
    assert_eq!(limiter.keys(), 1);
}

/// A large table is sharded and still bounded.
#[test]
fn sharded_table_is_bounded() {
    let limiter = Gcra::new(Rate::per_minute(1), 2048);
    for i in 0..10_000 {
        limiter.check(i, t0()).unwrap();
    }
    assert!(limiter.keys() <= 2048, "{} keys", limiter.keys());
}

/// The backoff: free failures up to the threshold, then 1 s doubling, capped at `max`.
#[test]
fn lock_durations_double_to_the_cap() {
    let policy = LoginLockout::after(3)
        .first(Duration::SECOND)
        .max(Duration::minutes(15));
    let table: [(u32, Option<i64>); 10] = [
        (1, None),
        (2, None),
        (3, Some(1)),
        (4, Some(2)),
        (5, Some(4)),
        (6, Some(8)),
        (12, Some(512)),
        (13, Some(900)), // 1024 s, capped at 15 min
        (40, Some(900)), // past i32's bits: still the cap, no overflow
        (u32::MAX, Some(900)),
    ];
    for (count, expected) in table {
        assert_eq!(
            policy.lock_after(count).map(|d| d.whole_seconds()),
            expected,
            "failure {count}"
        );
    }
}

/// Locks follow failures; a refused attempt while locked counts nothing; a success forgets;
/// quiet time past `reset_after` forgets too.
#[test]
fn lockout_sequence() {
    let lockouts = Lockouts::new(LoginLockout::after(2).reset_after(Duration::hours(1)), 100);
    let at = |s: i64| t0() + Duration::seconds(s);
    assert_eq!(lockouts.failed("k", at(0)), None);
    assert_eq!(lockouts.check("k", at(0)), Ok(()));
    assert_eq!(lockouts.failed("k", at(0)), Some(Duration::SECOND));
    assert_eq!(lockouts.check("k", at(0)), Err(Duration::SECOND));
    assert_eq!(lockouts.check("k", at(1)), Ok(()));
    assert_eq!(lockouts.failed("k", at(1)), Some(Duration::seconds(2)));
    assert_eq!(lockouts.check("k", at(2)), Err(Duration::SECOND));
    assert_eq!(lockouts.check("other", at(2)), Ok(()));
    lockouts.succeeded("k", at(3));
    assert_eq!(lockouts.failed("k", at(3)), None);
    // An hour of quiet after the last failure: forgotten.
    assert_eq!(lockouts.failed("k", at(3 + 3600)), None);
    assert_eq!(lockouts.keys(), 1);
}

/// The lockout table is bounded too.
#[test]
fn lockout_table_is_bounded() {
    let lockouts = Lockouts::new(LoginLockout::after(1), 16);
    for i in 0..500 {
        lockouts.failed(i, t0());
    }
    assert!(lockouts.keys() <= 16);
    assert!(lockouts.check(499, t0()).is_err());
}

/// Per-IP keys: IPv4 as is, IPv4-mapped IPv6 as IPv4, IPv6 by /64.
#[test]
fn networks() {
    let table = [
        ("192.0.2.1", "192.0.2.1"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::"),
        ("::1", "::"),
    ];
    for (ip, expected) in table {
        let ip: IpAddr = ip.parse().unwrap();
        assert_eq!(network(ip), expected.parse::<IpAddr>().unwrap(), "{ip}");
    }
}

/// Usernames are compared trimmed and lowercased, and kept only as a digest.
#[test]
fn login_keys() {
    assert_eq!(login_key("Alice ", None), login_key("alice", None));
    assert_ne!(login_key("alice", None), login_key("bob", None));
    let ip = Some("192.0.2.1".parse().unwrap());
    assert_ne!(login_key("alice", ip), login_key("alice", None));
}

/// RFC 9110 §10.2.3: Retry-After is whole seconds; waits round up, never to 0.
#[test]
fn retry_after_rounds_up() {
    let table = [
        (Duration::ZERO, 1),
        (Duration::nanoseconds(1), 1),
        (Duration::milliseconds(999), 1),
        (Duration::SECOND, 1),
        (Duration::milliseconds(1001), 2),
        (Duration::seconds(20), 20),
        (Duration::seconds(-5), 1),
    ];
    for (wait, seconds) in table {
        assert_eq!(Throttled::from(wait).retry_after_secs(), seconds, "{wait}");
    }
}

/// Settings the builder refuses.
#[test]
fn invalid_settings() {
    let table: [(RateLimits, &str); 8] = [
        (
            RateLimits::default().token_per_client(Rate::per_minute(0)),
            "token_per_client",
        ),
        (
            RateLimits::default().token_per_ip(Rate::new(1, Duration::milliseconds(10))),
            "token_per_ip",
        ),
        (
            RateLimits::default().login_per_ip(Rate::new(1, Duration::days(2))),
            "login_per_ip",
        ),
        (
            RateLimits::default().login_per_user_ip(Rate::new(0, Duration::MINUTE)),
            "login_per_user_ip",
        ),
        (
            RateLimits::default().login_lockout(LoginLockout::after(0)),
            "login_lockout",
        ),
        (
            RateLimits::default()
                .login_lockout(LoginLockout::default().first(Duration::milliseconds(10))),
            "login_lockout",
        ),
        (
            RateLimits::default().login_lockout(LoginLockout::default().max(Duration::days(2))),
            "login_lockout",
        ),
        (RateLimits::default().max_keys(3), "max_keys"),
    ];
    for (limits, name) in table {
        match limits.check() {
            Err(ConfigError::RateLimit { setting, .. }) => assert_eq!(setting, name),
            other => panic!("{name}: {other:?}"),
        }
    }
    assert_eq!(RateLimits::recommended().check(), Ok(()));
    assert_eq!(RateLimits::default().check(), Ok(()));
}
