//! Fresh stores for tests: a SQLite file per test, a PostgreSQL schema per test, both
//! removed when the test's thread ends.

// Each test binary uses part of this module.
#![allow(dead_code, clippy::expect_used, clippy::panic)]

use std::cell::RefCell;
use std::io::Write as _;

use portcullis_store_sql::{PostgresStore, SqlStoreError, SqliteStore};
use portcullis_tokens::{TokenHash, random_identifier};

/// The default test database; `.ci/run` sets `PORTCULLIS_TEST_POSTGRES`.
const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Something to remove once the test is over.
enum Cleanup {
    Dir(#[allow(dead_code)] tempfile::TempDir),
    Schema { url: String, schema: String },
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Cleanup::Schema { url, schema } = self {
            drop_schema(url, schema);
        }
    }
}

thread_local! {
    // The conformance kit builds each store on the test's own thread, and the thread ends
    // with the test: its locals are dropped then, after the store and its runtime.
    static CLEANUP: RefCell<Vec<Cleanup>> = const { RefCell::new(Vec::new()) };
}

fn clean_up_later(cleanup: Cleanup) {
    CLEANUP.with(|list| list.borrow_mut().push(cleanup));
}

/// A short random lowercase hex name.
pub(crate) fn random_name() -> String {
    TokenHash::of(&random_identifier().expect("entropy"))
        .to_string()
        .chars()
        .take(16)
        .collect()
}

/// A migrated SQLite store in a file of its own (WAL mode needs a file, and the
/// concurrency cases need a real one).
pub(crate) async fn sqlite_store() -> SqliteStore {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("portcullis.db").display()
    );
    let store = SqliteStore::connect(&url)
        .await
        .expect("open the SQLite file");
    store.migrate().await.expect("migrate SQLite");
    clean_up_later(Cleanup::Dir(dir));
    store
}

/// The PostgreSQL URL of the tests.
pub(crate) fn postgres_url() -> String {
    std::env::var("PORTCULLIS_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_POSTGRES.into())
}

/// The URL without its password, for messages.
pub(crate) fn redacted(url: &str) -> String {
    match (url.split_once("://"), url.rfind('@')) {
        (Some((scheme, rest)), Some(_)) => match rest.split_once('@') {
            Some((user_info, host)) => {
                let user = user_info.split(':').next().unwrap_or_default();
                format!("{scheme}://{user}@{host}")
            }
            None => url.to_owned(),
        },
        _ => url.to_owned(),
    }
}

/// What to do when PostgreSQL cannot be reached: in CI (env `CI` set) the test fails; on a
/// developer machine it prints why and the case is skipped.
pub(crate) fn postgres_unreachable(url: &str, err: &SqlStoreError) {
    let url = redacted(url);
    if std::env::var_os("CI").is_some() {
        panic!(
            "PostgreSQL unreachable at {url} ({err}: {:?}); CI is set, so the store tests \
             fail instead of skipping. Start PostgreSQL or point PORTCULLIS_TEST_POSTGRES at one.",
            std::error::Error::source(err)
        );
    }
    // Written to the real stderr: the test harness captures `eprintln!` and would drop it.
    let _ = writeln!(
        std::io::stderr(),
        "skipped: PostgreSQL unreachable at {url} ({err}); set PORTCULLIS_TEST_POSTGRES to run these tests"
    );
}

/// A migrated PostgreSQL store in a fresh schema `t_<random>`, dropped after the test.
async fn connect_postgres(url: &str) -> Result<PostgresStore, SqlStoreError> {
    let schema = format!("t_{}", random_name());
    let store = PostgresStore::connect_in_schema(url, &schema).await?;
    clean_up_later(Cleanup::Schema {
        url: url.to_owned(),
        schema,
    });
    store.migrate().await.expect("migrate PostgreSQL");
    Ok(store)
}

/// A migrated PostgreSQL store in a fresh schema, for the conformance kit; `None` (skip)
/// when the server is unreachable off CI, see [`postgres_unreachable`].
pub(crate) async fn postgres_store() -> Option<PostgresStore> {
    let url = postgres_url();
    match connect_postgres(&url).await {
        Ok(store) => Some(store),
        Err(err) if err.is_transient() => {
            postgres_unreachable(&url, &err);
            None
        }
        Err(err) => panic!("cannot use PostgreSQL at {}: {err:?}", redacted(&url)),
    }
}

/// Drops a test schema, best effort (a leftover schema is harmless).
fn drop_schema(url: &str, schema: &str) {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    runtime.block_on(async {
        use sqlx::Connection as _;
        let Ok(mut conn) = sqlx::PgConnection::connect(url).await else {
            return;
        };
        let statement = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
        let _ = sqlx::query(sqlx::AssertSqlSafe(statement))
            .execute(&mut conn)
            .await;
        let _ = conn.close().await;
    });
}
