//! Authorization codes (RFC 6749 §4.1.2): single use, short-lived, and a reused code
//! revokes what it issued (§4.1.2, §10.5; RFC 9700 §4.2.1).

use async_trait::async_trait;
use portcullis_registry::{ClientId, ScopeSet};
use portcullis_tokens::{Subject, TokenHash};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{FamilyId, StoreError};

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
///     redirect_uri: "https://app.example/callback".into(),
///     subject: Subject::new("user-1").expect("valid subject"),
///     scopes: ScopeSet::parse("openid").expect("valid scope"),
///     nonce: None,
///     code_challenge: None,
///     code_challenge_method: None,
///     auth_time: Some(now),
///     family: FamilyId::generate()?,
///     issued_at: now,
///     expires_at: now + Duration::minutes(1),
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
    /// The `redirect_uri` of the authorization request, to compare at redemption.
    pub redirect_uri: String,
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
    /// #     client_id: ClientId::new("c").expect("id"), redirect_uri: String::new(),
    /// #     subject: Subject::new("u").expect("sub"), scopes: ScopeSet::default(), nonce: None,
    /// #     code_challenge: None, code_challenge_method: None, auth_time: None,
    /// #     family: FamilyId::generate()?, issued_at: now, expires_at: now + Duration::minutes(1) };
    /// assert!(record.is_expired(now + Duration::minutes(1)));
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        now >= self.expires_at
    }
}

/// What happened when a code was presented.
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
    /// This caller redeemed the code; it can never be redeemed again.
    Redeemed(AuthorizationCode),
    /// The code was redeemed before: the request must be denied and the tokens issued for
    /// the code revoked (RFC 6749 §4.1.2).
    AlreadyRedeemed(AuthorizationCode),
    /// No such code, or it has expired.
    NotFound,
}

/// Where authorization codes are kept.
///
/// Contract: `take_code` is atomic — of any number of concurrent callers presenting the
/// same live code, exactly one gets [`CodeRedemption::Redeemed`] and every other gets
/// [`CodeRedemption::AlreadyRedeemed`] with the same record. A redeemed code is remembered
/// until it expires so reuse can be detected; an expired code is [`CodeRedemption::NotFound`].
///
/// ```
/// # async fn demo(store: &impl portcullis_store::CodeStore) -> Result<(), portcullis_store::StoreError> {
/// use portcullis_store::CodeRedemption;
/// use portcullis_tokens::TokenHash;
/// let now = time::OffsetDateTime::now_utc();
/// if let CodeRedemption::Redeemed(code) = store.take_code(&TokenHash::of("pc_ac_…"), now).await? {
///     println!("issue tokens to {}", code.client_id);
/// }
/// # Ok(()) }
/// ```
#[async_trait]
pub trait CodeStore: Send + Sync {
    /// Stores a newly issued code ([`StoreError::Conflict`] if the hash exists).
    async fn insert_code(&self, code: AuthorizationCode) -> Result<(), StoreError>;
    /// Redeems a code, atomically.
    async fn take_code(
        &self,
        code: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<CodeRedemption, StoreError>;
}
