#![allow(clippy::unwrap_used, clippy::expect_used)]

use portcullis_store::{StoreError, TokenStatus};
use portcullis_tokens::{TokenHash, TokenKind};
use time::OffsetDateTime;
use time::macros::datetime;

use super::*;

#[test]
fn times_are_unix_microseconds() {
    assert_eq!(micros(OffsetDateTime::UNIX_EPOCH), 0);
    assert_eq!(
        micros(datetime!(2025-06-01 12:00:00 UTC)),
        1_748_779_200_000_000
    );
    assert_eq!(
        micros(datetime!(2025-06-01 12:00:00.123_456_789 UTC)),
        1_748_779_200_123_456,
        "finer digits are cut"
    );
    // Before 1970 the cut still goes down, so ordering is kept.
    assert_eq!(micros(datetime!(1969-12-31 23:59:59.999_999_5 UTC)), -1);
}

#[test]
fn times_round_trip_to_the_microsecond_whatever_the_offset() {
    for at in [
        datetime!(2025-06-01 12:00:00 UTC),
        datetime!(2025-06-01 12:00:00.000_001 UTC),
        datetime!(2025-06-01 14:00:00.5 +02:00),
        datetime!(1960-01-01 00:00:00.25 UTC),
        datetime!(9999-12-31 23:59:59.999_999 UTC),
    ] {
        assert_eq!(instant(micros(at), "t", "c").unwrap(), at);
    }
}

#[test]
fn out_of_range_times_are_corrupt_rows() {
    match instant(i64::MAX, "tokens", "expires_at") {
        Err(StoreError::Backend { message, .. }) => {
            assert_eq!(message, "corrupt value in tokens.expires_at");
        }
        other => panic!("expected a corrupt row, got {other:?}"),
    }
    assert!(instant(i64::MIN, "tokens", "expires_at").is_err());
}

#[test]
fn token_kinds_and_statuses_round_trip() {
    for kind in TokenKind::ALL {
        let name = kind_name(kind).unwrap();
        assert_eq!(kind_from_name(name).unwrap(), kind);
        // The stored name is the serde name.
        assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{name}\""));
    }
    assert!(kind_from_name("bearer").is_err());
    for status in [
        TokenStatus::Active,
        TokenStatus::Rotated,
        TokenStatus::Revoked,
    ] {
        let name = status_name(status);
        assert_eq!(status_from_name(name).unwrap(), status);
        assert_eq!(
            serde_json::to_string(&status).unwrap(),
            format!("\"{name}\"")
        );
    }
    assert!(status_from_name("expired").is_err());
}

#[test]
fn hashes_are_exactly_32_bytes() {
    let key = TokenHash::of("pc_at_x");
    assert_eq!(hash(key.as_bytes(), "tokens", "hash").unwrap(), key);
    assert!(hash(&[0; 31], "tokens", "hash").is_err());
    assert!(hash(&[0; 33], "tokens", "hash").is_err());
}

#[test]
fn counts_saturate() {
    assert_eq!(sql_count(7), 7);
    assert_eq!(sql_count(usize::MAX), i64::MAX);
}
