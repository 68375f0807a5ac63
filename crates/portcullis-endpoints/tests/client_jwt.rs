//! Client authentication with JWTs (RFC 7523 §2.2 and §3; OpenID Connect Core §9:
//! `private_key_jwt`, `client_secret_jwt`) at every endpoint that authenticates clients,
//! driven through `Provider::handle` with plain `http::Request<Bytes>` values. The HTTP
//! suite (`tests/http/client_jwt.rs`) has the full negative table through both adapters.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::too_many_lines
)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http::Response;
use portcullis_endpoints::{
    CLIENT_ASSERTION_TYPE_JWT_BEARER, Endpoint, ProviderBuilder, SealClientSecretError,
};
use portcullis_grants::{BoxError, FetchJwks};
use portcullis_registry::{ClientKind, ClientSecret, TokenEndpointAuthMethod};
use portcullis_store::ClientStore;
use portcullis_tokens::{SecretSealingKey, SigningAlgorithm, SigningKey, random_identifier};
use serde_json::{Value, json};
use support::*;

const TOKEN_URL: &str = "https://id.example/oauth/token";
const JWKS_URI: &str = "https://client.example/jwks.json";

/// Replay store (the harness's own memory store) and a sealing key.
fn with_jwt_auth(key: &SecretSealingKey) -> impl FnOnce(ProviderBuilder) -> ProviderBuilder {
    let key = key.clone();
    move |b: ProviderBuilder| {
        let replay = Arc::new(portcullis_store::MemoryStore::new());
        b.client_assertion_replay_store(replay)
            .secret_sealing_key(key)
    }
}

/// Claims for `client` at `h`'s clock, with `change` applied (`null` removes).
fn claims(h: &Harness, client: &str, change: &Value) -> Value {
    let t = h.provider.now().unix_timestamp();
    let mut claims = json!({
        "iss": client,
        "sub": client,
        "aud": TOKEN_URL,
        "exp": t + 60,
        "iat": t,
        "jti": random_identifier().unwrap(),
    });
    for (name, value) in change.as_object().unwrap() {
        if value.is_null() {
            claims.as_object_mut().unwrap().remove(name);
        } else {
            claims[name] = value.clone();
        }
    }
    claims
}

/// An HS256 compact JWS over `claims` keyed with `secret`.
fn hs256(secret: &str, claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap())
    );
    let tag = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes()),
        input.as_bytes(),
    );
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

/// Client credentials at the token endpoint, authenticated by `assertion`.
async fn token_with(h: &Harness, assertion: &str) -> Response<Bytes> {
    h.provider
        .token(form_post(
            "/oauth/token",
            &encode(&[
                ("grant_type", "client_credentials"),
                ("client_assertion_type", CLIENT_ASSERTION_TYPE_JWT_BEARER),
                ("client_assertion", assertion),
            ]),
            &[],
        ))
        .await
}

/// A machine client authenticating with `private_key_jwt` and these keys.
async fn key_client(h: &Harness, id: &str, keys: &[&SigningKey]) -> Registered {
    let jwks = json!({"keys": keys.iter().map(|k| k.public_key().jwk()).collect::<Vec<_>>()});
    h.register(ClientKind::Machine, |c| {
        c.client_id(id)
            .scopes(["view:users"])
            .auth_method(TokenEndpointAuthMethod::PrivateKeyJwt)
            .jwks(jwks)
    })
    .await
}

/// OpenID Connect Core §9 `private_key_jwt`: a signed assertion authenticates the client at
/// the token, revocation, introspection and PAR endpoints; the `kid` picks among its keys.
#[tokio::test]
async fn oidc_core_9_private_key_jwt_at_every_endpoint() {
    let sealing = SecretSealingKey::generate().unwrap();
    let h = Harness::with(with_jwt_auth(&sealing)).await;
    let es = SigningKey::generate(SigningAlgorithm::ES256).unwrap();
    let es2 = SigningKey::generate(SigningAlgorithm::ES256).unwrap();
    let ed = SigningKey::generate(SigningAlgorithm::EdDSA).unwrap();
    key_client(&h, "signer", &[&es, &es2, &ed]).await;
    for key in [&es, &es2, &ed] {
        let assertion = key.sign(None, &claims(&h, "signer", &json!({}))).unwrap();
        let response = token_with(&h, &assertion).await;
        assert_eq!(
            response.status(),
            200,
            "{:?}: {:?}",
            key.algorithm(),
            response.body()
        );
    }
    let access_token = {
        let assertion = es.sign(None, &claims(&h, "signer", &json!({}))).unwrap();
        json(&token_with(&h, &assertion).await)["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let fresh = || es.sign(None, &claims(&h, "signer", &json!({}))).unwrap();
    let auth = |assertion: String| {
        vec![
            (
                "client_assertion_type".to_owned(),
                CLIENT_ASSERTION_TYPE_JWT_BEARER.to_owned(),
            ),
            ("client_assertion".to_owned(), assertion),
        ]
    };
    let body = |mut pairs: Vec<(String, String)>, extra: &[(&str, &str)]| {
        pairs.extend(
            extra
                .iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned())),
        );
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish()
    };
    // RFC 7662 §2.1
    let introspected = h
        .provider
        .handle(
            Endpoint::Introspect,
            form_post(
                "/oauth/introspect",
                &body(auth(fresh()), &[("token", &access_token)]),
                &[],
            ),
        )
        .await;
    assert_eq!(introspected.status(), 200);
    assert_eq!(json(&introspected)["active"], true);
    // RFC 7009 §2.1
    let revoked = h
        .provider
        .handle(
            Endpoint::Revoke,
            form_post(
                "/oauth/revoke",
                &body(auth(fresh()), &[("token", &access_token)]),
                &[],
            ),
        )
        .await;
    assert_eq!(revoked.status(), 200);
    // RFC 9126 §2: the PAR endpoint authenticates like the token endpoint; a web client.
    h.register(ClientKind::Web, |c| {
        c.client_id("web-signer")
            .redirect_uri(REDIRECT)
            .all_scopes()
            .auth_method(TokenEndpointAuthMethod::PrivateKeyJwt)
            .jwks(json!({"keys": [es.public_key().jwk()]}))
    })
    .await;
    let par_assertion = es
        .sign(
            None,
            &claims(
                &h,
                "web-signer",
                &json!({"aud": "https://id.example/oauth/par"}),
            ),
        )
        .unwrap();
    let pushed = h
        .provider
        .handle(
            Endpoint::PushedAuthorizationRequest,
            form_post(
                "/oauth/par",
                &body(
                    auth(par_assertion),
                    &[
                        ("client_id", "web-signer"),
                        ("response_type", "code"),
                        ("scope", "view:users"),
                        ("code_challenge", CHALLENGE),
                        ("code_challenge_method", "S256"),
                    ],
                ),
                &[],
            ),
        )
        .await;
    assert_eq!(pushed.status(), 201, "{:?}", pushed.body());
}

/// A fetcher that serves a fixed JWK Set and counts its calls.
struct Counting {
    jwks: Value,
    calls: Arc<AtomicUsize>,
}

#[async_trait]
impl FetchJwks for Counting {
    async fn fetch(&self) -> Result<Value, BoxError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(self.jwks.clone())
    }
}

/// RFC 7591 §2 `jwks_uri`: the keys are fetched through the configured fetcher and cached;
/// without a fetcher, such a client cannot authenticate.
#[tokio::test]
async fn rfc7591_2_jwks_uri_is_fetched_and_cached() {
    let key = SigningKey::generate(SigningAlgorithm::RS256).unwrap();
    let jwks = json!({"keys": [key.public_key().jwk()]});
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let (fetch_calls, fetch_jwks, fetch_seen) = (calls.clone(), jwks.clone(), seen.clone());
    let h = Harness::with(move |b| {
        b.client_assertion_replay_store(Arc::new(portcullis_store::MemoryStore::new()))
            .client_jwks_fetcher(move |uri: &str| {
                fetch_seen.lock().unwrap().push(uri.to_owned());
                Ok(Counting {
                    jwks: fetch_jwks.clone(),
                    calls: fetch_calls.clone(),
                })
            })
    })
    .await;
    h.register(ClientKind::Machine, |c| {
        c.client_id("fetched")
            .scopes(["view:users"])
            .auth_method(TokenEndpointAuthMethod::PrivateKeyJwt)
            .jwks_uri(JWKS_URI)
    })
    .await;
    for _ in 0..3 {
        let assertion = key.sign(None, &claims(&h, "fetched", &json!({}))).unwrap();
        let response = token_with(&h, &assertion).await;
        assert_eq!(response.status(), 200, "{:?}", response.body());
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1, "fetched once, then cached");
    assert_eq!(*seen.lock().unwrap(), [JWKS_URI]);

    // No fetcher configured: refused, like any failed authentication.
    let h = Harness::with(|b| {
        b.client_assertion_replay_store(Arc::new(portcullis_store::MemoryStore::new()))
    })
    .await;
    h.register(ClientKind::Machine, |c| {
        c.client_id("fetched")
            .auth_method(TokenEndpointAuthMethod::PrivateKeyJwt)
            .jwks_uri(JWKS_URI)
    })
    .await;
    let assertion = key.sign(None, &claims(&h, "fetched", &json!({}))).unwrap();
    let response = token_with(&h, &assertion).await;
    assert_eq!(response.status(), 401);
    assert_eq!(json(&response)["error"], "invalid_client");
}

/// OpenID Connect Core §9 `client_secret_jwt`: the secret's sealed copy opens only for
/// its own client and under the provider's key; `seal_client_secret` refuses misuse.
#[tokio::test]
async fn oidc_core_9_client_secret_jwt_and_sealing() {
    let sealing = SecretSealingKey::generate().unwrap();
    let h = Harness::with(with_jwt_auth(&sealing)).await;
    let issued = |id: &str| {
        portcullis_registry::NewClient::new(id, ClientKind::Machine)
            .client_id(id)
            .auth_method(TokenEndpointAuthMethod::ClientSecretJwt)
            .build(&portcullis_registry::ScopeCatalog::with_oidc_scopes())
            .map(|issued| (issued.client, issued.secret.unwrap()))
            .unwrap()
    };
    let (mut mac, secret) = issued("mac");
    h.provider.seal_client_secret(&mut mac, &secret).unwrap();
    let (mut other, other_secret) = issued("other");
    // The sealed copy of "mac" pasted onto "other" does not open for it.
    other.sealed_secret = mac.sealed_secret.clone();
    h.store.insert_client(mac).await.unwrap();
    h.store.insert_client(other).await.unwrap();

    let good = hs256(secret.expose_secret(), &claims(&h, "mac", &json!({})));
    assert_eq!(token_with(&h, &good).await.status(), 200);
    let pasted = hs256(
        other_secret.expose_secret(),
        &claims(&h, "other", &json!({})),
    );
    assert_eq!(token_with(&h, &pasted).await.status(), 401);

    // A provider with another sealing key cannot open it either.
    let stranger = Harness::with(with_jwt_auth(&SecretSealingKey::generate().unwrap())).await;
    let (mut moved, moved_secret) = issued("mac");
    h.provider
        .seal_client_secret(&mut moved, &moved_secret)
        .unwrap();
    stranger.store.insert_client(moved).await.unwrap();
    let elsewhere = hs256(
        moved_secret.expose_secret(),
        &claims(&stranger, "mac", &json!({})),
    );
    assert_eq!(token_with(&stranger, &elsewhere).await.status(), 401);

    // seal_client_secret's refusals.
    let (mut mac2, secret2) = issued("mac2");
    let no_key = Harness::new().await;
    let (web_client, web_secret) = {
        let issued = portcullis_registry::NewClient::new("w", ClientKind::Machine)
            .build(&portcullis_registry::ScopeCatalog::with_oidc_scopes())
            .unwrap();
        (issued.client, issued.secret.unwrap())
    };
    let wrong = ClientSecret::generate().unwrap();
    let cases: [(&str, Result<(), SealClientSecretError>); 3] = [
        (
            "no sealing key",
            no_key
                .provider
                .seal_client_secret(&mut mac2.clone(), &secret2),
        ),
        (
            "not a client_secret_jwt client",
            h.provider
                .seal_client_secret(&mut web_client.clone(), &web_secret),
        ),
        (
            "not the client's secret",
            h.provider.seal_client_secret(&mut mac2, &wrong),
        ),
    ];
    let expected = [
        SealClientSecretError::NoSealingKey,
        SealClientSecretError::NotClientSecretJwt,
        SealClientSecretError::WrongSecret,
    ];
    for ((name, got), want) in cases.into_iter().zip(expected) {
        assert_eq!(got, Err(want), "case {name}");
    }
    assert!(mac2.sealed_secret.is_none());
}

/// JWT client authentication fails closed: without a replay store (RFC 7523 §3 item 7
/// cannot be enforced) no assertion is accepted, and without a sealing key no
/// `client_secret_jwt` one; a revoked client is refused.
#[tokio::test]
async fn rfc7523_3_fails_closed_without_its_settings() {
    let key = SigningKey::generate(SigningAlgorithm::ES256).unwrap();
    let h = Harness::new().await;
    key_client(&h, "signer", &[&key]).await;
    let assertion = key.sign(None, &claims(&h, "signer", &json!({}))).unwrap();
    let response = token_with(&h, &assertion).await;
    assert_eq!(response.status(), 401, "no replay store");
    assert_eq!(
        json(&response)["error_description"],
        "client authentication failed"
    );

    let h = Harness::with(|b| {
        b.client_assertion_replay_store(Arc::new(portcullis_store::MemoryStore::new()))
    })
    .await;
    let mut client = portcullis_registry::NewClient::new("mac", ClientKind::Machine)
        .client_id("mac")
        .auth_method(TokenEndpointAuthMethod::ClientSecretJwt)
        .build(&portcullis_registry::ScopeCatalog::with_oidc_scopes())
        .unwrap();
    let secret = client.secret.take().unwrap();
    client.client.sealed_secret = Some(
        SecretSealingKey::generate()
            .unwrap()
            .seal(secret.expose_secret().as_bytes(), b"")
            .unwrap(),
    );
    h.store.insert_client(client.client).await.unwrap();
    let mac = hs256(secret.expose_secret(), &claims(&h, "mac", &json!({})));
    assert_eq!(token_with(&h, &mac).await.status(), 401, "no sealing key");

    let mut revoked = key_client(&h, "gone", &[&key]).await.client;
    revoked.revoked = true;
    h.store.update_client(revoked).await.unwrap();
    let assertion = key.sign(None, &claims(&h, "gone", &json!({}))).unwrap();
    assert_eq!(token_with(&h, &assertion).await.status(), 401, "revoked");
}

/// RFC 8414 §2: the JWT methods and their algorithms are advertised exactly when offered.
#[tokio::test]
async fn rfc8414_2_discovery_lists_jwt_methods_when_offered() {
    let sealing = SecretSealingKey::generate().unwrap();
    let replay_only = |b: ProviderBuilder| {
        b.client_assertion_replay_store(Arc::new(portcullis_store::MemoryStore::new()))
    };
    let both = with_jwt_auth(&sealing);
    let sealing_only = {
        let key = sealing.clone();
        move |b: ProviderBuilder| b.secret_sealing_key(key)
    };
    let cases: Vec<(&str, Harness, &[&str], &[&str])> = vec![
        (
            "default",
            Harness::new().await,
            &["client_secret_basic", "client_secret_post", "none"],
            &[],
        ),
        (
            "replay store",
            Harness::with(replay_only).await,
            &[
                "client_secret_basic",
                "client_secret_post",
                "private_key_jwt",
                "none",
            ],
            &["ES256", "EdDSA", "RS256"],
        ),
        (
            "sealing key without replay store",
            Harness::with(sealing_only).await,
            &["client_secret_basic", "client_secret_post", "none"],
            &[],
        ),
        (
            "replay store and sealing key",
            Harness::with(both).await,
            &[
                "client_secret_basic",
                "client_secret_post",
                "private_key_jwt",
                "client_secret_jwt",
                "none",
            ],
            &["ES256", "EdDSA", "RS256", "HS256", "HS384", "HS512"],
        ),
    ];
    for (name, h, methods, algorithms) in cases {
        let response = h
            .provider
            .handle(
                Endpoint::AuthorizationServerMetadata,
                get("/.well-known/oauth-authorization-server"),
            )
            .await;
        let document = json(&response);
        assert_eq!(
            document["token_endpoint_auth_methods_supported"],
            json!(methods),
            "{name}"
        );
        let confidential: Vec<&str> = methods.iter().copied().filter(|m| *m != "none").collect();
        for endpoint in ["revocation", "introspection"] {
            assert_eq!(
                document[format!("{endpoint}_endpoint_auth_methods_supported")],
                json!(confidential),
                "{name}"
            );
        }
        for endpoint in ["token", "revocation", "introspection"] {
            let member = format!("{endpoint}_endpoint_auth_signing_alg_values_supported");
            if algorithms.is_empty() {
                assert!(document.get(&member).is_none(), "{name}: {member}");
            } else {
                assert_eq!(document[&member], json!(algorithms), "{name}: {member}");
            }
        }
    }
}

/// One mutation of a good assertion, for the property below.
#[derive(Debug, Clone)]
enum Mutation {
    /// Replace one byte with another.
    Byte(usize, u8),
    /// Cut at an offset.
    Truncate(usize),
    /// Replace the header with this JSON text.
    Header(String),
    /// Replace the claims with this JSON text.
    Claims(String),
    /// Arbitrary text instead of a JWT.
    Text(String),
}

/// DESIGN §3, "no panics on any input", for client assertions: mutated and arbitrary
/// assertions (signed, MACed, or neither) against clients of both JWT methods are answered
/// with a JSON `invalid_client` or `invalid_request`, never a panic nor a token.
#[test]
fn design_3_client_assertions_never_panic() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestCaseError, TestRunner};

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let sealing = SecretSealingKey::generate().unwrap();
    let key = SigningKey::generate(SigningAlgorithm::ES256).unwrap();
    let (h, secret) = runtime.block_on(async {
        let h = Harness::with(with_jwt_auth(&sealing)).await;
        key_client(&h, "signer", &[&key]).await;
        let issued = portcullis_registry::NewClient::new("mac", ClientKind::Machine)
            .client_id("mac")
            .auth_method(TokenEndpointAuthMethod::ClientSecretJwt)
            .build(&portcullis_registry::ScopeCatalog::with_oidc_scopes())
            .unwrap();
        let (mut client, secret) = (issued.client, issued.secret.unwrap());
        h.provider.seal_client_secret(&mut client, &secret).unwrap();
        h.store.insert_client(client).await.unwrap();
        (h, secret.expose_secret().to_owned())
    });
    let json_text = prop_oneof![
        Just("{}".to_owned()),
        Just(r#"{"alg":"none"}"#.to_owned()),
        Just(r#"{"alg":"HS256","crit":["x"]}"#.to_owned()),
        Just(r#"{"alg":"ES256","kid":7}"#.to_owned()),
        Just(r#"{"iss":"signer","sub":"signer","aud":[],"exp":1e300,"jti":""}"#.to_owned()),
        Just(r#"{"iss":"mac","sub":"mac","exp":"x","nbf":-1e400}"#.to_owned()),
        ".{0,80}",
    ];
    let mutation = prop_oneof![
        (0usize..600, any::<u8>()).prop_map(|(at, byte)| Mutation::Byte(at, byte)),
        (0usize..600).prop_map(Mutation::Truncate),
        json_text.clone().prop_map(Mutation::Header),
        json_text.prop_map(Mutation::Claims),
        ".{0,200}".prop_map(Mutation::Text),
    ];
    let mut runner = TestRunner::new(Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&(mutation, any::<bool>()), |(mutation, mac)| {
        let good = if mac {
            hs256(&secret, &claims(&h, "mac", &json!({})))
        } else {
            key.sign(None, &claims(&h, "signer", &json!({}))).unwrap()
        };
        let encode_part = |text: &str| URL_SAFE_NO_PAD.encode(text.as_bytes());
        let assertion = match &mutation {
            Mutation::Byte(at, byte) => {
                let mut bytes = good.clone().into_bytes();
                let at = at % bytes.len();
                if bytes[at] == *byte {
                    return Ok(()); // unchanged: a good assertion, not this property's concern
                }
                bytes[at] = *byte;
                String::from_utf8_lossy(&bytes).into_owned()
            }
            Mutation::Truncate(at) => good.get(..(at % good.len())).unwrap_or("").to_owned(),
            Mutation::Header(text) => {
                let rest = good.split_once('.').unwrap().1;
                format!("{}.{rest}", encode_part(text))
            }
            Mutation::Claims(text) => {
                let mut parts = good.split('.');
                let (header, _, signature) =
                    (parts.next().unwrap(), parts.next(), parts.next().unwrap());
                format!("{header}.{}.{signature}", encode_part(text))
            }
            Mutation::Text(text) => text.clone(),
        };
        let outcome = runtime.block_on(async {
            let provider = h.provider.clone();
            tokio::spawn(async move { token_with_provider(&provider, &assertion).await }).await
        });
        let response =
            outcome.map_err(|err| TestCaseError::fail(format!("the endpoint panicked: {err}")))?;
        let status = response.status().as_u16();
        prop_assert!(matches!(status, 400 | 401), "{mutation:?}: status {status}");
        let body: Value = serde_json::from_slice(response.body())
            .map_err(|err| TestCaseError::fail(format!("not JSON: {err}")))?;
        prop_assert!(
            body["error"] == "invalid_client" || body["error"] == "invalid_request",
            "{mutation:?}: {body}"
        );
        Ok(())
    });
    if let Err(err) = result {
        panic!("{err}");
    }
}

/// [`token_with`] for a provider alone (for spawned tasks).
async fn token_with_provider(
    provider: &portcullis_endpoints::Provider,
    assertion: &str,
) -> Response<Bytes> {
    provider
        .token(form_post(
            "/oauth/token",
            &encode(&[
                ("grant_type", "client_credentials"),
                ("client_assertion_type", CLIENT_ASSERTION_TYPE_JWT_BEARER),
                ("client_assertion", assertion),
            ]),
            &[],
        ))
        .await
}
