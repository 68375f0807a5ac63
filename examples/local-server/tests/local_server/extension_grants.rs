//! The extension grants through local-server: the device flow is always on, the SAML 2.0
//! bearer grant only with a trusted identity provider, and discovery lists exactly what is
//! on; clients hold them through the admin API.

use std::process::Command;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Server, TempDb};

const DEVICE: &str = "urn:ietf:params:oauth:grant-type:device_code";
const SAML: &str = "urn:ietf:params:oauth:grant-type:saml2-bearer";

async fn grant_types(server: &Server) -> Value {
    let (status, discovery) = server.admin_get("/.well-known/openid-configuration").await;
    assert_eq!(status, StatusCode::OK);
    discovery
}

#[tokio::test(flavor = "multi_thread")]
async fn the_device_flow_is_on_and_saml_is_off_by_default() {
    let db = TempDb::new();
    let server = Server::start_ok(&db.url(), None, &["--demo"]).await;
    let discovery = grant_types(&server).await;
    let grants = discovery["grant_types_supported"].to_string();
    assert!(grants.contains(DEVICE), "{grants}");
    assert!(!grants.contains(SAML), "{grants}");
    assert_eq!(
        discovery["device_authorization_endpoint"],
        server.url("/oauth/device_authorization")
    );

    // The demo's native client holds the device grant (RFC 8628 §3.1–3.2, §3.5).
    let response = server
        .http
        .post(server.url("/oauth/device_authorization"))
        .form(&[("client_id", "demo-native"), ("scope", "openid profile")])
        .send()
        .await
        .expect("device authorization");
    assert_eq!(response.status(), StatusCode::OK);
    let device: Value = response.json().await.expect("json");
    let user_code = device["user_code"].as_str().expect("a user code");
    assert_eq!(user_code.len(), 9, "XXXX-XXXX: {user_code}");
    assert!(
        device["verification_uri_complete"]
            .as_str()
            .expect("a complete URI")
            .starts_with(&server.url("/oauth/device"))
    );
    let response = server
        .http
        .post(server.url("/oauth/token"))
        .form(&[
            ("grant_type", DEVICE),
            ("client_id", "demo-native"),
            ("device_code", device["device_code"].as_str().expect("code")),
        ])
        .send()
        .await
        .expect("poll");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"], "authorization_pending");

    // A machine client may not hold the device grant; the error names the field.
    let (status, body) = server
        .admin_post(
            "/admin/clients",
            json!({"name": "TV", "application_type": "m2m", "grant_types": [DEVICE]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["fields"][0]["field"], "grant_types");
}

#[tokio::test(flavor = "multi_thread")]
async fn saml_is_on_with_a_trusted_identity_provider() {
    let db = TempDb::new();
    let dir = std::env::temp_dir().join(format!("local-server-saml-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a directory");
    let (key, cert) = (dir.join("idp.key"), dir.join("idp.pem"));
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=test-idp", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs");
    assert!(made.status.success(), "{made:?}");
    let cert_arg = cert.display().to_string();
    let server = Server::start_ok(
        &db.url(),
        None,
        &[
            "--saml-idp-entity-id",
            "https://idp.example/metadata",
            "--saml-idp-cert",
            &cert_arg,
        ],
    )
    .await;
    let grants = grant_types(&server).await["grant_types_supported"].to_string();
    assert!(grants.contains(SAML), "{grants}");
    let (status, client) = server
        .admin_post(
            "/admin/clients",
            json!({"name": "Federated job", "application_type": "m2m", "grant_types": [SAML],
                   "scopes": ["openid"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{client}");
    assert_eq!(client["grant_types"], json!([SAML]));

    // A file that holds no certificate stops the server at start with the reason.
    let bad = dir.join("bad.pem");
    std::fs::write(&bad, "not a certificate").expect("write");
    let bad_arg = bad.display().to_string();
    let other = TempDb::new();
    let failure = Server::start(
        &other.url(),
        None,
        &[
            "--saml-idp-entity-id",
            "https://idp.example/metadata",
            "--saml-idp-cert",
            &bad_arg,
        ],
    )
    .await
    .err()
    .expect("the server refuses to start");
    assert!(
        failure.stderr.contains("--saml-idp-cert"),
        "{}",
        failure.stderr
    );
    let _ = std::fs::remove_dir_all(&dir);
}

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const PARTNER: &str = "https://partner.example";

/// `--trusted-issuer ISSUER=FILE` turns on the JWT bearer grant (RFC 7523 §2.1): the
/// partner's signed assertion buys a token once, its replay is refused (§3 item 7);
/// `--token-exchange impersonate` turns on RFC 8693 for clients holding it.
#[tokio::test(flavor = "multi_thread")]
async fn trusted_issuers_and_token_exchange_from_flags() {
    use portcullis_tokens::{SigningAlgorithm, SigningKey, random_identifier};

    let partner = SigningKey::generate(SigningAlgorithm::ES256).expect("a key");
    let dir = std::env::temp_dir().join(format!("local-server-jwks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a directory");
    let jwks = dir.join("partner-jwks.json");
    std::fs::write(
        &jwks,
        json!({"keys": [partner.public_key().jwk()]}).to_string(),
    )
    .expect("write the JWKS");
    let trusted = format!("{PARTNER}={}", jwks.display());
    let db = TempDb::new();
    let server = Server::start_ok(
        &db.url(),
        None,
        &[
            "--demo",
            "--trusted-issuer",
            &trusted,
            "--token-exchange",
            "impersonate",
        ],
    )
    .await;
    let grants = grant_types(&server).await["grant_types_supported"].to_string();
    assert!(
        grants.contains(JWT_BEARER) && grants.contains(TOKEN_EXCHANGE),
        "{grants}"
    );
    assert!(!grants.contains(SAML), "{grants}");

    let (status, bridge) = server
        .admin_post(
            "/admin/clients",
            json!({"name": "Partner bridge", "application_type": "m2m",
                   "grant_types": [JWT_BEARER, TOKEN_EXCHANGE], "scopes": ["view:users"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{bridge}");
    let id = bridge["client_id"].as_str().expect("id").to_owned();
    let secret = bridge["client_secret"].as_str().expect("secret").to_owned();

    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let assertion = partner
        .sign(
            None,
            &json!({"iss": PARTNER, "sub": "partner-user-7", "aud": server.url("/oauth/token"),
                    "exp": now + 120, "iat": now, "jti": random_identifier().expect("jti")}),
        )
        .expect("signed");
    let form = [
        ("grant_type", JWT_BEARER),
        ("assertion", assertion.as_str()),
        ("scope", "view:users"),
    ];
    let (status, tokens) = server.form("/oauth/token", (&id, &secret), &form).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let access = tokens["access_token"].as_str().expect("a token").to_owned();
    let (status, me) = server.bearer_get("/api/me", &access).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["subject"], "partner-user-7");
    let (status, replay) = server.form("/oauth/token", (&id, &secret), &form).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{replay}");
    assert_eq!(replay["error"], "invalid_grant");

    // RFC 8693 §2.1: the bridge exchanges the partner's token for one of its own (impersonation).
    let (status, exchanged) = server
        .form(
            "/oauth/token",
            (&id, &secret),
            &[
                ("grant_type", TOKEN_EXCHANGE),
                ("subject_token", &access),
                (
                    "subject_token_type",
                    "urn:ietf:params:oauth:token-type:access_token",
                ),
                ("scope", "view:users"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{exchanged}");
    assert_eq!(
        exchanged["issued_token_type"],
        "urn:ietf:params:oauth:token-type:access_token"
    );
    let (status, me) = server
        .bearer_get(
            "/api/me",
            exchanged["access_token"].as_str().expect("a token"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["subject"], "partner-user-7");
    let _ = std::fs::remove_dir_all(&dir);

    // A malformed --trusted-issuer stops the server with the flag's name.
    let other = TempDb::new();
    let failure = Server::start(&other.url(), None, &["--trusted-issuer", "no-equals-sign"])
        .await
        .err()
        .expect("refused");
    assert!(
        failure.stderr.contains("--trusted-issuer"),
        "{}",
        failure.stderr
    );
}
