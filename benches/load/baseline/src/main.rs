//! The load benchmark's baseline (`benches/load/run.sh`): the least a token endpoint can do
//! over HTTP on this machine, with the same HTTP stack as portcullis (axum on tokio).
//!
//! `POST /oauth/token` reads the same `application/x-www-form-urlencoded` body a client
//! credentials request carries, checks `grant_type`, decodes `Authorization: Basic` and
//! compares it with the expected credentials in constant time, and answers a token-shaped
//! JSON body with `Cache-Control: no-store`. No store, no hashing, no random numbers:
//! everything portcullis does beyond this is the price of being an authorization server.
//!
//! `load-baseline <bind address> <client id> <client secret>`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use subtle::ConstantTimeEq;

/// What the endpoint expects and counts.
struct Expected {
    /// `base64(id ":" secret)`, decoded once: the credentials a request must present.
    credentials: Vec<u8>,
    /// Makes each token different.
    issued: AtomicU64,
}

/// The token endpoint.
async fn token(State(expected): State<Arc<Expected>>, headers: HeaderMap, body: Bytes) -> Response {
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let grant_ok = form
        .iter()
        .any(|(name, value)| name == "grant_type" && value == "client_credentials");
    if !grant_ok {
        return (StatusCode::BAD_REQUEST, "unsupported_grant_type").into_response();
    }
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Basic "))
        .and_then(|encoded| STANDARD.decode(encoded).ok())
        .unwrap_or_default();
    if !bool::from(presented.ct_eq(&expected.credentials)) {
        return (StatusCode::UNAUTHORIZED, "invalid_client").into_response();
    }
    let n = expected.issued.fetch_add(1, Ordering::Relaxed);
    let scope = form
        .iter()
        .find(|(name, _)| name == "scope")
        .map(|(_, value)| value.as_str())
        .unwrap_or("");
    let body = serde_json::json!({
        "access_token": format!("pc_at_{n:043}"),
        "token_type": "Bearer",
        "expires_in": 3600,
        "scope": scope,
    });
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body.to_string(),
    )
        .into_response()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(bind), Some(id), Some(secret)) = (args.next(), args.next(), args.next()) else {
        return Err("usage: load-baseline <bind address> <client id> <client secret>".into());
    };
    let expected = Arc::new(Expected {
        credentials: format!("{id}:{secret}").into_bytes(),
        issued: AtomicU64::new(0),
    });
    let app = Router::new()
        .route("/oauth/token", post(token))
        .with_state(expected);
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    println!("ready");
    axum::serve(listener, app).await?;
    Ok(())
}
