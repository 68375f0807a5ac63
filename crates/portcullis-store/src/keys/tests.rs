#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use super::*;

fn record() -> KeyRecord {
    KeyRecord {
        kid: "k1".into(),
        algorithm: "ES256".into(),
        // 0xfb 0xff encode to base64url characters outside the standard alphabet's overlap.
        private_pkcs8: vec![0x30, 0xfb, 0xff, 0x00, 0x7f],
        created_at: OffsetDateTime::UNIX_EPOCH,
        activated_at: None,
        retired_at: None,
    }
}

#[test]
fn debug_never_prints_the_private_key() {
    let shown = format!("{:?}", record());
    assert!(shown.contains("<redacted>"), "{shown}");
    assert!(shown.contains("k1") && shown.contains("ES256"), "{shown}");
    assert!(!shown.contains("251") && !shown.contains("0xfb"), "{shown}");
}

#[test]
fn private_key_is_serialized_as_unpadded_base64url() {
    let json = serde_json::to_value(record()).unwrap();
    assert_eq!(json["private_pkcs8"], "MPv_AH8");
    let back: KeyRecord = serde_json::from_value(json).unwrap();
    assert_eq!(back, record());
}

#[test]
fn malformed_private_key_text_is_refused() {
    let mut json = serde_json::to_value(record()).unwrap();
    for bad in ["MPv/AH8", "MPv_AH8=", "not base64!"] {
        json["private_pkcs8"] = bad.into();
        assert!(
            serde_json::from_value::<KeyRecord>(json.clone()).is_err(),
            "{bad} was accepted"
        );
    }
}

#[test]
fn status_helpers() {
    let now = OffsetDateTime::UNIX_EPOCH;
    let mut key = record();
    assert!(!key.is_active() && !key.is_retired());
    key.activated_at = Some(now);
    assert!(key.is_active() && !key.is_retired());
    key.retired_at = Some(now);
    assert!(!key.is_active() && key.is_retired());
}
