//! `--database postgres://…` works the same. The server uses the database's public schema,
//! which other runs share, so every record here has a random name.
//!
//! `PORTCULLIS_TEST_POSTGRES` names the database (default
//! `postgres://postgres@127.0.0.1:5432/test`). When it cannot be reached the test is
//! skipped with a printed reason, except in CI (env `CI` set), where it fails.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{Server, access_token, note, random_name};

const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

#[tokio::test(flavor = "multi_thread")]
async fn postgres_creates_a_client_and_issues_tokens() {
    let url = std::env::var("PORTCULLIS_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_POSTGRES.into());
    let server = match Server::start(&url, None, &[]).await {
        Ok(server) => server,
        Err(failure) if failure.stderr.contains("cannot open the database") => {
            let reason = failure.stderr.lines().last().unwrap_or_default().to_owned();
            if std::env::var_os("CI").is_some() {
                panic!(
                    "PostgreSQL unreachable and CI is set, so this fails instead of skipping: \
                     {reason}"
                );
            }
            note(&format!(
                "skipped: PostgreSQL unreachable ({reason}); set PORTCULLIS_TEST_POSTGRES to run \
                 the local-server PostgreSQL test"
            ));
            return;
        }
        Err(failure) => panic!(
            "local-server did not start on PostgreSQL ({:?})\nstdout:\n{}\nstderr:\n{}",
            failure.status, failure.stdout, failure.stderr
        ),
    };
    let name = random_name();
    let scope = format!("view:{name}");

    let (status, answer) = server
        .admin_post(
            "/admin/scopes",
            json!({"name": scope, "description": "A test scope"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let (status, client) = server
        .admin_post(
            "/admin/clients",
            json!({"name": format!("pg {name}"), "application_type": "m2m", "scopes": [scope]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{client}");
    let id = client["client_id"].as_str().expect("id").to_owned();
    let secret = client["client_secret"].as_str().expect("secret").to_owned();

    let (status, tokens) = server
        .form(
            "/oauth/token",
            (&id, &secret),
            &[("grant_type", "client_credentials"), ("scope", &scope)],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let (_, introspection) = server
        .form(
            "/oauth/introspect",
            (&id, &secret),
            &[("token", &access_token(&tokens))],
        )
        .await;
    assert_eq!(introspection["active"], true, "{introspection}");
    assert_eq!(introspection["scope"], scope.as_str());

    // A user, the password grant and UserInfo on PostgreSQL's users table.
    let username = format!("user-{name}");
    let (status, user) = server
        .admin_post(
            "/admin/users",
            json!({"username": username, "password": "a long enough password", "name": "Pat"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    let (status, again) = server
        .admin_post(
            "/admin/users",
            json!({"username": username, "password": "a long enough password"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    let (_, app) = server
        .admin_post(
            "/admin/clients",
            json!({"name": format!("pg app {name}"), "application_type": "resource_owner",
                   "scopes": ["openid", "profile"]}),
        )
        .await;
    let app_id = app["client_id"].as_str().expect("id").to_owned();
    let app_secret = app["client_secret"].as_str().expect("secret").to_owned();
    let (status, tokens) = server
        .form(
            "/oauth/token",
            (&app_id, &app_secret),
            &[
                ("grant_type", "password"),
                ("username", &username),
                ("password", "a long enough password"),
                ("scope", "openid profile"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let (status, claims) = server
        .bearer_get("/oauth/userinfo", &access_token(&tokens))
        .await;
    assert_eq!(status, StatusCode::OK, "{claims}");
    assert_eq!(claims["sub"], user["subject"]);
    assert_eq!(claims["name"], "Pat");

    // Leave the shared database as it was, as far as the API allows.
    for id in [&id, &app_id] {
        let response = server
            .admin(Method::DELETE, &format!("/admin/clients/{id}"))
            .send()
            .await
            .expect("delete");
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
    }
}
