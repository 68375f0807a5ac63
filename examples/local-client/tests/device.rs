//! `local-client device` against an in-process provider with the device flow (RFC 8628):
//! the test plays the user, approving or denying the user code the client prints.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs,
    unreachable_pub
)]

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::mpsc;

use portcullis_endpoints::Provider;
use portcullis_grants::UserCode;
use portcullis_registry::{ClientKind, GrantType, NewClient, ScopeCatalog};
use portcullis_store::{ClientStore, MemoryStore};
use portcullis_tokens::Subject;
use serde_json::Value;

const CLIENT: &str = env!("CARGO_BIN_EXE_local-client");

/// A provider with the device flow (1-second interval) and a public client `tv`, served on
/// a loopback port; answers the provider and its issuer.
async fn serve() -> (Provider, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let store = Arc::new(MemoryStore::new());
    let tv = NewClient::new("Living room TV", ClientKind::Native)
        .client_id("tv")
        .redirect_uri("http://127.0.0.1/callback")
        .grant_types([
            GrantType::AuthorizationCode,
            GrantType::DeviceCode,
            GrantType::RefreshToken,
        ])
        .scopes(["openid", "offline_access"])
        .build(&ScopeCatalog::with_oidc_scopes())
        .unwrap()
        .client;
    store.insert_client(tv).await.unwrap();
    let provider = Provider::builder(issuer.clone(), store.clone())
        .device_flow(store)
        .device_poll_interval(1)
        .build()
        .unwrap();
    let app = portcullis_axum::router(provider.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (provider, issuer)
}

/// Runs `local-client device` and, once it printed the user code, decides with `decide`;
/// answers the client's output and everything it wrote to stderr.
async fn run_device(provider: &Provider, issuer: &str, approve: bool) -> (Output, String) {
    let mut child = Command::new(CLIENT)
        .args(["--issuer", issuer, "--client-id", "tv"])
        .args(["--scope", "openid offline_access", "device"])
        .env_remove("PORTCULLIS_CLIENT_CLIENT_SECRET")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("local-client starts");
    let stderr = child.stderr.take().unwrap();
    let (codes, code) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(user_code) = line.split("enter the code ").nth(1) {
                let _ = codes.send(user_code.trim().to_owned());
            }
            text.push_str(&line);
            text.push('\n');
        }
        text
    });
    let user_code = tokio::task::spawn_blocking(move || {
        code.recv_timeout(std::time::Duration::from_secs(60))
            .expect("the client prints the user code")
    })
    .await
    .unwrap();
    let now = provider.now();
    let alice = Subject::new("user-alice").unwrap();
    let decided = provider
        .device_flow()
        .unwrap()
        .decide(
            &UserCode::parse(&user_code).unwrap(),
            approve.then_some((&alice, now)),
            now,
        )
        .await
        .unwrap();
    assert!(decided);
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let stderr = reader.join().unwrap();
    (output, stderr)
}

#[tokio::test(flavor = "multi_thread")]
async fn rfc8628_device_subcommand_prints_the_tokens_once_approved() {
    let (provider, issuer) = serve().await;
    let (output, stderr) = run_device(&provider, &issuer, true).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(&format!("open {issuer}/oauth/device and enter the code")),
        "{stderr}"
    );
    assert!(stderr.contains("/oauth/device?user_code="), "{stderr}");
    // The token response comes first, then the decoded ID token.
    let end = stdout.find("\n}\n").map_or(stdout.len(), |at| at + 2);
    let tokens: Value = serde_json::from_str(&stdout[..end]).expect("a JSON token response");
    assert!(
        tokens["access_token"]
            .as_str()
            .unwrap()
            .starts_with("pc_at_")
    );
    assert!(tokens["refresh_token"].is_string());
    assert!(tokens["id_token"].is_string());
    assert!(stdout.contains("id_token decoded"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread")]
async fn rfc8628_device_subcommand_reports_access_denied() {
    let (provider, issuer) = serve().await;
    let (output, stderr) = run_device(&provider, &issuer, false).await;
    assert!(!output.status.success());
    assert!(
        stderr.contains("error: access_denied — the user denied the request (HTTP 400)"),
        "{stderr}"
    );
}
