//! ID tokens (OpenID Connect Core §2) from the token endpoint (§3.1.3.3, §12.2, and the
//! password grant of DESIGN §4.1) and from the authorization endpoint (`id_token`,
//! `id_token token`: §3.2.2.5; `code id_token`: §3.3.2.5), verified with the provider's own
//! key set for every signing algorithm.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::too_many_lines
)]

mod support;

use std::collections::HashMap;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http::Response;
use portcullis_endpoints::{Authorization, Decision, ProviderBuilder};
use portcullis_grants::{BoxError, ClaimsSource};
use portcullis_registry::{ClientKind, GrantType, ScopeSet};
use portcullis_tokens::{
    JwtExpectations, KeySet, SigningAlgorithm, SigningKey, Subject, TokenKind, oidc_hash,
};
use serde_json::{Map, Value, json};
use support::*;
use time::{Duration, OffsetDateTime};

const USER: &str = "user-alice";
const NONCE: &str = "n-0S6_WzA2Mj";

/// The application's directory: `email` for the `email` scope, `name` for `profile`, and a
/// forged `sub` that must never reach a token.
struct Directory;

#[async_trait]
impl ClaimsSource for Directory {
    async fn claims(
        &self,
        subject: &Subject,
        scopes: &ScopeSet,
    ) -> Result<Map<String, Value>, BoxError> {
        let mut claims = Map::new();
        claims.insert("sub".into(), json!("forged"));
        claims.insert("nonce".into(), json!("forged"));
        if scopes.contains("email") {
            claims.insert("email".into(), json!(format!("{subject}@example.com")));
        }
        if scopes.contains("profile") {
            claims.insert("name".into(), json!("Alice"));
        }
        Ok(claims)
    }
}

/// A provider signing with a fresh `alg` key, with [`Directory`] for claims.
async fn harness(alg: SigningAlgorithm) -> Harness {
    harness_with(alg, |b| b).await
}

async fn harness_with(
    alg: SigningAlgorithm,
    configure: impl FnOnce(ProviderBuilder) -> ProviderBuilder,
) -> Harness {
    let keys = KeySet::new(SigningKey::generate(alg).unwrap());
    Harness::with(|b| configure(b.signing_keys(keys).claims(Directory))).await
}

/// A public client with the code, implicit and refresh grants.
async fn implicit_spa(h: &Harness) -> Registered {
    h.register(ClientKind::Spa, |c| {
        c.client_id("spa-implicit")
            .redirect_uri(REDIRECT)
            .all_scopes()
            .grant_types([GrantType::AuthorizationCode, GrantType::Implicit])
    })
    .await
}

/// Sends an authorization request and completes it for alice, granting `scopes`,
/// authenticated at `auth_time`.
async fn authorize_and_allow(
    h: &Harness,
    pairs: &[(&str, &str)],
    scopes: &str,
    auth_time: OffsetDateTime,
) -> Response<Bytes> {
    let outcome = h
        .provider
        .authorize(get(&format!("/oauth/authorize?{}", encode(pairs))), None)
        .await;
    let Authorization::Interaction(interaction) = outcome else {
        panic!("expected an interaction");
    };
    h.provider
        .complete(
            &interaction.id,
            Decision::Allow {
                subject: Subject::new(USER).unwrap(),
                scopes: ScopeSet::parse(scopes).unwrap(),
                auth_time,
            },
        )
        .await
        .unwrap()
}

/// A refused authorization request: its redirect.
async fn refused(h: &Harness, pairs: &[(&str, &str)]) -> Response<Bytes> {
    match h
        .provider
        .authorize(get(&format!("/oauth/authorize?{}", encode(pairs))), None)
        .await
    {
        Authorization::Respond(response) => response,
        Authorization::Interaction(_) => panic!("expected the request to be refused"),
    }
}

/// The parameters of a redirect to [`REDIRECT`]: (query, fragment).
fn redirect(response: &Response<Bytes>) -> (HashMap<String, String>, HashMap<String, String>) {
    assert_eq!(response.status(), 303, "{:?}", response.body());
    let location = header(response, "location").unwrap();
    let rest = location
        .strip_prefix(REDIRECT)
        .unwrap_or_else(|| panic!("{location}"));
    let (query, fragment) = match rest.split_once('#') {
        Some((query, fragment)) => (query, fragment),
        None => (rest, ""),
    };
    let parse = |s: &str| -> HashMap<String, String> {
        url::form_urlencoded::parse(s.trim_start_matches('?').as_bytes())
            .into_owned()
            .collect()
    };
    (parse(query), parse(fragment))
}

fn jose_header(jwt: &str) -> Value {
    let header = jwt.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap()
}

/// Verifies an ID token for `client_id` with the provider's key set: signature, `iss`,
/// `aud`, `exp`, `iat`; checks the header; returns the claims.
fn verify_id_token(h: &Harness, jwt: &str, client_id: &str) -> Value {
    let keys = h.provider.signing_keys();
    let header = jose_header(jwt);
    assert_eq!(header["alg"], keys.active().algorithm().as_str());
    assert_eq!(header["kid"], keys.active().kid());
    assert!(
        header.get("typ").is_none() || header["typ"] == "JWT",
        "{header}"
    );
    let expect = JwtExpectations::new(ISSUER, h.provider.now()).with_audience(client_id);
    let claims: Value = keys.verify(jwt, &expect).unwrap();
    assert_eq!(claims["iss"], ISSUER);
    assert_eq!(claims["aud"], client_id, "one audience, as a string");
    assert!(
        claims.get("azp").is_none(),
        "a single audience needs no azp"
    );
    assert_eq!(
        claims["iat"].as_i64().unwrap(),
        h.provider.now().unix_timestamp()
    );
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600,
        "default ID token lifetime"
    );
    claims
}

fn alg_of(h: &Harness) -> SigningAlgorithm {
    h.provider.signing_keys().active().algorithm()
}

/// A code flow for the confidential web client with `extra` authorization parameters,
/// then the token request; answers the token response.
async fn code_flow(h: &Harness, web: &Registered, scope: &str, extra: &[(&str, &str)]) -> Value {
    let mut pairs = vec![
        ("response_type", "code"),
        ("client_id", web.id()),
        ("redirect_uri", REDIRECT),
        ("scope", scope),
        ("state", "st"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    pairs.extend_from_slice(extra);
    let response = authorize_and_allow(h, &pairs, scope, h.provider.now()).await;
    let (query, _) = redirect(&response);
    exchange_code(h, web, &query["code"]).await
}

async fn exchange_code(h: &Harness, web: &Registered, code: &str) -> Value {
    let response = h
        .provider
        .token(form_post(
            "/oauth/token",
            &encode(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ]),
            &[("authorization", &web.basic())],
        ))
        .await;
    let body = json(&response);
    assert_eq!(response.status(), 200, "{body}");
    body
}

// ---------------------------------------------------------------------------------------
// Token endpoint.

#[tokio::test]
async fn oidc_core_3_1_3_3_code_flow_id_token_per_algorithm() {
    for alg in SigningAlgorithm::ALL {
        let h = harness(alg).await;
        let web = h.web().await;
        let tokens = code_flow(&h, &web, "openid email", &[("nonce", NONCE)]).await;
        let access_token = tokens["access_token"].as_str().unwrap();
        let id_token = tokens["id_token"]
            .as_str()
            .unwrap_or_else(|| panic!("{alg}: no id_token in {tokens}"));
        let claims = verify_id_token(&h, id_token, web.id());
        assert_eq!(claims["sub"], USER, "{alg}");
        assert_eq!(
            claims["nonce"], NONCE,
            "{alg}: Core §3.1.3.6, exactly as sent"
        );
        assert_eq!(
            claims["at_hash"],
            oidc_hash(alg, access_token),
            "{alg}: Core §3.1.3.6"
        );
        assert!(claims.get("auth_time").is_none(), "{alg}: no max_age asked");
        assert!(claims.get("c_hash").is_none(), "{alg}");
        // Core §5.4: an access token was issued, so the claims are for UserInfo.
        assert!(claims.get("email").is_none(), "{alg}: {claims}");
        assert!(TokenKind::of(access_token) == Some(TokenKind::AccessToken));
    }
}

#[tokio::test]
async fn oidc_core_3_1_3_3_no_openid_no_id_token() {
    let h = harness(SigningAlgorithm::ES256).await;
    let web = h.web().await;
    let tokens = code_flow(&h, &web, "view:users", &[]).await;
    assert!(tokens.get("id_token").is_none(), "{tokens}");
}

#[tokio::test]
async fn oidc_core_3_1_3_6_nonce_absent_when_not_sent() {
    let h = harness(SigningAlgorithm::ES256).await;
    let web = h.web().await;
    let tokens = code_flow(&h, &web, "openid", &[]).await;
    let claims = verify_id_token(&h, tokens["id_token"].as_str().unwrap(), web.id());
    assert!(claims.get("nonce").is_none(), "{claims}");
}

#[tokio::test]
async fn oidc_core_2_auth_time_present_iff_max_age_requested() {
    let h = harness(SigningAlgorithm::ES256).await;
    let web = h.web().await;
    let signed_in = h.provider.now() - Duration::seconds(30);

    // With max_age: REQUIRED (Core §3.1.2.1), the time the user actually authenticated.
    let pairs = [
        ("response_type", "code"),
        ("client_id", web.id()),
        ("redirect_uri", REDIRECT),
        ("scope", "openid"),
        ("max_age", "600"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    let response = authorize_and_allow(&h, &pairs, "openid", signed_in).await;
    let (query, _) = redirect(&response);
    let tokens = exchange_code(&h, &web, &query["code"]).await;
    let claims = verify_id_token(&h, tokens["id_token"].as_str().unwrap(), web.id());
    assert_eq!(claims["auth_time"], signed_in.unix_timestamp());

    // Without: absent.
    let tokens = code_flow(&h, &web, "openid", &[]).await;
    let claims = verify_id_token(&h, tokens["id_token"].as_str().unwrap(), web.id());
    assert!(claims.get("auth_time").is_none(), "{claims}");
}

#[tokio::test]
async fn oidc_core_2_auth_time_always_when_configured() {
    let h = harness_with(
        SigningAlgorithm::ES256,
        ProviderBuilder::always_include_auth_time,
    )
    .await;
    let web = h.web().await;
    let tokens = code_flow(&h, &web, "openid", &[]).await;
    let claims = verify_id_token(&h, tokens["id_token"].as_str().unwrap(), web.id());
    assert_eq!(claims["auth_time"], h.provider.now().unix_timestamp());
}

#[tokio::test]
async fn oidc_core_12_2_refresh_issues_a_new_id_token_without_nonce() {
    let h = harness(SigningAlgorithm::EdDSA).await;
    let web = h.web().await;
    let first = code_flow(&h, &web, "openid offline_access", &[("nonce", NONCE)]).await;
    let first_claims = verify_id_token(&h, first["id_token"].as_str().unwrap(), web.id());
    assert_eq!(first_claims["nonce"], NONCE);
    let refresh_token = first["refresh_token"].as_str().unwrap();

    h.clock.advance(Duration::minutes(5));
    let response = h
        .provider
        .token(form_post(
            "/oauth/token",
            &encode(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
            ]),
            &[("authorization", &web.basic())],
        ))
        .await;
    let rotated = json(&response);
    assert_eq!(response.status(), 200, "{rotated}");
    let id_token = rotated["id_token"].as_str().expect("a new ID token");
    assert_ne!(id_token, first["id_token"].as_str().unwrap());
    let claims = verify_id_token(&h, id_token, web.id());
    assert_eq!(claims["sub"], first_claims["sub"], "Core §12.2: same sub");
    assert!(claims.get("nonce").is_none(), "Core §12.2: no nonce");
    assert_eq!(
        claims["at_hash"],
        oidc_hash(
            SigningAlgorithm::EdDSA,
            rotated["access_token"].as_str().unwrap()
        )
    );
}

#[tokio::test]
async fn oidc_core_12_2_no_id_token_on_refresh_of_a_plain_oauth_grant() {
    let h = harness(SigningAlgorithm::ES256).await;
    let web = h.web().await;
    let first = code_flow(&h, &web, "view:users", &[]).await;
    let response = h
        .provider
        .token(form_post(
            "/oauth/token",
            &encode(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", first["refresh_token"].as_str().unwrap()),
            ]),
            &[("authorization", &web.basic())],
        ))
        .await;
    let rotated = json(&response);
    assert_eq!(response.status(), 200, "{rotated}");
    assert!(rotated.get("id_token").is_none(), "{rotated}");
}

#[tokio::test]
async fn design_4_1_password_grant_with_openid_issues_an_id_token() {
    let h = harness(SigningAlgorithm::RS256).await;
    let client = h.resource_owner().await;
    let password = |scope: &'static str| {
        form_post(
            "/oauth/token",
            &encode(&[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", "correct horse"),
                ("scope", scope),
            ]),
            &[("authorization", &client.basic())],
        )
    };
    let response = h.provider.token(password("openid email")).await;
    let tokens = json(&response);
    assert_eq!(response.status(), 200, "{tokens}");
    let claims = verify_id_token(&h, tokens["id_token"].as_str().unwrap(), client.id());
    assert_eq!(claims["sub"], USER);
    assert_eq!(claims["amr"], json!(["pwd"]), "RFC 8176 §2");
    assert_eq!(
        claims["at_hash"],
        oidc_hash(alg_of(&h), tokens["access_token"].as_str().unwrap())
    );
    assert!(claims.get("nonce").is_none());
    assert!(claims.get("email").is_none(), "Core §5.4: UserInfo's");

    let response = h.provider.token(password("view:users")).await;
    let tokens = json(&response);
    assert_eq!(response.status(), 200, "{tokens}");
    assert!(tokens.get("id_token").is_none(), "no openid, no ID token");
}

// ---------------------------------------------------------------------------------------
// Authorization endpoint.

#[tokio::test]
async fn oidc_core_3_2_2_5_id_token_response_carries_the_claims_per_algorithm() {
    for alg in SigningAlgorithm::ALL {
        let h = harness(alg).await;
        let spa = implicit_spa(&h).await;
        let pairs = [
            ("response_type", "id_token"),
            ("client_id", spa.id()),
            ("scope", "openid email profile"),
            ("nonce", NONCE),
            ("state", "st"),
        ];
        let response = authorize_and_allow(&h, &pairs, "openid email", h.provider.now()).await;
        let (query, fragment) = redirect(&response);
        assert!(query.is_empty(), "{alg}: never in the query");
        assert_eq!(fragment["state"], "st");
        assert_eq!(fragment["iss"], ISSUER, "RFC 9207");
        assert!(
            !fragment.contains_key("access_token"),
            "{alg}: id_token only"
        );
        assert!(!fragment.contains_key("code"));
        let claims = verify_id_token(&h, &fragment["id_token"], spa.id());
        assert_eq!(claims["sub"], USER, "{alg}: never the ClaimsSource's");
        assert_eq!(claims["nonce"], NONCE, "{alg}");
        // Core §5.4: no access token, so the granted scopes' claims are in the ID token,
        // and only those (profile was requested but not granted).
        assert_eq!(claims["email"], "user-alice@example.com", "{alg}");
        assert!(claims.get("name").is_none(), "{alg}: profile not granted");
        assert!(claims.get("at_hash").is_none(), "{alg}");
        assert!(claims.get("c_hash").is_none(), "{alg}");
    }
}

#[tokio::test]
async fn oidc_core_3_2_2_10_id_token_token_has_at_hash_per_algorithm() {
    for alg in SigningAlgorithm::ALL {
        let h = harness(alg).await;
        let spa = implicit_spa(&h).await;
        let pairs = [
            ("response_type", "token id_token"),
            ("client_id", spa.id()),
            ("scope", "openid email"),
            ("nonce", NONCE),
            ("state", "st"),
        ];
        let response = authorize_and_allow(&h, &pairs, "openid email", h.provider.now()).await;
        let (_, fragment) = redirect(&response);
        let access_token = &fragment["access_token"];
        assert_eq!(fragment["token_type"], "Bearer");
        assert_eq!(fragment["expires_in"], "3600");
        assert!(!fragment.contains_key("refresh_token"), "RFC 6749 §4.2.2");
        let claims = verify_id_token(&h, &fragment["id_token"], spa.id());
        assert_eq!(claims["nonce"], NONCE);
        assert_eq!(claims["at_hash"], oidc_hash(alg, access_token), "{alg}");
        assert!(claims.get("email").is_none(), "{alg}: UserInfo's");
        assert!(claims.get("auth_time").is_none(), "{alg}");
    }
}

#[tokio::test]
async fn oidc_core_3_3_2_11_code_id_token_has_c_hash_per_algorithm() {
    for alg in SigningAlgorithm::ALL {
        let h = harness(alg).await;
        let spa = implicit_spa(&h).await;
        let pairs = [
            ("response_type", "code id_token"),
            ("client_id", spa.id()),
            ("redirect_uri", REDIRECT),
            ("scope", "openid"),
            ("nonce", NONCE),
            ("max_age", "3600"),
            ("state", "st"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ];
        let auth_time = h.provider.now() - Duration::minutes(1);
        let response = authorize_and_allow(&h, &pairs, "openid", auth_time).await;
        let (query, fragment) = redirect(&response);
        assert!(query.is_empty(), "{alg}: fragment by default");
        let code = &fragment["code"];
        assert!(!fragment.contains_key("access_token"));
        let front = verify_id_token(&h, &fragment["id_token"], spa.id());
        assert_eq!(front["c_hash"], oidc_hash(alg, code), "{alg}");
        assert_eq!(front["nonce"], NONCE);
        assert_eq!(front["auth_time"], auth_time.unix_timestamp());
        assert!(front.get("at_hash").is_none());

        // The code redeems like any other; the token endpoint's ID token has the same
        // subject, nonce and auth_time (Core §3.3.3.6).
        let response = h
            .provider
            .token(form_post(
                "/oauth/token",
                &encode(&[
                    ("grant_type", "authorization_code"),
                    ("client_id", spa.id()),
                    ("code", code),
                    ("redirect_uri", REDIRECT),
                    ("code_verifier", VERIFIER),
                ]),
                &[],
            ))
            .await;
        let tokens = json(&response);
        assert_eq!(response.status(), 200, "{alg}: {tokens}");
        let back = verify_id_token(&h, tokens["id_token"].as_str().unwrap(), spa.id());
        assert_eq!(back["sub"], front["sub"]);
        assert_eq!(back["nonce"], NONCE);
        assert_eq!(back["auth_time"], front["auth_time"]);
        assert_eq!(
            back["at_hash"],
            oidc_hash(alg, tokens["access_token"].as_str().unwrap())
        );
    }
}

#[tokio::test]
async fn oauth_form_post_2_id_token_by_form_post() {
    let h = harness(SigningAlgorithm::ES256).await;
    let spa = implicit_spa(&h).await;
    let pairs = [
        ("response_type", "id_token"),
        ("response_mode", "form_post"),
        ("client_id", spa.id()),
        ("scope", "openid"),
        ("nonce", NONCE),
    ];
    let response = authorize_and_allow(&h, &pairs, "openid", h.provider.now()).await;
    assert_eq!(response.status(), 200);
    let page = String::from_utf8(response.body().to_vec()).unwrap();
    assert!(page.contains("name=\"id_token\" value=\"ey"), "{page}");
}

/// (case, client, response_type, scope, nonce, expected error)
type RefusedCase<'a> = (
    &'a str,
    &'a Registered,
    &'a str,
    &'a str,
    Option<&'a str>,
    &'a str,
);

#[tokio::test]
async fn oidc_core_3_2_2_1_refused_id_token_requests() {
    let h = harness(SigningAlgorithm::ES256).await;
    let spa = implicit_spa(&h).await;
    let web = h.web().await;
    let pkce = [
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    let cases: [RefusedCase<'_>; 8] = [
        (
            "oidc_core_3_2_2_1_id_token_nonce_required",
            &spa,
            "id_token",
            "openid",
            None,
            "invalid_request",
        ),
        (
            "oidc_core_3_2_2_1_id_token_token_nonce_required",
            &spa,
            "id_token token",
            "openid",
            None,
            "invalid_request",
        ),
        (
            "oidc_core_3_3_2_11_code_id_token_nonce_required",
            &spa,
            "code id_token",
            "openid",
            None,
            "invalid_request",
        ),
        (
            "oidc_core_3_2_2_1_id_token_without_openid",
            &spa,
            "id_token",
            "email",
            Some(NONCE),
            "invalid_request",
        ),
        (
            "oidc_core_3_3_2_1_code_id_token_without_openid",
            &spa,
            "code id_token",
            "view:users",
            Some(NONCE),
            "invalid_request",
        ),
        (
            "oidc_core_3_2_2_1_id_token_client_without_implicit",
            &web,
            "id_token",
            "openid",
            Some(NONCE),
            "unauthorized_client",
        ),
        (
            "oidc_core_3_2_2_1_id_token_token_client_without_implicit",
            &web,
            "id_token token",
            "openid",
            Some(NONCE),
            "unauthorized_client",
        ),
        (
            "oidc_core_3_3_2_1_code_id_token_client_without_implicit",
            &web,
            "code id_token",
            "openid",
            Some(NONCE),
            "unauthorized_client",
        ),
    ];
    for (name, client, response_type, scope, nonce, error) in cases {
        let mut pairs = vec![
            ("response_type", response_type),
            ("client_id", client.id()),
            ("redirect_uri", REDIRECT),
            ("scope", scope),
            ("state", "st"),
        ];
        pairs.extend_from_slice(&pkce);
        if let Some(nonce) = nonce {
            pairs.push(("nonce", nonce));
        }
        let response = refused(&h, &pairs).await;
        let (query, fragment) = redirect(&response);
        assert!(
            query.is_empty(),
            "{name}: errors for tokens go in the fragment"
        );
        assert_eq!(fragment["error"], error, "{name}: {fragment:?}");
        assert_eq!(fragment["state"], "st", "{name}");
        assert_eq!(fragment["iss"], ISSUER, "{name}");
        assert!(!fragment.contains_key("id_token"), "{name}");
    }

    // Multiple Response Type Encoding Practices §2.1: never the query for a token.
    let response = refused(
        &h,
        &[
            ("response_type", "id_token"),
            ("response_mode", "query"),
            ("client_id", spa.id()),
            ("scope", "openid"),
            ("nonce", NONCE),
        ],
    )
    .await;
    let (query, fragment) = redirect(&response);
    assert!(query.is_empty());
    assert_eq!(fragment["error"], "invalid_request");
}
