#![allow(clippy::unwrap_used)]

use super::*;

fn start() -> OffsetDateTime {
    OffsetDateTime::UNIX_EPOCH + Duration::days(20_000)
}

#[test]
fn rfc8628_5_1_a_key_is_refused_after_its_failures_until_the_window_ends() {
    let limiter = AttemptLimiter::new(3, 100, Duration::minutes(10), 16);
    let now = start();
    for _ in 0..3 {
        assert!(limiter.check("alice", now).is_ok());
        limiter.record_failure("alice", now);
    }
    let refused = limiter
        .check("alice", now + Duration::minutes(1))
        .unwrap_err();
    assert_eq!(refused.retry_after, Duration::minutes(9));
    assert!(
        limiter.check("bob", now).is_ok(),
        "other keys are not affected"
    );
    assert!(limiter.check("alice", now + Duration::minutes(10)).is_ok());
}

#[test]
fn rfc8628_5_1_the_provider_wide_limit_stops_attempts_spread_over_keys() {
    let limiter = AttemptLimiter::new(3, 5, Duration::minutes(10), 16);
    let now = start();
    for key in ["a", "b", "c", "d", "e"] {
        limiter.record_failure(key, now);
    }
    assert!(limiter.check("f", now).is_err());
    assert!(limiter.check("f", now + Duration::minutes(10)).is_ok());
}

#[test]
fn the_table_is_bounded_and_fails_closed_when_full_of_live_windows() {
    let limiter = AttemptLimiter::new(3, 1_000, Duration::minutes(10), 4);
    let now = start();
    for key in 0..10 {
        limiter.record_failure(&key.to_string(), now);
    }
    let table = limiter.table.lock().unwrap();
    assert!(table.keys.len() <= limiter.capacity());
    drop(table);
    assert!(limiter.check("newcomer", now).is_err(), "fails closed");
    assert!(
        limiter
            .check("newcomer", now + Duration::minutes(10))
            .is_ok(),
        "expired windows make room"
    );
}
