//! The provider's endpoints on an actix-web `App` or scope: every handler converts the
//! request to `http::Request<Bytes>`, calls `portcullis-endpoints`, and converts the answer
//! back.

use actix_web::{HttpRequest, HttpResponse, web};
use portcullis_endpoints::{Endpoint, Provider};

use crate::convert;

/// Mounts `provider`'s endpoints at [`Provider::paths`], for
/// [`App::configure`](actix_web::App::configure) at the root of the app (the paths are
/// absolute: the authorization endpoint redirects to `paths().login` as given):
///
/// every route of [`Provider::routes`] (authorize, token, revoke, introspect, JWKS,
/// UserInfo, end session, both discovery documents and, with feature `ui`, the login and
/// consent pages), each answered by [`Provider::handle`].
///
/// Every method is routed to the endpoint, so a wrong one gets the endpoint's own answer
/// (405 with `Allow` and an RFC 6749 §5.2 JSON body) rather than actix-web's bare 405.
///
/// Bodies are read from the raw payload stream up to [`Provider::max_body_bytes`] plus one
/// byte and no further: an oversized body reaches the endpoint over its limit, and the
/// endpoint answers 413 `{"error":"invalid_request",...}`. actix-web's `PayloadConfig`
/// plays no part, so its own 413 never answers for these routes.
///
/// The client's address reaches the endpoints (for the per-IP rate limits of
/// [`ProviderBuilder::rate_limits`](portcullis_endpoints::ProviderBuilder::rate_limits)) as a
/// [`ClientIp`](portcullis_endpoints::ClientIp) extension: one that a middleware inserted
/// into the request's extensions (behind a trusted proxy), else the connection's peer
/// address. Forwarding headers are never read.
///
/// The returned closure is `Fn + Clone + Send`: build it per worker inside
/// `HttpServer::new`'s factory, or once outside and clone it in.
///
/// ```no_run
/// # use actix_web::{App, HttpServer};
/// # use portcullis_endpoints::{Endpoint, Provider};
/// # use std::sync::Arc;
/// # async fn run() -> std::io::Result<()> {
/// let provider = Provider::builder("http://127.0.0.1:8080", Arc::new(portcullis_store::MemoryStore::new()))
///     .build()
///     .expect("valid configuration");
/// HttpServer::new(move || App::new().configure(portcullis_actix::configure(provider.clone())))
///     .bind(("127.0.0.1", 8080))?
///     .run()
///     .await
/// # }
/// ```
pub fn configure(provider: Provider) -> impl Fn(&mut web::ServiceConfig) + Clone + Send + 'static {
    move |config: &mut web::ServiceConfig| {
        for (path, endpoint) in provider.routes() {
            let provider = provider.clone();
            config.service(web::resource(path.as_str()).to(
                move |request: HttpRequest, payload: web::Payload| {
                    serve(provider.clone(), endpoint, request, payload)
                },
            ));
        }
    }
}

/// Converts, calls the endpoint, converts back.
async fn serve(
    provider: Provider,
    endpoint: Endpoint,
    request: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let Ok(body) = convert::read_body(payload, provider.max_body_bytes()).await else {
        // The connection failed mid-body: there is no request to judge.
        return HttpResponse::BadRequest().body("failed to read the request body");
    };
    let Ok(request) = convert::request(&request, body) else {
        // actix-web parsed these parts with the grammar `http` checks: unreachable in practice.
        return HttpResponse::BadRequest().finish();
    };
    convert::response(provider.handle(endpoint, request).await)
}
