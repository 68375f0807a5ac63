//! DESIGN §3, "no panics on any input": every endpoint answers any request — arbitrary
//! methods, query strings, bodies (raw bytes, and forms built from the real parameter names
//! with real and random values), `Authorization` and `Content-Type` headers — with a
//! well-formed response: a status in 200..=599; for the JSON endpoints (token, revocation,
//! introspection) `Cache-Control: no-store` and a JSON body with an `error` member whenever
//! the status is 400 or more; for the authorization endpoint a `Location` on every redirect
//! (and the JSON rules for any JSON answer). Revocation and introspection answers never
//! contain a token or client secret.
//!
//! One multi-thread runtime per test; each request runs in a spawned task so a panic shows
//! up as a failed case (with the input, shrunk) instead of tearing the runner down.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod support;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use http::{Method, Request, Response, Uri};
use portcullis_endpoints::{AuthenticatedUser, Authorization, Decision, Provider};
use portcullis_grants::{Issuance, NoClaims, Signing, mint_tokens};
use portcullis_registry::{ClientKind, ScopeSet};
use portcullis_store::{FamilyId, TokenStore};
use portcullis_tokens::{Subject, TokenKind, mint};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::Value;
use support::*;
use time::Duration;
use tokio::runtime::Runtime;

/// Cases per property: enough to reach every branch of the parsers, quick enough for CI.
const CASES: u32 = 256;

/// The parameter names of every endpoint, so structured bodies reach past the parsers.
const PARAMETER_NAMES: &[&str] = &[
    "grant_type",
    "code",
    "redirect_uri",
    "code_verifier",
    "refresh_token",
    "scope",
    "username",
    "password",
    "client_id",
    "client_secret",
    "token",
    "token_type_hint",
    "response_type",
    "response_mode",
    "state",
    "nonce",
    "prompt",
    "max_age",
    "login_hint",
    "id_token_hint",
    "code_challenge",
    "code_challenge_method",
    "request",
    "request_uri",
    "client_assertion",
    "client_assertion_type",
    "assertion",
    "audience",
    "resource",
];

/// Which endpoint a property drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Authorization,
    Token,
    Revocation,
    Introspection,
}

impl Endpoint {
    fn path(self) -> &'static str {
        match self {
            Endpoint::Authorization => "/oauth/authorize",
            Endpoint::Token => "/oauth/token",
            Endpoint::Revocation => "/oauth/revoke",
            Endpoint::Introspection => "/oauth/introspect",
        }
    }

    /// Sends `input` to the endpoint. At the authorization endpoint an interaction is
    /// completed at once (allowed with the requested scopes, or denied) so the redirect is
    /// checked too; `None` when the interaction is left waiting.
    async fn call(
        self,
        provider: &Provider,
        input: Input,
    ) -> Result<Option<Response<Bytes>>, String> {
        let request = input.request();
        Ok(Some(match self {
            Endpoint::Authorization => {
                let user = input.signed_in.then(|| AuthenticatedUser {
                    subject: Subject::new("user-alice").unwrap(),
                    auth_time: provider.now() - Duration::minutes(5),
                });
                match provider.authorize(request, user.as_ref()).await {
                    Authorization::Respond(response) => response,
                    Authorization::Interaction(interaction) => {
                        let decision = match input.decision % 3 {
                            0 => Decision::Allow {
                                subject: Subject::new("user-alice").unwrap(),
                                scopes: interaction.scopes.clone(),
                                auth_time: provider.now(),
                            },
                            1 => Decision::Deny,
                            _ => return Ok(None),
                        };
                        provider
                            .complete(&interaction.id, decision)
                            .await
                            .map_err(|err| {
                                format!("a fresh interaction failed to complete: {err}")
                            })?
                    }
                }
            }
            Endpoint::Token => provider.token(request).await,
            Endpoint::Revocation => provider.revoke(request).await,
            Endpoint::Introspection => provider.introspect(request).await,
        }))
    }

    /// Whether the endpoint always answers JSON (the back-channel endpoints).
    fn is_json(self) -> bool {
        self != Endpoint::Authorization
    }
}

/// A provider with clients of every kind and live tokens, plus the values a structured
/// request may borrow from it.
struct World {
    runtime: Runtime,
    provider: Provider,
    /// Client ids, client secrets, tokens, and protocol words.
    values: Vec<String>,
    /// The registered client ids.
    client_ids: Vec<String>,
    /// Valid `Authorization: Basic` values of the confidential clients.
    basics: Vec<String>,
    /// Every token minted: no endpoint may answer with one of them.
    tokens: Vec<String>,
    /// Every client secret: no endpoint may answer with one of them.
    secrets: Vec<String>,
}

impl World {
    fn new() -> World {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let mut values: Vec<String> = [
            "authorization_code",
            "refresh_token",
            "client_credentials",
            "password",
            "implicit",
            "urn:ietf:params:oauth:grant-type:device_code",
            "access_token",
            "id_token",
            "code",
            "token",
            "code id_token",
            "openid",
            "openid offline_access view:users",
            "view:users create:users",
            "none",
            "login consent",
            "S256",
            "plain",
            "alice",
            "correct horse",
            "0",
            "-1",
            "99999999999999999999",
            REDIRECT,
            NATIVE_REDIRECT,
            VERIFIER,
            CHALLENGE,
        ]
        .into_iter()
        .map(str::to_owned)
        .collect();
        let (provider, client_ids, basics, tokens, secrets) = runtime.block_on(async {
            let h = Harness::new().await;
            let clients = vec![
                h.web().await,
                h.spa().await,
                h.native().await,
                h.machine().await,
                h.resource_owner().await,
                h.register(ClientKind::Machine, |c| c.introspect_any(true))
                    .await,
            ];
            let client_ids: Vec<String> = clients.iter().map(|c| c.id().to_owned()).collect();
            let mut basics = Vec::new();
            let mut tokens = Vec::new();
            let mut secrets = Vec::new();
            for client in &clients {
                values.push(client.id().to_owned());
                if let Some(secret) = &client.secret {
                    basics.push(client.basic());
                    secrets.push(secret.clone());
                }
                let machine = client.client.kind == ClientKind::Machine;
                let minted = mint_tokens(Issuance {
                    audience: portcullis_grants::Audience::unrestricted(),
                    confirmation: None,
                    client: &client.client,
                    subject: (!machine).then(|| Subject::new("user-alice").unwrap()),
                    scopes: ScopeSet::parse("view:users").unwrap(),
                    family: FamilyId::generate().unwrap(),
                    now: h.provider.now(),
                    refresh_scopes: (!machine).then(ScopeSet::new),
                    auth_time: None,
                    signing: Signing {
                        settings: h.provider.issuer_settings(),
                        keys: &h.provider.signing_keys(),
                        claims: &NoClaims,
                    },
                })
                .unwrap();
                h.store.insert_tokens(minted.records).await.unwrap();
                tokens.push(minted.response.access_token.expose_secret().to_owned());
                if let Some(refresh) = &minted.response.refresh_token {
                    tokens.push(refresh.expose_secret().to_owned());
                }
            }
            tokens.push(
                mint(TokenKind::AuthorizationCode)
                    .unwrap()
                    .expose_secret()
                    .to_owned(),
            );
            (h.provider.clone(), client_ids, basics, tokens, secrets)
        });
        values.extend(tokens.iter().cloned());
        values.extend(secrets.iter().cloned());
        World {
            runtime,
            provider,
            values,
            client_ids,
            basics,
            tokens,
            secrets,
        }
    }

    /// Requests for `endpoint`: mostly POST forms with real names and values, and plenty of
    /// everything else.
    fn requests(&self, endpoint: Endpoint) -> impl Strategy<Value = Input> + use<> {
        let value = prop_oneof![
            16 => select(self.values.clone()),
            4 => ".{0,40}",
            2 => "[ -~]{0,80}",
            2 => Just(String::new()),
            1 => (0usize..20_000).prop_map(|n| "x".repeat(n)),
        ];
        let name = prop_oneof![
            6 => select(PARAMETER_NAMES).prop_map(str::to_owned),
            1 => "[a-z_]{1,12}",
            1 => ".{0,8}",
        ];
        // The parameters this endpoint is about, usually present and usually plausible,
        // then a few others.
        let tokens = select(self.tokens.clone());
        let plausible = |words: &'static [&'static str]| {
            prop_oneof![3 => select(words).prop_map(str::to_owned), 1 => value.clone()].boxed()
        };
        let core: Vec<(&'static str, BoxedStrategy<String>)> = match endpoint {
            Endpoint::Authorization => vec![
                (
                    "response_type",
                    plausible(&["code", "token", "code id_token", "id_token token"]),
                ),
                (
                    "client_id",
                    prop_oneof![3 => select(self.client_ids.clone()), 1 => value.clone()].boxed(),
                ),
                (
                    "redirect_uri",
                    plausible(&[REDIRECT, NATIVE_REDIRECT, "http://127.0.0.1:4567/callback"]),
                ),
                (
                    "scope",
                    plausible(&[
                        "openid",
                        "openid offline_access view:users",
                        "view:users",
                        "openid profile",
                    ]),
                ),
                ("state", value.clone().boxed()),
                ("code_challenge", plausible(&[CHALLENGE])),
                ("code_challenge_method", plausible(&["S256", "plain"])),
                ("nonce", value.clone().boxed()),
                (
                    "prompt",
                    plausible(&["none", "login", "consent", "none login"]),
                ),
                (
                    "max_age",
                    plausible(&["0", "60", "-1", "99999999999999999999"]),
                ),
                (
                    "response_mode",
                    plausible(&["query", "fragment", "form_post"]),
                ),
            ],
            Endpoint::Token => vec![
                (
                    "grant_type",
                    plausible(&[
                        "authorization_code",
                        "refresh_token",
                        "client_credentials",
                        "password",
                    ]),
                ),
                ("scope", value.clone().boxed()),
                (
                    "refresh_token",
                    prop_oneof![3 => tokens.clone(), 1 => value.clone()].boxed(),
                ),
                ("code", value.clone().boxed()),
            ],
            Endpoint::Revocation | Endpoint::Introspection => vec![
                (
                    "token",
                    prop_oneof![3 => tokens, 1 => value.clone()].boxed(),
                ),
                (
                    "token_type_hint",
                    plausible(&["access_token", "refresh_token"]),
                ),
            ],
        };
        let core = core
            .into_iter()
            .map(|(name, values)| {
                proptest::option::weighted(0.9, values.prop_map(move |v| (name.to_owned(), v)))
            })
            .collect::<Vec<_>>();
        let structured = (
            core,
            proptest::collection::vec((name, value), 0..5),
            proptest::bool::weighted(0.8),
            proptest::bool::weighted(0.7),
        )
            .prop_map(|(core, extra, distinct, encoded)| {
                let mut pairs: Vec<(String, String)> = core.into_iter().flatten().collect();
                pairs.extend(extra);
                if distinct {
                    // Mostly one value per name: repeated names are refused before anything
                    // interesting happens.
                    let mut seen = std::collections::HashSet::new();
                    pairs.retain(|(name, _)| seen.insert(name.clone()));
                }
                if encoded {
                    url::form_urlencoded::Serializer::new(String::new())
                        .extend_pairs(&pairs)
                        .finish()
                        .into_bytes()
                } else {
                    // Joined as is: stray '&', '=', '%' and '+' are part of the point.
                    pairs
                        .iter()
                        .map(|(n, v)| format!("{n}={v}"))
                        .collect::<Vec<_>>()
                        .join("&")
                        .into_bytes()
                }
            });
        let form_weight = if endpoint == Endpoint::Authorization {
            8
        } else {
            3
        };
        let body = prop_oneof![
            form_weight => structured.clone(),
            1 => proptest::collection::vec(any::<u8>(), 0..512),
            1 => Just(Vec::new()),
        ];
        let get = if endpoint == Endpoint::Authorization {
            16
        } else {
            1
        };
        let method = prop_oneof![
            16 => Just("POST".to_owned()),
            get => Just("GET".to_owned()),
            1 => select(vec!["GET", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "CONNECT", "TRACE"])
                .prop_map(str::to_owned),
            1 => "[A-Za-z!#$%&'*+.^_`|~0-9-]{1,10}",
        ];
        // The authorization endpoint reads its parameters from the query of a GET.
        let (with_query, structured_query) = if endpoint == Endpoint::Authorization {
            (0.95, 12)
        } else {
            (0.3, 1)
        };
        let query = proptest::option::weighted(
            with_query,
            prop_oneof![
                structured_query => structured
                    .prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
                1 => "[A-Za-z0-9._~!$&'()*+,;=:@/?%-]{0,120}",
                1 => select(self.values.clone()).prop_map(|v| format!("token={v}")),
            ],
        );
        let authorization = prop_oneof![
            8 => select(self.basics.clone()).prop_map(String::into_bytes),
            2 => Just(Vec::new()),
            1 => proptest::collection::vec(any::<u8>(), 0..64)
                .prop_map(|raw| format!("Basic {}", STANDARD.encode(raw)).into_bytes()),
            1 => (select(self.values.clone()), select(self.values.clone()))
                .prop_map(|(id, secret)| basic(&id, &secret).into_bytes()),
            1 => ".{0,40}".prop_map(|s| format!("Bearer {s}").into_bytes()),
            1 => proptest::collection::vec(any::<u8>(), 0..64),
        ];
        // Zero, one or two Authorization headers (two is a request error, not a crash).
        let authorizations = prop_oneof![
            3 => Just(Vec::new()),
            12 => authorization.clone().prop_map(|a| vec![a]),
            1 => (authorization.clone(), authorization).prop_map(|(a, b)| vec![a, b]),
        ];
        let content_type = proptest::option::weighted(
            0.95,
            prop_oneof![
                20 => Just(b"application/x-www-form-urlencoded".to_vec()),
                1 => Just(b"Application/X-WWW-Form-URLEncoded; charset=UTF-8".to_vec()),
                1 => Just(b"application/json".to_vec()),
                1 => Just(b"multipart/form-data; boundary=x".to_vec()),
                1 => proptest::collection::vec(any::<u8>(), 0..48),
            ],
        );
        (
            (method, query, body),
            (authorizations, content_type),
            (any::<bool>(), any::<u8>()),
        )
            .prop_map(
                move |(
                    (method, query, body),
                    (authorization, content_type),
                    (signed_in, decision),
                )| Input {
                    endpoint,
                    method,
                    query,
                    body,
                    authorization,
                    content_type,
                    signed_in,
                    decision,
                },
            )
    }

    /// Sends `input` and checks the answer is well formed.
    fn check(&self, input: Input) -> Result<(), TestCaseError> {
        let endpoint = input.endpoint;
        let provider = self.provider.clone();
        let outcome = self.runtime.block_on(async move {
            tokio::spawn(async move { endpoint.call(&provider, input).await }).await
        });
        let response = match outcome {
            Ok(Ok(Some(response))) => response,
            // An interaction left waiting for the user: nothing to check.
            Ok(Ok(None)) => return Ok(()),
            Ok(Err(err)) => return Err(TestCaseError::fail(err)),
            Err(err) => return Err(TestCaseError::fail(format!("the endpoint panicked: {err}"))),
        };
        let status = response.status().as_u16();
        prop_assert!((200..=599).contains(&status), "status {status}");
        if response.status().is_redirection() {
            prop_assert!(
                header(&response, "location").is_some_and(|l| !l.is_empty()),
                "a {status} without a Location"
            );
        }
        if endpoint.is_json() {
            check_json(endpoint, &response)?;
            // The token endpoint issues new tokens; these two never repeat a secret.
            if endpoint != Endpoint::Token {
                let text = String::from_utf8_lossy(response.body());
                for secret in self.tokens.iter().chain(&self.secrets) {
                    prop_assert!(!text.contains(secret.as_str()), "echoes a secret: {text}");
                }
            }
        } else if header(&response, "content-type")
            .is_some_and(|t| t.starts_with("application/json"))
        {
            // Pages and redirects are free-form; a JSON answer follows the JSON rules.
            check_json(endpoint, &response)?;
        }
        Ok(())
    }

    /// Runs [`CASES`] random requests against `endpoint`.
    fn run(&self, endpoint: Endpoint) {
        let mut runner = TestRunner::new(Config {
            cases: CASES,
            failure_persistence: None,
            ..Config::default()
        });
        let result = runner.run(&self.requests(endpoint), |input| self.check(input));
        if let Err(err) = result {
            panic!("{endpoint:?}: {err}");
        }
    }
}

/// The rules for a JSON answer: never cacheable; JSON with an `error` member from 400 up;
/// on success an introspection answer has `active` and a revocation answer no body.
fn check_json(endpoint: Endpoint, response: &Response<Bytes>) -> Result<(), TestCaseError> {
    let status = response.status().as_u16();
    let body = response.body();
    prop_assert_eq!(
        header(response, "cache-control"),
        Some("no-store"),
        "Cache-Control"
    );
    if endpoint == Endpoint::Revocation && status < 400 {
        prop_assert!(body.is_empty(), "revocation success with a body");
        return Ok(());
    }
    let parsed: Value = serde_json::from_slice(body).map_err(|err| {
        TestCaseError::fail(format!(
            "status {status}, body is not JSON ({err}): {}",
            String::from_utf8_lossy(body)
        ))
    })?;
    if status >= 400 {
        prop_assert!(
            parsed["error"]
                .as_str()
                .is_some_and(|code| !code.is_empty()),
            "status {status} without an error code: {parsed}"
        );
    } else if endpoint == Endpoint::Introspection {
        prop_assert!(parsed["active"].is_boolean(), "no active member: {parsed}");
    }
    Ok(())
}

/// One random request.
#[derive(Debug, Clone)]
struct Input {
    endpoint: Endpoint,
    method: String,
    query: Option<String>,
    body: Vec<u8>,
    authorization: Vec<Vec<u8>>,
    content_type: Option<Vec<u8>>,
    /// Authorization endpoint: whether the application says a user is signed in.
    signed_in: bool,
    /// Authorization endpoint: allow, deny, or leave an interaction waiting.
    decision: u8,
}

impl Input {
    fn request(&self) -> Request<Bytes> {
        let path = self.endpoint.path();
        // A query that is not a valid URI as it stands gets its offending bytes escaped
        // (what any HTTP client would send), so the endpoint still sees its parameters.
        let uri = self
            .query
            .as_ref()
            .and_then(|query| {
                Uri::try_from(format!("{path}?{query}"))
                    .or_else(|_| Uri::try_from(format!("{path}?{}", escape_query(query))))
                    .ok()
            })
            .unwrap_or_else(|| Uri::from_static(path));
        let method = Method::from_bytes(self.method.as_bytes()).unwrap_or(Method::POST);
        let mut request = Request::new(Bytes::from(self.body.clone()));
        *request.method_mut() = method;
        *request.uri_mut() = uri;
        let headers = request.headers_mut();
        for value in &self.authorization {
            if let Ok(value) = HeaderValue::from_bytes(value) {
                headers.append(AUTHORIZATION, value);
            }
        }
        if let Some(value) = self
            .content_type
            .as_ref()
            .and_then(|value| HeaderValue::from_bytes(value).ok())
        {
            headers.insert(CONTENT_TYPE, value);
        }
        request
    }
}

/// Percent-encodes every byte of `query` that may not appear in a URI query as it is.
fn escape_query(query: &str) -> String {
    query
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?%".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[test]
fn design_3_token_endpoint_never_panics() {
    World::new().run(Endpoint::Token);
}

#[test]
fn design_3_revocation_endpoint_never_panics() {
    World::new().run(Endpoint::Revocation);
}

#[test]
fn design_3_introspection_endpoint_never_panics() {
    World::new().run(Endpoint::Introspection);
}

#[test]
fn design_3_authorization_endpoint_never_panics() {
    World::new().run(Endpoint::Authorization);
}
