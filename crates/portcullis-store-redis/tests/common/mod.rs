//! What the Redis tests share: the server's URL (or why there is none), a key prefix of
//! their own, and deleting its keys when they end.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::OnceLock;

use portcullis_store_redis::RedisStore;
use portcullis_tokens::random_identifier;

/// Where the tests find Redis unless `PORTCULLIS_TEST_REDIS` says otherwise.
const DEFAULT_URL: &str = "redis://127.0.0.1:6379";

/// Runs `future` to completion on a runtime of its own, on a thread of its own, so it can
/// be called from inside another runtime (a `#[tokio::test]`) and from `Drop`.
fn on_own_thread<T: Send + 'static>(
    future: impl std::future::Future<Output = T> + Send + 'static,
) -> T {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(future)
    })
    .join()
    .expect("the helper thread")
}

/// `url` with any password hidden, for messages.
fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| !matches!(value.as_str(), "" | "0" | "false"))
}

/// The Redis URL when the server answers. Otherwise the test fails when `CI` is set, and
/// on a developer machine it prints why it is skipped and gets `None`.
pub(crate) fn redis_url_or_skip() -> Option<String> {
    static REACHABLE: OnceLock<Result<String, String>> = OnceLock::new();
    let outcome = REACHABLE.get_or_init(|| {
        let url = std::env::var("PORTCULLIS_TEST_REDIS").unwrap_or_else(|_| DEFAULT_URL.into());
        let probe = url.clone();
        on_own_thread(async move { RedisStore::connect(&probe).await.map(drop) })
            .map(|()| url.clone())
            .map_err(|error| format!("{} ({error})", redacted(&url)))
    });
    match outcome {
        Ok(url) => Some(url.clone()),
        Err(reason) if in_ci() => panic!(
            "Redis unreachable at {reason}: CI is set, so the Redis tests fail rather than \
             skip; start Redis or point PORTCULLIS_TEST_REDIS at one"
        ),
        Err(reason) => {
            println!("skipped: Redis unreachable at {reason}");
            None
        }
    }
}

/// A key prefix no other test uses.
pub(crate) fn unique_prefix() -> String {
    format!("portcullis-test:{}:", random_identifier().expect("entropy"))
}

/// A store on `url` under `prefix`.
pub(crate) async fn connect(url: &str, prefix: &str) -> RedisStore {
    RedisStore::connect(url)
        .await
        .expect("Redis answered a moment ago")
        .with_prefix(prefix)
}

/// Deletes every key under its prefix when dropped, also when the test panics.
pub(crate) struct Cleanup {
    pub(crate) url: String,
    pub(crate) prefix: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let (url, prefix) = (self.url.clone(), self.prefix.clone());
        let cleared = on_own_thread(async move {
            RedisStore::connect(&url)
                .await
                .ok()?
                .with_prefix(prefix)
                .clear()
                .await
                .ok()
        });
        if cleared.is_none() {
            eprintln!("could not delete the test keys under {}", self.prefix);
        }
    }
}

/// The URL, a fresh prefix and its cleanup, or `None` when the test is skipped.
pub(crate) fn setup() -> Option<(String, String, Cleanup)> {
    let url = redis_url_or_skip()?;
    let prefix = unique_prefix();
    let cleanup = Cleanup {
        url: url.clone(),
        prefix: prefix.clone(),
    };
    Some((url, prefix, cleanup))
}
