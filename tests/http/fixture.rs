//! One provider, its clients and a running server for a case.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::Arc;

use async_trait::async_trait;
use portcullis_endpoints::{Provider, ProviderBuilder};
use portcullis_grants::{Authenticator, BoxError, ClaimsSource, ManualClock};
use portcullis_registry::ScopeSet;
use portcullis_registry::{ClientKind, NewClient, Scope, ScopeCatalog, ScopeDefinition};
use portcullis_resource::{DpopPolicy, Resource, StoreValidator};
use portcullis_store::{ClientStore, MemoryStore, ScopeStore};
use portcullis_tokens::Subject;
use serde_json::Value;
use serde_json::{Map, json};

use super::{Adapter, Server};

pub const REDIRECT: &str = "http://127.0.0.1:9/callback";
pub const SIGNED_OUT: &str = "http://127.0.0.1:9/signed-out";
/// The protected API's resource identifier (RFC 8707): its validator refuses tokens
/// restricted to other resources.
pub const API_RESOURCE: &str = "https://users-api.example/";
pub const USER: &str = "alice";
pub const PASSWORD: &str = "correct horse battery staple";
/// RFC 7636 Appendix B.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const APP_SCOPES: [&str; 4] = ["view:users", "create:users", "update:users", "delete:users"];

/// alice / [`PASSWORD`] → subject `user-alice`.
struct OneUser;

#[async_trait]
impl Authenticator for OneUser {
    async fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<Subject>, BoxError> {
        Ok((username == USER && password == PASSWORD)
            .then(|| Subject::new("user-alice").expect("subject")))
    }
}

/// alice's profile, released by scope (OpenID Connect Core §5.4).
struct Directory;

#[async_trait]
impl ClaimsSource for Directory {
    async fn claims(
        &self,
        subject: &Subject,
        scopes: &ScopeSet,
    ) -> Result<Map<String, Value>, BoxError> {
        let mut claims = Map::new();
        if subject.as_str() == "user-alice" {
            if scopes.contains("profile") {
                claims.insert("name".into(), json!("Alice Example"));
                claims.insert("preferred_username".into(), json!("alice"));
            }
            if scopes.contains("email") {
                claims.insert("email".into(), json!("alice@example.com"));
                claims.insert("email_verified".into(), json!(true));
            }
        }
        Ok(claims)
    }
}

/// A registered client: id and (for confidential clients) its secret.
#[derive(Clone)]
pub struct Registered {
    pub id: String,
    pub secret: Option<String>,
}

impl Registered {
    pub fn secret(&self) -> &str {
        self.secret.as_deref().expect("a confidential client")
    }
}

pub struct Fixture {
    pub server: Server,
    pub provider: Provider,
    pub store: Arc<MemoryStore>,
    pub clock: Arc<ManualClock>,
    /// Confidential web client: code + refresh, all scopes, redirect [`REDIRECT`].
    pub web: Registered,
    /// Public SPA: code with PKCE, all scopes, redirect [`REDIRECT`].
    pub spa: Registered,
    /// Machine client: client credentials, `view:users create:users`, role auditor@emea.
    pub machine: Registered,
    /// Machine client without scopes or roles.
    pub bare_machine: Registered,
    /// A resource server allowed to introspect any token.
    pub resource_server: Registered,
    /// A browser-like client: no redirects followed, cookies kept.
    pub browser: reqwest::Client,
    /// A plain client: no redirects, no cookies.
    pub http: reqwest::Client,
}

impl Fixture {
    pub async fn start<A: Adapter>() -> Fixture {
        Fixture::start_with::<A>(|builder| builder).await
    }

    /// A fixture whose provider gets extra settings (signing keys, JWT access tokens…).
    pub async fn start_with<A: Adapter>(
        configure: impl FnOnce(ProviderBuilder) -> ProviderBuilder,
    ) -> Fixture {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let store = Arc::new(MemoryStore::new());
        let clock = Arc::new(ManualClock::starting_now());
        let mut catalog = ScopeCatalog::with_oidc_scopes();
        for name in APP_SCOPES {
            let definition =
                ScopeDefinition::new(Scope::new(name).expect("scope"), format!("{name} scope"));
            store
                .insert_scope(definition.clone())
                .await
                .expect("scope stored");
            catalog.insert(definition).expect("catalog");
        }
        let builder = Provider::builder(base.clone(), store.clone())
            .clock(clock.clone())
            .authenticator(OneUser)
            .claims(Directory);
        let provider = configure(builder).build().expect("a valid provider");
        let register = |new: NewClient| {
            let issued = new.build(&catalog).expect("a valid client");
            let registered = Registered {
                id: issued.client.id.to_string(),
                secret: issued.secret.map(|s| s.expose_secret().to_owned()),
            };
            (issued.client, registered)
        };
        let (web_client, web) = register(
            NewClient::new("Web app", ClientKind::Web)
                .redirect_uri(REDIRECT)
                .post_logout_redirect_uri(SIGNED_OUT)
                .all_scopes(),
        );
        let (spa_client, spa) = register(
            NewClient::new("Single page app", ClientKind::Spa)
                .redirect_uri(REDIRECT)
                .all_scopes(),
        );
        let (machine_client, machine) = register(
            NewClient::new("Billing job", ClientKind::Machine)
                .scopes(["view:users", "create:users"])
                .role("auditor", Some("emea")),
        );
        let (bare_client, bare_machine) = register(NewClient::new("Bare job", ClientKind::Machine));
        let (rs_client, resource_server) =
            register(NewClient::new("Users API", ClientKind::Machine).introspect_any(true));
        for client in [
            web_client,
            spa_client,
            machine_client,
            bare_client,
            rs_client,
        ] {
            store.insert_client(client).await.expect("client stored");
        }
        let resource = Resource::new(
            StoreValidator::new(store.clone())
                .clock(clock.clone())
                .audience(API_RESOURCE),
        )
        .realm("api")
        // RFC 9449 §11.1: the API remembers DPoP proofs, so a replay is refused.
        .dpop(DpopPolicy::default().replay_store(Arc::new(MemoryStore::new())));
        let server = A::serve(listener, provider.clone(), resource).await;
        assert_eq!(
            server.base,
            base,
            "{}: the server must listen where it was bound",
            A::NAME
        );
        let no_redirects =
            || reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
        Fixture {
            server,
            provider,
            store,
            clock,
            web,
            spa,
            machine,
            bare_machine,
            resource_server,
            browser: no_redirects().cookie_store(true).build().expect("client"),
            http: no_redirects().build().expect("client"),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base)
    }

    /// POSTs a form to `path` with optional Basic credentials.
    pub async fn post_form(
        &self,
        path: &str,
        pairs: &[(&str, &str)],
        basic: Option<(&str, &str)>,
    ) -> reqwest::Response {
        let mut request = self.http.post(self.url(path)).form(pairs);
        if let Some((id, secret)) = basic {
            request = request.basic_auth(encode(id), Some(encode(secret)));
        }
        request.send().await.expect("the server answers")
    }

    /// A client-credentials access token for `client` with `scope`.
    pub async fn machine_token(&self, client: &Registered, scope: &str) -> String {
        let response = self
            .post_form(
                "/oauth/token",
                &[("grant_type", "client_credentials"), ("scope", scope)],
                Some((&client.id, client.secret())),
            )
            .await;
        let body = body_json(response, 200).await;
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    /// GET `path` with `Authorization: Bearer token`.
    pub async fn api(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut request = self.http.get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("the server answers")
    }

    /// Whether the resource server is told `token` is active.
    pub async fn active(&self, token: &str) -> bool {
        let response = self
            .post_form(
                "/oauth/introspect",
                &[("token", token)],
                Some((&self.resource_server.id, self.resource_server.secret())),
            )
            .await;
        body_json(response, 200).await["active"] == Value::Bool(true)
    }
}

/// RFC 6749 §2.3.1: Basic credentials are form-urlencoded first.
pub fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// The JSON body, after checking the status.
pub async fn body_json(response: reqwest::Response, status: u16) -> Value {
    let got = response.status().as_u16();
    let text = response.text().await.expect("a body");
    assert_eq!(got, status, "body: {text}");
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("not JSON ({err}): {text}"))
}

/// A header's value as text.
pub fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The parameters of a redirect's query or fragment, checking it goes to `base`.
pub fn redirect_params(response: &reqwest::Response, base: &str) -> HashMap<String, String> {
    assert_eq!(response.status().as_u16(), 303, "expected a redirect");
    let location = header(response, "location").expect("a Location header");
    let rest = location
        .strip_prefix(base)
        .unwrap_or_else(|| panic!("{location} does not go to {base}"));
    url::form_urlencoded::parse(rest.trim_start_matches(['?', '#']).as_bytes())
        .into_owned()
        .collect()
}

/// The value of the `<input name="…" value="…">` named `name` in an HTML page.
pub fn input_value(html: &str, name: &str) -> Option<String> {
    html.split("<input").skip(1).find_map(|tag| {
        let tag = tag.split('>').next()?;
        let attribute = |attr: &str| {
            let start = tag.find(&format!("{attr}=\""))? + attr.len() + 2;
            let end = tag.get(start..)?.find('"')? + start;
            tag.get(start..end).map(unescape)
        };
        (attribute("name")? == name)
            .then(|| attribute("value"))
            .flatten()
    })
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}
