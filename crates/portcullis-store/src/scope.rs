//! The scope catalog (RFC 6749 §3.3): the scopes the application defines.

use async_trait::async_trait;
use portcullis_registry::{ScopeCatalog, ScopeDefinition};

use crate::StoreError;

/// Where the scope catalog is kept.
///
/// Contract: names are unique ([`StoreError::Conflict`] on a second insert);
/// `list_scopes` returns definitions ordered by name.
///
/// ```
/// # async fn demo(store: &impl portcullis_store::ScopeStore) -> Result<(), portcullis_store::StoreError> {
/// let catalog = store.scope_catalog().await?;
/// println!("{} scopes defined", catalog.len());
/// # Ok(()) }
/// ```
#[async_trait]
pub trait ScopeStore: Send + Sync {
    /// Adds a scope definition.
    async fn insert_scope(&self, scope: ScopeDefinition) -> Result<(), StoreError>;
    /// The definition of the scope with this name, if any.
    async fn get_scope(&self, name: &str) -> Result<Option<ScopeDefinition>, StoreError>;
    /// Every definition, ordered by name.
    async fn list_scopes(&self) -> Result<Vec<ScopeDefinition>, StoreError>;
    /// Removes a scope; answers whether it existed.
    async fn delete_scope(&self, name: &str) -> Result<bool, StoreError>;

    /// The stored definitions as a [`ScopeCatalog`].
    async fn scope_catalog(&self) -> Result<ScopeCatalog, StoreError> {
        let mut catalog = ScopeCatalog::new();
        for scope in self.list_scopes().await? {
            // A store keeps names unique, so a duplicate here cannot happen; skip it if a
            // broken backend returns one rather than fail every request.
            let _ = catalog.insert(scope);
        }
        Ok(catalog)
    }
}
