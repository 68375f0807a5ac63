//! The resource server's handle: a validator and a realm.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use http::{HeaderMap, Method, Response, Uri};

use crate::{AccessToken, BearerError, DpopPolicy, TokenScheme, authorization_token, bearer_token};

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
    dpop: Arc<DpopPolicy>,
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
            dpop: Arc::new(DpopPolicy::default()),
        }
    }

    /// How DPoP proofs are checked (RFC 9449 §7). Default [`DpopPolicy::default`]: DPoP-bound
    /// tokens are accepted with a valid proof, but proofs are not remembered.
    ///
    /// ```
    /// use portcullis_resource::{DpopPolicy, Resource, StoreValidator};
    /// let store = std::sync::Arc::new(portcullis_store::MemoryStore::new());
    /// let resource = Resource::new(StoreValidator::new(store.clone()))
    ///     .dpop(DpopPolicy::default().replay_store(store));
    /// assert!(format!("{:?}", resource.dpop_policy()).contains("replay_store: true"));
    /// ```
    #[must_use]
    pub fn dpop(mut self, policy: DpopPolicy) -> Resource {
        self.dpop = Arc::new(policy);
        self
    }

    /// The DPoP policy in force.
    ///
    /// ```
    /// use portcullis_resource::{Resource, StoreValidator};
    /// let resource = Resource::new(StoreValidator::new(std::sync::Arc::new(portcullis_store::MemoryStore::new())));
    /// assert!(format!("{:?}", resource.dpop_policy()).contains("replay_store: false"));
    /// ```
    pub fn dpop_policy(&self) -> &DpopPolicy {
        &self.dpop
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
        let access = self.validator.validate(token).await?;
        if access.confirmation.is_some() {
            // RFC 9449 §7.2: a DPoP-bound token is never accepted as a bearer token; only
            // `authenticate_request` can check its proof.
            return Err(self.dpop.refuse(
                "invalid_token",
                "the access token is DPoP-bound: send it with the DPoP scheme and a proof",
            ));
        }
        Ok(access)
    }

    /// Reads the access token of a `method` request for `uri` from `headers`, as
    /// `Authorization: Bearer` (RFC 6750 §2.1) or `Authorization: DPoP` with a `DPoP` proof
    /// (RFC 9449 §7.1), and validates it: a bearer token as [`authenticate`](Resource::authenticate)
    /// does; a DPoP-bound token only with the DPoP scheme and a proof by its key whose
    /// `htm`, `htu` and `ath` match this request and token (refused, when a replay store is
    /// configured, if presented again).
    ///
    /// ```
    /// use portcullis_resource::{Resource, StoreValidator};
    /// # tokio::runtime::Builder::new_current_thread().build().expect("rt").block_on(async {
    /// let resource = Resource::new(StoreValidator::new(std::sync::Arc::new(portcullis_store::MemoryStore::new())));
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert("authorization", "DPoP pc_at_unknown".parse().expect("header"));
    /// let uri: http::Uri = "https://api.example/me".parse().expect("uri");
    /// let err = resource.authenticate_request(&http::Method::GET, &uri, &headers).await.unwrap_err();
    /// assert_eq!(err.status(), 401);
    /// # });
    /// ```
    ///
    /// # Errors
    ///
    /// The [`BearerError`] to answer with; [`BearerError::Dpop`] for DPoP failures.
    pub async fn authenticate_request(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
    ) -> Result<AccessToken, BearerError> {
        let (scheme, token) = authorization_token(headers)?;
        let access = self.validator.validate(token).await?;
        let dpop = scheme == TokenScheme::Dpop;
        self.dpop
            .check(method, uri, headers, token, dpop, &access)
            .await?;
        Ok(access)
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
