#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::Router;
use axum::routing::get;
use portcullis_grants::{CachedJwks, JwksSource};
use portcullis_tokens::{SigningAlgorithm, SigningKey};
use serde_json::json;

use super::*;

/// Serves `/jwks` (the key's JWK Set), `/huge` (too large) and 404 elsewhere on loopback.
async fn serve(key: &SigningKey) -> String {
    let jwks = json!({"keys": [key.public_key().jwk()]});
    let huge = "x".repeat(MAX_JWKS_BYTES + 1);
    let app = Router::new()
        .route("/jwks", get(move || async move { axum::Json(jwks) }))
        .route("/huge", get(move || async move { huge }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

#[tokio::test]
async fn fetches_a_jwk_set_and_refuses_errors_and_oversized_bodies() {
    let key = SigningKey::generate(SigningAlgorithm::ES256).unwrap();
    let base = serve(&key).await;
    let source = CachedJwks::new(HttpJwksFetcher::new(&format!("{base}/jwks")).unwrap());
    let keys = source
        .keys(Some(key.kid()), time::OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert!(keys.find(key.kid()).is_some());
    for path in ["/missing", "/huge"] {
        let fetcher = HttpJwksFetcher::new(&format!("{base}{path}")).unwrap();
        assert!(fetcher.fetch().await.is_err(), "{path}");
    }
}

#[test]
fn rfc7515_4_1_2_jwks_urls_must_use_tls_off_loopback() {
    for (uri, ok) in [
        ("https://partner.example/jwks", true),
        ("http://localhost:8080/jwks", true),
        ("http://partner.example/jwks", false),
        ("ftp://partner.example/jwks", false),
        ("https://user:pw@partner.example/jwks", false),
        ("/jwks", false),
    ] {
        assert_eq!(HttpJwksFetcher::new(uri).is_ok(), ok, "{uri}");
    }
}
