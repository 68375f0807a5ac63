//! Client authentication with JWTs end to end (RFC 7523 §2.2 and §3; OpenID Connect Core
//! §9): the `openidconnect` crate as a `private_key_jwt` relying party, a
//! `client_secret_jwt` client, and a negative table whose rows name the clause they prove.

use std::sync::{Arc, OnceLock};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreHmacKey, CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::{
    AuthType, AuthorizationCode, ClientId, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PrivateSigningKey, RedirectUrl, Scope, TokenResponse,
};
use portcullis_endpoints::{CLIENT_ASSERTION_TYPE_JWT_BEARER, ProviderBuilder};
use portcullis_registry::{ClientKind, NewClient, TokenEndpointAuthMethod};
use portcullis_store::{ClientStore, MemoryStore};
use portcullis_tokens::{SecretSealingKey, SigningAlgorithm, SigningKey, random_identifier};
use serde_json::{Value, json};

use super::Adapter;
use super::cases::walk_pages;
use super::extension_grants::register;
use super::fixture::*;

/// The client's own signing key, generated once per test binary.
fn client_key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| SigningKey::generate(SigningAlgorithm::ES256).expect("key"))
}

/// JWT client authentication on: a replay store, and a sealing key for
/// `client_secret_jwt`.
fn with_client_jwt(builder: ProviderBuilder) -> ProviderBuilder {
    builder
        .client_assertion_replay_store(Arc::new(MemoryStore::new()))
        .secret_sealing_key(SecretSealingKey::generate().expect("sealing key"))
}

/// Claims for `client` at `fx`'s token endpoint, with `change` applied (`null` removes).
fn claims(fx: &Fixture, client: &str, change: &Value) -> Value {
    let t = fx.provider.now().unix_timestamp();
    let mut claims = json!({
        "iss": client,
        "sub": client,
        "aud": fx.url("/oauth/token"),
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

/// A compact JWS with `header` over `claims`, MACed with HS256 under `secret`.
fn hs256(secret: &[u8], header: &Value, claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(header).unwrap()),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap())
    );
    // openidconnect's HMAC (RustCrypto), independent of the provider's (aws-lc-rs).
    let tag = CoreHmacKey::new(secret)
        .sign(&CoreJwsSigningAlgorithm::HmacSha256, input.as_bytes())
        .unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag))
}

fn rp_http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// A confidential web client that authenticates with `private_key_jwt` ([`client_key`]).
async fn key_web_client(fx: &Fixture) -> Registered {
    register(
        fx,
        NewClient::new("Signing web app", ClientKind::Web)
            .redirect_uri(REDIRECT)
            .all_scopes()
            .auth_method(TokenEndpointAuthMethod::PrivateKeyJwt)
            .jwks(json!({"keys": [client_key().public_key().jwk()]})),
    )
    .await
}

/// A machine client that authenticates with `private_key_jwt` ([`client_key`]).
async fn key_machine_client(fx: &Fixture) -> Registered {
    register(
        fx,
        NewClient::new("Signing job", ClientKind::Machine)
            .scopes(["view:users"])
            .auth_method(TokenEndpointAuthMethod::PrivateKeyJwt)
            .jwks(json!({"keys": [client_key().public_key().jwk()]})),
    )
    .await
}

/// OpenID Connect Core §9 with a real RP: the `openidconnect` crate discovers the provider,
/// runs the code flow with PKCE and exchanges the code and then the refresh token,
/// authenticating each time with a fresh `private_key_jwt` assertion in the body.
pub async fn interop_openidconnect_private_key_jwt<A: Adapter>() {
    let fx = Fixture::start_with::<A>(with_client_jwt).await;
    let registered = key_web_client(&fx).await;
    assert!(
        registered.secret.is_none(),
        "private_key_jwt clients get no secret"
    );
    let metadata = CoreProviderMetadata::discover_async(
        IssuerUrl::new(fx.server.base.clone()).unwrap(),
        &rp_http(),
    )
    .await
    .unwrap_or_else(|err| panic!("discovery: {err:?}"));
    let advertised = metadata
        .token_endpoint_auth_methods_supported()
        .expect("token_endpoint_auth_methods_supported");
    assert!(
        advertised
            .iter()
            .any(|method| method.as_ref() == "private_key_jwt"),
        "RFC 8414 §2: {advertised:?}"
    );
    let client =
        CoreClient::from_provider_metadata(metadata, ClientId::new(registered.id.clone()), None)
            .set_auth_type(AuthType::RequestBody)
            .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
    let assertion = || {
        client_key()
            .sign(None, &claims(&fx, &registered.id, &json!({})))
            .unwrap()
    };

    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("offline_access".into()))
        .set_pkce_challenge(challenge)
        .url();
    let redirect = walk_pages(&fx, url.as_str(), "allow").await;
    let params = redirect_params(&redirect, REDIRECT);
    assert_eq!(&params["state"], csrf.secret());
    let tokens = client
        .exchange_code(AuthorizationCode::new(params["code"].clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .add_extra_param("client_assertion_type", CLIENT_ASSERTION_TYPE_JWT_BEARER)
        .add_extra_param("client_assertion", assertion())
        .request_async(&rp_http())
        .await
        .unwrap_or_else(|err| panic!("code exchange with private_key_jwt: {err:?}"));
    let id_token = tokens.id_token().expect("an ID token");
    let claims_verified = id_token
        .claims(&client.id_token_verifier(), &nonce)
        .unwrap_or_else(|err| panic!("ID token: {err:?}"));
    assert_eq!(claims_verified.subject().as_str(), "user-alice");

    let refresh = tokens.refresh_token().expect("a refresh token");
    let refreshed = client
        .exchange_refresh_token(refresh)
        .unwrap()
        .add_extra_param("client_assertion_type", CLIENT_ASSERTION_TYPE_JWT_BEARER)
        .add_extra_param("client_assertion", assertion())
        .request_async(&rp_http())
        .await
        .unwrap_or_else(|err| panic!("refresh with private_key_jwt: {err:?}"));
    assert_ne!(
        refreshed.access_token().secret(),
        tokens.access_token().secret()
    );
    // Without an assertion the same client is refused (it has no secret to fall back on).
    let refused = client
        .exchange_refresh_token(refreshed.refresh_token().expect("rotated"))
        .unwrap()
        .request_async(&rp_http())
        .await;
    assert!(
        refused.is_err(),
        "a private_key_jwt client must authenticate"
    );
}

/// OpenID Connect Core §9 `client_secret_jwt`: an HS256 assertion MACed with the client
/// secret (the provider keeps it sealed) buys a client-credentials token; a MAC with
/// another secret does not.
pub async fn client_secret_jwt_token<A: Adapter>() {
    let fx = Fixture::start_with::<A>(with_client_jwt).await;
    let issued = NewClient::new("MAC job", ClientKind::Machine)
        .scopes(["view:users"])
        .auth_method(TokenEndpointAuthMethod::ClientSecretJwt)
        .build(&fx.provider.scope_catalog().await.unwrap())
        .unwrap();
    let mut client = issued.client;
    let secret = issued
        .secret
        .expect("client_secret_jwt clients have a secret");
    fx.provider
        .seal_client_secret(&mut client, &secret)
        .expect("sealed");
    let id = client.id.to_string();
    fx.store.insert_client(client).await.unwrap();
    let header = json!({"alg": "HS256", "typ": "JWT"});
    let token = |secret: &[u8]| {
        let assertion = hs256(secret, &header, &claims(&fx, &id, &json!({})));
        [
            ("grant_type", "client_credentials".to_owned()),
            ("scope", "view:users".to_owned()),
            (
                "client_assertion_type",
                CLIENT_ASSERTION_TYPE_JWT_BEARER.to_owned(),
            ),
            ("client_assertion", assertion),
        ]
    };
    let params = token(secret.expose_secret().as_bytes());
    let pairs: Vec<(&str, &str)> = params.iter().map(|(a, b)| (*a, b.as_str())).collect();
    let tokens = body_json(fx.post_form("/oauth/token", &pairs, None).await, 200).await;
    let me = fx.api("/api/me", tokens["access_token"].as_str()).await;
    assert_eq!(body_json(me, 200).await["client_id"], id.as_str());

    let params = token(b"not the client secret");
    let pairs: Vec<(&str, &str)> = params.iter().map(|(a, b)| (*a, b.as_str())).collect();
    let refused = body_json(fx.post_form("/oauth/token", &pairs, None).await, 401).await;
    assert_eq!(refused["error"], "invalid_client");
}

/// RFC 7523 §3, RFC 7521 §4.2, RFC 6749 §2.3 and §5.2 through HTTP: each row a token
/// request and the status and error code it must get. Every assertion failure is the same
/// `invalid_client` with the same description, so nothing tells which check failed.
pub async fn client_jwt_negative_table<A: Adapter>() {
    let fx = Fixture::start_with::<A>(with_client_jwt).await;
    let client = key_machine_client(&fx).await;
    let id = client.id.as_str();
    let t = fx.provider.now().unix_timestamp();
    let sign = |change: Value| client_key().sign(None, &claims(&fx, id, &change)).unwrap();
    let rogue = SigningKey::generate(SigningAlgorithm::ES256).unwrap();
    let other_alg = SigningKey::generate(SigningAlgorithm::RS256).unwrap();
    let unsigned = {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let payload =
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(&fx, id, &json!({}))).unwrap());
        format!("{header}.{payload}.")
    };
    // RFC 8725 §2.1: the public key as an HMAC secret (algorithm confusion).
    let confused = hs256(
        serde_json::to_string(&client_key().public_key().jwk())
            .unwrap()
            .as_bytes(),
        &json!({"alg": "HS256", "kid": client_key().kid()}),
        &claims(&fx, id, &json!({})),
    );
    let replayed = sign(json!({}));
    let first = [
        ("grant_type", "client_credentials"),
        ("client_assertion_type", CLIENT_ASSERTION_TYPE_JWT_BEARER),
        ("client_assertion", replayed.as_str()),
    ];
    body_json(fx.post_form("/oauth/token", &first, None).await, 200).await;
    // Another key of the same algorithm: its kid is not among the client's keys.
    let unknown_kid = rogue.sign(None, &claims(&fx, id, &json!({}))).unwrap();

    let assertion_params = |assertion: &str| {
        vec![
            ("grant_type", "client_credentials".to_owned()),
            (
                "client_assertion_type",
                CLIENT_ASSERTION_TYPE_JWT_BEARER.to_owned(),
            ),
            ("client_assertion", assertion.to_owned()),
        ]
    };
    let with = |assertion: &str, extra: &[(&'static str, &str)]| {
        let mut params = assertion_params(assertion);
        for (name, value) in extra {
            params.retain(|(n, _)| n != name);
            if !value.is_empty() {
                params.push((name, (*value).to_owned()));
            }
        }
        params
    };
    let good = sign(json!({}));
    let too_long = sign(json!({"exp": t + 3600}));
    // (case, params, Basic credentials, status, error)
    type Row<'a> = (
        &'a str,
        Vec<(&'a str, String)>,
        Option<(&'a str, &'a str)>,
        u16,
        &'a str,
    );
    let rows: Vec<Row> = vec![
        (
            "RFC 7523 §3 item 3: aud names another server",
            assertion_params(&sign(json!({"aud": "https://elsewhere.example/token"}))),
            None,
            401,
            "invalid_client",
        ),
        (
            "RFC 7523 §3 item 4: expired",
            assertion_params(&sign(json!({"exp": t - 300, "iat": t - 400}))),
            None,
            401,
            "invalid_client",
        ),
        (
            "RFC 7523 §3 item 4: no exp",
            assertion_params(&sign(json!({"exp": null}))),
            None,
            401,
            "invalid_client",
        ),
        (
            "lifetime over 10 minutes",
            assertion_params(&too_long),
            None,
            401,
            "invalid_client",
        ),
        (
            "RFC 7523 §3 item 7: no jti",
            assertion_params(&sign(json!({"jti": null}))),
            None,
            401,
            "invalid_client",
        ),
        (
            "RFC 7523 §3 item 7: replayed jti",
            assertion_params(&replayed),
            None,
            401,
            "invalid_client",
        ),
        (
            "RFC 7523 §3 items 1-2: iss is not sub",
            assertion_params(&sign(json!({"sub": "someone-else"}))),
            None,
            401,
            "invalid_client",
        ),
        (
            "RFC 7523 §3 item 5: nbf in the future",
            assertion_params(&sign(json!({"nbf": t + 600}))),
            None,
            401,
            "invalid_client",
        ),
        (
            "RFC 7523 §3 item 9: unknown kid, another key",
            assertion_params(&unknown_kid),
            None,
            401,
            "invalid_client",
        ),
        (
            "RFC 7523 §3 item 9: an algorithm the keys do not have",
            assertion_params(&other_alg.sign(None, &claims(&fx, id, &json!({}))).unwrap()),
            None,
            401,
            "invalid_client",
        ),
        (
            "RFC 8725 §3.1: alg none",
            assertion_params(&unsigned),
            None,
            401,
            "invalid_client",
        ),
        (
            "RFC 8725 §2.1: HS256 for a private_key_jwt client",
            assertion_params(&confused),
            None,
            401,
            "invalid_client",
        ),
        (
            "RFC 6749 §2.3: assertion and Basic together",
            assertion_params(&good),
            Some((id, "whatever")),
            400,
            "invalid_request",
        ),
        (
            "RFC 6749 §2.3: assertion and client_secret together",
            with(&good, &[("client_secret", "whatever")]),
            None,
            400,
            "invalid_request",
        ),
        (
            "RFC 7521 §4.2.1: unsupported client_assertion_type",
            with(
                &good,
                &[(
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
                )],
            ),
            None,
            401,
            "invalid_client",
        ),
        (
            "RFC 7521 §4.2: client_assertion_type without client_assertion",
            with(&good, &[("client_assertion", "")]),
            None,
            400,
            "invalid_request",
        ),
        (
            "RFC 7521 §4.2: client_assertion without its type",
            with(&good, &[("client_assertion_type", "")]),
            None,
            400,
            "invalid_request",
        ),
        (
            "RFC 7523 §3: body client_id is not the assertion's",
            with(&good, &[("client_id", fx.machine.id.as_str())]),
            None,
            401,
            "invalid_client",
        ),
        (
            "not a JWT",
            assertion_params("not-a-jwt"),
            None,
            401,
            "invalid_client",
        ),
    ];
    assert!(rows.len() >= 8);
    for (name, params, basic, status, error) in rows {
        let pairs: Vec<(&str, &str)> = params.iter().map(|(a, b)| (*a, b.as_str())).collect();
        let response = fx.post_form("/oauth/token", &pairs, basic).await;
        let www = header(&response, "www-authenticate");
        let body = body_json(response, status).await;
        assert_eq!(body["error"], error, "case {name}: {body}");
        if error == "invalid_client" && basic.is_none() {
            assert_eq!(
                body["error_description"], "client authentication failed",
                "case {name}: one description for every failure"
            );
            assert!(www.is_none(), "case {name}: no HTTP scheme was tried");
        }
    }
    // The good assertion was never used by a refused row: it still works once.
    let params = assertion_params(&good);
    let pairs: Vec<(&str, &str)> = params.iter().map(|(a, b)| (*a, b.as_str())).collect();
    body_json(fx.post_form("/oauth/token", &pairs, None).await, 200).await;
}
