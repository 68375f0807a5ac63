//! `soak`: does the memory store stay bounded when it issues tokens without end?
//!
//! Client-credentials requests go to [`Provider::token`] in process (no HTTP) on a
//! [`MemoryStore`] with its default bounds, from two tasks. Tokens live 300 s (the shortest
//! lifetime a client may have) on a simulated clock that advances 1 ms per token, so about
//! 300 000 tokens are live at any time and every older one has expired: the store must
//! remove them, and the resident set size must level off instead of growing with the count.
//! A thread samples the RSS every second.

use std::error::Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use portcullis_endpoints::Provider;
use portcullis_grants::Clock;
use portcullis_registry::{
    ClientKind, ClientSecret, NewClient, Scope, ScopeCatalog, ScopeDefinition,
};
use portcullis_store::{ClientStore, MemoryStore, ScopeStore};
use time::OffsetDateTime;

use crate::rss_kib;

/// `soak` options.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// How many tokens to issue.
    #[arg(long, default_value_t = 10_000_000)]
    tokens: u64,
    /// Concurrent issuing tasks.
    #[arg(long, default_value_t = 2)]
    tasks: u64,
}

/// Simulated time: `start` plus one millisecond per request begun.
struct SimulatedClock {
    start: OffsetDateTime,
    requests: Arc<AtomicU64>,
}

impl Clock for SimulatedClock {
    fn now(&self) -> OffsetDateTime {
        let ms = self.requests.load(Ordering::Relaxed);
        self.start + time::Duration::milliseconds(i64::try_from(ms).unwrap_or(i64::MAX))
    }
}

/// Issues `tokens` tokens; prints a sample line per second and
/// `SOAK <tokens at mark> <RSS KiB>` at 1 M, 2 M, 5 M and at the end.
pub(crate) async fn run(args: Args) -> Result<(), Box<dyn Error>> {
    let requests = Arc::new(AtomicU64::new(0));
    let store = Arc::new(MemoryStore::new());
    let api = ScopeDefinition::new(Scope::new("api")?, "Call the API");
    store.insert_scope(api.clone()).await?;
    let mut catalog = ScopeCatalog::with_oidc_scopes();
    catalog.insert(api)?;
    let issued = NewClient::new("Soak", ClientKind::Machine)
        .client_id("soak")
        .scopes(["api"])
        .access_token_lifetime_secs(300)
        .build(&catalog)?;
    let secret = issued
        .secret
        .as_ref()
        .map(ClientSecret::expose_secret)
        .unwrap_or_default()
        .to_owned();
    store.insert_client(issued.client).await?;
    let provider = Provider::builder("http://127.0.0.1:1", store)
        .clock(SimulatedClock {
            start: OffsetDateTime::now_utc(),
            requests: requests.clone(),
        })
        .build()?;
    let basic = format!("Basic {}", STANDARD.encode(format!("soak:{secret}")));

    let done = Arc::new(AtomicU64::new(0));
    let sampler = {
        let done = done.clone();
        let total = args.tokens;
        std::thread::spawn(move || {
            let started = Instant::now();
            loop {
                std::thread::sleep(Duration::from_secs(1));
                let count = done.load(Ordering::Relaxed);
                println!(
                    "t={:>4}s tokens={count:>9} rss={:>7} KiB",
                    started.elapsed().as_secs(),
                    rss_kib()
                );
                if count >= total {
                    break;
                }
            }
        })
    };

    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.tasks {
        let (provider, basic, requests, done) = (
            provider.clone(),
            basic.clone(),
            requests.clone(),
            done.clone(),
        );
        let total = args.tokens;
        tasks.push(tokio::spawn(async move {
            loop {
                if requests.fetch_add(1, Ordering::Relaxed) >= total {
                    return Ok::<(), String>(());
                }
                let request = http::Request::post("/oauth/token")
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("authorization", basic.as_str())
                    .body(Bytes::from_static(
                        b"grant_type=client_credentials&scope=api",
                    ))
                    .map_err(|err| err.to_string())?;
                let response = provider.token(request).await;
                if response.status() != 200 {
                    return Err(format!(
                        "token request failed: {} {}",
                        response.status(),
                        String::from_utf8_lossy(response.body())
                    ));
                }
                let count = done.fetch_add(1, Ordering::Relaxed) + 1;
                if [1_000_000, 2_000_000, 5_000_000, total].contains(&count) {
                    println!("SOAK {count} {}", rss_kib());
                }
            }
        }));
    }
    for task in tasks {
        task.await??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let _ = sampler.join();
    println!(
        "issued {} tokens in {elapsed:.1} s ({:.0}/s)",
        args.tokens,
        args.tokens as f64 / elapsed
    );
    Ok(())
}
