//! Test support for code built on a store: a wrapper that makes chosen record families fail,
//! so callers can prove they answer `temporarily_unavailable` / `server_error` and change
//! nothing when storage breaks.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use portcullis_registry::{Client, ClientId, ScopeDefinition};
use portcullis_tokens::{Subject, TokenHash};
use time::OffsetDateTime;

use crate::{
    AuthorizationCode, ClientStore, CodeRedemption, CodeStore, FamilyId, KeyRecord, KeyStore, Page,
    PendingAuthorization, PendingAuthorizationStore, RecordFamily, Rotation, ScopeStore,
    SessionRecord, SessionStore, Store, StoreError, SweepExpired, TokenRecord, TokenStore,
};

/// How an operation on a failing family fails.
///
/// ```
/// use portcullis_store::testing::Failure;
/// assert!(Failure::Unavailable.error().is_transient());
/// assert!(!Failure::Backend.error().is_transient());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// [`StoreError::Unavailable`]: a retry may help.
    Unavailable,
    /// [`StoreError::Backend`]: a retry will not help.
    Backend,
}

impl Failure {
    /// The error an operation answers.
    pub fn error(self) -> StoreError {
        match self {
            Failure::Unavailable => StoreError::Unavailable {
                message: "injected fault: pool timed out".into(),
                source: None,
            },
            Failure::Backend => StoreError::Backend {
                message: "injected fault: corrupt row".into(),
                source: None,
            },
        }
    }
}

/// Wraps a store; every operation on a family marked with [`fail`](FaultyStore::fail)
/// answers that failure without touching the inner store, every other operation passes
/// through.
///
/// ```
/// use portcullis_store::testing::{Failure, FaultyStore};
/// use portcullis_store::{ClientStore, MemoryStore, RecordFamily};
///
/// # tokio::runtime::Builder::new_current_thread().build().expect("rt").block_on(async {
/// let store = FaultyStore::new(MemoryStore::new());
/// store.fail(RecordFamily::Client, Failure::Unavailable);
/// let id = portcullis_registry::ClientId::new("app").expect("id");
/// assert!(store.get_client(&id).await.is_err());
/// store.heal(RecordFamily::Client);
/// assert!(store.get_client(&id).await.is_ok());
/// # });
/// ```
#[derive(Debug, Default)]
pub struct FaultyStore<S> {
    inner: S,
    faults: Mutex<HashMap<RecordFamily, Failure>>,
}

impl<S: Store> FaultyStore<S> {
    /// Wraps `inner`; nothing fails until told to.
    pub fn new(inner: S) -> FaultyStore<S> {
        FaultyStore {
            inner,
            faults: Mutex::new(HashMap::new()),
        }
    }

    /// The wrapped store, for setting up records behind the faults' back.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Makes every operation on `family` fail with `failure`.
    pub fn fail(&self, family: RecordFamily, failure: Failure) {
        self.faults
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(family, failure);
    }

    /// Lets operations on `family` through again.
    pub fn heal(&self, family: RecordFamily) {
        self.faults
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&family);
    }

    fn check(&self, family: RecordFamily) -> Result<(), StoreError> {
        match self
            .faults
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&family)
        {
            Some(failure) => Err(failure.error()),
            None => Ok(()),
        }
    }
}

#[async_trait]
impl<S: Store> ClientStore for FaultyStore<S> {
    async fn insert_client(&self, client: Client) -> Result<(), StoreError> {
        self.check(RecordFamily::Client)?;
        self.inner.insert_client(client).await
    }
    async fn get_client(&self, id: &ClientId) -> Result<Option<Client>, StoreError> {
        self.check(RecordFamily::Client)?;
        self.inner.get_client(id).await
    }
    async fn update_client(&self, client: Client) -> Result<(), StoreError> {
        self.check(RecordFamily::Client)?;
        self.inner.update_client(client).await
    }
    async fn delete_client(&self, id: &ClientId) -> Result<bool, StoreError> {
        self.check(RecordFamily::Client)?;
        self.inner.delete_client(id).await
    }
    async fn list_clients(&self, page: Page<ClientId>) -> Result<Vec<Client>, StoreError> {
        self.check(RecordFamily::Client)?;
        self.inner.list_clients(page).await
    }
}

#[async_trait]
impl<S: Store> ScopeStore for FaultyStore<S> {
    async fn insert_scope(&self, scope: ScopeDefinition) -> Result<(), StoreError> {
        self.check(RecordFamily::Scope)?;
        self.inner.insert_scope(scope).await
    }
    async fn get_scope(&self, name: &str) -> Result<Option<ScopeDefinition>, StoreError> {
        self.check(RecordFamily::Scope)?;
        self.inner.get_scope(name).await
    }
    async fn list_scopes(&self) -> Result<Vec<ScopeDefinition>, StoreError> {
        self.check(RecordFamily::Scope)?;
        self.inner.list_scopes().await
    }
    async fn delete_scope(&self, name: &str) -> Result<bool, StoreError> {
        self.check(RecordFamily::Scope)?;
        self.inner.delete_scope(name).await
    }
}

#[async_trait]
impl<S: Store> PendingAuthorizationStore for FaultyStore<S> {
    async fn insert_pending(&self, pending: PendingAuthorization) -> Result<(), StoreError> {
        self.check(RecordFamily::PendingAuthorization)?;
        self.inner.insert_pending(pending).await
    }
    async fn get_pending(
        &self,
        handle: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<PendingAuthorization>, StoreError> {
        self.check(RecordFamily::PendingAuthorization)?;
        self.inner.get_pending(handle, now).await
    }
    async fn take_pending(
        &self,
        handle: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<PendingAuthorization>, StoreError> {
        self.check(RecordFamily::PendingAuthorization)?;
        self.inner.take_pending(handle, now).await
    }
}

#[async_trait]
impl<S: Store> CodeStore for FaultyStore<S> {
    async fn insert_code(&self, code: AuthorizationCode) -> Result<(), StoreError> {
        self.check(RecordFamily::AuthorizationCode)?;
        self.inner.insert_code(code).await
    }
    async fn find_code(
        &self,
        code: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<AuthorizationCode>, StoreError> {
        self.check(RecordFamily::AuthorizationCode)?;
        self.inner.find_code(code, now).await
    }
    async fn redeem_code(
        &self,
        code: &TokenHash,
        tokens: Vec<TokenRecord>,
        now: OffsetDateTime,
    ) -> Result<CodeRedemption, StoreError> {
        self.check(RecordFamily::AuthorizationCode)?;
        self.check(RecordFamily::Token)?;
        self.inner.redeem_code(code, tokens, now).await
    }
}

#[async_trait]
impl<S: Store> TokenStore for FaultyStore<S> {
    async fn insert_tokens(&self, tokens: Vec<TokenRecord>) -> Result<(), StoreError> {
        self.check(RecordFamily::Token)?;
        self.inner.insert_tokens(tokens).await
    }
    async fn find_token(
        &self,
        hash: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<TokenRecord>, StoreError> {
        self.check(RecordFamily::Token)?;
        self.inner.find_token(hash, now).await
    }
    async fn rotate_refresh_token(
        &self,
        presented: &TokenHash,
        successors: Vec<TokenRecord>,
        now: OffsetDateTime,
    ) -> Result<Rotation, StoreError> {
        self.check(RecordFamily::Token)?;
        self.inner
            .rotate_refresh_token(presented, successors, now)
            .await
    }
    async fn revoke_token(
        &self,
        hash: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<TokenRecord>, StoreError> {
        self.check(RecordFamily::Token)?;
        self.inner.revoke_token(hash, now).await
    }
    async fn revoke_family(
        &self,
        family: &FamilyId,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        self.check(RecordFamily::Token)?;
        self.inner.revoke_family(family, now).await
    }
    async fn revoke_client_tokens(
        &self,
        client: &ClientId,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        self.check(RecordFamily::Token)?;
        self.inner.revoke_client_tokens(client, now).await
    }
    async fn list_client_tokens(
        &self,
        client: &ClientId,
        now: OffsetDateTime,
    ) -> Result<Vec<TokenRecord>, StoreError> {
        self.check(RecordFamily::Token)?;
        self.inner.list_client_tokens(client, now).await
    }
    async fn list_family(
        &self,
        family: &FamilyId,
        now: OffsetDateTime,
    ) -> Result<Vec<TokenRecord>, StoreError> {
        self.check(RecordFamily::Token)?;
        self.inner.list_family(family, now).await
    }
}

#[async_trait]
impl<S: Store> SessionStore for FaultyStore<S> {
    async fn insert_session(&self, session: SessionRecord) -> Result<(), StoreError> {
        self.check(RecordFamily::Session)?;
        self.inner.insert_session(session).await
    }
    async fn get_session(
        &self,
        id: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<SessionRecord>, StoreError> {
        self.check(RecordFamily::Session)?;
        self.inner.get_session(id, now).await
    }
    async fn add_session_client(
        &self,
        id: &TokenHash,
        client: &ClientId,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.check(RecordFamily::Session)?;
        self.inner.add_session_client(id, client, now).await
    }
    async fn delete_session(
        &self,
        id: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<SessionRecord>, StoreError> {
        self.check(RecordFamily::Session)?;
        self.inner.delete_session(id, now).await
    }
    async fn delete_subject_sessions(
        &self,
        subject: &Subject,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        self.check(RecordFamily::Session)?;
        self.inner.delete_subject_sessions(subject, now).await
    }
}

#[async_trait]
impl<S: Store> KeyStore for FaultyStore<S> {
    async fn insert_key(&self, key: KeyRecord) -> Result<(), StoreError> {
        self.check(RecordFamily::SigningKey)?;
        self.inner.insert_key(key).await
    }
    async fn list_keys(&self) -> Result<Vec<KeyRecord>, StoreError> {
        self.check(RecordFamily::SigningKey)?;
        self.inner.list_keys().await
    }
    async fn activate_key(&self, kid: &str, now: OffsetDateTime) -> Result<(), StoreError> {
        self.check(RecordFamily::SigningKey)?;
        self.inner.activate_key(kid, now).await
    }
    async fn delete_key(&self, kid: &str) -> Result<bool, StoreError> {
        self.check(RecordFamily::SigningKey)?;
        self.inner.delete_key(kid).await
    }
    async fn active_key(&self) -> Result<Option<KeyRecord>, StoreError> {
        self.check(RecordFamily::SigningKey)?;
        self.inner.active_key().await
    }
}

#[async_trait]
impl<S: Store> SweepExpired for FaultyStore<S> {
    async fn sweep_expired(&self, now: OffsetDateTime, batch: usize) -> Result<usize, StoreError> {
        self.inner.sweep_expired(now, batch).await
    }
}
