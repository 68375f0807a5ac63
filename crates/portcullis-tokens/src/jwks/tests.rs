#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use time::OffsetDateTime;

use super::*;
use crate::test_keys::key;

const ISS: &str = "https://issuer.example";

fn sign(key: &SigningKey) -> String {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    key.sign(None, &json!({"iss": ISS, "exp": now + 300}))
        .unwrap()
}

fn verify(keys: &KeySet, token: &str) -> Result<Value, TokenError> {
    keys.verify(token, &JwtExpectations::new(ISS, OffsetDateTime::now_utc()))
}

fn kids(keys: &KeySet) -> Vec<String> {
    keys.jwks()["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|jwk| jwk["kid"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn oidc_core_10_1_1_a_token_signed_before_rotation_verifies_after_until_pruned() {
    // Rotate through every algorithm, so rotation across algorithms is covered too.
    let order = [
        key(SigningAlgorithm::ES256, 0),
        key(SigningAlgorithm::EdDSA, 0),
        key(SigningAlgorithm::RS256, 0),
        key(SigningAlgorithm::ES256, 1),
    ];
    let mut keys = KeySet::new(order[0].clone());
    let mut tokens = vec![sign(keys.active())];
    for next in &order[1..] {
        keys.rotate((*next).clone());
        assert_eq!(keys.active().kid(), next.kid());
        tokens.push(sign(keys.active()));
        for token in &tokens {
            verify(&keys, token).unwrap();
        }
    }
    assert_eq!(
        kids(&keys),
        order
            .iter()
            .rev()
            .map(|k| k.kid().to_owned())
            .collect::<Vec<_>>(),
        "active first, then retired newest first"
    );
    assert_eq!(
        keys.algorithms(),
        [
            SigningAlgorithm::ES256,
            SigningAlgorithm::RS256,
            SigningAlgorithm::EdDSA
        ]
    );

    let dropped = keys.prune(1);
    assert_eq!(
        dropped,
        [order[1].public_key().clone(), order[0].public_key().clone()]
    );
    assert_eq!(keys.retired(), [order[2].public_key().clone()]);
    for (token, key) in tokens.iter().zip(order) {
        let result = verify(&keys, token);
        if key.kid() == order[2].kid() || key.kid() == order[3].kid() {
            assert!(result.is_ok(), "{:?}", key.algorithm());
        } else {
            assert!(
                matches!(
                    result,
                    Err(TokenError::Jwt {
                        reason: "unknown kid"
                    } | TokenError::Jwt {
                        reason: "unsupported algorithm"
                    })
                ),
                "{:?}: {result:?}",
                key.algorithm()
            );
        }
    }
    assert_eq!(
        keys.algorithms(),
        [SigningAlgorithm::ES256, SigningAlgorithm::RS256]
    );

    assert_eq!(keys.retire_oldest(), Some(order[2].public_key().clone()));
    assert_eq!(keys.retire_oldest(), None);
    assert_eq!(
        verify(&keys, &tokens[2]).unwrap_err().to_string(),
        "jwt rejected: unsupported algorithm"
    );
    verify(&keys, &tokens[3]).unwrap();
}

#[test]
fn pruned_key_of_the_same_algorithm_is_an_unknown_kid() {
    let old = key(SigningAlgorithm::ES256, 0);
    let new = key(SigningAlgorithm::ES256, 1);
    let mut keys = KeySet::new(old.clone());
    let token = sign(old);
    keys.rotate(new.clone());
    verify(&keys, &token).unwrap();
    assert!(keys.prune(5).is_empty());
    verify(&keys, &token).unwrap();
    assert_eq!(keys.prune(0).len(), 1);
    assert!(matches!(
        verify(&keys, &token),
        Err(TokenError::Jwt {
            reason: "unknown kid"
        })
    ));
}

#[test]
fn rotating_to_a_published_key_does_not_duplicate_it() {
    let a = key(SigningAlgorithm::EdDSA, 0);
    let b = key(SigningAlgorithm::EdDSA, 1);
    let mut keys = KeySet::new(a.clone());
    keys.rotate(a.clone());
    assert!(keys.retired().is_empty());
    keys.rotate(b.clone());
    keys.rotate(a.clone());
    assert_eq!(kids(&keys), [a.kid(), b.kid()]);
}

#[test]
fn with_retired_drops_repeats() {
    let a = key(SigningAlgorithm::ES256, 0);
    let b = key(SigningAlgorithm::ES256, 1);
    let keys = KeySet::with_retired(
        a.clone(),
        [
            b.public_key().clone(),
            a.public_key().clone(),
            b.public_key().clone(),
        ],
    );
    assert_eq!(kids(&keys), [a.kid(), b.kid()]);
    assert_eq!(keys.find(b.kid()), Some(b.public_key()));
}

#[test]
fn rfc7517_5_jwks_publishes_only_public_members() {
    let mut keys = KeySet::new(key(SigningAlgorithm::RS256, 0).clone());
    keys.rotate(key(SigningAlgorithm::EdDSA, 0).clone());
    keys.rotate(key(SigningAlgorithm::ES256, 0).clone());
    let jwks = keys.jwks();
    assert_eq!(jwks.as_object().unwrap().len(), 1);
    let published = jwks["keys"].as_array().unwrap();
    assert_eq!(published.len(), 3);
    for jwk in published {
        for private in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] {
            assert!(jwk.get(private).is_none(), "{jwk}");
        }
        assert_eq!(jwk["use"], "sig");
        // Each published key reads back to the same key.
        let key = PublicKey::from_jwk(jwk).unwrap();
        assert_eq!(key.jwk(), *jwk);
    }
    let text = jwks.to_string();
    for alg in SigningAlgorithm::ALL {
        let der = key(alg, 0).pkcs8_der();
        assert!(!text.contains(&base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            der
        )));
    }
}

#[test]
fn key_types_are_shareable_across_threads() {
    fn shareable<T: Send + Sync + Clone + 'static>() {}
    shareable::<KeySet>();
    shareable::<SigningKey>();
    shareable::<PublicKey>();
    shareable::<JwtExpectations>();
}

/// A JWS whose header names `kid` (or none), signed by `key`: what another issuer sends.
fn foreign_token(key: &SigningKey, kid: Option<&str>) -> String {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let header = match kid {
        Some(kid) => json!({"alg": key.algorithm().as_str(), "kid": kid}),
        None => json!({"alg": key.algorithm().as_str()}),
    };
    key.sign_raw(
        &header.to_string(),
        &json!({"iss": ISS, "exp": now + 300}).to_string(),
    )
}

fn foreign_jwk(key: &SigningKey, kid: &str) -> Value {
    let mut jwk = key.public_key().jwk();
    jwk["kid"] = kid.into();
    jwk
}

#[test]
fn rfc7517_4_5_foreign_kid_is_kept_and_verifies() {
    let theirs = key(SigningAlgorithm::RS256, 0);
    let other = key(SigningAlgorithm::ES256, 0);
    let set = PublicKeySet::from_jwks(&json!({"keys": [
        foreign_jwk(theirs, "rsa-2026"),
        foreign_jwk(other, "ec-2026"),
    ]}))
    .unwrap();
    assert_eq!(set.find("rsa-2026").unwrap(), theirs.public_key());
    let token = foreign_token(theirs, Some("rsa-2026"));
    let claims: Value = set
        .verify(
            &token,
            &JwtExpectations::new(ISS, OffsetDateTime::now_utc()),
        )
        .unwrap();
    assert_eq!(claims["iss"], ISS);
    // The same token under a kid naming the other key, or an unknown kid, is refused.
    let expect = JwtExpectations::new(ISS, OffsetDateTime::now_utc());
    for kid in ["ec-2026", "nope"] {
        let token = foreign_token(theirs, Some(kid));
        assert!(set.verify::<Value>(&token, &expect).is_err(), "{kid}");
    }
}

#[test]
fn rfc7517_5_unusable_members_are_skipped_but_an_empty_set_is_refused() {
    let theirs = key(SigningAlgorithm::EdDSA, 0);
    let mut enc = theirs.public_key().jwk();
    enc["use"] = "enc".into();
    let set = PublicKeySet::from_jwks(&json!({"keys": [
        {"kty": "oct", "k": "c2VjcmV0"},
        enc,
        foreign_jwk(theirs, "ed"),
    ]}))
    .unwrap();
    assert_eq!(set.keys().len(), 1);
    for bad in [
        json!({}),
        json!({"keys": {}}),
        json!({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}),
        json!({"keys": [foreign_jwk(theirs, "")]}),
    ] {
        assert!(PublicKeySet::from_jwks(&bad).is_err(), "{bad}");
    }
}

#[test]
fn rfc7515_4_1_4_missing_kid_is_accepted_only_when_one_key_fits() {
    let expect = JwtExpectations::new(ISS, OffsetDateTime::now_utc());
    let a = key(SigningAlgorithm::ES256, 0);
    let b = key(SigningAlgorithm::ES256, 1);
    let token = foreign_token(a, None);
    let one = PublicKeySet::new([a.public_key().clone()]);
    assert!(one.verify::<Value>(&token, &expect).is_ok());
    let two = PublicKeySet::new([a.public_key().clone(), b.public_key().clone()]);
    assert!(two.verify::<Value>(&token, &expect).is_err());
    let none_fits = PublicKeySet::new([key(SigningAlgorithm::EdDSA, 0).public_key().clone()]);
    assert!(none_fits.verify::<Value>(&token, &expect).is_err());
    // alg "none" never verifies, kid or not.
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
        URL_SAFE_NO_PAD.encode(r#"{"iss":"x"}"#),
    );
    assert!(one.verify::<Value>(&unsigned, &expect).is_err());
}

#[test]
fn unverified_peek_reads_issuer_and_kid_only_for_routing() {
    let theirs = key(SigningAlgorithm::ES256, 0);
    let token = foreign_token(theirs, Some("k1"));
    let peeked = crate::UnverifiedJwt::peek(&token).unwrap();
    assert_eq!(peeked.issuer(), Some(ISS));
    assert_eq!(peeked.kid(), Some("k1"));
    for bad in ["", "a.b", "a.b.c.d", "pc_at_x", "e30.e30"] {
        assert!(crate::UnverifiedJwt::peek(bad).is_err(), "{bad}");
    }
}
