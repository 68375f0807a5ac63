//! The shared HTTP suite under axum.

#![allow(clippy::expect_used)]

mod http;

use std::net::TcpListener;

use axum::routing::get;
use axum::{Extension, Json, Router};
use portcullis_axum::{Bearer, RequireRole, RequireScope, router};
use portcullis_endpoints::Provider;
use portcullis_resource::Resource;
use serde_json::{Value, json};

struct Axum;

async fn me(Bearer(token): Bearer) -> Json<Value> {
    Json(json!({
        "sub": token.subject.as_ref().map(|s| s.as_str()),
        "client_id": token.client_id.as_str(),
        "scope": token.scopes.to_string(),
    }))
}

impl http::Adapter for Axum {
    const NAME: &'static str = "axum";

    async fn serve(listener: TcpListener, provider: Provider, resource: Resource) -> http::Server {
        let base = format!("http://{}", listener.local_addr().expect("address"));
        listener.set_nonblocking(true).expect("non-blocking");
        let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
        let api = Router::new()
            .route("/api/me", get(me))
            .route_layer(RequireScope::new("view:users"))
            .merge(
                Router::new()
                    .route("/api/audit", get(me))
                    .route_layer(RequireRole::new("auditor", Some("emea"))),
            );
        let app = router(provider).merge(api).layer(Extension(resource));
        let task = tokio::spawn(async move {
            // With the peer address, so the per-IP rate limits see the client (`ClientIp`).
            let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
            axum::serve(listener, app).await.expect("axum serves");
        });
        http::Server {
            base,
            stop: Box::new(AbortOnDrop(task)),
        }
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

suite!(Axum);
