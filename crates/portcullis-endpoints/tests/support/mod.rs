//! Shared fixtures for the endpoint tests: a provider on the memory store with a manual
//! clock, registered clients, and request builders. No framework: requests are plain
//! `http::Request<Bytes>`.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::{Request, Response};
use portcullis_endpoints::{Provider, ProviderBuilder};
use portcullis_grants::{Authenticator, BoxError, ManualClock};
use portcullis_registry::{Client, ClientKind, NewClient, Scope, ScopeCatalog, ScopeDefinition};
use portcullis_store::{ClientStore, MemoryStore, ScopeStore};
use portcullis_tokens::Subject;
use serde_json::Value;

pub const ISSUER: &str = "https://id.example";
pub const REDIRECT: &str = "https://app.example/callback";
pub const NATIVE_REDIRECT: &str = "http://127.0.0.1/callback";
/// RFC 7636 Appendix B.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
/// The application's scopes, created in every harness.
pub const APP_SCOPES: [&str; 4] = ["view:users", "create:users", "update:users", "delete:users"];

/// A user store with one user: alice / "correct horse" → subject `user-alice`.
pub struct OneUser;

#[async_trait]
impl Authenticator for OneUser {
    async fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<Subject>, BoxError> {
        Ok((username == "alice" && password == "correct horse")
            .then(|| Subject::new("user-alice").expect("subject")))
    }
}

/// A registered client and its plain secret (confidential clients only).
pub struct Registered {
    pub client: Client,
    pub secret: Option<String>,
}

impl Registered {
    pub fn id(&self) -> &str {
        self.client.id.as_str()
    }

    pub fn secret(&self) -> &str {
        self.secret.as_deref().expect("a confidential client")
    }

    /// `Authorization: Basic` value for this client (RFC 6749 §2.3.1 encoding).
    pub fn basic(&self) -> String {
        basic(self.id(), self.secret())
    }
}

pub fn basic(id: &str, secret: &str) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", enc(id), enc(secret)))
    )
}

pub struct Harness {
    pub provider: Provider,
    pub store: Arc<MemoryStore>,
    pub clock: Arc<ManualClock>,
}

impl Harness {
    /// The default provider (password grant on, via [`OneUser`]).
    pub async fn new() -> Harness {
        Harness::with(|b| b).await
    }

    /// A provider with extra builder settings.
    pub async fn with(configure: impl FnOnce(ProviderBuilder) -> ProviderBuilder) -> Harness {
        let store = Arc::new(MemoryStore::new());
        let clock = Arc::new(ManualClock::starting_now());
        for name in APP_SCOPES {
            store
                .insert_scope(ScopeDefinition::new(
                    Scope::new(name).unwrap(),
                    format!("{name} scope"),
                ))
                .await
                .unwrap();
        }
        let builder = Provider::builder(ISSUER, store.clone())
            .clock(clock.clone())
            .authenticator(OneUser);
        let provider = configure(builder).build().expect("valid provider");
        Harness {
            provider,
            store,
            clock,
        }
    }

    /// Registers a client built by `configure` from `NewClient::new(name, kind)`.
    pub async fn register(
        &self,
        kind: ClientKind,
        configure: impl FnOnce(NewClient) -> NewClient,
    ) -> Registered {
        let mut catalog = ScopeCatalog::with_oidc_scopes();
        for name in APP_SCOPES {
            catalog
                .insert(ScopeDefinition::new(Scope::new(name).unwrap(), name))
                .unwrap();
        }
        let issued = configure(NewClient::new(format!("{kind:?} test client"), kind))
            .build(&catalog)
            .expect("valid test client");
        self.store
            .insert_client(issued.client.clone())
            .await
            .unwrap();
        Registered {
            client: issued.client,
            secret: issued.secret.map(|s| s.expose_secret().to_owned()),
        }
    }

    /// A confidential web client: code + refresh, all scopes, redirect [`REDIRECT`].
    pub async fn web(&self) -> Registered {
        self.register(ClientKind::Web, |c| c.redirect_uri(REDIRECT).all_scopes())
            .await
    }

    /// A public SPA client: code with PKCE, all scopes, redirect [`REDIRECT`].
    pub async fn spa(&self) -> Registered {
        self.register(ClientKind::Spa, |c| c.redirect_uri(REDIRECT).all_scopes())
            .await
    }

    /// A public native client with a loopback redirect (any port, RFC 8252 §7.3).
    pub async fn native(&self) -> Registered {
        self.register(ClientKind::Native, |c| {
            c.redirect_uri(NATIVE_REDIRECT).all_scopes()
        })
        .await
    }

    /// A machine client: client credentials, scopes view:users and create:users, one role.
    pub async fn machine(&self) -> Registered {
        self.register(ClientKind::Machine, |c| {
            c.scopes(["view:users", "create:users"])
                .role("auditor", Some("emea"))
        })
        .await
    }

    /// A resource-owner client: password + refresh, all scopes.
    pub async fn resource_owner(&self) -> Registered {
        self.register(ClientKind::ResourceOwner, |c| c.all_scopes())
            .await
    }
}

/// A form POST to `path` with `body`, plus optional extra headers.
pub fn form_post(path: &str, body: &str, headers: &[(&str, &str)]) -> Request<Bytes> {
    let mut builder =
        Request::post(path).header("content-type", "application/x-www-form-urlencoded");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Bytes::from(body.to_owned())).unwrap()
}

/// A GET of `uri` (path and query).
pub fn get(uri: &str) -> Request<Bytes> {
    Request::get(uri).body(Bytes::new()).unwrap()
}

/// URL-encodes pairs into a form body or query string.
pub fn encode(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// The JSON body of a response.
pub fn json(response: &Response<Bytes>) -> Value {
    serde_json::from_slice(response.body()).unwrap_or_else(|err| {
        panic!(
            "not JSON ({err}): {}",
            String::from_utf8_lossy(response.body())
        )
    })
}

/// A header as text.
pub fn header<'a>(response: &'a Response<Bytes>, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}
