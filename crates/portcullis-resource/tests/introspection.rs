//! `IntrospectionValidator` against a real provider over HTTP (RFC 7662).
//!
//! Each test starts a `portcullis_endpoints::Provider` on the memory store, served by a
//! tiny axum app on `127.0.0.1:0`, and shares the provider's `ManualClock` with the
//! validator, so expiry and cache TTLs move together. The app counts the introspection
//! requests it receives, which is how the cache tests see whether the provider was asked.

#![cfg(feature = "introspection")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::Bytes;
use portcullis_endpoints::Provider;
use portcullis_grants::{Clock, Issuance, ManualClock, NoClaims, Signing, mint_tokens};
use portcullis_registry::{
    ClientKind, NewClient, RoleAssignment, Scope, ScopeCatalog, ScopeDefinition, ScopeSet,
};
use portcullis_resource::{
    BearerError, IntrospectionValidator, IntrospectionValidatorBuilder, Resource, TokenValidator,
};
use portcullis_store::{ClientStore, FamilyId, MemoryStore, ScopeStore, TokenStore};
use portcullis_tokens::Subject;
use time::Duration;

const ISSUER: &str = "https://id.example";
const SCOPES: [&str; 2] = ["view:users", "create:users"];

/// A registered client's credentials.
struct Credentials {
    id: String,
    secret: String,
}

#[derive(Clone)]
struct AppState {
    provider: Provider,
    introspections: Arc<AtomicUsize>,
}

/// A provider served over HTTP, with a resource-server client (`introspect_any`) and a
/// machine client (client credentials, `view:users`, role `auditor` in `emea`).
struct Fixture {
    provider: Provider,
    store: Arc<MemoryStore>,
    clock: Arc<ManualClock>,
    base: String,
    introspections: Arc<AtomicUsize>,
    resource_server: Credentials,
    machine: Credentials,
    http: reqwest::Client,
}

/// `axum::extract::Request` → `http::Request<Bytes>`, as an adapter would do.
async fn into_http(request: Request) -> http::Request<Bytes> {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    http::Request::from_parts(parts, body)
}

async fn introspect(State(state): State<AppState>, request: Request) -> Response {
    state.introspections.fetch_add(1, Ordering::SeqCst);
    let response = state.provider.introspect(into_http(request).await).await;
    response.map(Body::from)
}

async fn token(State(state): State<AppState>, request: Request) -> Response {
    let response = state.provider.token(into_http(request).await).await;
    response.map(Body::from)
}

async fn revoke(State(state): State<AppState>, request: Request) -> Response {
    let response = state.provider.revoke(into_http(request).await).await;
    response.map(Body::from)
}

/// A provider having a bad day.
async fn broken() -> Response {
    (StatusCode::INTERNAL_SERVER_ERROR, "upstream failure").into_response()
}

/// A proxy answering for the provider with something that is not an introspection answer.
async fn not_json() -> Response {
    (StatusCode::OK, "<html>maintenance</html>").into_response()
}

/// A provider that does not answer in time.
async fn slow() -> Response {
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    (StatusCode::OK, r#"{"active":false}"#).into_response()
}

impl Fixture {
    async fn start() -> Fixture {
        Fixture::start_with(|c| c).await
    }

    /// Starts the provider; `machine` adjusts the machine client.
    async fn start_with(machine: impl FnOnce(NewClient) -> NewClient) -> Fixture {
        let store = Arc::new(MemoryStore::new());
        let clock = Arc::new(ManualClock::starting_now());
        for name in SCOPES {
            store
                .insert_scope(ScopeDefinition::new(Scope::new(name).unwrap(), name))
                .await
                .unwrap();
        }
        let provider = Provider::builder(ISSUER, store.clone())
            .clock(clock.clone())
            .build()
            .unwrap();
        let introspections = Arc::new(AtomicUsize::new(0));
        let app = Router::new()
            .route("/oauth/introspect", post(introspect))
            .route("/oauth/token", post(token))
            .route("/oauth/revoke", post(revoke))
            .route("/broken/introspect", post(broken))
            .route("/not-json/introspect", post(not_json))
            .route("/slow/introspect", post(slow))
            .with_state(AppState {
                provider: provider.clone(),
                introspections: introspections.clone(),
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });

        let mut fixture = Fixture {
            provider,
            store,
            clock,
            base,
            introspections,
            resource_server: Credentials {
                id: String::new(),
                secret: String::new(),
            },
            machine: Credentials {
                id: String::new(),
                secret: String::new(),
            },
            http: reqwest::Client::new(),
        };
        fixture.resource_server = fixture
            .register(
                NewClient::new("Orders API", ClientKind::Machine)
                    .client_id("orders-api")
                    .introspect_any(true),
            )
            .await;
        fixture.machine = fixture
            .register(machine(
                NewClient::new("Reports", ClientKind::Machine)
                    .scopes(["view:users"])
                    .role("auditor", Some("emea")),
            ))
            .await;
        fixture
    }

    fn catalog() -> ScopeCatalog {
        let mut catalog = ScopeCatalog::with_oidc_scopes();
        for name in SCOPES {
            catalog
                .insert(ScopeDefinition::new(Scope::new(name).unwrap(), name))
                .unwrap();
        }
        catalog
    }

    async fn register(&self, client: NewClient) -> Credentials {
        let issued = client.build(&Fixture::catalog()).unwrap();
        self.store
            .insert_client(issued.client.clone())
            .await
            .unwrap();
        Credentials {
            id: issued.client.id.as_str().to_owned(),
            secret: issued.secret.unwrap().expose_secret().to_owned(),
        }
    }

    fn introspect_url(&self) -> String {
        format!("{}/oauth/introspect", self.base)
    }

    /// A validator for this provider, as the resource server, sharing the provider's clock.
    fn validator(&self) -> IntrospectionValidatorBuilder {
        IntrospectionValidator::builder(
            self.introspect_url(),
            &self.resource_server.id,
            &self.resource_server.secret,
        )
        .clock(self.clock.clone())
    }

    /// How many introspection requests the provider has received.
    fn introspections(&self) -> usize {
        self.introspections.load(Ordering::SeqCst)
    }

    /// An access token for the machine client, by the client credentials grant over HTTP.
    async fn machine_token(&self) -> String {
        let response = self
            .http
            .post(format!("{}/oauth/token", self.base))
            .basic_auth(&self.machine.id, Some(&self.machine.secret))
            .form(&[
                ("grant_type", "client_credentials"),
                ("scope", "view:users"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: serde_json::Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// Revokes `token` at the provider (RFC 7009) as the machine client.
    async fn revoke_machine_token(&self, token: &str) {
        let response = self
            .http
            .post(format!("{}/oauth/revoke", self.base))
            .basic_auth(&self.machine.id, Some(&self.machine.secret))
            .form(&[("token", token), ("token_type_hint", "access_token")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
}

fn is_invalid_token(result: &Result<portcullis_resource::AccessToken, BearerError>) -> bool {
    matches!(result, Err(BearerError::InvalidToken(_)))
}

fn is_unavailable(result: &Result<portcullis_resource::AccessToken, BearerError>) -> bool {
    matches!(result, Err(BearerError::Unavailable(_)))
}

// ---- answers --------------------------------------------------------------------------

#[tokio::test]
async fn rfc7662_2_2_active_machine_token_yields_its_client_scopes_roles_and_times() {
    let fixture = Fixture::start().await;
    let issued_at = fixture.clock.now();
    let token = fixture.machine_token().await;
    let validator = fixture.validator().build().unwrap();

    let access = validator.validate(&token).await.unwrap();
    assert_eq!(access.client_id.as_str(), fixture.machine.id);
    assert_eq!(access.subject, None, "client credentials: no user");
    assert_eq!(access.scopes, ScopeSet::parse("view:users").unwrap());
    assert_eq!(
        access.roles,
        vec![RoleAssignment::new("auditor", Some("emea"))]
    );
    assert!(access.has_role("auditor", Some("emea")));
    assert_eq!(access.issued_at, issued_at);
    assert_eq!(access.expires_at, issued_at + Duration::hours(1));
    assert_eq!(fixture.introspections(), 1);
}

/// Mints tokens for a user through a web client straight into the store (the code flow is
/// not what is under test): an access token and a refresh token.
async fn user_tokens(fixture: &Fixture) -> (String, String) {
    let issued = NewClient::new("Web app", ClientKind::Web)
        .redirect_uri("https://app.example/callback")
        .scopes(["view:users", "create:users"])
        .build(&Fixture::catalog())
        .unwrap();
    fixture
        .store
        .insert_client(issued.client.clone())
        .await
        .unwrap();
    let scopes = ScopeSet::parse("view:users create:users").unwrap();
    let minted = mint_tokens(Issuance {
        audience: portcullis_grants::Audience::unrestricted(),
        confirmation: None,
        client: &issued.client,
        subject: Some(Subject::new("user-alice").unwrap()),
        scopes: scopes.clone(),
        family: FamilyId::generate().unwrap(),
        now: fixture.provider.now(),
        refresh_scopes: Some(scopes),
        auth_time: None,
        signing: Signing {
            settings: fixture.provider.issuer_settings(),
            keys: &fixture.provider.signing_keys(),
            claims: &NoClaims,
        },
    })
    .unwrap();
    fixture.store.insert_tokens(minted.records).await.unwrap();
    (
        minted.response.access_token.expose_secret().to_owned(),
        minted
            .response
            .refresh_token
            .unwrap()
            .expose_secret()
            .to_owned(),
    )
}

#[tokio::test]
async fn rfc7662_2_2_active_user_token_yields_its_subject() {
    let fixture = Fixture::start().await;
    let (access_token, _) = user_tokens(&fixture).await;
    let validator = fixture.validator().build().unwrap();

    let access = validator.validate(&access_token).await.unwrap();
    assert_eq!(access.subject, Some(Subject::new("user-alice").unwrap()));
    assert!(access.has_scope("view:users") && access.has_scope("create:users"));
    assert!(access.roles.is_empty());
}

#[tokio::test]
async fn refresh_token_is_not_an_access_token() {
    let fixture = Fixture::start().await;
    let (_, refresh_token) = user_tokens(&fixture).await;
    let validator = fixture.validator().build().unwrap();
    // The provider describes it as active, with token_type refresh_token...
    let answer: serde_json::Value = fixture
        .http
        .post(fixture.introspect_url())
        .basic_auth(
            &fixture.resource_server.id,
            Some(&fixture.resource_server.secret),
        )
        .form(&[("token", refresh_token.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["active"], true);
    assert_eq!(answer["token_type"], "refresh_token");
    // ...which a resource server must not accept as a bearer access token.
    assert!(is_invalid_token(&validator.validate(&refresh_token).await));
    assert_eq!(validator.cache_len(), 0);
}

#[tokio::test]
async fn rfc7662_2_2_unknown_or_malformed_token_is_invalid_token() {
    let fixture = Fixture::start().await;
    let validator = fixture.validator().build().unwrap();
    for token in [
        "pc_at_unknown",
        "not-a-portcullis-token",
        "a==",
        "pc_rt_xyz",
    ] {
        let result = validator.validate(token).await;
        assert!(is_invalid_token(&result), "{token}: {result:?}");
        assert_eq!(result.unwrap_err().status(), 401);
    }
    assert_eq!(fixture.introspections(), 4);
    // Refused locally, without a round trip: nothing to ask about, or more than any
    // provider would accept.
    assert!(is_invalid_token(&validator.validate("").await));
    assert!(is_invalid_token(
        &validator.validate(&"a".repeat(20_000)).await
    ));
    assert_eq!(fixture.introspections(), 4);
}

#[tokio::test]
async fn resource_server_without_introspect_any_sees_other_clients_tokens_as_invalid() {
    // DESIGN §4.1: a client may introspect only its own tokens unless introspect_any. The
    // provider says `active: false` (it must not reveal more), so this misconfiguration
    // surfaces as 401s, not 503s: register resource servers with introspect_any.
    let fixture = Fixture::start().await;
    let plain = fixture
        .register(NewClient::new("Plain API", ClientKind::Machine))
        .await;
    let token = fixture.machine_token().await;
    let validator =
        IntrospectionValidator::builder(fixture.introspect_url(), plain.id, plain.secret)
            .clock(fixture.clock.clone())
            .build()
            .unwrap();
    assert!(is_invalid_token(&validator.validate(&token).await));
}

// ---- the provider cannot decide: 503, never 401 ----------------------------------------

#[tokio::test]
async fn wrong_resource_server_credentials_are_unavailable_not_invalid_token() {
    // The provider answers 401 invalid_client: a configuration error of the resource
    // server, not a verdict on the caller's token. It surfaces as 503 (and an error log),
    // so a misconfigured resource server never logs its users out.
    let fixture = Fixture::start().await;
    let token = fixture.machine_token().await;
    for (id, secret) in [
        (fixture.resource_server.id.as_str(), "wrong secret"),
        ("no-such-client", fixture.resource_server.secret.as_str()),
    ] {
        let validator = IntrospectionValidator::builder(fixture.introspect_url(), id, secret)
            .clock(fixture.clock.clone())
            .build()
            .unwrap();
        let result = validator.validate(&token).await;
        assert!(is_unavailable(&result), "{id}: {result:?}");
        assert_eq!(result.unwrap_err().status(), 503);
    }
}

#[tokio::test]
async fn provider_unreachable_is_unavailable() {
    let fixture = Fixture::start().await;
    let token = fixture.machine_token().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let validator = IntrospectionValidator::builder(
        format!("http://127.0.0.1:{port}/oauth/introspect"),
        &fixture.resource_server.id,
        &fixture.resource_server.secret,
    )
    .build()
    .unwrap();
    let resource = Resource::new(validator);
    let mut headers = http::HeaderMap::new();
    headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
    let err = resource.authenticate(&headers).await.unwrap_err();
    assert!(matches!(err, BearerError::Unavailable(_)), "{err:?}");
    let response = resource.error_response(&err);
    assert_eq!(response.status(), 503);
    assert!(response.headers().get("www-authenticate").is_none());
}

#[tokio::test]
async fn provider_error_status_is_unavailable() {
    let fixture = Fixture::start().await;
    let validator = IntrospectionValidator::builder(
        format!("{}/broken/introspect", fixture.base),
        &fixture.resource_server.id,
        &fixture.resource_server.secret,
    )
    .build()
    .unwrap();
    assert!(is_unavailable(&validator.validate("pc_at_anything").await));
}

#[tokio::test]
async fn unparseable_answer_is_unavailable() {
    let fixture = Fixture::start().await;
    let validator = IntrospectionValidator::builder(
        format!("{}/not-json/introspect", fixture.base),
        &fixture.resource_server.id,
        &fixture.resource_server.secret,
    )
    .build()
    .unwrap();
    assert!(is_unavailable(&validator.validate("pc_at_anything").await));
}

#[tokio::test]
async fn slow_provider_times_out_as_unavailable() {
    let fixture = Fixture::start().await;
    let validator = IntrospectionValidator::builder(
        format!("{}/slow/introspect", fixture.base),
        &fixture.resource_server.id,
        &fixture.resource_server.secret,
    )
    .timeout(Duration::milliseconds(200))
    .build()
    .unwrap();
    let started = std::time::Instant::now();
    assert!(is_unavailable(&validator.validate("pc_at_anything").await));
    assert!(started.elapsed() < std::time::Duration::from_secs(4));
}

// ---- cache ----------------------------------------------------------------------------

#[tokio::test]
async fn cache_second_validate_within_ttl_asks_nobody() {
    let fixture = Fixture::start().await;
    let token = fixture.machine_token().await;
    let validator = fixture.validator().build().unwrap();
    let first = validator.validate(&token).await.unwrap();
    fixture.clock.advance(Duration::seconds(59));
    let second = validator.validate(&token).await.unwrap();
    assert_eq!(first, second);
    assert_eq!(fixture.introspections(), 1);
    assert_eq!(validator.cache_len(), 1);
}

#[tokio::test]
async fn cache_asks_again_once_ttl_has_passed() {
    let fixture = Fixture::start().await;
    let token = fixture.machine_token().await;
    let ttl = Duration::seconds(30);
    let validator = fixture.validator().cache_ttl(ttl).build().unwrap();
    validator.validate(&token).await.unwrap();
    fixture.clock.advance(ttl);
    validator.validate(&token).await.unwrap();
    assert_eq!(fixture.introspections(), 2);
    validator.validate(&token).await.unwrap();
    assert_eq!(
        fixture.introspections(),
        2,
        "the fresh answer is cached in turn"
    );
}

#[tokio::test]
async fn cache_serves_a_revoked_token_until_ttl_then_refuses_it() {
    let fixture = Fixture::start().await;
    let token = fixture.machine_token().await;
    let ttl = Duration::seconds(60);
    let validator = fixture.validator().cache_ttl(ttl).build().unwrap();
    validator.validate(&token).await.unwrap();

    fixture.clock.advance(Duration::seconds(10));
    fixture.revoke_machine_token(&token).await;
    // Within ttl of the answer: still served from the cache (the documented staleness).
    fixture.clock.advance(Duration::seconds(49));
    assert!(validator.validate(&token).await.is_ok());
    assert_eq!(fixture.introspections(), 1);
    // ttl after the question: asked again, and refused.
    fixture.clock.advance(Duration::seconds(1));
    assert!(is_invalid_token(&validator.validate(&token).await));
    assert_eq!(fixture.introspections(), 2);
    // Refusals are not cached: every later request asks (and is refused).
    assert!(is_invalid_token(&validator.validate(&token).await));
    assert_eq!(fixture.introspections(), 3);
}

#[tokio::test]
async fn cache_never_serves_an_answer_at_or_past_the_tokens_exp() {
    // A 300 s token, a one-hour TTL: the entry must end at exp, not at ttl.
    let fixture = Fixture::start_with(|c| c.access_token_lifetime_secs(300)).await;
    let token = fixture.machine_token().await;
    let validator = fixture
        .validator()
        .cache_ttl(Duration::hours(1))
        .build()
        .unwrap();
    let access = validator.validate(&token).await.unwrap();
    assert_eq!(
        access.expires_at,
        fixture.clock.now() + Duration::seconds(300)
    );

    fixture.clock.advance(Duration::seconds(299));
    assert!(validator.validate(&token).await.is_ok());
    assert_eq!(fixture.introspections(), 1);

    fixture.clock.advance(Duration::seconds(1)); // now == exp
    assert!(is_invalid_token(&validator.validate(&token).await));
    assert_eq!(
        fixture.introspections(),
        2,
        "not served from the cache at exp"
    );

    fixture.clock.advance(Duration::minutes(10)); // well past exp, still within ttl
    assert!(is_invalid_token(&validator.validate(&token).await));
    assert_eq!(fixture.introspections(), 3);
}

#[tokio::test]
async fn cache_bound_is_respected_and_the_soonest_to_expire_goes_first() {
    let fixture = Fixture::start().await;
    let validator = fixture.validator().cache_capacity(2).build().unwrap();
    let mut tokens = Vec::new();
    for _ in 0..3 {
        let token = fixture.machine_token().await;
        validator.validate(&token).await.unwrap();
        assert!(validator.cache_len() <= 2);
        tokens.push(token);
        // Distinct entry lifetimes, so which one goes is determined.
        fixture.clock.advance(Duration::seconds(1));
    }
    assert_eq!(fixture.introspections(), 3);
    assert_eq!(validator.cache_len(), 2);
    // The third and second were kept; the first, the soonest to expire, was dropped.
    validator.validate(&tokens[2]).await.unwrap();
    validator.validate(&tokens[1]).await.unwrap();
    assert_eq!(fixture.introspections(), 3);
    validator.validate(&tokens[0]).await.unwrap();
    assert_eq!(fixture.introspections(), 4);
    assert_eq!(validator.cache_len(), 2);
}

#[tokio::test]
async fn cache_ttl_zero_disables_caching() {
    let fixture = Fixture::start().await;
    let token = fixture.machine_token().await;
    let validator = fixture
        .validator()
        .cache_ttl(Duration::ZERO)
        .build()
        .unwrap();
    for expected in 1..=3 {
        validator.validate(&token).await.unwrap();
        assert_eq!(fixture.introspections(), expected);
    }
    assert_eq!(validator.cache_len(), 0);
}

#[tokio::test]
async fn cache_keeps_no_negative_answers_so_a_new_token_works_at_once() {
    let fixture = Fixture::start().await;
    let validator = fixture.validator().build().unwrap();
    assert!(is_invalid_token(&validator.validate("pc_at_unknown").await));
    assert!(is_invalid_token(&validator.validate("pc_at_unknown").await));
    assert_eq!(fixture.introspections(), 2);
    assert_eq!(validator.cache_len(), 0);
    let token = fixture.machine_token().await;
    assert!(validator.validate(&token).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_is_safe_under_concurrent_validation() {
    let fixture = Fixture::start().await;
    let validator = Arc::new(fixture.validator().cache_capacity(3).build().unwrap());
    let mut tokens = Vec::new();
    for _ in 0..5 {
        tokens.push(fixture.machine_token().await);
    }
    let mut tasks = Vec::new();
    for round in 0..40 {
        let validator = validator.clone();
        let token = tokens[round % tokens.len()].clone();
        tasks.push(tokio::spawn(
            async move { validator.validate(&token).await },
        ));
    }
    for task in tasks {
        assert!(task.await.unwrap().is_ok());
    }
    assert!(validator.cache_len() <= 3);
}
