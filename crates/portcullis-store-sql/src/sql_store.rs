//! [`SqlStore`]: either backend, chosen by the URL at run time.

use async_trait::async_trait;
use portcullis_registry::{Client, ClientId, ScopeDefinition};
use portcullis_store::{
    AuthorizationCode, ClientStore, CodeRedemption, CodeStore, FamilyId, KeyRecord, KeyStore, Page,
    PendingAuthorization, PendingAuthorizationStore, Rotation, ScopeStore, SessionRecord,
    SessionStore, StoreError, SweepExpired, TokenRecord, TokenStore,
};
use portcullis_tokens::{Subject, TokenHash};
use time::OffsetDateTime;

use crate::{PostgresStore, SqlStoreError, SqliteStore};

/// A SQLite or PostgreSQL store, chosen by the scheme of a database URL: what a server
/// with a `--database <url>` option wants.
///
/// Every storage trait is implemented by handing the call to the backend, so `SqlStore` is
/// a [`portcullis_store::Store`]. Match on it to reach the backend's own API (its pool).
///
/// ```
/// use portcullis_store_sql::SqlStore;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime").block_on(async {
/// let store = SqlStore::connect("sqlite::memory:").await?;
/// store.migrate().await?;
/// let store: std::sync::Arc<dyn portcullis_store::Store> = std::sync::Arc::new(store);
/// # Ok::<(), portcullis_store_sql::SqlStoreError>(())
/// # }).expect("demo");
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum SqlStore {
    /// A SQLite database (`sqlite:` URLs).
    Sqlite(SqliteStore),
    /// A PostgreSQL database (`postgres:` and `postgresql:` URLs).
    Postgres(PostgresStore),
}

impl SqlStore {
    /// Connects to `url`: [`SqliteStore::connect`] for `sqlite:` URLs,
    /// [`PostgresStore::connect`] for `postgres:` and `postgresql:` ones.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), portcullis_store_sql::SqlStoreError> {
    /// let url = std::env::var("PORTCULLIS_DATABASE")
    ///     .unwrap_or_else(|_| "sqlite://portcullis.db?mode=rwc".into());
    /// let store = portcullis_store_sql::SqlStore::connect(&url).await?;
    /// store.migrate().await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`SqlStoreError::UnsupportedUrl`] for any other scheme, and the backend's errors.
    pub async fn connect(url: &str) -> Result<SqlStore, SqlStoreError> {
        let scheme = url
            .split_once(':')
            .map(|(scheme, _)| scheme.to_ascii_lowercase());
        match scheme.as_deref() {
            Some("sqlite") => SqliteStore::connect(url).await.map(SqlStore::Sqlite),
            Some("postgres" | "postgresql") => {
                PostgresStore::connect(url).await.map(SqlStore::Postgres)
            }
            _ => Err(SqlStoreError::UnsupportedUrl),
        }
    }

    /// Creates or updates the schema of whichever database this is (see
    /// [`SqliteStore::migrate`], [`PostgresStore::migrate`]).
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime").block_on(async {
    /// let store = portcullis_store_sql::SqlStore::connect("sqlite::memory:").await?;
    /// store.migrate().await?;
    /// # Ok::<(), portcullis_store_sql::SqlStoreError>(())
    /// # }).expect("demo");
    /// ```
    ///
    /// # Errors
    ///
    /// [`SqlStoreError::Migrate`] when a migration fails.
    pub async fn migrate(&self) -> Result<(), SqlStoreError> {
        match self {
            SqlStore::Sqlite(store) => store.migrate().await,
            SqlStore::Postgres(store) => store.migrate().await,
        }
    }

    /// The backend's name: `"sqlite"` or `"postgres"`, for logs.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime").block_on(async {
    /// let store = portcullis_store_sql::SqlStore::connect("sqlite::memory:").await?;
    /// assert_eq!(store.backend(), "sqlite");
    /// # Ok::<(), portcullis_store_sql::SqlStoreError>(())
    /// # }).expect("demo");
    /// ```
    pub fn backend(&self) -> &'static str {
        match self {
            SqlStore::Sqlite(_) => "sqlite",
            SqlStore::Postgres(_) => "postgres",
        }
    }
}

impl From<SqliteStore> for SqlStore {
    fn from(store: SqliteStore) -> SqlStore {
        SqlStore::Sqlite(store)
    }
}

impl From<PostgresStore> for SqlStore {
    fn from(store: PostgresStore) -> SqlStore {
        SqlStore::Postgres(store)
    }
}

/// Hands a call to whichever backend this is (also used by `extensions.rs`).
macro_rules! delegate {
    ($self:ident, $store:ident => $call:expr) => {
        match $self {
            $crate::SqlStore::Sqlite($store) => $call,
            $crate::SqlStore::Postgres($store) => $call,
        }
    };
}
pub(crate) use delegate;

#[async_trait]
impl ClientStore for SqlStore {
    async fn insert_client(&self, client: Client) -> Result<(), StoreError> {
        delegate!(self, s => s.insert_client(client).await)
    }
    async fn get_client(&self, id: &ClientId) -> Result<Option<Client>, StoreError> {
        delegate!(self, s => s.get_client(id).await)
    }
    async fn update_client(&self, client: Client) -> Result<(), StoreError> {
        delegate!(self, s => s.update_client(client).await)
    }
    async fn delete_client(&self, id: &ClientId) -> Result<bool, StoreError> {
        delegate!(self, s => s.delete_client(id).await)
    }
    async fn list_clients(&self, page: Page<ClientId>) -> Result<Vec<Client>, StoreError> {
        delegate!(self, s => s.list_clients(page).await)
    }
}

#[async_trait]
impl ScopeStore for SqlStore {
    async fn insert_scope(&self, scope: ScopeDefinition) -> Result<(), StoreError> {
        delegate!(self, s => s.insert_scope(scope).await)
    }
    async fn get_scope(&self, name: &str) -> Result<Option<ScopeDefinition>, StoreError> {
        delegate!(self, s => s.get_scope(name).await)
    }
    async fn list_scopes(&self) -> Result<Vec<ScopeDefinition>, StoreError> {
        delegate!(self, s => s.list_scopes().await)
    }
    async fn delete_scope(&self, name: &str) -> Result<bool, StoreError> {
        delegate!(self, s => s.delete_scope(name).await)
    }
}

#[async_trait]
impl PendingAuthorizationStore for SqlStore {
    async fn insert_pending(&self, pending: PendingAuthorization) -> Result<(), StoreError> {
        delegate!(self, s => s.insert_pending(pending).await)
    }
    async fn get_pending(
        &self,
        handle: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<PendingAuthorization>, StoreError> {
        delegate!(self, s => s.get_pending(handle, now).await)
    }
    async fn take_pending(
        &self,
        handle: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<PendingAuthorization>, StoreError> {
        delegate!(self, s => s.take_pending(handle, now).await)
    }
}

#[async_trait]
impl CodeStore for SqlStore {
    async fn insert_code(&self, code: AuthorizationCode) -> Result<(), StoreError> {
        delegate!(self, s => s.insert_code(code).await)
    }
    async fn find_code(
        &self,
        code: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<AuthorizationCode>, StoreError> {
        delegate!(self, s => s.find_code(code, now).await)
    }
    async fn redeem_code(
        &self,
        code: &TokenHash,
        tokens: Vec<TokenRecord>,
        now: OffsetDateTime,
    ) -> Result<CodeRedemption, StoreError> {
        delegate!(self, s => s.redeem_code(code, tokens, now).await)
    }
}

#[async_trait]
impl TokenStore for SqlStore {
    async fn insert_tokens(&self, tokens: Vec<TokenRecord>) -> Result<(), StoreError> {
        delegate!(self, s => s.insert_tokens(tokens).await)
    }
    async fn find_token(
        &self,
        hash: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<TokenRecord>, StoreError> {
        delegate!(self, s => s.find_token(hash, now).await)
    }
    async fn rotate_refresh_token(
        &self,
        presented: &TokenHash,
        successors: Vec<TokenRecord>,
        now: OffsetDateTime,
    ) -> Result<Rotation, StoreError> {
        delegate!(self, s => s.rotate_refresh_token(presented, successors, now).await)
    }
    async fn revoke_token(
        &self,
        hash: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<TokenRecord>, StoreError> {
        delegate!(self, s => s.revoke_token(hash, now).await)
    }
    async fn revoke_family(
        &self,
        family: &FamilyId,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        delegate!(self, s => s.revoke_family(family, now).await)
    }
    async fn revoke_client_tokens(
        &self,
        client: &ClientId,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        delegate!(self, s => s.revoke_client_tokens(client, now).await)
    }
    async fn list_client_tokens(
        &self,
        client: &ClientId,
        now: OffsetDateTime,
    ) -> Result<Vec<TokenRecord>, StoreError> {
        delegate!(self, s => s.list_client_tokens(client, now).await)
    }
    async fn list_family(
        &self,
        family: &FamilyId,
        now: OffsetDateTime,
    ) -> Result<Vec<TokenRecord>, StoreError> {
        delegate!(self, s => s.list_family(family, now).await)
    }
}

#[async_trait]
impl SessionStore for SqlStore {
    async fn insert_session(&self, session: SessionRecord) -> Result<(), StoreError> {
        delegate!(self, s => s.insert_session(session).await)
    }
    async fn get_session(
        &self,
        id: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<SessionRecord>, StoreError> {
        delegate!(self, s => s.get_session(id, now).await)
    }
    async fn add_session_client(
        &self,
        id: &TokenHash,
        client: &ClientId,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        delegate!(self, s => s.add_session_client(id, client, now).await)
    }
    async fn delete_session(
        &self,
        id: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<SessionRecord>, StoreError> {
        delegate!(self, s => s.delete_session(id, now).await)
    }
    async fn delete_subject_sessions(
        &self,
        subject: &Subject,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        delegate!(self, s => s.delete_subject_sessions(subject, now).await)
    }
}

#[async_trait]
impl KeyStore for SqlStore {
    async fn insert_key(&self, key: KeyRecord) -> Result<(), StoreError> {
        delegate!(self, s => s.insert_key(key).await)
    }
    async fn list_keys(&self) -> Result<Vec<KeyRecord>, StoreError> {
        delegate!(self, s => s.list_keys().await)
    }
    async fn activate_key(&self, kid: &str, now: OffsetDateTime) -> Result<(), StoreError> {
        delegate!(self, s => s.activate_key(kid, now).await)
    }
    async fn delete_key(&self, kid: &str) -> Result<bool, StoreError> {
        delegate!(self, s => s.delete_key(kid).await)
    }
    async fn active_key(&self) -> Result<Option<KeyRecord>, StoreError> {
        delegate!(self, s => s.active_key().await)
    }
}

#[async_trait]
impl SweepExpired for SqlStore {
    async fn sweep_expired(&self, now: OffsetDateTime, batch: usize) -> Result<usize, StoreError> {
        delegate!(self, s => s.sweep_expired(now, batch).await)
    }
}
