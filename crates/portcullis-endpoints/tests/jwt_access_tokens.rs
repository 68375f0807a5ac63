//! RFC 9068 JWT access tokens: issued provider-wide or per client by every grant and the
//! implicit flow, verifiable with the provider's key set, and still stored, so that
//! introspection (RFC 7662) and revocation (RFC 7009) treat them like opaque tokens.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::too_many_lines
)]

mod support;

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http::Response;
use portcullis_endpoints::{Authorization, Decision, ProviderBuilder};
use portcullis_registry::{AccessTokenFormat, ClientKind, GrantType, ScopeSet};
use portcullis_store::TokenStore;
use portcullis_tokens::{
    JwtExpectations, KeySet, SigningAlgorithm, SigningKey, Subject, TokenHash, TokenKind, oidc_hash,
};
use serde_json::{Value, json};
use support::*;
use time::{Duration, OffsetDateTime};

const USER: &str = "user-alice";
const API: &str = "https://api.example";

async fn provider_wide() -> Harness {
    Harness::with(|b| b.jwt_access_tokens().access_token_audience(API)).await
}

fn jose_header(jwt: &str) -> Value {
    let header = jwt.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap()
}

/// Verifies an RFC 9068 access token as a resource server would (§4): the provider's keys,
/// `iss`, `aud`, `typ` `at+jwt`, `exp`; answers the claims.
fn verify_at(h: &Harness, jwt: &str, audience: &str) -> Value {
    let keys = h.provider.signing_keys();
    let header = jose_header(jwt);
    assert_eq!(header["typ"], "at+jwt", "RFC 9068 §2.1");
    assert_eq!(header["alg"], keys.active().algorithm().as_str());
    assert_eq!(header["kid"], keys.active().kid());
    let expect = JwtExpectations::new(ISSUER, h.provider.now())
        .with_audience(audience)
        .with_typ("at+jwt");
    keys.verify(jwt, &expect).unwrap()
}

/// The RFC 9068 §2.2 claims every token has, checked against the token response.
fn assert_required_claims(claims: &Value, client_id: &str, sub: &str, h: &Harness, tokens: &Value) {
    assert_eq!(claims["iss"], ISSUER);
    assert_eq!(claims["sub"], sub);
    assert_eq!(claims["client_id"], client_id);
    let iat = claims["iat"].as_i64().unwrap();
    assert_eq!(iat, h.provider.now().unix_timestamp());
    assert_eq!(
        claims["exp"].as_i64().unwrap() - iat,
        tokens["expires_in"].as_i64().unwrap()
    );
    let jti = claims["jti"].as_str().unwrap();
    assert!(jti.len() >= 22, "at least 128 random bits");
}

async fn token(h: &Harness, client: &Registered, pairs: &[(&str, &str)]) -> Value {
    let response = h
        .provider
        .token(form_post(
            "/oauth/token",
            &encode(pairs),
            &[("authorization", &client.basic())],
        ))
        .await;
    let body = json(&response);
    assert_eq!(response.status(), 200, "{body}");
    body
}

fn password(scope: &str) -> Vec<(&str, &str)> {
    vec![
        ("grant_type", "password"),
        ("username", "alice"),
        ("password", "correct horse"),
        ("scope", scope),
    ]
}

async fn introspect(h: &Harness, caller: &Registered, token: &str) -> Value {
    let response = h
        .provider
        .introspect(form_post(
            "/oauth/introspect",
            &encode(&[("token", token)]),
            &[("authorization", &caller.basic())],
        ))
        .await;
    assert_eq!(response.status(), 200);
    json(&response)
}

async fn revoke(h: &Harness, caller: &Registered, token: &str) {
    let response = h
        .provider
        .revoke(form_post(
            "/oauth/revoke",
            &encode(&[("token", token)]),
            &[("authorization", &caller.basic())],
        ))
        .await;
    assert_eq!(response.status(), 200, "{:?}", response.body());
}

/// A code flow for `client` granting `scope`, with `max_age`; answers the token response.
async fn code_flow(h: &Harness, client: &Registered, scope: &str) -> Value {
    let query = encode(&[
        ("response_type", "code"),
        ("client_id", client.id()),
        ("redirect_uri", REDIRECT),
        ("scope", scope),
        ("max_age", "600"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]);
    let Authorization::Interaction(interaction) = h
        .provider
        .authorize(get(&format!("/oauth/authorize?{query}")), None)
        .await
    else {
        panic!("expected an interaction");
    };
    let response = h
        .provider
        .complete(
            &interaction.id,
            Decision::Allow {
                subject: Subject::new(USER).unwrap(),
                scopes: ScopeSet::parse(scope).unwrap(),
                auth_time: h.provider.now() - Duration::seconds(10),
            },
        )
        .await
        .unwrap();
    let params = redirect_params(&response);
    token(
        h,
        client,
        &[
            ("grant_type", "authorization_code"),
            ("code", &params["code"]),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
    )
    .await
}

fn redirect_params(response: &Response<Bytes>) -> HashMap<String, String> {
    assert_eq!(response.status(), 303, "{:?}", response.body());
    let location = header(response, "location").unwrap();
    let rest = location.strip_prefix(REDIRECT).unwrap();
    url::form_urlencoded::parse(rest.trim_start_matches(['?', '#']).as_bytes())
        .into_owned()
        .collect()
}

// ---------------------------------------------------------------------------------------
// Issuing.

#[tokio::test]
async fn rfc9068_2_provider_wide_code_flow_token_has_every_claim() {
    let h = provider_wide().await;
    let web = h.web().await;
    let tokens = code_flow(&h, &web, "openid view:users").await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(access.split('.').count(), 3, "a compact JWS");
    let claims = verify_at(&h, access, API);
    assert_required_claims(&claims, web.id(), USER, &h, &tokens);
    assert_eq!(claims["aud"], API, "RFC 9068 §3: the configured audience");
    assert_eq!(claims["scope"], "openid view:users", "RFC 9068 §2.2.3");
    assert_eq!(
        claims["auth_time"],
        (h.provider.now() - Duration::seconds(10)).unix_timestamp(),
        "RFC 9068 §2.2.1: known from the code"
    );
    assert!(claims.get("roles").is_none(), "a web client has no roles");

    // Refresh tokens stay opaque; the ID token's at_hash covers the whole JWT.
    let refresh = tokens["refresh_token"].as_str();
    if let Some(refresh) = refresh {
        assert_eq!(TokenKind::of(refresh), Some(TokenKind::RefreshToken));
    }
    let id_claims: Value = h
        .provider
        .signing_keys()
        .verify(
            tokens["id_token"].as_str().unwrap(),
            &JwtExpectations::new(ISSUER, h.provider.now()).with_audience(web.id()),
        )
        .unwrap();
    assert_eq!(
        id_claims["at_hash"],
        oidc_hash(SigningAlgorithm::ES256, access)
    );

    // Stored under the hash of its jti, like an opaque token under its own hash.
    let record = h
        .store
        .find_token(
            &TokenHash::of(claims["jti"].as_str().unwrap()),
            h.provider.now(),
        )
        .await
        .unwrap()
        .expect("the JWT's record");
    assert_eq!(record.kind, TokenKind::AccessToken);
    assert_eq!(record.client_id.as_str(), web.id());
    assert_eq!(
        record.expires_at.unix_timestamp(),
        claims["exp"].as_i64().unwrap()
    );
}

#[tokio::test]
async fn rfc9068_2_refresh_rotation_issues_a_new_jwt_and_an_opaque_refresh_token() {
    let h = provider_wide().await;
    let web = h.web().await;
    let first = code_flow(&h, &web, "view:users").await;
    let refresh = first["refresh_token"].as_str().unwrap();
    assert!(refresh.starts_with("pc_rt_"));
    h.clock.advance(Duration::minutes(1));
    let rotated = token(
        &h,
        &web,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert!(
        rotated["refresh_token"]
            .as_str()
            .unwrap()
            .starts_with("pc_rt_")
    );
    let claims = verify_at(&h, rotated["access_token"].as_str().unwrap(), API);
    assert_required_claims(&claims, web.id(), USER, &h, &rotated);
    assert_eq!(claims["scope"], "view:users");
    assert!(
        claims.get("auth_time").is_none(),
        "not known after a refresh"
    );
    let first_claims = verify_at(&h, first["access_token"].as_str().unwrap(), API);
    assert_ne!(claims["jti"], first_claims["jti"]);
}

#[tokio::test]
async fn rfc9068_2_per_client_format() {
    let h = Harness::new().await;
    let jwt_client = h
        .register(ClientKind::ResourceOwner, |c| {
            c.all_scopes().access_token_format(AccessTokenFormat::Jwt)
        })
        .await;
    let opaque_client = h.resource_owner().await;

    let tokens = token(&h, &jwt_client, &password("openid view:users")).await;
    let claims = verify_at(&h, tokens["access_token"].as_str().unwrap(), ISSUER);
    assert_required_claims(&claims, jwt_client.id(), USER, &h, &tokens);
    assert_eq!(claims["aud"], ISSUER, "default audience: the issuer");
    assert_eq!(
        claims["auth_time"],
        h.provider.now().unix_timestamp(),
        "the password grant authenticates the user now"
    );
    assert!(
        tokens["refresh_token"]
            .as_str()
            .unwrap()
            .starts_with("pc_rt_")
    );

    let tokens = token(&h, &opaque_client, &password("view:users")).await;
    assert!(
        tokens["access_token"]
            .as_str()
            .unwrap()
            .starts_with("pc_at_"),
        "other clients keep opaque tokens"
    );
}

#[tokio::test]
async fn rfc9068_2_2_client_credentials_sub_is_the_client_and_roles_are_claims() {
    let h = provider_wide().await;
    let machine = h.machine().await;
    let tokens = token(
        &h,
        &machine,
        &[
            ("grant_type", "client_credentials"),
            ("scope", "view:users"),
        ],
    )
    .await;
    assert!(tokens.get("refresh_token").is_none());
    let claims = verify_at(&h, tokens["access_token"].as_str().unwrap(), API);
    assert_required_claims(&claims, machine.id(), machine.id(), &h, &tokens);
    assert_eq!(claims["scope"], "view:users");
    assert_eq!(
        claims["roles"],
        json!([{"role": "auditor", "division": "emea"}])
    );
    assert!(claims.get("auth_time").is_none(), "no user");
}

#[tokio::test]
async fn rfc9068_2_implicit_flow_token_is_a_jwt() {
    let h = Harness::new().await;
    let spa = h
        .register(ClientKind::Spa, |c| {
            c.redirect_uri(REDIRECT)
                .all_scopes()
                .grant_types([GrantType::Implicit])
                .access_token_format(AccessTokenFormat::Jwt)
        })
        .await;
    let query = encode(&[
        ("response_type", "token"),
        ("client_id", spa.id()),
        ("scope", "view:users"),
    ]);
    let Authorization::Interaction(interaction) = h
        .provider
        .authorize(get(&format!("/oauth/authorize?{query}")), None)
        .await
    else {
        panic!("expected an interaction");
    };
    let auth_time = h.provider.now();
    let response = h
        .provider
        .complete(
            &interaction.id,
            Decision::Allow {
                subject: Subject::new(USER).unwrap(),
                scopes: ScopeSet::parse("view:users").unwrap(),
                auth_time,
            },
        )
        .await
        .unwrap();
    let fragment = redirect_params(&response);
    let claims = verify_at(&h, &fragment["access_token"], ISSUER);
    assert_eq!(claims["sub"], USER);
    assert_eq!(claims["client_id"], spa.id());
    assert_eq!(claims["scope"], "view:users");
    assert_eq!(claims["auth_time"], auth_time.unix_timestamp());
}

#[tokio::test]
async fn rfc9068_per_algorithm() {
    for alg in SigningAlgorithm::ALL {
        let keys = KeySet::new(SigningKey::generate(alg).unwrap());
        let h = Harness::with(|b| b.signing_keys(keys).jwt_access_tokens()).await;
        let machine = h.machine().await;
        let tokens = token(&h, &machine, &[("grant_type", "client_credentials")]).await;
        let access = tokens["access_token"].as_str().unwrap();
        let claims = verify_at(&h, access, ISSUER);
        assert_eq!(claims["sub"], machine.id(), "{alg}");
        assert_eq!(
            introspect(&h, &machine, access).await["active"],
            true,
            "{alg}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Introspection and revocation.

#[tokio::test]
async fn rfc7662_2_2_introspection_of_a_jwt_is_active_with_its_fields() {
    let h = provider_wide().await;
    let machine = h.machine().await;
    let tokens = token(
        &h,
        &machine,
        &[
            ("grant_type", "client_credentials"),
            ("scope", "view:users"),
        ],
    )
    .await;
    let access = tokens["access_token"].as_str().unwrap();
    let claims = verify_at(&h, access, API);
    let answer = introspect(&h, &machine, access).await;
    assert_eq!(answer["active"], true, "{answer}");
    assert_eq!(answer["client_id"], machine.id());
    assert_eq!(answer["scope"], "view:users");
    assert_eq!(answer["token_type"], "Bearer");
    assert_eq!(answer["iss"], ISSUER);
    assert_eq!(answer["exp"], claims["exp"]);
    assert_eq!(answer["iat"], claims["iat"]);
    assert_eq!(
        answer["roles"],
        json!([{"role": "auditor", "division": "emea"}])
    );
    assert!(answer.get("sub").is_none(), "the record's subject: none");

    // A user's token, introspected by its own client.
    let ro = h.resource_owner().await;
    let tokens = token(&h, &ro, &password("view:users")).await;
    let answer = introspect(&h, &ro, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(answer["active"], true, "{answer}");
    assert_eq!(answer["sub"], USER);

    // Another client (not introspect_any) learns nothing.
    let answer = introspect(&h, &machine, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(answer, json!({"active": false}));
}

#[tokio::test]
async fn rfc7009_2_1_revoked_jwt_is_inactive() {
    let h = provider_wide().await;
    let ro = h.resource_owner().await;
    let tokens = token(&h, &ro, &password("openid view:users")).await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(introspect(&h, &ro, access).await["active"], true);

    revoke(&h, &ro, access).await;
    assert_eq!(introspect(&h, &ro, access).await, json!({"active": false}));
    // The signature is still valid: only the store knows it is revoked.
    verify_at(&h, access, API);
    // Revoking an access token leaves the refresh token alone (RFC 7009 §2.1).
    let refresh = tokens["refresh_token"].as_str().unwrap();
    assert_eq!(introspect(&h, &ro, refresh).await["active"], true);
}

#[tokio::test]
async fn rfc7009_2_1_revoking_the_refresh_token_ends_the_jwt_too() {
    let h = provider_wide().await;
    let ro = h.resource_owner().await;
    let tokens = token(&h, &ro, &password("view:users")).await;
    revoke(&h, &ro, tokens["refresh_token"].as_str().unwrap()).await;
    let answer = introspect(&h, &ro, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(answer, json!({"active": false}));
}

#[tokio::test]
async fn rfc7009_2_another_clients_jwt_is_left_alone() {
    let h = provider_wide().await;
    let ro = h.resource_owner().await;
    let machine = h.machine().await;
    let tokens = token(&h, &ro, &password("view:users")).await;
    let access = tokens["access_token"].as_str().unwrap();
    revoke(&h, &machine, access).await;
    assert_eq!(introspect(&h, &ro, access).await["active"], true);
}

/// Changes one character of the segment `index` (0 header, 1 payload, 2 signature),
/// keeping it base64url.
fn tamper(jwt: &str, index: usize) -> String {
    let mut parts: Vec<String> = jwt.split('.').map(str::to_owned).collect();
    let part = &mut parts[index];
    let middle = part.len() / 2;
    let c = part.as_bytes()[middle];
    let replacement = if c == b'A' { "B" } else { "A" };
    part.replace_range(middle..=middle, replacement);
    parts.join(".")
}

#[tokio::test]
async fn rfc9068_4_tampered_or_foreign_jwts_are_unknown() {
    let h = provider_wide().await;
    let ro = h.resource_owner().await;
    let tokens = token(&h, &ro, &password("view:users")).await;
    let access = tokens["access_token"].as_str().unwrap();
    let claims = verify_at(&h, access, API);

    // Same claims, signed by a key the provider does not have, with and without its kid.
    let stranger = SigningKey::generate(SigningAlgorithm::ES256).unwrap();
    let foreign = stranger.sign(Some("at+jwt"), &claims).unwrap();
    // An ID-token-shaped JWT (no at+jwt typ) by the provider's own key, same jti.
    let untyped = h
        .provider
        .signing_keys()
        .active()
        .sign(None, &claims)
        .unwrap();
    // An expired token with the same jti, properly signed.
    let mut expired_claims = claims.clone();
    expired_claims["exp"] = json!(OffsetDateTime::UNIX_EPOCH.unix_timestamp() + 60);
    let expired = h
        .provider
        .signing_keys()
        .active()
        .sign(Some("at+jwt"), &expired_claims)
        .unwrap();
    // Another issuer's claims, the provider's key.
    let mut other_issuer = claims.clone();
    other_issuer["iss"] = json!("https://evil.example");
    let other_issuer = h
        .provider
        .signing_keys()
        .active()
        .sign(Some("at+jwt"), &other_issuer)
        .unwrap();
    // The right jti under another client's name.
    let mut other_client = claims.clone();
    other_client["client_id"] = json!("someone-else");
    let other_client = h
        .provider
        .signing_keys()
        .active()
        .sign(Some("at+jwt"), &other_client)
        .unwrap();

    let cases = [
        ("tampered_header", tamper(access, 0)),
        ("tampered_payload", tamper(access, 1)),
        ("tampered_signature", tamper(access, 2)),
        ("signed_by_another_key", foreign),
        ("not_typed_at_jwt", untyped),
        ("expired", expired),
        ("another_issuer", other_issuer),
        ("another_client_id", other_client),
        (
            "two_segments",
            access.rsplit_once('.').unwrap().0.to_owned(),
        ),
        ("the_bare_jti", claims["jti"].as_str().unwrap().to_owned()),
    ];
    for (name, presented) in &cases {
        let answer = introspect(&h, &ro, presented).await;
        assert_eq!(answer, json!({"active": false}), "{name}");
        // RFC 7009 §2.2: an invalid token is no error, and nothing is revoked.
        revoke(&h, &ro, presented).await;
    }
    assert_eq!(introspect(&h, &ro, access).await["active"], true);
}

#[tokio::test]
async fn oidc_core_10_1_1_jwt_signed_before_a_rotation_still_introspects() {
    let h = provider_wide().await;
    let ro = h.resource_owner().await;
    let tokens = token(&h, &ro, &password("view:users")).await;
    let access = tokens["access_token"].as_str().unwrap();

    let mut keys = (*h.provider.signing_keys()).clone();
    keys.rotate(SigningKey::generate(SigningAlgorithm::EdDSA).unwrap());
    h.provider.set_signing_keys(keys.clone());
    assert_eq!(introspect(&h, &ro, access).await["active"], true);

    // Once the old key is no longer published, the token is unknown.
    keys.prune(0);
    h.provider.set_signing_keys(keys);
    assert_eq!(introspect(&h, &ro, access).await, json!({"active": false}));
}

#[tokio::test]
async fn builder_access_token_audience_defaults_to_the_issuer() {
    let h = Harness::with(ProviderBuilder::jwt_access_tokens).await;
    let machine = h.machine().await;
    let tokens = token(&h, &machine, &[("grant_type", "client_credentials")]).await;
    let claims = verify_at(&h, tokens["access_token"].as_str().unwrap(), ISSUER);
    assert_eq!(claims["aud"], ISSUER);
}
