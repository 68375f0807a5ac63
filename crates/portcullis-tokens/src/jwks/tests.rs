#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

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
