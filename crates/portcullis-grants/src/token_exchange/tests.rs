#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::OnceLock;

use portcullis_registry::{Client, ClientKind, NewClient, Scope, ScopeCatalog, ScopeDefinition};
use portcullis_store::{MemoryStore, TokenStore};
use portcullis_tokens::{SigningAlgorithm, SigningKey, random_identifier};
use serde_json::json;
use time::OffsetDateTime;

use super::*;
use crate::{IdToken, Params, Policy, StaticJwks};

const PROVIDER: &str = "https://id.example";
const PARTNER: &str = "https://partner.example";
const ACCESS: &str = "urn:ietf:params:oauth:token-type:access_token";
const REFRESH: &str = "urn:ietf:params:oauth:token-type:refresh_token";
const ID: &str = "urn:ietf:params:oauth:token-type:id_token";
const JWT: &str = "urn:ietf:params:oauth:token-type:jwt";

fn partner_key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| SigningKey::generate(SigningAlgorithm::ES256).unwrap())
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn catalog() -> ScopeCatalog {
    let mut catalog = ScopeCatalog::with_oidc_scopes();
    for name in ["view:users", "create:users", "delete:users"] {
        catalog
            .insert(ScopeDefinition::new(Scope::new(name).unwrap(), name))
            .unwrap();
    }
    catalog
}

fn scopes(s: &str) -> ScopeSet {
    ScopeSet::parse(s).unwrap()
}

/// The client whose user tokens get exchanged.
fn web_client() -> Client {
    NewClient::new("web app", ClientKind::Web)
        .redirect_uri("https://app.example/cb")
        .all_scopes()
        .build(&catalog())
        .unwrap()
        .client
}

/// A client registered for token exchange, with `view:users create:users`.
fn exchanger(format: AccessTokenFormat) -> Client {
    NewClient::new("orders api", ClientKind::Machine)
        .scopes(["view:users", "create:users"])
        .grant_types([GrantType::TokenExchange])
        .access_token_format(format)
        .build(&catalog())
        .unwrap()
        .client
}

/// Answers one decision for everything.
struct Fixed(TokenExchangeDecision);

#[async_trait]
impl TokenExchangePolicy for Fixed {
    async fn decide(
        &self,
        _request: &TokenExchangeRequest<'_>,
    ) -> Result<TokenExchangeDecision, BoxError> {
        Ok(self.0.clone())
    }
}

fn grant(decision: TokenExchangeDecision) -> TokenExchangeGrant {
    let jwks = json!({"keys": [partner_key().public_key().jwk()]});
    TokenExchangeGrant::new(Fixed(decision)).trust(TrustedIssuer::new(
        PARTNER,
        StaticJwks::from_jwks(&jwks).unwrap(),
    ))
}

fn impersonate() -> TokenExchangeGrant {
    grant(TokenExchangeDecision::Impersonate(Narrowing::none()))
}

fn delegate() -> TokenExchangeGrant {
    grant(TokenExchangeDecision::Delegate(Narrowing::none()))
}

/// Issues tokens for `alice` to `client` (access + refresh, `scope`), stored.
async fn user_tokens(store: &MemoryStore, client: &Client, scope: &str) -> (String, String) {
    let minted = mint_tokens(Issuance {
        client,
        subject: Some(Subject::new("alice").unwrap()),
        scopes: scopes(scope),
        family: FamilyId::generate().unwrap(),
        now: now(),
        refresh_scopes: Some(scopes(scope)),
        auth_time: None,
        signing: crate::test_support::signing(),
        audience: crate::Audience::unrestricted(),
        confirmation: None,
    })
    .unwrap();
    store.insert_tokens(minted.records).await.unwrap();
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

fn partner_jwt(change: Value) -> String {
    let t = now().unix_timestamp();
    let mut claims = json!({
        "iss": PARTNER, "sub": "partner-user", "aud": PROVIDER,
        "exp": t + 300, "iat": t, "jti": random_identifier().unwrap(),
    });
    for (name, value) in change.as_object().unwrap() {
        claims[name] = value.clone();
    }
    partner_key().sign(None, &claims).unwrap()
}

async fn exchange(
    grant: &TokenExchangeGrant,
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

fn verified(token: &str) -> Map<String, Value> {
    let signing = crate::test_support::signing();
    signing
        .keys
        .verify(
            token,
            &JwtExpectations::new(PROVIDER, now()).with_typ(AT_JWT_TYP),
        )
        .unwrap()
}

#[tokio::test]
async fn rfc8693_2_2_1_impersonation_of_an_opaque_access_token() {
    let store = MemoryStore::new();
    let (access, _) = user_tokens(&store, &web_client(), "view:users delete:users").await;
    let client = exchanger(AccessTokenFormat::Opaque);
    let response = exchange(
        &impersonate(),
        &store,
        &client,
        &[("subject_token", &access), ("subject_token_type", ACCESS)],
    )
    .await
    .unwrap();
    assert_eq!(response.extra["issued_token_type"], ACCESS);
    assert!(response.refresh_token.is_none());
    // The subject token's scope, limited to what this client may have.
    assert_eq!(response.scope, scopes("view:users"));
    let record = store
        .find_token(&response.access_token.lookup_key(), now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.subject.unwrap().as_str(), "alice");
    assert_eq!(record.client_id, client.id);
}

#[tokio::test]
async fn rfc8693_4_1_delegation_carries_act_and_the_requested_audience() {
    let store = MemoryStore::new();
    let (access, _) = user_tokens(&store, &web_client(), "view:users").await;
    let client = exchanger(AccessTokenFormat::Jwt);
    let response = exchange(
        &delegate(),
        &store,
        &client,
        &[
            ("subject_token", &access),
            ("subject_token_type", ACCESS),
            ("audience", "https://billing.example"),
            ("requested_token_type", JWT),
        ],
    )
    .await
    .unwrap();
    assert_eq!(response.extra["issued_token_type"], JWT);
    let claims = verified(response.access_token.expose_secret());
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["aud"], "https://billing.example");
    assert_eq!(claims["act"], json!({"sub": client.id.as_str()}));
    assert_eq!(claims["client_id"], client.id.as_str());
    // Its record is found under its jti, like every JWT access token.
    assert!(
        store
            .find_token(&response.access_token.lookup_key(), now())
            .await
            .unwrap()
            .is_some()
    );

    // Exchanged again by another service with an actor token: the earlier act is nested.
    let second = exchanger(AccessTokenFormat::Jwt);
    let (actor, _) = user_tokens(&store, &second, "view:users").await;
    let again = exchange(
        &delegate(),
        &store,
        &second,
        &[
            ("subject_token", response.access_token.expose_secret()),
            ("subject_token_type", ACCESS),
            ("actor_token", &actor),
            ("actor_token_type", ACCESS),
        ],
    )
    .await
    .unwrap();
    let claims = verified(again.access_token.expose_secret());
    assert_eq!(claims["sub"], "alice");
    assert_eq!(
        claims["act"],
        json!({"sub": "alice", "act": {"sub": client.id.as_str()}})
    );
}

#[tokio::test]
async fn rfc8693_3_id_token_refresh_token_and_foreign_jwt_subjects() {
    let store = MemoryStore::new();
    let client = exchanger(AccessTokenFormat::Opaque);
    let signing = crate::test_support::signing();
    let id_token = IdToken::new(Subject::new("bob").unwrap(), client.id.clone(), now())
        .sign(signing.settings, signing.keys)
        .unwrap();
    let (_, refresh) = user_tokens(&store, &client, "create:users").await;
    let foreign = partner_jwt(json!({}));
    for (token, token_type, subject) in [
        (id_token.as_str(), ID, "bob"),
        (id_token.as_str(), JWT, "bob"),
        (refresh.as_str(), REFRESH, "alice"),
        (foreign.as_str(), JWT, "partner-user"),
    ] {
        let response = exchange(
            &impersonate(),
            &store,
            &client,
            &[("subject_token", token), ("subject_token_type", token_type)],
        )
        .await
        .unwrap_or_else(|err| panic!("{token_type}: {err}"));
        let record = store
            .find_token(&response.access_token.lookup_key(), now())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(record.subject.unwrap().as_str(), subject, "{token_type}");
    }
}

#[tokio::test]
async fn rfc8693_policy_default_denies_and_narrowing_applies() {
    let store = MemoryStore::new();
    let (access, _) = user_tokens(&store, &web_client(), "view:users create:users").await;
    let client = exchanger(AccessTokenFormat::Jwt);
    let params = [
        ("subject_token", access.as_str()),
        ("subject_token_type", ACCESS),
    ];
    let denied = exchange(
        &TokenExchangeGrant::new(DenyTokenExchange),
        &store,
        &client,
        &params,
    )
    .await
    .unwrap_err();
    assert_eq!(denied.code(), "invalid_request");
    let narrowing = Narrowing::none()
        .scopes(scopes("view:users delete:users"))
        .audience("https://reports.example");
    let narrowed = exchange(
        &grant(TokenExchangeDecision::Impersonate(narrowing)),
        &store,
        &client,
        &params,
    )
    .await
    .unwrap();
    assert_eq!(narrowed.scope, scopes("view:users"));
    let claims = verified(narrowed.access_token.expose_secret());
    assert_eq!(claims["aud"], "https://reports.example");
    assert!(claims.get("act").is_none(), "impersonation leaves no act");
}

/// (case, grant, client, params, error code)
type Case<'a> = (
    &'a str,
    &'a TokenExchangeGrant,
    &'a Client,
    Vec<(&'a str, String)>,
    &'a str,
);

#[tokio::test]
async fn rfc8693_2_2_2_negative_table() {
    let store = MemoryStore::new();
    let web = web_client();
    let (access, refresh) = user_tokens(&store, &web, "view:users").await;
    let (revoked, _) = user_tokens(&store, &web, "view:users").await;
    store
        .revoke_token(
            &RawToken::parse(&revoked, TokenKind::AccessToken)
                .unwrap()
                .lookup_key(),
            now(),
        )
        .await
        .unwrap();
    let opaque = exchanger(AccessTokenFormat::Opaque);
    let jwt = exchanger(AccessTokenFormat::Jwt);
    let unregistered = NewClient::new("other", ClientKind::Machine)
        .scopes(["view:users"])
        .build(&catalog())
        .unwrap()
        .client;
    let signing = crate::test_support::signing();
    let others_id_token = IdToken::new(Subject::new("bob").unwrap(), web.id.clone(), now())
        .sign(signing.settings, signing.keys)
        .unwrap();
    let t = now().unix_timestamp();
    let expired = partner_jwt(json!({"exp": t - 60}));
    let elsewhere = partner_jwt(json!({"aud": "https://other.example"}));
    let may_act_other = partner_jwt(json!({"may_act": {"sub": "someone-else"}}));
    let rogue = SigningKey::generate(SigningAlgorithm::ES256)
        .unwrap()
        .sign(
            None,
            &json!({"iss": PARTNER, "sub": "x", "aud": PROVIDER, "exp": t + 60}),
        )
        .unwrap();
    let imp = impersonate();
    let del = delegate();
    let subject = |token: &str, token_type: &str| {
        vec![
            ("subject_token", token.to_owned()),
            ("subject_token_type", token_type.to_owned()),
        ]
    };
    let with = |mut params: Vec<(&'static str, String)>, extra: &[(&'static str, &str)]| {
        params.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        params
    };
    // (case, grant, client, params, error code)
    let cases: Vec<Case<'_>> = vec![
        (
            "rfc6749_5_2_client_not_registered",
            &imp,
            &unregistered,
            subject(&access, ACCESS),
            "unauthorized_client",
        ),
        (
            "rfc8693_2_1_subject_token_missing",
            &imp,
            &opaque,
            vec![("subject_token_type", ACCESS.into())],
            "invalid_request",
        ),
        (
            "rfc8693_2_1_subject_token_type_missing",
            &imp,
            &opaque,
            vec![("subject_token", access.clone())],
            "invalid_request",
        ),
        (
            "rfc8693_3_unsupported_subject_token_type",
            &imp,
            &opaque,
            subject(&access, "urn:ietf:params:oauth:token-type:saml2"),
            "invalid_request",
        ),
        (
            "rfc8693_2_1_actor_token_without_its_type",
            &imp,
            &opaque,
            with(subject(&access, ACCESS), &[("actor_token", &access)]),
            "invalid_request",
        ),
        (
            "rfc8693_2_1_actor_token_type_without_actor_token",
            &imp,
            &opaque,
            with(subject(&access, ACCESS), &[("actor_token_type", ACCESS)]),
            "invalid_request",
        ),
        (
            "rfc8693_2_2_2_subject_token_unknown",
            &imp,
            &opaque,
            subject("pc_at_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", ACCESS),
            "invalid_request",
        ),
        (
            "rfc8693_2_2_2_subject_token_revoked",
            &imp,
            &opaque,
            subject(&revoked, ACCESS),
            "invalid_request",
        ),
        (
            "rfc8693_2_2_2_declared_type_does_not_match",
            &imp,
            &opaque,
            subject(&access, REFRESH),
            "invalid_request",
        ),
        (
            "rfc6749_10_4_another_clients_refresh_token",
            &imp,
            &opaque,
            subject(&refresh, REFRESH),
            "invalid_request",
        ),
        (
            "oidc_core_2_id_token_for_another_client",
            &imp,
            &opaque,
            subject(&others_id_token, ID),
            "invalid_request",
        ),
        (
            "rfc7519_4_1_4_expired_jwt",
            &imp,
            &opaque,
            subject(&expired, JWT),
            "invalid_request",
        ),
        (
            "rfc7519_4_1_3_jwt_for_another_audience",
            &imp,
            &opaque,
            subject(&elsewhere, JWT),
            "invalid_request",
        ),
        (
            "rfc7515_jwt_not_signed_by_the_issuers_key",
            &imp,
            &opaque,
            subject(&rogue, JWT),
            "invalid_request",
        ),
        (
            "rfc8693_2_1_requested_token_type_not_issued",
            &imp,
            &opaque,
            with(
                subject(&access, ACCESS),
                &[("requested_token_type", REFRESH)],
            ),
            "invalid_request",
        ),
        (
            "rfc8693_2_2_2_audience_for_opaque_tokens_is_invalid_target",
            &imp,
            &opaque,
            with(
                subject(&access, ACCESS),
                &[("audience", "https://billing.example")],
            ),
            "invalid_target",
        ),
        (
            "rfc8707_2_resource_not_an_absolute_uri",
            &imp,
            &jwt,
            with(subject(&access, ACCESS), &[("resource", "billing")]),
            "invalid_request",
        ),
        (
            "rfc8693_4_1_delegation_needs_jwt_access_tokens",
            &del,
            &opaque,
            subject(&access, ACCESS),
            "invalid_request",
        ),
        (
            "rfc8693_4_4_may_act_names_another_actor",
            &del,
            &jwt,
            subject(&may_act_other, JWT),
            "invalid_request",
        ),
        (
            "rfc6749_3_3_scope_beyond_the_subject_token",
            &imp,
            &opaque,
            with(subject(&access, ACCESS), &[("scope", "create:users")]),
            "invalid_scope",
        ),
    ];
    assert!(cases.len() >= 8);
    for (name, grant, client, params, code) in cases {
        let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let err = exchange(grant, &store, client, &pairs)
            .await
            .expect_err(name);
        assert_eq!(err.code(), code, "{name}: {err}");
        assert!(
            !err.description().contains(&access),
            "{name} echoes a token"
        );
    }
    // The access token used throughout is still fine: only refusals above.
    let ok = exchange(
        &imp,
        &store,
        &opaque,
        &[("subject_token", &access), ("subject_token_type", ACCESS)],
    )
    .await;
    assert!(ok.is_ok());
}

#[tokio::test]
async fn rfc8725_3_11_a_revoked_access_token_is_not_taken_for_an_id_token() {
    let store = MemoryStore::new();
    let (access, _) = user_tokens(&store, &web_client(), "view:users").await;
    let client = exchanger(AccessTokenFormat::Jwt);
    // A JWT access token whose aud is the client itself, as an ID token's would be.
    let for_itself = exchange(
        &impersonate(),
        &store,
        &client,
        &[
            ("subject_token", &access),
            ("subject_token_type", ACCESS),
            ("audience", client.id.as_str()),
        ],
    )
    .await
    .unwrap();
    let token = for_itself.access_token.expose_secret().to_owned();
    assert_eq!(verified(&token)["aud"], client.id.as_str());
    store
        .revoke_token(&for_itself.access_token.lookup_key(), now())
        .await
        .unwrap();
    for token_type in [ACCESS, ID, JWT] {
        let err = exchange(
            &impersonate(),
            &store,
            &client,
            &[
                ("subject_token", &token),
                ("subject_token_type", token_type),
            ],
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), "invalid_request", "{token_type}");
    }
}
