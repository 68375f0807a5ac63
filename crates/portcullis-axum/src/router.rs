//! The provider's endpoints as an axum [`Router`]: every handler converts the request to
//! `http::Request<Bytes>`, calls `portcullis-endpoints`, and converts the answer back.

use std::future::poll_fn;
use std::net::SocketAddr;
use std::pin::Pin;

use axum::Router;
use axum::body::{Body, HttpBody};
use axum::extract::{ConnectInfo, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use bytes::{Bytes, BytesMut};
use http::StatusCode;
use portcullis_endpoints::{ClientIp, Endpoint, Provider};

/// A router serving the provider's endpoints at [`Provider::paths`]:
///
/// every route of [`Provider::routes`] (authorize, token, revoke, introspect, JWKS,
/// UserInfo, end session, both discovery documents and, with feature `ui`, the login and
/// consent pages), each answered by [`Provider::handle`].
///
/// Every method is routed to the endpoint, so a wrong one gets the endpoint's own answer
/// (405 with `Allow` and an RFC 6749 §5.2 JSON body) rather than axum's bare 405.
///
/// Bodies are read up to [`Provider::max_body_bytes`] plus one byte and no further: an
/// oversized body reaches the endpoint over its limit, and the endpoint answers 413.
///
/// The client's address reaches the endpoints (for the per-IP rate limits of
/// [`ProviderBuilder::rate_limits`](portcullis_endpoints::ProviderBuilder::rate_limits)) as a
/// [`ClientIp`] extension, taken from `ConnectInfo<SocketAddr>` when the app is served with
/// `into_make_service_with_connect_info::<SocketAddr>()`; a `ClientIp` that a middleware
/// already inserted (behind a trusted proxy) is kept. Forwarding headers are never read.
///
/// The router has no state of its own left to provide, so it merges into any app:
///
/// ```no_run
/// # use std::sync::Arc;
/// # let provider = portcullis_endpoints::Provider::builder("http://127.0.0.1:8080", Arc::new(portcullis_store::MemoryStore::new())).build().expect("config");
/// let app: axum::Router = axum::Router::new()
///     .route("/", axum::routing::get(|| async { "home" }))
///     .merge(portcullis_axum::router(provider));
/// ```
pub fn router<S>(provider: Provider) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    provider
        .routes()
        .into_iter()
        .fold(Router::new(), |router, (path, endpoint)| {
            router.route(
                &path,
                any(move |State(provider): State<Provider>, request: Request| {
                    serve(provider, endpoint, request)
                }),
            )
        })
        .with_state(provider)
}

/// Converts, calls the endpoint, converts back.
async fn serve(provider: Provider, endpoint: Endpoint, request: Request) -> Response {
    let (mut parts, body) = request.into_parts();
    if parts.extensions.get::<ClientIp>().is_none()
        && let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>()
    {
        let ip = ClientIp(peer.ip());
        parts.extensions.insert(ip);
    }
    let Ok(body) = read_body(body, provider.max_body_bytes()).await else {
        // The connection failed mid-body: there is no request to judge.
        return (StatusCode::BAD_REQUEST, "failed to read the request body").into_response();
    };
    let request = http::Request::from_parts(parts, body);
    provider.handle(endpoint, request).await.map(Body::from)
}

/// Reads at most `limit + 1` bytes of `body`: enough for the endpoint to see that a body is
/// over its limit, without buffering the rest. (`axum::body::to_bytes` would drop what it
/// read on overflow, and its overflow error cannot be told from an I/O error without naming
/// `http_body_util`.)
async fn read_body(mut body: Body, limit: usize) -> Result<Bytes, axum::Error> {
    let cap = limit.saturating_add(1);
    let mut buffer = BytesMut::new();
    while buffer.len() < cap {
        let Some(frame) = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await else {
            break;
        };
        if let Ok(mut data) = frame?.into_data() {
            data.truncate(cap - buffer.len());
            buffer.extend_from_slice(&data);
        }
    }
    Ok(buffer.freeze())
}
