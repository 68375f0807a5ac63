//! A headless Chromium for one test: ChromeDriver on a free port (killed when dropped), a
//! WebDriver session, small helpers for forms, and screenshots saved as artifacts.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::error::NewSessionError;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use tokio::process::{Child, Command};

use crate::support::{free_port, note};

/// Browser tests share the machine's two cores: one browser at a time.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Where ChromeDriver is installed by Debian's `chromium-driver`.
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// A browser session and the ChromeDriver serving it.
pub struct Browser {
    pub client: Client,
    _driver: Child,
    _turn: tokio::sync::MutexGuard<'static, ()>,
    shots: PathBuf,
    taken: usize,
}

impl Browser {
    /// A headless Chromium, or `None` (with a note) when it is not installed and this is not
    /// CI; on CI a missing browser fails the test.
    pub async fn start(test: &str) -> Option<Browser> {
        if !Path::new(CHROMEDRIVER).exists() || !Path::new(CHROMIUM).exists() {
            let message = format!(
                "{CHROMIUM} or {CHROMEDRIVER} is missing: install Debian's chromium and \
                 chromium-driver (bash scripts/test.sh does)"
            );
            if std::env::var_os("CI").is_some() {
                panic!("{message}");
            }
            note(&format!("skipping browser test {test}: {message}"));
            return None;
        }
        let turn = ONE_AT_A_TIME.lock().await;
        let port = free_port();
        // Its own process group, so that dropping the browser also ends the Chromium
        // processes ChromeDriver started, even when a failed test never calls `close`.
        let driver = Command::new(CHROMEDRIVER)
            .process_group(0)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver starts");
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-dev-shm-usage",
                    "--disable-gpu",
                    "--window-size=1280,1000",
                ],
            }
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!("an object literal");
        };
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let client = loop {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                // Not listening yet: retry. Any other failure is real (retrying a refused
                // session would start crashing browsers).
                Err(NewSessionError::FailedC(_) | NewSessionError::Failed(_))
                    if started.elapsed() < Duration::from_secs(20) =>
                {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(err) => panic!("no WebDriver session: {err}"),
            }
        };
        let shots = screenshot_dir().join(test);
        let _ = std::fs::remove_dir_all(&shots);
        std::fs::create_dir_all(&shots).expect("a screenshot directory");
        Some(Browser {
            client,
            _driver: driver,
            _turn: turn,
            shots,
            taken: 0,
        })
    }

    /// Opens `url`.
    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigation");
    }

    /// The current URL.
    pub async fn url(&self) -> String {
        self.client.current_url().await.expect("a URL").to_string()
    }

    /// The page's HTML.
    pub async fn source(&self) -> String {
        self.client.source().await.expect("the page source")
    }

    /// Types `text` into the field `css` (after clearing it).
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.expect("clear a field");
        field.send_keys(text).await.expect("type into a field");
    }

    /// Clicks the element `css` (a button that stays on the page).
    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.expect("click");
    }

    /// Clicks the link or submit button `css` and waits until the next page has replaced
    /// this one (a click returns before a form's answer has loaded).
    pub async fn follow(&self, css: &str) {
        let old = self
            .client
            .find(Locator::Css("html"))
            .await
            .expect("a page");
        self.click(css).await;
        let started = Instant::now();
        loop {
            match old.tag_name().await {
                // The old page's element is gone: the next page replaced it. Chromium says
                // so as "stale element reference" or, mid-navigation, as an inspector error
                // ("Node with given id does not belong to the document"); a dead session
                // fails the `find` below.
                Err(_) => break,
                Ok(_) if started.elapsed() > Duration::from_secs(15) => {
                    panic!("clicking {css} loaded no new page")
                }
                Ok(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
        self.find("body").await;
    }

    /// The element `css`, waiting a little for it.
    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|err| panic!("no element {css}: {err}"))
    }

    /// Whether an element `css` is on the page now.
    pub async fn has(&self, css: &str) -> bool {
        match self.client.find(Locator::Css(css)).await {
            Ok(_) => true,
            Err(err) if err.is_no_such_element() => false,
            Err(err) => panic!("finding {css}: {err}"),
        }
    }

    /// The visible text of the element `css`.
    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.expect("element text")
    }

    /// The `value` of the input `css`.
    pub async fn value(&self, css: &str) -> String {
        self.find(css)
            .await
            .prop("value")
            .await
            .expect("a value")
            .unwrap_or_default()
    }

    /// The texts of every validation message shown for `field`.
    pub async fn field_errors(&self, field: &str) -> Vec<String> {
        let mut texts = Vec::new();
        for element in self
            .client
            .find_all(Locator::Css(&format!(
                ".field-error[data-field=\"{field}\"]"
            )))
            .await
            .expect("find messages")
        {
            texts.push(element.text().await.expect("message text"));
        }
        texts
    }

    /// Saves a screenshot of the page as `NN-name.png`.
    pub async fn shot(&mut self, name: &str) {
        self.taken += 1;
        let png = self.client.screenshot().await.expect("a screenshot");
        let path = self.shots.join(format!("{:02}-{name}.png", self.taken));
        std::fs::write(&path, png).expect("save the screenshot");
    }

    /// Ends the session (the browser exits; ChromeDriver is killed on drop).
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    /// Kills ChromeDriver's process group: ChromeDriver and every browser it started.
    fn drop(&mut self) {
        if let Some(pid) = self._driver.id() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .status();
        }
    }
}

/// `target/browser-screenshots`, next to the test binaries' profile directory.
fn screenshot_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable");
    exe.ancestors()
        .nth(3)
        .map_or_else(|| PathBuf::from("target"), Path::to_path_buf)
        .join("browser-screenshots")
}

/// A loopback HTTP server that answers every request with a small page: the redirect URI
/// of the client the test registers, so the browser lands somewhere real.
pub async fn landing_page() -> (String, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let addr = listener.local_addr().expect("an address");
    let task = tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = [0_u8; 4096];
                let _ = stream.read(&mut buffer).await;
                let body = "<!doctype html><title>Callback</title><p id=landed>Landed on the redirect URI.</p>";
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    (format!("http://{addr}/callback"), task)
}
