//! Migrations: explicit, idempotent, recorded in their own table, and they create every
//! table and index the store relies on, including the one-active-key guarantee.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeSet;

use portcullis_registry::{ClientKind, NewClient, ScopeCatalog};
use portcullis_store::{ClientStore, Store};
use portcullis_store_sql::{SqlStoreError, SqliteStore};

const TABLES: [&str; 11] = [
    "audit_events",
    "authorization_codes",
    "clients",
    "device_authorizations",
    "pending_authorizations",
    "scopes",
    "session_clients",
    "sessions",
    "signing_keys",
    "tokens",
    "used_assertions",
];

const INDEXES: [&str; 17] = [
    "audit_events_at",
    "audit_events_client",
    "audit_events_subject",
    "audit_events_type",
    "authorization_codes_expires_at",
    "device_authorizations_expires_at",
    "device_authorizations_user_code",
    "pending_authorizations_expires_at",
    "sessions_expires_at",
    "sessions_subject",
    "signing_keys_listing",
    "signing_keys_one_active",
    "tokens_client",
    "tokens_expires_at",
    "tokens_family",
    "used_assertions_expires_at",
    // Primary keys (token hash, code hash, pending handle, session id, kid, client id,
    // scope name) are indexes too; their names differ per backend.
    "tokens_pkey_or_autoindex",
];

/// How many migrations each backend has (`migrations/sqlite`, `migrations/postgres`).
const MIGRATIONS: i64 = 4;

fn expected_indexes() -> BTreeSet<String> {
    INDEXES
        .iter()
        .filter(|name| !name.ends_with("_or_autoindex"))
        .map(|name| (*name).to_owned())
        .collect()
}

async fn insert_a_client<S: Store>(store: &S) -> portcullis_registry::Client {
    let client = NewClient::new("Survivor", ClientKind::Machine)
        .build(&ScopeCatalog::with_oidc_scopes())
        .unwrap()
        .client;
    store.insert_client(client.clone()).await.unwrap();
    client
}

/// The names of the schema objects of one type, SQLite's own (`sqlite_autoindex_…`) left out.
async fn sqlite_names(store: &SqliteStore, kind: &str) -> BTreeSet<String> {
    sqlx::query_scalar::<_, String>(
        "SELECT name FROM sqlite_master WHERE type = $1 AND name NOT LIKE 'sqlite_%'",
    )
    .bind(kind)
    .fetch_all(store.pool())
    .await
    .unwrap()
    .into_iter()
    .collect()
}

#[tokio::test]
async fn sqlite_migrate_creates_the_schema_and_is_idempotent() {
    let store = support::sqlite_store().await; // migrated once already
    let client = insert_a_client(&store).await;
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    assert_eq!(
        store.get_client(&client.id).await.unwrap(),
        Some(client),
        "migrating again keeps the data"
    );

    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _portcullis_migrations")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(applied, MIGRATIONS, "each migration is recorded once");
    let tables = sqlite_names(&store, "table").await;
    for table in TABLES {
        assert!(tables.contains(table), "missing table {table}");
    }
    assert!(
        !tables.contains("_sqlx_migrations"),
        "the application's own sqlx migrations table is left alone"
    );
    assert_eq!(sqlite_names(&store, "index").await, expected_indexes());
}

#[tokio::test]
async fn sqlite_store_without_migrations_reports_a_backend_error() {
    let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
    let err = store
        .get_client(&portcullis_registry::ClientId::new("x").unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(err, portcullis_store::StoreError::Backend { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn sqlite_refuses_a_second_active_key_at_the_database_level() {
    let store = support::sqlite_store().await;
    let insert = "INSERT INTO signing_keys (kid, algorithm, private_pkcs8, created_at, activated_at) \
                  VALUES ($1, 'ES256', x'00', 0, 1)";
    sqlx::query(insert)
        .bind("a")
        .execute(store.pool())
        .await
        .unwrap();
    let err = sqlx::query(insert)
        .bind("b")
        .execute(store.pool())
        .await
        .unwrap_err();
    assert!(
        err.as_database_error()
            .is_some_and(|db| db.is_unique_violation()),
        "{err:?}"
    );
}

#[tokio::test]
async fn sqlite_opens_files_in_wal_mode_with_foreign_keys_a_busy_timeout_and_full_sync() {
    let store = support::sqlite_store().await;
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let foreign_keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(foreign_keys, 1);
    let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert!(busy >= 5_000, "busy timeout {busy} ms");
    let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(synchronous, 2, "FULL: a commit survives a power cut");
}

#[tokio::test]
async fn sqlite_connect_errors() {
    assert!(matches!(
        SqliteStore::connect("sqlite://portcullis.db?mode=bogus").await,
        Err(SqlStoreError::InvalidUrl { .. })
    ));
    let dir = tempfile::tempdir().unwrap();
    let missing = format!("sqlite://{}", dir.path().join("absent.db").display());
    let err = SqliteStore::connect(&missing).await.unwrap_err();
    assert!(matches!(err, SqlStoreError::Connect { .. }), "{err:?}");
    assert!(
        !err.is_transient(),
        "a missing file without mode=rwc is not transient"
    );
}

#[tokio::test]
async fn postgres_migrate_creates_the_schema_and_is_idempotent() {
    let Some(store) = support::postgres_store().await else {
        return;
    };
    let client = insert_a_client(&store).await;
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    assert_eq!(store.get_client(&client.id).await.unwrap(), Some(client));

    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _portcullis_migrations")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(applied, MIGRATIONS);
    let tables: BTreeSet<String> = sqlx::query_scalar(
        "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema()",
    )
    .fetch_all(store.pool())
    .await
    .unwrap()
    .into_iter()
    .collect();
    for table in TABLES {
        assert!(tables.contains(table), "missing table {table}");
    }
    assert!(!tables.contains("_sqlx_migrations"));
    let indexes: BTreeSet<String> = sqlx::query_scalar(
        "SELECT indexname::text FROM pg_indexes \
         WHERE schemaname = current_schema() AND indexname NOT LIKE '%_pkey'",
    )
    .fetch_all(store.pool())
    .await
    .unwrap()
    .into_iter()
    .collect();
    assert_eq!(indexes, expected_indexes());

    let insert = "INSERT INTO signing_keys (kid, algorithm, private_pkcs8, created_at, activated_at) \
                  VALUES ($1, 'ES256', '\\x00', 0, 1)";
    sqlx::query(insert)
        .bind("a")
        .execute(store.pool())
        .await
        .unwrap();
    let err = sqlx::query(insert)
        .bind("b")
        .execute(store.pool())
        .await
        .unwrap_err();
    assert!(
        err.as_database_error()
            .is_some_and(|db| db.is_unique_violation()),
        "{err:?}"
    );
}

#[tokio::test]
async fn postgres_schema_names_are_checked() {
    let err = portcullis_store_sql::PostgresStore::connect_in_schema(
        &support::postgres_url(),
        "x; DROP TABLE tokens",
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, SqlStoreError::InvalidSchema { .. }),
        "{err:?}"
    );
}
