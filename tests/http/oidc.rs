//! OpenID Connect interop with the `openidconnect` crate (4.x) as the relying party:
//! discovery, code + PKCE with ID-token verification (signature, `nonce`, `at_hash`),
//! UserInfo, refresh, logout, for every signing algorithm and across a key rotation; and
//! the negative cases an RP must be able to rely on.

use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreJwsSigningAlgorithm, CoreProviderMetadata,
    CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};
use portcullis_tokens::{KeySet, SigningAlgorithm, SigningKey};
use serde_json::Value;

use super::Adapter;
use super::cases::walk_pages;
use super::fixture::*;

fn rp_http() -> reqwest::Client {
    // The openidconnect crate's own advice: never follow redirects (SSRF).
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

type Client = openidconnect::core::CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

async fn discover(fx: &Fixture, client: &Registered) -> Client {
    let metadata = CoreProviderMetadata::discover_async(
        IssuerUrl::new(fx.server.base.clone()).unwrap(),
        &rp_http(),
    )
    .await
    .unwrap_or_else(|err| panic!("discovery: {err:?}"));
    CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(client.id.clone()),
        client.secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap())
}

const ALGS: [CoreJwsSigningAlgorithm; 3] = [
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EdDsa,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
];

/// Signs in through the default pages and exchanges the code; answers the token response
/// and the nonce sent.
async fn sign_in(fx: &Fixture, client: &Client) -> (openidconnect::core::CoreTokenResponse, Nonce) {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("offline_access".into()))
        .set_pkce_challenge(challenge)
        .url();
    let redirect = walk_pages(fx, url.as_str(), "allow").await;
    let params = redirect_params(&redirect, REDIRECT);
    assert_eq!(&params["state"], csrf.secret());
    let tokens = client
        .exchange_code(AuthorizationCode::new(params["code"].clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&rp_http())
        .await
        .unwrap_or_else(|err| panic!("code exchange: {err:?}"));
    (tokens, nonce)
}

/// The whole RP journey for a provider signing with `alg`.
async fn rp_journey<A: Adapter>(alg: SigningAlgorithm) {
    let key = SigningKey::generate(alg).unwrap();
    let fx = Fixture::start_with::<A>(|b| b.signing_keys(KeySet::new(key))).await;
    let client = discover(&fx, &fx.web).await;
    let (tokens, nonce) = sign_in(&fx, &client).await;

    let id_token = tokens
        .id_token()
        .expect("an ID token for an openid request");
    let verifier = client.id_token_verifier().set_allowed_algs(ALGS.to_vec());
    let claims = id_token
        .claims(&verifier, &nonce)
        .unwrap_or_else(|err| panic!("{alg:?}: ID token verification: {err:?}"));
    assert_eq!(claims.subject().as_str(), "user-alice");
    assert_eq!(claims.issuer().as_str(), fx.server.base);
    let expected = claims.access_token_hash().expect("at_hash");
    let actual = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(&actual, expected, "{alg:?}: at_hash");

    let userinfo: CoreUserInfoClaims = client
        .user_info(
            tokens.access_token().clone(),
            Some(claims.subject().clone()),
        )
        .unwrap()
        .request_async(&rp_http())
        .await
        .unwrap_or_else(|err| panic!("userinfo: {err:?}"));
    assert_eq!(
        userinfo.email().map(|e| e.as_str()),
        Some("alice@example.com")
    );

    let refresh = tokens
        .refresh_token()
        .expect("a refresh token with offline_access");
    let refreshed = client
        .exchange_refresh_token(refresh)
        .unwrap()
        .request_async(&rp_http())
        .await
        .unwrap_or_else(|err| panic!("refresh: {err:?}"));
    if let Some(id_token) = refreshed.id_token() {
        let again = id_token
            .claims(&verifier, |_: Option<&Nonce>| Ok(()))
            .unwrap_or_else(|err| panic!("refreshed ID token: {err:?}"));
        assert_eq!(
            again.subject(),
            claims.subject(),
            "OIDC Core §12.2: same sub"
        );
    }

    // RP-Initiated Logout with a registered post_logout_redirect_uri.
    let metadata: Value = body_json(
        fx.http
            .get(fx.url("/.well-known/openid-configuration"))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let end_session = metadata["end_session_endpoint"]
        .as_str()
        .expect("end_session_endpoint");
    let logout = url::Url::parse_with_params(
        end_session,
        &[
            ("id_token_hint", id_token.to_string().as_str()),
            ("post_logout_redirect_uri", SIGNED_OUT),
            ("state", "bye"),
        ],
    )
    .unwrap();
    let response = fx.browser.get(logout).send().await.unwrap();
    assert_eq!(redirect_params(&response, SIGNED_OUT)["state"], "bye");
    // The session is gone: the next authorization asks for a login again.
    let (url, _, _) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(PkceCodeChallenge::new_random_sha256().0)
        .url();
    let again = fx.browser.get(url.as_str()).send().await.unwrap();
    assert!(
        header(&again, "location")
            .unwrap_or_default()
            .contains("/oauth/login")
    );
}

/// OpenID Connect Core §3.1 with an ES256 provider (the default algorithm).
pub async fn oidc_rp_journey_es256<A: Adapter>() {
    rp_journey::<A>(SigningAlgorithm::ES256).await;
}

/// OpenID Connect Core §3.1 with an EdDSA (Ed25519) provider.
pub async fn oidc_rp_journey_eddsa<A: Adapter>() {
    rp_journey::<A>(SigningAlgorithm::EdDSA).await;
}

/// OpenID Connect Core §3.1 with an RS256 provider.
pub async fn oidc_rp_journey_rs256<A: Adapter>() {
    rp_journey::<A>(SigningAlgorithm::RS256).await;
}

/// Key rotation: tokens signed by the old key still verify after the rotation (its public
/// key stays in the JWKS), and new tokens are signed by the new key.
pub async fn oidc_key_rotation<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let client = discover(&fx, &fx.web).await;
    let (before, nonce) = sign_in(&fx, &client).await;
    let old_id_token = before.id_token().unwrap().clone();

    fx.provider
        .rotate_signing_key(SigningAlgorithm::ES256)
        .await
        .unwrap_or_else(|err| panic!("rotation: {err:?}"));
    let client = discover(&fx, &fx.web).await; // a fresh JWKS, as an RP refreshes it
    let verifier = client.id_token_verifier().set_allowed_algs(ALGS.to_vec());
    old_id_token
        .claims(&verifier, &nonce)
        .unwrap_or_else(|err| panic!("a token from before the rotation: {err:?}"));

    let (after, nonce) = sign_in(&fx, &client).await;
    let new_id_token = after.id_token().unwrap();
    new_id_token.claims(&verifier, &nonce).unwrap();
    let kid = |token: &CoreIdToken| {
        let header = token.to_string().split('.').next().unwrap().to_owned();
        let header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
        header["kid"].as_str().unwrap().to_owned()
    };
    assert_ne!(kid(&old_id_token), kid(new_id_token), "the new key signs");
}

/// What an RP must refuse: tampered signature, `alg: none`, unknown `kid`, wrong `aud`,
/// expiry and `nonce` mismatch — each checked against a real ID token from the provider.
pub async fn oidc_id_token_negative_cases<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let client = discover(&fx, &fx.web).await;
    let (tokens, nonce) = sign_in(&fx, &client).await;
    let genuine = tokens.id_token().unwrap().to_string();
    let verifier = client.id_token_verifier().set_allowed_algs(ALGS.to_vec());
    let parts: Vec<&str> = genuine.split('.').collect();
    let payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();

    let refuse = |name: &str, token: String, nonce: &Nonce| {
        let Ok(token) = CoreIdToken::from_str(&token) else {
            return;
        };
        assert!(
            token.claims(&verifier, nonce).is_err(),
            "{name}: the RP must refuse it"
        );
    };
    // Flip the first character: the last one of a base64url signature may carry only
    // padding bits, so changing it can leave the decoded signature unchanged.
    let mut signature = parts[2].to_owned();
    let flipped = if signature.starts_with('A') { "B" } else { "A" };
    signature.replace_range(..1, flipped);
    refuse(
        "tampered_signature",
        format!("{}.{}.{signature}", parts[0], parts[1]),
        &nonce,
    );
    let none = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    refuse("alg_none", format!("{none}.{}.", parts[1]), &nonce);
    let stranger = SigningKey::generate(SigningAlgorithm::ES256).unwrap();
    refuse(
        "unknown_kid",
        stranger.sign(None, &payload).unwrap(),
        &nonce,
    );
    let mut other_aud = payload.clone();
    other_aud["aud"] = Value::String("someone-else".into());
    let active = fx.provider.signing_keys();
    refuse(
        "wrong_aud",
        active.active().sign(None, &other_aud).unwrap(),
        &nonce,
    );
    let mut expired = payload.clone();
    expired["exp"] = Value::from(1_000_000_000_i64);
    expired["iat"] = Value::from(999_999_000_i64);
    refuse(
        "expired",
        active.active().sign(None, &expired).unwrap(),
        &nonce,
    );
    refuse(
        "nonce_mismatch",
        genuine.clone(),
        &Nonce::new("another".into()),
    );
    // And the genuine one passes, so the cases above fail for their own reason.
    CoreIdToken::from_str(&genuine)
        .unwrap()
        .claims(&verifier, &nonce)
        .unwrap();
}

/// RFC 6750 §2 / OpenID Connect Core §5.3.1: UserInfo takes the token from the
/// `Authorization` header; one in the query is refused.
pub async fn oidc_userinfo_token_in_query_refused<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let client = discover(&fx, &fx.web).await;
    let (tokens, _) = sign_in(&fx, &client).await;
    let token = tokens.access_token().secret();
    let response = fx
        .http
        .get(fx.url(&format!("/oauth/userinfo?access_token={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let ok = fx
        .http
        .get(fx.url("/oauth/userinfo"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(body_json(ok, 200).await["sub"], "user-alice");
}

/// RP-Initiated Logout §3: an unregistered `post_logout_redirect_uri` is never redirected to.
pub async fn oidc_logout_unregistered_redirect_refused<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let client = discover(&fx, &fx.web).await;
    let (tokens, _) = sign_in(&fx, &client).await;
    let hint = tokens.id_token().unwrap().to_string();
    let response = fx
        .browser
        .get(fx.url("/oauth/logout"))
        .query(&[
            ("id_token_hint", hint.as_str()),
            ("post_logout_redirect_uri", "https://evil.example/phish"),
            ("state", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert!(header(&response, "location").is_none(), "must not redirect");
    assert!(response.status().is_success() || response.status().is_client_error());
}

/// Discovery (OpenID Connect Discovery 1.0 §3 and RFC 8414 §2): both documents carry their
/// required fields, point at this server, and advertise only real algorithms.
pub async fn oidc_discovery_documents<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let oidc = body_json(
        fx.http
            .get(fx.url("/.well-known/openid-configuration"))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    for field in [
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "response_types_supported",
        "subject_types_supported",
        "id_token_signing_alg_values_supported",
    ] {
        assert!(
            oidc.get(field).is_some(),
            "OpenID Connect Discovery §3 requires {field}"
        );
    }
    assert_eq!(oidc["issuer"], fx.server.base.as_str());
    assert_eq!(oidc["authorization_response_iss_parameter_supported"], true);
    let algs = oidc["id_token_signing_alg_values_supported"]
        .as_array()
        .unwrap();
    assert!(!algs.iter().any(|a| a == "none"));
    let rfc8414 = body_json(
        fx.http
            .get(fx.url("/.well-known/oauth-authorization-server"))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    for field in [
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "response_types_supported",
    ] {
        assert!(rfc8414.get(field).is_some(), "RFC 8414 §2 requires {field}");
    }
    assert_eq!(rfc8414["issuer"], fx.server.base.as_str());
    let jwks = body_json(
        fx.http
            .get(oidc["jwks_uri"].as_str().unwrap())
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let keys = jwks["keys"].as_array().unwrap();
    assert!(!keys.is_empty());
    assert!(
        keys.iter().all(|k| k.get("d").is_none()),
        "public keys only"
    );
}
