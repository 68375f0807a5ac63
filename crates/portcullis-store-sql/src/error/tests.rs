#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io;
use std::time::Duration;

use portcullis_store::{RecordFamily, StoreError};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{Connection, Executor};

use super::*;

async fn memory() -> SqliteConnection {
    let mut conn = SqliteConnection::connect("sqlite::memory:").await.unwrap();
    conn.execute(
        "CREATE TABLE parent (id TEXT PRIMARY KEY); \
         CREATE TABLE child (parent TEXT NOT NULL REFERENCES parent (id)); \
         INSERT INTO parent VALUES ('secret-looking-value');",
    )
    .await
    .unwrap();
    conn
}

fn is_unavailable(err: &StoreError) -> bool {
    matches!(err, StoreError::Unavailable { .. }) && err.is_transient()
}

fn is_backend(err: &StoreError) -> bool {
    matches!(err, StoreError::Backend { .. }) && !err.is_transient()
}

#[test]
fn driver_failures_that_pass_are_unavailable() {
    let refused = || sqlx::Error::Io(io::Error::from(io::ErrorKind::ConnectionRefused));
    for (name, err) in [
        ("pool timeout", sqlx::Error::PoolTimedOut),
        ("pool closed", sqlx::Error::PoolClosed),
        ("connection refused", refused()),
        ("sqlite worker crashed", sqlx::Error::WorkerCrashed),
    ] {
        let mapped = store_error("find_token", err);
        assert!(is_unavailable(&mapped), "{name}: {mapped:?}");
        assert!(!should_retry(&mapped), "{name} is not retried in place");
    }
    let mapped = store_error("find_token", refused());
    assert_eq!(
        mapped.to_string(),
        "storage temporarily unavailable: find_token: i/o error talking to the database"
    );
    assert!(
        std::error::Error::source(&mapped).is_some(),
        "the sqlx error is the source"
    );
}

#[test]
fn other_driver_failures_are_backend_failures() {
    for (name, err) in [
        ("row not found", sqlx::Error::RowNotFound),
        ("missing column", sqlx::Error::ColumnNotFound("hash".into())),
        ("protocol", sqlx::Error::Protocol("garbage".into())),
    ] {
        let mapped = store_error("list_keys", err);
        assert!(is_backend(&mapped), "{name}: {mapped:?}");
    }
    assert_eq!(
        store_error("list_keys", sqlx::Error::ColumnNotFound("x".into())).to_string(),
        "storage backend failed: list_keys: unexpected result columns (schema out of date? run migrate())"
    );
}

#[tokio::test]
async fn a_unique_violation_is_a_conflict_where_the_contract_says_so() {
    let mut conn = memory().await;
    let err = sqlx::query("INSERT INTO parent VALUES ('secret-looking-value')")
        .execute(&mut conn)
        .await
        .unwrap_err();
    assert_eq!(classify(&err), Class::UniqueViolation);
    let mapped = conflict_or_failed("insert_scope", RecordFamily::Scope, || "read".into())(err);
    match mapped {
        StoreError::Conflict { family, key } => {
            assert_eq!(family, RecordFamily::Scope);
            assert_eq!(key, "read");
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
}

#[tokio::test]
async fn database_errors_are_described_by_code_never_by_value() {
    let mut conn = memory().await;
    let unique = sqlx::query("INSERT INTO parent VALUES ('secret-looking-value')")
        .execute(&mut conn)
        .await
        .unwrap_err();
    // Outside a contract that names a conflict, a unique violation is a backend failure.
    let mapped = store_error("update_client", unique);
    assert!(is_backend(&mapped));
    let message = mapped.to_string();
    assert!(message.starts_with("storage backend failed: update_client: database error"));
    assert!(!message.contains("secret-looking-value"), "{message}");
    assert!(!message.contains("UNIQUE"), "{message}");

    let foreign = sqlx::query("INSERT INTO child VALUES ('nobody')")
        .execute(&mut conn)
        .await
        .unwrap_err();
    assert_eq!(classify(&foreign), Class::ForeignKeyViolation);

    let syntax = sqlx::query("SELEC 1").execute(&mut conn).await.unwrap_err();
    assert_eq!(classify(&syntax), Class::Other);
    assert!(is_backend(&store_error("list_clients", syntax)));
}

#[tokio::test]
async fn a_busy_sqlite_file_is_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let options = SqliteConnectOptions::new()
        .filename(dir.path().join("busy.db"))
        .create_if_missing(true);
    let mut holder = SqliteConnection::connect_with(&options).await.unwrap();
    holder.execute("CREATE TABLE t (x INTEGER)").await.unwrap();
    holder.execute("BEGIN IMMEDIATE").await.unwrap();

    let mut waiter = SqliteConnection::connect_with(&options.busy_timeout(Duration::ZERO))
        .await
        .unwrap();
    let err = sqlx::query("INSERT INTO t VALUES (1)")
        .execute(&mut waiter)
        .await
        .unwrap_err();
    assert_eq!(classify(&err), Class::Unavailable);
    assert!(is_unavailable(&store_error("insert_tokens", err)));
    holder.execute("ROLLBACK").await.unwrap();
}

#[tokio::test]
async fn an_unreachable_server_is_a_transient_connect_error() {
    // Port 1 on the loopback interface: nothing listens there.
    let err = crate::PostgresStore::connect("postgres://postgres@127.0.0.1:1/none")
        .await
        .unwrap_err();
    assert!(matches!(err, SqlStoreError::Connect { .. }), "{err:?}");
    assert!(err.is_transient());
    assert_eq!(err.to_string(), "cannot connect to the database");
    let store_err = StoreError::from(err);
    assert!(is_unavailable(&store_err));
}

#[tokio::test]
async fn operations_on_an_unreachable_server_are_unavailable() {
    use portcullis_store::TokenStore;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(Duration::from_millis(500))
        .connect_lazy("postgres://postgres@127.0.0.1:1/none")
        .unwrap();
    let store = crate::PostgresStore::from_pool(pool);
    let now = time::OffsetDateTime::now_utc();
    let err = store
        .find_token(&portcullis_tokens::TokenHash::of("pc_at_x"), now)
        .await
        .unwrap_err();
    assert!(is_unavailable(&err), "{err:?}");
    let err = store
        .revoke_family(&portcullis_store::FamilyId::from_stored("f".into()), now)
        .await
        .unwrap_err();
    assert!(is_unavailable(&err), "{err:?}");
}

#[test]
fn setup_errors() {
    assert!(!SqlStoreError::UnsupportedUrl.is_transient());
    let invalid = SqlStoreError::InvalidSchema {
        schema: "a-b".into(),
    };
    assert!(!invalid.is_transient());
    assert!(is_backend(&StoreError::from(invalid)));
    assert!(crate::postgres::check_schema_name("t_0123abc").is_ok());
    for bad in ["", "1abc", "a-b", "a b", "\"x\"", &"x".repeat(64)] {
        assert!(crate::postgres::check_schema_name(bad).is_err(), "{bad:?}");
    }
}

#[tokio::test]
async fn urls_pick_the_backend() {
    assert!(matches!(
        crate::SqlStore::connect("mysql://localhost/db").await,
        Err(SqlStoreError::UnsupportedUrl)
    ));
    assert!(matches!(
        crate::SqlStore::connect("no scheme at all").await,
        Err(SqlStoreError::UnsupportedUrl)
    ));
    let store = crate::SqlStore::connect("sqlite::memory:").await.unwrap();
    assert_eq!(store.backend(), "sqlite");
    assert!(matches!(
        crate::SqlStore::connect("postgresql://postgres@127.0.0.1:1/none").await,
        Err(SqlStoreError::Connect { .. })
    ));
}
