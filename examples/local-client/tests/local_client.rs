//! `local-client` against the real `local-server --demo`: every subcommand end to end,
//! the browser step of `login` performed by the test itself.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs,
    unreachable_pub
)]

use std::io::{BufRead as _, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

const CLIENT: &str = env!("CARGO_BIN_EXE_local-client");

/// `target/<profile>/local-server`, built first when missing.
fn server_binary() -> PathBuf {
    static BUILT: Mutex<()> = Mutex::new(());
    let _guard = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    let exe = std::env::current_exe().expect("the test executable");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir");
    let binary = dir.join(format!("local-server{}", std::env::consts::EXE_SUFFIX));
    if !binary.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "local-server"])
            .status()
            .expect("cargo runs");
        assert!(status.success(), "cargo build -p local-server failed");
    }
    assert!(binary.exists(), "{} exists", binary.display());
    binary
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

/// Collects a child's stream into a shared string on a thread.
fn collect(stream: impl Read + Send + 'static, into: Arc<Mutex<String>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            let mut text = into.lock().unwrap_or_else(|e| e.into_inner());
            text.push_str(&line);
            text.push('\n');
        }
    });
}

/// `local-server --demo` on a free port with a temporary SQLite file; killed when dropped.
struct Server {
    child: Child,
    dir: PathBuf,
    issuer: String,
    stdout: Arc<Mutex<String>>,
}

impl Server {
    fn start() -> Server {
        let port = free_port();
        let dir =
            std::env::temp_dir().join(format!("local-client-test-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let database = format!("sqlite://{}?mode=rwc", dir.join("demo.db").display());
        let mut command = Command::new(server_binary());
        command
            .args(["--demo", "--bind", &format!("127.0.0.1:{port}")])
            .args(["--database", &database, "--admin-token", "test-token"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("PORTCULLIS_") {
                command.env_remove(name);
            }
        }
        let mut child = command.spawn().expect("local-server starts");
        let stdout = Arc::new(Mutex::new(String::new()));
        collect(child.stdout.take().expect("stdout"), Arc::clone(&stdout));
        let server = Server {
            child,
            dir,
            issuer: format!("http://127.0.0.1:{port}"),
            stdout,
        };
        let started = Instant::now();
        loop {
            let text = server.stdout();
            if text.contains("Ready.") && std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
            {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(90),
                "local-server did not start:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn stdout(&self) -> String {
        self.stdout
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The value after `<prefix>` up to the next `,` or end of line in the demo banner.
    fn banner_value(&self, prefix: &str) -> String {
        let text = self.stdout();
        let line = text
            .lines()
            .find_map(|line| line.trim().strip_prefix(prefix))
            .unwrap_or_else(|| panic!("{prefix:?} in the banner:\n{text}"));
        line.split([',', ' ']).next().expect("a value").to_owned()
    }

    fn secret(&self, client: &str) -> String {
        self.banner_value(&format!("client {client} ({}): secret ", kind(client)))
    }

    fn password(&self) -> String {
        self.banner_value("user demo: password ")
    }
}

fn kind(client: &str) -> &'static str {
    match client {
        "demo-m2m" => "m2m",
        "demo-password" => "resource_owner",
        _ => "web",
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs `local-client` with `args`, no `PORTCULLIS_*` from the environment.
fn client(args: &[&str]) -> Output {
    let mut command = Command::new(CLIENT);
    command.args(args);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("PORTCULLIS_") {
            command.env_remove(name);
        }
    }
    command.output().expect("local-client runs")
}

/// Runs `local-client`, expects success, and returns its stdout.
fn ok(args: &[&str]) -> String {
    let output = client(args);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "local-client {args:?} failed ({:?})\nstdout:\n{stdout}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The first JSON document of an output.
fn first_json(stdout: &str) -> Value {
    serde_json::Deserializer::from_str(stdout)
        .into_iter::<Value>()
        .next()
        .expect("a JSON document")
        .expect("valid JSON")
}

/// Runs `local-client`, expects exit code 1, and returns its stderr.
fn fails(args: &[&str]) -> String {
    let output = client(args);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
    stderr
}

#[test]
fn every_grant_and_token_operation_against_local_server() {
    let server = Server::start();
    let issuer = server.issuer.as_str();
    let m2m_secret = server.secret("demo-m2m");
    let m2m = [
        "--issuer",
        issuer,
        "--client-id",
        "demo-m2m",
        "--client-secret",
        &m2m_secret,
    ];
    let with = |base: &[&str], rest: &[&str]| -> Vec<String> {
        base.iter()
            .chain(rest)
            .map(|s| (*s).to_owned())
            .collect::<Vec<_>>()
    };
    let run = |args: Vec<String>| ok(&args.iter().map(String::as_str).collect::<Vec<_>>());

    // client-credentials, with --save.
    let save = server.dir.join("tokens.json");
    let save_arg = save.display().to_string();
    let out = run(with(
        &m2m,
        &[
            "--scope",
            "view:users",
            "--save",
            &save_arg,
            "client-credentials",
        ],
    ));
    let tokens = first_json(&out);
    let m2m_token = tokens["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned();
    assert_eq!(tokens["scope"], "view:users");
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(&save).expect("saved")).expect("json");
    assert_eq!(saved["access_token"], m2m_token.as_str());

    // introspect (demo-m2m may introspect any token).
    let info = first_json(&run(with(&m2m, &["introspect", &m2m_token])));
    assert_eq!(info["active"], true, "{info}");
    assert_eq!(info["client_id"], "demo-m2m");

    // password: an ID token (decoded in the output) and a refresh token.
    let password_secret = server.secret("demo-password");
    let user_password = server.password();
    let app = [
        "--issuer",
        issuer,
        "--client-id",
        "demo-password",
        "--client-secret",
        &password_secret,
    ];
    let out = run(with(
        &app,
        &[
            "--scope",
            "openid profile email offline_access",
            "password",
            "--username",
            "demo",
            "--password",
            &user_password,
        ],
    ));
    let tokens = first_json(&out);
    let access = tokens["access_token"].as_str().expect("access").to_owned();
    let refresh = tokens["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    assert!(tokens["id_token"].is_string(), "{tokens}");
    assert!(
        out.contains("id_token decoded") && out.contains("\"iss\"") && out.contains("\"alg\""),
        "the ID token is shown decoded:\n{out}"
    );

    // userinfo.
    let claims = first_json(&run(with(&app, &["userinfo", &access])));
    assert!(claims["sub"].is_string(), "{claims}");
    assert_eq!(claims["email"], "demo@example.com");

    // call /api/me with --base-uri.
    let me = run(with(
        &app,
        &["--base-uri", issuer, "call", "/api/me", "--token", &access],
    ));
    assert!(me.contains("demo") || me.contains("sub"), "{me}");

    // refresh: new tokens, and the old refresh token is rotated.
    let tokens = first_json(&run(with(&app, &["refresh", &refresh])));
    let new_access = tokens["access_token"].as_str().expect("access").to_owned();
    assert_ne!(new_access, access);
    assert!(tokens["refresh_token"].is_string());

    // revoke, then the token is refused everywhere.
    let out = run(with(&app, &["revoke", &new_access]));
    assert!(out.contains("revoked"), "{out}");
    let info = first_json(&run(with(&m2m, &["introspect", &new_access])));
    assert_eq!(info["active"], false, "{info}");
    let stderr = fails(
        &with(&app, &["userinfo", &new_access])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert!(stderr.contains("invalid_token"), "{stderr}");
    assert!(stderr.contains("(HTTP 401)"), "{stderr}");

    // A wrong secret: one clear line, exit code 1. It starts with `-`, as a generated
    // base64url secret may: it must reach the server as a secret, not be read as a flag.
    let stderr = fails(&[
        "--issuer",
        issuer,
        "--client-id",
        "demo-m2m",
        "--client-secret",
        "-wrong",
        "client-credentials",
    ]);
    assert!(
        stderr.starts_with("error: invalid_client — ") && stderr.contains("(HTTP 401)"),
        "{stderr}"
    );

    // A scope the client may not have: invalid_scope.
    let stderr = fails(
        &with(&m2m, &["--scope", "openid", "client-credentials"])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert!(stderr.contains("invalid_scope"), "{stderr}");

    // Without discovery: explicit token URL (the other endpoints next to it).
    let token_url = format!("{issuer}/oauth/token");
    let out = ok(&[
        "--token-url",
        &token_url,
        "--client-id",
        "demo-m2m",
        "--client-secret",
        &m2m_secret,
        "client-credentials",
    ]);
    assert!(first_json(&out)["access_token"].is_string());
}

/// The `value` of the `<input name="…">` of a page.
fn input_value(html: &str, name: &str) -> Option<String> {
    html.split("<input").skip(1).find_map(|tag| {
        let tag = tag.split('>').next()?;
        let attribute = |attr: &str| {
            let start = tag.find(&format!("{attr}=\""))? + attr.len() + 2;
            let end = tag.get(start..)?.find('"')? + start;
            tag.get(start..end).map(|value| value.replace("&amp;", "&"))
        };
        (attribute("name")? == name)
            .then(|| attribute("value"))
            .flatten()
    })
}

fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .and_then(|value| value.to_str().ok())
        .expect("a Location header")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn login_through_the_loopback_redirect() {
    let server = Server::start();
    let issuer = server.issuer.clone();
    let password = server.password();

    let mut child = Command::new(CLIENT)
        .args(["--issuer", &issuer, "--client-id", "demo-native"])
        .args(["--redirect-uri", "http://127.0.0.1/callback"])
        .args(["--scope", "openid profile email offline_access", "login"])
        .args(["--timeout-secs", "60"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("local-client login starts");
    let stderr = Arc::new(Mutex::new(String::new()));
    collect(child.stderr.take().expect("stderr"), Arc::clone(&stderr));
    let mut stdout_pipe = child.stdout.take().expect("stdout");
    let stdout_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout_pipe.read_to_string(&mut text);
        text
    });

    let prefix = format!("{issuer}/oauth/authorize?");
    let started = Instant::now();
    let authorize = loop {
        let text = stderr.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(line) = text.lines().find(|line| line.starts_with(&prefix)) {
            break line.to_owned();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no URL printed:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };

    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a browser");
    let url = |path: &str| {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{issuer}{path}")
        }
    };
    let response = browser.get(&authorize).send().await.expect("authorize");
    assert_eq!(response.status(), reqwest::StatusCode::SEE_OTHER);
    let html = browser
        .get(url(&location(&response)))
        .send()
        .await
        .expect("login page")
        .text()
        .await
        .expect("html");
    let response = browser
        .post(url("/oauth/login"))
        .form(&[
            (
                "interaction",
                input_value(&html, "interaction").expect("interaction"),
            ),
            ("csrf", input_value(&html, "csrf").expect("csrf")),
            ("username", "demo".to_owned()),
            ("password", password),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(response.status(), reqwest::StatusCode::SEE_OTHER);
    let html = browser
        .get(url(&location(&response)))
        .send()
        .await
        .expect("consent page")
        .text()
        .await
        .expect("html");
    let response = browser
        .post(url("/oauth/consent"))
        .form(&[
            (
                "interaction",
                input_value(&html, "interaction").expect("interaction"),
            ),
            ("csrf", input_value(&html, "csrf").expect("csrf")),
            ("decision", "allow".to_owned()),
        ])
        .send()
        .await
        .expect("consent");
    assert_eq!(response.status(), reqwest::StatusCode::SEE_OTHER);
    let redirect = location(&response);
    assert!(
        redirect.starts_with("http://127.0.0.1:") && redirect.contains("/callback?"),
        "the redirect goes to the loopback listener on its ephemeral port: {redirect}"
    );
    let page = browser.get(&redirect).send().await.expect("loopback");
    assert_eq!(page.status(), reqwest::StatusCode::OK);

    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("login did not finish");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let stdout = stdout_reader.join().expect("stdout");
    let errors = stderr.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert!(status.success(), "login failed:\n{stdout}\n{errors}");
    let tokens = first_json(&stdout);
    assert!(tokens["access_token"].is_string(), "{stdout}");
    assert!(tokens["id_token"].is_string(), "{stdout}");
    assert!(tokens["refresh_token"].is_string(), "{stdout}");
    assert!(stdout.contains("id_token decoded"), "{stdout}");
}
