//! A small read cache for the records every token request reads and that rarely change:
//! clients (by id) and the scope catalog.
//!
//! Without it, each request to the token, introspection or revocation endpoint pays a
//! database round trip for its client and another for the scope catalog before it does its
//! own work. With it, those reads come from memory.
//!
//! Correctness rules:
//!
//! - Every write through this store (insert, update, delete of a client or scope)
//!   invalidates the entry **after** the database has committed it, so the next read
//!   through this store sees the change at once: a revoked or deleted client is refused by
//!   the very next request (DESIGN §3).
//! - A read that raced with a write never caches what it read: each family carries a
//!   generation, bumped on every invalidation, and a value read from the database is only
//!   kept if the generation did not move while it was being read.
//! - A write made by *another* process (another instance sharing PostgreSQL, or another
//!   program on the SQLite file) is seen when the entry expires: after the TTL. Tokens are
//!   not cached, so revoking a client there still revokes its tokens everywhere at once; only
//!   the issuing of new ones on the other instances would lag by up to the TTL. That is why
//!   the cache is **off by default**: a store turns it on with `with_read_cache_ttl` when it
//!   is the only writer (one process on its SQLite file, a single provider instance).
//! - The cache is bounded ([`MAX_CACHED_CLIENTS`]); unknown client ids are never cached,
//!   so probing random ids cannot fill it.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use portcullis_registry::{Client, ClientId, ScopeDefinition};

/// The suggested read-cache TTL for a store that is its database's only writer: how long
/// [`SqliteStore`](crate::SqliteStore) and [`PostgresStore`](crate::PostgresStore) serve a
/// client (`get_client`) or the scope list (`list_scopes`) from memory before reading it
/// again, once turned on with `with_read_cache_ttl(CACHE_TTL)`. The cache is off by default,
/// so a client revoked on another instance is refused everywhere at once.
///
/// Writes through the same store (or a clone of it) are seen at once: they invalidate the
/// entry after committing. A write made through another store instance (another process
/// sharing the database) is seen within this time; tokens are never cached, so revoking a
/// client there still refuses its tokens everywhere at once. `with_read_cache_ttl` on either
/// store changes it (`Duration::ZERO`: no cache).
///
/// ```
/// assert_eq!(portcullis_store_sql::CACHE_TTL, std::time::Duration::from_secs(1));
/// ```
pub const CACHE_TTL: Duration = Duration::from_secs(1);

/// The most clients kept in the cache of one store; unknown client ids are never cached.
///
/// ```
/// assert_eq!(portcullis_store_sql::MAX_CACHED_CLIENTS, 10_000);
/// ```
pub const MAX_CACHED_CLIENTS: usize = 10_000;

#[derive(Debug, Default)]
struct Clients {
    entries: HashMap<ClientId, (Client, Instant)>,
    generation: u64,
}

#[derive(Debug, Default)]
struct Scopes {
    entry: Option<(Vec<ScopeDefinition>, Instant)>,
    generation: u64,
}

/// The cache of one store (shared by its clones).
#[derive(Debug)]
pub(crate) struct ReadCache {
    clients: Mutex<Clients>,
    scopes: Mutex<Scopes>,
    ttl: Duration,
}

impl Default for ReadCache {
    /// Off: every read goes to the database.
    fn default() -> Self {
        ReadCache::with_ttl(Duration::ZERO)
    }
}

// No code in a critical section can panic: a poisoned lock still guards consistent data.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl ReadCache {
    /// A cache whose entries live `ttl`; `Duration::ZERO` caches nothing.
    pub(crate) fn with_ttl(ttl: Duration) -> ReadCache {
        ReadCache {
            clients: Mutex::default(),
            scopes: Mutex::default(),
            ttl,
        }
    }

    /// The cached client, or the generation to hand back to [`ReadCache::keep_client`]
    /// after reading it from the database.
    pub(crate) fn client(&self, id: &ClientId) -> Result<Client, u64> {
        let clients = lock(&self.clients);
        match clients.entries.get(id) {
            Some((client, at)) if at.elapsed() < self.ttl => Ok(client.clone()),
            _ => Err(clients.generation),
        }
    }

    /// Keeps `client`, read from the database at `generation`, unless a write happened since.
    pub(crate) fn keep_client(&self, generation: u64, client: &Client) {
        let mut clients = lock(&self.clients);
        if clients.generation != generation {
            return;
        }
        if clients.entries.len() >= MAX_CACHED_CLIENTS {
            clients.entries.retain(|_, (_, at)| at.elapsed() < self.ttl);
            if clients.entries.len() >= MAX_CACHED_CLIENTS {
                return;
            }
        }
        clients
            .entries
            .insert(client.id.clone(), (client.clone(), Instant::now()));
    }

    /// Forgets client `id` (after a write to it).
    pub(crate) fn invalidate_client(&self, id: &ClientId) {
        let mut clients = lock(&self.clients);
        clients.generation = clients.generation.wrapping_add(1);
        clients.entries.remove(id);
    }

    /// The cached scope catalog, or the generation to hand back to
    /// [`ReadCache::keep_scopes`].
    pub(crate) fn scopes(&self) -> Result<Vec<ScopeDefinition>, u64> {
        let scopes = lock(&self.scopes);
        match &scopes.entry {
            Some((list, at)) if at.elapsed() < self.ttl => Ok(list.clone()),
            _ => Err(scopes.generation),
        }
    }

    /// Keeps the catalog read at `generation`, unless a write happened since.
    pub(crate) fn keep_scopes(&self, generation: u64, list: &[ScopeDefinition]) {
        let mut scopes = lock(&self.scopes);
        if scopes.generation == generation {
            scopes.entry = Some((list.to_vec(), Instant::now()));
        }
    }

    /// Forgets the catalog (after a write to a scope).
    pub(crate) fn invalidate_scopes(&self) {
        let mut scopes = lock(&self.scopes);
        scopes.generation = scopes.generation.wrapping_add(1);
        scopes.entry = None;
    }
}

#[cfg(test)]
mod tests;
