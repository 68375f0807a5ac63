#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use serde_json::json;

use super::*;
use crate::test_keys::key;

const NOW: i64 = 1_700_000_000;
const URI: &str = "https://id.example/oauth/token";
const TOKEN: &str = "pc_at_the-access-token";

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(NOW).unwrap()
}

fn signer(algorithm: SigningAlgorithm) -> DpopSigner {
    DpopSigner::new(key(algorithm, 0).clone())
}

fn es256() -> DpopSigner {
    signer(SigningAlgorithm::ES256)
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn claims() -> Value {
    json!({"jti": "jti-1", "htm": "POST", "htu": URI, "iat": NOW})
}

fn expect() -> DpopExpectations {
    DpopExpectations::new("POST", URI, now())
}

/// A proof whose header and claims are edited from the good ones.
fn edited(edit_header: impl FnOnce(&mut Value), edit_claims: impl FnOnce(&mut Value)) -> String {
    let signer = es256();
    let mut header = signer.header();
    edit_header(&mut header);
    let mut claims = claims();
    edit_claims(&mut claims);
    signer.sign(&header, &claims).unwrap()
}

fn claims_edit(edit: impl FnOnce(&mut Value)) -> String {
    edited(|_| {}, edit)
}

fn header_edit(edit: impl FnOnce(&mut Value)) -> String {
    edited(edit, |_| {})
}

fn unsigned(header: &Value, claims: &Value, signature: &str) -> String {
    format!(
        "{}.{}.{signature}",
        b64(serde_json::to_vec(header).unwrap()),
        b64(serde_json::to_vec(claims).unwrap())
    )
}

#[test]
fn a_good_proof_verifies_with_every_algorithm() {
    let signers = [
        signer(SigningAlgorithm::ES256),
        signer(SigningAlgorithm::EdDSA),
        signer(SigningAlgorithm::RS256),
        DpopSigner::pss(key(SigningAlgorithm::RS256, 1).clone()).unwrap(),
    ];
    for signer in signers {
        let proof = signer
            .proof("POST", URI, now(), Some(TOKEN), Some("n-1"))
            .unwrap();
        let expect = expect()
            .with_access_token(TOKEN)
            .with_nonces(["n-0".to_owned(), "n-1".to_owned()])
            .with_bound_key(signer.thumbprint());
        let verified = DpopProof::verify(&proof, &expect)
            .unwrap_or_else(|err| panic!("{}: {err}", signer.algorithm()));
        assert_eq!(verified.jkt(), signer.thumbprint());
        assert_eq!(verified.algorithm(), signer.algorithm());
        assert_eq!(verified.issued_at(), now());
        assert_eq!(verified.nonce(), Some("n-1"));
        assert_eq!(verified.replay_expires_at(), now() + Duration::seconds(61));
    }
}

/// RS256 and PS256 signatures are not interchangeable: a PSS signature under `alg: RS256`
/// (and the reverse) fails.
#[test]
fn rsa_padding_follows_the_alg() {
    let pss = DpopSigner::pss(key(SigningAlgorithm::RS256, 0).clone()).unwrap();
    let mut header = pss.header();
    header["alg"] = "RS256".into();
    let pss_under_rs256 = pss.sign(&pss.header(), &claims()).unwrap();
    let (input, sig) = pss_under_rs256.rsplit_once('.').unwrap();
    let (_, payload) = input.split_once('.').unwrap();
    let relabelled = format!(
        "{}.{payload}.{sig}",
        b64(serde_json::to_vec(&header).unwrap())
    );
    assert_eq!(
        DpopProof::verify(&relabelled, &expect()),
        Err(DpopError::Signature)
    );
}

/// RFC 7638 §3.1's example, and agreement with the signing keys' own `kid`.
#[test]
fn thumbprints_follow_rfc_7638() {
    let jwk = json!({
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29"
    });
    assert_eq!(
        jwk_thumbprint(&jwk).unwrap(),
        "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    );
    for algorithm in SigningAlgorithm::ALL {
        let key = key(algorithm, 1);
        assert_eq!(jwk_thumbprint(&key.public_key().jwk()).unwrap(), key.kid());
    }
    assert!(jwk_thumbprint(&json!({"kty": "oct", "k": "c2VjcmV0"})).is_err());
    assert!(jwk_thumbprint(&json!({"kty": "EC", "crv": "P-256", "x": "AA"})).is_err());
    assert!(jwk_thumbprint(&json!("EC")).is_err());
}

/// RFC 9449 §7.1's example `ath`.
#[test]
fn ath_is_base64url_sha256_of_the_token() {
    assert_eq!(
        access_token_hash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
        "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
    );
}

/// §4.3 item 9: query and fragment are ignored, and both sides are normalised (RFC 3986
/// §6.2.2 case, §6.2.3 default port and empty path).
#[test]
fn htu_compares_after_normalisation() {
    let cases = [
        ("https://ID.example:443/oauth/token", URI),
        ("https://id.example/oauth/token?a=1#f", URI),
        (URI, "HTTPS://id.example/oauth/./token?x"),
        ("https://id.example", "https://id.example/"),
    ];
    for (htu, request) in cases {
        let proof = claims_edit(|c| c["htu"] = htu.into());
        let expect = DpopExpectations::new("POST", request, now());
        assert!(
            DpopProof::verify(&proof, &expect).is_ok(),
            "{htu} vs {request}"
        );
    }
    let different = [
        ("https://id.example/oauth/token/", URI),
        ("http://id.example/oauth/token", URI),
        ("https://id.example:8443/oauth/token", URI),
        ("https://other.example/oauth/token", URI),
        ("/oauth/token", URI),
        ("urn:example:token", "urn:example:token"),
    ];
    for (htu, request) in different {
        let proof = claims_edit(|c| c["htu"] = htu.into());
        let expect = DpopExpectations::new("POST", request, now());
        assert_eq!(
            DpopProof::verify(&proof, &expect),
            Err(DpopError::Uri),
            "{htu} vs {request}"
        );
    }
}

/// The `iat` window's edges: exactly `max_age` old and exactly `future_leeway` ahead are
/// accepted, one second more is not.
#[test]
fn iat_window_edges() {
    let at = |iat: i64| claims_edit(|c| c["iat"] = iat.into());
    assert!(DpopProof::verify(&at(NOW - 60), &expect()).is_ok());
    assert!(DpopProof::verify(&at(NOW + 5), &expect()).is_ok());
    assert_eq!(
        DpopProof::verify(&at(NOW - 61), &expect()),
        Err(DpopError::Stale)
    );
    assert_eq!(
        DpopProof::verify(&at(NOW + 6), &expect()),
        Err(DpopError::Future)
    );
    let wide = expect().with_iat_window(Duration::seconds(300), Duration::seconds(30));
    assert!(DpopProof::verify(&at(NOW - 300), &wide).is_ok());
    assert!(DpopProof::verify(&at(NOW + 30), &wide).is_ok());
    let fractional = claims_edit(|c| c["iat"] = json!(NOW as f64 + 0.5));
    assert!(DpopProof::verify(&fractional, &expect()).is_ok());
}

/// Without an access token (the token endpoint), `ath` is not required.
#[test]
fn ath_is_only_required_with_an_access_token() {
    let proof = es256().proof("POST", URI, now(), None, None).unwrap();
    assert!(DpopProof::verify(&proof, &expect()).is_ok());
    assert_eq!(
        DpopProof::verify(&proof, &expect().with_access_token(TOKEN)),
        Err(DpopError::AthMissing)
    );
}

/// Every refusal, each naming the RFC 9449 clause it enforces.
#[test]
fn bad_proofs_table() {
    let good = es256();
    let other = DpopSigner::new(key(SigningAlgorithm::ES256, 1).clone());
    let fresh = |signer: &DpopSigner| signer.proof("POST", URI, now(), None, None).unwrap();
    let with_token =
        |signer: &DpopSigner, token| signer.proof("POST", URI, now(), Some(token), None).unwrap();
    let private_jwk = {
        let mut header = good.header();
        header["jwk"]["d"] = "c2VjcmV0".into();
        good.sign(&header, &claims()).unwrap()
    };
    let tampered = {
        let proof = fresh(&good);
        let (input, _) = proof.rsplit_once('.').unwrap();
        let other_sig = fresh(&other);
        let (_, sig) = other_sig.rsplit_once('.').unwrap();
        format!("{input}.{sig}")
    };
    let foreign_key = {
        // Signed by `good` but carrying `other`'s public key.
        let mut header = good.header();
        header["jwk"] = other.jwk().clone();
        good.sign(&header, &claims()).unwrap()
    };
    let eddsa_key_es256_alg = {
        let ed = signer(SigningAlgorithm::EdDSA);
        let mut header = ed.header();
        header["alg"] = "ES256".into();
        ed.sign(&header, &claims()).unwrap()
    };
    let alg_none = unsigned(
        &json!({"typ": "dpop+jwt", "alg": "none", "jwk": good.jwk()}),
        &claims(),
        "",
    );
    let hs256 = unsigned(
        &json!({"typ": "dpop+jwt", "alg": "HS256", "jwk": {"kty": "oct", "k": "c2VjcmV0"}}),
        &claims(),
        &b64([0u8; 32]),
    );
    let nonce_expect = || expect().with_nonces(["n-now".to_owned()]);

    type Row = (&'static str, String, DpopExpectations, DpopError);
    let rows: Vec<Row> = vec![
        (
            "§4.3 item 2: not a JWT",
            "not-a-jwt".into(),
            expect(),
            malformed("not a compact JWS"),
        ),
        (
            "§4.3 item 2: four parts",
            format!("{}.x", fresh(&good)),
            expect(),
            malformed("not a compact JWS"),
        ),
        (
            "§4.3 item 2: over the size limit",
            "a".repeat(MAX_DPOP_PROOF_BYTES + 1),
            expect(),
            malformed("too long"),
        ),
        (
            "§4.3 item 4: typ missing",
            header_edit(|h| {
                h.as_object_mut().unwrap().remove("typ");
            }),
            expect(),
            DpopError::Typ,
        ),
        (
            "§4.3 item 4: typ JWT",
            header_edit(|h| h["typ"] = "JWT".into()),
            expect(),
            DpopError::Typ,
        ),
        (
            "§4.3 item 4: typ at+jwt",
            header_edit(|h| h["typ"] = "at+jwt".into()),
            expect(),
            DpopError::Typ,
        ),
        (
            "§4.3 item 5: alg none",
            alg_none,
            expect(),
            DpopError::Algorithm,
        ),
        (
            "§4.3 item 5: alg HS256 (symmetric)",
            hs256,
            expect(),
            DpopError::Algorithm,
        ),
        (
            "§4.3 item 5: alg not accepted by local policy",
            fresh(&good),
            expect().with_algorithms([DpopAlgorithm::EdDSA]),
            DpopError::Algorithm,
        ),
        (
            "§4.3 item 6: key type is not the alg's (item 5)",
            eddsa_key_es256_alg,
            expect(),
            DpopError::InvalidJwk {
                reason: "the key type is not the alg's",
            },
        ),
        (
            "§4.2: jwk missing",
            header_edit(|h| {
                h.as_object_mut().unwrap().remove("jwk");
            }),
            expect(),
            DpopError::MissingJwk,
        ),
        (
            "§4.2: jwk not an object",
            header_edit(|h| h["jwk"] = "key".into()),
            expect(),
            DpopError::MissingJwk,
        ),
        (
            "§4.3 item 7: jwk with a private key",
            private_jwk,
            expect(),
            DpopError::PrivateKey,
        ),
        (
            "§4.3 item 6: jwk not a point on the curve",
            header_edit(|h| h["jwk"]["y"] = b64([7u8; 32]).into()),
            expect(),
            DpopError::InvalidJwk {
                reason: "not a point on P-256",
            },
        ),
        (
            "§4.3 item 6: signature by another key",
            tampered,
            expect(),
            DpopError::Signature,
        ),
        (
            "§4.3 item 6: jwk is not the signer's key",
            foreign_key,
            expect(),
            DpopError::Signature,
        ),
        (
            "RFC 7515 §4.1.11: crit",
            header_edit(|h| h["crit"] = json!(["exp"])),
            expect(),
            DpopError::Critical,
        ),
        (
            "§4.3 item 3: jti missing",
            claims_edit(|c| {
                c.as_object_mut().unwrap().remove("jti");
            }),
            expect(),
            DpopError::MissingClaim { claim: "jti" },
        ),
        (
            "§4.3 item 3: htm missing",
            claims_edit(|c| {
                c.as_object_mut().unwrap().remove("htm");
            }),
            expect(),
            DpopError::MissingClaim { claim: "htm" },
        ),
        (
            "§4.3 item 3: htu missing",
            claims_edit(|c| {
                c.as_object_mut().unwrap().remove("htu");
            }),
            expect(),
            DpopError::MissingClaim { claim: "htu" },
        ),
        (
            "§4.3 item 3: iat missing",
            claims_edit(|c| {
                c.as_object_mut().unwrap().remove("iat");
            }),
            expect(),
            DpopError::MissingClaim { claim: "iat" },
        ),
        (
            "§4.2: jti not a string",
            claims_edit(|c| c["jti"] = 42.into()),
            expect(),
            DpopError::InvalidClaim { claim: "jti" },
        ),
        (
            "§4.2: iat not a number",
            claims_edit(|c| c["iat"] = "now".into()),
            expect(),
            DpopError::InvalidClaim { claim: "iat" },
        ),
        (
            "§4.3 item 8: htm GET for a POST",
            claims_edit(|c| c["htm"] = "GET".into()),
            expect(),
            DpopError::Method,
        ),
        (
            "§4.3 item 8: htm is case-sensitive",
            claims_edit(|c| c["htm"] = "post".into()),
            expect(),
            DpopError::Method,
        ),
        (
            "§4.3 item 9: htu of another endpoint",
            claims_edit(|c| c["htu"] = "https://id.example/oauth/userinfo".into()),
            expect(),
            DpopError::Uri,
        ),
        (
            "§4.3 item 10: nonce missing when required",
            fresh(&good),
            nonce_expect(),
            DpopError::NonceMissing,
        ),
        (
            "§4.3 item 10: nonce not current",
            claims_edit(|c| c["nonce"] = "n-old".into()),
            nonce_expect(),
            DpopError::NonceInvalid,
        ),
        (
            "§4.3 item 11: iat too old",
            claims_edit(|c| c["iat"] = (NOW - 3600).into()),
            expect(),
            DpopError::Stale,
        ),
        (
            "§4.3 item 11: iat in the future",
            claims_edit(|c| c["iat"] = (NOW + 3600).into()),
            expect(),
            DpopError::Future,
        ),
        (
            "§4.3 item 12: ath missing with an access token",
            fresh(&good),
            expect().with_access_token(TOKEN),
            DpopError::AthMissing,
        ),
        (
            "§4.3 item 12: ath of another token",
            with_token(&good, "pc_at_another"),
            expect().with_access_token(TOKEN),
            DpopError::AthMismatch,
        ),
        (
            "§4.3 item 12: key is not the token's",
            with_token(&other, TOKEN),
            expect()
                .with_access_token(TOKEN)
                .with_bound_key(good.thumbprint()),
            DpopError::KeyMismatch,
        ),
    ];
    assert!(rows.len() >= 12);
    for (clause, proof, expect, expected) in rows {
        let got = DpopProof::verify(&proof, &expect);
        assert_eq!(got, Err(expected.clone()), "{clause}");
        // The error's own clause agrees with the row's.
        let section = expected.clause().trim_start_matches("RFC 9449 ");
        assert!(
            clause.starts_with(section),
            "{clause} vs {}",
            expected.clause()
        );
    }
}

/// Repeated header members are refused (RFC 7515 §5.2 step 4 lets a verifier refuse them;
/// a proof must have exactly one `jwk`).
#[test]
fn repeated_header_members_are_malformed() {
    let signer = es256();
    let header = format!(
        r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{},"jwk":{}}}"#,
        signer.jwk(),
        signer.jwk()
    );
    let input = format!(
        "{}.{}",
        b64(header),
        b64(serde_json::to_vec(&claims()).unwrap())
    );
    let proof = format!("{input}.{}", b64([0u8; 64]));
    assert_eq!(
        DpopProof::verify(&proof, &expect()),
        Err(malformed("malformed header"))
    );
}

#[test]
fn debug_output_never_shows_secrets() {
    let expect = expect().with_access_token(TOKEN);
    assert!(!format!("{expect:?}").contains(TOKEN));
    let signer = es256();
    let shown = format!("{signer:?}");
    assert!(shown.contains(signer.thumbprint()));
    assert!(!shown.contains("pkcs8"));
}

/// Arbitrary input never panics.
#[test]
fn garbage_never_panics() {
    let inputs = [
        "",
        ".",
        "..",
        "...",
        "a.b.c",
        "eyJ9.eyJ9.",
        "e30.e30.",
        "e30.e30.e30",
        "\u{0}.\u{0}.\u{0}",
    ];
    for input in inputs {
        assert!(DpopProof::verify(input, &expect()).is_err(), "{input:?}");
    }
}
