#![allow(clippy::unwrap_used, clippy::expect_used)]

use portcullis_store::MemoryStore;

use super::*;

fn state(settings: DpopSettings) -> DpopState {
    DpopState::new(settings).unwrap()
}

fn settings() -> DpopSettings {
    DpopSettings::new(Arc::new(MemoryStore::new()))
}

fn at(seconds: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(seconds).unwrap()
}

/// RFC 9449 §8: nonces change with the time slot; the previous slot's stays accepted.
#[test]
fn nonces_follow_time_slots() {
    let state = state(settings().nonce_secret(vec![1; 32]));
    let slot = 300;
    let start = at(1_700_000_100 - 1_700_000_100 % slot);
    assert_eq!(
        state.nonce(start, 0),
        state.nonce(start + Duration::seconds(299), 0)
    );
    assert_ne!(
        state.nonce(start, 0),
        state.nonce(start + Duration::seconds(300), 0)
    );
    assert_eq!(
        state.nonce(start + Duration::seconds(300), 1),
        state.nonce(start, 0)
    );
    let expect = state.expectations("POST", "https://id.example/t".into(), start, true);
    assert_eq!(
        expect.nonces,
        Some(vec![state.nonce(start, 0), state.nonce(start, 1)])
    );
}

/// Instances sharing a secret agree on nonces; different secrets do not.
#[test]
fn nonces_depend_on_the_secret() {
    let now = at(1_700_000_000);
    let a = state(settings().nonce_secret(vec![1; 32]));
    let b = state(settings().nonce_secret(vec![1; 32]));
    let c = state(settings().nonce_secret(vec![2; 32]));
    let random = state(settings());
    assert_eq!(a.nonce(now, 0), b.nonce(now, 0));
    assert_ne!(a.nonce(now, 0), c.nonce(now, 0));
    assert_ne!(a.nonce(now, 0), random.nonce(now, 0));
}

#[test]
fn inconsistent_settings_are_refused() {
    let bad = [
        settings().algorithms([]),
        settings().iat_window(Duration::ZERO, Duration::ZERO),
        settings().iat_window(Duration::hours(1), Duration::ZERO),
        settings().iat_window(Duration::seconds(60), Duration::seconds(-1)),
        settings().iat_window(Duration::seconds(60), Duration::hours(1)),
        settings().nonce_lifetime(Duration::seconds(5)),
        settings().nonce_lifetime(Duration::days(1)),
        settings().nonce_secret(vec![0; 8]),
    ];
    for settings in bad {
        let shown = format!("{settings:?}");
        assert!(
            matches!(DpopState::new(settings), Err(ConfigError::Dpop { .. })),
            "{shown}"
        );
    }
    assert!(DpopState::new(settings()).is_ok());
}

#[test]
fn challenges_name_the_error_and_the_algorithms() {
    let refusal = DpopRefusal {
        code: "invalid_dpop_proof",
        description: "bad \"proof\"".into(),
        algs: "ES256 EdDSA".into(),
    };
    assert_eq!(
        refusal.challenge(),
        r#"DPoP algs="ES256 EdDSA", error="invalid_dpop_proof", error_description="bad proof""#
    );
}

#[test]
fn repeated_dpop_headers_are_refused() {
    let mut headers = HeaderMap::new();
    assert_eq!(proof_header(&headers), Ok(None));
    headers.append(DPOP_HEADER, HeaderValue::from_static("a.b.c"));
    assert_eq!(proof_header(&headers), Ok(Some("a.b.c")));
    headers.append(DPOP_HEADER, HeaderValue::from_static("d.e.f"));
    assert!(proof_header(&headers).is_err());
}
