//! Signing keys from the store: created once and reused, rotated with overlap, reloaded by
//! other instances; and the JWKS endpoint (RFC 7517 §5) that publishes them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod support;

use std::sync::Arc;

use bytes::Bytes;
use http::Request;
use portcullis_endpoints::{
    Provider, SigningKeyError, load_or_create_signing_keys, load_or_create_signing_keys_with_grace,
    load_signing_keys,
};
use portcullis_grants::ManualClock;
use portcullis_store::{KeyRecord, KeyStore, MemoryStore};
use portcullis_tokens::{JwtExpectations, KeySet, SigningAlgorithm, SigningKey};
use serde_json::{Value, json};
use support::*;
use time::{Duration, OffsetDateTime};

/// Claims of a token valid for a day from `now`.
fn claims(now: OffsetDateTime) -> Value {
    json!({
        "iss": ISSUER,
        "sub": "user-alice",
        "aud": "web-app",
        "iat": now.unix_timestamp(),
        "exp": (now + Duration::days(1)).unix_timestamp(),
    })
}

fn verifies(keys: &KeySet, jwt: &str, now: OffsetDateTime) -> bool {
    keys.verify::<Value>(jwt, &JwtExpectations::new(ISSUER, now))
        .is_ok()
}

/// Two providers on one store, each with its own clock, keys loaded from the store.
async fn two_instances() -> (Arc<MemoryStore>, Arc<ManualClock>, Provider, Provider) {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::starting_now());
    let now = portcullis_grants::Clock::now(clock.as_ref());
    let keys = load_or_create_signing_keys(store.as_ref(), SigningAlgorithm::ES256, now)
        .await
        .unwrap();
    let build = |keys: KeySet| {
        Provider::builder(ISSUER, store.clone())
            .clock(clock.clone())
            .signing_keys(keys)
            .build()
            .unwrap()
    };
    let a = build(keys.clone());
    let b = build(keys);
    (store, clock, a, b)
}

/// The first call creates, inserts and activates one key; later calls find it.
#[tokio::test]
async fn load_or_create_creates_once_then_reuses() {
    let store = MemoryStore::new();
    let now = OffsetDateTime::now_utc();
    let first = load_or_create_signing_keys(&store, SigningAlgorithm::ES256, now)
        .await
        .unwrap();
    assert_eq!(first.active().algorithm(), SigningAlgorithm::ES256);
    assert!(first.retired().is_empty());
    let stored = store.list_keys().await.unwrap();
    assert_eq!(stored.len(), 1);
    assert!(stored[0].is_active());
    assert_eq!(stored[0].kid, first.active().kid());
    assert_eq!(stored[0].algorithm, "ES256");
    assert_eq!(stored[0].activated_at, Some(now));

    // Another start, even asking for another algorithm, reuses the active key.
    for algorithm in [SigningAlgorithm::ES256, SigningAlgorithm::EdDSA] {
        let again = load_or_create_signing_keys(&store, algorithm, now + Duration::hours(1))
            .await
            .unwrap();
        assert_eq!(again.active().kid(), first.active().kid());
        assert_eq!(
            again.active().pkcs8_der(),
            first.active().pkcs8_der(),
            "the same private key"
        );
    }
    assert_eq!(store.list_keys().await.unwrap().len(), 1);

    // Every algorithm can be created.
    for algorithm in SigningAlgorithm::ALL {
        let store = MemoryStore::new();
        let keys = load_or_create_signing_keys(&store, algorithm, now)
            .await
            .unwrap();
        assert_eq!(keys.active().algorithm(), algorithm);
    }
}

/// Retired keys stay published for the grace period, then drop out; keys inserted ahead of
/// activation are published at once.
#[tokio::test]
async fn retired_keys_published_for_the_grace_period() {
    let store = MemoryStore::new();
    let start = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    let old = load_or_create_signing_keys(&store, SigningAlgorithm::ES256, start)
        .await
        .unwrap();
    let old_kid = old.active().kid().to_owned();
    let next = SigningKey::generate(SigningAlgorithm::EdDSA).unwrap();
    store
        .insert_key(KeyRecord {
            kid: next.kid().to_owned(),
            algorithm: "EdDSA".into(),
            private_pkcs8: next.pkcs8_der().to_vec(),
            created_at: start,
            activated_at: None,
            retired_at: None,
        })
        .await
        .unwrap();

    // Published ahead of activation, not signing.
    let keys = load_or_create_signing_keys(&store, SigningAlgorithm::ES256, start)
        .await
        .unwrap();
    assert_eq!(keys.active().kid(), old_kid);
    assert_eq!(keys.retired().len(), 1);
    assert_eq!(keys.retired()[0].kid(), next.kid());

    let rotated_at = start + Duration::days(1);
    store.activate_key(next.kid(), rotated_at).await.unwrap();
    let at = |offset: Duration| rotated_at + offset;
    for (when, published) in [
        (at(Duration::ZERO), true),
        (at(Duration::days(7)), true),
        (at(Duration::days(7) + Duration::seconds(1)), false),
    ] {
        let keys = load_or_create_signing_keys(&store, SigningAlgorithm::ES256, when)
            .await
            .unwrap();
        assert_eq!(keys.active().kid(), next.kid());
        assert_eq!(keys.find(&old_kid).is_some(), published, "at {when}");
    }
    // A grace of one hour.
    let keys = load_or_create_signing_keys_with_grace(
        &store,
        SigningAlgorithm::ES256,
        at(Duration::hours(2)),
        Duration::hours(1),
    )
    .await
    .unwrap();
    assert!(keys.find(&old_kid).is_none());
    assert_eq!(store.list_keys().await.unwrap().len(), 2, "nothing deleted");
}

/// Rotation signs with the new key at once; tokens signed by the old one still verify.
#[tokio::test]
async fn rotate_keeps_old_tokens_verifiable() {
    let (store, clock, provider, _) = two_instances().await;
    let now = portcullis_grants::Clock::now(clock.as_ref());
    let old_kid = provider.signing_keys().active().kid().to_owned();
    let old_token = provider
        .signing_keys()
        .active()
        .sign(None, &claims(now))
        .unwrap();

    clock.advance(Duration::hours(1));
    let new_kid = provider
        .rotate_signing_key(SigningAlgorithm::EdDSA)
        .await
        .unwrap();
    assert_ne!(new_kid, old_kid);
    let keys = provider.signing_keys();
    assert_eq!(keys.active().kid(), new_kid);
    assert_eq!(keys.active().algorithm(), SigningAlgorithm::EdDSA);
    assert_eq!(keys.retired()[0].kid(), old_kid);
    let now = portcullis_grants::Clock::now(clock.as_ref());
    assert!(
        verifies(&keys, &old_token, now),
        "signed before the rotation"
    );
    let new_token = keys.active().sign(None, &claims(now)).unwrap();
    assert!(verifies(&keys, &new_token, now));

    // The store agrees: the new key active, the old one retired at the rotation.
    let stored = store.list_keys().await.unwrap();
    let active = store.active_key().await.unwrap().unwrap();
    assert_eq!(active.kid, new_kid);
    let old = stored.iter().find(|key| key.kid == old_kid).unwrap();
    assert_eq!(old.retired_at, Some(now));

    // After the grace period a reload stops publishing the old key.
    clock.advance(Duration::days(7) + Duration::seconds(1));
    provider.reload_signing_keys().await.unwrap();
    let keys = provider.signing_keys();
    assert!(keys.find(&old_kid).is_none());
    assert!(keys.find(&new_kid).is_some());
}

/// Another instance on the same store picks the rotation up when it reloads; until then
/// it signs with the old key, which the rotating instance still accepts.
#[tokio::test]
async fn reload_picks_up_a_rotation_by_another_instance() {
    let (_store, clock, a, b) = two_instances().await;
    let old_kid = a.signing_keys().active().kid().to_owned();
    let new_kid = a.rotate_signing_key(SigningAlgorithm::ES256).await.unwrap();
    assert_eq!(b.signing_keys().active().kid(), old_kid, "not yet");

    let now = portcullis_grants::Clock::now(clock.as_ref());
    let from_b = b.signing_keys().active().sign(None, &claims(now)).unwrap();
    assert!(verifies(&a.signing_keys(), &from_b, now));

    b.reload_signing_keys().await.unwrap();
    let keys = b.signing_keys();
    assert_eq!(keys.active().kid(), new_kid);
    assert_eq!(keys.retired()[0].kid(), old_kid);
    let from_a = a.signing_keys().active().sign(None, &claims(now)).unwrap();
    assert!(verifies(&keys, &from_a, now));
    assert!(verifies(&keys, &from_b, now));

    // Both publish the same JWKS.
    assert_eq!(
        json(&a.jwks(get("/oauth/jwks")).await),
        json(&b.jwks(get("/oauth/jwks")).await)
    );
}

/// A provider whose key never was in the store (the builder's default) keeps publishing
/// it after rotating to a stored key.
#[tokio::test]
async fn rotate_from_an_in_memory_key() {
    let h = Harness::new().await;
    let old = h.provider.signing_keys().active().clone();
    assert!(h.store.list_keys().await.unwrap().is_empty());
    let new_kid = h
        .provider
        .rotate_signing_key(SigningAlgorithm::ES256)
        .await
        .unwrap();
    let keys = h.provider.signing_keys();
    assert_eq!(keys.active().kid(), new_kid);
    assert!(keys.find(old.kid()).is_some());
    assert_eq!(h.store.list_keys().await.unwrap().len(), 1);
}

/// Reloading needs an active key in the store, and a readable one; on failure the keys in
/// force stay.
#[tokio::test]
async fn reload_failures_keep_the_keys_in_force() {
    let h = Harness::new().await;
    let before = h.provider.signing_keys().active().kid().to_owned();
    let err = h.provider.reload_signing_keys().await.unwrap_err();
    assert!(matches!(err, SigningKeyError::NoActiveKey), "{err}");
    assert_eq!(h.provider.signing_keys().active().kid(), before);

    let now = h.provider.now();
    h.store
        .insert_key(KeyRecord {
            kid: "broken".into(),
            algorithm: "ES256".into(),
            private_pkcs8: vec![0x30, 0x00],
            created_at: now,
            activated_at: None,
            retired_at: None,
        })
        .await
        .unwrap();
    h.store.activate_key("broken", now).await.unwrap();
    let err = h.provider.reload_signing_keys().await.unwrap_err();
    assert!(
        matches!(&err, SigningKeyError::Unusable { kid, .. } if kid == "broken"),
        "{err}"
    );
    assert_eq!(h.provider.signing_keys().active().kid(), before);
    let err = load_signing_keys(h.store.as_ref(), now, Duration::days(7))
        .await
        .unwrap_err();
    assert!(matches!(err, SigningKeyError::Unusable { .. }));

    // An unknown algorithm is unusable too.
    let store = MemoryStore::new();
    let key = SigningKey::generate(SigningAlgorithm::ES256).unwrap();
    store
        .insert_key(KeyRecord {
            kid: key.kid().to_owned(),
            algorithm: "HS256".into(),
            private_pkcs8: key.pkcs8_der().to_vec(),
            created_at: now,
            activated_at: None,
            retired_at: None,
        })
        .await
        .unwrap();
    store.activate_key(key.kid(), now).await.unwrap();
    assert!(matches!(
        load_or_create_signing_keys(&store, SigningAlgorithm::ES256, now).await,
        Err(SigningKeyError::Unusable { .. })
    ));
}

/// The members a JWK of each type may have: public ones only (RFC 7518 §6.2.1, §6.3.1;
/// RFC 8037 §2), plus `kid`, `alg` and `use`.
fn public_members(kty: &str) -> &'static [&'static str] {
    match kty {
        "EC" => &["kty", "crv", "x", "y", "kid", "alg", "use"],
        "OKP" => &["kty", "crv", "x", "kid", "alg", "use"],
        "RSA" => &["kty", "n", "e", "kid", "alg", "use"],
        other => panic!("unexpected kty {other}"),
    }
}

/// RFC 7517 §5: the JWKS has the published keys, the active key first, public members
/// only, for every algorithm.
#[tokio::test]
async fn rfc7517_5_jwks_public_members_only() {
    let keys = KeySet::with_retired(
        SigningKey::generate(SigningAlgorithm::RS256).unwrap(),
        [
            SigningKey::generate(SigningAlgorithm::ES256)
                .unwrap()
                .public_key()
                .clone(),
            SigningKey::generate(SigningAlgorithm::EdDSA)
                .unwrap()
                .public_key()
                .clone(),
        ],
    );
    let h = Harness::with(|b| b.signing_keys(keys.clone())).await;
    let response = h.provider.jwks(get("/oauth/jwks")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-type"), Some("application/json"));
    assert_eq!(
        header(&response, "cache-control"),
        Some("public, max-age=300")
    );
    let jwks = json(&response);
    let published = jwks["keys"].as_array().unwrap();
    let kids: Vec<&str> = published
        .iter()
        .map(|jwk| jwk["kid"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = keys.public_keys().map(|key| key.kid()).collect();
    assert_eq!(kids, expected, "active first");
    assert_eq!(kids[0], keys.active().kid());
    for jwk in published {
        let members = jwk.as_object().unwrap();
        let allowed = public_members(jwk["kty"].as_str().unwrap());
        for name in members.keys() {
            assert!(allowed.contains(&name.as_str()), "{name} in {jwk}");
        }
        assert_eq!(members.len(), allowed.len(), "{jwk}");
        assert_eq!(jwk["use"], "sig");
    }
    let private = keys.active().pkcs8_der();
    assert!(
        !String::from_utf8_lossy(response.body()).contains(&format!("{private:?}")),
        "no key material beyond the public members"
    );
}

/// A rotation publishes the new key first and the old one after it.
#[tokio::test]
async fn rfc7517_5_rotation_publishes_old_and_new() {
    let h = Harness::new().await;
    let old = h.provider.signing_keys().active().kid().to_owned();
    let new = h
        .provider
        .rotate_signing_key(SigningAlgorithm::ES256)
        .await
        .unwrap();
    let jwks = json(&h.provider.jwks(get("/oauth/jwks")).await);
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|jwk| jwk["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, [new.as_str(), old.as_str()]);
}

/// GET and HEAD only.
#[tokio::test]
async fn jwks_methods() {
    let h = Harness::new().await;
    let head = h
        .provider
        .jwks(Request::head("/oauth/jwks").body(Bytes::new()).unwrap())
        .await;
    assert_eq!(head.status(), 200);
    assert!(head.body().is_empty());
    assert_eq!(header(&head, "content-type"), Some("application/json"));
    for method in ["POST", "PUT", "DELETE"] {
        let request = Request::builder()
            .method(method)
            .uri("/oauth/jwks")
            .body(Bytes::new())
            .unwrap();
        let response = h.provider.jwks(request).await;
        assert_eq!(response.status(), 405, "{method}");
        assert_eq!(header(&response, "allow"), Some("GET, HEAD"));
    }
}
