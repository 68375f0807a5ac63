//! A restart on the same SQLite file keeps everything: clients, users, issued tokens, and
//! the signing key (ID tokens issued before still verify).

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Server, TempDb, access_token, free_port, json_of};

/// Verifies `id_token` against the server's current JWKS; its `kid`.
async fn verify_id_token(server: &Server, id_token: &str, audience: &str) -> String {
    let response = server
        .http
        .get(server.url("/oauth/jwks"))
        .send()
        .await
        .expect("jwks");
    let jwks: JwkSet = response.json().await.expect("a JWK set");
    let kid = decode_header(id_token)
        .expect("a JWS header")
        .kid
        .expect("a kid");
    let jwk = jwks.find(&kid).expect("the signing key is still published");
    let key = DecodingKey::from_jwk(jwk).expect("a usable key");
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[server.base.as_str()]);
    decode::<Value>(id_token, &key, &validation).expect("the ID token verifies");
    kid
}

async fn password_grant(server: &Server, client: (&str, &str)) -> Value {
    let (status, tokens) = server
        .form(
            "/oauth/token",
            client,
            &[
                ("grant_type", "password"),
                ("username", "carol"),
                ("password", "carol's long password"),
                ("scope", "openid profile"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    tokens
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restart_keeps_clients_users_tokens_and_the_signing_key() {
    let db = TempDb::new();
    let port = free_port();
    let mut first = Server::start_ok(&db.url(), Some(port), &[]).await;
    let (status, client) = first
        .admin_post(
            "/admin/clients",
            json!({"name": "Survivor", "application_type": "resource_owner",
                   "scopes": ["openid", "profile"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{client}");
    let id = client["client_id"].as_str().expect("id").to_owned();
    let secret = client["client_secret"].as_str().expect("secret").to_owned();
    let (status, user) = first
        .admin_post(
            "/admin/users",
            json!({"username": "carol", "password": "carol's long password", "name": "Carol"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    let tokens = password_grant(&first, (&id, &secret)).await;
    let token = access_token(&tokens);
    let id_token = tokens["id_token"].as_str().expect("an ID token").to_owned();
    let kid_before = verify_id_token(&first, &id_token, &id).await;

    let status = first.stop();
    assert!(status.success(), "a graceful stop on SIGTERM: {status:?}");

    let second = Server::start_ok(&db.url(), Some(port), &[]).await;
    let (status, read) = second.admin_get(&format!("/admin/clients/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read["name"], "Survivor");
    let (_, users) = second.admin_get("/admin/users").await;
    assert_eq!(users[0]["username"], "carol", "{users}");
    assert_eq!(
        users[0]["subject"], user["subject"],
        "the subject is stable"
    );

    let (_, introspection) = second
        .form("/oauth/introspect", (&id, &secret), &[("token", &token)])
        .await;
    assert_eq!(introspection["active"], true, "{introspection}");
    let (status, claims) = second.bearer_get("/oauth/userinfo", &token).await;
    assert_eq!(status, StatusCode::OK, "{claims}");
    assert_eq!(claims["sub"], user["subject"]);
    assert_eq!(claims["name"], "Carol");

    // The ID token from before the restart verifies against the JWKS after it, and new
    // ones are signed with the same key.
    let kid_after = verify_id_token(&second, &id_token, &id).await;
    assert_eq!(kid_after, kid_before);
    let fresh = password_grant(&second, (&id, &secret)).await;
    let kid_fresh =
        verify_id_token(&second, fresh["id_token"].as_str().expect("ID token"), &id).await;
    assert_eq!(kid_fresh, kid_before, "the same signing key");

    // The discovery document advertises the key's algorithm.
    let response = second
        .http
        .get(second.url("/.well-known/openid-configuration"))
        .send()
        .await
        .expect("discovery");
    let (_, discovery) = json_of(response).await;
    assert_eq!(
        discovery["id_token_signing_alg_values_supported"],
        json!(["ES256"])
    );
}
