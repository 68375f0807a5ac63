//! One store made of two: a long-lived store for clients, scopes, tokens and signing keys
//! (SQLite, PostgreSQL) and a short-lived store for pending authorizations and browser
//! sessions (Redis, with native key expiry), authorization codes in either.
//!
//! [`RoutedStore`] routes every record family to one of the two and is a [`Store`] when
//! they are, so the provider never knows. The short-lived side needs only
//! [`ShortLivedStore`]; keeping codes there as well takes [`CodeClaimStore`], the
//! claim / confirm / release protocol that stands in for the atomic
//! [`CodeStore::redeem_code`] when the code and its tokens live in different backends.
//!
//! [`Store`]: crate::Store

use std::marker::PhantomData;

use async_trait::async_trait;
use portcullis_registry::{Client, ClientId, ScopeCatalog, ScopeDefinition};
use portcullis_tokens::{Subject, TokenHash};
use time::OffsetDateTime;

use crate::{
    AuthorizationCode, ClientStore, CodeRedemption, CodeStore, DeviceAuthorization,
    DeviceAuthorizationStore, DevicePoll, DeviceStatus, FamilyId, KeyRecord, KeyStore, Page,
    PendingAuthorization, PendingAuthorizationStore, RecordFamily, ReplayStore, Rotation,
    ScopeStore, SessionRecord, SessionStore, StoreError, SweepExpired, TokenRecord, TokenStore,
};

/// What the long-lived side of a [`RoutedStore`] keeps: clients, the scope catalog, access
/// and refresh tokens, signing keys (and authorization codes, with [`CodesInLongLived`]).
///
/// Implemented automatically for every type with these traits.
///
/// ```
/// fn long_lived(_: &impl portcullis_store::LongLivedStore) {}
/// long_lived(&portcullis_store::MemoryStore::new());
/// ```
pub trait LongLivedStore:
    ClientStore + ScopeStore + TokenStore + KeyStore + SweepExpired + Send + Sync + 'static
{
}

impl<T> LongLivedStore for T where
    T: ClientStore + ScopeStore + TokenStore + KeyStore + SweepExpired + Send + Sync + 'static
{
}

/// What the short-lived side of a [`RoutedStore`] keeps: pending authorizations and browser
/// sessions (and authorization codes, with [`CodesInShortLived`] and a [`CodeClaimStore`]).
///
/// Implemented automatically for every type with these traits.
///
/// ```
/// fn short_lived(_: &impl portcullis_store::ShortLivedStore) {}
/// short_lived(&portcullis_store::MemoryStore::new());
/// ```
pub trait ShortLivedStore:
    PendingAuthorizationStore + SessionStore + SweepExpired + Send + Sync + 'static
{
}

impl<T> ShortLivedStore for T where
    T: PendingAuthorizationStore + SessionStore + SweepExpired + Send + Sync + 'static
{
}

/// What [`CodeClaimStore::claim_code`] found.
///
/// ```
/// use portcullis_store::CodeClaim;
/// # fn handle(claim: CodeClaim) {
/// match claim {
///     CodeClaim::Claimed(code) => { /* store the tokens, then confirm or release */ }
///     CodeClaim::AlreadyRedeemed(code) => { /* invalid_grant; revoke code.family */ }
///     CodeClaim::NotFound => { /* invalid_grant */ }
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeClaim {
    /// This caller holds the code: nobody else can redeem it until the claim is confirmed
    /// (then never) or released.
    Claimed(AuthorizationCode),
    /// The code has been redeemed, or another caller holds it.
    AlreadyRedeemed(AuthorizationCode),
    /// No such code, or it has expired.
    NotFound,
}

/// Authorization codes kept apart from the tokens they are exchanged for: the short-lived
/// half of [`CodeStore`], for a [`RoutedStore`] built with
/// [`with_short_lived_codes`](RoutedStore::with_short_lived_codes).
///
/// A code and its tokens in two backends cannot be redeemed in one atomic step, so
/// redeeming becomes three: [`claim_code`](Self::claim_code) takes the code for one caller,
/// the routed store writes the tokens to the long-lived store, then
/// [`confirm_code`](Self::confirm_code) spends the code for good or
/// [`release_code`](Self::release_code) gives it back. [`RoutedStore`] documents what this
/// costs compared to the atomic contract.
///
/// Contract:
/// - `insert_code` fails with [`StoreError::Conflict`] when the hash exists and writes
///   nothing.
/// - `find_code` returns the record whether it is unused, claimed or redeemed, unless it
///   has expired at `now`.
/// - `claim_code` is atomic: of any number of concurrent callers on an unused, live code
///   exactly one gets [`CodeClaim::Claimed`]. A redeemed code is
///   [`CodeClaim::AlreadyRedeemed`], an expired or unknown one [`CodeClaim::NotFound`]. A
///   code another caller holds is `AlreadyRedeemed` too, but only after waiting (bounded)
///   for that claim's outcome: if it is released meanwhile, the waiting caller claims it
///   instead. The wait is what lets a replay's caller revoke the tokens of the redemption
///   it raced with: they are stored by the time it hears `AlreadyRedeemed`.
/// - `confirm_code` marks a claimed code redeemed; `release_code` makes it unused again.
///   Each changes only a claimed code and answers whether it did. A claim that is never
///   settled (its holder died) keeps the code unusable until it expires: failure is closed.
/// - A redeemed or claimed code is remembered until it expires, like any other.
///
/// ```
/// # async fn demo(store: &impl portcullis_store::CodeClaimStore) -> Result<(), portcullis_store::StoreError> {
/// use portcullis_store::CodeClaim;
/// use portcullis_tokens::TokenHash;
/// let now = time::OffsetDateTime::now_utc();
/// let presented = TokenHash::of("pc_ac_…");
/// if let CodeClaim::Claimed(code) = store.claim_code(&presented, now).await? {
///     let stored = true; // … write the tokens for code.family elsewhere …
///     if stored {
///         store.confirm_code(&presented).await?;
///     } else {
///         store.release_code(&presented).await?;
///     }
/// }
/// # Ok(()) }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot keep authorization codes apart from their tokens",
    note = "`RoutedStore::new` keeps codes in the long-lived store instead; \
            `RoutedStore::with_short_lived_codes` needs a short-lived store implementing \
            `CodeClaimStore`, such as `portcullis_store_redis::RedisStore`"
)]
#[async_trait]
pub trait CodeClaimStore: Send + Sync {
    /// Stores a newly issued code ([`StoreError::Conflict`] if the hash exists).
    async fn insert_code(&self, code: AuthorizationCode) -> Result<(), StoreError>;
    /// The code's record, unused, claimed or redeemed, unless it has expired.
    async fn find_code(
        &self,
        code: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<AuthorizationCode>, StoreError>;
    /// Takes the code for this caller, atomically: exactly one caller wins.
    async fn claim_code(
        &self,
        code: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<CodeClaim, StoreError>;
    /// Marks a claimed code redeemed, for good; `false` if it was not claimed.
    async fn confirm_code(&self, code: &TokenHash) -> Result<bool, StoreError>;
    /// Makes a claimed code unused again; `false` if it was not claimed.
    async fn release_code(&self, code: &TokenHash) -> Result<bool, StoreError>;
}

/// Marks a [`RoutedStore`] that keeps authorization codes in its long-lived store, next to
/// the tokens: redeeming a code is that store's own atomic [`CodeStore::redeem_code`].
///
/// ```
/// use portcullis_store::{CodesInLongLived, MemoryStore, RoutedStore};
/// let store: RoutedStore<MemoryStore, MemoryStore, CodesInLongLived> =
///     RoutedStore::new(MemoryStore::new(), MemoryStore::new());
/// ```
#[derive(Debug, Clone, Copy)]
pub enum CodesInLongLived {}

/// Marks a [`RoutedStore`] that keeps authorization codes in its short-lived store, which
/// implements [`CodeClaimStore`]; redeeming is claim, store the tokens, confirm or release.
///
/// ```
/// use portcullis_store::{CodeClaimStore, CodesInShortLived, LongLivedStore, RoutedStore, ShortLivedStore};
/// fn build<L: LongLivedStore, S: ShortLivedStore + CodeClaimStore>(
///     long: L,
///     short: S,
/// ) -> RoutedStore<L, S, CodesInShortLived> {
///     RoutedStore::with_short_lived_codes(long, short)
/// }
/// ```
#[derive(Debug, Clone, Copy)]
pub enum CodesInShortLived {}

/// A [`Store`](crate::Store) that routes each record family to one of two stores: a
/// long-lived one `L` (clients, scopes, tokens, signing keys) and a short-lived one `S`
/// (pending authorizations, browser sessions). `C` says where authorization codes go.
///
/// Every operation goes to exactly one of the two stores, except
/// [`sweep_expired`](SweepExpired::sweep_expired), which sweeps both (long-lived first,
/// the short-lived store gets what is left of the batch), and `redeem_code` with codes in
/// the short-lived store (below). Operations that must be atomic stay within one store:
/// revoking a client revokes its tokens in `L`, ending a session happens in `S`.
///
/// ```
/// use portcullis_registry::{ClientKind, NewClient, ScopeCatalog};
/// use portcullis_store::{ClientStore, MemoryStore, RoutedStore, Store};
/// use std::sync::Arc;
///
/// # tokio::runtime::Builder::new_current_thread().build().expect("runtime").block_on(async {
/// // In production: a SQL store and a Redis store. Any two stores combine.
/// let store = RoutedStore::new(MemoryStore::new(), MemoryStore::new());
/// let issued = NewClient::new("Reporting job", ClientKind::Machine)
///     .build(&ScopeCatalog::with_oidc_scopes())
///     .expect("valid client");
/// store.insert_client(issued.client.clone()).await?;
/// assert!(store.long_lived().get_client(&issued.client.id).await?.is_some());
///
/// let provider_store: Arc<dyn Store> = Arc::new(store);
/// # Ok::<(), portcullis_store::StoreError>(())
/// # }).expect("demo");
/// ```
///
/// # Where authorization codes go
///
/// [`CodeStore::redeem_code`] marks a code used **and** stores its tokens in one atomic
/// step. Tokens are long-lived, so that step can only be atomic where the code lives with
/// them:
///
/// - [`RoutedStore::new`] ([`CodesInLongLived`], the default type) keeps codes in `L` and
///   `redeem_code` is `L`'s own atomic operation: the full contract, no failure window.
///   Prefer it unless the long-lived store's write load is what you are relieving.
/// - [`RoutedStore::with_short_lived_codes`] ([`CodesInShortLived`]) keeps codes in `S`,
///   which must implement [`CodeClaimStore`], and redeems in steps:
///   1. `S.claim_code`: one caller wins; every other gets `AlreadyRedeemed` (once the
///      winner has settled, or after `S`'s bounded wait).
///   2. Tokens outside the code's family: release, [`StoreError::InvalidRecord`].
///   3. `L.insert_tokens(tokens)`.
///   4. Stored: `S.confirm_code`, [`CodeRedemption::Redeemed`]. Refused with an error that
///      guarantees nothing was written (`Conflict`, `InvalidRecord`, `NotFound`,
///      `CapacityExceeded`, `Unavailable`): `S.release_code` and the error — the code can
///      be redeemed again, as with an atomic store. Any other error (`Backend`: the write
///      may have happened): `S.confirm_code` and the error — the code is spent.
///
///   Where this differs from the atomic contract (every case fails closed: no code is
///   ever redeemable while tokens for it are stored):
///   - The process dies, or `S` becomes unreachable, between claim and settling: the code
///     stays claimed, unusable, until it expires (at most 10 minutes); the client gets an
///     error and must start a new authorization. Tokens stored just before are never
///     delivered; a replay of the code gets `AlreadyRedeemed` after `S`'s wait, and its
///     caller revokes them with the family.
///   - A `Backend` error from `L` spends the code although the tokens may be missing.
///   - Confirming fails after the tokens were stored: the code stays claimed, which every
///     other caller already reads as redeemed; the redemption still succeeds.
///   - A replay that races the redemption waits for it only as long as `S` allows; if
///     storing the tokens takes longer, the replay's caller revokes the family before the
///     tokens exist and they stay valid until they expire.
///   - Releasing trusts `L` to report `Unavailable` only when nothing was written, as
///     [`StoreError::Unavailable`] documents.
#[derive(Debug, Clone)]
pub struct RoutedStore<L, S, C = CodesInLongLived> {
    long: L,
    short: S,
    codes: PhantomData<fn() -> C>,
}

impl<L, S> RoutedStore<L, S, CodesInLongLived> {
    /// Routes clients, scopes, tokens, signing keys **and authorization codes** to `long`,
    /// pending authorizations and browser sessions to `short`.
    ///
    /// ```
    /// use portcullis_store::{MemoryStore, RoutedStore};
    /// let store = RoutedStore::new(MemoryStore::new(), MemoryStore::new());
    /// ```
    pub fn new(long: L, short: S) -> RoutedStore<L, S, CodesInLongLived> {
        RoutedStore {
            long,
            short,
            codes: PhantomData,
        }
    }
}

impl<L, S> RoutedStore<L, S, CodesInShortLived> {
    /// Routes clients, scopes, tokens and signing keys to `long`; pending authorizations,
    /// browser sessions **and authorization codes** to `short`. Read
    /// [where authorization codes go](RoutedStore#where-authorization-codes-go) first.
    ///
    /// ```
    /// use portcullis_store::{CodeClaimStore, LongLivedStore, RoutedStore, ShortLivedStore, Store};
    /// fn build<L: LongLivedStore, S: ShortLivedStore + CodeClaimStore>(long: L, short: S) -> impl Store {
    ///     RoutedStore::with_short_lived_codes(long, short)
    /// }
    /// ```
    pub fn with_short_lived_codes(long: L, short: S) -> RoutedStore<L, S, CodesInShortLived> {
        RoutedStore {
            long,
            short,
            codes: PhantomData,
        }
    }
}

impl<L, S, C> RoutedStore<L, S, C> {
    /// The long-lived store.
    ///
    /// ```
    /// use portcullis_store::{MemoryStore, RoutedStore};
    /// let store = RoutedStore::new(MemoryStore::new(), MemoryStore::new());
    /// let _sql_side: &MemoryStore = store.long_lived();
    /// ```
    pub fn long_lived(&self) -> &L {
        &self.long
    }

    /// The short-lived store.
    ///
    /// ```
    /// use portcullis_store::{MemoryStore, RoutedStore};
    /// let store = RoutedStore::new(MemoryStore::new(), MemoryStore::new());
    /// let _redis_side: &MemoryStore = store.short_lived();
    /// ```
    pub fn short_lived(&self) -> &S {
        &self.short
    }

    /// The two stores, long-lived first.
    ///
    /// ```
    /// use portcullis_store::{MemoryStore, RoutedStore};
    /// let (long, short) = RoutedStore::new(MemoryStore::new(), MemoryStore::new()).into_parts();
    /// ```
    pub fn into_parts(self) -> (L, S) {
        (self.long, self.short)
    }
}

#[async_trait]
impl<L: ClientStore, S: Send + Sync, C> ClientStore for RoutedStore<L, S, C> {
    async fn insert_client(&self, client: Client) -> Result<(), StoreError> {
        self.long.insert_client(client).await
    }
    async fn get_client(&self, id: &ClientId) -> Result<Option<Client>, StoreError> {
        self.long.get_client(id).await
    }
    async fn update_client(&self, client: Client) -> Result<(), StoreError> {
        self.long.update_client(client).await
    }
    async fn delete_client(&self, id: &ClientId) -> Result<bool, StoreError> {
        self.long.delete_client(id).await
    }
    async fn list_clients(&self, page: Page<ClientId>) -> Result<Vec<Client>, StoreError> {
        self.long.list_clients(page).await
    }
}

#[async_trait]
impl<L: ScopeStore, S: Send + Sync, C> ScopeStore for RoutedStore<L, S, C> {
    async fn insert_scope(&self, scope: ScopeDefinition) -> Result<(), StoreError> {
        self.long.insert_scope(scope).await
    }
    async fn get_scope(&self, name: &str) -> Result<Option<ScopeDefinition>, StoreError> {
        self.long.get_scope(name).await
    }
    async fn list_scopes(&self) -> Result<Vec<ScopeDefinition>, StoreError> {
        self.long.list_scopes().await
    }
    async fn delete_scope(&self, name: &str) -> Result<bool, StoreError> {
        self.long.delete_scope(name).await
    }
    async fn scope_catalog(&self) -> Result<ScopeCatalog, StoreError> {
        self.long.scope_catalog().await
    }
}

#[async_trait]
impl<L: Send + Sync, S: PendingAuthorizationStore, C> PendingAuthorizationStore
    for RoutedStore<L, S, C>
{
    async fn insert_pending(&self, pending: PendingAuthorization) -> Result<(), StoreError> {
        self.short.insert_pending(pending).await
    }
    async fn get_pending(
        &self,
        handle: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<PendingAuthorization>, StoreError> {
        self.short.get_pending(handle, now).await
    }
    async fn take_pending(
        &self,
        handle: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<PendingAuthorization>, StoreError> {
        self.short.take_pending(handle, now).await
    }
}

#[async_trait]
impl<L: CodeStore, S: Send + Sync> CodeStore for RoutedStore<L, S, CodesInLongLived> {
    async fn insert_code(&self, code: AuthorizationCode) -> Result<(), StoreError> {
        self.long.insert_code(code).await
    }
    async fn find_code(
        &self,
        code: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<AuthorizationCode>, StoreError> {
        self.long.find_code(code, now).await
    }
    async fn redeem_code(
        &self,
        code: &TokenHash,
        tokens: Vec<TokenRecord>,
        now: OffsetDateTime,
    ) -> Result<CodeRedemption, StoreError> {
        self.long.redeem_code(code, tokens, now).await
    }
}

/// Whether a failed write is guaranteed to have written nothing, so a claimed code may be
/// given back. Listed variant by variant so a new one needs a decision here.
fn wrote_nothing(error: &StoreError) -> bool {
    match error {
        StoreError::Conflict { .. }
        | StoreError::NotFound { .. }
        | StoreError::InvalidRecord { .. }
        | StoreError::CapacityExceeded { .. }
        | StoreError::Unavailable { .. } => true,
        StoreError::Backend { .. } => false,
    }
}

#[async_trait]
impl<L: TokenStore, S: CodeClaimStore> CodeStore for RoutedStore<L, S, CodesInShortLived> {
    async fn insert_code(&self, code: AuthorizationCode) -> Result<(), StoreError> {
        self.short.insert_code(code).await
    }
    async fn find_code(
        &self,
        code: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<AuthorizationCode>, StoreError> {
        self.short.find_code(code, now).await
    }
    async fn redeem_code(
        &self,
        code: &TokenHash,
        tokens: Vec<TokenRecord>,
        now: OffsetDateTime,
    ) -> Result<CodeRedemption, StoreError> {
        let record = match self.short.claim_code(code, now).await? {
            CodeClaim::Claimed(record) => record,
            CodeClaim::AlreadyRedeemed(record) => {
                return Ok(CodeRedemption::AlreadyRedeemed(record));
            }
            CodeClaim::NotFound => return Ok(CodeRedemption::NotFound),
        };
        if tokens.iter().any(|token| token.family != record.family) {
            // Should releasing fail, the code stays claimed: unusable, never half-redeemed.
            let _ = self.short.release_code(code).await;
            return Err(StoreError::InvalidRecord {
                family: RecordFamily::Token,
                reason: "tokens issued for a code must join the code's family",
            });
        }
        match self.long.insert_tokens(tokens).await {
            Ok(()) => {
                // A claim that cannot be confirmed stays claimed, which every other caller
                // reads as redeemed: the redemption stands either way.
                let _ = self.short.confirm_code(code).await;
                Ok(CodeRedemption::Redeemed(record))
            }
            Err(error) if wrote_nothing(&error) => {
                let _ = self.short.release_code(code).await;
                Err(error)
            }
            Err(error) => {
                // The tokens may or may not be stored: spend the code so it can never be
                // redeemed while they exist.
                let _ = self.short.confirm_code(code).await;
                Err(error)
            }
        }
    }
}

#[async_trait]
impl<L: TokenStore, S: Send + Sync, C> TokenStore for RoutedStore<L, S, C> {
    async fn insert_tokens(&self, tokens: Vec<TokenRecord>) -> Result<(), StoreError> {
        self.long.insert_tokens(tokens).await
    }
    async fn find_token(
        &self,
        hash: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<TokenRecord>, StoreError> {
        self.long.find_token(hash, now).await
    }
    async fn rotate_refresh_token(
        &self,
        presented: &TokenHash,
        successors: Vec<TokenRecord>,
        now: OffsetDateTime,
    ) -> Result<Rotation, StoreError> {
        self.long
            .rotate_refresh_token(presented, successors, now)
            .await
    }
    async fn revoke_token(
        &self,
        hash: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<TokenRecord>, StoreError> {
        self.long.revoke_token(hash, now).await
    }
    async fn revoke_family(
        &self,
        family: &FamilyId,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        self.long.revoke_family(family, now).await
    }
    async fn revoke_client_tokens(
        &self,
        client: &ClientId,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        self.long.revoke_client_tokens(client, now).await
    }
    async fn list_client_tokens(
        &self,
        client: &ClientId,
        now: OffsetDateTime,
    ) -> Result<Vec<TokenRecord>, StoreError> {
        self.long.list_client_tokens(client, now).await
    }
    async fn list_family(
        &self,
        family: &FamilyId,
        now: OffsetDateTime,
    ) -> Result<Vec<TokenRecord>, StoreError> {
        self.long.list_family(family, now).await
    }
}

#[async_trait]
impl<L: Send + Sync, S: SessionStore, C> SessionStore for RoutedStore<L, S, C> {
    async fn insert_session(&self, session: SessionRecord) -> Result<(), StoreError> {
        self.short.insert_session(session).await
    }
    async fn get_session(
        &self,
        id: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<SessionRecord>, StoreError> {
        self.short.get_session(id, now).await
    }
    async fn add_session_client(
        &self,
        id: &TokenHash,
        client: &ClientId,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.short.add_session_client(id, client, now).await
    }
    async fn delete_session(
        &self,
        id: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<SessionRecord>, StoreError> {
        self.short.delete_session(id, now).await
    }
    async fn delete_subject_sessions(
        &self,
        subject: &Subject,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        self.short.delete_subject_sessions(subject, now).await
    }
}

#[async_trait]
impl<L: KeyStore, S: Send + Sync, C> KeyStore for RoutedStore<L, S, C> {
    async fn insert_key(&self, key: KeyRecord) -> Result<(), StoreError> {
        self.long.insert_key(key).await
    }
    async fn list_keys(&self) -> Result<Vec<KeyRecord>, StoreError> {
        self.long.list_keys().await
    }
    async fn activate_key(&self, kid: &str, now: OffsetDateTime) -> Result<(), StoreError> {
        self.long.activate_key(kid, now).await
    }
    async fn delete_key(&self, kid: &str) -> Result<bool, StoreError> {
        self.long.delete_key(kid).await
    }
    async fn active_key(&self) -> Result<Option<KeyRecord>, StoreError> {
        self.long.active_key().await
    }
}

/// Device authorizations live with the long-lived side: their poll and decision steps are
/// atomic there, and they last minutes, like codes.
#[async_trait]
impl<L: DeviceAuthorizationStore, S: Send + Sync, C> DeviceAuthorizationStore
    for RoutedStore<L, S, C>
{
    async fn insert_device(&self, device: DeviceAuthorization) -> Result<(), StoreError> {
        self.long.insert_device(device).await
    }
    async fn device_by_user_code(
        &self,
        user_code: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<DeviceAuthorization>, StoreError> {
        self.long.device_by_user_code(user_code, now).await
    }
    async fn decide_device(
        &self,
        user_code: &TokenHash,
        decision: DeviceStatus,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.long.decide_device(user_code, decision, now).await
    }
    async fn poll_device(
        &self,
        device_code: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<DevicePoll, StoreError> {
        self.long.poll_device(device_code, now).await
    }
}

/// Used assertion identifiers live with the long-lived side.
#[async_trait]
impl<L: ReplayStore, S: Send + Sync, C> ReplayStore for RoutedStore<L, S, C> {
    async fn first_use(
        &self,
        key: TokenHash,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.long.first_use(key, expires_at, now).await
    }
}

#[async_trait]
impl<L: SweepExpired, S: SweepExpired, C> SweepExpired for RoutedStore<L, S, C> {
    async fn sweep_expired(&self, now: OffsetDateTime, batch: usize) -> Result<usize, StoreError> {
        let long = self.long.sweep_expired(now, batch).await?;
        let short = self
            .short
            .sweep_expired(now, batch.saturating_sub(long))
            .await?;
        Ok(long.saturating_add(short))
    }
}
