//! The PostgreSQL store: shared by every provider instance behind a load balancer.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection, Postgres};

use crate::SqlStoreError;
use crate::error::{Class, classify};
use crate::write::{WriteTx, Writer};

/// How many connections a [`PostgresStore`] opened with [`PostgresStore::connect`] keeps at
/// most (per provider instance: mind the server's `max_connections`).
///
/// ```
/// assert_eq!(portcullis_store_sql::POSTGRES_POOL_SIZE, 10);
/// ```
pub const POSTGRES_POOL_SIZE: u32 = 10;

/// How long an operation waits for a free pooled connection (or a new one) before it fails
/// with [`StoreError::Unavailable`](portcullis_store::StoreError::Unavailable).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// A store in a PostgreSQL database, for several provider instances sharing clients,
/// tokens and sessions.
///
/// Transactions run at `READ COMMITTED`; single-use operations are conditional
/// `UPDATE … RETURNING` / `DELETE … RETURNING` statements that only one caller can win,
/// reads that precede a write lock their row (`FOR UPDATE`), and key activations lock the
/// key table against each other. A transaction PostgreSQL aborts to break a deadlock is run
/// again (a few times at most).
///
/// Cloning is cheap and shares the pool. The schema is created by
/// [`migrate`](PostgresStore::migrate), which the application calls once at start.
///
/// ```no_run
/// use portcullis_store::{ClientStore, Page};
/// use portcullis_store_sql::PostgresStore;
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let store = PostgresStore::connect("postgres://portcullis@db.internal/portcullis").await?;
/// store.migrate().await?;
/// let clients = store.list_clients(Page::first(50)).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pub(crate) pool: PgPool,
    /// Clients and scopes read recently (off unless `with_read_cache_ttl` turned it on).
    pub(crate) cache: Arc<crate::cache::ReadCache>,
    /// Token insertions waiting to be committed together.
    group: Arc<crate::group::GroupCommit>,
}

/// How many grouped token insertions may commit at once.
const GROUP_COMMIT_LEADERS: usize = 4;

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:5432/db`), with a
    /// pool of [`POSTGRES_POOL_SIZE`] connections. The tables live in the connection's
    /// default schema (normally `public`).
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), portcullis_store_sql::SqlStoreError> {
    /// let store = portcullis_store_sql::PostgresStore::connect("postgres://postgres@127.0.0.1/portcullis").await?;
    /// store.migrate().await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`SqlStoreError::InvalidUrl`], or [`SqlStoreError::Connect`] when the server cannot
    /// be reached or refuses the login ([transient](SqlStoreError::is_transient) when it is
    /// unreachable). A refused connection fails at once; an unanswered one after 10 seconds.
    pub async fn connect(url: &str) -> Result<PostgresStore, SqlStoreError> {
        let options = parse(url)?;
        let probe = first_connection(&options).await?;
        // Best effort: the server ends the session anyway when the socket closes.
        let _ = probe.close().await;
        PostgresStore::pool_with(options).await
    }

    /// Like [`connect`](PostgresStore::connect), but every table lives in `schema`: it is
    /// created if missing, and every pooled connection has `search_path` set to it. Lets
    /// several stores share one database, e.g. one schema per test.
    ///
    /// `schema` is 1 to 63 ASCII letters, digits and underscores, not starting with a digit;
    /// it is used as a quoted identifier, so case matters.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), portcullis_store_sql::SqlStoreError> {
    /// let url = "postgres://postgres@127.0.0.1:5432/test";
    /// let store = portcullis_store_sql::PostgresStore::connect_in_schema(url, "t_1234").await?;
    /// store.migrate().await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`SqlStoreError::InvalidSchema`] for a name outside the rule above,
    /// [`SqlStoreError::CreateSchema`] when the schema cannot be created, and the errors of
    /// [`connect`](PostgresStore::connect).
    pub async fn connect_in_schema(
        url: &str,
        schema: &str,
    ) -> Result<PostgresStore, SqlStoreError> {
        check_schema_name(schema)?;
        let options = parse(url)?;
        let quoted = format!("\"{schema}\"");
        let mut conn = first_connection(&options).await?;
        let created = sqlx::query(AssertSqlSafe(format!(
            "CREATE SCHEMA IF NOT EXISTS {quoted}"
        )))
        .execute(&mut conn)
        .await;
        match created {
            Ok(_) => {}
            // Another process created it at the same moment.
            Err(err) if classify(&err) == Class::UniqueViolation => {}
            Err(source) => return Err(SqlStoreError::CreateSchema { source }),
        }
        let _ = conn.close().await;
        PostgresStore::pool_with(options.options([("search_path", quoted)])).await
    }

    async fn pool_with(options: PgConnectOptions) -> Result<PostgresStore, SqlStoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(POSTGRES_POOL_SIZE)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(|source| SqlStoreError::Connect { source })?;
        Ok(PostgresStore::from_pool(pool))
    }

    /// A store over a pool the application configured itself.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let pool = sqlx::postgres::PgPoolOptions::new()
    ///     .max_connections(32)
    ///     .connect("postgres://postgres@127.0.0.1/portcullis")
    ///     .await?;
    /// let store = portcullis_store_sql::PostgresStore::from_pool(pool);
    /// # Ok(()) }
    /// ```
    pub fn from_pool(pool: PgPool) -> PostgresStore {
        PostgresStore {
            pool,
            cache: Arc::default(),
            group: Arc::new(crate::group::GroupCommit::new(GROUP_COMMIT_LEADERS)),
        }
    }

    /// Creates or updates the schema; a database that is up to date is left alone, so every
    /// instance may call it on start (concurrent calls take turns on an advisory lock).
    /// Migrations are embedded in the binary and recorded in the table
    /// `_portcullis_migrations`.
    ///
    /// ```no_run
    /// # async fn demo(store: portcullis_store_sql::PostgresStore) -> Result<(), portcullis_store_sql::SqlStoreError> {
    /// store.migrate().await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`SqlStoreError::Migrate`] when a migration fails (it is rolled back) or when the
    /// database holds migrations this version does not know.
    pub async fn migrate(&self) -> Result<(), SqlStoreError> {
        let mut migrator = sqlx::migrate!("./migrations/postgres");
        migrator.dangerous_set_table_name(crate::sql::MIGRATIONS_TABLE);
        migrator
            .run(&self.pool)
            .await
            .map_err(|source| SqlStoreError::Migrate { source })
    }

    /// The connection pool, for the application's own queries or for closing it.
    ///
    /// ```no_run
    /// # async fn demo(store: portcullis_store_sql::PostgresStore) -> Result<(), sqlx::Error> {
    /// let one: i32 = sqlx::query_scalar("SELECT 1").fetch_one(store.pool()).await?;
    /// # Ok(()) }
    /// ```
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub(crate) async fn write(&self) -> Result<Writer<Postgres>, sqlx::Error> {
        Ok(Writer::new(self.pool.acquire().await?, None))
    }

    pub(crate) async fn begin_write(&self) -> Result<WriteTx<Postgres>, sqlx::Error> {
        Ok(WriteTx::new(self.pool.begin().await?, None))
    }

    /// Serves clients and the scope list from memory for `ttl` (off by default;
    /// [`CACHE_TTL`](crate::CACHE_TTL) is the suggested value, `Duration::ZERO` turns it off
    /// again). Writes through this store are seen at once whatever the value; `ttl` bounds how
    /// long a change made by another process sharing the database (say, a client revoked on
    /// another instance) can go unseen here, so turn it on only when this store is the
    /// database's only writer.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), portcullis_store_sql::SqlStoreError> {
    /// let store = portcullis_store_sql::PostgresStore::connect("postgres://postgres@127.0.0.1/portcullis")
    ///     .await?
    ///     .with_read_cache_ttl(std::time::Duration::ZERO);
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn with_read_cache_ttl(mut self, ttl: std::time::Duration) -> Self {
        self.cache = Arc::new(crate::cache::ReadCache::with_ttl(ttl));
        self
    }

    /// Token insertions are committed in groups, one multi-row statement each: a round
    /// trip and a WAL flush for many tokens instead of one each.
    pub(crate) fn group_commit(&self) -> Option<&crate::group::GroupCommit> {
        Some(&self.group)
    }

    /// Makes concurrent activations take turns, so each sees the key the previous one
    /// activated (at `READ COMMITTED` a row-level lock would not).
    pub(crate) async fn lock_signing_keys(tx: &mut WriteTx<Postgres>) -> Result<(), sqlx::Error> {
        sqlx::query(crate::sql::postgres::KEYS_LOCK)
            .execute(tx.conn())
            .await
            .map(|_| ())
    }
}

/// One connection, made before the pool: it fails at once when the server refuses (a pool
/// would keep retrying until its timeout), and it is bounded by the pool's timeout.
async fn first_connection(options: &PgConnectOptions) -> Result<PgConnection, SqlStoreError> {
    tokio::time::timeout(ACQUIRE_TIMEOUT, PgConnection::connect_with(options))
        .await
        .unwrap_or_else(|_| {
            Err(sqlx::Error::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "connecting to PostgreSQL timed out",
            )))
        })
        .map_err(|source| SqlStoreError::Connect { source })
}

fn parse(url: &str) -> Result<PgConnectOptions, SqlStoreError> {
    PgConnectOptions::from_str(url).map_err(|source| SqlStoreError::InvalidUrl { source })
}

/// Accepts 1 to 63 ASCII letters, digits and underscores, not starting with a digit.
pub(crate) fn check_schema_name(schema: &str) -> Result<(), SqlStoreError> {
    let valid = (1..=63).contains(&schema.len())
        && schema
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !schema.starts_with(|c: char| c.is_ascii_digit());
    if valid {
        Ok(())
    } else {
        Err(SqlStoreError::InvalidSchema {
            schema: schema.to_owned(),
        })
    }
}

mod traits {
    use crate::sql::postgres as sql;

    crate::store_impl::impl_store!(super::PostgresStore, sqlx::PgConnection);
}
