//! The real `local-server` binary as a child process on a free loopback port, with a
//! temporary SQLite file, killed when dropped; and small HTTP helpers.

use std::io::{BufRead as _, BufReader, Read, Write as _};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::{Client, Response, StatusCode};
use serde_json::Value;

/// The admin token every test server is started with.
pub const ADMIN_TOKEN: &str = "test-token";

/// How long a server may take to answer discovery.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Writes to the real stderr: the test harness captures `eprintln!`.
pub fn note(message: &str) {
    let _ = writeln!(std::io::stderr(), "{message}");
}

/// A free loopback port (free a moment ago, at least).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

/// A temporary directory holding a SQLite file, removed when dropped.
pub struct TempDb {
    dir: PathBuf,
}

impl TempDb {
    pub fn new() -> TempDb {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "local-server-test-{}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default()
        ));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        TempDb { dir }
    }

    /// `sqlite://<dir>/portcullis.db?mode=rwc`.
    pub fn url(&self) -> String {
        format!(
            "sqlite://{}?mode=rwc",
            self.dir.join("portcullis.db").display()
        )
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What the child printed so far.
#[derive(Default)]
struct Output {
    stdout: String,
    stderr: String,
}

/// A running `local-server`.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:<port>`, also the issuer.
    pub base: String,
    output: Arc<Mutex<Output>>,
    pub http: Client,
}

/// The server exited before answering discovery.
#[derive(Debug)]
pub struct StartFailure {
    pub status: Option<ExitStatus>,
    pub stdout: String,
    pub stderr: String,
}

impl Server {
    /// Starts the binary with `--database <database> --admin-token test-token` on `port`
    /// (a free one when `None`) plus `extra`, and waits until discovery answers.
    pub async fn start(
        database: &str,
        port: Option<u16>,
        extra: &[&str],
    ) -> Result<Server, StartFailure> {
        let port = port.unwrap_or_else(free_port);
        let mut command = Command::new(env!("CARGO_BIN_EXE_local-server"));
        command
            .args(["--bind", &format!("127.0.0.1:{port}")])
            .args(["--database", database])
            .args(["--admin-token", ADMIN_TOKEN])
            .args(extra)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("PORTCULLIS_") {
                command.env_remove(name);
            }
        }
        let started = Instant::now();
        let mut child = command.spawn().expect("local-server starts");
        let output = Arc::new(Mutex::new(Output::default()));
        if let Some(stdout) = child.stdout.take() {
            collect(stdout, Arc::clone(&output), |out, line| {
                out.stdout.push_str(line)
            });
        }
        if let Some(stderr) = child.stderr.take() {
            collect(stderr, Arc::clone(&output), |out, line| {
                out.stderr.push_str(line)
            });
        }
        let base = format!("http://127.0.0.1:{port}");
        let mut server = Server {
            child,
            base,
            output,
            http: Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("an HTTP client"),
        };
        let discovery = format!("{}/.well-known/openid-configuration", server.base);
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                // Let the readers take the last lines.
                std::thread::sleep(Duration::from_millis(100));
                let (stdout, stderr) = server.output();
                return Err(StartFailure {
                    status: Some(status),
                    stdout,
                    stderr,
                });
            }
            if let Ok(response) = server.http.get(&discovery).send().await
                && response.status() == StatusCode::OK
            {
                break;
            }
            if started.elapsed() > START_TIMEOUT {
                let (stdout, stderr) = server.output();
                return Err(StartFailure {
                    status: None,
                    stdout,
                    stderr,
                });
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let elapsed = started.elapsed();
        note(&format!(
            "local-server answered discovery {} ms after it was started ({database})",
            elapsed.as_millis()
        ));
        // The banner is printed before serving starts, so it is complete by now; give the
        // reader thread a moment to have taken it.
        for _ in 0..100 {
            if server.stdout().contains("Ready.") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Ok(server)
    }

    /// Like [`Server::start`], failing the test with the child's output on failure.
    pub async fn start_ok(database: &str, port: Option<u16>, extra: &[&str]) -> Server {
        match Server::start(database, port, extra).await {
            Ok(server) => server,
            Err(failure) => panic!(
                "local-server did not start ({:?})\nstdout:\n{}\nstderr:\n{}",
                failure.status, failure.stdout, failure.stderr
            ),
        }
    }

    /// What the child printed on stdout so far.
    pub fn stdout(&self) -> String {
        self.output().0
    }

    fn output(&self) -> (String, String) {
        let output = self.output.lock().unwrap_or_else(|e| e.into_inner());
        (output.stdout.clone(), output.stderr.clone())
    }

    /// Stops the server with SIGTERM (a graceful shutdown) and waits for it to exit.
    pub fn stop(&mut self) -> ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                return self.child.wait().expect("the child exits");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// An admin API request with the test token.
    pub fn admin(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, self.url(path))
            .bearer_auth(ADMIN_TOKEN)
    }

    /// `POST` `body` as JSON to an admin path; the status and the JSON answer.
    pub async fn admin_post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        json_of(
            self.admin(reqwest::Method::POST, path)
                .json(&body)
                .send()
                .await
                .expect("admin request"),
        )
        .await
    }

    /// `GET` an admin path.
    pub async fn admin_get(&self, path: &str) -> (StatusCode, Value) {
        json_of(
            self.admin(reqwest::Method::GET, path)
                .send()
                .await
                .expect("admin request"),
        )
        .await
    }

    /// `PATCH` an admin path.
    pub async fn admin_patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        json_of(
            self.admin(reqwest::Method::PATCH, path)
                .json(&body)
                .send()
                .await
                .expect("admin request"),
        )
        .await
    }

    /// A form `POST` to the token endpoint (or another) with HTTP Basic client
    /// authentication.
    pub async fn form(
        &self,
        path: &str,
        client: (&str, &str),
        form: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        json_of(
            self.http
                .post(self.url(path))
                .basic_auth(client.0, Some(client.1))
                .form(form)
                .send()
                .await
                .expect("form request"),
        )
        .await
    }

    /// `GET` with a bearer token.
    pub async fn bearer_get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        json_of(
            self.http
                .get(self.url(path))
                .bearer_auth(token)
                .send()
                .await
                .expect("bearer request"),
        )
        .await
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads `stream` line by line into `output` on a thread of its own.
fn collect(
    stream: impl Read + Send + 'static,
    output: Arc<Mutex<Output>>,
    push: fn(&mut Output, &str),
) {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
            push(&mut output.lock().unwrap_or_else(|e| e.into_inner()), &line);
            line.clear();
        }
    });
}

/// The status and the body as JSON (`Null` when empty or not JSON).
pub async fn json_of(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// A short random lowercase hex name, for records in a shared database.
pub fn random_name() -> String {
    let random = portcullis_tokens::random_identifier().expect("entropy");
    portcullis_tokens::TokenHash::of(&random)
        .to_string()
        .chars()
        .take(16)
        .collect()
}

/// The `access_token` of a token response.
pub fn access_token(response: &Value) -> String {
    response["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access token in {response}"))
        .to_owned()
}
