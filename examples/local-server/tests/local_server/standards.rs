//! The advanced standards through local-server (issue 11): what is always on (PAR, DPoP,
//! `private_key_jwt`), what a flag turns on (pairwise subjects, `client_secret_jwt`,
//! dynamic registration, resource indicators), and flags that stop the server with the
//! reason.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Server, TempDb};

const API: &str = "https://api.example/";
const REGISTRATION_TOKEN: &str = "initial-access-token-for-tests";
/// 32 bytes, base64url.
const SEALING_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

async fn discovery(server: &Server) -> Value {
    let (status, discovery) = server.admin_get("/.well-known/openid-configuration").await;
    assert_eq!(status, StatusCode::OK);
    discovery
}

fn methods(discovery: &Value) -> String {
    discovery["token_endpoint_auth_methods_supported"].to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn par_dpop_and_private_key_jwt_are_on_the_rest_only_when_configured() {
    let db = TempDb::new();
    let server = Server::start_ok(&db.url(), None, &[]).await;
    let discovery = discovery(&server).await;
    assert_eq!(
        discovery["pushed_authorization_request_endpoint"],
        server.url("/oauth/par"),
        "RFC 9126 §5"
    );
    assert!(
        discovery["dpop_signing_alg_values_supported"].is_array(),
        "RFC 9449 §5.1"
    );
    assert!(methods(&discovery).contains("private_key_jwt"));
    assert!(
        !methods(&discovery).contains("client_secret_jwt"),
        "no sealing key"
    );
    assert_eq!(discovery["subject_types_supported"], json!(["public"]));
    assert!(discovery.get("registration_endpoint").is_none());
    assert!(
        discovery
            .get("require_pushed_authorization_requests")
            .is_none()
    );

    // Without a sealing key the admin API cannot make a client_secret_jwt client, and
    // says which field and flag.
    let (status, body) = server
        .admin_post(
            "/admin/clients",
            json!({"name": "HMAC job", "application_type": "m2m",
                   "token_endpoint_auth_method": "client_secret_jwt"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["fields"][0]["field"], "token_endpoint_auth_method");
    assert!(body.to_string().contains("--secret-sealing-key"), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn flags_turn_on_pairwise_secret_jwt_registration_and_resources() {
    let db = TempDb::new();
    let server = Server::start_ok(
        &db.url(),
        None,
        &[
            "--pairwise-salt",
            "a stable pairwise salt for tests",
            "--secret-sealing-key",
            SEALING_KEY,
            "--registration-token",
            REGISTRATION_TOKEN,
            "--resource",
            API,
            "--require-par",
        ],
    )
    .await;
    let discovery = discovery(&server).await;
    assert_eq!(
        discovery["subject_types_supported"],
        json!(["public", "pairwise"])
    );
    assert!(methods(&discovery).contains("client_secret_jwt"));
    assert_eq!(
        discovery["registration_endpoint"],
        server.url("/oauth/register")
    );
    assert_eq!(discovery["require_pushed_authorization_requests"], true);

    // The admin API makes a client_secret_jwt client; its sealed secret never shows.
    let (status, client) = server
        .admin_post(
            "/admin/clients",
            json!({"name": "HMAC job", "application_type": "m2m",
                   "token_endpoint_auth_method": "client_secret_jwt"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{client}");
    assert!(client["client_secret"].is_string());
    assert!(client.get("sealed_secret").is_none(), "{client}");
    assert!(client.get("secret_hash").is_none(), "{client}");

    // RFC 7591 §3: registration needs the initial access token…
    let metadata = json!({"client_name": "Registered job", "grant_types": ["client_credentials"],
                          "token_endpoint_auth_method": "client_secret_basic"});
    let refused = server
        .http
        .post(server.url("/oauth/register"))
        .json(&metadata)
        .send()
        .await
        .expect("registration");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let registered: Value = server
        .http
        .post(server.url("/oauth/register"))
        .bearer_auth(REGISTRATION_TOKEN)
        .json(&metadata)
        .send()
        .await
        .expect("registration")
        .json()
        .await
        .expect("json");
    let id = registered["client_id"].as_str().expect("client_id");
    let secret = registered["client_secret"].as_str().expect("client_secret");

    // …and the registered client gets a token for the API (RFC 8707 §2), which
    // introspection reports with that audience.
    let tokens: Value = server
        .http
        .post(server.url("/oauth/token"))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials"), ("resource", API)])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    let access = tokens["access_token"].as_str().expect("access_token");
    let answer: Value = server
        .http
        .post(server.url("/oauth/introspect"))
        .basic_auth(id, Some(secret))
        .form(&[("token", access)])
        .send()
        .await
        .expect("introspection")
        .json()
        .await
        .expect("json");
    assert_eq!(answer["active"], true, "{answer}");
    assert_eq!(answer["aud"], json!([API]));

    // A resource the server does not know is invalid_target.
    let response = server
        .http
        .post(server.url("/oauth/token"))
        .basic_auth(id, Some(secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("resource", "https://unknown.example/"),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"], "invalid_target");
}

#[tokio::test(flavor = "multi_thread")]
async fn unusable_flags_stop_the_server_with_the_reason() {
    let rows: [(&str, &[&str]); 4] = [
        ("--pairwise-salt", &["--pairwise-salt", "short"]),
        (
            "--secret-sealing-key",
            &["--secret-sealing-key", "not-32-bytes"],
        ),
        (
            "--resource",
            &["--resource", "https://api.example/#fragment"],
        ),
        (
            "--registration",
            &["--registration", "open", "--registration-token", "t"],
        ),
    ];
    for (flag, args) in rows {
        let db = TempDb::new();
        let failure = Server::start(&db.url(), None, args)
            .await
            .err()
            .unwrap_or_else(|| panic!("{flag}: the server refuses to start"));
        assert!(failure.stderr.contains(flag), "{flag}: {}", failure.stderr);
    }
}

/// Issue 12 through local-server: `--rate-limits` locks a username out after repeated
/// failures (429 + Retry-After, RFC 6585 §4), the same for a user that does not exist.
#[tokio::test(flavor = "multi_thread")]
async fn rate_limits_lock_out_repeated_failed_logins() {
    let db = TempDb::new();
    let server = Server::start_ok(&db.url(), None, &["--rate-limits"]).await;
    let (status, client) = server
        .admin_post(
            "/admin/clients",
            json!({"name": "First-party app", "application_type": "resource_owner",
                   "scopes": ["openid"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{client}");
    let (status, _) = server
        .admin_post(
            "/admin/users",
            json!({"username": "carol", "password": "a long enough password"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = client["client_id"].as_str().expect("id");
    let secret = client["client_secret"].as_str().expect("secret");
    let attempt = |username: &'static str| {
        server
            .http
            .post(server.url("/oauth/token"))
            .basic_auth(id, Some(secret))
            .form(&[
                ("grant_type", "password"),
                ("username", username),
                ("password", "wrong"),
            ])
            .send()
    };
    for username in ["carol", "nobody-by-this-name"] {
        let mut statuses = Vec::new();
        for _ in 0..6 {
            statuses.push(attempt(username).await.expect("token").status());
        }
        assert_eq!(statuses[..5], [StatusCode::BAD_REQUEST; 5], "{username}");
        let locked = attempt(username).await.expect("token");
        assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS, "{username}");
        assert!(locked.headers().contains_key("retry-after"), "{username}");
    }
}

/// Issue 12: the metrics endpoint, scraped like Prometheus would (with the admin token):
/// request counts and latency per endpoint, token requests per grant and outcome.
#[tokio::test(flavor = "multi_thread")]
async fn metrics_are_scraped_behind_the_admin_token() {
    let db = TempDb::new();
    let server = Server::start_ok(&db.url(), None, &[]).await;
    let (status, client) = server
        .admin_post(
            "/admin/clients",
            json!({"name": "Metered job", "application_type": "m2m"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{client}");
    let id = client["client_id"].as_str().expect("id");
    let secret = client["client_secret"].as_str().expect("secret");
    for (secret, expected) in [
        (secret, StatusCode::OK),
        ("wrong", StatusCode::UNAUTHORIZED),
    ] {
        let response = server
            .http
            .post(server.url("/oauth/token"))
            .basic_auth(id, Some(secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .expect("token");
        assert_eq!(response.status(), expected);
    }

    let anonymous = server
        .http
        .get(server.url("/admin/metrics"))
        .send()
        .await
        .expect("metrics");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let scraped = server
        .admin(reqwest::Method::GET, "/admin/metrics")
        .send()
        .await
        .expect("metrics");
    assert_eq!(scraped.status(), StatusCode::OK);
    assert!(
        scraped.headers()["content-type"]
            .to_str()
            .expect("text")
            .starts_with("text/plain")
    );
    let text = scraped.text().await.expect("text");
    for line in [
        r#"portcullis_token_requests_total{grant_type="client_credentials",outcome="issued"} 1"#,
        r#"portcullis_token_requests_total{grant_type="client_credentials",outcome="invalid_client"} 1"#,
        r#"portcullis_tokens_issued_total{grant_type="client_credentials"} 1"#,
        r#"portcullis_http_requests_total{endpoint="token",status="200"} 1"#,
        r#"portcullis_http_requests_total{endpoint="token",status="401"} 1"#,
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line}:\n{text}");
    }
    assert!(
        text.contains(
            r#"portcullis_http_request_duration_seconds_bucket{endpoint="token",le="0.5"}"#
        ),
        "a latency histogram per endpoint:\n{text}"
    );
    assert!(
        text.contains(
            r#"portcullis_token_request_duration_seconds_count{grant_type="client_credentials"} 2"#
        ),
        "a latency histogram per grant:\n{text}"
    );
    assert!(!text.contains(secret), "no secrets in metrics");
}
