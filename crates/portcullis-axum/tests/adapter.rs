//! The adapter over a real socket: the router's endpoints, the body limit, the `Bearer`
//! extractor and the scope/role guards. Protocol behaviour itself is tested in
//! `portcullis-endpoints`; here we check that requests and answers cross the adapter intact.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;

use axum::routing::get;
use axum::{Extension, Router};
use portcullis_axum::{Bearer, Provider, RequireRole, RequireScope, Resource};
use portcullis_registry::{ClientKind, NewClient, Scope, ScopeCatalog, ScopeDefinition};
use portcullis_resource::StoreValidator;
use portcullis_store::{ClientStore, MemoryStore, ScopeStore};
use serde_json::Value;

const SCOPES: [&str; 2] = ["view:users", "delete:users"];
const BODY_LIMIT: usize = 1024;

struct App {
    base: String,
    http: reqwest::Client,
    client_id: String,
    secret: String,
}

/// The provider's router plus protected routes, served on a loopback port; a machine client
/// with scope `view:users` and role `auditor` in division `emea`.
async fn start() -> App {
    let store = Arc::new(MemoryStore::new());
    let mut catalog = ScopeCatalog::with_oidc_scopes();
    for name in SCOPES {
        let scope = ScopeDefinition::new(Scope::new(name).unwrap(), name);
        store.insert_scope(scope.clone()).await.unwrap();
        catalog.insert(scope).unwrap();
    }
    let issued = NewClient::new("reporting job", ClientKind::Machine)
        .client_id("reporting-job")
        .scopes(["view:users"])
        .role("auditor", Some("emea"))
        .build(&catalog)
        .unwrap();
    store.insert_client(issued.client).await.unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let provider = Provider::builder(base.clone(), store.clone())
        .max_body_bytes(BODY_LIMIT)
        .build()
        .unwrap();
    let resource = Resource::new(StoreValidator::new(store)).realm("test-api");

    let whoami =
        |Bearer(token): Bearer| async move { format!("{} {}", token.client_id, token.scopes) };
    let app = Router::new()
        .route("/open", get(whoami))
        .merge(
            Router::new()
                .route("/users", get(whoami))
                .route_layer(RequireScope::new("view:users")),
        )
        .merge(
            Router::new()
                .route("/users/delete", get(whoami))
                .route_layer(RequireScope::new("delete:users")),
        )
        .merge(
            Router::new()
                .route("/audit/emea", get(whoami))
                .route_layer(RequireRole::new("auditor", Some("emea")))
                .route_layer(RequireScope::new("view:users")),
        )
        .merge(
            Router::new()
                .route("/audit/home", get(whoami))
                .route_layer(RequireRole::new("auditor", None)),
        )
        .merge(portcullis_axum::router(provider))
        .layer(Extension(resource));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    App {
        base,
        http: reqwest::Client::new(),
        client_id: "reporting-job".into(),
        secret: issued.secret.unwrap().expose_secret().to_owned(),
    }
}

impl App {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn token_response(&self) -> reqwest::Response {
        self.http
            .post(self.url("/oauth/token"))
            .basic_auth(&self.client_id, Some(&self.secret))
            .form(&[
                ("grant_type", "client_credentials"),
                ("scope", "view:users"),
            ])
            .send()
            .await
            .unwrap()
    }

    async fn access_token(&self) -> String {
        let body: Value = self.token_response().await.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut request = self.http.get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response.headers()[name].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn token_request_round_trips() {
    let app = start().await;
    let response = app.token_response().await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "cache-control"), "no-store");
    assert_eq!(header(&response, "content-type"), "application/json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "view:users");
    assert!(body["access_token"].as_str().unwrap().starts_with("pc_at_"));
}

#[tokio::test]
async fn token_errors_keep_the_endpoint_shape() {
    let app = start().await;
    let response = app
        .http
        .post(app.url("/oauth/token"))
        .basic_auth(&app.client_id, Some("wrong"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(header(&response, "www-authenticate").starts_with("Basic realm="));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
}

#[tokio::test]
async fn wrong_method_is_answered_by_the_endpoint() {
    let app = start().await;
    let response = app.get("/oauth/token", None).await;
    assert_eq!(response.status(), 405);
    assert_eq!(header(&response, "allow"), "POST");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
}

#[tokio::test]
async fn oversized_body_is_413() {
    let app = start().await;
    for size in [BODY_LIMIT + 1, 4 * BODY_LIMIT] {
        let body = format!("grant_type=client_credentials&pad={}", "a".repeat(size));
        let response = app
            .http
            .post(app.url("/oauth/token"))
            .basic_auth(&app.client_id, Some(&app.secret))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 413, "body of {size} bytes");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_request");
    }
}

#[tokio::test]
async fn rfc6750_3_no_token_is_401_with_challenge() {
    let app = start().await;
    for path in ["/open", "/users"] {
        let response = app.get(path, None).await;
        assert_eq!(response.status(), 401, "{path}");
        assert_eq!(
            header(&response, "www-authenticate"),
            r#"Bearer realm="test-api""#
        );
    }
}

#[tokio::test]
async fn rfc6750_3_1_invalid_token_is_401() {
    let app = start().await;
    let response = app.get("/users", Some("pc_at_not-a-real-token")).await;
    assert_eq!(response.status(), 401);
    assert!(header(&response, "www-authenticate").contains(r#"error="invalid_token""#));
}

#[tokio::test]
async fn rfc6750_3_1_insufficient_scope_is_403() {
    let app = start().await;
    let token = app.access_token().await;
    let response = app.get("/users/delete", Some(&token)).await;
    assert_eq!(response.status(), 403);
    let challenge = header(&response, "www-authenticate");
    assert!(
        challenge.starts_with(r#"Bearer realm="test-api""#),
        "{challenge}"
    );
    assert!(challenge.contains(r#"error="insufficient_scope""#));
    assert!(challenge.contains(r#"scope="delete:users""#));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "insufficient_scope");
}

#[tokio::test]
async fn good_token_reaches_the_handler() {
    let app = start().await;
    let token = app.access_token().await;
    for path in ["/open", "/users"] {
        let response = app.get(path, Some(&token)).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.text().await.unwrap(), "reporting-job view:users");
    }
}

#[tokio::test]
async fn role_guard_checks_role_and_division() {
    let app = start().await;
    let token = app.access_token().await;
    let response = app.get("/audit/emea", Some(&token)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "reporting-job view:users");

    let response = app.get("/audit/home", Some(&token)).await;
    assert_eq!(response.status(), 403);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "insufficient_scope");

    assert_eq!(app.get("/audit/emea", None).await.status(), 401);
}

#[tokio::test]
async fn missing_resource_extension_is_500_saying_how_to_fix() {
    let app: Router = Router::new()
        .route("/me", get(|Bearer(_): Bearer| async { "unreachable" }))
        .merge(
            Router::new()
                .route("/guarded", get(|| async { "unreachable" }))
                .route_layer(RequireScope::new("view:users")),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    for path in ["/me", "/guarded"] {
        let response = reqwest::get(format!("{base}{path}")).await.unwrap();
        assert_eq!(response.status(), 500);
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains(".layer(axum::Extension(resource))")
        );
    }
}
