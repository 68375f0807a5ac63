//! The resource server's handle: a validator and a realm.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use http::{HeaderMap, Response};

use crate::{AccessToken, BearerError, bearer_token};

/// Turns a presented bearer token into an [`AccessToken`], or says why not.
///
/// Implementations must answer [`BearerError::InvalidToken`] for anything that is not a
/// live access token (unknown, expired, revoked, its client revoked) and
/// [`BearerError::Unavailable`] only when they cannot decide.
#[async_trait]
pub trait TokenValidator: Send + Sync + 'static {
    /// Validates `token` (the value after `Bearer `).
    async fn validate(&self, token: &str) -> Result<AccessToken, BearerError>;
}

/// What protected routes share: how tokens are validated and the realm named in challenges.
/// Cheap to clone.
///
/// ```
/// use portcullis_resource::{Resource, StoreValidator};
/// use std::sync::Arc;
/// let resource = Resource::new(StoreValidator::new(Arc::new(portcullis_store::MemoryStore::new())));
/// assert_eq!(resource.realm_name(), "portcullis");
/// ```
#[derive(Clone)]
pub struct Resource {
    validator: Arc<dyn TokenValidator>,
    realm: Arc<str>,
}

impl std::fmt::Debug for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resource")
            .field("realm", &self.realm)
            .finish_non_exhaustive()
    }
}

impl Resource {
    /// A resource server validating tokens with `validator`, realm `portcullis`.
    pub fn new(validator: impl TokenValidator) -> Resource {
        Resource {
            validator: Arc::new(validator),
            realm: Arc::from("portcullis"),
        }
    }

    /// Names the protection space in `WWW-Authenticate` challenges (RFC 6750 §3).
    #[must_use]
    pub fn realm(mut self, realm: impl Into<String>) -> Resource {
        self.realm = Arc::from(realm.into());
        self
    }

    /// The realm.
    pub fn realm_name(&self) -> &str {
        &self.realm
    }

    /// Reads the bearer token from `headers` (the `Authorization` header only) and
    /// validates it.
    ///
    /// # Errors
    ///
    /// The [`BearerError`] to answer with.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<AccessToken, BearerError> {
        let token = bearer_token(headers)?;
        self.validator.validate(token).await
    }

    /// The `WWW-Authenticate` value for `err` in this realm.
    pub fn challenge(&self, err: &BearerError) -> String {
        err.challenge(&self.realm)
    }

    /// The full error response for `err` in this realm.
    pub fn error_response(&self, err: &BearerError) -> Response<Bytes> {
        err.to_response(&self.realm)
    }
}
