//! `local-client login` against `local-server --demo`, with Chromium as the user's browser:
//! the client prints the authorization URL, the browser signs the demo user in, consents and
//! follows the redirect to the client's loopback listener, and the client exchanges the
//! code (PKCE) and prints the tokens.

use std::path::PathBuf;
use std::process::{Command, Stdio};
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

#[tokio::test(flavor = "multi_thread")]
async fn local_client_login_with_chromium_as_the_browser() {
    let Some(mut browser) = Browser::start("local-client-login").await else {
        return;
    };
    let client = local_client_binary();
    let db = TempDb::new();
    let server = Server::start_ok(&db.url(), None, &["--demo"]).await;
    let password = server
        .stdout()
        .lines()
        .find_map(|line| line.trim().strip_prefix("user demo: password "))
        .expect("the demo password")
        .to_owned();

    let mut child = Command::new(client)
        .args(["--issuer", &server.base, "--client-id", "demo-native"])
        .args(["--redirect-uri", "http://127.0.0.1/callback"])
        .args(["--scope", "openid profile email offline_access", "login"])
        .args(["--timeout-secs", "90"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("local-client login starts");
    let stdout = collect(child.stdout.take().expect("stdout"));
    let stderr = collect(child.stderr.take().expect("stderr"));

    let prefix = server.url("/oauth/authorize?");
    let started = Instant::now();
    let authorize = loop {
        let text = stderr.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(line) = text.lines().find(|line| line.starts_with(&prefix)) {
            break line.to_owned();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "local-client printed no URL:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(authorize.contains("code_challenge="), "PKCE: {authorize}");

    browser.goto(&authorize).await;
    browser.fill("input[name=username]", "demo").await;
    browser.fill("input[name=password]", &password).await;
    browser.shot("login").await;
    browser
        .follow("form button[type=submit], form input[type=submit]")
        .await;
    browser.find("button[name=decision][value=allow]").await;
    browser.shot("consent").await;
    browser.follow("button[name=decision][value=allow]").await;

    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("local-client status") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!(
                "local-client did not finish\nstderr:\n{}",
                stderr.lock().unwrap_or_else(|e| e.into_inner())
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let landed = browser.url().await;
    assert!(landed.starts_with("http://127.0.0.1:"), "{landed}");
    browser.shot("loopback-redirect").await;
    // Let the readers take the last output.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let out = stdout.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let err = stderr.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert!(
        status.success(),
        "local-client failed\nstdout:\n{out}\nstderr:\n{err}"
    );
    for expected in ["access_token", "refresh_token", "id_token", "\"sub\""] {
        assert!(out.contains(expected), "{expected} in:\n{out}");
    }
    browser.close().await;
}

/// RFC 8628 end to end: `local-client device` prints the verification URI and user code;
/// Chromium opens `verification_uri_complete`, signs the demo user in, confirms and allows;
/// the polling client gets the tokens.
#[tokio::test(flavor = "multi_thread")]
async fn local_client_device_flow_approved_in_chromium() {
    let Some(mut browser) = Browser::start("local-client-device").await else {
        return;
    };
    let client = local_client_binary();
    let db = TempDb::new();
    let server = Server::start_ok(&db.url(), None, &["--demo"]).await;
    let password = server
        .stdout()
        .lines()
        .find_map(|line| line.trim().strip_prefix("user demo: password "))
        .expect("the demo password")
        .to_owned();

    let mut child = Command::new(client)
        .args(["--issuer", &server.base, "--client-id", "demo-native"])
        .args(["--scope", "openid profile", "device"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("local-client device starts");
    let stdout = collect(child.stdout.take().expect("stdout"));
    let stderr = collect(child.stderr.take().expect("stderr"));

    let started = Instant::now();
    let complete = loop {
        let text = stderr.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(url) = text
            .lines()
            .find_map(|line| line.trim().strip_prefix("(or open "))
        {
            break url.trim_end_matches(')').to_owned();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "local-client printed no verification URI:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        complete.starts_with(&server.url("/oauth/device")),
        "{complete}"
    );

    browser.goto(&complete).await;
    browser.fill("input[name=username]", "demo").await;
    browser.fill("input[name=password]", &password).await;
    browser.shot("login").await;
    browser
        .follow("form button[type=submit], form input[type=submit]")
        .await;
    if !browser.has("button[name=decision][value=allow]").await {
        browser.shot("enter-code").await;
        browser.follow("form button[type=submit]").await;
    }
    assert!(browser.source().await.contains("Demo native app"));
    browser.shot("confirm").await;
    browser.follow("button[name=decision][value=allow]").await;
    browser.shot("approved").await;

    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("local-client status") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!(
                "local-client did not finish\nstderr:\n{}",
                stderr.lock().unwrap_or_else(|e| e.into_inner())
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let out = stdout.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let err = stderr.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert!(
        status.success(),
        "local-client failed\nstdout:\n{out}\nstderr:\n{err}"
    );
    for expected in ["access_token", "id_token", "\"sub\""] {
        assert!(out.contains(expected), "{expected} in:\n{out}");
    }
    browser.close().await;
}
