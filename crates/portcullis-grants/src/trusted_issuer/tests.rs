#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};

use portcullis_tokens::{SigningAlgorithm, SigningKey};
use serde_json::json;

use super::*;

/// Serves whatever JWKS it holds, counting fetches; fails when it holds `null`.
struct Counting {
    jwks: Mutex<Value>,
    fetches: AtomicUsize,
}

#[async_trait]
impl FetchJwks for Arc<Counting> {
    async fn fetch(&self) -> Result<Value, BoxError> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        let jwks = self.jwks.lock().unwrap().clone();
        if jwks.is_null() {
            Err("issuer down".into())
        } else {
            Ok(jwks)
        }
    }
}

fn jwks(key: &SigningKey) -> Value {
    json!({"keys": [key.public_key().jwk()]})
}

#[tokio::test]
async fn cached_jwks_refetches_on_age_and_unknown_kid_but_not_too_often() {
    let first = SigningKey::generate(SigningAlgorithm::ES256).unwrap();
    let second = SigningKey::generate(SigningAlgorithm::ES256).unwrap();
    let counting = Arc::new(Counting {
        jwks: Mutex::new(jwks(&first)),
        fetches: AtomicUsize::new(0),
    });
    let source = CachedJwks::new(counting.clone())
        .max_age(Duration::minutes(10))
        .min_refetch_interval(Duration::minutes(1));
    let t0 = OffsetDateTime::now_utc();
    let fetches = || counting.fetches.load(Ordering::SeqCst);

    let keys = source.keys(Some(first.kid()), t0).await.unwrap();
    assert!(keys.find(first.kid()).is_some());
    source.keys(Some(first.kid()), t0).await.unwrap();
    assert_eq!(fetches(), 1, "a known kid is served from the cache");

    // The issuer rotates: an unknown kid within the refetch interval does not refetch...
    *counting.jwks.lock().unwrap() = jwks(&second);
    let keys = source
        .keys(Some(second.kid()), t0 + Duration::seconds(30))
        .await
        .unwrap();
    assert!(keys.find(second.kid()).is_none());
    assert_eq!(fetches(), 1);
    // ...after it, it does.
    let keys = source
        .keys(Some(second.kid()), t0 + Duration::minutes(2))
        .await
        .unwrap();
    assert!(keys.find(second.kid()).is_some());
    assert_eq!(fetches(), 2);

    // The issuer goes down: young keys keep serving, old ones do not.
    *counting.jwks.lock().unwrap() = Value::Null;
    assert!(
        source
            .keys(Some("unknown"), t0 + Duration::minutes(5))
            .await
            .is_ok()
    );
    assert!(
        source
            .keys(Some(second.kid()), t0 + Duration::minutes(13))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn cached_jwks_without_keys_and_a_failing_issuer_is_an_error() {
    let counting = Arc::new(Counting {
        jwks: Mutex::new(json!({"keys": []})),
        fetches: AtomicUsize::new(0),
    });
    let source = CachedJwks::new(counting);
    assert!(source.keys(None, OffsetDateTime::now_utc()).await.is_err());
}
