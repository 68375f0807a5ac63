#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_tokens::{JwtExpectations, SigningAlgorithm, SigningKey};
use serde_json::json;
use time::Duration;

use super::*;

const ISSUER: &str = "https://id.example";

fn at(seconds: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(seconds).unwrap()
}

fn id_token() -> IdToken {
    IdToken::new(
        Subject::new("user-1").unwrap(),
        ClientId::new("web-app").unwrap(),
        at(1_700_000_000),
    )
}

fn header(jwt: &str) -> Value {
    let header = jwt.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap()
}

#[test]
fn oidc_core_2_required_claims_and_nothing_optional() {
    let settings = IssuerSettings::new(ISSUER);
    let set = id_token().claims_set(&settings, SigningAlgorithm::ES256);
    assert_eq!(
        Value::Object(set),
        json!({
            "iss": ISSUER,
            "sub": "user-1",
            "aud": "web-app",
            "iat": 1_700_000_000,
            "exp": 1_700_003_600,
        })
    );
}

#[test]
fn oidc_core_2_optional_claims_when_given() {
    let mut settings = IssuerSettings::new(ISSUER);
    settings.id_token_lifetime = Duration::minutes(5);
    let set = id_token()
        .auth_time(Some(at(1_699_999_000)))
        .nonce(Some("n-0S6_WzA2Mj"))
        .amr(["pwd"])
        .claims_set(&settings, SigningAlgorithm::ES256);
    assert_eq!(set["exp"], 1_700_000_300);
    assert_eq!(set["auth_time"], 1_699_999_000);
    assert_eq!(set["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(set["amr"], json!(["pwd"]));
    assert!(!set.contains_key("azp"), "one audience: no azp");
}

#[test]
fn oidc_core_3_1_3_6_and_3_3_2_11_hashes_use_the_key_algorithm() {
    let settings = IssuerSettings::new(ISSUER);
    for alg in SigningAlgorithm::ALL {
        let set = id_token()
            .access_token("pc_at_token")
            .code("pc_ac_code")
            .claims_set(&settings, alg);
        assert_eq!(set["at_hash"], oidc_hash(alg, "pc_at_token"), "{alg}");
        assert_eq!(set["c_hash"], oidc_hash(alg, "pc_ac_code"), "{alg}");
    }
}

#[test]
fn oidc_core_5_4_user_claims_never_override_protocol_claims() {
    let settings = IssuerSettings::new(ISSUER);
    let mut claims = Map::new();
    for name in PROTOCOL_CLAIMS {
        claims.insert(name.into(), json!("forged"));
    }
    claims.insert("email".into(), json!("alice@example.com"));
    let set = id_token()
        .claims(claims)
        .claims_set(&settings, SigningAlgorithm::ES256);
    assert_eq!(set["email"], "alice@example.com");
    assert_eq!(set["sub"], "user-1");
    assert_eq!(set["iss"], ISSUER);
    for absent in [
        "nonce",
        "auth_time",
        "at_hash",
        "c_hash",
        "amr",
        "azp",
        "acr",
        "jti",
    ] {
        assert!(!set.contains_key(absent), "{absent} was forged in");
    }
}

#[test]
fn oidc_core_10_1_signed_by_the_active_key_without_typ() {
    let settings = IssuerSettings::new(ISSUER);
    for alg in SigningAlgorithm::ALL {
        let keys = KeySet::new(SigningKey::generate(alg).unwrap());
        let now = OffsetDateTime::now_utc();
        let jwt = IdToken::new(
            Subject::new("user-1").unwrap(),
            ClientId::new("web-app").unwrap(),
            now,
        )
        .sign(&settings, &keys)
        .unwrap();
        let header = header(&jwt);
        assert_eq!(header["alg"], alg.as_str());
        assert_eq!(header["kid"], keys.active().kid());
        assert!(header.get("typ").is_none(), "{header}");
        let claims: Value = keys
            .verify(
                &jwt,
                &JwtExpectations::new(ISSUER, now).with_audience("web-app"),
            )
            .unwrap();
        assert_eq!(claims["sub"], "user-1");
    }
}
