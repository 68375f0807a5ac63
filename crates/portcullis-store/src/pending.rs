//! Pending authorizations: an authorization request (RFC 6749 §4.1.1) that passed
//! validation and waits for the application's login and consent pages.

use async_trait::async_trait;
use portcullis_registry::{ClientId, ScopeSet};
use portcullis_tokens::TokenHash;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::StoreError;

/// A validated authorization request waiting for the user's decision.
///
/// Keyed by the SHA-256 of its `pc_pa_` handle; the plain handle travels only through
/// the user's browser to the app's pages and back to `provider.complete`.
///
/// ```
/// use portcullis_registry::{ClientId, ScopeSet};
/// use portcullis_store::PendingAuthorization;
/// use portcullis_tokens::{mint, TokenKind};
/// use time::{Duration, OffsetDateTime};
///
/// let handle = mint(TokenKind::PendingAuthorization)?;
/// let now = OffsetDateTime::now_utc();
/// let pending = PendingAuthorization {
///     handle: handle.lookup_key(),
///     client_id: ClientId::new("web-app").expect("valid id"),
///     redirect_uri: "https://app.example/callback".into(),
///     redirect_uri_in_request: true,
///     response_type: "code".into(),
///     response_mode: "query".into(),
///     scopes: ScopeSet::parse("openid view:users").expect("valid scopes"),
///     state: Some("af0ifjsldkj".into()),
///     nonce: None,
///     code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
///     code_challenge_method: Some("S256".into()),
///     prompt: Vec::new(),
///     max_age: None,
///     created_at: now,
///     expires_at: now + Duration::minutes(10),
///     resources: Vec::new(),
///     dpop_jkt: None,
/// };
/// assert!(!pending.is_expired(now));
/// # Ok::<(), portcullis_tokens::TokenError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingAuthorization {
    /// SHA-256 of the handle given to the app's login and consent pages.
    pub handle: TokenHash,
    /// The client that asked.
    pub client_id: ClientId,
    /// Where the response goes: the request's `redirect_uri`, or the client's only
    /// registered one when the request omitted it (RFC 6749 §3.1.2.3).
    pub redirect_uri: String,
    /// Whether the request carried `redirect_uri`; if so the token request must repeat it
    /// (RFC 6749 §4.1.3).
    pub redirect_uri_in_request: bool,
    /// `response_type` as requested (`code`, `token`, …).
    pub response_type: String,
    /// How the response is delivered: `query`, `fragment` or `form_post`.
    pub response_mode: String,
    /// The scopes requested, already checked against the client and the catalog.
    pub scopes: ScopeSet,
    /// The client's `state`, echoed back unchanged.
    pub state: Option<String>,
    /// OpenID Connect `nonce`, echoed into the ID token.
    pub nonce: Option<String>,
    /// PKCE `code_challenge` (RFC 7636 §4.3).
    pub code_challenge: Option<String>,
    /// PKCE `code_challenge_method`: `S256` or `plain`.
    pub code_challenge_method: Option<String>,
    /// OpenID Connect `prompt` values (`none`, `login`, `consent`, …).
    pub prompt: Vec<String>,
    /// OpenID Connect `max_age` in seconds.
    pub max_age: Option<u32>,
    /// When the request arrived.
    pub created_at: OffsetDateTime,
    /// After this instant the request is gone.
    pub expires_at: OffsetDateTime,
    /// RFC 8707 `resource` values of the request: absolute URIs without fragments.
    #[serde(default)]
    pub resources: Vec<String>,
    /// RFC 9449 §10 `dpop_jkt`: the DPoP key the code will be bound to.
    #[serde(default)]
    pub dpop_jkt: Option<String>,
}

impl PendingAuthorization {
    /// Whether the request has expired at `now`.
    ///
    /// ```
    /// # use portcullis_registry::{ClientId, ScopeSet};
    /// # use portcullis_store::PendingAuthorization;
    /// # use portcullis_tokens::TokenHash;
    /// # use time::{Duration, OffsetDateTime};
    /// # let now = OffsetDateTime::now_utc();
    /// # let pending = PendingAuthorization { handle: TokenHash::of("x"),
    /// #     client_id: ClientId::new("c").expect("id"), redirect_uri: String::new(),
    /// #     redirect_uri_in_request: false,
    /// #     response_type: "code".into(), response_mode: "query".into(),
    /// #     scopes: ScopeSet::default(), state: None, nonce: None, code_challenge: None,
    /// #     code_challenge_method: None, prompt: vec![], max_age: None,
    /// #     created_at: now, expires_at: now + Duration::minutes(10),
    /// #     resources: vec![], dpop_jkt: None };
    /// assert!(pending.is_expired(now + Duration::minutes(10)));
    /// ```
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        now >= self.expires_at
    }
}

/// Where pending authorizations wait.
///
/// Contract: an expired record is never returned; `take_pending` returns the record and
/// removes it in one atomic step, so of any number of concurrent callers exactly one
/// gets it.
///
/// ```
/// # async fn demo(store: &impl portcullis_store::PendingAuthorizationStore) -> Result<(), portcullis_store::StoreError> {
/// use portcullis_tokens::TokenHash;
/// let now = time::OffsetDateTime::now_utc();
/// match store.take_pending(&TokenHash::of("pc_pa_from_the_form"), now).await? {
///     Some(pending) => println!("complete the request of {}", pending.client_id),
///     None => println!("expired or already completed"),
/// }
/// # Ok(()) }
/// ```
#[async_trait]
pub trait PendingAuthorizationStore: Send + Sync {
    /// Stores a new pending authorization ([`StoreError::Conflict`] if the handle exists).
    async fn insert_pending(&self, pending: PendingAuthorization) -> Result<(), StoreError>;
    /// The pending authorization with this handle, unless expired or taken.
    async fn get_pending(
        &self,
        handle: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<PendingAuthorization>, StoreError>;
    /// Removes and returns the pending authorization, atomically: exactly one caller wins.
    async fn take_pending(
        &self,
        handle: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<PendingAuthorization>, StoreError>;
}
