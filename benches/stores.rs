//! Store micro-benchmarks: issuing (storing) one access token and looking one up by hash,
//! on every backend. PostgreSQL and Redis are the local servers (`PORTCULLIS_TEST_POSTGRES`,
//! `PORTCULLIS_TEST_REDIS`); a backend that is unreachable is left out with a note.
//!
//! `cargo bench --bench stores`; results and the machine they ran on are in BENCHMARKS.md.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use portcullis_registry::{ClientId, ScopeSet};
use portcullis_store::RoutedStore;
use portcullis_store::{
    FamilyId, MemoryLimits, MemoryStore, PendingAuthorization, Store, TokenRecord, TokenStatus,
};
use portcullis_store_redis::RedisStore;
use portcullis_store_sql::{PostgresStore, SqliteStore};
use portcullis_tokens::{TokenKind, mint};
use time::{Duration, OffsetDateTime};

fn record(now: OffsetDateTime) -> TokenRecord {
    TokenRecord {
        hash: mint(TokenKind::AccessToken).unwrap().lookup_key(),
        kind: TokenKind::AccessToken,
        client_id: ClientId::new("bench-client").unwrap(),
        subject: None,
        scopes: ScopeSet::parse("view:users").unwrap(),
        roles: Vec::new(),
        family: FamilyId::generate().unwrap(),
        issued_at: now,
        expires_at: now + Duration::hours(1),
        status: TokenStatus::Active,
        audience: Vec::new(),
        confirmation: None,
    }
}

fn pending(now: OffsetDateTime) -> PendingAuthorization {
    PendingAuthorization {
        handle: mint(TokenKind::PendingAuthorization).unwrap().lookup_key(),
        client_id: ClientId::new("bench-client").unwrap(),
        redirect_uri: "https://app.example/cb".into(),
        redirect_uri_in_request: true,
        response_type: "code".into(),
        response_mode: "query".into(),
        scopes: ScopeSet::parse("openid").unwrap(),
        state: Some("state".into()),
        nonce: None,
        code_challenge: None,
        code_challenge_method: None,
        prompt: Vec::new(),
        max_age: None,
        created_at: now,
        expires_at: now + Duration::minutes(10),
        resources: Vec::new(),
        dpop_jkt: None,
    }
}

async fn backends() -> Vec<(&'static str, Arc<dyn Store>)> {
    // Unbounded for the benchmark: criterion issues millions of tokens.
    let memory = MemoryStore::with_limits(MemoryLimits {
        tokens: usize::MAX,
        ..MemoryLimits::default()
    });
    let mut stores: Vec<(&'static str, Arc<dyn Store>)> = vec![("memory", Arc::new(memory))];
    let path = std::env::temp_dir().join(format!("portcullis-bench-{}.db", std::process::id()));
    let sqlite = SqliteStore::connect(&format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .unwrap();
    sqlite.migrate().await.unwrap();
    stores.push(("sqlite", Arc::new(sqlite)));
    let url = std::env::var("PORTCULLIS_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    match PostgresStore::connect_in_schema(&url, &format!("bench_{}", std::process::id())).await {
        Ok(pg) => {
            pg.migrate().await.unwrap();
            stores.push(("postgres", Arc::new(pg)));
        }
        Err(err) => eprintln!("postgres left out: {err}"),
    }
    // Redis holds only short-lived records: its token rows measure SQLite behind the router,
    // its pending rows measure Redis.
    let redis_url =
        std::env::var("PORTCULLIS_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    match RedisStore::connect(&redis_url).await {
        Ok(redis) => {
            let path = std::env::temp_dir()
                .join(format!("portcullis-bench-routed-{}.db", std::process::id()));
            let sqlite = SqliteStore::connect(&format!("sqlite://{}?mode=rwc", path.display()))
                .await
                .unwrap();
            sqlite.migrate().await.unwrap();
            let redis = redis.with_prefix(format!("portcullis-bench:{}:", std::process::id()));
            stores.push(("sqlite+redis", Arc::new(RoutedStore::new(sqlite, redis))));
        }
        Err(err) => eprintln!("redis left out: {err}"),
    }
    stores
}

fn stores(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let backends = runtime.block_on(backends());
    let now = OffsetDateTime::now_utc();
    let mut group = c.benchmark_group("store");
    for (name, store) in &backends {
        group.bench_function(format!("{name}/issue_token"), |b| {
            b.to_async(&runtime).iter(|| {
                let store = store.clone();
                async move { store.insert_tokens(vec![record(now)]).await.unwrap() }
            });
        });
        let known = record(now);
        let hash = known.hash;
        runtime.block_on(store.insert_tokens(vec![known])).unwrap();
        group.bench_function(format!("{name}/lookup_token"), |b| {
            b.to_async(&runtime).iter(|| {
                let store = store.clone();
                async move { store.find_token(&hash, now).await.unwrap().expect("stored") }
            });
        });
    }
    for (name, store) in &backends {
        // The short-lived path an authorization takes: store a pending request, then take it.
        group.bench_function(format!("{name}/pending_insert_take"), |b| {
            b.to_async(&runtime).iter(|| {
                let store = store.clone();
                async move {
                    let record = pending(now);
                    let handle = record.handle;
                    store.insert_pending(record).await.unwrap();
                    store
                        .take_pending(&handle, now)
                        .await
                        .unwrap()
                        .expect("taken")
                }
            });
        });
    }
    group.finish();
}

criterion_group!(benches, stores);
criterion_main!(benches);
