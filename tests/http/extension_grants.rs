//! Extension grants end to end: the JWT bearer grant (RFC 7523 §2.1) and token exchange
//! (RFC 8693), each with a negative table whose rows name the clause they prove.

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_endpoints::ProviderBuilder;
use portcullis_grants::{
    BoxError, CachedJwks, JwtBearerGrant, Narrowing, StaticJwks, TokenExchangeDecision,
    TokenExchangeGrant, TokenExchangePolicy, TokenExchangeRequest, TrustedIssuer,
};
use portcullis_registry::{
    AccessTokenFormat, ClientKind, GrantType, NewClient, Scope, ScopeCatalog, ScopeDefinition,
};
use portcullis_resource::HttpJwksFetcher;
use portcullis_store::{ClientStore, MemoryStore};
use portcullis_tokens::{SigningAlgorithm, SigningKey, random_identifier};
use serde_json::{Value, json};

use super::Adapter;
use super::fixture::*;

pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
pub const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
const BILLING: &str = "https://billing.example";
const PARTNER: &str = "https://partner.example";

/// (case, params, client credentials, status, error code)
type HttpCase<'a> = (
    &'a str,
    Vec<(&'a str, String)>,
    Option<(&'a str, &'a str)>,
    u16,
    &'a str,
);

/// The partner issuer's signing key, generated once per test binary.
fn partner_key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| SigningKey::generate(SigningAlgorithm::ES256).expect("key"))
}

fn catalog() -> ScopeCatalog {
    let mut catalog = ScopeCatalog::with_oidc_scopes();
    for name in ["view:users", "create:users", "update:users", "delete:users"] {
        catalog
            .insert(ScopeDefinition::new(Scope::new(name).unwrap(), name))
            .unwrap();
    }
    catalog
}

/// Registers `new` in the fixture's store.
pub async fn register(fx: &Fixture, new: NewClient) -> Registered {
    let issued = new.build(&catalog()).expect("a valid client");
    let registered = Registered {
        id: issued.client.id.to_string(),
        secret: issued.secret.map(|s| s.expose_secret().to_owned()),
    };
    fx.store
        .insert_client(issued.client)
        .await
        .expect("client stored");
    registered
}

/// The provider with the JWT bearer grant trusting [`PARTNER`].
fn with_jwt_bearer(builder: ProviderBuilder) -> ProviderBuilder {
    let jwks = json!({"keys": [partner_key().public_key().jwk()]});
    builder.grant(
        JwtBearerGrant::new(Arc::new(MemoryStore::new()))
            .trust(TrustedIssuer::new(
                PARTNER,
                StaticJwks::from_jwks(&jwks).expect("jwks"),
            ))
            .token_endpoint_path("/oauth/token"),
    )
}

/// A partner assertion for `fx`'s token endpoint, with `change` applied (`null` removes).
fn assertion(fx: &Fixture, change: Value) -> String {
    let t = fx.provider.now().unix_timestamp();
    let mut claims = json!({
        "iss": PARTNER,
        "sub": "partner-user-7",
        "aud": fx.url("/oauth/token"),
        "exp": t + 300,
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
    partner_key().sign(None, &claims).unwrap()
}

async fn assertion_client(fx: &Fixture) -> Registered {
    register(
        fx,
        NewClient::new("Partner bridge", ClientKind::Machine)
            .scopes(["view:users"])
            .grant_types([GrantType::JwtBearer]),
    )
    .await
}

/// RFC 7523 §2.1: a partner's signed assertion buys an access token for its `sub`, which a
/// protected route accepts; no refresh token.
pub async fn jwt_bearer_assertion_for_a_token<A: Adapter>() {
    let fx = Fixture::start_with::<A>(with_jwt_bearer).await;
    let client = assertion_client(&fx).await;
    let response = fx
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", JWT_BEARER),
                ("assertion", &assertion(&fx, json!({}))),
                ("scope", "view:users"),
            ],
            Some((&client.id, client.secret())),
        )
        .await;
    assert_eq!(
        header(&response, "cache-control").as_deref(),
        Some("no-store")
    );
    let body = body_json(response, 200).await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "view:users");
    assert!(body.get("refresh_token").is_none());
    let token = body["access_token"].as_str().unwrap();
    let me = body_json(fx.api("/api/me", Some(token)).await, 200).await;
    assert_eq!(me["sub"], "partner-user-7");
    assert_eq!(me["client_id"], client.id.as_str());
}

/// RFC 7523 §3 item 9 with the issuer's keys fetched from its `jwks_uri` (over loopback
/// here) and cached: an assertion verifies, and one signed by a key the issuer does not
/// publish does not.
pub async fn jwt_bearer_fetched_jwks<A: Adapter>() {
    let jwks = json!({"keys": [partner_key().public_key().jwk()]});
    let app = axum::Router::new().route(
        "/jwks.json",
        axum::routing::get(move || async move { axum::Json(jwks) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let jwks_uri = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    let jwks_server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let fetcher = HttpJwksFetcher::new(&jwks_uri).expect("a loopback jwks uri");
    let fx = Fixture::start_with::<A>(move |builder| {
        builder.grant(
            JwtBearerGrant::new(Arc::new(MemoryStore::new()))
                .trust(TrustedIssuer::new(PARTNER, CachedJwks::new(fetcher)))
                .token_endpoint_path("/oauth/token"),
        )
    })
    .await;
    let client = assertion_client(&fx).await;
    let basic = Some((client.id.as_str(), client.secret()));
    let good = assertion(&fx, json!({}));
    let params = [("grant_type", JWT_BEARER), ("assertion", good.as_str())];
    body_json(fx.post_form("/oauth/token", &params, basic).await, 200).await;
    let t = fx.provider.now().unix_timestamp();
    let rogue = SigningKey::generate(SigningAlgorithm::ES256)
        .unwrap()
        .sign(
            None,
            &json!({"iss": PARTNER, "sub": "x", "aud": fx.server.base, "exp": t + 60, "jti": "r"}),
        )
        .unwrap();
    let params = [("grant_type", JWT_BEARER), ("assertion", rogue.as_str())];
    let refused = body_json(fx.post_form("/oauth/token", &params, basic).await, 400).await;
    assert_eq!(refused["error"], "invalid_grant");
    jwks_server.abort();
}

/// RFC 7523 §3 item 7: the same assertion (`iss`, `jti`) is accepted once.
pub async fn jwt_bearer_replay_refused<A: Adapter>() {
    let fx = Fixture::start_with::<A>(with_jwt_bearer).await;
    let client = assertion_client(&fx).await;
    let assertion = assertion(&fx, json!({"aud": fx.server.base.as_str()}));
    let params = [
        ("grant_type", JWT_BEARER),
        ("assertion", assertion.as_str()),
    ];
    let basic = Some((client.id.as_str(), client.secret()));
    body_json(fx.post_form("/oauth/token", &params, basic).await, 200).await;
    let replayed = body_json(fx.post_form("/oauth/token", &params, basic).await, 400).await;
    assert_eq!(replayed["error"], "invalid_grant");
}

/// RFC 7523 §3, §3.1 and RFC 6749 §5.2 through HTTP: each row a request and the status,
/// error code and headers it must get.
pub async fn jwt_bearer_negative_table<A: Adapter>() {
    let fx = Fixture::start_with::<A>(with_jwt_bearer).await;
    let client = assertion_client(&fx).await;
    let t = fx.provider.now().unix_timestamp();
    let rogue = SigningKey::generate(SigningAlgorithm::ES256).unwrap();
    let rogue_assertion = rogue
        .sign(
            None,
            &json!({"iss": PARTNER, "sub": "x", "aud": fx.server.base, "exp": t + 60, "jti": "r"}),
        )
        .unwrap();
    let good = assertion(&fx, json!({}));
    let basic = Some((client.id.as_str(), client.secret()));
    let machine = Some((fx.machine.id.as_str(), fx.machine.secret()));
    // (case, params, credentials, status, error)
    let cases: Vec<HttpCase<'_>> = vec![
        (
            "rfc6749_3_2_1_no_client_authentication",
            vec![("assertion", good.clone())],
            None,
            401,
            "invalid_client",
        ),
        (
            "rfc6749_5_2_wrong_client_secret_basic",
            vec![("assertion", good.clone())],
            Some((client.id.as_str(), "wrong-secret")),
            401,
            "invalid_client",
        ),
        (
            "rfc6749_5_2_client_not_registered_for_jwt_bearer",
            vec![("assertion", good.clone())],
            machine,
            400,
            "unauthorized_client",
        ),
        (
            "rfc7521_4_1_assertion_missing",
            vec![],
            basic,
            400,
            "invalid_request",
        ),
        (
            "rfc7523_3_1_not_a_jwt",
            vec![("assertion", "not.a.jwt".into())],
            basic,
            400,
            "invalid_grant",
        ),
        (
            "rfc7523_3_1_untrusted_issuer",
            vec![(
                "assertion",
                assertion(&fx, json!({"iss": "https://evil.example"})),
            )],
            basic,
            400,
            "invalid_grant",
        ),
        (
            "rfc7523_3_9_signature_by_another_key",
            vec![("assertion", rogue_assertion)],
            basic,
            400,
            "invalid_grant",
        ),
        (
            "rfc7523_3_2_sub_missing",
            vec![("assertion", assertion(&fx, json!({"sub": null})))],
            basic,
            400,
            "invalid_grant",
        ),
        (
            "rfc7523_3_3_aud_is_another_server",
            vec![(
                "assertion",
                assertion(&fx, json!({"aud": "https://other.example/token"})),
            )],
            basic,
            400,
            "invalid_grant",
        ),
        (
            "rfc7523_3_4_expired",
            vec![("assertion", assertion(&fx, json!({"exp": t - 600})))],
            basic,
            400,
            "invalid_grant",
        ),
        (
            "rfc7523_3_4_exp_too_far_in_the_future",
            vec![("assertion", assertion(&fx, json!({"exp": t + 86_400})))],
            basic,
            400,
            "invalid_grant",
        ),
        (
            "rfc7523_3_5_not_yet_valid",
            vec![("assertion", assertion(&fx, json!({"nbf": t + 600})))],
            basic,
            400,
            "invalid_grant",
        ),
        (
            "rfc7523_3_7_jti_missing",
            vec![("assertion", assertion(&fx, json!({"jti": null})))],
            basic,
            400,
            "invalid_grant",
        ),
        (
            "rfc6749_3_3_scope_not_allowed",
            vec![
                ("assertion", good.clone()),
                ("scope", "delete:users".into()),
            ],
            basic,
            400,
            "invalid_scope",
        ),
    ];
    assert!(cases.len() >= 8);
    for (name, params, credentials, status, error) in cases {
        let mut pairs = vec![("grant_type", JWT_BEARER)];
        pairs.extend(params.iter().map(|(k, v)| (*k, v.as_str())));
        let response = fx.post_form("/oauth/token", &pairs, credentials).await;
        assert_eq!(
            header(&response, "cache-control").as_deref(),
            Some("no-store"),
            "{name}"
        );
        if status == 401 && credentials.is_some() {
            assert!(
                header(&response, "www-authenticate").is_some(),
                "{name}: RFC 6749 §5.2 asks for WWW-Authenticate after Basic"
            );
        }
        let got = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            (got, body["error"].as_str()),
            (status, Some(error)),
            "{name}: {body}"
        );
    }
}

/// RFC 8414 §2: `grant_types_supported` lists an extension grant only when the provider
/// has it.
pub async fn discovery_lists_extension_grants_only_when_registered<A: Adapter>() {
    let plain = Fixture::start::<A>().await;
    let with = Fixture::start_with::<A>(|b| with_token_exchange(with_jwt_bearer(b))).await;
    for (fx, listed) in [(&plain, false), (&with, true)] {
        for path in [
            "/.well-known/openid-configuration",
            "/.well-known/oauth-authorization-server",
        ] {
            let response = fx.http.get(fx.url(path)).send().await.unwrap();
            let metadata = body_json(response, 200).await;
            let grants = metadata["grant_types_supported"].as_array().unwrap();
            for grant in [JWT_BEARER, TOKEN_EXCHANGE] {
                assert_eq!(
                    grants.iter().any(|g| g == grant),
                    listed,
                    "{path}: {grants:?}"
                );
            }
        }
    }
}

/// The orders API may exchange a user's token for one towards billing, as a delegate;
/// nothing else is allowed.
struct OrdersToBilling;

#[async_trait]
impl TokenExchangePolicy for OrdersToBilling {
    async fn decide(
        &self,
        request: &TokenExchangeRequest<'_>,
    ) -> Result<TokenExchangeDecision, BoxError> {
        Ok(
            if request.client.name == "Orders API" && request.audience == Some(BILLING) {
                TokenExchangeDecision::Delegate(Narrowing::none())
            } else {
                TokenExchangeDecision::Deny("this exchange is not allowed".into())
            },
        )
    }
}

fn with_token_exchange(builder: ProviderBuilder) -> ProviderBuilder {
    builder.grant(TokenExchangeGrant::new(OrdersToBilling))
}

/// A password-grant access token for alice with `view:users`.
async fn alice_token(fx: &Fixture) -> String {
    let app = register(
        fx,
        NewClient::new("Trusted app", ClientKind::ResourceOwner).scopes(["view:users"]),
    )
    .await;
    let response = fx
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "password"),
                ("username", USER),
                ("password", PASSWORD),
                ("scope", "view:users"),
            ],
            Some((&app.id, app.secret())),
        )
        .await;
    body_json(response, 200).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn exchanger(fx: &Fixture, name: &str, format: AccessTokenFormat) -> Registered {
    register(
        fx,
        NewClient::new(name, ClientKind::Machine)
            .scopes(["view:users"])
            .grant_types([GrantType::TokenExchange])
            .access_token_format(format),
    )
    .await
}

fn jwt_claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// RFC 8693 §2.1, §2.2.1, §4.1: a service exchanges a user's token for a delegated one
/// towards billing; the result names the user, the actor and the audience, and
/// introspection reports it active.
pub async fn token_exchange_delegation<A: Adapter>() {
    let fx = Fixture::start_with::<A>(with_token_exchange).await;
    let subject_token = alice_token(&fx).await;
    let orders = exchanger(&fx, "Orders API", AccessTokenFormat::Jwt).await;
    let response = fx
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", TOKEN_EXCHANGE),
                ("subject_token", &subject_token),
                ("subject_token_type", ACCESS_TOKEN_TYPE),
                ("audience", BILLING),
            ],
            Some((&orders.id, orders.secret())),
        )
        .await;
    assert_eq!(
        header(&response, "cache-control").as_deref(),
        Some("no-store")
    );
    let body = body_json(response, 200).await;
    assert_eq!(body["issued_token_type"], ACCESS_TOKEN_TYPE);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "view:users");
    assert!(body.get("refresh_token").is_none());
    let token = body["access_token"].as_str().unwrap();
    let claims = jwt_claims(token);
    assert_eq!(claims["sub"], "user-alice");
    assert_eq!(claims["aud"], BILLING);
    assert_eq!(claims["act"], json!({"sub": orders.id.as_str()}));
    // The fixture's resource server validates opaque tokens only; the provider's
    // introspection knows the JWT by its jti.
    assert!(fx.active(token).await, "the exchanged token is active");
}

/// RFC 8693 §2.1, §2.2.2 and RFC 6749 §5.2 through HTTP.
pub async fn token_exchange_negative_table<A: Adapter>() {
    let fx = Fixture::start_with::<A>(with_token_exchange).await;
    let subject_token = alice_token(&fx).await;
    let orders = exchanger(&fx, "Orders API", AccessTokenFormat::Jwt).await;
    let opaque = exchanger(&fx, "Orders API", AccessTokenFormat::Opaque).await;
    let stranger = exchanger(&fx, "Stranger", AccessTokenFormat::Jwt).await;
    let orders_basic = Some((orders.id.as_str(), orders.secret()));
    let subject = || {
        vec![
            ("subject_token", subject_token.clone()),
            ("subject_token_type", ACCESS_TOKEN_TYPE.to_owned()),
        ]
    };
    let with = |extra: &[(&'static str, &str)]| {
        let mut params = subject();
        params.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        params
    };
    // (case, params, credentials, status, error)
    let cases: Vec<HttpCase<'_>> = vec![
        (
            "rfc6749_3_2_1_no_client_authentication",
            with(&[("audience", BILLING)]),
            None,
            401,
            "invalid_client",
        ),
        (
            "rfc6749_5_2_client_not_registered_for_token_exchange",
            with(&[("audience", BILLING)]),
            Some((fx.machine.id.as_str(), fx.machine.secret())),
            400,
            "unauthorized_client",
        ),
        (
            "rfc8693_2_1_subject_token_missing",
            vec![("subject_token_type", ACCESS_TOKEN_TYPE.into())],
            orders_basic,
            400,
            "invalid_request",
        ),
        (
            "rfc8693_2_1_subject_token_type_missing",
            vec![("subject_token", subject_token.clone())],
            orders_basic,
            400,
            "invalid_request",
        ),
        (
            "rfc8693_2_1_actor_token_without_its_type",
            with(&[("audience", BILLING), ("actor_token", &subject_token)]),
            orders_basic,
            400,
            "invalid_request",
        ),
        (
            "rfc8693_2_2_2_subject_token_invalid",
            vec![
                ("subject_token", "pc_at_invalid".into()),
                ("subject_token_type", ACCESS_TOKEN_TYPE.into()),
                ("audience", BILLING.into()),
            ],
            orders_basic,
            400,
            "invalid_request",
        ),
        (
            "rfc8693_2_2_2_declared_type_mismatch",
            vec![
                ("subject_token", subject_token.clone()),
                (
                    "subject_token_type",
                    "urn:ietf:params:oauth:token-type:id_token".into(),
                ),
                ("audience", BILLING.into()),
            ],
            orders_basic,
            400,
            "invalid_request",
        ),
        (
            "rfc8693_2_2_2_unacceptable_by_policy_default_deny",
            with(&[("audience", "https://elsewhere.example")]),
            Some((stranger.id.as_str(), stranger.secret())),
            400,
            "invalid_request",
        ),
        (
            "rfc8693_2_2_2_audience_with_opaque_tokens_is_invalid_target",
            with(&[("audience", BILLING)]),
            Some((opaque.id.as_str(), opaque.secret())),
            400,
            "invalid_target",
        ),
        (
            "rfc8693_2_1_requested_token_type_unsupported",
            with(&[
                ("audience", BILLING),
                (
                    "requested_token_type",
                    "urn:ietf:params:oauth:token-type:refresh_token",
                ),
            ]),
            orders_basic,
            400,
            "invalid_request",
        ),
        (
            "rfc6749_3_3_scope_beyond_the_subject_token",
            with(&[("audience", BILLING), ("scope", "delete:users")]),
            orders_basic,
            400,
            "invalid_scope",
        ),
    ];
    assert!(cases.len() >= 8);
    for (name, params, credentials, status, error) in cases {
        let mut pairs = vec![("grant_type", TOKEN_EXCHANGE)];
        pairs.extend(params.iter().map(|(k, v)| (*k, v.as_str())));
        let response = fx.post_form("/oauth/token", &pairs, credentials).await;
        assert_eq!(
            header(&response, "cache-control").as_deref(),
            Some("no-store"),
            "{name}"
        );
        let got = response.status().as_u16();
        let text = response.text().await.unwrap();
        assert!(!text.contains(&subject_token), "{name}: echoes the token");
        let body: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            (got, body["error"].as_str()),
            (status, Some(error)),
            "{name}: {body}"
        );
    }
}
