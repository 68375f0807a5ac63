//! The adapter over real HTTP: an actix-web `HttpServer` on a loopback port, driven by
//! reqwest. Tokens come from the token endpoint (client credentials).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpResponse, HttpServer, web};
use async_trait::async_trait;
use portcullis_actix::{Bearer, RequireRole, RequireScope, configure};
use portcullis_endpoints::{DEFAULT_MAX_BODY_BYTES, Provider};
use portcullis_registry::{ClientKind, NewClient, Scope, ScopeDefinition};
use portcullis_resource::{AccessToken, BearerError, Resource, StoreValidator, TokenValidator};
use portcullis_store::{ClientStore, MemoryStore, ScopeStore};
use serde_json::{Value, json};

const REALM: &str = "api";
const CLIENT_ID: &str = "reports";

/// Counts validations, to show that a guard's token is reused by `Bearer`.
struct Counting(StoreValidator, Arc<AtomicUsize>);

#[async_trait]
impl TokenValidator for Counting {
    async fn validate(&self, token: &str) -> Result<AccessToken, BearerError> {
        self.1.fetch_add(1, Ordering::SeqCst);
        self.0.validate(token).await
    }
}

/// Echoes what the handler learns from the token.
async fn echo(Bearer(token): Bearer) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "client_id": token.client_id.as_str(),
        "subject": token.subject.as_ref().map(|s| s.as_str().to_owned()),
        "scope": token.scopes.to_string(),
    }))
}

struct Server {
    base: String,
    handle: ServerHandle,
    secret: String,
    validations: Arc<AtomicUsize>,
    http: reqwest::Client,
}

impl Server {
    /// A provider on a memory store with one machine client (`reports`: scopes view:users
    /// and create:users, role auditor in emea), plus protected routes.
    async fn start() -> Server {
        let store = Arc::new(MemoryStore::new());
        for name in ["view:users", "create:users"] {
            let scope = ScopeDefinition::new(Scope::new(name).unwrap(), name);
            store.insert_scope(scope).await.unwrap();
        }
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let issuer = format!("http://127.0.0.1:{}", addr.port());
        let provider = Provider::builder(issuer, store.clone()).build().unwrap();
        let issued = NewClient::new("Reports", ClientKind::Machine)
            .client_id(CLIENT_ID)
            .scopes(["view:users", "create:users"])
            .role("auditor", Some("emea"))
            .build(&provider.scope_catalog().await.unwrap())
            .unwrap();
        store.insert_client(issued.client).await.unwrap();
        let validations = Arc::new(AtomicUsize::new(0));
        let validator = Counting(StoreValidator::new(store), validations.clone());
        let resource = Resource::new(validator).realm(REALM);

        let server = HttpServer::new(move || {
            App::new()
                .configure(configure(provider.clone()))
                .service(
                    web::scope("/api")
                        .app_data(web::Data::new(resource.clone()))
                        .route("/plain", web::get().to(echo))
                        .service(
                            web::resource("/create")
                                .wrap(RequireScope::new("create:users"))
                                .route(web::get().to(echo)),
                        )
                        .service(
                            web::resource("/users")
                                .wrap(RequireScope::new("view:users"))
                                .route(web::get().to(echo)),
                        )
                        .service(
                            web::resource("/audit/emea")
                                .wrap(RequireRole::new("auditor", Some("emea")))
                                .wrap(RequireScope::new("view:users"))
                                .route(web::get().to(echo)),
                        )
                        .service(
                            web::resource("/audit/home")
                                .wrap(RequireRole::new("auditor", None))
                                .route(web::get().to(echo)),
                        ),
                )
                // No Resource registered here: Bearer must say what is missing.
                .route("/unconfigured", web::get().to(echo))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Server {
            base: format!("http://{addr}"),
            handle,
            secret: issued.secret.unwrap().expose_secret().to_owned(),
            validations,
            http: reqwest::Client::builder().no_proxy().build().unwrap(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A client-credentials token request for `scope`.
    async fn token_response(&self, scope: &str) -> reqwest::Response {
        self.http
            .post(self.url("/oauth/token"))
            .basic_auth(CLIENT_ID, Some(&self.secret))
            .form(&[("grant_type", "client_credentials"), ("scope", scope)])
            .send()
            .await
            .unwrap()
    }

    async fn token(&self, scope: &str) -> String {
        let response = self.token_response(scope).await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut request = self.http.get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }

    async fn stop(self) {
        self.handle.stop(true).await;
    }
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response.headers()[name].to_str().unwrap().to_owned()
}

#[actix_web::test]
async fn token_request_round_trips() {
    let server = Server::start().await;
    let response = server.token_response("view:users").await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "cache-control"), "no-store");
    assert_eq!(header(&response, "content-type"), "application/json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "view:users");
    assert!(body["access_token"].as_str().unwrap().len() > 40);
    server.stop().await;
}

#[actix_web::test]
async fn wrong_client_secret_is_rfc6749_invalid_client() {
    let server = Server::start().await;
    let response = server
        .http
        .post(server.url("/oauth/token"))
        .basic_auth(CLIENT_ID, Some("wrong"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(header(&response, "www-authenticate").starts_with("Basic"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    server.stop().await;
}

#[actix_web::test]
async fn oversized_bodies_are_413_json() {
    let server = Server::start().await;
    for size in [DEFAULT_MAX_BODY_BYTES + 1, 1024 * 1024] {
        let body = format!("grant_type=client_credentials&pad={}", "a".repeat(size));
        let response = server
            .http
            .post(server.url("/oauth/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 413, "body of {size} bytes");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_request");
    }
    // A body at the limit is read whole and judged on its content.
    let at_limit = "grant_type=client_credentials&pad=";
    let pad = "a".repeat(DEFAULT_MAX_BODY_BYTES - at_limit.len());
    let response = server
        .http
        .post(server.url("/oauth/token"))
        .basic_auth(CLIENT_ID, Some(&server.secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("{at_limit}{pad}"))
        .send()
        .await
        .unwrap();
    assert_ne!(response.status(), 413);
    server.stop().await;
}

#[actix_web::test]
async fn endpoints_answer_wrong_methods_themselves() {
    let server = Server::start().await;
    let response = server.get("/oauth/token", None).await;
    assert_eq!(response.status(), 405);
    assert_eq!(header(&response, "allow"), "POST");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    server.stop().await;
}

#[actix_web::test]
async fn introspection_and_revocation_are_mounted() {
    let server = Server::start().await;
    let token = server.token("view:users").await;
    let introspect = |token: String| {
        server
            .http
            .post(server.url("/oauth/introspect"))
            .basic_auth(CLIENT_ID, Some(&server.secret))
            .form(&[("token", token)])
            .send()
    };
    let answer: Value = introspect(token.clone())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["active"], true);
    assert_eq!(answer["client_id"], CLIENT_ID);
    let revoked = server
        .http
        .post(server.url("/oauth/revoke"))
        .basic_auth(CLIENT_ID, Some(&server.secret))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    let answer: Value = introspect(token.clone())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer, json!({"active": false}));
    assert_eq!(server.get("/api/users", Some(&token)).await.status(), 401);
    server.stop().await;
}

#[actix_web::test]
async fn rfc6750_3_no_token_is_401_with_bare_challenge() {
    let server = Server::start().await;
    for path in ["/api/users", "/api/plain", "/api/audit/emea"] {
        let response = server.get(path, None).await;
        assert_eq!(response.status(), 401, "{path}");
        assert_eq!(
            header(&response, "www-authenticate"),
            r#"Bearer realm="api""#
        );
    }
    server.stop().await;
}

#[actix_web::test]
async fn rfc6750_2_1_tokens_only_from_the_authorization_header() {
    let server = Server::start().await;
    let token = server.token("view:users").await;
    let response = server
        .get(&format!("/api/users?access_token={token}"), None)
        .await;
    assert_eq!(response.status(), 401);
    server.stop().await;
}

#[actix_web::test]
async fn rfc6750_3_1_invalid_token_is_401_invalid_token() {
    let server = Server::start().await;
    let response = server.get("/api/users", Some("pc_at_unknown")).await;
    assert_eq!(response.status(), 401);
    assert!(header(&response, "www-authenticate").contains(r#"error="invalid_token""#));
    server.stop().await;
}

#[actix_web::test]
async fn rfc6750_3_1_missing_scope_is_403_insufficient_scope() {
    let server = Server::start().await;
    let token = server.token("view:users").await;
    let response = server.get("/api/create", Some(&token)).await;
    assert_eq!(response.status(), 403);
    let challenge = header(&response, "www-authenticate");
    assert!(challenge.starts_with(r#"Bearer realm="api", error="insufficient_scope""#));
    assert!(challenge.contains(r#"scope="create:users""#));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "insufficient_scope");
    server.stop().await;
}

#[actix_web::test]
async fn good_token_reaches_the_handler_validated_once() {
    let server = Server::start().await;
    let token = server.token("view:users").await;
    let response = server.get("/api/users", Some(&token)).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"client_id": CLIENT_ID, "subject": null, "scope": "view:users"})
    );
    // The guard validated the token; Bearer reused it.
    assert_eq!(server.validations.load(Ordering::SeqCst), 1);
    // Without a guard, Bearer validates it itself.
    let response = server.get("/api/plain", Some(&token)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(server.validations.load(Ordering::SeqCst), 2);
    server.stop().await;
}

#[actix_web::test]
async fn role_guard_passes_and_fails() {
    let server = Server::start().await;
    let token = server.token("view:users").await;
    let response = server.get("/api/audit/emea", Some(&token)).await;
    assert_eq!(response.status(), 200);
    // Two stacked guards, one validation.
    assert_eq!(server.validations.load(Ordering::SeqCst), 1);
    let response = server.get("/api/audit/home", Some(&token)).await;
    assert_eq!(response.status(), 403);
    assert!(header(&response, "www-authenticate").contains(r#"error="insufficient_scope""#));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "insufficient_scope");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("auditor")
    );
    server.stop().await;
}

#[actix_web::test]
async fn missing_resource_is_500_naming_what_to_register() {
    let server = Server::start().await;
    let token = server.token("view:users").await;
    let response = server.get("/unconfigured", Some(&token)).await;
    assert_eq!(response.status(), 500);
    let text = response.text().await.unwrap();
    assert!(text.contains("app_data"), "{text}");
    server.stop().await;
}

#[cfg(feature = "ui")]
#[actix_web::test]
async fn ui_pages_are_mounted() {
    let server = Server::start().await;
    for path in ["/oauth/login", "/oauth/consent", "/oauth/authorize"] {
        let response = server.get(path, None).await;
        assert_ne!(response.status(), 404, "{path}");
    }
    server.stop().await;
}
