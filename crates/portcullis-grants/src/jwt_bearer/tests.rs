#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_registry::{Client, ClientKind, NewClient, Scope, ScopeCatalog, ScopeDefinition};
use portcullis_store::{MemoryStore, TokenStore};
use portcullis_tokens::{SigningAlgorithm, SigningKey};
use serde_json::json;

use super::*;
use crate::{Params, Policy, StaticJwks};

const PARTNER: &str = "https://partner.example";
/// The provider's issuer in `test_support::signing`.
const PROVIDER: &str = "https://id.example";
const TOKEN_ENDPOINT: &str = "https://id.example/oauth/token";

fn partner_key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| SigningKey::generate(SigningAlgorithm::ES256).unwrap())
}

fn rogue_key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| SigningKey::generate(SigningAlgorithm::ES256).unwrap())
}

fn catalog() -> ScopeCatalog {
    let mut catalog = ScopeCatalog::with_oidc_scopes();
    for name in ["view:users", "create:users"] {
        catalog
            .insert(ScopeDefinition::new(Scope::new(name).unwrap(), name))
            .unwrap();
    }
    catalog
}

fn client(grants: &[GrantType]) -> Client {
    NewClient::new("assertion client", ClientKind::Machine)
        .scopes(["view:users"])
        .grant_types(grants.iter().copied())
        .build(&catalog())
        .expect("valid client")
        .client
}

fn grant(replay: Arc<MemoryStore>) -> JwtBearerGrant {
    let jwks = json!({"keys": [partner_key().public_key().jwk()]});
    JwtBearerGrant::new(replay)
        .trust(TrustedIssuer::new(
            PARTNER,
            StaticJwks::from_jwks(&jwks).unwrap(),
        ))
        .audience(TOKEN_ENDPOINT)
}

fn now() -> OffsetDateTime {
    static NOW: OnceLock<OffsetDateTime> = OnceLock::new();
    *NOW.get_or_init(|| OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap())
}

/// Good claims, with `change` applied (`null` removes a claim).
fn claims(change: Value) -> Value {
    let t = now().unix_timestamp();
    let mut claims = json!({
        "iss": PARTNER,
        "sub": "partner-user-7",
        "aud": TOKEN_ENDPOINT,
        "exp": t + 300,
        "iat": t,
        "jti": format!("jti-{}", portcullis_tokens::random_identifier().unwrap()),
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

fn signed(claims: &Value) -> String {
    partner_key().sign(None, claims).unwrap()
}

async fn exchange(
    grant: &JwtBearerGrant,
    store: &MemoryStore,
    client: &Client,
    pairs: &[(&str, &str)],
) -> Result<TokenResponse, GrantError> {
    let params = Params::from_pairs(pairs.iter().copied());
    let catalog = catalog();
    let policy = Policy::default();
    let cx = GrantContext::new(
        store,
        client,
        &params,
        now(),
        &policy,
        &catalog,
        None,
        crate::test_support::signing(),
    );
    grant.exchange(&cx).await
}

#[tokio::test]
async fn rfc7523_2_1_assertion_for_a_token_with_the_asserted_subject() {
    let store = Arc::new(MemoryStore::new());
    let grant = grant(store.clone());
    let client = client(&[GrantType::JwtBearer]);
    for aud in [
        json!(TOKEN_ENDPOINT),
        json!(["https://other.example", PROVIDER]),
    ] {
        let assertion = signed(&claims(json!({"aud": aud})));
        let response = exchange(&grant, &store, &client, &[("assertion", &assertion)])
            .await
            .unwrap();
        assert!(response.refresh_token.is_none());
        assert!(!response.extra.contains_key("id_token"));
        assert_eq!(response.scope.to_string(), "view:users");
        let record = store
            .find_token(&response.access_token.lookup_key(), now())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(record.subject.unwrap().as_str(), "partner-user-7");
        assert_eq!(record.client_id, client.id);
    }
}

#[tokio::test]
async fn rfc7523_3_7_a_jti_is_accepted_once() {
    let store = Arc::new(MemoryStore::new());
    let grant = grant(store.clone());
    let client = client(&[GrantType::JwtBearer]);
    let assertion = signed(&claims(json!({})));
    let params = [("assertion", assertion.as_str())];
    assert!(exchange(&grant, &store, &client, &params).await.is_ok());
    let replayed = exchange(&grant, &store, &client, &params)
        .await
        .unwrap_err();
    assert_eq!(replayed.code(), "invalid_grant");
    assert!(replayed.description().contains("already used"));
    // Another issuer's identical jti is another assertion: the key includes the issuer.
    assert_ne!(
        replay_key(PARTNER, "a"),
        replay_key("https://other.example", "a")
    );
}

#[tokio::test]
async fn rfc7523_3_7_a_refused_request_does_not_burn_the_assertion() {
    let store = Arc::new(MemoryStore::new());
    let grant = grant(store.clone());
    let client = client(&[GrantType::JwtBearer]);
    let assertion = signed(&claims(json!({})));
    let refused = exchange(
        &grant,
        &store,
        &client,
        &[("assertion", &assertion), ("scope", "create:users")],
    )
    .await
    .unwrap_err();
    assert_eq!(refused.code(), "invalid_scope");
    assert!(
        exchange(&grant, &store, &client, &[("assertion", &assertion)])
            .await
            .is_ok()
    );
}

struct OnlyKnown;

#[async_trait]
impl AssertionSubjectMapper for OnlyKnown {
    async fn subject(&self, issuer: &str, sub: &str) -> Result<Option<Subject>, BoxError> {
        Ok((issuer == PARTNER && sub == "partner-user-7")
            .then(|| Subject::new("local-user-1").unwrap()))
    }
}

#[tokio::test]
async fn subject_mapper_maps_and_refuses() {
    let store = Arc::new(MemoryStore::new());
    let grant = grant(store.clone()).subject_mapper(OnlyKnown);
    let client = client(&[GrantType::JwtBearer]);
    let assertion = signed(&claims(json!({})));
    let response = exchange(&grant, &store, &client, &[("assertion", &assertion)])
        .await
        .unwrap();
    let record = store
        .find_token(&response.access_token.lookup_key(), now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.subject.unwrap().as_str(), "local-user-1");
    let stranger = signed(&claims(json!({"sub": "someone-else"})));
    let err = exchange(&grant, &store, &client, &[("assertion", &stranger)])
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_grant");
}

/// (case, client grants, params, expected error code)
type Case<'a> = (&'a str, &'a [GrantType], Vec<(&'a str, String)>, &'a str);

#[tokio::test]
async fn rfc7523_3_negative_table() {
    let store = Arc::new(MemoryStore::new());
    let grant = grant(store.clone());
    let registered = client(&[GrantType::JwtBearer]);
    let t = now().unix_timestamp();
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
        URL_SAFE_NO_PAD.encode(claims(json!({})).to_string()),
    );
    let rogue = rogue_key().sign(None, &claims(json!({}))).unwrap();
    // (case, client grants, params, expected error code)
    let cases: Vec<Case<'_>> = vec![
        (
            "rfc6749_5_2_client_not_registered_for_the_grant",
            &[GrantType::ClientCredentials],
            vec![("assertion", signed(&claims(json!({}))))],
            "unauthorized_client",
        ),
        (
            "rfc7521_4_1_assertion_missing",
            &[GrantType::JwtBearer],
            vec![],
            "invalid_request",
        ),
        (
            "rfc7523_3_1_assertion_not_a_jwt",
            &[GrantType::JwtBearer],
            vec![("assertion", "pc_at_not-a-jwt".into())],
            "invalid_grant",
        ),
        (
            "rfc7523_3_1_untrusted_issuer",
            &[GrantType::JwtBearer],
            vec![(
                "assertion",
                signed(&claims(json!({"iss": "https://evil.example"}))),
            )],
            "invalid_grant",
        ),
        (
            "rfc7523_3_9_signed_by_a_key_the_issuer_does_not_publish",
            &[GrantType::JwtBearer],
            vec![("assertion", rogue)],
            "invalid_grant",
        ),
        (
            "rfc7523_3_9_unsigned_alg_none",
            &[GrantType::JwtBearer],
            vec![("assertion", unsigned)],
            "invalid_grant",
        ),
        (
            "rfc7523_3_2_sub_missing",
            &[GrantType::JwtBearer],
            vec![("assertion", signed(&claims(json!({"sub": null}))))],
            "invalid_grant",
        ),
        (
            "rfc7523_3_3_aud_missing",
            &[GrantType::JwtBearer],
            vec![("assertion", signed(&claims(json!({"aud": null}))))],
            "invalid_grant",
        ),
        (
            "rfc7523_3_3_aud_is_another_server",
            &[GrantType::JwtBearer],
            vec![(
                "assertion",
                signed(&claims(json!({"aud": ["https://other.example/token"]}))),
            )],
            "invalid_grant",
        ),
        (
            "rfc7523_3_4_exp_missing",
            &[GrantType::JwtBearer],
            vec![("assertion", signed(&claims(json!({"exp": null}))))],
            "invalid_grant",
        ),
        (
            "rfc7523_3_4_expired_beyond_leeway",
            &[GrantType::JwtBearer],
            vec![("assertion", signed(&claims(json!({"exp": t - 61}))))],
            "invalid_grant",
        ),
        (
            "rfc7523_3_4_exp_too_far_in_the_future",
            &[GrantType::JwtBearer],
            vec![("assertion", signed(&claims(json!({"exp": t + 3600}))))],
            "invalid_grant",
        ),
        (
            "rfc7523_3_5_nbf_in_the_future",
            &[GrantType::JwtBearer],
            vec![("assertion", signed(&claims(json!({"nbf": t + 120}))))],
            "invalid_grant",
        ),
        (
            "rfc7523_3_6_iat_in_the_future",
            &[GrantType::JwtBearer],
            vec![("assertion", signed(&claims(json!({"iat": t + 120}))))],
            "invalid_grant",
        ),
        (
            "rfc7523_3_6_iat_unreasonably_far_in_the_past",
            &[GrantType::JwtBearer],
            vec![("assertion", signed(&claims(json!({"iat": t - 3600}))))],
            "invalid_grant",
        ),
        (
            "rfc7523_3_7_jti_missing",
            &[GrantType::JwtBearer],
            vec![("assertion", signed(&claims(json!({"jti": null}))))],
            "invalid_grant",
        ),
        (
            "rfc6749_3_3_scope_not_allowed_for_the_client",
            &[GrantType::JwtBearer],
            vec![
                ("assertion", signed(&claims(json!({})))),
                ("scope", "create:users".into()),
            ],
            "invalid_scope",
        ),
        (
            "oidc_core_2_subject_not_a_valid_sub",
            &[GrantType::JwtBearer],
            vec![("assertion", signed(&claims(json!({"sub": " padded "}))))],
            "invalid_grant",
        ),
    ];
    assert!(cases.len() >= 8);
    for (name, grants, params, code) in cases {
        let client = client(grants);
        let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let err = exchange(&grant, &store, &client, &pairs)
            .await
            .expect_err(name);
        assert_eq!(err.code(), code, "{name}: {err}");
    }
    // Within the leeway, times are tolerated.
    let lenient = signed(&claims(
        json!({"exp": t - 30, "nbf": t + 30, "iat": t + 30}),
    ));
    assert!(
        exchange(&grant, &store, &registered, &[("assertion", &lenient)])
            .await
            .is_ok()
    );
    // Nothing but that one access token was issued.
    let stored = store.list_client_tokens(&registered.id, now()).await;
    assert!(stored.is_ok());
}
