//! [`RedisStore`]: connection, key layout, sweeping and clearing.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use deadpool_redis::{Config, Pool, PoolConfig, Runtime, Timeouts};
use portcullis_store::{StoreError, SweepExpired};
use time::OffsetDateTime;

use crate::encoding::now_millis;
use crate::error::{RedisStoreError, command_failed, no_connection};
use crate::scripts;

/// Connections [`RedisStore::connect`] keeps at most.
const POOL_SIZE: usize = 16;
/// How long [`RedisStore::connect`]'s pool waits for a free connection, to open one, or to
/// check one it hands out again.
const POOL_TIMEOUT: Duration = Duration::from_secs(5);
/// Default of [`RedisStore::with_claim_wait`].
const CLAIM_WAIT: Duration = Duration::from_secs(3);
/// Records one sweep script deletes at most, so it never blocks Redis for long.
const SWEEP_STEP: usize = 500;
/// Keys one `SCAN` step of [`RedisStore::clear`] looks at.
const SCAN_STEP: usize = 500;

/// Key segments after the prefix, one per kind of key.
pub(crate) const PENDING: &str = "pending:";
pub(crate) const CODE: &str = "code:";
pub(crate) const SESSION: &str = "session:";
pub(crate) const SESSION_CLIENTS: &str = "session-clients:";
pub(crate) const SUBJECT_SESSIONS: &str = "subject-sessions:";
/// The sorted set of every record by expiry, which `sweep_expired` works from.
pub(crate) const EXPIRIES: &str = "expiries";

/// A store for portcullis's short-lived records in Redis: pending authorizations, browser
/// sessions and (through [`CodeClaimStore`](portcullis_store::CodeClaimStore))
/// authorization codes, each expiring natively at its `expires_at`.
///
/// It holds no clients, scopes, tokens or keys, so it is not a whole
/// [`Store`](portcullis_store::Store): pair it with a long-lived store in a
/// [`RoutedStore`](portcullis_store::RoutedStore). A cheap `Clone` over one connection
/// pool. The [crate documentation](crate) describes the key layout, the clock and what
/// happens on failure.
///
/// ```no_run
/// use portcullis_store::{MemoryStore, RoutedStore, Store};
/// use portcullis_store_redis::RedisStore;
/// use std::sync::Arc;
///
/// # async fn demo() -> Result<(), portcullis_store_redis::RedisStoreError> {
/// let redis = RedisStore::connect("redis://127.0.0.1:6379").await?.with_prefix("shop:");
/// // In production the long-lived side is the SQL store.
/// let store: Arc<dyn Store> = Arc::new(RoutedStore::with_short_lived_codes(MemoryStore::new(), redis));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    pool: Pool,
    prefix: Arc<str>,
    claim_wait: Duration,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .field("claim_wait", &self.claim_wait)
            .field("pool", &self.pool.status())
            .finish()
    }
}

impl RedisStore {
    /// Connects to the Redis at `url` (`redis://[user:password@]host[:port][/db]`, or
    /// `rediss://` with a TLS feature of `redis`) through a pool of up to 16 connections
    /// that waits at most 5 s for one, and checks that the server answers and is Redis 7.0
    /// or later. Keys start with `portcullis:` until [`with_prefix`](Self::with_prefix).
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), portcullis_store_redis::RedisStoreError> {
    /// let store = portcullis_store_redis::RedisStore::connect("redis://127.0.0.1:6379/0").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`RedisStoreError::Config`] for an invalid URL, [`RedisStoreError::Unreachable`]
    /// when no connection can be made, [`RedisStoreError::UnsupportedServer`] before 7.0.
    pub async fn connect(url: &str) -> Result<RedisStore, RedisStoreError> {
        let mut config = Config::from_url(url);
        let mut pool = PoolConfig::new(POOL_SIZE);
        pool.timeouts = Timeouts {
            wait: Some(POOL_TIMEOUT),
            create: Some(POOL_TIMEOUT),
            recycle: Some(POOL_TIMEOUT),
        };
        config.pool = Some(pool);
        let pool = config
            .create_pool(Some(Runtime::Tokio1))
            .map_err(|source| RedisStoreError::Config { source })?;
        RedisStore::from_pool(pool).await
    }

    /// Uses a pool you configured yourself (size, timeouts; TLS through the `redis` crate's
    /// features) and checks the server like [`connect`](Self::connect).
    ///
    /// ```no_run
    /// use deadpool_redis::{Config, PoolConfig, Runtime};
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut config = Config::from_url("redis://127.0.0.1:6379");
    /// config.pool = Some(PoolConfig::new(64));
    /// let pool = config.create_pool(Some(Runtime::Tokio1))?;
    /// let store = portcullis_store_redis::RedisStore::from_pool(pool).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`RedisStoreError::Unreachable`] when no connection can be made,
    /// [`RedisStoreError::UnsupportedServer`] before Redis 7.0.
    pub async fn from_pool(pool: Pool) -> Result<RedisStore, RedisStoreError> {
        let store = RedisStore {
            pool,
            prefix: Arc::from("portcullis:"),
            claim_wait: CLAIM_WAIT,
        };
        let unreachable = |source| RedisStoreError::Unreachable { source };
        let mut connection = store.connection().await.map_err(unreachable)?;
        let info: String = redis::cmd("INFO")
            .arg("server")
            .query_async(&mut connection)
            .await
            .map_err(|error| unreachable(command_failed("connect", error)))?;
        let version = info
            .lines()
            .find_map(|line| line.strip_prefix("redis_version:"))
            .unwrap_or("unknown")
            .trim()
            .to_owned();
        if !supports(&version) {
            return Err(RedisStoreError::UnsupportedServer { version });
        }
        Ok(store)
    }

    /// The same store with every key under `prefix` instead of `portcullis:`, so tenants
    /// and test runs sharing one Redis never see each other's records. Keep prefixes from
    /// nesting (no prefix should start with another one), e.g. `tenant-a:`, `tenant-b:`.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), portcullis_store_redis::RedisStoreError> {
    /// let shared = portcullis_store_redis::RedisStore::connect("redis://127.0.0.1:6379").await?;
    /// let tenant_a = shared.clone().with_prefix("tenant-a:");
    /// let tenant_b = shared.with_prefix("tenant-b:");
    /// assert_eq!(tenant_a.prefix(), "tenant-a:");
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn with_prefix(self, prefix: impl Into<String>) -> RedisStore {
        RedisStore {
            prefix: Arc::from(prefix.into()),
            ..self
        }
    }

    /// How long [`claim_code`](portcullis_store::CodeClaimStore::claim_code) waits when
    /// another caller holds the code, for that redemption to be confirmed or released,
    /// before answering `AlreadyRedeemed`. Default 3 s: longer than storing tokens takes,
    /// so a replay's caller revokes tokens that exist. A claim whose holder died makes
    /// every later redemption of that code wait this long, until the code expires.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), portcullis_store_redis::RedisStoreError> {
    /// use std::time::Duration;
    /// let store = portcullis_store_redis::RedisStore::connect("redis://127.0.0.1:6379")
    ///     .await?
    ///     .with_claim_wait(Duration::from_secs(10));
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn with_claim_wait(self, wait: Duration) -> RedisStore {
        RedisStore {
            claim_wait: wait,
            ..self
        }
    }

    /// The prefix every key of this store starts with.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), portcullis_store_redis::RedisStoreError> {
    /// let store = portcullis_store_redis::RedisStore::connect("redis://127.0.0.1:6379").await?;
    /// assert_eq!(store.prefix(), "portcullis:");
    /// # Ok(()) }
    /// ```
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Deletes every key this store writes under its prefix — records, their indexes —
    /// and answers how many: to drop a tenant's short-lived state, or a test's. Keys under
    /// the prefix that this store does not write are left alone. Not atomic: a record
    /// written meanwhile may survive.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), portcullis_store::StoreError> {
    /// # let store: portcullis_store_redis::RedisStore = todo!();
    /// let deleted = store.clear().await?;
    /// println!("{deleted} keys deleted under {}", store.prefix());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] or [`StoreError::Backend`] when Redis fails; keys
    /// deleted before the failure stay deleted.
    pub async fn clear(&self) -> Result<u64, StoreError> {
        let mut connection = self.connection().await?;
        let pattern = format!("{}*", glob_escape(&self.prefix));
        let mut cursor: u64 = 0;
        let mut deleted = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(SCAN_STEP)
                .query_async(&mut connection)
                .await
                .map_err(|error| command_failed("clear", error))?;
            let ours: Vec<&String> = keys.iter().filter(|key| self.owns(key)).collect();
            if !ours.is_empty() {
                let unlinked: u64 = redis::cmd("UNLINK")
                    .arg(&ours)
                    .query_async(&mut connection)
                    .await
                    .map_err(|error| command_failed("clear", error))?;
                deleted += unlinked;
            }
            if next == 0 {
                return Ok(deleted);
            }
            cursor = next;
        }
    }

    /// Whether this store writes `key`.
    fn owns(&self, key: &str) -> bool {
        key.strip_prefix(&*self.prefix).is_some_and(|rest| {
            rest == EXPIRIES
                || [PENDING, CODE, SESSION, SESSION_CLIENTS, SUBJECT_SESSIONS]
                    .iter()
                    .any(|segment| rest.starts_with(segment))
        })
    }

    /// `<prefix><segment><id>`.
    pub(crate) fn key(&self, segment: &str, id: impl fmt::Display) -> String {
        format!("{}{segment}{id}", self.prefix)
    }

    /// The sorted set of records by expiry.
    pub(crate) fn expiries(&self) -> String {
        format!("{}{EXPIRIES}", self.prefix)
    }

    pub(crate) fn claim_wait(&self) -> Duration {
        self.claim_wait
    }

    pub(crate) async fn connection(&self) -> Result<deadpool_redis::Connection, StoreError> {
        self.pool.get().await.map_err(no_connection)
    }
}

/// Whether a `redis_version` is 7.0 or later.
fn supports(version: &str) -> bool {
    version
        .split('.')
        .next()
        .and_then(|major| major.parse::<u32>().ok())
        .is_some_and(|major| major >= 7)
}

/// `text` with the glob characters of `SCAN … MATCH` escaped.
fn glob_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\' | '^' | '-') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// Redis deletes each record itself when it expires; the sweep removes what is left in
/// the expiry index (and any record whose `expires_at` has passed by `now` but not yet by
/// Redis's clock) and counts the records, so its answer means what it means for any
/// store. Call it on a timer as for any store: until it runs, each expired record leaves a
/// small entry (its key name) in the index.
#[async_trait]
impl SweepExpired for RedisStore {
    async fn sweep_expired(&self, now: OffsetDateTime, batch: usize) -> Result<usize, StoreError> {
        let mut connection = self.connection().await?;
        let mut swept = 0;
        while swept < batch {
            let step = (batch - swept).min(SWEEP_STEP);
            let deleted: usize = scripts::SWEEP
                .key(self.expiries())
                .arg(now_millis(now))
                .arg(step)
                .arg(&*self.prefix)
                .arg(SESSION)
                .arg(SESSION_CLIENTS)
                .invoke_async(&mut connection)
                .await
                .map_err(|error| command_failed("sweep_expired", error))?;
            swept += deleted;
            if deleted < step {
                break;
            }
        }
        Ok(swept)
    }
}

#[cfg(test)]
mod tests;
