//! `--demo`: the seeded user and clients work as printed, and a second `--demo` start on the
//! same database neither fails nor duplicates anything.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{Server, TempDb, access_token, free_port};

/// The printed credentials.
struct Printed {
    password: String,
    secrets: BTreeMap<String, String>,
}

/// Reads `  user demo: password X` and `  client ID (kind): secret X, …` lines.
fn printed(stdout: &str) -> Printed {
    let password = stdout
        .lines()
        .find_map(|line| line.trim().strip_prefix("user demo: password "))
        .unwrap_or_else(|| panic!("no demo password in:\n{stdout}"))
        .trim()
        .to_owned();
    let secrets = stdout
        .lines()
        .filter_map(|line| line.trim().strip_prefix("client "))
        .filter_map(|rest| {
            let (id, rest) = rest.split_once(' ')?;
            let secret = rest.split_once(": secret ")?.1;
            let secret = secret.split([',', ' ']).next()?;
            Some((id.to_owned(), secret.to_owned()))
        })
        .collect();
    Printed { password, secrets }
}

async fn try_the_printed_credentials(server: &Server, printed: &Printed) {
    // 1. Client credentials, introspection, the protected API.
    let m2m = ("demo-m2m", printed.secrets["demo-m2m"].as_str());
    let (status, tokens) = server
        .form(
            "/oauth/token",
            m2m,
            &[
                ("grant_type", "client_credentials"),
                ("scope", "view:users"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let token = access_token(&tokens);
    let (_, introspection) = server
        .form("/oauth/introspect", m2m, &[("token", &token)])
        .await;
    assert_eq!(introspection["active"], true, "{introspection}");
    assert_eq!(introspection["roles"][0]["role"], "user-admin");
    let (status, users) = server.bearer_get("/api/users", &token).await;
    assert_eq!(status, StatusCode::OK, "{users}");
    assert_eq!(users[0]["username"], "demo");

    // 2. The demo user through the password grant, then UserInfo.
    let app = ("demo-password", printed.secrets["demo-password"].as_str());
    let (status, tokens) = server
        .form(
            "/oauth/token",
            app,
            &[
                ("grant_type", "password"),
                ("username", "demo"),
                ("password", &printed.password),
                ("scope", "openid profile email"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let (status, claims) = server
        .bearer_get("/oauth/userinfo", &access_token(&tokens))
        .await;
    assert_eq!(status, StatusCode::OK, "{claims}");
    assert_eq!(claims["name"], "Demo User");
    assert_eq!(claims["email"], "demo@example.com");
}

fn ids_and_kinds(clients: &Value) -> Vec<(String, String)> {
    clients
        .as_array()
        .expect("an array")
        .iter()
        .map(|client| {
            (
                client["client_id"].as_str().expect("id").to_owned(),
                client["application_type"]
                    .as_str()
                    .expect("kind")
                    .to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_seeds_working_clients_once() {
    let db = TempDb::new();
    let port = free_port();
    let mut first = Server::start_ok(&db.url(), Some(port), &["--demo"]).await;
    let stdout = first.stdout();
    assert!(
        stdout.contains("curl"),
        "ready-to-paste commands:\n{stdout}"
    );
    assert!(stdout.contains("local-client"), "{stdout}");
    assert!(
        !stdout.contains("admin token:"),
        "the admin token was given, so it is not printed:\n{stdout}"
    );
    let before = printed(&stdout);
    assert_eq!(
        before.secrets.keys().cloned().collect::<Vec<_>>(),
        ["demo-m2m", "demo-password", "demo-web"],
        "secrets for the confidential clients only"
    );
    try_the_printed_credentials(&first, &before).await;

    let expected = vec![
        ("demo-m2m".to_owned(), "m2m".to_owned()),
        ("demo-native".to_owned(), "native".to_owned()),
        ("demo-password".to_owned(), "resource_owner".to_owned()),
        ("demo-spa".to_owned(), "spa".to_owned()),
        ("demo-web".to_owned(), "web".to_owned()),
    ];
    let (_, clients) = first.admin_get("/admin/clients").await;
    assert_eq!(ids_and_kinds(&clients), expected);
    for client in clients.as_array().expect("array") {
        let uris = client["redirect_uris"].as_array().expect("uris");
        match client["application_type"].as_str() {
            Some("m2m" | "resource_owner") => assert!(uris.is_empty()),
            Some("native") => assert_eq!(uris[0], "http://127.0.0.1/callback"),
            _ => assert!(
                uris[0].as_str().is_some_and(
                    |uri| uri.starts_with("http://127.0.0.1:") && uri.ends_with("/callback")
                ),
                "{client}"
            ),
        }
    }
    assert!(first.stop().success());

    // Again, on the same database: nothing fails, nothing is duplicated, and the newly
    // printed credentials work.
    let second = Server::start_ok(&db.url(), Some(port), &["--demo"]).await;
    let (_, clients) = second.admin_get("/admin/clients").await;
    assert_eq!(ids_and_kinds(&clients), expected);
    let (_, users) = second.admin_get("/admin/users").await;
    assert_eq!(users.as_array().map(Vec::len), Some(1), "{users}");
    let (_, scopes) = second.admin_get("/admin/scopes").await;
    for name in ["view:users", "create:users", "update:users", "delete:users"] {
        let count = scopes
            .as_array()
            .expect("array")
            .iter()
            .filter(|scope| scope["name"] == name)
            .count();
        assert_eq!(count, 1, "{name}");
    }
    let after = printed(&second.stdout());
    try_the_printed_credentials(&second, &after).await;
}
