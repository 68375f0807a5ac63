//! The SQLite store: one file (or memory), WAL mode, one writer at a time.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{Connection, Sqlite};
use tokio::sync::Mutex;

use crate::SqlStoreError;
use crate::write::{WriteTx, Writer};

/// How long a write waits for the database lock held by another process before it fails
/// with [`StoreError::Unavailable`](portcullis_store::StoreError::Unavailable).
///
/// ```
/// assert!(portcullis_store_sql::SQLITE_BUSY_TIMEOUT >= std::time::Duration::from_secs(5));
/// ```
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// How many connections a [`SqliteStore`] opened with [`SqliteStore::connect`] keeps to a
/// database file (reads run in parallel; writes take turns anyway).
pub const SQLITE_POOL_SIZE: u32 = 8;

/// How long an operation waits for a free pooled connection.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// A store in a SQLite database: the embedded default, for a provider that runs as one
/// process.
///
/// [`connect`](SqliteStore::connect) opens the file in WAL mode (readers never wait for the
/// writer), with foreign keys on, a [busy timeout](SQLITE_BUSY_TIMEOUT) and a small pool
/// ([`SQLITE_POOL_SIZE`]). Writes take turns inside the process through an async lock, and
/// multi-statement writes are `BEGIN IMMEDIATE` transactions, so concurrent writers queue
/// instead of failing with "database is locked". `synchronous` is `FULL` (SQLite's
/// default): a committed write survives a crash of the process or of the machine.
///
/// Cloning is cheap and shares the pool. The schema is created by
/// [`migrate`](SqliteStore::migrate), which the application calls once at start.
///
/// ```
/// use portcullis_store::{ClientStore, Page};
/// use portcullis_store_sql::SqliteStore;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime").block_on(async {
/// let store = SqliteStore::connect("sqlite::memory:").await?;
/// store.migrate().await?;
/// assert!(store.list_clients(Page::first(10)).await?.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).expect("demo");
/// ```
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pub(crate) pool: SqlitePool,
    /// Whose turn it is to write, within this process.
    writer: Arc<Mutex<()>>,
    /// Clients and scopes read recently (off unless `with_read_cache_ttl` turned it on).
    pub(crate) cache: Arc<crate::cache::ReadCache>,
    /// Token insertions waiting to be committed together.
    group: Arc<crate::group::GroupCommit>,
}

impl SqliteStore {
    /// Opens (with `?mode=rwc`: creates) the database at `url`: `sqlite://portcullis.db?mode=rwc`,
    /// `sqlite:///var/lib/portcullis/portcullis.db`, or `sqlite::memory:`.
    ///
    /// An in-memory database lives in a single connection for the life of the store: use it
    /// for tests and demos. Call [`migrate`](SqliteStore::migrate) before using the store.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), portcullis_store_sql::SqlStoreError> {
    /// let store = portcullis_store_sql::SqliteStore::connect("sqlite://portcullis.db?mode=rwc").await?;
    /// store.migrate().await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`SqlStoreError::InvalidUrl`] for a URL sqlx cannot read, [`SqlStoreError::Connect`]
    /// when the file cannot be opened (missing without `mode=rwc`, no permission, not a
    /// database).
    pub async fn connect(url: &str) -> Result<SqliteStore, SqlStoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|source| SqlStoreError::InvalidUrl { source })?
            .foreign_keys(true)
            .busy_timeout(SQLITE_BUSY_TIMEOUT);
        let connect = |source| SqlStoreError::Connect { source };
        if is_in_memory(url) {
            // Every connection to `:memory:` would be a database of its own, and the
            // database dies with its last connection: keep exactly one, forever.
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect_with(options)
                .await
                .map_err(connect)?;
            return Ok(SqliteStore::from_pool(pool));
        }
        // FULL (SQLite's own default, spelled out): a commit survives a power cut too, so an
        // issued token or a revocation is never lost once the caller has seen it succeed.
        let options = options
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full);
        // Switching a new file to WAL needs an exclusive lock that the busy timeout does not
        // wait for: do it once, on one connection, before the pool opens several.
        let first = SqliteConnection::connect_with(&options)
            .await
            .map_err(connect)?;
        first.close().await.map_err(connect)?;
        let pool = SqlitePoolOptions::new()
            .max_connections(SQLITE_POOL_SIZE)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(connect)?;
        Ok(SqliteStore::from_pool(pool))
    }

    /// A store over a pool the application configured itself. The pool's connections should
    /// have foreign keys on (sqlx's default) and a busy timeout; WAL mode is recommended.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
    /// let options = "sqlite://portcullis.db?mode=rwc".parse::<SqliteConnectOptions>()?
    ///     .journal_mode(SqliteJournalMode::Wal);
    /// let pool = SqlitePoolOptions::new().max_connections(4).connect_with(options).await?;
    /// let store = portcullis_store_sql::SqliteStore::from_pool(pool);
    /// # Ok(()) }
    /// ```
    pub fn from_pool(pool: SqlitePool) -> SqliteStore {
        SqliteStore {
            pool,
            writer: Arc::new(Mutex::new(())),
            cache: Arc::default(),
            group: Arc::new(crate::group::GroupCommit::new(1)),
        }
    }

    /// Creates or updates the schema; a database that is up to date is left alone, so it is
    /// safe to call on every start. Migrations are embedded in the binary and recorded in
    /// the table `_portcullis_migrations`.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime").block_on(async {
    /// let store = portcullis_store_sql::SqliteStore::connect("sqlite::memory:").await?;
    /// store.migrate().await?;
    /// store.migrate().await?; // nothing to do the second time
    /// # Ok::<(), portcullis_store_sql::SqlStoreError>(())
    /// # }).expect("demo");
    /// ```
    ///
    /// # Errors
    ///
    /// [`SqlStoreError::Migrate`] when a migration fails (it is rolled back) or when the
    /// database holds migrations this version does not know.
    pub async fn migrate(&self) -> Result<(), SqlStoreError> {
        let mut migrator = sqlx::migrate!("./migrations/sqlite");
        migrator.dangerous_set_table_name(crate::sql::MIGRATIONS_TABLE);
        let _turn = self.writer.lock().await;
        migrator
            .run(&self.pool)
            .await
            .map_err(|source| SqlStoreError::Migrate { source })
    }

    /// The connection pool, for the application's own queries or for closing it.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime").block_on(async {
    /// let store = portcullis_store_sql::SqliteStore::connect("sqlite::memory:").await?;
    /// let one: i64 = sqlx::query_scalar("SELECT 1").fetch_one(store.pool()).await?;
    /// assert_eq!(one, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).expect("demo");
    /// ```
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// A connection for one autocommit write, on this process's turn to write.
    pub(crate) async fn write(&self) -> Result<Writer<Sqlite>, sqlx::Error> {
        // Turn first, connection second: whoever holds the turn only waits for readers,
        // never for a connection held by someone waiting for the turn.
        let turn = Arc::clone(&self.writer).lock_owned().await;
        let conn = self.pool.acquire().await?;
        Ok(Writer::new(conn, Some(turn)))
    }

    /// A `BEGIN IMMEDIATE` transaction: it holds the database's write lock from its first
    /// statement, so it never fails halfway for lack of it.
    pub(crate) async fn begin_write(&self) -> Result<WriteTx<Sqlite>, sqlx::Error> {
        let turn = Arc::clone(&self.writer).lock_owned().await;
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(WriteTx::new(tx, Some(turn)))
    }

    /// Serves clients and the scope list from memory for `ttl` (off by default;
    /// [`CACHE_TTL`](crate::CACHE_TTL) is the suggested value, `Duration::ZERO` turns it off
    /// again). Writes through this store are seen at once whatever the value; `ttl` bounds how
    /// long a change made by another process sharing the database (say, a client revoked on
    /// another instance) can go unseen here, so turn it on only when this store is the
    /// database's only writer.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime").block_on(async {
    /// let store = portcullis_store_sql::SqliteStore::connect("sqlite::memory:")
    ///     .await?
    ///     .with_read_cache_ttl(std::time::Duration::ZERO);
    /// # Ok::<(), portcullis_store_sql::SqlStoreError>(())
    /// # }).expect("demo");
    /// ```
    #[must_use]
    pub fn with_read_cache_ttl(mut self, ttl: std::time::Duration) -> Self {
        self.cache = Arc::new(crate::cache::ReadCache::with_ttl(ttl));
        self
    }

    /// Token insertions are committed in groups: SQLite is bound by its commits.
    pub(crate) fn group_commit(&self) -> Option<&crate::group::GroupCommit> {
        Some(&self.group)
    }

    /// Key activations take turns like every write transaction: nothing more to lock.
    pub(crate) async fn lock_signing_keys(_tx: &mut WriteTx<Sqlite>) -> Result<(), sqlx::Error> {
        Ok(())
    }
}

/// Whether a SQLite URL names an in-memory database.
fn is_in_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

mod traits {
    use crate::sql::sqlite as sql;

    crate::store_impl::impl_store!(super::SqliteStore, sqlx::SqliteConnection);
}
