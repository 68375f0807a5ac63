//! Conversions between actix-web's request and response types (built on `http` 0.2 via
//! actix-http) and the `http` 1.x types the endpoints speak. Names, values and bodies are
//! copied byte for byte; nothing is interpreted.

use std::future::poll_fn;
use std::pin::pin;

use actix_web::body::{BodyStream, MessageBody};
use actix_web::error::PayloadError;
use actix_web::http::StatusCode;
use actix_web::http::header::{self as actix_header, HeaderMap};
use actix_web::{HttpMessage as _, HttpRequest, HttpResponse, web};
use bytes::{Bytes, BytesMut};
use portcullis_endpoints::ClientIp;

/// Reads the request body, keeping at most `limit + 1` bytes and reading no further: a body
/// over the limit reaches the endpoint still over it, and the endpoint answers its own 413.
pub(crate) async fn read_body(payload: web::Payload, limit: usize) -> Result<Bytes, PayloadError> {
    let keep = limit.saturating_add(1);
    let mut stream = pin!(BodyStream::new(payload));
    let mut body = BytesMut::new();
    while body.len() < keep {
        match poll_fn(|cx| stream.as_mut().poll_next(cx)).await {
            Some(chunk) => {
                let mut chunk = chunk?;
                chunk.truncate(keep - body.len());
                body.extend_from_slice(&chunk);
            }
            None => break,
        }
    }
    Ok(body.freeze())
}

/// The `http` 1.x copy of actix-web's headers, repeated values included.
pub(crate) fn headers(headers: &HeaderMap) -> Result<http::HeaderMap, http::Error> {
    let mut converted = http::HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        converted.append(
            http::HeaderName::from_bytes(name.as_str().as_bytes())?,
            http::HeaderValue::from_bytes(value.as_bytes())?,
        );
    }
    Ok(converted)
}

/// The `http` 1.x request the endpoints take: method, URI (path and query), headers, body,
/// and the client's address as a [`ClientIp`] extension: one a middleware inserted into
/// actix-web's extensions (behind a trusted proxy), else the connection's peer address.
pub(crate) fn request(
    request: &HttpRequest,
    body: Bytes,
) -> Result<http::Request<Bytes>, http::Error> {
    let mut converted = http::Request::new(body);
    *converted.method_mut() = http::Method::from_bytes(request.method().as_str().as_bytes())?;
    *converted.uri_mut() = http::Uri::try_from(request.uri().to_string())?;
    *converted.headers_mut() = headers(request.headers())?;
    let ip = request
        .extensions()
        .get::<ClientIp>()
        .copied()
        .or_else(|| request.peer_addr().map(|peer| ClientIp(peer.ip())));
    if let Some(ip) = ip {
        converted.extensions_mut().insert(ip);
    }
    Ok(converted)
}

/// The actix-web response for an endpoint's answer: status, every header (repeated ones
/// such as `Set-Cookie` included) and body. A part actix-web cannot carry (the `http`
/// crates validate the same grammar, so never in practice) gives a bare 500 rather than a
/// response missing a header.
pub(crate) fn response(response: http::Response<Bytes>) -> HttpResponse {
    let (parts, body) = response.into_parts();
    let Ok(status) = StatusCode::from_u16(parts.status.as_u16()) else {
        return HttpResponse::InternalServerError().finish();
    };
    let mut converted = HttpResponse::with_body(status, body).map_into_boxed_body();
    for (name, value) in &parts.headers {
        let (Ok(name), Ok(value)) = (
            actix_header::HeaderName::from_bytes(name.as_str().as_bytes()),
            actix_header::HeaderValue::from_bytes(value.as_bytes()),
        ) else {
            return HttpResponse::InternalServerError().finish();
        };
        converted.headers_mut().append(name, value);
    }
    converted
}

#[cfg(test)]
mod tests;
