#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::fmt::Debug;

use serde_json::json;

use super::*;
use crate::test_keys::key;
use crate::{KeySet, SigningKey};

const ISS: &str = "https://issuer.example";
const NOW: i64 = 1_700_000_000;

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(NOW).unwrap()
}

fn expect() -> JwtExpectations {
    JwtExpectations::new(ISS, now())
}

fn claims() -> Value {
    json!({"iss": ISS, "sub": "user-42", "aud": "client-1", "iat": NOW, "exp": NOW + 300})
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn reason<T: Debug>(result: Result<T, TokenError>) -> &'static str {
    match result {
        Err(TokenError::Jwt { reason }) => reason,
        other => panic!("expected a Jwt error, got {other:?}"),
    }
}

/// A way to verify a token.
type Verifier = Box<dyn Fn(&str, &JwtExpectations) -> Result<Value, TokenError>>;

/// Both ways to verify: one key, or a key set holding only that key.
fn verifiers(key: &'static SigningKey) -> [(&'static str, Verifier); 2] {
    let set = KeySet::new(key.clone());
    [
        (
            "public_key",
            Box::new(move |t, e| key.public_key().verify(t, e)),
        ),
        ("key_set", Box::new(move |t, e| set.verify(t, e))),
    ]
}

/// Every token-level case, for each algorithm and both verifiers.
#[test]
fn rfc7515_rfc7519_token_checks_per_algorithm() {
    for alg in SigningAlgorithm::ALL {
        let key = key(alg, 0);
        let other = crate::test_keys::key(alg, 1);
        let kid = key.kid();
        let good = key.sign(Some("at+jwt"), &claims()).unwrap();
        let (signing_input, signature) = good.rsplit_once('.').unwrap();
        let (header_b64, payload_b64) = signing_input.split_once('.').unwrap();

        let tampered_payload = {
            let mut claims = claims();
            claims["sub"] = json!("admin");
            format!("{header_b64}.{}.{signature}", b64(claims.to_string()))
        };
        let tampered_signature = {
            let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
            let middle = bytes.len() / 2;
            bytes[middle] ^= 0x01;
            format!("{signing_input}.{}", b64(bytes))
        };
        let none = format!(
            "{}.{payload_b64}.",
            b64(json!({"alg": "none", "kid": kid, "typ": "at+jwt"}).to_string())
        );
        let none_with_signature = format!(
            "{}.{payload_b64}.{signature}",
            b64(json!({"alg": "none", "kid": kid}).to_string())
        );
        // The classic confusion: HMAC keyed with the public key, which anyone can fetch.
        let hs256 = {
            let input = format!(
                "{}.{payload_b64}",
                b64(json!({"alg": "HS256", "kid": kid, "typ": "at+jwt"}).to_string())
            );
            let secret = key.public_key().jwk().to_string();
            let hmac_key =
                aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
            let tag = aws_lc_rs::hmac::sign(&hmac_key, input.as_bytes());
            format!("{input}.{}", b64(tag.as_ref()))
        };
        let lowercase_alg = format!(
            "{}.{payload_b64}.{signature}",
            b64(json!({"alg": alg.as_str().to_lowercase(), "kid": kid}).to_string())
        );
        let by_unknown_key = other.sign(Some("at+jwt"), &claims()).unwrap();
        let no_kid = key.sign_raw(
            &json!({"alg": alg.as_str(), "typ": "at+jwt"}).to_string(),
            &claims().to_string(),
        );
        let crit = key.sign_raw(
            &json!({"alg": alg.as_str(), "kid": kid, "crit": ["exp"], "exp": 1}).to_string(),
            &claims().to_string(),
        );
        let duplicate_alg = key.sign_raw(
            &format!(r#"{{"alg":"{}","kid":"{kid}","alg":"none"}}"#, alg.as_str()),
            &claims().to_string(),
        );
        let array_claims = key.sign_raw(
            &json!({"alg": alg.as_str(), "kid": kid}).to_string(),
            "[1,2]",
        );

        let cases: Vec<(&str, String, &str)> = vec![
            (
                "rfc7515_5_2_tampered_payload",
                tampered_payload,
                "invalid signature",
            ),
            (
                "rfc7515_5_2_tampered_signature",
                tampered_signature,
                "invalid signature",
            ),
            (
                "rfc7515_5_2_empty_signature",
                format!("{signing_input}."),
                "invalid signature",
            ),
            (
                "rfc7515_5_2_signature_not_base64url",
                format!("{signing_input}.+/="),
                "malformed signature",
            ),
            ("rfc8725_3_1_alg_none", none, "unsupported algorithm"),
            (
                "rfc8725_3_1_alg_none_with_signature",
                none_with_signature,
                "unsupported algorithm",
            ),
            (
                "rfc8725_3_1_hs256_with_public_key",
                hs256,
                "unsupported algorithm",
            ),
            (
                "rfc7515_4_1_1_alg_is_case_sensitive",
                lowercase_alg,
                "unsupported algorithm",
            ),
            ("rfc7515_4_1_4_unknown_kid", by_unknown_key, "unknown kid"),
            ("rfc7515_4_1_4_missing_kid", no_kid, "missing kid"),
            ("rfc7515_4_1_11_crit", crit, "unsupported critical header"),
            (
                "rfc7515_5_2_duplicate_header_member",
                duplicate_alg,
                "malformed header",
            ),
            (
                "rfc7519_7_2_claims_not_an_object",
                array_claims,
                "malformed claims",
            ),
            ("rfc7519_7_2_empty", String::new(), "not a compact JWS"),
            (
                "rfc7519_7_2_two_parts",
                format!("{header_b64}.{payload_b64}"),
                "not a compact JWS",
            ),
            (
                "rfc7519_7_2_four_parts",
                format!("{good}.x"),
                "not a compact JWS",
            ),
            (
                "rfc7516_jwe_five_parts",
                format!("{header_b64}.a.b.c.d"),
                "not a compact JWS",
            ),
            (
                "rfc7519_7_2_header_not_base64url",
                format!("!.{payload_b64}.{signature}"),
                "malformed header",
            ),
            (
                "rfc7519_7_2_header_not_json",
                format!("{}.{payload_b64}.{signature}", b64("alg")),
                "malformed header",
            ),
            (
                "rfc7519_7_2_header_without_alg",
                format!(
                    "{}.{payload_b64}.{signature}",
                    b64(json!({"kid": kid}).to_string())
                ),
                "malformed header",
            ),
            (
                "rfc7519_7_2_padded_header",
                format!("{header_b64}=.{payload_b64}.{signature}"),
                "malformed header",
            ),
        ];
        for (verifier, verify) in verifiers(key) {
            assert_eq!(verify(&good, &expect()).unwrap()["sub"], "user-42");
            for (name, token, expected) in &cases {
                let result = verify(token, &expect());
                assert_eq!(reason(result), *expected, "{alg} {verifier} case {name}");
            }
        }
    }
}

#[test]
fn rfc8725_3_1_alg_swapped_to_another_algorithm() {
    for alg in SigningAlgorithm::ALL {
        let key = key(alg, 0);
        let good = key.sign(None, &claims()).unwrap();
        let (_, rest) = good.split_once('.').unwrap();
        let everyone = KeySet::with_retired(
            key.clone(),
            SigningAlgorithm::ALL
                .into_iter()
                .filter(|other| *other != alg)
                .map(|other| crate::test_keys::key(other, 0).public_key().clone()),
        );
        for other in SigningAlgorithm::ALL.into_iter().filter(|o| *o != alg) {
            let swapped = format!(
                "{}.{rest}",
                b64(json!({"alg": other.as_str(), "kid": key.kid()}).to_string())
            );
            // The key does not do `other` at all: refused before any key lookup.
            assert_eq!(
                reason(key.public_key().verify::<Value>(&swapped, &expect())),
                "unsupported algorithm",
                "{alg} as {other}"
            );
            assert_eq!(
                reason(KeySet::new(key.clone()).verify::<Value>(&swapped, &expect())),
                "unsupported algorithm",
                "{alg} as {other}"
            );
            // The set does `other`, but the kid names a key of another algorithm.
            assert_eq!(
                reason(everyone.verify::<Value>(&swapped, &expect())),
                "algorithm does not match key",
                "{alg} as {other}"
            );
        }
    }
}

#[test]
fn algorithm_is_checked_before_the_kid() {
    let key = key(SigningAlgorithm::ES256, 0);
    let token = format!(
        "{}.{}.",
        b64(json!({"alg": "HS256", "kid": "no-such-key"}).to_string()),
        b64(claims().to_string())
    );
    let set = KeySet::new(key.clone());
    assert_eq!(
        reason(set.verify::<Value>(&token, &expect())),
        "unsupported algorithm"
    );
}

fn with_claim(name: &str, value: Value) -> Value {
    let mut claims = claims();
    claims[name] = value;
    claims
}

fn without_claim(name: &str) -> Value {
    let mut claims = claims();
    claims.as_object_mut().unwrap().remove(name);
    claims
}

#[test]
fn rfc7519_4_1_claim_checks() {
    let aud = |e: JwtExpectations| e.with_audience("client-1");
    let leeway = |e: JwtExpectations| e.with_leeway(Duration::seconds(30));
    let none = |e: JwtExpectations| e;
    #[allow(clippy::type_complexity)]
    let cases: Vec<(
        &str,
        Value,
        fn(JwtExpectations) -> JwtExpectations,
        Option<&str>,
    )> = vec![
        ("valid", claims(), none, None),
        (
            "rfc7519_4_1_1_wrong_issuer",
            with_claim("iss", json!("https://evil.example")),
            none,
            Some("wrong issuer"),
        ),
        (
            "rfc7519_4_1_1_issuer_trailing_slash",
            with_claim("iss", json!(format!("{ISS}/"))),
            none,
            Some("wrong issuer"),
        ),
        (
            "rfc7519_4_1_1_missing_issuer",
            without_claim("iss"),
            none,
            Some("wrong issuer"),
        ),
        (
            "rfc7519_4_1_1_issuer_not_string",
            with_claim("iss", json!([ISS])),
            none,
            Some("wrong issuer"),
        ),
        ("rfc7519_4_1_3_audience_string", claims(), aud, None),
        (
            "rfc7519_4_1_3_audience_in_array",
            with_claim("aud", json!(["api", "client-1"])),
            aud,
            None,
        ),
        (
            "rfc7519_4_1_3_wrong_audience",
            with_claim("aud", json!("client-2")),
            aud,
            Some("wrong audience"),
        ),
        (
            "rfc7519_4_1_3_audience_not_in_array",
            with_claim("aud", json!(["api", "client-2"])),
            aud,
            Some("wrong audience"),
        ),
        (
            "rfc7519_4_1_3_missing_audience",
            without_claim("aud"),
            aud,
            Some("wrong audience"),
        ),
        (
            "rfc7519_4_1_3_audience_not_checked_unless_asked",
            with_claim("aud", json!("client-2")),
            none,
            None,
        ),
        (
            "rfc7519_4_1_4_missing_exp",
            without_claim("exp"),
            none,
            Some("missing exp"),
        ),
        (
            "rfc7519_4_1_4_exp_not_a_number",
            with_claim("exp", json!("1700000300")),
            none,
            Some("invalid exp"),
        ),
        (
            "rfc7519_4_1_4_exp_out_of_range",
            with_claim("exp", json!(u64::MAX)),
            none,
            Some("invalid exp"),
        ),
        (
            "rfc7519_4_1_4_exp_equals_now",
            with_claim("exp", json!(NOW)),
            none,
            Some("expired"),
        ),
        (
            "rfc7519_4_1_4_exp_one_second_ahead",
            with_claim("exp", json!(NOW + 1)),
            none,
            None,
        ),
        (
            "rfc7519_4_1_4_exp_fraction_ahead",
            with_claim("exp", json!(NOW as f64 + 0.5)),
            none,
            None,
        ),
        (
            "rfc7519_4_1_4_exp_fraction_behind",
            with_claim("exp", json!(NOW as f64 - 0.5)),
            none,
            Some("expired"),
        ),
        (
            "rfc7519_4_1_4_exp_at_leeway_edge",
            with_claim("exp", json!(NOW - 30)),
            leeway,
            Some("expired"),
        ),
        (
            "rfc7519_4_1_4_exp_inside_leeway",
            with_claim("exp", json!(NOW - 29)),
            leeway,
            None,
        ),
        (
            "rfc7519_4_1_5_nbf_now",
            with_claim("nbf", json!(NOW)),
            none,
            None,
        ),
        (
            "rfc7519_4_1_5_nbf_one_second_ahead",
            with_claim("nbf", json!(NOW + 1)),
            none,
            Some("not yet valid"),
        ),
        (
            "rfc7519_4_1_5_nbf_at_leeway_edge",
            with_claim("nbf", json!(NOW + 30)),
            leeway,
            None,
        ),
        (
            "rfc7519_4_1_5_nbf_past_leeway",
            with_claim("nbf", json!(NOW + 31)),
            leeway,
            Some("not yet valid"),
        ),
        (
            "rfc7519_4_1_5_nbf_not_a_number",
            with_claim("nbf", json!(null)),
            none,
            Some("invalid nbf"),
        ),
        (
            "rfc7519_4_1_6_iat_now",
            with_claim("iat", json!(NOW)),
            none,
            None,
        ),
        (
            "rfc7519_4_1_6_iat_one_second_ahead",
            with_claim("iat", json!(NOW + 1)),
            none,
            Some("issued in the future"),
        ),
        (
            "rfc7519_4_1_6_iat_at_leeway_edge",
            with_claim("iat", json!(NOW + 30)),
            leeway,
            None,
        ),
        (
            "rfc7519_4_1_6_iat_past_leeway",
            with_claim("iat", json!(NOW + 31)),
            leeway,
            Some("issued in the future"),
        ),
        (
            "rfc7519_4_1_6_iat_optional",
            without_claim("iat"),
            none,
            None,
        ),
        (
            "rfc7519_4_1_6_iat_not_a_number",
            with_claim("iat", json!(true)),
            none,
            Some("invalid iat"),
        ),
    ];
    let key = key(SigningAlgorithm::ES256, 0);
    let set = KeySet::new(key.clone());
    for (name, claims, adjust, expected) in cases {
        let token = key.sign(None, &claims).unwrap();
        let expect = adjust(expect());
        let result = set.verify::<Value>(&token, &expect);
        match expected {
            None => assert_eq!(result.unwrap(), claims, "case {name}"),
            Some(expected) => assert_eq!(reason(result), expected, "case {name}"),
        }
    }
}

#[test]
fn negative_leeway_counts_as_zero() {
    let key = key(SigningAlgorithm::ES256, 0);
    let token = key.sign(None, &with_claim("exp", json!(NOW + 1))).unwrap();
    let expect = expect().with_leeway(Duration::seconds(-60));
    key.public_key().verify::<Value>(&token, &expect).unwrap();
}

#[test]
fn the_injected_clock_decides_not_the_system_clock() {
    let key = key(SigningAlgorithm::ES256, 0);
    // Expired long ago by the system clock; valid at the injected time.
    let token = key.sign(None, &claims()).unwrap();
    key.public_key().verify::<Value>(&token, &expect()).unwrap();
    // Valid by the system clock; expired at the injected time.
    let later = JwtExpectations::new(ISS, now() + Duration::days(1));
    assert_eq!(
        reason(key.public_key().verify::<Value>(&token, &later)),
        "expired"
    );
}

#[test]
fn rfc9068_4_typ_checks() {
    let key = key(SigningAlgorithm::ES256, 0);
    let at_jwt = key.sign(Some("at+jwt"), &claims()).unwrap();
    let plain = key.sign(Some("JWT"), &claims()).unwrap();
    let untyped = key.sign(None, &claims()).unwrap();
    let cases: [(&str, &String, Option<&str>, Option<&str>); 8] = [
        ("exact", &at_jwt, Some("at+jwt"), None),
        ("case_insensitive", &at_jwt, Some("AT+JWT"), None),
        (
            "application_prefix",
            &at_jwt,
            Some("application/at+jwt"),
            None,
        ),
        ("not_expected", &at_jwt, None, None),
        ("mismatch", &plain, Some("at+jwt"), Some("unexpected typ")),
        ("missing", &untyped, Some("at+jwt"), Some("unexpected typ")),
        (
            "id_token_as_access_token",
            &plain,
            Some("application/at+jwt"),
            Some("unexpected typ"),
        ),
        (
            "access_token_as_jwt",
            &at_jwt,
            Some("JWT"),
            Some("unexpected typ"),
        ),
    ];
    for (name, token, typ, expected) in cases {
        let mut expect = expect();
        expect.typ = typ.map(str::to_owned);
        let result = key.public_key().verify::<Value>(token, &expect);
        match expected {
            None => assert!(result.is_ok(), "case {name}: {result:?}"),
            Some(expected) => assert_eq!(reason(result), expected, "case {name}"),
        }
    }
}

#[test]
fn media_type_comparison() {
    assert!(media_type_eq("at+jwt", "application/at+jwt"));
    assert!(media_type_eq("Application/AT+JWT", "at+jwt"));
    assert!(!media_type_eq("at+jwt", "jwt"));
    assert!(!media_type_eq("application/", "at+jwt"));
    assert!(!media_type_eq("é", "at+jwt"));
}

#[test]
fn claims_deserialize_into_the_callers_type() {
    #[derive(Debug, Deserialize)]
    struct AccessClaims {
        sub: String,
        exp: i64,
    }
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Numeric {
        sub: u64,
    }
    let key = key(SigningAlgorithm::EdDSA, 0);
    let token = key.sign(None, &claims()).unwrap();
    let typed: AccessClaims = key.public_key().verify(&token, &expect()).unwrap();
    assert_eq!((typed.sub.as_str(), typed.exp), ("user-42", NOW + 300));
    assert_eq!(
        reason(key.public_key().verify::<Numeric>(&token, &expect())),
        "claims do not have the expected shape"
    );
}

#[test]
fn errors_never_echo_the_token() {
    let key = key(SigningAlgorithm::ES256, 0);
    let token = key
        .sign(None, &with_claim("iss", json!("https://evil.example")))
        .unwrap();
    let err = key
        .public_key()
        .verify::<Value>(&token, &expect())
        .unwrap_err();
    let text = format!("{err} {err:?}");
    assert_eq!(err.to_string(), "jwt rejected: wrong issuer");
    for part in token.split('.') {
        assert!(!text.contains(part));
    }
    assert!(!text.contains("evil"));
}
