//! Authorization codes (RFC 6749 §4.1.2): single use, short-lived, and a reused code
//! revokes what it issued (§4.1.2, §10.5; RFC 9700 §4.2.1).

use async_trait::async_trait;
use portcullis_registry::{ClientId, ScopeSet};
use portcullis_tokens::{Subject, TokenHash};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{FamilyId, StoreError, TokenRecord};

/// An issued authorization code.
///
/// `family` is chosen when the code is issued; every token issued for the code joins that
/// family, so a second use of the code can revoke them all.
///
/// ```
/// use portcullis_registry::{ClientId, ScopeSet};
/// use portcullis_store::{AuthorizationCode, FamilyId};
/// use portcullis_tokens::{mint, Subject, TokenKind};
/// use time::{Duration, OffsetDateTime};
///
/// let code = mint(TokenKind::AuthorizationCode)?;
/// let now = OffsetDateTime::now_utc();
/// let record = AuthorizationCode {
///     code: code.lookup_key(),
///     client_id: ClientId::new("web-app").expect("valid id"),
///     redirect_uri: Some("https://app.example/callback".into()),
///     subject: Subject::new("user-1").expect("valid subject"),
///     scopes: ScopeSet::parse("openid").expect("valid scope"),
///     nonce: None,
///     code_challenge: None,
///     code_challenge_method: None,
///     auth_time: Some(now),
///     family: FamilyId::generate()?,
///     issued_at: now,
///     expires_at: now + Duration::minutes(1),
///     resources: Vec::new(),
///     dpop_jkt: None,
/// };
/// assert!(!record.is_expired(now));
/// # Ok::<(), portcullis_tokens::TokenError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationCode {
    /// SHA-256 of the code.
    pub code: TokenHash,
    /// The client the code was issued to (RFC 6749 §4.1.3: it must match at redemption).
    pub client_id: ClientId,
    /// The `redirect_uri` parameter of the authorization request, if it had one: the token
    /// request must then repeat it exactly (RFC 6749 §4.1.3).
    pub redirect_uri: Option<String>,
    /// The user who approved the request.
    pub subject: Subject,
    /// The scopes granted.
    pub scopes: ScopeSet,
    /// OpenID Connect `nonce` of the request.
    pub nonce: Option<String>,
    /// PKCE `code_challenge` (RFC 7636 §4.4).
    pub code_challenge: Option<String>,
    /// PKCE `code_challenge_method`.
    pub code_challenge_method: Option<String>,
    /// When the user authenticated.
    pub auth_time: Option<OffsetDateTime>,
    /// The grant family the code's tokens join.
    pub family: FamilyId,
    /// When the code was issued.
    pub issued_at: OffsetDateTime,
    /// After this instant the code is unusable (at most 10 minutes, RFC 6749 §4.1.2).
    pub expires_at: OffsetDateTime,
    /// The resources (RFC 8707 `resource`) the user authorized; the token request may name
    /// some of them and no other.
    #[serde(default)]
    pub resources: Vec<String>,
    /// The DPoP key thumbprint the code is bound to (RFC 9449 §10 `dpop_jkt`): the token
    /// request must prove possession of that key.
    #[serde(default)]
    pub dpop_jkt: Option<String>,
}

impl AuthorizationCode {
    /// Whether the code has expired at `now`.
    ///
    /// ```
    /// # use portcullis_registry::{ClientId, ScopeSet};
    /// # use portcullis_store::{AuthorizationCode, FamilyId};
    /// # use portcullis_tokens::{Subject, TokenHash};
    /// # use time::{Duration, OffsetDateTime};
    /// # let now = OffsetDateTime::now_utc();
    /// # let record = AuthorizationCode { code: TokenHash::of("c"),
    /// #     client_id: ClientId::new("c").expect("id"), redirect_uri: None,
    /// #     subject: Subject::new("u").expect("sub"), scopes: ScopeSet::default(), nonce: None,
    /// #     code_challenge: None, code_challenge_method: None, auth_time: None,
    /// #     family: FamilyId::generate()?, issued_at: now, expires_at: now + Duration::minutes(1),
    /// #     resources: vec![], dpop_jkt: None };
    /// assert!(record.is_expired(now + Duration::minutes(1)));
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        now >= self.expires_at
    }
}

/// What happened when a code was redeemed.
///
/// ```
/// use portcullis_store::CodeRedemption;
/// # fn handle(outcome: CodeRedemption) {
/// match outcome {
///     CodeRedemption::Redeemed(code) => { /* issue tokens in code.family */ }
///     CodeRedemption::AlreadyRedeemed(code) => { /* invalid_grant; revoke code.family */ }
///     CodeRedemption::NotFound => { /* invalid_grant */ }
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeRedemption {
    /// This caller redeemed the code and its tokens are stored; the code can never be
    /// redeemed again.
    Redeemed(AuthorizationCode),
    /// The code was redeemed before: nothing was stored, the request must be denied and the
    /// tokens issued for the code revoked (RFC 6749 §4.1.2).
    AlreadyRedeemed(AuthorizationCode),
    /// No such code, or it has expired. Nothing was stored.
    NotFound,
}

/// Where authorization codes are kept.
///
/// Contract: redeeming is one atomic step that marks the code used **and** stores the
/// tokens issued for it, so a failure never leaves a used code without tokens, or tokens
/// for a code that is still usable. Of any number of concurrent callers redeeming the same
/// live code, exactly one gets [`CodeRedemption::Redeemed`] (and only its tokens are
/// stored); every other gets [`CodeRedemption::AlreadyRedeemed`] with the same record. A
/// redeemed code is remembered until it expires so reuse can be detected; an expired code
/// is [`CodeRedemption::NotFound`] and `find_code` does not return it.
///
/// The token endpoint reads the code with `find_code`, checks client, redirect URI and
/// PKCE, builds the tokens, then calls `redeem_code`; a failed check leaves the code alone.
///
/// ```
/// # async fn demo(store: &impl portcullis_store::CodeStore, tokens: Vec<portcullis_store::TokenRecord>) -> Result<(), portcullis_store::StoreError> {
/// use portcullis_store::CodeRedemption;
/// use portcullis_tokens::TokenHash;
/// let now = time::OffsetDateTime::now_utc();
/// let presented = TokenHash::of("pc_ac_…");
/// if let Some(code) = store.find_code(&presented, now).await? {
///     // … check code.client_id, code.redirect_uri and PKCE, build `tokens` in code.family …
///     match store.redeem_code(&presented, tokens, now).await? {
///         CodeRedemption::Redeemed(_) => { /* answer with the tokens */ }
///         CodeRedemption::AlreadyRedeemed(code) => { /* revoke code.family; invalid_grant */ }
///         CodeRedemption::NotFound => { /* expired meanwhile; invalid_grant */ }
///     }
/// }
/// # Ok(()) }
/// ```
#[async_trait]
pub trait CodeStore: Send + Sync {
    /// Stores a newly issued code ([`StoreError::Conflict`] if the hash exists).
    async fn insert_code(&self, code: AuthorizationCode) -> Result<(), StoreError>;
    /// The code's record, redeemed or not, unless it has expired.
    async fn find_code(
        &self,
        code: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<AuthorizationCode>, StoreError>;
    /// Marks the code redeemed and stores `tokens` (all in the code's family), atomically.
    ///
    /// `tokens` that clash with stored ones fail with [`StoreError::Conflict`], tokens of
    /// another family with [`StoreError::InvalidRecord`]; either way nothing changes.
    async fn redeem_code(
        &self,
        code: &TokenHash,
        tokens: Vec<TokenRecord>,
        now: OffsetDateTime,
    ) -> Result<CodeRedemption, StoreError>;
}
