#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use serde_json::json;
use time::OffsetDateTime;

use super::*;
use crate::test_keys::key;

const ISS: &str = "https://issuer.example";

fn claims() -> Value {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    json!({"iss": ISS, "sub": "user-42", "iat": now, "exp": now + 300})
}

fn expect() -> JwtExpectations {
    JwtExpectations::new(ISS, OffsetDateTime::now_utc())
}

/// RFC 7638 §3.1's example RSA public key (from RFC 7517 Appendix A.1).
fn rfc7638_jwk() -> Value {
    json!({
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
    })
}

#[test]
fn algorithm_names_are_the_jose_names() {
    assert_eq!(SigningAlgorithm::default(), SigningAlgorithm::ES256);
    for alg in SigningAlgorithm::ALL {
        assert_eq!(alg.as_str().parse::<SigningAlgorithm>(), Ok(alg));
        assert_eq!(alg.to_string(), alg.as_str());
        let json = serde_json::to_string(&alg).unwrap();
        assert_eq!(json, format!("\"{}\"", alg.as_str()));
        assert_eq!(
            serde_json::from_str::<SigningAlgorithm>(&json).unwrap(),
            alg
        );
    }
    for refused in [
        "none", "HS256", "es256", "EDDSA", "RS384", "PS256", " ES256", "",
    ] {
        assert_eq!(
            refused.parse::<SigningAlgorithm>(),
            Err(ParseSigningAlgorithmError),
            "{refused:?}"
        );
        assert!(serde_json::from_value::<SigningAlgorithm>(json!(refused)).is_err());
    }
}

#[test]
fn generate_sign_verify_round_trip_per_algorithm() {
    for alg in SigningAlgorithm::ALL {
        let key = key(alg, 0);
        assert_eq!(key.algorithm(), alg);
        assert_eq!(key.public_key().algorithm(), alg);
        assert_eq!(key.kid().len(), 43, "{alg}: SHA-256 thumbprint, base64url");
        assert_ne!(key.kid(), crate::test_keys::key(alg, 1).kid());

        let jwt = key.sign(Some("at+jwt"), &claims()).unwrap();
        let verified: Value = key.public_key().verify(&jwt, &expect()).unwrap();
        assert_eq!(verified["sub"], "user-42", "{alg}");

        let header: Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(jwt.split('.').next().unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            header,
            json!({"alg": alg.as_str(), "kid": key.kid(), "typ": "at+jwt"})
        );
    }
}

#[test]
fn sign_without_typ_omits_it() {
    let key = key(SigningAlgorithm::ES256, 0);
    let jwt = key.sign(None, &claims()).unwrap();
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(jwt.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header, json!({"alg": "ES256", "kid": key.kid()}));
}

#[test]
fn rfc7519_7_1_claims_must_be_a_json_object() {
    let key = key(SigningAlgorithm::ES256, 0);
    for claims in [json!([1, 2]), json!("text"), json!(null), json!(7)] {
        match key.sign(None, &claims) {
            Err(TokenError::Jwt { reason }) => assert_eq!(reason, "claims are not a JSON object"),
            other => panic!("{claims}: {other:?}"),
        }
    }
}

#[test]
fn from_pkcs8_round_trip_per_algorithm() {
    for alg in SigningAlgorithm::ALL {
        let original = key(alg, 0);
        let loaded = SigningKey::from_pkcs8(alg, original.pkcs8_der()).unwrap();
        assert_eq!(loaded.kid(), original.kid(), "{alg}");
        assert_eq!(loaded.public_key(), original.public_key(), "{alg}");
        assert_eq!(loaded.pkcs8_der(), original.pkcs8_der(), "{alg}");
        // The loaded key signs what the original's public key verifies, and vice versa.
        let jwt = loaded.sign(None, &claims()).unwrap();
        original
            .public_key()
            .verify::<Value>(&jwt, &expect())
            .unwrap();
        let jwt = original.sign(None, &claims()).unwrap();
        loaded
            .public_key()
            .verify::<Value>(&jwt, &expect())
            .unwrap();
    }
}

#[test]
fn from_pkcs8_refuses_a_key_for_another_algorithm() {
    for alg in SigningAlgorithm::ALL {
        for other in SigningAlgorithm::ALL {
            if other == alg {
                continue;
            }
            match SigningKey::from_pkcs8(other, key(alg, 0).pkcs8_der()) {
                Err(TokenError::Key { .. }) => {}
                result => panic!("{alg} key loaded as {other}: {result:?}"),
            }
        }
        for garbage in [&b""[..], b"\x30\x03\x02\x01\x00", b"not a key"] {
            assert!(matches!(
                SigningKey::from_pkcs8(alg, garbage),
                Err(TokenError::Key { .. })
            ));
        }
        // A truncated key is refused too.
        let der = key(alg, 0).pkcs8_der();
        assert!(SigningKey::from_pkcs8(alg, &der[..der.len() - 1]).is_err());
    }
}

#[test]
fn rsa_pkcs8_is_carried_to_jsonwebtoken_through_pem() {
    let pem = pkcs8_pem(key(SigningAlgorithm::RS256, 0).pkcs8_der());
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    assert!(pem.ends_with("\n-----END PRIVATE KEY-----\n"));
    assert!(pem.lines().all(|line| line.len() <= 64));
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    assert_eq!(
        STANDARD.decode(body).unwrap(),
        key(SigningAlgorithm::RS256, 0).pkcs8_der()
    );
}

#[test]
fn rfc7517_jwk_has_only_public_members() {
    let private_members = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
    let expected_members: [(SigningAlgorithm, &[&str]); 3] = [
        (
            SigningAlgorithm::ES256,
            &["alg", "crv", "kid", "kty", "use", "x", "y"],
        ),
        (
            SigningAlgorithm::EdDSA,
            &["alg", "crv", "kid", "kty", "use", "x"],
        ),
        (
            SigningAlgorithm::RS256,
            &["alg", "e", "kid", "kty", "n", "use"],
        ),
    ];
    for (alg, members) in expected_members {
        let jwk = key(alg, 0).public_key().jwk();
        let names: Vec<&str> = jwk
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(names, members, "{alg}");
        for private in private_members {
            assert!(jwk.get(private).is_none(), "{alg} publishes {private}");
        }
        assert_eq!(jwk["kid"], key(alg, 0).kid());
        assert_eq!(jwk["alg"], alg.as_str());
        assert_eq!(jwk["use"], "sig");
    }
    let rsa = key(SigningAlgorithm::RS256, 0).public_key().jwk();
    assert_eq!(rsa["e"], "AQAB");
    assert_eq!(
        URL_SAFE_NO_PAD
            .decode(rsa["n"].as_str().unwrap())
            .unwrap()
            .len(),
        256
    );
}

#[test]
fn from_jwk_reads_back_a_key_that_verifies_its_tokens() {
    for alg in SigningAlgorithm::ALL {
        let key = key(alg, 0);
        let public = PublicKey::from_jwk(&key.public_key().jwk()).unwrap();
        assert_eq!(&public, key.public_key());
        assert_eq!(public.kid(), key.kid());
        assert_eq!(public.algorithm(), alg);
        let jwt = key.sign(None, &claims()).unwrap();
        let verified: Value = public.verify(&jwt, &expect()).unwrap();
        assert_eq!(verified["iss"], ISS);
    }
}

#[test]
fn from_jwk_ignores_private_members_and_never_republishes_them() {
    let mut jwk = key(SigningAlgorithm::ES256, 0).public_key().jwk();
    jwk["d"] = json!("c2VjcmV0");
    let public = PublicKey::from_jwk(&jwk).unwrap();
    assert!(public.jwk().get("d").is_none());
}

#[test]
fn from_jwk_accepts_a_jwk_without_optional_members() {
    for alg in SigningAlgorithm::ALL {
        let mut jwk = key(alg, 0).public_key().jwk();
        let members = jwk.as_object_mut().unwrap();
        members.remove("kid");
        members.remove("alg");
        members.remove("use");
        assert_eq!(PublicKey::from_jwk(&jwk).unwrap().kid(), key(alg, 0).kid());
    }
}

#[test]
fn rfc7638_3_1_thumbprint_of_the_example_key() {
    let key = PublicKey::from_jwk(&rfc7638_jwk()).unwrap();
    assert_eq!(key.kid(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    assert_eq!(key.algorithm(), SigningAlgorithm::RS256);
    // The example's own "kid" is not its thumbprint, so it is refused as a key id.
    let mut with_kid = rfc7638_jwk();
    with_kid["kid"] = json!("2011-04-29");
    assert!(matches!(
        PublicKey::from_jwk(&with_kid),
        Err(TokenError::Key {
            reason: "JWK kid is not its RFC 7638 thumbprint"
        })
    ));
    with_kid["kid"] = json!("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    assert_eq!(PublicKey::from_jwk(&with_kid).unwrap(), key);
}

#[test]
fn from_jwk_refuses_unsupported_or_invalid_keys() {
    let ec = key(SigningAlgorithm::ES256, 0).public_key().jwk();
    let okp = key(SigningAlgorithm::EdDSA, 0).public_key().jwk();
    let with = |base: &Value, name: &str, value: Value| {
        let mut jwk = base.clone();
        jwk[name] = value;
        jwk
    };
    let without = |base: &Value, name: &str| {
        let mut jwk = base.clone();
        jwk.as_object_mut().unwrap().remove(name);
        jwk
    };
    let mut off_curve_y = URL_SAFE_NO_PAD.decode(ec["y"].as_str().unwrap()).unwrap();
    off_curve_y[31] ^= 1;
    let short_n = URL_SAFE_NO_PAD.encode([0xc5u8; 128]);
    let padded_n = {
        let mut n = vec![0u8];
        n.extend(
            URL_SAFE_NO_PAD
                .decode(rfc7638_jwk()["n"].as_str().unwrap())
                .unwrap(),
        );
        URL_SAFE_NO_PAD.encode(n)
    };

    let cases: Vec<(&str, Value, &str)> = vec![
        ("not_an_object", json!(["EC"]), "a JWK is a JSON object"),
        (
            "no_kty",
            without(&ec, "kty"),
            "a required JWK member is missing",
        ),
        (
            "kty_not_string",
            with(&ec, "kty", json!(1)),
            "a JWK member is not a string",
        ),
        (
            "symmetric_oct",
            json!({"kty": "oct", "k": "c2VjcmV0"}),
            "unsupported key type",
        ),
        (
            "ec_p384",
            with(&ec, "crv", json!("P-384")),
            "unsupported elliptic curve",
        ),
        (
            "okp_x25519",
            with(&okp, "crv", json!("X25519")),
            "unsupported OKP curve",
        ),
        (
            "ec_missing_y",
            without(&ec, "y"),
            "a required JWK member is missing",
        ),
        (
            "ec_x_not_base64url",
            with(&ec, "x", json!("a+b/")),
            "a JWK member is not base64url",
        ),
        (
            "ec_x_padded",
            with(&ec, "x", json!(format!("{}=", ec["x"].as_str().unwrap()))),
            "a JWK member is not base64url",
        ),
        (
            "ec_x_short",
            with(&ec, "x", json!("AAAA")),
            "P-256 coordinates are 32 bytes",
        ),
        (
            "ec_off_curve",
            with(&ec, "y", json!(URL_SAFE_NO_PAD.encode(off_curve_y))),
            "not a point on P-256",
        ),
        (
            "okp_x_short",
            with(&okp, "x", json!("AAAA")),
            "Ed25519 public keys are 32 bytes",
        ),
        (
            "rsa_1024_bits",
            with(&rfc7638_jwk(), "n", json!(short_n)),
            "RSA modulus must be 2048 to 8192 bits",
        ),
        (
            "rsa_leading_zero",
            with(&rfc7638_jwk(), "n", json!(padded_n)),
            "RSA parameters must be minimal big-endian integers",
        ),
        (
            "rsa_alg_ps256",
            with(&rfc7638_jwk(), "alg", json!("PS256")),
            "JWK alg is not supported for its key type",
        ),
        (
            "ec_alg_es384",
            with(&ec, "alg", json!("ES384")),
            "JWK alg is not supported for its key type",
        ),
        (
            "ec_alg_none",
            with(&ec, "alg", json!("none")),
            "JWK alg is not supported for its key type",
        ),
        (
            "use_enc",
            with(&ec, "use", json!("enc")),
            "JWK is not a signature key",
        ),
        (
            "kid_of_another_key",
            with(&ec, "kid", okp["kid"].clone()),
            "JWK kid is not its RFC 7638 thumbprint",
        ),
    ];
    for (name, jwk, expected) in cases {
        match PublicKey::from_jwk(&jwk) {
            Err(TokenError::Key { reason }) => assert_eq!(reason, expected, "case {name}"),
            other => panic!("case {name}: {other:?}"),
        }
    }
}

#[test]
fn debug_redacts_the_private_key() {
    for alg in SigningAlgorithm::ALL {
        let key = key(alg, 0);
        let debug = format!("{key:?}");
        assert_eq!(
            debug,
            format!(
                "SigningKey {{ algorithm: {alg:?}, kid: {:?}, private_key: \"<redacted>\" }}",
                key.kid()
            )
        );
        assert_eq!(
            format!("{:?}", key.public_key()),
            format!("PublicKey {{ algorithm: {alg:?}, kid: {:?} }}", key.kid())
        );
    }
}

// Keys generated by OpenSSL 3.0 (`openssl genpkey`, then `openssl pkcs8 -topk8 -nocrypt`),
// base64: PKCS#8 produced by another implementation must load and sign.
const OPENSSL_P256_PKCS8: &str = concat!(
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgHxIgswoaRAdBCvpPN79hBgKMuWpJk5fI4QYYJia/",
    "aUWhRANCAASipMeX9nRrC27kg3xYohSeU9CTh786G/LO2q2abapxVXyDPPxRfMVrlFaagmNVPplwb9xChazLOI5B",
    "w2l0LDIN",
);
const OPENSSL_ED25519_PKCS8_V1: &str =
    "MC4CAQAwBQYDK2VwBCIEICDg2xtACKBoF6PRAEN7tgHCv4N3AyXkjPeZm2+ptjio";
const OPENSSL_RSA2048_PKCS8: &str = concat!(
    "MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQC9rvchCdlfz7qfDjquURjqwtebuj4ussi3GATB",
    "Ef2CS1q1SGA8hfs3I6DOxK/7kukSzorNFn/DyRYk4px8LUswSF5Nmm5Yol3Da1G5mrnKWyY6O/cdAiZX+t8to2Q3",
    "tGSVXsIEk0ACkSnwOOn99zyZwm3di0twTBvWgmQDCn+nNS5tTZTXT1kjpysEI0lCc/+r31kJ3G2rmLKuvakx4aNt",
    "Ede/JNZtniqnY7wK5LZTFNsK0KNQCTaGvtkDW1G9DKh5k/zKmZ6b+GDq2WNxQBa8S2xaSfGCB49MB8qDicdC/aso",
    "CerPF7cdqphOZStQQNGQSv65p2dXpwlnsWCjvdwHAgMBAAECggEAVHDqdRvEWEHKi3ozJ1zU4dWhVCMiAXn3noKj",
    "wyt2FqXjGKbCqM7gWdiTgtjOmwj4lzW5Vrl4YTlIkV0MWr9zJGhjCtr/2pdVdGR3OlAl+25+YxhE1vYZCbuV1ORS",
    "/fVhfZl0d8LxkPL8n4NGr5d7s9t5O1ICYFiRX/ol+bCXyWA/gglBBzGnvSCSNxmJTZY0p8lrdc+JqTVascmFGEcN",
    "HMObPnX00i0HG1n8+aFpRVAKLcl8ucrQLkxm/qoaOCOCpaNFxO8j5encjLCWad4eYPiVmiDpa17a6R/d3R2X5Bl/",
    "Plt033LDA3B7Qb57lSkdSo6y5zlJirks7MFzmQr/KQKBgQDwGbKeQ59zZQtGD1HbW6qwD96xj4S/pv8IyX/bsnTZ",
    "SuIk0mwXbxaAUk+DVIZnTWRYKkH86Mauyantwx84G/nyDhJXbuabFGmZFvIJYMZ4wZiwGN2d4gcJOtEUwZNVmgqT",
    "bRY+xi6hh+BqCbVHVEPD3Qo1ISyJwwUKuvTDniNaTQKBgQDKPpMZveDaCoY+jFl1fZC0I/TDLWpQHTIG+/3+nrSL",
    "jfD6Tka8GPOigIV5D2R4Jr/ly4/877Wi2es4JHiRMLUdjARkqTcXUNvYGZB5Jh4PdfttnqqspmV28t97P6EF2USh",
    "42EUt5BlIBvZU+5PegwtUW77XbSsxqaUCYZ2RM1RowKBgCMI7OpxHaQ9+04m0B/9GUQFnM42Df3VRWOn23NYb/qB",
    "Fcyfs8wblqH04MteGxqZzWmcCPL5mHxKyvP5w+VxF6C9cum1MgsxCFOhaIH70BowzbHsfvIZ2EL9hSLNOE2GY8Kt",
    "aVCRpJ5HcHSoo/4biqPa7jFgfNpBTcwKCcs9mRUFAoGBAJPG+1dw3e6UiBkGFov6DxUBvOQsuCUH4DkoQiSdtJDQ",
    "S4eqUJc6qDNSM7UMoT4GGmv/vRt10EPJdc1VIN/+Nij72W3wEzgvNiSGMYHEb2yeqfQkXtO+1h7/QnrdOHx8kGC2",
    "M4aexpyNxKudX2GlbWZjvXNguhcRJEDBYQXkKh5/AoGBAK7zp5Jm7H7pCARCK8LlYP7hx8785knkOUxliLCkMeQ8",
    "MjqpYry3SXpch/ExthT+NAfQp7MXXUpLZ6UK8g32mJ8ZajKwGbSYcUIYu+KwrazAz7MCNn/OqMKTlvTuK13dffmr",
    "OMioSeR0WgGSIn9IuQ5sLvRdp2NL1KC/PM1KOMad",
);
/// `openssl rsa -traditional`: PKCS#1 `RSAPrivateKey`, not PKCS#8.
const OPENSSL_RSA2048_PKCS1: &str = concat!(
    "MIIEpAIBAAKCAQEAva73IQnZX8+6nw46rlEY6sLXm7o+LrLItxgEwRH9gktatUhgPIX7NyOgzsSv+5LpEs6KzRZ/",
    "w8kWJOKcfC1LMEheTZpuWKJdw2tRuZq5ylsmOjv3HQImV/rfLaNkN7RklV7CBJNAApEp8Djp/fc8mcJt3YtLcEwb",
    "1oJkAwp/pzUubU2U109ZI6crBCNJQnP/q99ZCdxtq5iyrr2pMeGjbRHXvyTWbZ4qp2O8CuS2UxTbCtCjUAk2hr7Z",
    "A1tRvQyoeZP8ypmem/hg6tljcUAWvEtsWknxggePTAfKg4nHQv2rKAnqzxe3HaqYTmUrUEDRkEr+uadnV6cJZ7Fg",
    "o73cBwIDAQABAoIBAFRw6nUbxFhByot6Mydc1OHVoVQjIgF5956Co8Mrdhal4ximwqjO4FnYk4LYzpsI+Jc1uVa5",
    "eGE5SJFdDFq/cyRoYwra/9qXVXRkdzpQJftufmMYRNb2GQm7ldTkUv31YX2ZdHfC8ZDy/J+DRq+Xe7PbeTtSAmBY",
    "kV/6Jfmwl8lgP4IJQQcxp70gkjcZiU2WNKfJa3XPiak1WrHJhRhHDRzDmz519NItBxtZ/PmhaUVQCi3JfLnK0C5M",
    "Zv6qGjgjgqWjRcTvI+Xp3IywlmneHmD4lZog6Wte2ukf3d0dl+QZfz5bdN9ywwNwe0G+e5UpHUqOsuc5SYq5LOzB",
    "c5kK/ykCgYEA8BmynkOfc2ULRg9R21uqsA/esY+Ev6b/CMl/27J02UriJNJsF28WgFJPg1SGZ01kWCpB/OjGrsmp",
    "7cMfOBv58g4SV27mmxRpmRbyCWDGeMGYsBjdneIHCTrRFMGTVZoKk20WPsYuoYfgagm1R1RDw90KNSEsicMFCrr0",
    "w54jWk0CgYEAyj6TGb3g2gqGPoxZdX2QtCP0wy1qUB0yBvv9/p60i43w+k5GvBjzooCFeQ9keCa/5cuP/O+1otnr",
    "OCR4kTC1HYwEZKk3F1Db2BmQeSYeD3X7bZ6qrKZldvLfez+hBdlEoeNhFLeQZSAb2VPuT3oMLVFu+120rMamlAmG",
    "dkTNUaMCgYAjCOzqcR2kPftOJtAf/RlEBZzONg391UVjp9tzWG/6gRXMn7PMG5ah9ODLXhsamc1pnAjy+Zh8Ssrz",
    "+cPlcRegvXLptTILMQhToWiB+9AaMM2x7H7yGdhC/YUizThNhmPCrWlQkaSeR3B0qKP+G4qj2u4xYHzaQU3MCgnL",
    "PZkVBQKBgQCTxvtXcN3ulIgZBhaL+g8VAbzkLLglB+A5KEIknbSQ0EuHqlCXOqgzUjO1DKE+Bhpr/70bddBDyXXN",
    "VSDf/jYo+9lt8BM4LzYkhjGBxG9snqn0JF7TvtYe/0J63Th8fJBgtjOGnsacjcSrnV9hpW1mY71zYLoXESRAwWEF",
    "5CoefwKBgQCu86eSZux+6QgEQivC5WD+4cfO/OZJ5DlMZYiwpDHkPDI6qWK8t0l6XIfxMbYU/jQH0KezF11KS2el",
    "CvIN9pifGWoysBm0mHFCGLvisK2swM+zAjZ/zqjCk5b07itd3X35qzjIqEnkdFoBkiJ/SLkObC70XadjS9SgvzzN",
    "SjjGnQ==",
);
/// `openssl ec`: SEC 1 `ECPrivateKey`, not PKCS#8.
const OPENSSL_P256_SEC1: &str = concat!(
    "MHcCAQEEIB8SILMKGkQHQQr6Tze/YQYCjLlqSZOXyOEGGCYmv2lFoAoGCCqGSM49AwEHoUQDQgAEoqTHl/Z0awtu",
    "5IN8WKIUnlPQk4e/Ohvyztqtmm2qcVV8gzz8UXzFa5RWmoJjVT6ZcG/cQoWsyziOQcNpdCwyDQ==",
);

#[test]
fn from_pkcs8_loads_keys_made_by_openssl() {
    let cases = [
        (SigningAlgorithm::ES256, OPENSSL_P256_PKCS8),
        (SigningAlgorithm::EdDSA, OPENSSL_ED25519_PKCS8_V1),
        (SigningAlgorithm::RS256, OPENSSL_RSA2048_PKCS8),
    ];
    for (alg, base64) in cases {
        let der = STANDARD.decode(base64).unwrap();
        let key = SigningKey::from_pkcs8(alg, &der).unwrap();
        let jwt = key.sign(None, &claims()).unwrap();
        let verified: Value = PublicKey::from_jwk(&key.public_key().jwk())
            .unwrap()
            .verify(&jwt, &expect())
            .unwrap();
        assert_eq!(verified["sub"], "user-42", "{alg}");
    }
}

#[test]
fn from_pkcs8_refuses_traditional_formats() {
    let cases = [
        (SigningAlgorithm::RS256, OPENSSL_RSA2048_PKCS1),
        (SigningAlgorithm::ES256, OPENSSL_P256_SEC1),
    ];
    for (alg, base64) in cases {
        let der = STANDARD.decode(base64).unwrap();
        assert!(
            matches!(
                SigningKey::from_pkcs8(alg, &der),
                Err(TokenError::Key { .. })
            ),
            "{alg}"
        );
    }
}

/// An independent verifier (jsonwebtoken's own decoder, fed our JWK) accepts what we sign:
/// the JWK members and the signature encodings are the standard ones.
#[test]
fn jsonwebtoken_verifies_our_tokens_from_our_jwks() {
    for alg in SigningAlgorithm::ALL {
        let key = key(alg, 0);
        let jwt = key.sign(Some("JWT"), &claims()).unwrap();
        let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(key.public_key().jwk()).unwrap();
        let decoding = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
        let mut validation = jsonwebtoken::Validation::new(alg.jwt_algorithm());
        validation.set_issuer(&[ISS]);
        let decoded = jsonwebtoken::decode::<Value>(&jwt, &decoding, &validation).unwrap();
        assert_eq!(decoded.claims["sub"], "user-42", "{alg}");
        assert_eq!(decoded.header.kid.as_deref(), Some(key.kid()));
        // jsonwebtoken computes the same RFC 7638 thumbprint.
        assert_eq!(
            jwk.thumbprint(jsonwebtoken::jwk::ThumbprintHash::SHA256)
                .unwrap(),
            key.kid(),
            "{alg}"
        );
    }
}
