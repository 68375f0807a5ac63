//! An in-memory store: every family behind its own lock, bounded, and self-cleaning.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use async_trait::async_trait;
use portcullis_registry::{Client, ClientId, ScopeDefinition};
use portcullis_tokens::{Subject, TokenHash, TokenKind};
use time::OffsetDateTime;

use crate::{
    AuthorizationCode, ClientStore, CodeRedemption, CodeStore, FamilyId, KeyRecord, KeyStore, Page,
    PendingAuthorization, PendingAuthorizationStore, RecordFamily, Rotation, ScopeStore,
    SessionRecord, SessionStore, StoreError, SweepExpired, TokenRecord, TokenStatus, TokenStore,
};

/// How many records of each family a [`MemoryStore`] holds at most.
///
/// When a family is full, expired records are swept first; if it is still full the write
/// fails with [`StoreError::CapacityExceeded`] — a live grant is never evicted to make room.
/// A token record takes roughly 300 bytes, so the default bound of one million tokens
/// stays under about 300 MiB. The token table reserves its slots up to the token bound
/// (at most 2^20) when the store is made, so it never grows, and never stalls requests
/// while growing, below that.
///
/// ```
/// use portcullis_store::{MemoryLimits, MemoryStore};
/// let store = MemoryStore::with_limits(MemoryLimits { tokens: 10_000, ..MemoryLimits::default() });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryLimits {
    /// Registered clients. Default 100 000.
    pub clients: usize,
    /// Scope definitions. Default 10 000.
    pub scopes: usize,
    /// Pending authorizations. Default 100 000.
    pub pending: usize,
    /// Authorization codes, redeemed ones included until they expire. Default 100 000.
    pub codes: usize,
    /// Access and refresh tokens. Default 1 000 000.
    pub tokens: usize,
    /// Browser sessions. Default 100 000.
    pub sessions: usize,
    /// Signing keys, new and retired ones included; they never expire, so a full key table
    /// stays full until retired keys are deleted. Default 1 000.
    pub keys: usize,
    /// Device authorizations (RFC 8628). Default 100 000.
    pub devices: usize,
    /// Used assertion identifiers (RFC 7522, RFC 7523), kept until the assertion expires.
    /// Default 1 000 000.
    pub replays: usize,
}

impl Default for MemoryLimits {
    fn default() -> Self {
        MemoryLimits {
            clients: 100_000,
            scopes: 10_000,
            pending: 100_000,
            codes: 100_000,
            tokens: 1_000_000,
            sessions: 100_000,
            keys: 1_000,
            devices: 100_000,
            replays: 1_000_000,
        }
    }
}

/// A store that keeps everything in process memory: for tests, examples and single-process
/// deployments that can afford to lose every grant, session and signing key on restart.
///
/// Safe under concurrency (one lock per family, never held across an `.await`), bounded by
/// [`MemoryLimits`], and it removes expired records on its own: a family with an expiry
/// (pending authorizations, codes, tokens, sessions) is swept whenever it has doubled in size
/// since the last sweep or reaches its bound, using the new record's issue time as "now".
/// [`SweepExpired::sweep_expired`] is there as well.
///
/// ```
/// use portcullis_registry::{ClientKind, NewClient, ScopeCatalog};
/// use portcullis_store::{ClientStore, MemoryStore};
///
/// # tokio::runtime::Builder::new_current_thread().build().expect("runtime").block_on(async {
/// let store = MemoryStore::new();
/// let issued = NewClient::new("Billing", ClientKind::Machine)
///     .build(&ScopeCatalog::with_oidc_scopes())
///     .expect("valid client");
/// store.insert_client(issued.client.clone()).await?;
/// assert_eq!(store.get_client(&issued.client.id).await?, Some(issued.client));
/// # Ok::<(), portcullis_store::StoreError>(())
/// # }).expect("demo");
/// ```
#[derive(Debug)]
pub struct MemoryStore {
    limits: MemoryLimits,
    clients: RwLock<BTreeMap<ClientId, Client>>,
    scopes: RwLock<BTreeMap<String, ScopeDefinition>>,
    pending: Mutex<Expiring<PendingAuthorization>>,
    codes: Mutex<Expiring<CodeEntry>>,
    tokens: Mutex<TokenTable>,
    sessions: Mutex<SessionTable>,
    keys: RwLock<BTreeMap<String, KeyRecord>>,
    devices: Mutex<extensions::DeviceTable>,
    replays: Mutex<Expiring<extensions::ReplayEntry>>,
}

impl MemoryStore {
    /// An empty store with the default [`MemoryLimits`].
    ///
    /// ```
    /// let store = portcullis_store::MemoryStore::new();
    /// ```
    pub fn new() -> MemoryStore {
        MemoryStore::with_limits(MemoryLimits::default())
    }

    /// An empty store with the given bounds.
    ///
    /// ```
    /// use portcullis_store::{MemoryLimits, MemoryStore};
    /// let store = MemoryStore::with_limits(MemoryLimits { codes: 1_000, ..Default::default() });
    /// ```
    pub fn with_limits(limits: MemoryLimits) -> MemoryStore {
        MemoryStore {
            limits,
            clients: RwLock::default(),
            scopes: RwLock::default(),
            pending: Mutex::default(),
            codes: Mutex::default(),
            tokens: Mutex::new(TokenTable::with_capacity(limits.tokens)),
            sessions: Mutex::default(),
            keys: RwLock::default(),
            devices: Mutex::default(),
            replays: Mutex::default(),
        }
    }
}

impl Default for MemoryStore {
    /// [`MemoryStore::new`].
    fn default() -> MemoryStore {
        MemoryStore::new()
    }
}

/// The most token slots a [`MemoryStore`] reserves up front (its token limit, up to this).
/// A token table that never grows never stalls every request while it rehashes under its
/// lock: growing a 500 000-token table took tens of milliseconds in the load benchmark, the
/// whole of its p99. The reservation is address space (about 80 bytes a slot for the token
/// and family maps); pages are touched only as tokens arrive.
const TOKEN_SLOTS_RESERVED: usize = 1 << 20;

// A panic never happens while a lock is held (no code in a critical section can panic), so a
// poisoned lock still guards consistent data and is used as is.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

/// Records that carry their own expiry.
trait Expires {
    fn expires_at(&self) -> OffsetDateTime;
}

impl Expires for PendingAuthorization {
    fn expires_at(&self) -> OffsetDateTime {
        self.expires_at
    }
}

#[derive(Debug, Clone)]
struct CodeEntry {
    code: AuthorizationCode,
    redeemed: bool,
}

impl Expires for CodeEntry {
    fn expires_at(&self) -> OffsetDateTime {
        self.code.expires_at
    }
}

/// A map of expiring records keyed by hash, with the bookkeeping for self-cleaning.
#[derive(Debug)]
struct Expiring<T> {
    records: HashMap<TokenHash, T>,
    len_after_sweep: usize,
}

impl<T> Default for Expiring<T> {
    fn default() -> Self {
        Expiring {
            records: HashMap::new(),
            len_after_sweep: 0,
        }
    }
}

/// Sweep when the family has doubled since the last sweep (amortised O(1) per insert).
const MIN_SWEEP_LEN: usize = 1024;

fn sweep_due(len: usize, len_after_sweep: usize, incoming: usize, limit: usize) -> bool {
    len.saturating_add(incoming) > limit
        || len >= len_after_sweep.saturating_mul(2).max(MIN_SWEEP_LEN)
}

impl<T: Expires> Expiring<T> {
    fn sweep(&mut self, now: OffsetDateTime, batch: usize) -> usize {
        let expired: Vec<TokenHash> = self
            .records
            .iter()
            .filter(|(_, record)| record.expires_at() <= now)
            .map(|(key, _)| *key)
            .take(batch)
            .collect();
        for key in &expired {
            self.records.remove(key);
        }
        self.len_after_sweep = self.records.len();
        expired.len()
    }

    fn insert(
        &mut self,
        key: TokenHash,
        record: T,
        now: OffsetDateTime,
        limit: usize,
        family: RecordFamily,
    ) -> Result<(), StoreError> {
        if self.records.contains_key(&key) {
            return Err(StoreError::Conflict {
                family,
                key: key.to_string(),
            });
        }
        if sweep_due(self.records.len(), self.len_after_sweep, 1, limit) {
            self.sweep(now, usize::MAX);
        }
        if self.records.len() >= limit {
            return Err(StoreError::CapacityExceeded { family, limit });
        }
        self.records.insert(key, record);
        Ok(())
    }

    /// The live record under `key`, if any.
    fn live(&self, key: &TokenHash, now: OffsetDateTime) -> Option<&T> {
        self.records
            .get(key)
            .filter(|record| record.expires_at() > now)
    }
}

/// Tokens with their family and client indexes, kept consistent under one lock.
#[derive(Debug, Default)]
struct TokenTable {
    /// Boxed, so that growing the table moves 40 bytes per token rather than the whole
    /// record: the lock is held for the move, and every request waits for it.
    by_hash: HashMap<TokenHash, Box<TokenRecord>>,
    /// Every token by expiry, oldest first: sweeping visits only what has expired instead
    /// of scanning the table.
    by_expiry: BTreeSet<(OffsetDateTime, TokenHash)>,
    /// A family holds a handful of tokens (one for client credentials, a refresh chain
    /// otherwise): a `Vec` costs 32 bytes per member where a `BTreeSet` node costs ~400.
    by_family: HashMap<FamilyId, Vec<TokenHash>>,
    by_client: HashMap<ClientId, BTreeSet<TokenHash>>,
    len_after_sweep: usize,
}

impl TokenTable {
    /// A table with room for `limit` tokens (at most [`TOKEN_SLOTS_RESERVED`]) without
    /// growing.
    fn with_capacity(limit: usize) -> TokenTable {
        let slots = limit.min(TOKEN_SLOTS_RESERVED);
        TokenTable {
            by_hash: HashMap::with_capacity(slots),
            by_family: HashMap::with_capacity(slots),
            ..TokenTable::default()
        }
    }

    fn live(&self, hash: &TokenHash, now: OffsetDateTime) -> Option<&TokenRecord> {
        self.by_hash
            .get(hash)
            .map(|record| &**record)
            .filter(|record| !record.is_expired(now))
    }

    /// Checks that a batch can be inserted whole: no clashing hash, room under the bound.
    fn check_insert(
        &mut self,
        tokens: &[TokenRecord],
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<(), StoreError> {
        let mut seen = BTreeSet::new();
        for token in tokens {
            if self.by_hash.contains_key(&token.hash) || !seen.insert(token.hash) {
                return Err(StoreError::Conflict {
                    family: RecordFamily::Token,
                    key: token.hash.to_string(),
                });
            }
        }
        if sweep_due(
            self.by_hash.len(),
            self.len_after_sweep,
            tokens.len(),
            limit,
        ) {
            self.sweep(now, usize::MAX);
        } else {
            // Self-cleaning as it goes: a couple of expired tokens out for each one in, so
            // a store issuing short-lived tokens levels off at its live set.
            self.remove_expired(now, tokens.len().saturating_mul(2));
        }
        if self.by_hash.len().saturating_add(tokens.len()) > limit {
            return Err(StoreError::CapacityExceeded {
                family: RecordFamily::Token,
                limit,
            });
        }
        Ok(())
    }

    fn insert_unchecked(&mut self, token: TokenRecord) {
        self.by_family
            .entry(token.family.clone())
            .or_default()
            .push(token.hash);
        self.by_client
            .entry(token.client_id.clone())
            .or_default()
            .insert(token.hash);
        self.by_expiry.insert((token.expires_at, token.hash));
        self.by_hash.insert(token.hash, Box::new(token));
    }

    fn remove(&mut self, hash: &TokenHash) {
        if let Some(token) = self.by_hash.remove(hash) {
            self.by_expiry.remove(&(token.expires_at, token.hash));
            if let Some(members) = self.by_family.get_mut(&token.family) {
                members.retain(|member| member != hash);
                if members.is_empty() {
                    self.by_family.remove(&token.family);
                }
            }
            remove_from_index(&mut self.by_client, &token.client_id, hash);
        }
    }

    /// Removes up to `batch` tokens expired at `now`, oldest first, without scanning.
    fn remove_expired(&mut self, now: OffsetDateTime, batch: usize) -> usize {
        let expired: Vec<TokenHash> = self
            .by_expiry
            .iter()
            .take_while(|(expires_at, _)| now >= *expires_at)
            .take(batch)
            .map(|(_, hash)| *hash)
            .collect();
        for hash in &expired {
            self.remove(hash);
        }
        expired.len()
    }

    fn sweep(&mut self, now: OffsetDateTime, batch: usize) -> usize {
        let swept = self.remove_expired(now, batch);
        self.len_after_sweep = self.by_hash.len();
        swept
    }

    /// Revokes every not yet revoked token among `hashes` that is live at `now` (every one
    /// of them when `now` is `None`); answers how many changed.
    fn revoke_all(&mut self, hashes: Vec<TokenHash>, now: Option<OffsetDateTime>) -> u64 {
        let mut revoked = 0;
        for hash in hashes {
            if let Some(token) = self.by_hash.get_mut(&hash)
                && !now.is_some_and(|now| token.is_expired(now))
                && token.status != TokenStatus::Revoked
            {
                token.status = TokenStatus::Revoked;
                revoked += 1;
            }
        }
        revoked
    }

    fn family_hashes(&self, family: &FamilyId) -> Vec<TokenHash> {
        self.by_family
            .get(family)
            .map(|members| members.to_vec())
            .unwrap_or_default()
    }

    fn client_hashes(&self, client: &ClientId) -> Vec<TokenHash> {
        self.by_client
            .get(client)
            .map(|set| set.iter().copied().collect())
            .unwrap_or_default()
    }

    fn listed(&self, hashes: Vec<TokenHash>, now: OffsetDateTime) -> Vec<TokenRecord> {
        let mut tokens: Vec<TokenRecord> = hashes
            .iter()
            .filter_map(|hash| self.live(hash, now))
            .cloned()
            .collect();
        tokens.sort_by_key(|token| (token.issued_at, token.hash));
        tokens
    }
}

/// Sessions with their subject index, kept consistent under one lock.
#[derive(Debug, Default)]
struct SessionTable {
    by_id: HashMap<TokenHash, SessionRecord>,
    by_subject: HashMap<Subject, BTreeSet<TokenHash>>,
    len_after_sweep: usize,
}

impl SessionTable {
    fn live(&self, id: &TokenHash, now: OffsetDateTime) -> Option<&SessionRecord> {
        self.by_id
            .get(id)
            .filter(|session| !session.is_expired(now))
    }

    fn live_mut(&mut self, id: &TokenHash, now: OffsetDateTime) -> Option<&mut SessionRecord> {
        self.by_id
            .get_mut(id)
            .filter(|session| !session.is_expired(now))
    }

    fn insert(&mut self, session: SessionRecord, limit: usize) -> Result<(), StoreError> {
        if self.by_id.contains_key(&session.id) {
            return Err(StoreError::Conflict {
                family: RecordFamily::Session,
                key: session.id.to_string(),
            });
        }
        if sweep_due(self.by_id.len(), self.len_after_sweep, 1, limit) {
            self.sweep(session.created_at, usize::MAX);
        }
        if self.by_id.len() >= limit {
            return Err(StoreError::CapacityExceeded {
                family: RecordFamily::Session,
                limit,
            });
        }
        self.by_subject
            .entry(session.subject.clone())
            .or_default()
            .insert(session.id);
        self.by_id.insert(session.id, session);
        Ok(())
    }

    fn remove(&mut self, id: &TokenHash) -> Option<SessionRecord> {
        let session = self.by_id.remove(id)?;
        remove_from_index(&mut self.by_subject, &session.subject, id);
        Some(session)
    }

    fn sweep(&mut self, now: OffsetDateTime, batch: usize) -> usize {
        let expired: Vec<TokenHash> = self
            .by_id
            .values()
            .filter(|session| session.is_expired(now))
            .map(|session| session.id)
            .take(batch)
            .collect();
        for id in &expired {
            self.remove(id);
        }
        self.len_after_sweep = self.by_id.len();
        expired.len()
    }
}

fn remove_from_index<K: std::hash::Hash + Eq>(
    index: &mut HashMap<K, BTreeSet<TokenHash>>,
    key: &K,
    hash: &TokenHash,
) {
    if let Some(set) = index.get_mut(key) {
        set.remove(hash);
        if set.is_empty() {
            index.remove(key);
        }
    }
}

#[async_trait]
impl ClientStore for MemoryStore {
    async fn insert_client(&self, client: Client) -> Result<(), StoreError> {
        let mut clients = write(&self.clients);
        if clients.contains_key(&client.id) {
            return Err(StoreError::Conflict {
                family: RecordFamily::Client,
                key: client.id.to_string(),
            });
        }
        if clients.len() >= self.limits.clients {
            return Err(StoreError::CapacityExceeded {
                family: RecordFamily::Client,
                limit: self.limits.clients,
            });
        }
        clients.insert(client.id.clone(), client);
        Ok(())
    }

    async fn get_client(&self, id: &ClientId) -> Result<Option<Client>, StoreError> {
        Ok(read(&self.clients).get(id).cloned())
    }

    async fn update_client(&self, client: Client) -> Result<(), StoreError> {
        let mut clients = write(&self.clients);
        let Some(stored) = clients.get_mut(&client.id) else {
            return Err(StoreError::NotFound {
                family: RecordFamily::Client,
                key: client.id.to_string(),
            });
        };
        if client.revoked {
            // Lock order: clients, then tokens (as in delete_client).
            let mut tokens = lock(&self.tokens);
            let hashes = tokens.client_hashes(&client.id);
            tokens.revoke_all(hashes, None);
        }
        *stored = client;
        Ok(())
    }

    async fn delete_client(&self, id: &ClientId) -> Result<bool, StoreError> {
        let mut clients = write(&self.clients);
        let existed = clients.remove(id).is_some();
        let mut tokens = lock(&self.tokens);
        let hashes = tokens.client_hashes(id);
        tokens.revoke_all(hashes, None);
        Ok(existed)
    }

    async fn list_clients(&self, page: Page<ClientId>) -> Result<Vec<Client>, StoreError> {
        use std::ops::Bound;
        let clients = read(&self.clients);
        let start = match &page.after {
            Some(after) => Bound::Excluded(after),
            None => Bound::Unbounded,
        };
        Ok(clients
            .range((start, Bound::Unbounded))
            .take(page.limit)
            .map(|(_, client)| client.clone())
            .collect())
    }
}

#[async_trait]
impl ScopeStore for MemoryStore {
    async fn insert_scope(&self, scope: ScopeDefinition) -> Result<(), StoreError> {
        let mut scopes = write(&self.scopes);
        let name = scope.name.as_str().to_owned();
        if scopes.contains_key(&name) {
            return Err(StoreError::Conflict {
                family: RecordFamily::Scope,
                key: name,
            });
        }
        if scopes.len() >= self.limits.scopes {
            return Err(StoreError::CapacityExceeded {
                family: RecordFamily::Scope,
                limit: self.limits.scopes,
            });
        }
        scopes.insert(name, scope);
        Ok(())
    }

    async fn get_scope(&self, name: &str) -> Result<Option<ScopeDefinition>, StoreError> {
        Ok(read(&self.scopes).get(name).cloned())
    }

    async fn list_scopes(&self) -> Result<Vec<ScopeDefinition>, StoreError> {
        Ok(read(&self.scopes).values().cloned().collect())
    }

    async fn delete_scope(&self, name: &str) -> Result<bool, StoreError> {
        Ok(write(&self.scopes).remove(name).is_some())
    }
}

#[async_trait]
impl PendingAuthorizationStore for MemoryStore {
    async fn insert_pending(&self, pending: PendingAuthorization) -> Result<(), StoreError> {
        let now = pending.created_at;
        lock(&self.pending).insert(
            pending.handle,
            pending,
            now,
            self.limits.pending,
            RecordFamily::PendingAuthorization,
        )
    }

    async fn get_pending(
        &self,
        handle: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<PendingAuthorization>, StoreError> {
        Ok(lock(&self.pending).live(handle, now).cloned())
    }

    async fn take_pending(
        &self,
        handle: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<PendingAuthorization>, StoreError> {
        let mut pending = lock(&self.pending);
        let taken = pending.records.remove(handle);
        Ok(taken.filter(|record| !record.is_expired(now)))
    }
}

#[async_trait]
impl CodeStore for MemoryStore {
    async fn insert_code(&self, code: AuthorizationCode) -> Result<(), StoreError> {
        let now = code.issued_at;
        let key = code.code;
        let entry = CodeEntry {
            code,
            redeemed: false,
        };
        lock(&self.codes).insert(
            key,
            entry,
            now,
            self.limits.codes,
            RecordFamily::AuthorizationCode,
        )
    }

    async fn find_code(
        &self,
        code: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<AuthorizationCode>, StoreError> {
        Ok(lock(&self.codes)
            .live(code, now)
            .map(|entry| entry.code.clone()))
    }

    async fn redeem_code(
        &self,
        code: &TokenHash,
        tokens: Vec<TokenRecord>,
        now: OffsetDateTime,
    ) -> Result<CodeRedemption, StoreError> {
        // Lock order: codes, then tokens.
        let mut codes = lock(&self.codes);
        let Some(entry) = codes.records.get_mut(code) else {
            return Ok(CodeRedemption::NotFound);
        };
        if entry.code.is_expired(now) {
            return Ok(CodeRedemption::NotFound);
        }
        if entry.redeemed {
            return Ok(CodeRedemption::AlreadyRedeemed(entry.code.clone()));
        }
        if tokens.iter().any(|token| token.family != entry.code.family) {
            return Err(StoreError::InvalidRecord {
                family: RecordFamily::Token,
                reason: "tokens issued for a code must join the code's family",
            });
        }
        let mut table = lock(&self.tokens);
        table.check_insert(&tokens, now, self.limits.tokens)?;
        for token in tokens {
            table.insert_unchecked(token);
        }
        entry.redeemed = true;
        Ok(CodeRedemption::Redeemed(entry.code.clone()))
    }
}

#[async_trait]
impl TokenStore for MemoryStore {
    async fn insert_tokens(&self, tokens: Vec<TokenRecord>) -> Result<(), StoreError> {
        let Some(now) = tokens.iter().map(|token| token.issued_at).max() else {
            return Ok(());
        };
        let mut table = lock(&self.tokens);
        table.check_insert(&tokens, now, self.limits.tokens)?;
        for token in tokens {
            table.insert_unchecked(token);
        }
        Ok(())
    }

    async fn find_token(
        &self,
        hash: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<TokenRecord>, StoreError> {
        Ok(lock(&self.tokens).live(hash, now).cloned())
    }

    async fn rotate_refresh_token(
        &self,
        presented: &TokenHash,
        successors: Vec<TokenRecord>,
        now: OffsetDateTime,
    ) -> Result<Rotation, StoreError> {
        let mut table = lock(&self.tokens);
        let Some(previous) = table.live(presented, now).cloned() else {
            return Ok(Rotation::Invalid);
        };
        if previous.kind != TokenKind::RefreshToken {
            return Ok(Rotation::Invalid);
        }
        match previous.status {
            TokenStatus::Revoked => Ok(Rotation::Invalid),
            TokenStatus::Rotated => {
                let hashes = table.family_hashes(&previous.family);
                let revoked = table.revoke_all(hashes, Some(now));
                Ok(Rotation::ReuseDetected {
                    family: previous.family,
                    revoked,
                })
            }
            TokenStatus::Active => {
                if successors.is_empty() {
                    return Err(StoreError::InvalidRecord {
                        family: RecordFamily::Token,
                        reason: "a rotation needs at least one successor",
                    });
                }
                if successors.iter().any(|s| s.family != previous.family) {
                    return Err(StoreError::InvalidRecord {
                        family: RecordFamily::Token,
                        reason: "successors must stay in the presented token's family",
                    });
                }
                table.check_insert(&successors, now, self.limits.tokens)?;
                if let Some(stored) = table.by_hash.get_mut(presented) {
                    stored.status = TokenStatus::Rotated;
                }
                for token in successors {
                    table.insert_unchecked(token);
                }
                Ok(Rotation::Rotated { previous })
            }
        }
    }

    async fn revoke_token(
        &self,
        hash: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<TokenRecord>, StoreError> {
        let mut table = lock(&self.tokens);
        let before = table.live(hash, now).cloned();
        if before.is_some() {
            table.revoke_all(vec![*hash], Some(now));
        }
        Ok(before)
    }

    async fn revoke_family(
        &self,
        family: &FamilyId,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let mut table = lock(&self.tokens);
        let hashes = table.family_hashes(family);
        Ok(table.revoke_all(hashes, Some(now)))
    }

    async fn revoke_client_tokens(
        &self,
        client: &ClientId,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let mut table = lock(&self.tokens);
        let hashes = table.client_hashes(client);
        Ok(table.revoke_all(hashes, Some(now)))
    }

    async fn list_client_tokens(
        &self,
        client: &ClientId,
        now: OffsetDateTime,
    ) -> Result<Vec<TokenRecord>, StoreError> {
        let table = lock(&self.tokens);
        Ok(table.listed(table.client_hashes(client), now))
    }

    async fn list_family(
        &self,
        family: &FamilyId,
        now: OffsetDateTime,
    ) -> Result<Vec<TokenRecord>, StoreError> {
        let table = lock(&self.tokens);
        Ok(table.listed(table.family_hashes(family), now))
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    async fn insert_session(&self, session: SessionRecord) -> Result<(), StoreError> {
        lock(&self.sessions).insert(session, self.limits.sessions)
    }

    async fn get_session(
        &self,
        id: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<SessionRecord>, StoreError> {
        Ok(lock(&self.sessions).live(id, now).cloned())
    }

    async fn add_session_client(
        &self,
        id: &TokenHash,
        client: &ClientId,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut sessions = lock(&self.sessions);
        let Some(session) = sessions.live_mut(id, now) else {
            return Ok(false);
        };
        session.clients.insert(client.clone());
        Ok(true)
    }

    async fn delete_session(
        &self,
        id: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let removed = lock(&self.sessions).remove(id);
        Ok(removed.filter(|session| !session.is_expired(now)))
    }

    async fn delete_subject_sessions(
        &self,
        subject: &Subject,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let mut sessions = lock(&self.sessions);
        let ids: Vec<TokenHash> = sessions
            .by_subject
            .get(subject)
            .map(|set| set.iter().copied().collect())
            .unwrap_or_default();
        let mut live = 0;
        for id in &ids {
            if sessions
                .remove(id)
                .is_some_and(|session| !session.is_expired(now))
            {
                live += 1;
            }
        }
        Ok(live)
    }
}

#[async_trait]
impl KeyStore for MemoryStore {
    async fn insert_key(&self, key: KeyRecord) -> Result<(), StoreError> {
        if key.is_active() {
            return Err(StoreError::InvalidRecord {
                family: RecordFamily::SigningKey,
                reason: "insert a signing key inactive, then activate it with activate_key",
            });
        }
        let mut keys = write(&self.keys);
        if keys.contains_key(&key.kid) {
            return Err(StoreError::Conflict {
                family: RecordFamily::SigningKey,
                key: key.kid,
            });
        }
        if keys.len() >= self.limits.keys {
            return Err(StoreError::CapacityExceeded {
                family: RecordFamily::SigningKey,
                limit: self.limits.keys,
            });
        }
        keys.insert(key.kid.clone(), key);
        Ok(())
    }

    async fn list_keys(&self) -> Result<Vec<KeyRecord>, StoreError> {
        let mut keys: Vec<KeyRecord> = read(&self.keys).values().cloned().collect();
        // The map is in kid order and the sort is stable: equal `created_at` stays by kid.
        keys.sort_by_key(|key| key.created_at);
        Ok(keys)
    }

    async fn activate_key(&self, kid: &str, now: OffsetDateTime) -> Result<(), StoreError> {
        let mut keys = write(&self.keys);
        let Some(target) = keys.get(kid) else {
            return Err(StoreError::NotFound {
                family: RecordFamily::SigningKey,
                key: kid.to_owned(),
            });
        };
        if target.is_active() {
            return Ok(());
        }
        if target.is_retired() {
            return Err(StoreError::InvalidRecord {
                family: RecordFamily::SigningKey,
                reason: "a retired signing key is never activated again; insert a new key",
            });
        }
        for key in keys.values_mut() {
            if key.is_active() {
                key.retired_at = Some(now);
            }
        }
        if let Some(target) = keys.get_mut(kid) {
            target.activated_at = Some(now);
        }
        Ok(())
    }

    async fn delete_key(&self, kid: &str) -> Result<bool, StoreError> {
        let mut keys = write(&self.keys);
        match keys.get(kid) {
            None => Ok(false),
            Some(key) if key.is_active() => Err(StoreError::InvalidRecord {
                family: RecordFamily::SigningKey,
                reason: "the active signing key cannot be deleted; activate another key first",
            }),
            Some(_) => Ok(keys.remove(kid).is_some()),
        }
    }
}

#[async_trait]
impl SweepExpired for MemoryStore {
    async fn sweep_expired(&self, now: OffsetDateTime, batch: usize) -> Result<usize, StoreError> {
        let mut swept = lock(&self.pending).sweep(now, batch);
        swept += lock(&self.codes).sweep(now, batch.saturating_sub(swept));
        swept += lock(&self.tokens).sweep(now, batch.saturating_sub(swept));
        swept += lock(&self.sessions).sweep(now, batch.saturating_sub(swept));
        swept += lock(&self.devices).sweep(now, batch.saturating_sub(swept));
        swept += lock(&self.replays).sweep(now, batch.saturating_sub(swept));
        Ok(swept)
    }
}

mod extensions;
#[cfg(test)]
mod tests;
