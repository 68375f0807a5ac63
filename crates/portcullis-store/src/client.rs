//! Registered clients (RFC 6749 §2).

use async_trait::async_trait;
use portcullis_registry::{Client, ClientId};

use crate::StoreError;

/// A page of a listing: up to `limit` records whose key sorts after `after`.
///
/// ```
/// use portcullis_registry::ClientId;
/// use portcullis_store::Page;
/// let first: Page<ClientId> = Page::first(50);
/// assert_eq!(first.limit, 50);
/// assert!(first.after.is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<K> {
    /// Return only records whose key sorts strictly after this one (`None`: from the start).
    pub after: Option<K>,
    /// The most records to return.
    pub limit: usize,
}

impl<K> Page<K> {
    /// The first `limit` records.
    ///
    /// ```
    /// let page: portcullis_store::Page<String> = portcullis_store::Page::first(10);
    /// assert_eq!(page.limit, 10);
    /// ```
    pub fn first(limit: usize) -> Page<K> {
        Page { after: None, limit }
    }
}

/// Where clients are kept.
///
/// Contract (checked by [`conformance`](crate#conformance-kit)):
/// - `insert_client` fails with [`StoreError::Conflict`] when the id exists and writes nothing.
/// - `update_client` replaces the whole record, [`StoreError::NotFound`] if absent. When the
///   new record has `revoked == true`, every token issued to the client is revoked **in the
///   same operation** (the client is cut off at once).
/// - `delete_client` removes the client and revokes every token issued to it, atomically;
///   it answers whether the client existed.
/// - `list_clients` returns clients ordered by id.
///
/// ```
/// # async fn demo(store: &impl portcullis_store::ClientStore) -> Result<(), portcullis_store::StoreError> {
/// use portcullis_registry::ClientId;
/// let id = ClientId::new("billing-service").expect("valid id");
/// if let Some(client) = store.get_client(&id).await? {
///     println!("{} is revoked: {}", client.name, client.revoked);
/// }
/// # Ok(()) }
/// ```
#[async_trait]
pub trait ClientStore: Send + Sync {
    /// Adds a new client.
    async fn insert_client(&self, client: Client) -> Result<(), StoreError>;
    /// The client with this id, if any.
    async fn get_client(&self, id: &ClientId) -> Result<Option<Client>, StoreError>;
    /// Replaces an existing client; revoking it revokes its tokens in the same operation.
    async fn update_client(&self, client: Client) -> Result<(), StoreError>;
    /// Removes a client and revokes its tokens; answers whether it existed.
    async fn delete_client(&self, id: &ClientId) -> Result<bool, StoreError>;
    /// Clients ordered by id.
    async fn list_clients(&self, page: Page<ClientId>) -> Result<Vec<Client>, StoreError>;
}
