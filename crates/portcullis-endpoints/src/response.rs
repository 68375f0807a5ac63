//! Building responses with the headers every endpoint owes its clients.

use bytes::Bytes;
use http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, HeaderValue, LOCATION, PRAGMA,
    REFERRER_POLICY, WWW_AUTHENTICATE, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use http::{Response, StatusCode};
use serde_json::{Value, json};

use crate::OAuthError;

/// Builds a response; the parts are static or already validated, so building cannot fail,
/// but if it ever did the caller still gets a well-formed 500 instead of a panic.
fn build(builder: http::response::Builder, body: Bytes) -> Response<Bytes> {
    builder.body(body).unwrap_or_else(|_| {
        let mut fallback = Response::new(Bytes::from_static(b"internal error"));
        *fallback.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        fallback
    })
}

/// A JSON response that no cache may keep (RFC 6749 §5.1: `Cache-Control: no-store`,
/// `Pragma: no-cache`).
pub(crate) fn json(status: StatusCode, body: &Value) -> Response<Bytes> {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    build(
        Response::builder()
            .status(status)
            .header(CONTENT_TYPE, "application/json")
            .header(CACHE_CONTROL, "no-store")
            .header(PRAGMA, "no-cache"),
        Bytes::from(bytes),
    )
}

/// An error in the JSON form of RFC 6749 §5.2, with its status and `WWW-Authenticate`.
pub(crate) fn oauth_error(err: &OAuthError) -> Response<Bytes> {
    let mut response = json(
        err.status(),
        &json!({"error": err.code(), "error_description": err.description()}),
    );
    if let Some(value) = err
        .www_authenticate()
        .and_then(|v| HeaderValue::from_str(v).ok())
    {
        response.headers_mut().insert(WWW_AUTHENTICATE, value);
    }
    if let Some(allow) = err.allow() {
        response
            .headers_mut()
            .insert(http::header::ALLOW, HeaderValue::from_static(allow));
    }
    if let Some(seconds) = err.retry_after() {
        response
            .headers_mut()
            .insert(http::header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// Headers for any HTML page the provider renders: not framable (clickjacking,
/// RFC 6749 §10.13), no referrer leak, not cached, no content sniffing.
pub(crate) fn html(status: StatusCode, body: String, csp: &str) -> Response<Bytes> {
    build(
        Response::builder()
            .status(status)
            .header(CONTENT_TYPE, "text/html; charset=utf-8")
            .header(CACHE_CONTROL, "no-store")
            .header(PRAGMA, "no-cache")
            .header(X_FRAME_OPTIONS, "DENY")
            .header(CONTENT_SECURITY_POLICY, csp)
            .header(REFERRER_POLICY, "no-referrer")
            .header(X_CONTENT_TYPE_OPTIONS, "nosniff"),
        Bytes::from(body),
    )
}

/// The default Content-Security-Policy of provider pages.
pub(crate) const PAGE_CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'";

/// A 303 See Other to `location` (RFC 9700 §4.12: 303, so a POST is never replayed).
pub(crate) fn see_other(location: &str) -> Response<Bytes> {
    match HeaderValue::from_str(location) {
        Ok(value) => build(
            Response::builder()
                .status(StatusCode::SEE_OTHER)
                .header(LOCATION, value)
                .header(CACHE_CONTROL, "no-store")
                .header(REFERRER_POLICY, "no-referrer"),
            Bytes::new(),
        ),
        Err(_) => html(
            StatusCode::INTERNAL_SERVER_ERROR,
            "<!doctype html><title>Error</title><p>The redirect could not be built.</p>".into(),
            PAGE_CSP,
        ),
    }
}

/// Escapes text for HTML element content and attribute values.
pub(crate) fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            _ => out.push(c),
        }
    }
    out
}
