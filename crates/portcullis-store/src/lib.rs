//! Storage for portcullis: one async trait per record family, plain records, an in-memory
//! store, and the conformance kit every store implementation runs against itself.
//!
//! | family | trait | record |
//! |---|---|---|
//! | clients | [`ClientStore`] | [`portcullis_registry::Client`] |
//! | scope catalog | [`ScopeStore`] | [`portcullis_registry::ScopeDefinition`] |
//! | pending authorizations | [`PendingAuthorizationStore`] | [`PendingAuthorization`] |
//! | authorization codes | [`CodeStore`] | [`AuthorizationCode`] |
//! | access and refresh tokens | [`TokenStore`] | [`TokenRecord`], grouped by [`FamilyId`] |
//! | browser sessions | [`SessionStore`] | [`SessionRecord`] |
//! | signing keys | [`KeyStore`] | [`KeyRecord`] |
//! | device authorizations (RFC 8628) | [`DeviceAuthorizationStore`] | [`DeviceAuthorization`] |
//! | used assertion ids (RFC 7522, 7523) | [`ReplayStore`] | a key and an expiry |
//!
//! [`Store`] is the first seven together (plus [`SweepExpired`]); anything implementing
//! them is a `Store`. The extension grants' families (device authorizations, used assertion
//! ids) are not part of it: the grant that needs one takes it on its own, so a store
//! without them still serves every core grant. [`MemoryStore`] and the SQL stores have them. Each trait's documentation states its contract. Operations that must
//! be atomic — redeeming a code, taking a pending authorization, rotating a refresh token,
//! cutting off a revoked client, ending a session, switching the active signing key — are
//! single methods, never get-then-write in callers.
//!
//! Time is passed in (`now`) rather than read from the system clock, so expiry is
//! deterministic in tests. Presented secrets never reach a store: tokens, codes and session
//! handles are keyed by their SHA-256 ([`portcullis_tokens::TokenHash`]) and clients carry
//! only a secret hash. The one secret a store does hold is the signing keys' private keys
//! ([`KeyRecord`]), so its storage deserves the protection given to a key file.
//!
//! ```
//! use portcullis_registry::{ClientKind, NewClient, ScopeCatalog};
//! use portcullis_store::{ClientStore, MemoryStore, Store};
//! use std::sync::Arc;
//!
//! # tokio::runtime::Builder::new_current_thread().build().expect("runtime").block_on(async {
//! let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
//! let issued = NewClient::new("Reporting job", ClientKind::Machine)
//!     .build(&ScopeCatalog::with_oidc_scopes())
//!     .expect("valid client");
//! store.insert_client(issued.client.clone()).await?;
//! assert!(store.get_client(&issued.client.id).await?.is_some());
//! # Ok::<(), portcullis_store::StoreError>(())
//! # }).expect("demo");
//! ```
//!
//! # Conformance kit
//!
//! With the feature `conformance`, `portcullis_store::conformance` holds one async test
//! function per contract clause and `conformance_tests!` turns them into `#[test]`s for
//! your store; its module documentation shows how. The in-memory store passes all of them.

mod client;
mod code;
mod device;
mod error;
mod keys;
mod memory;
mod pending;
mod replay;
mod routed;
mod scope;
mod session;
mod sweep;
mod token;

#[cfg(feature = "conformance")]
pub mod conformance;
#[cfg(feature = "testing")]
pub mod testing;

pub use client::{ClientStore, Page};
pub use code::{AuthorizationCode, CodeRedemption, CodeStore};
pub use device::{DeviceAuthorization, DeviceAuthorizationStore, DevicePoll, DeviceStatus};
pub use error::{RecordFamily, StoreError};
pub use keys::{KeyRecord, KeyStore};
pub use memory::{MemoryLimits, MemoryStore};
pub use pending::{PendingAuthorization, PendingAuthorizationStore};
pub use replay::ReplayStore;
pub use routed::{
    CodeClaim, CodeClaimStore, CodesInLongLived, CodesInShortLived, LongLivedStore, RoutedStore,
    ShortLivedStore,
};
pub use scope::ScopeStore;
pub use session::{SessionRecord, SessionStore};
pub use sweep::SweepExpired;
pub use token::{FamilyId, Rotation, TokenRecord, TokenStatus, TokenStore};

/// Every storage trait together: what a provider needs from its store.
///
/// Implemented automatically for any type that implements all the family traits, so a store
/// may also route families to different backends by implementing each trait separately.
///
/// ```
/// fn takes_a_store(_: std::sync::Arc<dyn portcullis_store::Store>) {}
/// takes_a_store(std::sync::Arc::new(portcullis_store::MemoryStore::new()));
/// ```
pub trait Store:
    ClientStore
    + ScopeStore
    + PendingAuthorizationStore
    + CodeStore
    + TokenStore
    + SessionStore
    + KeyStore
    + SweepExpired
    + Send
    + Sync
    + 'static
{
}

impl<T> Store for T where
    T: ClientStore
        + ScopeStore
        + PendingAuthorizationStore
        + CodeStore
        + TokenStore
        + SessionStore
        + KeyStore
        + SweepExpired
        + Send
        + Sync
        + 'static
{
}
