#![allow(clippy::unwrap_used, clippy::expect_used)]

use actix_web::http::header;
use actix_web::test::TestRequest;
use bytes::Bytes;

use super::{request, response};

#[test]
fn response_keeps_status_body_and_every_header() {
    let endpoint = http::Response::builder()
        .status(303)
        .header("location", "/oauth/login")
        .header("set-cookie", "a=1; HttpOnly")
        .header("set-cookie", "b=2; Secure")
        .body(Bytes::from_static(b"moved"))
        .unwrap();
    let converted = response(endpoint);
    assert_eq!(converted.status(), 303);
    assert_eq!(
        converted.headers().get(header::LOCATION).unwrap(),
        "/oauth/login"
    );
    let cookies: Vec<_> = converted.headers().get_all(header::SET_COOKIE).collect();
    assert_eq!(cookies, ["a=1; HttpOnly", "b=2; Secure"]);
    let body = actix_web::body::to_bytes(converted.into_body());
    let body = block_on(body).unwrap();
    assert_eq!(body, "moved");
}

#[test]
fn request_keeps_method_uri_repeated_headers_and_body() {
    let actix = TestRequest::post()
        .uri("/oauth/authorize?client_id=c&state=x%20y")
        .append_header(("accept", "text/html"))
        .append_header(("accept", "application/json"))
        .to_http_request();
    let converted = request(&actix, Bytes::from_static(b"a=b")).unwrap();
    assert_eq!(converted.method(), http::Method::POST);
    assert_eq!(converted.uri().path(), "/oauth/authorize");
    assert_eq!(converted.uri().query(), Some("client_id=c&state=x%20y"));
    let accept: Vec<_> = converted.headers().get_all("accept").iter().collect();
    assert_eq!(accept, ["text/html", "application/json"]);
    assert_eq!(converted.body(), "a=b");
}

/// Runs a ready-or-quick future to completion on a throwaway actix runtime.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    actix_web::rt::System::new().block_on(future)
}

/// The per-IP rate limits key on `ClientIp`: the connection's peer address, unless a
/// middleware (behind a trusted proxy) put its own in the request's extensions; forwarding
/// headers are never read.
#[test]
fn request_carries_the_client_ip() {
    use actix_web::HttpMessage as _;
    use portcullis_endpoints::ClientIp;
    use std::net::{IpAddr, SocketAddr};

    let peer: SocketAddr = "192.0.2.9:50000".parse().unwrap();
    let proxy_said: IpAddr = "203.0.113.5".parse().unwrap();
    let forged = ("x-forwarded-for", "198.51.100.1");

    let direct = TestRequest::get()
        .peer_addr(peer)
        .insert_header(forged)
        .to_http_request();
    let behind_proxy = TestRequest::get().peer_addr(peer).to_http_request();
    behind_proxy.extensions_mut().insert(ClientIp(proxy_said));
    let no_peer = TestRequest::get().insert_header(forged).to_http_request();

    let cases = [
        (direct, Some(peer.ip())),
        (behind_proxy, Some(proxy_said)),
        (no_peer, None),
    ];
    for (incoming, expected) in cases {
        let converted = request(&incoming, Bytes::new()).unwrap();
        assert_eq!(ClientIp::of(&converted), expected);
    }
}
