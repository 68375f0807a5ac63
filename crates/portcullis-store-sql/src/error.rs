//! Errors: [`SqlStoreError`] for connecting and migrating, and the one mapping from sqlx
//! errors to [`StoreError`] that every storage operation uses.

use portcullis_store::{RecordFamily, StoreError};

/// Why connecting to the database or migrating its schema failed.
///
/// Storage operations themselves answer [`StoreError`]; this type is only for setting a
/// store up. Messages never contain the database URL (it may carry a password).
///
/// ```
/// use portcullis_store_sql::SqlStoreError;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime").block_on(async {
/// let err = portcullis_store_sql::SqlStore::connect("mysql://localhost/db").await.unwrap_err();
/// assert!(matches!(err, SqlStoreError::UnsupportedUrl));
/// assert!(!err.is_transient());
/// # });
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SqlStoreError {
    /// The URL names neither SQLite (`sqlite:`) nor PostgreSQL (`postgres:`, `postgresql:`).
    #[error("unsupported database url: expected sqlite:, postgres: or postgresql:")]
    UnsupportedUrl,
    /// The URL could not be parsed as connection options.
    #[error("invalid database url")]
    InvalidUrl {
        /// What sqlx found wrong.
        #[source]
        source: sqlx::Error,
    },
    /// A PostgreSQL schema name this crate will not use: it takes 1 to 63 ASCII letters,
    /// digits and underscores, not starting with a digit.
    #[error(
        "invalid schema name {schema:?}: use 1 to 63 ASCII letters, digits and underscores, \
         not starting with a digit"
    )]
    InvalidSchema {
        /// The refused name.
        schema: String,
    },
    /// `CREATE SCHEMA` failed (for example: the user may not create schemas).
    #[error("cannot create the database schema")]
    CreateSchema {
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// The database could not be reached or refused the connection.
    #[error("cannot connect to the database")]
    Connect {
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// Applying the schema migrations failed; the migration that failed was rolled back.
    #[error("cannot migrate the database schema")]
    Migrate {
        /// The migrator's error.
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    /// An audit-log read or write failed in the database.
    #[error("audit log query failed")]
    AuditQuery {
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// An audit-log row could not be encoded or decoded as an event envelope.
    #[error("audit log record is not an event envelope: {0}")]
    Audit(String),
}

impl SqlStoreError {
    /// Whether trying again later may succeed: the server is unreachable, the pool timed out,
    /// or the server is starting up or shutting down.
    ///
    /// ```
    /// assert!(!portcullis_store_sql::SqlStoreError::UnsupportedUrl.is_transient());
    /// ```
    pub fn is_transient(&self) -> bool {
        match self {
            SqlStoreError::Connect { source }
            | SqlStoreError::CreateSchema { source }
            | SqlStoreError::AuditQuery { source } => is_transient(source),
            SqlStoreError::Migrate {
                source:
                    sqlx::migrate::MigrateError::Execute(source)
                    | sqlx::migrate::MigrateError::ExecuteMigration(source, _),
            } => is_transient(source),
            _ => false,
        }
    }
}

impl From<SqlStoreError> for StoreError {
    /// A setup failure as a storage failure: [`StoreError::Unavailable`] when
    /// [transient](SqlStoreError::is_transient), [`StoreError::Backend`] otherwise.
    fn from(err: SqlStoreError) -> StoreError {
        let message = err.to_string();
        let transient = err.is_transient();
        let source: Option<Box<dyn std::error::Error + Send + Sync>> = Some(Box::new(err));
        if transient {
            StoreError::Unavailable { message, source }
        } else {
            StoreError::Backend { message, source }
        }
    }
}

/// How the store reacts to a sqlx error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// Out of reach for now: pool timeout, I/O, connection refused, server restarting,
    /// SQLite busy or locked.
    Unavailable,
    /// PostgreSQL aborted the transaction to break a deadlock or a serialization conflict:
    /// running it again is expected to succeed.
    Retry,
    /// A unique or primary key constraint refused the row.
    UniqueViolation,
    /// A foreign key constraint refused the row (its parent is gone).
    ForeignKeyViolation,
    /// Anything else: a bug, a broken schema, a corrupt database.
    Other,
}

/// SQLite primary result codes that mean "not now" rather than "never". (`SQLITE_CANTOPEN`
/// is not one: it is nearly always a wrong path or missing permission.)
const SQLITE_BUSY: i64 = 5;
const SQLITE_LOCKED: i64 = 6;
const SQLITE_NOMEM: i64 = 7;
const SQLITE_IOERR: i64 = 10;
const SQLITE_FULL: i64 = 13;
const SQLITE_PROTOCOL: i64 = 15;

pub(crate) fn classify(err: &sqlx::Error) -> Class {
    match err {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => Class::Unavailable,
        sqlx::Error::Database(db) => {
            if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                // SQLite reports its extended result code; the low byte is the primary one.
                let primary = db
                    .code()
                    .and_then(|code| code.parse::<i64>().ok())
                    .map(|code| code & 0xff);
                if let Some(
                    SQLITE_BUSY | SQLITE_LOCKED | SQLITE_NOMEM | SQLITE_IOERR | SQLITE_FULL
                    | SQLITE_PROTOCOL,
                ) = primary
                {
                    return Class::Unavailable;
                }
            } else if let Some(code) = db.code() {
                // PostgreSQL SQLSTATE (Appendix A of its manual).
                match &*code {
                    // serialization_failure, deadlock_detected
                    "40001" | "40P01" => return Class::Retry,
                    // connection_exception (class 08), insufficient_resources (53),
                    // admin/crash shutdown and cannot_connect_now (57P0x), query_canceled
                    // (statement timeout), lock_not_available, read-only transaction
                    // (a standby after failover)
                    c if c.starts_with("08") || c.starts_with("53") || c.starts_with("57P") => {
                        return Class::Unavailable;
                    }
                    "57014" | "55P03" | "25006" => return Class::Unavailable,
                    _ => {}
                }
            }
            if db.is_unique_violation() {
                Class::UniqueViolation
            } else if db.is_foreign_key_violation() {
                Class::ForeignKeyViolation
            } else {
                Class::Other
            }
        }
        _ => Class::Other,
    }
}

/// Whether a retry later may succeed.
pub(crate) fn is_transient(err: &sqlx::Error) -> bool {
    matches!(classify(err), Class::Unavailable | Class::Retry)
}

/// A short description of a sqlx error that never contains values: the variant, plus the
/// database's error code when there is one.
fn describe(err: &sqlx::Error) -> String {
    match err {
        sqlx::Error::PoolTimedOut => "timed out waiting for a database connection".into(),
        sqlx::Error::PoolClosed => "the connection pool is closed".into(),
        sqlx::Error::Io(_) => "i/o error talking to the database".into(),
        sqlx::Error::Tls(_) => "tls error talking to the database".into(),
        sqlx::Error::WorkerCrashed => "the sqlite worker thread crashed".into(),
        sqlx::Error::Database(db) => match db.code() {
            Some(code) => format!("database error {code}"),
            None => "database error".into(),
        },
        sqlx::Error::RowNotFound => "no row returned".into(),
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
            "cannot decode a column".into()
        }
        sqlx::Error::ColumnNotFound(_) | sqlx::Error::ColumnIndexOutOfBounds { .. } => {
            "unexpected result columns (schema out of date? run migrate())".into()
        }
        sqlx::Error::Protocol(_) => "database protocol error".into(),
        _ => "database driver error".into(),
    }
}

/// The [`StoreError`] for a failed operation `op`: [`StoreError::Unavailable`] when a retry
/// may help, [`StoreError::Backend`] otherwise. The message names the operation and the
/// kind of failure; the sqlx error is its source.
pub(crate) fn store_error(op: &'static str, err: sqlx::Error) -> StoreError {
    let message = format!("{op}: {}", describe(&err));
    let transient = is_transient(&err);
    let source: Option<Box<dyn std::error::Error + Send + Sync>> = Some(Box::new(err));
    if transient {
        StoreError::Unavailable { message, source }
    } else {
        StoreError::Backend { message, source }
    }
}

/// `store_error(op)` as a closure, for `map_err`.
pub(crate) fn failed(op: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |err| store_error(op, err)
}

/// Like [`store_error`], but a unique violation is the [`StoreError::Conflict`] the
/// contract asks for: a record of `family` with `key` exists already.
pub(crate) fn conflict_or_failed(
    op: &'static str,
    family: RecordFamily,
    key: impl FnOnce() -> String,
) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |err| match classify(&err) {
        Class::UniqueViolation => StoreError::Conflict { family, key: key() },
        _ => store_error(op, err),
    }
}

/// Whether the failed operation should simply run again: PostgreSQL broke a deadlock or a
/// serialization conflict by aborting it.
pub(crate) fn should_retry(err: &StoreError) -> bool {
    match err {
        StoreError::Unavailable {
            source: Some(source),
            ..
        } => source
            .downcast_ref::<sqlx::Error>()
            .is_some_and(|err| classify(err) == Class::Retry),
        _ => false,
    }
}

/// How often an aborted PostgreSQL transaction is run again before its error is returned.
pub(crate) const MAX_RETRIES: u32 = 4;

/// Runs `$op` (an expression producing a future of `Result<_, StoreError>`) again while it
/// fails with a deadlock or serialization error, at most [`MAX_RETRIES`] times, with a short
/// growing pause in between.
macro_rules! retrying {
    ($op:expr) => {{
        let mut attempt: u32 = 0;
        loop {
            match $op.await {
                Err(err)
                    if attempt < $crate::error::MAX_RETRIES
                        && $crate::error::should_retry(&err) =>
                {
                    attempt += 1;
                    tracing::debug!(attempt, "transaction aborted by the database; retrying");
                    tokio::time::sleep(std::time::Duration::from_millis(u64::from(attempt) * 5))
                        .await;
                }
                result => break result,
            }
        }
    }};
}
pub(crate) use retrying;

#[cfg(test)]
mod tests;
