//! The crate's error type, and how Redis failures become [`StoreError`]s.

use portcullis_store::{RecordFamily, StoreError};
use redis::{ErrorKind, RedisError, ServerErrorKind};

/// Why [`RedisStore::connect`](crate::RedisStore::connect) or
/// [`RedisStore::from_pool`](crate::RedisStore::from_pool) failed. Once connected, every
/// operation reports [`StoreError`] like any other store.
///
/// ```no_run
/// use portcullis_store_redis::{RedisStore, RedisStoreError};
///
/// # async fn demo() {
/// match RedisStore::connect("redis://127.0.0.1:6379").await {
///     Ok(store) => println!("keys under {}", store.prefix()),
///     Err(RedisStoreError::Unreachable { .. }) => eprintln!("start Redis first"),
///     Err(other) => eprintln!("{other}"),
/// }
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisStoreError {
    /// The URL or pool settings are invalid.
    #[error("invalid redis configuration: {source}")]
    Config {
        /// What the pool builder said.
        #[source]
        source: deadpool_redis::CreatePoolError,
    },
    /// No connection could be made, or the server did not answer.
    #[error("redis unreachable: {source}")]
    Unreachable {
        /// The connection or command failure.
        #[source]
        source: StoreError,
    },
    /// The server is older than Redis 7.0, whose commands the store's scripts use
    /// (`PEXPIRETIME`, `GETDEL`, `SET … PXAT`).
    #[error("redis {version} is too old: the store needs Redis 7.0 or later")]
    UnsupportedServer {
        /// The `redis_version` the server reported.
        version: String,
    },
}

/// Whether a Redis failure is about reaching the server (a retry may help) rather than
/// about the command.
fn is_transient(error: &RedisError) -> bool {
    error.is_io_error()
        || error.is_timeout()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
        || error.is_cluster_error()
        || matches!(
            error.kind(),
            ErrorKind::Server(
                ServerErrorKind::BusyLoading
                    | ServerErrorKind::TryAgain
                    | ServerErrorKind::MasterDown
                    | ServerErrorKind::ReadOnly
            )
        )
}

/// A failed command as a [`StoreError`]: `Unavailable` when Redis could not be reached or
/// was not ready, `Backend` otherwise. `operation` names the store method, for the log and
/// the message. A command that timed out after it was sent may have run; the crate
/// documentation says what that means for each operation.
pub(crate) fn command_failed(operation: &'static str, error: RedisError) -> StoreError {
    tracing::warn!(operation, %error, "redis command failed");
    let message = format!("redis failed during {operation}");
    if is_transient(&error) {
        StoreError::Unavailable {
            message,
            source: Some(Box::new(error)),
        }
    } else {
        StoreError::Backend {
            message,
            source: Some(Box::new(error)),
        }
    }
}

/// No pooled connection: always `Unavailable`, nothing was sent.
pub(crate) fn no_connection(error: deadpool_redis::PoolError) -> StoreError {
    tracing::warn!(%error, "no redis connection");
    StoreError::Unavailable {
        message: format!("no redis connection: {error}"),
        source: Some(Box::new(error)),
    }
}

/// A stored value that does not decode: somebody else wrote under our prefix, or the
/// format changed.
pub(crate) fn corrupt(family: RecordFamily, source: Option<serde_json::Error>) -> StoreError {
    tracing::error!(%family, "undecodable record in redis");
    StoreError::Backend {
        message: format!("undecodable {family} record in redis"),
        source: source.map(|error| Box::new(error) as Box<dyn std::error::Error + Send + Sync>),
    }
}

#[cfg(test)]
mod tests;
