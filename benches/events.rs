//! What emitting events costs a token response (issue 12): `client_credentials` token
//! requests through `Provider::token` on the memory store, with no events, with an
//! `EventQueue` feeding a fast `Collector`-like handler, and with an `EventQueue` whose
//! handler is stalled forever (the queue stays full, so every event is dropped and
//! counted). The last must cost no more than the second: a stalled receiver never slows
//! the token endpoint.
//!
//! `cargo bench --bench events`; results and the machine they ran on are in BENCHMARKS.md.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use portcullis_endpoints::Provider;
use portcullis_events::{Envelope, EventHandler, EventQueue, EventSink, NoEvents};
use portcullis_registry::{ClientKind, NewClient, Scope, ScopeCatalog, ScopeDefinition};
use portcullis_store::{ClientStore, MemoryLimits, MemoryStore, ScopeStore};

/// The queue's room, as a deployment might configure it.
const CAPACITY: usize = 1024;

/// A fast receiver: counts events (a `Collector` would keep every one in memory for the
/// whole run, which measures the allocator rather than the queue).
#[derive(Clone, Default)]
struct Counter(Arc<AtomicU64>);

#[async_trait]
impl EventHandler for Counter {
    async fn handle(&self, _envelope: Envelope) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// A receiver that never finishes its first event: the queue fills and stays full.
struct Stalled;

#[async_trait]
impl EventHandler for Stalled {
    async fn handle(&self, _envelope: Envelope) {
        std::future::pending::<()>().await;
    }
}

/// A provider on a fresh memory store with one machine client; its `Authorization` header.
async fn provider(sink: Arc<dyn EventSink>) -> (Provider, String) {
    let store = Arc::new(MemoryStore::with_limits(MemoryLimits {
        tokens: 50_000_000,
        ..MemoryLimits::default()
    }));
    let scope = ScopeDefinition::new(Scope::new("view:users").unwrap(), "read users");
    store.insert_scope(scope.clone()).await.unwrap();
    let mut catalog = ScopeCatalog::with_oidc_scopes();
    catalog.insert(scope).unwrap();
    let issued = NewClient::new("bench machine", ClientKind::Machine)
        .scopes(["view:users"])
        .build(&catalog)
        .unwrap();
    store.insert_client(issued.client.clone()).await.unwrap();
    let secret = issued.secret.unwrap();
    let basic = format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", issued.client.id, secret.expose_secret()))
    );
    let provider = Provider::builder("https://id.example", store)
        .events(sink)
        .build()
        .unwrap();
    (provider, basic)
}

fn token_request(basic: &str) -> http::Request<Bytes> {
    http::Request::post("/oauth/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("authorization", basic)
        .body(Bytes::from_static(b"grant_type=client_credentials"))
        .unwrap()
}

fn events(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let fast = Counter::default();
    let (fast_queue, stalled_queue) = runtime.block_on(async {
        (
            EventQueue::spawn(fast.clone(), CAPACITY),
            EventQueue::spawn(Stalled, CAPACITY),
        )
    });
    let setups: [(&str, Arc<dyn EventSink>); 3] = [
        ("no_events", Arc::new(NoEvents)),
        ("queue_fast_handler", Arc::new(fast_queue.clone())),
        ("queue_stalled_handler", Arc::new(stalled_queue.clone())),
    ];
    let mut group = c.benchmark_group("events/client_credentials_token");
    for (name, sink) in setups {
        let (provider, basic) = runtime.block_on(provider(sink));
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter(|| {
                let provider = provider.clone();
                let request = token_request(&basic);
                async move {
                    let response = provider.token(request).await;
                    assert_eq!(response.status(), 200);
                    response
                }
            });
        });
    }
    group.finish();
    runtime.block_on(fast_queue.flush());
    eprintln!(
        "fast handler: {} events handled, {} dropped; stalled handler: {} dropped, {} waiting",
        fast.0.load(Ordering::Relaxed),
        fast_queue.dropped(),
        stalled_queue.dropped(),
        stalled_queue.pending(),
    );
}

criterion_group!(benches, events);
criterion_main!(benches);
