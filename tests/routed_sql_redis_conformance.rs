//! The whole store conformance kit on the combination a multi-instance deployment uses:
//! SQLite (clients, scopes, codes, tokens, keys) with Redis (pending authorizations and
//! sessions) behind `RoutedStore`. Redis is `PORTCULLIS_TEST_REDIS`; unreachable fails in
//! CI and skips with a note elsewhere.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use portcullis_store::RoutedStore;
use portcullis_store_redis::RedisStore;
use portcullis_store_sql::SqliteStore;

async fn store() -> Option<RoutedStore<SqliteStore, RedisStore>> {
    let url =
        std::env::var("PORTCULLIS_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let redis = match RedisStore::connect(&url).await {
        Ok(redis) => redis.with_prefix(format!("portcullis-root-test:{}:", std::process::id())),
        Err(err) if std::env::var_os("CI").is_none() => {
            eprintln!("skipped: Redis unreachable at {url}: {err}");
            return None;
        }
        Err(err) => panic!("Redis unreachable at {url} in CI: {err}"),
    };
    let name = portcullis_tokens::random_identifier().unwrap();
    let path = std::env::temp_dir().join(format!("portcullis-routed-{name}.db"));
    let sqlite = SqliteStore::connect(&format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .unwrap();
    sqlite.migrate().await.unwrap();
    Some(RoutedStore::new(sqlite, redis))
}

portcullis_store::conformance_tests!(optional store);
