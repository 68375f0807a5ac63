//! The SAML 2.0 bearer grant (RFC 7522) end to end through the axum router: an assertion
//! signed at test time by a generated identity-provider key is exchanged at the token
//! endpoint by a machine client, and the access token opens a protected route with the
//! identity provider's subject. Discovery lists the grant only when it is registered.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

#[path = "../../portcullis-grants/tests/support/saml_assertion.rs"]
mod saml_assertion;
#[path = "../../portcullis-grants/tests/support/saml_idp.rs"]
mod saml_idp;

use std::sync::Arc;

use axum::routing::get;
use axum::{Extension, Router};
use portcullis_axum::{Bearer, Provider, RequireScope, Resource};
use portcullis_grants::{Saml2BearerGrant, XmlSecVerifier};
use portcullis_registry::{ClientKind, GrantType, NewClient, Scope, ScopeCatalog, ScopeDefinition};
use portcullis_resource::StoreValidator;
use portcullis_store::{ClientStore, MemoryStore, ScopeStore};
use saml_assertion::{AssertionSpec, IDP, base64url};
use saml_idp::TestIdp;
use serde_json::Value;
use time::OffsetDateTime;

const SAML2_BEARER: &str = "urn:ietf:params:oauth:grant-type:saml2-bearer";

struct App {
    base: String,
    http: reqwest::Client,
    client_id: String,
    secret: String,
}

/// A provider on a loopback port, with the SAML grant registered when `idp` is given, a
/// machine client holding the grant, and `/users` guarded by `view:users`.
async fn start(idp: Option<&TestIdp>) -> App {
    let store = Arc::new(MemoryStore::new());
    let mut catalog = ScopeCatalog::with_oidc_scopes();
    let scope = ScopeDefinition::new(Scope::new("view:users").unwrap(), "view users");
    store.insert_scope(scope.clone()).await.unwrap();
    catalog.insert(scope).unwrap();
    let issued = NewClient::new("partner portal", ClientKind::Machine)
        .client_id("partner-portal")
        .scopes(["view:users"])
        .grant_types([GrantType::Saml2Bearer])
        .build(&catalog)
        .unwrap();
    store.insert_client(issued.client).await.unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut builder = Provider::builder(base.clone(), store.clone());
    if let Some(idp) = idp {
        builder = builder.grant(Saml2BearerGrant::new(
            IDP,
            format!("{base}/oauth/token"),
            XmlSecVerifier::from_pem(&idp.cert_pem).unwrap(),
            store.clone(),
        ));
    }
    let provider = builder.build().unwrap();
    let resource = Resource::new(StoreValidator::new(store)).realm("test-api");
    let whoami = |Bearer(token): Bearer| async move {
        format!(
            "{} {} {}",
            token
                .subject
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            token.client_id,
            token.scopes
        )
    };
    let app = Router::new()
        .merge(
            Router::new()
                .route("/users", get(whoami))
                .route_layer(RequireScope::new("view:users")),
        )
        .merge(portcullis_axum::router(provider))
        .layer(Extension(resource));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    App {
        base,
        http: reqwest::Client::new(),
        client_id: "partner-portal".into(),
        secret: issued.secret.unwrap().expose_secret().to_owned(),
    }
}

impl App {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A valid assertion for this server, signed by `idp`.
    fn assertion(&self, idp: &TestIdp) -> String {
        let spec = AssertionSpec {
            recipient: Some(self.url("/oauth/token")),
            audience: Some(self.base.clone()),
            ..AssertionSpec::valid(OffsetDateTime::now_utc().replace_nanosecond(0).unwrap())
        };
        base64url(&idp.sign(&spec.to_xml(), &spec.id))
    }

    async fn token(&self, assertion: &str) -> (u16, Value) {
        let response = self
            .http
            .post(self.url("/oauth/token"))
            .basic_auth(&self.client_id, Some(&self.secret))
            .form(&[("grant_type", SAML2_BEARER), ("assertion", assertion)])
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    async fn grant_types_supported(&self) -> Vec<String> {
        let discovery: Value = self
            .http
            .get(self.url("/.well-known/oauth-authorization-server"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        serde_json::from_value(discovery["grant_types_supported"].clone()).unwrap()
    }
}

#[tokio::test]
async fn rfc7522_2_1_assertion_exchanged_for_a_token_that_opens_a_protected_route() {
    let idp = TestIdp::generate();
    let app = start(Some(&idp)).await;
    let assertion = app.assertion(&idp);

    let (status, body) = app.token(&assertion).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "view:users");
    assert!(body.get("refresh_token").is_none());
    let access_token = body["access_token"].as_str().unwrap();

    let response = app
        .http
        .get(app.url("/users"))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.text().await.unwrap(),
        "alice@idp.example partner-portal view:users"
    );

    // RFC 7522 §3 item 6 / §3.1: the same assertion again is invalid_grant.
    let (status, body) = app.token(&assertion).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");

    // RFC 7522 §3 item 9: signed by a key the server does not trust.
    let stranger = TestIdp::generate();
    let (status, body) = app.token(&app.assertion(&stranger)).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn rfc8414_2_discovery_lists_the_grant_only_when_registered() {
    let idp = TestIdp::generate();
    let with = start(Some(&idp)).await;
    assert!(
        with.grant_types_supported()
            .await
            .iter()
            .any(|g| g == SAML2_BEARER)
    );

    let without = start(None).await;
    assert!(
        !without
            .grant_types_supported()
            .await
            .iter()
            .any(|g| g == SAML2_BEARER)
    );
    // And the token endpoint does not know it (RFC 6749 §5.2).
    let (status, body) = without.token(&without.assertion(&idp)).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "unsupported_grant_type");
}
