//! Dynamic client registration (RFC 7591) and management (RFC 7592) through the provider:
//! open and initial-access-token registration (§3), the client information response
//! (§3.2.1), read, update and delete at the client configuration endpoint (RFC 7592 §2),
//! discovery, and a table of refusals.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::too_many_lines
)]

mod support;

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response};
use portcullis_endpoints::{Endpoint, RegistrationPolicy};
use portcullis_registry::{ClientId, ClientKind, TokenEndpointAuthMethod};
use portcullis_store::{ClientStore, MemoryStore, TokenStore};
use portcullis_tokens::{SecretSealingKey, TokenHash, TokenKind};
use serde_json::{Value, json};
use support::*;

const INITIAL_TOKEN: &str = "onboarding-token-7f3c2a";
const REGISTER: &str = "/oauth/register";

async fn open_harness() -> Harness {
    Harness::with(|b| b.registration(RegistrationPolicy::open().any_scope())).await
}

async fn protected_harness() -> Harness {
    Harness::with(|b| b.registration(RegistrationPolicy::initial_access_tokens([INITIAL_TOKEN])))
        .await
}

/// A JSON request to the registration endpoint (or a client's configuration endpoint).
fn json_request(method: Method, uri: &str, body: &Value, bearer: Option<&str>) -> Request<Bytes> {
    let mut builder = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json");
    if let Some(token) = bearer {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    builder
        .body(Bytes::from(serde_json::to_vec(body).unwrap()))
        .unwrap()
}

fn bare_request(method: Method, uri: &str, bearer: Option<&str>) -> Request<Bytes> {
    let mut builder = Request::builder().method(method).uri(uri);
    if let Some(token) = bearer {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    builder.body(Bytes::new()).unwrap()
}

fn configuration_uri(client_id: &str) -> String {
    format!("{REGISTER}?client_id={client_id}")
}

/// Registers `body`, expecting 201; answers the client information response.
async fn register(h: &Harness, body: Value, bearer: Option<&str>) -> Value {
    let response = h
        .provider
        .client_registration(json_request(Method::POST, REGISTER, &body, bearer))
        .await;
    assert_eq!(
        response.status(),
        201,
        "{}",
        String::from_utf8_lossy(response.body())
    );
    assert_eq!(header(&response, "cache-control"), Some("no-store"));
    json(&response)
}

fn machine_metadata() -> Value {
    json!({
        "client_name": "Nightly export",
        "grant_types": ["client_credentials"],
        "scope": "view:users",
        "token_endpoint_auth_method": "client_secret_basic",
    })
}

fn web_metadata() -> Value {
    json!({
        "client_name": "Reports",
        "redirect_uris": [REDIRECT],
        "post_logout_redirect_uris": ["https://app.example/bye"],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "scope": "openid profile offline_access",
        "subject_type": "public",
        "x-vendor-extension": {"ignored": true},
    })
}

async fn client_credentials(h: &Harness, id: &str, secret: &str) -> Response<Bytes> {
    h.provider
        .token(form_post(
            "/oauth/token",
            "grant_type=client_credentials&scope=view%3Ausers",
            &[("authorization", &basic(id, secret))],
        ))
        .await
}

/// RFC 7591 §3.2.1: 201 with the registered metadata, `client_id`, the secret shown once,
/// `client_id_issued_at`, `client_secret_expires_at` (0: no expiry), and RFC 7592 §3's
/// `registration_access_token` and `registration_client_uri`; the new credentials work at
/// the token endpoint.
#[tokio::test]
async fn rfc7591_3_2_1_open_registration_and_use() {
    let h = open_harness().await;
    let info = register(&h, machine_metadata(), None).await;
    let id = info["client_id"].as_str().unwrap();
    let secret = info["client_secret"].as_str().unwrap();
    assert_eq!(info["client_name"], "Nightly export");
    assert_eq!(info["grant_types"], json!(["client_credentials"]));
    assert_eq!(info["response_types"], json!([]));
    assert_eq!(info["scope"], "view:users");
    assert_eq!(info["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(info["client_secret_expires_at"], 0);
    assert_eq!(
        info["client_id_issued_at"].as_i64().unwrap(),
        h.provider.now().unix_timestamp()
    );
    let rat = info["registration_access_token"].as_str().unwrap();
    assert!(rat.starts_with("pc_rat_") && rat.len() == "pc_rat_".len() + 43);
    assert_eq!(
        info["registration_client_uri"],
        format!("{ISSUER}/oauth/register?client_id={id}")
    );
    // Stored like any client, as a machine client, with only the secret's hash.
    let stored = h
        .store
        .get_client(&ClientId::new(id).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.kind, ClientKind::Machine);
    assert!(stored.verify_secret(secret));
    // The registration access token is stored hashed, as its own kind.
    let record = h
        .store
        .find_token(&TokenHash::of(rat), h.provider.now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.kind, TokenKind::RegistrationAccessToken);
    assert_eq!(record.client_id.as_str(), id);
    // The credentials work.
    let response = client_credentials(&h, id, secret).await;
    assert_eq!(response.status(), 200);
    assert_eq!(json(&response)["scope"], "view:users");
}

/// RFC 7591 §3: registration protected by an initial access token.
#[tokio::test]
async fn rfc7591_3_initial_access_token_registration() {
    let h = protected_harness().await;
    let info = register(&h, web_metadata(), Some(INITIAL_TOKEN)).await;
    assert_eq!(info["redirect_uris"], json!([REDIRECT]));
    assert_eq!(
        info["post_logout_redirect_uris"],
        json!(["https://app.example/bye"])
    );
    assert_eq!(info["application_type"], "web");
    assert_eq!(info["response_types"], json!(["code"]));
    assert_eq!(info["scope"], "offline_access openid profile");
    assert!(
        info.get("x-vendor-extension").is_none(),
        "RFC 7591 §2: ignored"
    );
    assert!(info["client_secret"].is_string());
}

/// RFC 7591 §2 / OIDC Registration §2: a public client (`none`) gets no secret and no
/// `client_secret_expires_at`; `application_type` chooses SPA or native.
#[tokio::test]
async fn rfc7591_2_public_clients_get_no_secret() {
    let h = open_harness().await;
    for (application_type, redirect, kind) in [
        ("web", REDIRECT, ClientKind::Spa),
        ("native", "com.example.app:/cb", ClientKind::Native),
    ] {
        let info = register(
            &h,
            json!({
                "application_type": application_type,
                "token_endpoint_auth_method": "none",
                "redirect_uris": [redirect],
            }),
            None,
        )
        .await;
        assert!(info.get("client_secret").is_none());
        assert!(info.get("client_secret_expires_at").is_none());
        assert_eq!(info["application_type"], application_type);
        // Without `scope`, the OpenID Connect scopes.
        assert_eq!(
            info["scope"],
            "address email offline_access openid phone profile"
        );
        let id = ClientId::new(info["client_id"].as_str().unwrap()).unwrap();
        assert_eq!(h.store.get_client(&id).await.unwrap().unwrap().kind, kind);
    }
}

/// RFC 7591 §2 (`jwks`), RFC 7523 §2.2: a `private_key_jwt` client registers keys and gets
/// no secret.
#[tokio::test]
async fn rfc7591_2_private_key_jwt_with_jwks() {
    let h = open_harness().await;
    let jwks = json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]});
    let info = register(
        &h,
        json!({
            "grant_types": ["client_credentials"],
            "token_endpoint_auth_method": "private_key_jwt",
            "jwks": jwks,
        }),
        None,
    )
    .await;
    assert_eq!(info["jwks"], jwks);
    assert_eq!(info["token_endpoint_auth_method"], "private_key_jwt");
    assert!(info.get("client_secret").is_none());
}

/// OpenID Connect Core §9: `client_secret_jwt` needs a sealed copy of the secret, so it can
/// be registered only when the provider has a sealing key (and a replay store).
#[tokio::test]
async fn client_secret_jwt_is_sealed_when_a_key_is_configured() {
    let h = Harness::with(|b| {
        b.registration(RegistrationPolicy::open())
            .secret_sealing_key(SecretSealingKey::generate().unwrap())
            .client_assertion_replay_store(Arc::new(MemoryStore::new()))
    })
    .await;
    let info = register(
        &h,
        json!({
            "redirect_uris": [REDIRECT],
            "token_endpoint_auth_method": "client_secret_jwt",
        }),
        None,
    )
    .await;
    assert!(info["client_secret"].is_string());
    assert!(info.get("sealed_secret").is_none());
    let id = ClientId::new(info["client_id"].as_str().unwrap()).unwrap();
    let stored = h.store.get_client(&id).await.unwrap().unwrap();
    assert_eq!(stored.auth_method, TokenEndpointAuthMethod::ClientSecretJwt);
    assert!(stored.sealed_secret.is_some());
}

/// RFC 7592 §2.1: a read answers the current metadata with the same credentials, and no
/// secret (only its hash is kept).
#[tokio::test]
async fn rfc7592_2_1_read() {
    let h = open_harness().await;
    let info = register(&h, web_metadata(), None).await;
    let id = info["client_id"].as_str().unwrap();
    let rat = info["registration_access_token"].as_str().unwrap();
    let response = h
        .provider
        .client_registration(bare_request(Method::GET, &configuration_uri(id), Some(rat)))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "cache-control"), Some("no-store"));
    let read = json(&response);
    for member in [
        "client_id",
        "client_name",
        "redirect_uris",
        "post_logout_redirect_uris",
        "grant_types",
        "response_types",
        "scope",
        "token_endpoint_auth_method",
        "application_type",
        "client_id_issued_at",
        "client_secret_expires_at",
        "registration_access_token",
        "registration_client_uri",
    ] {
        assert_eq!(read[member], info[member], "{member}");
    }
    assert!(read.get("client_secret").is_none());
}

/// RFC 7592 §2.2: an update replaces the metadata; omitted fields return to their defaults;
/// the secret stays (the client may repeat it, never choose it).
#[tokio::test]
async fn rfc7592_2_2_update() {
    let h = open_harness().await;
    let info = register(&h, web_metadata(), None).await;
    let id = info["client_id"].as_str().unwrap().to_owned();
    let secret = info["client_secret"].as_str().unwrap().to_owned();
    let rat = info["registration_access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let update = json!({
        "client_id": id,
        "client_secret": secret,
        "client_name": "Reports v2",
        "redirect_uris": [REDIRECT, "https://app.example/other"],
        "grant_types": ["authorization_code", "client_credentials"],
        "scope": "openid view:users",
    });
    let response = h
        .provider
        .client_registration(json_request(
            Method::PUT,
            &configuration_uri(&id),
            &update,
            Some(&rat),
        ))
        .await;
    assert_eq!(
        response.status(),
        200,
        "{}",
        String::from_utf8_lossy(response.body())
    );
    let updated = json(&response);
    assert_eq!(updated["client_name"], "Reports v2");
    assert_eq!(
        updated["redirect_uris"],
        json!([REDIRECT, "https://app.example/other"])
    );
    assert!(
        updated.get("post_logout_redirect_uris").is_none(),
        "omitted: reset (RFC 7592 §2.2)"
    );
    assert_eq!(updated["scope"], "openid view:users");
    assert!(updated.get("client_secret").is_none(), "the secret is kept");
    assert_eq!(updated["registration_access_token"], rat.as_str());
    let stored = h
        .store
        .get_client(&ClientId::new(id.as_str()).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.name, "Reports v2");
    assert!(stored.post_logout_redirect_uris.is_empty());
    // The old secret still authenticates, with the new grant.
    assert_eq!(client_credentials(&h, &id, &secret).await.status(), 200);
}

/// RFC 7592 §2.3: delete answers 204; the client, its registration access token and its
/// tokens are gone; later token requests are `invalid_client`.
#[tokio::test]
async fn rfc7592_2_3_delete() {
    let h = open_harness().await;
    let info = register(&h, machine_metadata(), None).await;
    let id = info["client_id"].as_str().unwrap();
    let secret = info["client_secret"].as_str().unwrap();
    let rat = info["registration_access_token"].as_str().unwrap();
    let issued = json(&client_credentials(&h, id, secret).await);
    let access_token = issued["access_token"].as_str().unwrap();

    let response = h
        .provider
        .client_registration(bare_request(
            Method::DELETE,
            &configuration_uri(id),
            Some(rat),
        ))
        .await;
    assert_eq!(response.status(), 204);
    assert!(response.body().is_empty());

    assert!(
        h.store
            .get_client(&ClientId::new(id).unwrap())
            .await
            .unwrap()
            .is_none()
    );
    let again = client_credentials(&h, id, secret).await;
    assert_eq!(again.status(), 401);
    assert_eq!(json(&again)["error"], "invalid_client");
    let now = h.provider.now();
    let token = h
        .store
        .find_token(&TokenHash::of(access_token), now)
        .await
        .unwrap();
    assert!(token.is_none_or(|record| !record.is_active(now)));
    let read = h
        .provider
        .client_registration(bare_request(Method::GET, &configuration_uri(id), Some(rat)))
        .await;
    assert_eq!(read.status(), 401);
}

/// RFC 8414 §2, OpenID Connect Discovery §3: `registration_endpoint` is advertised, and the
/// endpoint mounted, exactly when registration is enabled.
#[tokio::test]
async fn registration_endpoint_only_when_enabled() {
    for enabled in [false, true] {
        let h = if enabled {
            open_harness().await
        } else {
            Harness::new().await
        };
        let metadata = h.provider.provider_metadata().await.unwrap();
        let document = serde_json::to_value(&metadata).unwrap();
        let mounted = h
            .provider
            .routes()
            .iter()
            .any(|(path, endpoint)| path == REGISTER && *endpoint == Endpoint::Registration);
        assert_eq!(mounted, enabled);
        if enabled {
            assert_eq!(
                document["registration_endpoint"],
                format!("{ISSUER}/oauth/register")
            );
        } else {
            assert!(document.get("registration_endpoint").is_none());
            let response = h
                .provider
                .client_registration(json_request(Method::POST, REGISTER, &json!({}), None))
                .await;
            assert_eq!(response.status(), 400);
        }
    }
}

/// RFC 7592 §3, RFC 6750: a registration access token is never an access token — not at
/// UserInfo, not to introspection, and RFC 7009 revocation cannot touch it.
#[tokio::test]
async fn registration_access_token_is_not_an_access_token() {
    let h = open_harness().await;
    let info = register(&h, web_metadata(), None).await;
    let id = info["client_id"].as_str().unwrap();
    let secret = info["client_secret"].as_str().unwrap();
    let rat = info["registration_access_token"].as_str().unwrap();

    let userinfo = h
        .provider
        .userinfo(bare_request(Method::GET, "/oauth/userinfo", Some(rat)))
        .await;
    assert_eq!(userinfo.status(), 401);
    assert!(
        header(&userinfo, "www-authenticate")
            .unwrap()
            .contains("invalid_token")
    );

    let introspection = h
        .provider
        .introspect(form_post(
            "/oauth/introspect",
            &encode(&[("token", rat)]),
            &[("authorization", &basic(id, secret))],
        ))
        .await;
    assert_eq!(introspection.status(), 200);
    assert_eq!(json(&introspection), json!({"active": false}));

    let revocation = h
        .provider
        .revoke(form_post(
            "/oauth/revoke",
            &encode(&[("token", rat)]),
            &[("authorization", &basic(id, secret))],
        ))
        .await;
    assert_eq!(revocation.status(), 200);
    let read = h
        .provider
        .client_registration(bare_request(Method::GET, &configuration_uri(id), Some(rat)))
        .await;
    assert_eq!(read.status(), 200, "RFC 7009 revocation does not reach it");
}

/// What a refusal must look like.
struct Refusal {
    /// The rule, with its clause.
    rule: &'static str,
    request: Request<Bytes>,
    status: u16,
    error: &'static str,
    /// Whether a `WWW-Authenticate: Bearer` challenge is required (RFC 6750 §3).
    bearer_challenge: bool,
}

fn refusal(
    rule: &'static str,
    request: Request<Bytes>,
    status: u16,
    error: &'static str,
) -> Refusal {
    Refusal {
        rule,
        request,
        status,
        error,
        bearer_challenge: status == 401,
    }
}

/// The refusals of RFC 7591 §3.2.2 and RFC 7592 §2, each a row: request → status, error,
/// challenge.
#[tokio::test]
async fn rfc7591_rfc7592_negative_table() {
    let h = Harness::with(|b| {
        b.registration(
            RegistrationPolicy::initial_access_tokens([INITIAL_TOKEN]).registrable_scopes([
                "openid",
                "profile",
                "view:users",
            ]),
        )
    })
    .await;
    let a = register(&h, web_metadata_scoped(), Some(INITIAL_TOKEN)).await;
    let b = register(&h, machine_metadata(), Some(INITIAL_TOKEN)).await;
    let a_id = a["client_id"].as_str().unwrap().to_owned();
    let a_rat = a["registration_access_token"].as_str().unwrap().to_owned();
    let b_rat = b["registration_access_token"].as_str().unwrap().to_owned();
    let b_secret = b["client_secret"].as_str().unwrap().to_owned();
    let b_id = b["client_id"].as_str().unwrap().to_owned();
    let b_access = json(&client_credentials(&h, &b_id, &b_secret).await)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let a_uri = configuration_uri(&a_id);
    let post = |body: Value| json_request(Method::POST, REGISTER, &body, Some(INITIAL_TOKEN));
    let put = |body: Value| json_request(Method::PUT, &a_uri, &body, Some(&a_rat));
    let web = |extra: Value| {
        let mut body = json!({"redirect_uris": [REDIRECT]});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };

    let rows = vec![
        refusal(
            "RFC 7591 §3: no initial access token",
            json_request(Method::POST, REGISTER, &web(json!({})), None),
            401,
            "invalid_token",
        ),
        refusal(
            "RFC 7591 §3: a wrong initial access token",
            json_request(Method::POST, REGISTER, &web(json!({})), Some("guess")),
            401,
            "invalid_token",
        ),
        refusal(
            "RFC 7591 §3: a registration access token is not an initial access token",
            json_request(Method::POST, REGISTER, &web(json!({})), Some(&a_rat)),
            401,
            "invalid_token",
        ),
        refusal(
            "RFC 7591 §3.1: the body must be application/json",
            form_post(
                REGISTER,
                "redirect_uris=https%3A%2F%2Fapp.example%2Fcallback",
                &[("authorization", &format!("Bearer {INITIAL_TOKEN}"))],
            ),
            400,
            "invalid_request",
        ),
        refusal(
            "RFC 7591 §3.2.2: a body that is not JSON",
            Request::post(REGISTER)
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {INITIAL_TOKEN}"))
                .body(Bytes::from_static(b"{\"redirect_uris\": ["))
                .unwrap(),
            400,
            "invalid_client_metadata",
        ),
        refusal(
            "RFC 7591 §3.2.2, RFC 6749 §3.1.2: a redirect URI with a fragment",
            post(json!({"redirect_uris": ["https://app.example/cb#frag"]})),
            400,
            "invalid_redirect_uri",
        ),
        refusal(
            "RFC 7591 §3.2.2, RFC 9700 §2.6: a web client's http redirect URI",
            post(json!({"redirect_uris": ["http://app.example/cb"]})),
            400,
            "invalid_redirect_uri",
        ),
        refusal(
            "RFC 7591 §3.2.2: the code grant without a redirect URI",
            post(json!({"grant_types": ["authorization_code"]})),
            400,
            "invalid_redirect_uri",
        ),
        refusal(
            "RFC 7591 §2: jwks and jwks_uri together",
            post(web(json!({
                "token_endpoint_auth_method": "private_key_jwt",
                "jwks": {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]},
                "jwks_uri": "https://app.example/jwks",
            }))),
            400,
            "invalid_client_metadata",
        ),
        refusal(
            "RFC 7591 §2: private_key_jwt without jwks or jwks_uri",
            post(web(
                json!({"token_endpoint_auth_method": "private_key_jwt"}),
            )),
            400,
            "invalid_client_metadata",
        ),
        refusal(
            "RFC 7591 §2.1: response_types inconsistent with grant_types",
            post(web(
                json!({"grant_types": ["authorization_code"], "response_types": ["token"]}),
            )),
            400,
            "invalid_client_metadata",
        ),
        refusal(
            "RFC 7591 §2: an unknown scope",
            post(web(json!({"scope": "openid launch-missiles"}))),
            400,
            "invalid_client_metadata",
        ),
        refusal(
            "RFC 7591 §2: a scope the registration policy does not offer",
            post(web(json!({"scope": "openid email"}))),
            400,
            "invalid_client_metadata",
        ),
        refusal(
            "RFC 7591 §2: an unknown token_endpoint_auth_method",
            post(web(
                json!({"token_endpoint_auth_method": "tls_client_auth"}),
            )),
            400,
            "invalid_client_metadata",
        ),
        refusal(
            "RFC 9700 §2.4: the password grant cannot be registered",
            post(json!({"grant_types": ["password", "refresh_token"]})),
            400,
            "invalid_client_metadata",
        ),
        refusal(
            "OIDC Core §9: client_secret_jwt without a sealing key",
            post(web(
                json!({"token_endpoint_auth_method": "client_secret_jwt"}),
            )),
            400,
            "invalid_client_metadata",
        ),
        refusal(
            "RFC 7592 §2, RFC 6750 §3.1: no registration access token",
            bare_request(Method::GET, &a_uri, None),
            401,
            "invalid_token",
        ),
        refusal(
            "RFC 7592 §2: a wrong registration access token",
            bare_request(
                Method::GET,
                &a_uri,
                Some("pc_rat_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            ),
            401,
            "invalid_token",
        ),
        refusal(
            "RFC 7592 §2: another client's registration access token",
            bare_request(Method::GET, &a_uri, Some(&b_rat)),
            401,
            "invalid_token",
        ),
        refusal(
            "RFC 7592 §2: an unknown client, the same answer",
            bare_request(
                Method::GET,
                &configuration_uri("no-such-client"),
                Some(&a_rat),
            ),
            401,
            "invalid_token",
        ),
        refusal(
            "RFC 7592 §2: an access token is not a registration access token",
            bare_request(Method::GET, &configuration_uri(&b_id), Some(&b_access)),
            401,
            "invalid_token",
        ),
        refusal(
            "RFC 7592 §2.3: delete with another client's token",
            bare_request(Method::DELETE, &a_uri, Some(&b_rat)),
            401,
            "invalid_token",
        ),
        refusal(
            "RFC 7592 §2.2: PUT with another client_id",
            put(web(json!({"client_id": b_id}))),
            400,
            "invalid_client_metadata",
        ),
        refusal(
            "RFC 7592 §2.2: PUT without client_id",
            put(web(json!({}))),
            400,
            "invalid_client_metadata",
        ),
        refusal(
            "RFC 7592 §2.2: PUT with a client_secret that is not the current one",
            put(web(json!({"client_id": a_id, "client_secret": b_secret}))),
            400,
            "invalid_client_metadata",
        ),
        refusal(
            "RFC 7592 §2.2: PUT re-validates the metadata",
            put(json!({"client_id": a_id, "redirect_uris": ["https://*.example/cb"]})),
            400,
            "invalid_redirect_uri",
        ),
        refusal(
            "RFC 7592 §2: a method the endpoint does not support",
            bare_request(Method::PATCH, &a_uri, Some(&a_rat)),
            405,
            "invalid_request",
        ),
        refusal(
            "RFC 6750 §3.1: a registration access token at UserInfo",
            bare_request(Method::GET, "/oauth/userinfo", Some(&a_rat)),
            401,
            "invalid_token",
        ),
    ];
    assert!(rows.len() >= 10);
    for row in rows {
        let userinfo = row.request.uri().path() == "/oauth/userinfo";
        let response = if userinfo {
            h.provider.userinfo(row.request).await
        } else {
            h.provider.client_registration(row.request).await
        };
        let rule = row.rule;
        assert_eq!(
            response.status(),
            row.status,
            "{rule}: {}",
            String::from_utf8_lossy(response.body())
        );
        assert_eq!(
            header(&response, "cache-control"),
            Some("no-store"),
            "{rule}"
        );
        let challenge = header(&response, "www-authenticate");
        if row.bearer_challenge {
            assert!(
                challenge.is_some_and(|value| value.starts_with("Bearer ")),
                "{rule}: {challenge:?}"
            );
        }
        let body = json(&response);
        assert_eq!(body["error"], row.error, "{rule}: {body}");
        assert!(body["error_description"].is_string(), "{rule}");
    }
    // Nothing in the table changed client A.
    let read = h
        .provider
        .client_registration(bare_request(Method::GET, &a_uri, Some(&a_rat)))
        .await;
    assert_eq!(json(&read)["client_name"], "Reports");
}

fn web_metadata_scoped() -> Value {
    json!({
        "client_name": "Reports",
        "redirect_uris": [REDIRECT],
        "scope": "openid profile",
    })
}

/// RFC 7591 §3.2.2: a refused field is named in the description, with its metadata name.
#[tokio::test]
async fn rfc7591_3_2_2_description_names_the_field() {
    let h = open_harness().await;
    for (body, field) in [
        (
            json!({"redirect_uris": ["https://app.example/cb#x"]}),
            "redirect_uris[0]",
        ),
        (
            json!({"redirect_uris": [REDIRECT], "client_name": " "}),
            "client_name",
        ),
        (
            json!({"redirect_uris": [REDIRECT], "scope": "nope"}),
            "scope",
        ),
        (
            json!({"redirect_uris": [REDIRECT], "post_logout_redirect_uris": ["ftp://x"]}),
            "post_logout_redirect_uris[0]",
        ),
    ] {
        let response = h
            .provider
            .client_registration(json_request(Method::POST, REGISTER, &body, None))
            .await;
        assert_eq!(response.status(), 400);
        let error = json(&response);
        let description = error["error_description"].as_str().unwrap();
        assert!(description.contains(field), "{field}: {description}");
    }
}

/// No input panics the registration endpoint or escapes its error codes: arbitrary
/// metadata members of arbitrary JSON types, arbitrary bodies, methods and tokens always get
/// one of the statuses of RFC 7591 §3.2 and RFC 7592 §2, with a JSON error for 4xx.
#[test]
fn registration_never_panics() {
    use proptest::prelude::*;
    use proptest::sample::select;
    use proptest::test_runner::{Config, TestRunner};

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let h = runtime.block_on(open_harness());
    let known = select(vec![
        "redirect_uris",
        "token_endpoint_auth_method",
        "grant_types",
        "response_types",
        "client_name",
        "scope",
        "jwks",
        "jwks_uri",
        "application_type",
        "post_logout_redirect_uris",
        "subject_type",
        "sector_identifier_uri",
        "dpop_bound_access_tokens",
        "require_pushed_authorization_requests",
        "client_id",
        "client_secret",
        "description",
    ]);
    let value = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        ".{0,40}".prop_map(Value::String),
        select(vec![
            "code",
            "token",
            "none",
            "native",
            "web",
            "pairwise",
            "client_credentials",
            "implicit",
            "openid view:users",
            "https://app.example/cb",
            "http://127.0.0.1/cb",
            "com.example:/cb",
        ])
        .prop_map(|s| json!(s)),
        proptest::collection::vec(
            select(vec![
                "code",
                "id_token token",
                "authorization_code",
                "client_credentials",
                "refresh_token",
                "implicit",
                "https://app.example/cb",
                "javascript:alert(1)",
            ]),
            0..4
        )
        .prop_map(|v| json!(v)),
        Just(
            json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]})
        ),
    ];
    let body = prop_oneof![
        3 => proptest::collection::vec((known, value), 0..8).prop_map(|members| {
            Value::Object(members.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
                .to_string()
                .into_bytes()
        }),
        1 => proptest::collection::vec(any::<u8>(), 0..256),
    ];
    let method = select(vec![
        Method::POST,
        Method::GET,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
    ]);
    let query = select(vec![
        "",
        "?client_id=abc",
        "?client_id=",
        "?client_id=a&client_id=b",
    ]);
    let token = proptest::option::of(select(vec![
        "pc_rat_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "pc_at_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "garbage",
        "",
    ]));
    let mut runner = TestRunner::new(Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(
            &(body, method, query, token),
            |(body, method, query, token)| {
                let mut builder = Request::builder()
                    .method(method)
                    .uri(format!("{REGISTER}{query}"))
                    .header("content-type", "application/json");
                if let Some(token) = token {
                    builder = builder.header("authorization", format!("Bearer {token}"));
                }
                let request = builder.body(Bytes::from(body)).unwrap();
                let response = runtime.block_on(h.provider.client_registration(request));
                let status = response.status().as_u16();
                prop_assert!(
                    [201, 400, 401, 405].contains(&status),
                    "status {status}: {}",
                    String::from_utf8_lossy(response.body())
                );
                if status >= 400 {
                    let body: Value = serde_json::from_slice(response.body()).unwrap();
                    prop_assert!(body["error"].is_string());
                }
                Ok(())
            },
        )
        .unwrap();
}

/// RFC 7592 §2.2: a client that sends back what it read (server-provisioned members
/// included, which the server ignores) changes nothing.
#[tokio::test]
async fn rfc7592_2_2_read_then_put_back_is_stable() {
    let h = open_harness().await;
    let info = register(&h, web_metadata(), None).await;
    let id = info["client_id"].as_str().unwrap();
    let rat = info["registration_access_token"].as_str().unwrap();
    let read = json(
        &h.provider
            .client_registration(bare_request(Method::GET, &configuration_uri(id), Some(rat)))
            .await,
    );
    let response = h
        .provider
        .client_registration(json_request(
            Method::PUT,
            &configuration_uri(id),
            &read,
            Some(rat),
        ))
        .await;
    assert_eq!(
        response.status(),
        200,
        "{}",
        String::from_utf8_lossy(response.body())
    );
    assert_eq!(json(&response), read);
}
