//! Nothing acknowledged is lost on a crash: a child process issues tokens on SQLite under
//! load (four concurrent clients) and prints each token once its response is complete; the
//! parent SIGKILLs it mid-stream, reopens the database, and finds every printed token still
//! valid and the client still there.
//!
//! The child is this same binary started with `PORTCULLIS_CRASH_CHILD` set, which is why
//! this test has its own `main` (`harness = false`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;

use bytes::Bytes;
use http::Request;
use portcullis_endpoints::Provider;
use portcullis_registry::{ClientId, ClientKind, NewClient, ScopeCatalog};
use portcullis_store::{ClientStore, Store, TokenStore};
use portcullis_store_sql::SqliteStore;
use portcullis_tokens::TokenHash;

const CHILD: &str = "PORTCULLIS_CRASH_CHILD";
const TOKENS_BEFORE_KILL: usize = 300;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    if let Ok(spec) = std::env::var(CHILD) {
        runtime.block_on(child(spec));
        return;
    }
    runtime.block_on(parent());
    println!("crash_sqlite: 1 passed, 0 failed");
}

async fn open(path: &str) -> SqliteStore {
    let store = SqliteStore::connect(&format!("sqlite://{path}?mode=rwc"))
        .await
        .expect("sqlite opens");
    store.migrate().await.expect("migrations apply");
    store
}

/// Issues tokens forever from four tasks, printing each one after its 200 arrived.
async fn child(spec: String) {
    let mut parts = spec.splitn(3, '\n');
    let (path, id, secret) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let store: Arc<dyn Store> = Arc::new(open(path).await);
    let provider = Provider::builder("https://id.example", store)
        .build()
        .unwrap();
    let basic = {
        use base64::Engine as _;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
        )
    };
    let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel::<String>();
    for _ in 0..4 {
        let (provider, basic, sender) = (provider.clone(), basic.clone(), sender.clone());
        tokio::spawn(async move {
            loop {
                let request = Request::post("/oauth/token")
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("authorization", &basic)
                    .body(Bytes::from_static(b"grant_type=client_credentials"))
                    .unwrap();
                let response = provider.token(request).await;
                assert_eq!(response.status(), 200);
                let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
                let _ = sender.send(body["access_token"].as_str().unwrap().to_owned());
            }
        });
    }
    let stdout = std::io::stdout();
    while let Some(token) = receiver.recv().await {
        let mut out = stdout.lock();
        writeln!(out, "{token}").unwrap();
        out.flush().unwrap();
    }
}

async fn parent() {
    let path = std::env::temp_dir().join(format!("portcullis-crash-{}.db", std::process::id()));
    let path = path.to_str().unwrap().to_owned();
    let issued = NewClient::new("Crash probe", ClientKind::Machine)
        .build(&ScopeCatalog::with_oidc_scopes())
        .unwrap();
    let client_id = issued.client.id.clone();
    let secret = issued.secret.unwrap().expose_secret().to_owned();
    {
        let store = open(&path).await;
        store.insert_client(issued.client).await.unwrap();
    }

    let mut child = Command::new(std::env::current_exe().unwrap())
        .env(CHILD, format!("{path}\n{}\n{secret}", client_id.as_str()))
        .stdout(Stdio::piped())
        .spawn()
        .expect("the child starts");
    let mut acknowledged = Vec::new();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while acknowledged.len() < TOKENS_BEFORE_KILL {
        let line = lines.next().expect("the child keeps printing").unwrap();
        acknowledged.push(line);
    }
    child.kill().expect("SIGKILL"); // std sends SIGKILL on Unix
    let status = child.wait().unwrap();
    assert!(!status.success(), "the child was killed, not finished");

    let store = open(&path).await;
    let now = time::OffsetDateTime::now_utc();
    assert!(
        store
            .get_client(&ClientId::new(client_id.as_str()).unwrap())
            .await
            .unwrap()
            .is_some(),
        "the client survives the crash"
    );
    let mut missing = 0;
    for token in &acknowledged {
        let found = store.find_token(&TokenHash::of(token), now).await.unwrap();
        if !found.is_some_and(|record| record.is_active(now)) {
            missing += 1;
        }
    }
    assert_eq!(
        missing,
        0,
        "{missing} of {} acknowledged tokens were lost",
        acknowledged.len()
    );
    let listed = store.list_client_tokens(&client_id, now).await.unwrap();
    assert!(listed.len() >= acknowledged.len());
    eprintln!(
        "crash_sqlite: {} tokens acknowledged before SIGKILL, all {} found after restart ({} stored in all)",
        acknowledged.len(),
        acknowledged.len(),
        listed.len()
    );
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{path}{suffix}"));
    }
}
