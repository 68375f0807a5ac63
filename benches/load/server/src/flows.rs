//! `flows`: the authorization-code flow, end to end over HTTP, as fast as it goes.
//!
//! Each flow is what a browser and a web app do together: `GET /oauth/authorize` (303 to
//! the login page), `GET` the login page (CSRF cookie), `POST` the credentials (303 to the
//! consent page, session cookie), `GET` the consent page, `POST` "allow" (303 to the
//! redirect URI with the code), then the client's `POST /oauth/token` with
//! `client_secret_basic`. Six requests; each flow starts with no cookies (a new browser).

use std::collections::BTreeMap;
use std::error::Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Client, RequestBuilder, Response, StatusCode};

use crate::serve::{REDIRECT_URI, USER, WEB_CLIENT};

/// `flows` options.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The provider's base URL.
    #[arg(long, default_value = "http://127.0.0.1:38471")]
    target: String,
    /// The web client's secret (`serve` prints it).
    #[arg(long)]
    web_secret: String,
    /// Flows in flight at once.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// How long to run, in seconds.
    #[arg(long, default_value_t = 10)]
    duration: u64,
}

/// A browser's cookies, as little of one as the flow needs.
#[derive(Default)]
struct Jar(BTreeMap<String, String>);

impl Jar {
    fn keep(&mut self, response: &Response) {
        for value in response.headers().get_all(SET_COOKIE) {
            let Ok(value) = value.to_str() else { continue };
            let pair = value.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                self.0
                    .insert(name.trim().to_owned(), value.trim().to_owned());
            }
        }
    }

    fn send(&self, request: RequestBuilder) -> RequestBuilder {
        if self.0.is_empty() {
            return request;
        }
        let header = self
            .0
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ");
        request.header(COOKIE, header)
    }
}

/// The value of the hidden input `name` in a page.
fn hidden(page: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker)? + marker.len();
    let rest = page.get(start..)?;
    Some(rest.get(..rest.find('"')?)?.to_owned())
}

fn location(response: &Response) -> Result<String, Box<dyn Error + Send + Sync>> {
    if response.status() != StatusCode::SEE_OTHER && response.status() != StatusCode::FOUND {
        return Err(format!("expected a redirect, got {}", response.status()).into());
    }
    Ok(response
        .headers()
        .get(LOCATION)
        .and_then(|value| value.to_str().ok())
        .ok_or("redirect without Location")?
        .to_owned())
}

fn form(pairs: &[(&str, &str)]) -> String {
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        serializer.append_pair(name, value);
    }
    serializer.finish()
}

/// One flow, from a cookie-less browser to an access token.
async fn flow(
    http: &Client,
    base: &str,
    basic: &str,
    n: u64,
) -> Result<(), Box<dyn Error + Send + Sync>> {
    let mut jar = Jar::default();
    let state = format!("s{n}");
    let authorize = format!(
        "{base}/oauth/authorize?{}",
        form(&[
            ("response_type", "code"),
            ("client_id", WEB_CLIENT),
            ("redirect_uri", REDIRECT_URI),
            ("scope", "openid api"),
            ("state", &state),
            ("nonce", &state),
        ])
    );
    let response = http.get(&authorize).send().await?;
    jar.keep(&response);
    let login = format!("{base}{}", location(&response)?);

    let response = jar.send(http.get(&login)).send().await?;
    jar.keep(&response);
    let page = response.text().await?;
    let interaction = hidden(&page, "interaction").ok_or("no interaction on the login page")?;
    let csrf = hidden(&page, "csrf").ok_or("no csrf on the login page")?;
    let body = form(&[
        ("interaction", &interaction),
        ("csrf", &csrf),
        ("username", USER.0),
        ("password", USER.1),
    ]);
    let response = jar
        .send(http.post(&login))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await?;
    jar.keep(&response);
    let consent = format!("{base}{}", location(&response)?);

    let response = jar.send(http.get(&consent)).send().await?;
    jar.keep(&response);
    let page = response.text().await?;
    let interaction = hidden(&page, "interaction").ok_or("no interaction on the consent page")?;
    let csrf = hidden(&page, "csrf").ok_or("no csrf on the consent page")?;
    let body = form(&[
        ("interaction", &interaction),
        ("csrf", &csrf),
        ("decision", "allow"),
    ]);
    let response = jar
        .send(http.post(&consent))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await?;
    let callback = url::Url::parse(&location(&response)?)?;
    let code = callback
        .query_pairs()
        .find(|(name, _)| name == "code")
        .map(|(_, value)| value.into_owned())
        .ok_or("no code in the redirect")?;

    let body = form(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", REDIRECT_URI),
    ]);
    let response = http
        .post(format!("{base}/oauth/token"))
        .header(AUTHORIZATION, basic)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await?;
    if response.status() != StatusCode::OK {
        return Err(format!("token endpoint answered {}", response.status()).into());
    }
    let tokens: serde_json::Value = response.json().await?;
    if tokens.get("id_token").is_none() || tokens.get("access_token").is_none() {
        return Err("token response without access_token or id_token".into());
    }
    Ok(())
}

/// Runs `connections` flow loops for `duration` seconds; prints
/// `RESULT <flows/s> <p50 ms> <p99 ms> <failed flows> 0`.
pub(crate) async fn run(args: Args) -> Result<(), Box<dyn Error>> {
    let http = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(args.connections)
        .build()?;
    let basic = format!(
        "Basic {}",
        STANDARD.encode(format!("{WEB_CLIENT}:{}", args.web_secret))
    );
    let base = args.target.trim_end_matches('/').to_owned();
    // One flow first: a setup mistake fails loudly instead of as a zero rate.
    flow(&http, &base, &basic, 0)
        .await
        .map_err(|err| format!("the first flow failed: {err}"))?;

    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..args.connections {
        let (http, base, basic, stop) = (http.clone(), base.clone(), basic.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failed = 0u64;
            let mut n = (worker as u64) << 32;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let start = Instant::now();
                match flow(&http, &base, &basic, n).await {
                    Ok(()) => latencies.push(start.elapsed()),
                    Err(err) => {
                        if failed == 0 {
                            eprintln!("flow failed: {err}");
                        }
                        failed += 1;
                    }
                }
            }
            (latencies, failed)
        }));
    }
    tokio::time::sleep(Duration::from_secs(args.duration)).await;
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    let mut failed = 0;
    for task in tasks {
        let (mut mine, my_failed) = task.await?;
        latencies.append(&mut mine);
        failed += my_failed;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let percentile = |p: f64| {
        let index = ((latencies.len() as f64 * p).ceil() as usize).saturating_sub(1);
        latencies
            .get(index)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "RESULT {:.1} {:.3} {:.3} {failed} 0",
        latencies.len() as f64 / elapsed,
        percentile(0.50),
        percentile(0.99)
    );
    Ok(())
}
