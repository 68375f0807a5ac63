//! The router hands the client's address to the endpoints as `ClientIp` (for the per-IP
//! rate limits): from `ConnectInfo<SocketAddr>` when the app is served with connect info,
//! not at all otherwise, and a `ClientIp` a middleware inserted (behind a trusted proxy)
//! wins. Forwarding headers are never read.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use portcullis_axum::router;
use portcullis_endpoints::{ClientIp, Provider, Rate, RateLimits};
use portcullis_store::MemoryStore;

#[derive(Clone, Copy)]
enum Serve {
    /// `into_make_service_with_connect_info::<SocketAddr>()`.
    WithConnectInfo,
    /// A plain `Router`.
    Plain,
    /// With connect info, behind a "proxy" middleware that sets `ClientIp` from
    /// `x-test-client-ip`.
    BehindProxy,
}

/// Inserts the address the test's "proxy" vouches for.
async fn trusted_proxy(mut request: Request) -> Request {
    let vouched = request
        .headers()
        .get("x-test-client-ip")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<IpAddr>().ok());
    if let Some(ip) = vouched {
        request.extensions_mut().insert(ClientIp(ip));
    }
    request
}

/// Serves a provider limited to one token request a minute per IP; answers its base URL.
async fn serve(how: Serve) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let provider = Provider::builder(base.clone(), Arc::new(MemoryStore::new()))
        .rate_limits(RateLimits::default().token_per_ip(Rate::per_minute(1)))
        .build()
        .unwrap();
    let app: Router = router(provider);
    tokio::spawn(async move {
        match how {
            Serve::Plain => axum::serve(listener, app).await.unwrap(),
            Serve::WithConnectInfo => axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap(),
            Serve::BehindProxy => axum::serve(
                listener,
                app.layer(axum::middleware::map_request(trusted_proxy))
                    .into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap(),
        }
    });
    base
}

/// One optional header of a request.
type Header = Option<(&'static str, &'static str)>;

/// Unauthenticated token requests: 401 until the per-IP limit refuses with 429.
#[tokio::test]
async fn client_ip_reaches_the_per_ip_limit() {
    // (how served, a header of each request in turn, statuses expected)
    let forged = Some(("x-forwarded-for", "203.0.113.1"));
    let proxy = |ip| Some(("x-test-client-ip", ip));
    let cases: [(Serve, [Header; 2], [u16; 2]); 5] = [
        (Serve::WithConnectInfo, [None, None], [401, 429]),
        // Forwarding headers are not believed: still 127.0.0.1.
        (Serve::WithConnectInfo, [forged, None], [401, 429]),
        // No address, no per-IP limit.
        (Serve::Plain, [None, None], [401, 401]),
        // The proxy's ClientIp wins over the connection's: two clients, two budgets...
        (
            Serve::BehindProxy,
            [proxy("192.0.2.1"), proxy("192.0.2.2")],
            [401, 401],
        ),
        // ...and one client, one budget.
        (
            Serve::BehindProxy,
            [proxy("192.0.2.1"), proxy("192.0.2.1")],
            [401, 429],
        ),
    ];
    let http = reqwest::Client::new();
    for (i, (how, requests, statuses)) in cases.into_iter().enumerate() {
        let base = serve(how).await;
        for (headers, status) in requests.into_iter().zip(statuses) {
            let mut request = http
                .post(format!("{base}/oauth/token"))
                .form(&[("grant_type", "client_credentials")]);
            if let Some((name, value)) = headers {
                request = request.header(name, value);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status().as_u16(), status, "case {i}");
        }
    }
}
