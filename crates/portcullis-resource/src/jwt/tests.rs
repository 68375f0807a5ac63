//! Unit tests: the header pre-checks, reading claims and JWK Sets, and the configuration
//! checks. Fetching, caching and rotation over HTTP are in `tests/jwt.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_registry::RoleAssignment;
use portcullis_tokens::{SigningAlgorithm, SigningKey};
use serde_json::{Map, Value, json};
use time::{Duration, OffsetDateTime};

use super::jwks::read_jwks;
use super::{JwtConfigError, JwtValidator, claims, header, is_loopback};

fn b64(json: &Value) -> String {
    URL_SAFE_NO_PAD.encode(json.to_string())
}

/// A token with this header and an empty payload and signature part.
fn with_header(header: &Value) -> String {
    format!("{}.{}.c2ln", b64(header), b64(&json!({})))
}

// ---- header ---------------------------------------------------------------------------

#[test]
fn rfc9068_4_header_of_a_signed_access_token_names_kid_and_alg() {
    let key = SigningKey::generate(SigningAlgorithm::EdDSA).unwrap();
    let token = key.sign(Some("at+jwt"), &json!({"iss": "x"})).unwrap();
    let read = header::read(&token).unwrap();
    assert_eq!(read.kid, key.kid());
    assert_eq!(read.alg, SigningAlgorithm::EdDSA);
}

#[test]
fn rfc7515_4_1_9_typ_ignores_case_and_the_application_prefix() {
    for typ in [
        "at+jwt",
        "AT+JWT",
        "application/at+jwt",
        "Application/At+Jwt",
    ] {
        let token = with_header(&json!({"alg": "ES256", "kid": "k", "typ": typ}));
        assert!(header::read(&token).is_ok(), "{typ}");
    }
}

#[test]
fn header_refusals_before_any_key_lookup() {
    let cases: [(&str, String, &str); 12] = [
        (
            "rfc9068_4_typ_missing",
            with_header(&json!({"alg": "ES256", "kid": "k"})),
            "typ is not at+jwt",
        ),
        (
            "rfc9068_4_typ_jwt",
            with_header(&json!({"alg": "ES256", "kid": "k", "typ": "JWT"})),
            "typ is not at+jwt",
        ),
        (
            "rfc9068_4_typ_other_prefix",
            with_header(&json!({"alg": "ES256", "kid": "k", "typ": "text/at+jwt"})),
            "typ is not at+jwt",
        ),
        (
            "rfc8725_3_1_alg_none",
            with_header(&json!({"alg": "none", "kid": "k", "typ": "at+jwt"})),
            "unsupported algorithm",
        ),
        (
            "rfc8725_3_1_alg_hs256",
            with_header(&json!({"alg": "HS256", "kid": "k", "typ": "at+jwt"})),
            "unsupported algorithm",
        ),
        (
            "rfc7515_4_1_1_alg_is_case_sensitive",
            with_header(&json!({"alg": "es256", "kid": "k", "typ": "at+jwt"})),
            "unsupported algorithm",
        ),
        (
            "kid_missing",
            with_header(&json!({"alg": "ES256", "typ": "at+jwt"})),
            "missing kid",
        ),
        (
            "kid_empty",
            with_header(&json!({"alg": "ES256", "kid": "", "typ": "at+jwt"})),
            "missing kid",
        ),
        (
            "kid_not_a_string",
            with_header(&json!({"alg": "ES256", "kid": 7, "typ": "at+jwt"})),
            "malformed header",
        ),
        (
            "rfc7515_5_2_two_parts",
            "eyJhbGciOiJFUzI1NiJ9.e30".to_owned(),
            "not a compact JWS",
        ),
        (
            "rfc7515_5_2_four_parts",
            format!("{}.x", with_header(&json!({"alg": "ES256"}))),
            "not a compact JWS",
        ),
        (
            "header_not_base64url",
            "%%%.e30.c2ln".to_owned(),
            "malformed header",
        ),
    ];
    for (name, token, reason) in cases {
        assert_eq!(header::read(&token), Err(reason), "{name}");
    }
}

#[test]
fn rfc7515_4_header_repeating_a_member_is_refused() {
    let header = r#"{"alg":"ES256","kid":"k","typ":"at+jwt","kid":"other"}"#;
    let token = format!("{}.e30.c2ln", URL_SAFE_NO_PAD.encode(header));
    assert_eq!(header::read(&token), Err("malformed header"));
}

// ---- claims ---------------------------------------------------------------------------

fn now() -> OffsetDateTime {
    OffsetDateTime::UNIX_EPOCH + Duration::days(20_000)
}

fn claims(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => panic!("claims are an object"),
    }
}

fn machine_claims() -> Value {
    json!({
        "iss": "https://id.example",
        "sub": "reports",
        "aud": "api",
        "client_id": "reports",
        "scope": "view:users create:users",
        "jti": "j1",
        "iat": now().unix_timestamp(),
        "exp": (now() + Duration::minutes(5)).unix_timestamp(),
        "roles": [{"role": "auditor", "division": "emea"}, {"role": "reader"}],
    })
}

#[test]
fn rfc9068_2_2_machine_token_has_no_subject_and_carries_roles() {
    let token = claims::read(&claims(machine_claims())).unwrap();
    assert_eq!(token.subject, None);
    assert_eq!(token.client_id.as_str(), "reports");
    assert!(token.has_scope("view:users") && token.has_scope("create:users"));
    assert_eq!(
        token.roles,
        [
            RoleAssignment::new("auditor", Some("emea")),
            RoleAssignment::new("reader", None)
        ]
    );
    assert_eq!(token.issued_at, now());
    assert_eq!(token.expires_at, now() + Duration::minutes(5));
}

#[test]
fn rfc9068_2_2_user_token_keeps_its_subject() {
    let mut value = machine_claims();
    value["sub"] = json!("user-42");
    value.as_object_mut().unwrap().remove("roles");
    let token = claims::read(&claims(value)).unwrap();
    assert_eq!(token.subject.unwrap().as_str(), "user-42");
    assert!(token.roles.is_empty());
}

#[test]
fn rfc9068_2_2_auth_time_marks_a_user_even_when_sub_equals_client_id() {
    let mut value = machine_claims();
    value["auth_time"] = json!(now().unix_timestamp() - 60);
    let token = claims::read(&claims(value)).unwrap();
    assert_eq!(token.subject.unwrap().as_str(), "reports");
}

#[test]
fn missing_scope_and_roles_read_as_empty_and_scope_whitespace_is_lenient() {
    let mut value = machine_claims();
    let map = value.as_object_mut().unwrap();
    map.remove("scope");
    map.remove("roles");
    let token = claims::read(&claims(value.clone())).unwrap();
    assert!(token.scopes.is_empty() && token.roles.is_empty());

    value["scope"] = json!(" view:users   create:users ");
    let token = claims::read(&claims(value)).unwrap();
    assert!(token.has_scope("view:users") && token.has_scope("create:users"));
}

#[test]
fn fractional_numeric_dates_are_read() {
    let mut value = machine_claims();
    value["iat"] = json!(now().unix_timestamp() as f64 + 0.5);
    let token = claims::read(&claims(value)).unwrap();
    assert_eq!(token.issued_at, now() + Duration::milliseconds(500));
}

#[test]
fn claim_refusals() {
    let without = |name: &str| {
        let mut value = machine_claims();
        value.as_object_mut().unwrap().remove(name);
        value
    };
    let with = |name: &str, claim: Value| {
        let mut value = machine_claims();
        value[name] = claim;
        value
    };
    let cases = [
        ("rfc9068_2_2_sub_missing", without("sub"), "missing sub"),
        (
            "rfc9068_2_2_sub_empty",
            with("sub", json!("")),
            "malformed sub",
        ),
        (
            "rfc9068_2_2_sub_not_a_string",
            with("sub", json!(1)),
            "malformed sub",
        ),
        (
            "rfc9068_2_2_client_id_missing",
            without("client_id"),
            "missing client_id",
        ),
        (
            "rfc9068_2_2_client_id_not_a_string",
            with("client_id", json!(["a"])),
            "malformed client_id",
        ),
        ("rfc9068_2_2_iat_missing", without("iat"), "missing iat"),
        (
            "rfc7519_2_iat_not_a_date",
            with("iat", json!("now")),
            "invalid iat",
        ),
        (
            "rfc9068_2_2_3_scope_not_a_string",
            with("scope", json!(["view:users"])),
            "malformed scope",
        ),
        (
            "rfc6749_3_3_scope_bad_character",
            with("scope", json!("view\"users")),
            "malformed scope",
        ),
        (
            "roles_not_an_array",
            with("roles", json!("auditor")),
            "malformed roles",
        ),
        (
            "roles_without_role",
            with("roles", json!([{"division": "emea"}])),
            "malformed roles",
        ),
        (
            "auth_time_not_a_date",
            with("auth_time", json!("yesterday")),
            "invalid auth_time",
        ),
    ];
    for (name, value, reason) in cases {
        assert_eq!(claims::read(&claims(value)), Err(reason), "{name}");
    }
}

// ---- JWK Set ----------------------------------------------------------------------------

#[test]
fn rfc7517_5_jwks_keys_by_kid_skipping_unusable_ones() {
    let es = SigningKey::generate(SigningAlgorithm::ES256).unwrap();
    let ed = SigningKey::generate(SigningAlgorithm::EdDSA).unwrap();
    let mut renamed = es.public_key().jwk();
    renamed["kid"] = json!("not-the-thumbprint");
    let document = json!({"keys": [
        es.public_key().jwk(),
        {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
        renamed,
        {"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"},
        ed.public_key().jwk(),
        es.public_key().jwk(),
    ]});
    let keys = read_jwks(document.to_string().as_bytes()).unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[es.kid()].algorithm(), SigningAlgorithm::ES256);
    assert_eq!(keys[ed.kid()].algorithm(), SigningAlgorithm::EdDSA);
}

#[test]
fn jwks_without_usable_keys_or_not_a_jwks_is_a_failed_fetch() {
    for body in [
        r#"{"keys":[]}"#,
        r#"{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"#,
        r#"{"keys":{}}"#,
        r#"{"jwks":[]}"#,
        "<html>maintenance</html>",
    ] {
        assert!(read_jwks(body.as_bytes()).is_err(), "{body}");
    }
}

// ---- configuration ----------------------------------------------------------------------

const JWKS: &str = "https://id.example/oauth/jwks";

#[test]
fn build_checks_the_configuration() {
    let builder = || JwtValidator::builder("https://id.example", "api", JWKS);
    let cases = [
        (
            "empty_issuer",
            JwtValidator::builder("", "api", JWKS).build(),
            JwtConfigError::EmptyIssuer,
        ),
        (
            "empty_audience",
            JwtValidator::builder("https://id.example", "", JWKS).build(),
            JwtConfigError::EmptyAudience,
        ),
        (
            "http_not_loopback",
            JwtValidator::builder("https://id.example", "api", "http://id.example/jwks").build(),
            JwtConfigError::InsecureJwksUri,
        ),
        (
            "negative_leeway",
            builder().leeway(Duration::seconds(-1)).build(),
            JwtConfigError::NegativeLeeway,
        ),
        (
            "negative_refetch_interval",
            builder()
                .min_refetch_interval(Duration::seconds(-1))
                .build(),
            JwtConfigError::NegativeRefetchInterval,
        ),
        (
            "zero_max_age",
            builder().jwks_max_age(Duration::ZERO).build(),
            JwtConfigError::InvalidJwksMaxAge,
        ),
        (
            "max_age_shorter_than_refetch_interval",
            builder()
                .jwks_max_age(Duration::seconds(10))
                .min_refetch_interval(Duration::seconds(11))
                .build(),
            JwtConfigError::InvalidJwksMaxAge,
        ),
        (
            "zero_timeout",
            builder().timeout(Duration::ZERO).build(),
            JwtConfigError::InvalidTimeout,
        ),
    ];
    for (name, result, expected) in cases {
        assert_eq!(result.unwrap_err(), expected, "{name}");
    }
}

#[test]
fn jwks_uri_must_be_an_absolute_http_url_without_credentials() {
    for uri in [
        "id.example/oauth/jwks",
        "ftp://id.example/jwks",
        "https://user:pw@id.example/jwks",
        "file:///etc/jwks.json",
    ] {
        let err = JwtValidator::builder("https://id.example", "api", uri)
            .build()
            .unwrap_err();
        assert!(
            matches!(err, JwtConfigError::InvalidJwksUri { .. }),
            "{uri}: {err:?}"
        );
    }
}

#[test]
fn http_is_allowed_on_loopback_or_when_asked() {
    for uri in [
        "http://127.0.0.1:8080/oauth/jwks",
        "http://localhost/oauth/jwks",
        "http://[::1]:9000/oauth/jwks",
    ] {
        assert!(
            JwtValidator::builder("http://127.0.0.1:8080", "api", uri)
                .build()
                .is_ok(),
            "{uri}"
        );
    }
    assert!(
        JwtValidator::builder("http://id.internal", "api", "http://id.internal/oauth/jwks")
            .insecure_allow_http()
            .build()
            .is_ok()
    );
}

#[test]
fn loopback_hosts() {
    let loopback = |uri: &str| is_loopback(&reqwest::Url::parse(uri).unwrap());
    assert!(loopback("http://127.0.0.2/"));
    assert!(loopback("http://LOCALHOST/"));
    assert!(loopback("http://[::1]/"));
    assert!(!loopback("http://10.0.0.1/"));
    assert!(!loopback("http://localhost.example/"));
}

#[test]
fn debug_shows_configuration() {
    let validator = JwtValidator::builder("https://id.example", "api", JWKS)
        .build()
        .unwrap();
    let debug = format!("{validator:?}");
    assert!(debug.contains("https://id.example/oauth/jwks"), "{debug}");
    assert!(debug.contains("api"), "{debug}");
}
