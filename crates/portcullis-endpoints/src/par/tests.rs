#![allow(clippy::unwrap_used)]
use portcullis_registry::{ClientId, ScopeSet};
use time::OffsetDateTime;

use super::*;

#[test]
fn rfc9126_4_pushed_parameters_round_trip() {
    let now = OffsetDateTime::UNIX_EPOCH;
    let pending = PendingAuthorization {
        handle: TokenHash::of("urn:ietf:params:oauth:request_uri:x"),
        client_id: ClientId::new("web-app").unwrap(),
        redirect_uri: "https://app.example/cb".into(),
        redirect_uri_in_request: true,
        response_type: "code".into(),
        response_mode: "query".into(),
        scopes: ScopeSet::parse("openid profile").unwrap(),
        state: Some("xyz".into()),
        nonce: Some("n-0S6".into()),
        code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
        code_challenge_method: Some("S256".into()),
        prompt: vec!["login".into(), "consent".into()],
        max_age: Some(300),
        created_at: now,
        expires_at: now,
        resources: vec!["https://api.example/".into()],
        dpop_jkt: None,
    };
    let params = pushed_request_params(&pending);
    let expected = [
        ("client_id", Some("web-app")),
        ("response_type", Some("code")),
        ("response_mode", Some("query")),
        ("redirect_uri", Some("https://app.example/cb")),
        ("scope", Some("openid profile")),
        ("state", Some("xyz")),
        ("nonce", Some("n-0S6")),
        (
            "code_challenge",
            Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
        ),
        ("code_challenge_method", Some("S256")),
        ("prompt", Some("login consent")),
        ("max_age", Some("300")),
        ("resource", Some("https://api.example/")),
        ("dpop_jkt", None),
        ("request_uri", None),
    ];
    for (name, value) in expected {
        assert_eq!(params.get(name), value, "{name}");
    }
    // RFC 6749 §3.1.2.3: a redirect URI the request left out stays out.
    let defaulted = PendingAuthorization {
        redirect_uri_in_request: false,
        scopes: ScopeSet::new(),
        prompt: Vec::new(),
        ..pending
    };
    let params = pushed_request_params(&defaulted);
    for name in ["redirect_uri", "scope", "prompt"] {
        assert_eq!(params.get(name), None, "{name}");
    }
}

#[test]
fn rfc9126_2_2_request_uris_are_urns_with_256_random_bits() {
    let a = new_request_uri().unwrap();
    let b = new_request_uri().unwrap();
    assert_ne!(a, b);
    let random = a.strip_prefix(REQUEST_URI_PREFIX).unwrap();
    assert_eq!(URL_SAFE_NO_PAD.decode(random).unwrap().len(), 32);
}

#[test]
fn par_lifetime_bounds() {
    let cases = [(4, false), (5, true), (60, true), (600, true), (601, false)];
    for (seconds, ok) in cases {
        let settings = ParSettings {
            lifetime: Duration::seconds(seconds),
            ..ParSettings::default()
        };
        assert_eq!(settings.check().is_ok(), ok, "{seconds} s");
    }
}
