#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::type_complexity)] // case tables read best as tuples
use serde_json::json;

use super::*;

const CLIENT: &str = "reports";
const MAX: Duration = Duration::minutes(10);

fn audiences() -> [String; 3] {
    [
        "https://id.example".to_owned(),
        "https://id.example/oauth/token".to_owned(),
        "https://id.example/oauth/par".to_owned(),
    ]
}

/// Good claims at `now`, with `change` applied (`null` removes a claim).
fn claims(now: OffsetDateTime, change: Value) -> Map<String, Value> {
    let t = now.unix_timestamp();
    let mut claims = json!({
        "iss": CLIENT,
        "sub": CLIENT,
        "aud": "https://id.example/oauth/token",
        "exp": t + 120,
        "iat": t,
        "jti": "jti-1",
    });
    for (name, value) in change.as_object().unwrap() {
        if value.is_null() {
            claims.as_object_mut().unwrap().remove(name);
        } else {
            claims[name] = value.clone();
        }
    }
    match claims {
        Value::Object(map) => map,
        _ => unreachable!(),
    }
}

#[test]
fn rfc7523_3_claims_table() {
    let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
    let t = now.unix_timestamp();
    let cases: [(&str, Value, Result<(), &str>); 24] = [
        ("good", json!({}), Ok(())),
        (
            "§3 item 3: the issuer as aud",
            json!({"aud": "https://id.example"}),
            Ok(()),
        ),
        (
            "RFC 9126 §2: the PAR endpoint as aud",
            json!({"aud": "https://id.example/oauth/par"}),
            Ok(()),
        ),
        (
            "§3 item 3: aud array",
            json!({"aud": ["https://x.example", "https://id.example"]}),
            Ok(()),
        ),
        (
            "§3 item 3: wrong aud",
            json!({"aud": "https://other.example/token"}),
            Err("aud does not name this authorization server"),
        ),
        (
            "§3 item 3: no aud",
            json!({"aud": null}),
            Err("aud does not name this authorization server"),
        ),
        (
            "§3 item 3: aud not a string",
            json!({"aud": 7}),
            Err("aud does not name this authorization server"),
        ),
        (
            "§3 item 1: iss is another client",
            json!({"iss": "other"}),
            Err("iss is not the client id"),
        ),
        (
            "§3 item 2: sub is another client",
            json!({"sub": "other"}),
            Err("sub is not the client id"),
        ),
        (
            "§3 item 2: no sub",
            json!({"sub": null}),
            Err("sub is not the client id"),
        ),
        ("§3 item 4: no exp", json!({"exp": null}), Err("no exp")),
        ("§3 item 4: expired", json!({"exp": t - 61}), Err("expired")),
        (
            "§3 item 4: expired within leeway",
            json!({"exp": t - 30}),
            Ok(()),
        ),
        (
            "§3 item 4: exp not a number",
            json!({"exp": "soon"}),
            Err("a time claim is not a NumericDate"),
        ),
        (
            "lifetime too long",
            json!({"exp": t + 11 * 60 + 1}),
            Err("exp is too far in the future"),
        ),
        ("lifetime at the bound", json!({"exp": t + 11 * 60}), Ok(())),
        (
            "§3 item 5: nbf in the future",
            json!({"nbf": t + 61}),
            Err("not yet valid"),
        ),
        (
            "§3 item 6: iat in the future",
            json!({"iat": t + 61}),
            Err("iat is in the future"),
        ),
        (
            "§3 item 6: iat too old",
            json!({"iat": t - 11 * 60 - 1}),
            Err("iat is too old"),
        ),
        ("§3 item 6: no iat", json!({"iat": null}), Ok(())),
        (
            "lifetime from iat too long",
            json!({"iat": t - 9 * 60, "exp": t + 9 * 60}),
            Err("the lifetime from iat to exp is too long"),
        ),
        (
            "lifetime from iat at the bound",
            json!({"iat": t - 5 * 60, "exp": t + 6 * 60}),
            Ok(()),
        ),
        ("§3 item 7: no jti", json!({"jti": null}), Err("no jti")),
        ("§3 item 7: empty jti", json!({"jti": ""}), Err("no jti")),
    ];
    for (name, change, expected) in cases {
        let got = check_claims(&claims(now, change), CLIENT, &audiences(), MAX, now).map(|_| ());
        assert_eq!(got, expected, "case {name}");
    }
    let checked = check_claims(&claims(now, json!({})), CLIENT, &audiences(), MAX, now).unwrap();
    assert_eq!(checked.jti, "jti-1");
    assert_eq!(checked.exp.unix_timestamp(), t + 120);
}

fn hs(alg: &str, secret: &[u8], header_extra: Value, claims: &Value) -> String {
    let mut header = json!({"alg": alg, "typ": "JWT"});
    for (name, value) in header_extra.as_object().unwrap() {
        header[name] = value.clone();
    }
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap()),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap())
    );
    let algorithm = match alg {
        "HS384" => hmac::HMAC_SHA384,
        "HS512" => hmac::HMAC_SHA512,
        _ => hmac::HMAC_SHA256,
    };
    let tag = hmac::sign(&hmac::Key::new(algorithm, secret), input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

#[test]
fn client_secret_jwt_mac_table() {
    let secret = b"the client secret";
    let body = json!({"iss": CLIENT, "sub": CLIENT});
    let good = hs("HS256", secret, json!({}), &body);
    let unsigned = {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#);
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&body).unwrap());
        format!("{header}.{payload}.")
    };
    let tampered = {
        let (input, tag) = good.rsplit_once('.').unwrap();
        let (header, _) = input.split_once('.').unwrap();
        let other = URL_SAFE_NO_PAD.encode(br#"{"iss":"reports","sub":"admin"}"#);
        format!("{header}.{other}.{tag}")
    };
    let cases: [(&str, String, bool); 9] = [
        ("HS256", good.clone(), true),
        ("HS384", hs("HS384", secret, json!({}), &body), true),
        ("HS512", hs("HS512", secret, json!({}), &body), true),
        (
            "wrong secret",
            hs("HS256", b"another secret", json!({}), &body),
            false,
        ),
        ("alg none (RFC 8725 §3.1)", unsigned, false),
        (
            "alg says HS384, MAC is HS256",
            {
                let mut token = hs("HS256", secret, json!({}), &body);
                let (_, rest) = token.split_once('.').unwrap();
                token = format!("{}.{rest}", URL_SAFE_NO_PAD.encode(br#"{"alg":"HS384"}"#));
                token
            },
            false,
        ),
        (
            "asymmetric alg refused",
            hs("HS256", secret, json!({"alg": "RS256"}), &body),
            false,
        ),
        (
            "crit refused (RFC 7515 §4.1.11)",
            hs("HS256", secret, json!({"crit": ["exp"]}), &body),
            false,
        ),
        ("claims altered", tampered, false),
    ];
    for (name, token, ok) in cases {
        let header = Header::peek(&token).unwrap();
        let verified = verify_hmac(&token, &header, secret);
        assert_eq!(verified.is_some(), ok, "case {name}");
        if ok {
            assert_eq!(verified.unwrap()["sub"], CLIENT);
        }
    }
}

#[test]
fn headers_that_are_not_compact_jws_are_refused() {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256"}"#);
    let cases = [
        "",
        "a.b",
        "a.b.c.d",
        &format!("{header}.e30"),
        &format!("{}.e30.sig", URL_SAFE_NO_PAD.encode(b"not json")),
        &format!(
            "{}.e30.sig",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","alg":"none"}"#)
        ),
        &format!("{}.e30.sig", URL_SAFE_NO_PAD.encode(br#"{"kid":"k"}"#)),
    ];
    for case in cases {
        assert!(Header::peek(case).is_none(), "{case:?}");
    }
    assert!(Header::peek(&format!("{header}.e30.sig")).is_some());
}
