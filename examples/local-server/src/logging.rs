//! Logs: `tracing` to stderr (filter with `RUST_LOG`, default `info`), and one line per
//! request — method, path, status, latency and, when the request names one, the client id.
//! Never a query string, a body, a token or a secret: codes, tokens and passwords travel in
//! those, the path and the client id are all that is kept.

use std::io::IsTerminal as _;
use std::time::Instant;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use portcullis_registry::ClientId;
use tracing_subscriber::EnvFilter;

/// Installs the subscriber: human-readable lines on stderr.
pub(crate) fn init() {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}

/// The most body bytes read to find a `client_id` (the provider's own request limit).
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyLimit(pub(crate) usize);

/// Middleware: one `request` line per request, after the answer.
pub(crate) async fn log_request(
    State(BodyLimit(limit)): State<BodyLimit>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let mut client_id = request
        .uri()
        .query()
        .and_then(|query| form_client_id(query.as_bytes()))
        .or_else(|| basic_client_id(request.headers()));
    let request = if client_id.is_none() {
        let (request, from_body) = body_client_id(request, limit).await;
        client_id = from_body;
        request
    } else {
        request
    };
    let response = next.run(request).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(
        %method,
        path,
        status = response.status().as_u16(),
        latency_ms = format_args!("{latency_ms:.1}"),
        client_id = client_id.as_deref().unwrap_or("-"),
        "request"
    );
    response
}

/// The `client_id` of a form or query string (`a=1&client_id=x`), if it is a valid client
/// id (which needs no percent-decoding: client ids are unreserved characters).
fn form_client_id(form: &[u8]) -> Option<String> {
    form.split(|&b| b == b'&')
        .find_map(|pair| pair.strip_prefix(b"client_id="))
        .and_then(|value| std::str::from_utf8(value).ok())
        .and_then(|value| ClientId::new(value).ok())
        .map(String::from)
}

/// The client id of HTTP Basic client authentication (RFC 6749 §2.3.1): the part before the
/// colon. The secret after it is dropped at once.
fn basic_client_id(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, credentials) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(credentials.trim()).ok()?;
    let user = decoded.split(|&b| b == b':').next()?;
    let user = std::str::from_utf8(user).ok()?;
    ClientId::new(user).ok().map(String::from)
}

/// For a form POST of known, bounded length: reads the body to find its `client_id`, and
/// hands the same bytes on. Anything else passes untouched.
async fn body_client_id(request: Request, limit: usize) -> (Request, Option<String>) {
    let is_form = request.method() == Method::POST
        && request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
    let length = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    if !is_form || length.is_none_or(|length| length > limit) {
        return (request, None);
    }
    let (parts, body) = request.into_parts();
    match to_bytes(body, limit).await {
        Ok(bytes) => {
            let client_id = form_client_id(&bytes);
            (Request::from_parts(parts, Body::from(bytes)), client_id)
        }
        // The connection failed mid-body: the endpoint sees an empty one and says so.
        Err(_) => (Request::from_parts(parts, Body::empty()), None),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn client_id_from_forms() {
        assert_eq!(
            form_client_id(b"grant_type=password&client_id=demo-password&password=secret")
                .as_deref(),
            Some("demo-password")
        );
        assert_eq!(form_client_id(b"client_id=has%20space"), None);
        assert_eq!(form_client_id(b"code=abc"), None);
    }

    #[test]
    fn client_id_from_basic_auth_never_the_secret() {
        let mut headers = HeaderMap::new();
        let credentials = STANDARD.encode("demo-m2m:s3cret");
        headers.insert(
            AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {credentials}"))
                .unwrap_or(HeaderValue::from_static("")),
        );
        assert_eq!(basic_client_id(&headers).as_deref(), Some("demo-m2m"));
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer pc_at_x"));
        assert_eq!(basic_client_id(&headers), None);
    }
}
