//! The shared HTTP suite under actix-web.

#![allow(clippy::expect_used)]

mod http;

use std::net::TcpListener;

use actix_web::{App, HttpResponse, HttpServer, web};
use portcullis_actix::{Bearer, RequireRole, RequireScope, configure};
use portcullis_endpoints::Provider;
use portcullis_resource::Resource;
use serde_json::json;

struct Actix;

async fn me(Bearer(token): Bearer) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "sub": token.subject.as_ref().map(|s| s.as_str()),
        "client_id": token.client_id.as_str(),
        "scope": token.scopes.to_string(),
    }))
}

impl http::Adapter for Actix {
    const NAME: &'static str = "actix-web";

    async fn serve(listener: TcpListener, provider: Provider, resource: Resource) -> http::Server {
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(resource.clone()))
                .configure(configure(provider.clone()))
                .service(
                    web::resource("/api/me")
                        .wrap(RequireScope::new("view:users"))
                        .route(web::get().to(me)),
                )
                .service(
                    web::resource("/api/audit")
                        .wrap(RequireRole::new("auditor", Some("emea")))
                        .route(web::get().to(me)),
                )
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .expect("actix listens")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        http::Server {
            base,
            stop: Box::new(StopOnDrop(handle)),
        }
    }
}

struct StopOnDrop(actix_web::dev::ServerHandle);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        // Not awaited: the test runtime ends right after, taking the server with it.
        drop(self.0.stop(false));
    }
}

suite!(Actix);
