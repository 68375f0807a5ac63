//! `local-client` against `local-server --demo`, with Chromium as the user's browser:
//! - `login`: the client prints the authorization URL, the browser signs the demo user in,
//!   consents and follows the redirect to the client's loopback listener, and the client
//!   exchanges the code (PKCE) and prints the tokens;
//! - `device` (RFC 8628): the client prints the verification URI and user code, the browser
//!   opens `verification_uri_complete`, signs in, confirms and allows, and the polling client
//!   prints the tokens.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::driver::Browser;
use crate::support::{Server, TempDb};

/// `target/<profile>/local-client`, built (or found up to date) by cargo first.
fn local_client_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the profile directory");
    let status = Command::new(env!("CARGO"))
        .args(["build", "-q", "-p", "local-client"])
        .status()
        .expect("cargo runs");
    assert!(status.success(), "cargo build -p local-client failed");
    let binary = profile_dir.join(format!("local-client{}", std::env::consts::EXE_SUFFIX));
    assert!(binary.exists(), "{} exists", binary.display());
    binary
}

/// The demo user's password from the banner.
pub fn demo_password(server: &Server) -> String {
    let stdout = server.stdout();
    stdout
        .lines()
        .find_map(|line| line.trim().strip_prefix("user demo: password "))
        .unwrap_or_else(|| panic!("no demo password in:\n{stdout}"))
        .to_owned()
}

/// Reads a child's stream into a shared string on a thread.
fn collect(mut stream: impl std::io::Read + Send + 'static) -> Arc<Mutex<String>> {
    let text = Arc::new(Mutex::new(String::new()));
    let into = Arc::clone(&text);
    std::thread::spawn(move || {
        let mut buffer = [0_u8; 4096];
        while let Ok(n) = stream.read(&mut buffer) {
            if n == 0 {
                break;
            }
            into.lock()
                .unwrap_or_else(|e| e.into_inner())
                .push_str(&String::from_utf8_lossy(&buffer[..n]));
        }
    });
    text
}

fn read(text: &Arc<Mutex<String>>) -> String {
    text.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// A running `local-client` with its output collected.
struct ClientRun {
    child: Child,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
}

impl ClientRun {
    fn start(args: &[&str]) -> ClientRun {
        let mut child = Command::new(local_client_binary())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("local-client starts");
        let stdout = collect(child.stdout.take().expect("stdout"));
        let stderr = collect(child.stderr.take().expect("stderr"));
        ClientRun {
            child,
            stdout,
            stderr,
        }
    }

    /// The first value `pick` finds in a line of the client's stderr, waiting for it.
    async fn printed(&self, what: &str, pick: impl Fn(&str) -> Option<String>) -> String {
        let started = Instant::now();
        loop {
            let text = read(&self.stderr);
            if let Some(found) = text.lines().find_map(&pick) {
                return found;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "local-client printed no {what}:\n{text}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits for the client to exit successfully; its stdout.
    async fn finish(mut self) -> String {
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("local-client status") {
                break status;
            }
            if started.elapsed() > Duration::from_secs(60) {
                let _ = self.child.kill();
                panic!(
                    "local-client did not finish\nstderr:\n{}",
                    read(&self.stderr)
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        // Let the readers take the last output.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let (out, err) = (read(&self.stdout), read(&self.stderr));
        assert!(
            status.success(),
            "local-client failed\nstdout:\n{out}\nstderr:\n{err}"
        );
        out
    }
}

/// Signs the demo user in on the login page the browser shows.
async fn sign_in(browser: &mut Browser, password: &str) {
    browser.fill("input[name=username]", "demo").await;
    browser.fill("input[name=password]", password).await;
    browser.shot("login").await;
    browser
        .follow("form button[type=submit], form input[type=submit]")
        .await;
}

fn assert_tokens(out: &str, expected: &[&str]) {
    for expected in expected {
        assert!(out.contains(expected), "{expected} in:\n{out}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn local_client_login_with_chromium_as_the_browser() {
    let Some(mut browser) = Browser::start("local-client-login").await else {
        return;
    };
    let db = TempDb::new();
    let server = Server::start_ok(&db.url(), None, &["--demo"]).await;
    let run = ClientRun::start(&[
        "--issuer",
        &server.base,
        "--client-id",
        "demo-native",
        "--redirect-uri",
        "http://127.0.0.1/callback",
        "--scope",
        "openid profile email offline_access",
        "login",
        "--timeout-secs",
        "90",
    ]);
    let prefix = server.url("/oauth/authorize?");
    let authorize = run
        .printed("authorization URL", |line| {
            line.starts_with(&prefix).then(|| line.to_owned())
        })
        .await;
    assert!(authorize.contains("code_challenge="), "PKCE: {authorize}");

    browser.goto(&authorize).await;
    sign_in(&mut browser, &demo_password(&server)).await;
    browser.find("button[name=decision][value=allow]").await;
    browser.shot("consent").await;
    browser.follow("button[name=decision][value=allow]").await;
    let out = run.finish().await;
    let landed = browser.url().await;
    assert!(landed.starts_with("http://127.0.0.1:"), "{landed}");
    browser.shot("loopback-redirect").await;
    assert_tokens(
        &out,
        &["access_token", "refresh_token", "id_token", "\"sub\""],
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn local_client_device_flow_approved_in_chromium() {
    let Some(mut browser) = Browser::start("local-client-device").await else {
        return;
    };
    let db = TempDb::new();
    let server = Server::start_ok(&db.url(), None, &["--demo"]).await;
    let run = ClientRun::start(&[
        "--issuer",
        &server.base,
        "--client-id",
        "demo-native",
        "--scope",
        "openid profile",
        "device",
    ]);
    let complete = run
        .printed("verification URI", |line| {
            line.trim()
                .strip_prefix("(or open ")
                .map(|url| url.trim_end_matches(')').to_owned())
        })
        .await;
    assert!(
        complete.starts_with(&server.url("/oauth/device")),
        "{complete}"
    );

    browser.goto(&complete).await;
    sign_in(&mut browser, &demo_password(&server)).await;
    if !browser.has("button[name=decision][value=allow]").await {
        browser.shot("enter-code").await;
        browser.follow("form button[type=submit]").await;
    }
    assert!(browser.source().await.contains("Demo native app"));
    browser.shot("confirm").await;
    browser.follow("button[name=decision][value=allow]").await;
    browser.shot("approved").await;
    let out = run.finish().await;
    assert_tokens(&out, &["access_token", "id_token", "\"sub\""]);
    browser.close().await;
}
