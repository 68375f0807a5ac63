#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use time::macros::datetime;

#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Record {
    name: String,
}

#[test]
fn expiry_is_unix_seconds_and_nanoseconds_also_before_1970() {
    let cases = [
        ("epoch", datetime!(1970-01-01 0:00 UTC), (0, 0)),
        (
            "whole_second",
            datetime!(2030-01-01 0:00 UTC),
            (1_893_456_000, 0),
        ),
        (
            "fraction",
            datetime!(2030-01-01 0:00:00.25 UTC),
            (1_893_456_000, 250_000_000),
        ),
        (
            "before_epoch",
            datetime!(1969-12-31 23:59:59.5 UTC),
            (-1, 500_000_000),
        ),
    ];
    for (name, at, expected) in cases {
        assert_eq!(seconds_and_nanos(at), expected, "{name}");
    }
}

#[test]
fn key_expiry_rounds_up_to_the_millisecond_and_stays_positive() {
    let cases = [
        (
            "whole_millisecond",
            datetime!(2030-01-01 0:00:00.001 UTC),
            1_893_456_000_001,
        ),
        (
            "rounded_up",
            datetime!(2030-01-01 0:00:00.0010001 UTC),
            1_893_456_000_002,
        ),
        ("epoch_is_at_least_one", datetime!(1970-01-01 0:00 UTC), 1),
        ("past_is_at_least_one", datetime!(1960-01-01 0:00 UTC), 1),
    ];
    for (name, at, expected) in cases {
        assert_eq!(expiry_millis(at), expected, "{name}");
    }
    // Sweeping rounds `now` down, so a record is due only once it has really expired.
    let expires = datetime!(2030-01-01 0:00:00.0005 UTC);
    assert!(expiry_millis(expires) > now_millis(expires - time::Duration::nanoseconds(1)));
    assert!(expiry_millis(expires) > now_millis(expires));
    assert!(expiry_millis(expires) <= now_millis(expires + time::Duration::milliseconds(1)));
}

#[test]
fn records_round_trip_behind_their_expiry() {
    let at = datetime!(2030-01-01 0:00:00.000000007 UTC);
    let record = Record { name: "a|b".into() };
    let value = encode(RecordFamily::Session, at, &record).unwrap();
    assert_eq!(value, r#"1893456000.000000007|{"name":"a|b"}"#);
    assert_eq!(
        decode::<Record>(RecordFamily::Session, &value).unwrap(),
        record
    );

    let code = encode_code(CodeState::Claimed, at, &record).unwrap();
    assert!(code.starts_with("C1893456000.000000007|"));
    assert_eq!(
        decode_code::<Record>(&code).unwrap(),
        (CodeState::Claimed, record)
    );
}

#[test]
fn undecodable_values_are_backend_errors() {
    for (name, value) in [
        ("no_header", r#"{"name":"x"}"#),
        ("bad_json", "1.000000000|{"),
        ("empty", ""),
    ] {
        assert!(
            matches!(
                decode::<Record>(RecordFamily::Session, value),
                Err(StoreError::Backend { .. })
            ),
            "{name}"
        );
    }
    for (name, value) in [("unknown_state", "X1.0|{}"), ("empty", "")] {
        assert!(
            matches!(
                decode_code::<Record>(value),
                Err(StoreError::Backend { .. })
            ),
            "{name}"
        );
    }
}
