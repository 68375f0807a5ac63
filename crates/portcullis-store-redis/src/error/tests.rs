#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

#[test]
fn unreachable_redis_is_unavailable_and_a_bad_command_is_backend() {
    let refused = RedisError::from(std::io::Error::new(
        std::io::ErrorKind::ConnectionRefused,
        "refused",
    ));
    assert!(command_failed("get_pending", refused).is_transient());

    let timed_out = RedisError::from(std::io::Error::new(std::io::ErrorKind::TimedOut, "slow"));
    assert!(command_failed("take_pending", timed_out).is_transient());

    let wrong = RedisError::from((ErrorKind::Client, "bad argument"));
    let error = command_failed("insert_code", wrong);
    assert!(matches!(error, StoreError::Backend { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        "storage backend failed: redis failed during insert_code"
    );
}

#[test]
fn corrupt_records_name_their_family() {
    let error = corrupt(RecordFamily::Session, None);
    assert_eq!(
        error.to_string(),
        "storage backend failed: undecodable session record in redis"
    );
}
