//! JWKS endpoint: the provider's public signing keys as a JWK Set (RFC 7517 §5), the
//! `jwks_uri` of OpenID Connect Discovery 1.0 §3 and RFC 8414 §2.

use bytes::Bytes;
use http::header::{ACCESS_CONTROL_ALLOW_ORIGIN, CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use serde_json::Value;
use time::Duration;

use crate::{OAuthError, Provider, response};

/// How long clients may cache the public documents (JWKS, discovery): 5 minutes, sent as
/// `Cache-Control: public, max-age=300`.
///
/// Keys rotate with overlap — the old key stays published for days after a new one starts
/// signing — so a cached JWKS is at worst missing a key that has only just started to
/// sign, and clients refetch it when they meet an unknown `kid` (OpenID Connect Core
/// §10.1.1). A key inserted ahead of activation is seen by every client once this much time
/// has passed.
pub const PUBLIC_DOCUMENT_MAX_AGE: Duration = Duration::minutes(5);

impl Provider {
    /// The JWKS endpoint, for [`Paths::jwks`](crate::Paths::jwks): `GET` (or `HEAD`)
    /// answers the published public keys, the active key first ([`KeySet::jwks`]), as
    /// `application/json` — public members only, never a private one — cacheable for 5
    /// minutes and readable from any origin (a browser client may verify ID tokens itself).
    /// Other methods get 405 with `Allow: GET, HEAD`.
    ///
    /// [`KeySet::jwks`]: portcullis_tokens::KeySet::jwks
    ///
    /// ```
    /// use bytes::Bytes;
    /// use portcullis_endpoints::Provider;
    /// use std::sync::Arc;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let provider = Provider::builder("https://id.example", Arc::new(portcullis_store::MemoryStore::new())).build()?;
    /// let response = provider.jwks(http::Request::get("/oauth/jwks").body(Bytes::new())?).await;
    /// assert_eq!(response.status(), 200);
    /// let jwks: serde_json::Value = serde_json::from_slice(response.body())?;
    /// assert_eq!(jwks["keys"][0]["kid"], provider.signing_keys().active().kid());
    /// assert!(jwks["keys"][0].get("d").is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn jwks(&self, request: Request<Bytes>) -> Response<Bytes> {
        match *request.method() {
            Method::GET | Method::HEAD => public_json(
                &self.signing_keys().jwks(),
                request.method() == Method::HEAD,
            ),
            _ => response::oauth_error(&OAuthError::method_not_allowed("GET, HEAD")),
        }
    }
}

/// A public, cacheable JSON document (JWKS, discovery metadata); `head` leaves the body
/// out.
pub(crate) fn public_json(document: &Value, head: bool) -> Response<Bytes> {
    let body = if head {
        Bytes::new()
    } else {
        Bytes::from(serde_json::to_vec(document).unwrap_or_default())
    };
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let cache_control = format!(
        "public, max-age={}",
        PUBLIC_DOCUMENT_MAX_AGE.whole_seconds()
    );
    if let Ok(value) = HeaderValue::from_str(&cache_control) {
        headers.insert(CACHE_CONTROL, value);
    }
    headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}
