//! Access and refresh tokens (RFC 6749 §1.4, §1.5), grouped in grant families so a whole
//! grant can be revoked at once; refresh rotation with reuse detection (RFC 9700 §4.14.2).

use std::fmt;

use async_trait::async_trait;
use portcullis_registry::{ClientId, RoleAssignment, ScopeSet};
use portcullis_tokens::{Subject, TokenError, TokenHash, TokenKind, random_identifier};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::StoreError;

/// The id of a grant family: every access and refresh token descending from one
/// authorization (one code, one password grant, one refresh chain) shares it.
///
/// ```
/// use portcullis_store::FamilyId;
/// let family = FamilyId::generate()?;
/// assert_eq!(family.as_str().len(), 22);
/// # Ok::<(), portcullis_tokens::TokenError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FamilyId(String);

impl FamilyId {
    /// A fresh random family id (128 bits).
    ///
    /// ```
    /// use portcullis_store::FamilyId;
    /// assert_ne!(FamilyId::generate()?, FamilyId::generate()?);
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`TokenError::Entropy`] when the operating system cannot provide random bytes.
    pub fn generate() -> Result<FamilyId, TokenError> {
        random_identifier().map(FamilyId)
    }

    /// Wraps a family id read back from storage.
    ///
    /// ```
    /// let family = portcullis_store::FamilyId::from_stored("abc".to_owned());
    /// assert_eq!(family.as_str(), "abc");
    /// ```
    pub fn from_stored(id: String) -> FamilyId {
        FamilyId(id)
    }

    /// The id as text.
    ///
    /// ```
    /// assert_eq!(portcullis_store::FamilyId::from_stored("f1".into()).as_str(), "f1");
    /// ```
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FamilyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for FamilyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FamilyId({})", self.0)
    }
}

/// Where a token stands.
///
/// ```
/// use portcullis_store::TokenStatus;
/// assert_eq!(TokenStatus::default(), TokenStatus::Active);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenStatus {
    /// Usable until it expires.
    #[default]
    Active,
    /// A refresh token that was exchanged for a successor; presenting it again is reuse.
    Rotated,
    /// Revoked: by the client (RFC 7009), by reuse detection, or with its client.
    Revoked,
}

/// An issued access or refresh token.
///
/// ```
/// use portcullis_registry::{ClientId, RoleAssignment, ScopeSet};
/// use portcullis_store::{FamilyId, TokenRecord, TokenStatus};
/// use portcullis_tokens::{mint, TokenKind};
/// use time::{Duration, OffsetDateTime};
///
/// let token = mint(TokenKind::AccessToken)?;
/// let now = OffsetDateTime::now_utc();
/// let record = TokenRecord {
///     hash: token.lookup_key(),
///     kind: TokenKind::AccessToken,
///     client_id: ClientId::new("billing-service").expect("valid id"),
///     subject: None, // client credentials: no user
///     scopes: ScopeSet::parse("view:users").expect("valid scope"),
///     roles: Vec::new(),
///     family: FamilyId::generate()?,
///     issued_at: now,
///     expires_at: now + Duration::hours(1),
///     status: TokenStatus::Active,
///     audience: Vec::new(),   // not restricted to a resource (RFC 8707)
///     confirmation: None,     // a bearer token, not DPoP-bound
/// };
/// assert!(record.is_active(now));
/// # Ok::<(), portcullis_tokens::TokenError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// SHA-256 of the token.
    pub hash: TokenHash,
    /// [`TokenKind::AccessToken`] or [`TokenKind::RefreshToken`].
    pub kind: TokenKind,
    /// The client the token was issued to.
    pub client_id: ClientId,
    /// The user the token acts for; `None` for client credentials.
    pub subject: Option<Subject>,
    /// The scopes granted.
    pub scopes: ScopeSet,
    /// The client's role × division assignments when the token was issued (machine
    /// clients); reported by introspection.
    pub roles: Vec<RoleAssignment>,
    /// The grant family the token belongs to.
    pub family: FamilyId,
    /// When it was issued.
    pub issued_at: OffsetDateTime,
    /// After this instant it is unusable.
    pub expires_at: OffsetDateTime,
    /// Active, rotated or revoked.
    pub status: TokenStatus,
    /// The resource servers the token is for (RFC 8707 `resource` values, the JWT `aud`);
    /// empty when the token is not restricted to any.
    #[serde(default)]
    pub audience: Vec<String>,
    /// The SHA-256 thumbprint (RFC 7638, base64url) of the key the token is bound to with
    /// DPoP (RFC 9449 §6: `cnf.jkt`); `None` for a bearer token.
    #[serde(default)]
    pub confirmation: Option<String>,
}

impl TokenRecord {
    /// Whether the token may be used at `now`: active and not expired.
    ///
    /// ```
    /// # use portcullis_registry::{ClientId, RoleAssignment, ScopeSet};
    /// # use portcullis_store::{FamilyId, TokenRecord, TokenStatus};
    /// # use portcullis_tokens::{TokenHash, TokenKind};
    /// # use time::{Duration, OffsetDateTime};
    /// # let now = OffsetDateTime::now_utc();
    /// # let mut record = TokenRecord { hash: TokenHash::of("t"), kind: TokenKind::AccessToken,
    /// #     client_id: ClientId::new("c").expect("id"), subject: None, scopes: ScopeSet::default(),
    /// #     roles: vec![], family: FamilyId::generate()?, issued_at: now, expires_at: now + Duration::hours(1),
    /// #     status: TokenStatus::Active, audience: vec![], confirmation: None };
    /// record.status = TokenStatus::Revoked;
    /// assert!(!record.is_active(now));
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    pub fn is_active(&self, now: OffsetDateTime) -> bool {
        self.status == TokenStatus::Active && now < self.expires_at
    }

    /// Whether the token has expired at `now`, whatever its status.
    ///
    /// ```
    /// # use portcullis_registry::{ClientId, RoleAssignment, ScopeSet};
    /// # use portcullis_store::{FamilyId, TokenRecord, TokenStatus};
    /// # use portcullis_tokens::{TokenHash, TokenKind};
    /// # use time::{Duration, OffsetDateTime};
    /// # let now = OffsetDateTime::now_utc();
    /// # let record = TokenRecord { hash: TokenHash::of("t"), kind: TokenKind::AccessToken,
    /// #     client_id: ClientId::new("c").expect("id"), subject: None, scopes: ScopeSet::default(),
    /// #     roles: vec![], family: FamilyId::generate()?, issued_at: now, expires_at: now + Duration::hours(1),
    /// #     status: TokenStatus::Active, audience: vec![], confirmation: None };
    /// assert!(record.is_expired(now + Duration::hours(1)));
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        now >= self.expires_at
    }
}

/// What happened when a refresh token was presented for rotation.
///
/// ```
/// use portcullis_store::Rotation;
/// # fn handle(outcome: Rotation) {
/// match outcome {
///     Rotation::Rotated { previous } => { /* answer with the successors */ }
///     Rotation::ReuseDetected { family, .. } => { /* invalid_grant; the family is revoked */ }
///     Rotation::Invalid => { /* invalid_grant */ }
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
// One value per refresh, moved once: boxing the record would add an allocation to every
// rotation to save stack bytes nobody keeps.
#[allow(clippy::large_enum_variant)]
pub enum Rotation {
    /// The token was active; it is now [`TokenStatus::Rotated`] and the successors are stored.
    Rotated {
        /// The presented token's record as it was before rotation.
        previous: TokenRecord,
    },
    /// The token had been rotated already: it was stolen or replayed. The whole family,
    /// newest tokens included, has been revoked in the same operation (RFC 9700 §4.14.2).
    ReuseDetected {
        /// The revoked family.
        family: FamilyId,
        /// How many tokens were revoked.
        revoked: u64,
    },
    /// Unknown, expired, revoked, or not a refresh token. Nothing changed.
    Invalid,
}

/// Where access and refresh tokens are kept.
///
/// Contract (checked by the conformance kit):
/// - `insert_tokens` writes all records or none ([`StoreError::Conflict`] if any hash
///   exists), so a failure never leaves half a token response stored.
/// - `find_token` never returns an expired record; revoked and rotated records are
///   returned with their status so callers can tell why a token is inactive.
/// - `rotate_refresh_token` is atomic: of any number of concurrent callers presenting the
///   same active refresh token, exactly one gets [`Rotation::Rotated`]. Successors must be
///   non-empty and in the presented token's family ([`StoreError::InvalidRecord`]
///   otherwise, nothing written). Presenting a rotated token revokes its family.
/// - The `revoke_*` operations mark tokens [`TokenStatus::Revoked`] and answer how many
///   changed; revoking twice is harmless.
///
/// ```
/// # async fn demo(store: &impl portcullis_store::TokenStore) -> Result<(), portcullis_store::StoreError> {
/// use portcullis_tokens::TokenHash;
/// let now = time::OffsetDateTime::now_utc();
/// let active = store
///     .find_token(&TokenHash::of("pc_at_presented"), now)
///     .await?
///     .is_some_and(|record| record.is_active(now));
/// # Ok(()) }
/// ```
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Stores newly issued tokens, all or none.
    async fn insert_tokens(&self, tokens: Vec<TokenRecord>) -> Result<(), StoreError>;
    /// The record of a token, unless it has expired.
    async fn find_token(
        &self,
        hash: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<TokenRecord>, StoreError>;
    /// Exchanges an active refresh token for its successors, atomically.
    async fn rotate_refresh_token(
        &self,
        presented: &TokenHash,
        successors: Vec<TokenRecord>,
        now: OffsetDateTime,
    ) -> Result<Rotation, StoreError>;
    /// Revokes one token; returns its record (as it was before) if it existed and had not
    /// expired, so the caller can revoke the family of a refresh token (RFC 7009 §2.1).
    async fn revoke_token(
        &self,
        hash: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<TokenRecord>, StoreError>;
    /// Revokes every token of a family; answers how many changed.
    async fn revoke_family(
        &self,
        family: &FamilyId,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError>;
    /// Revokes every token issued to a client; answers how many changed.
    async fn revoke_client_tokens(
        &self,
        client: &ClientId,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError>;
    /// Unexpired tokens issued to a client, any status, ordered by `issued_at` then hash.
    async fn list_client_tokens(
        &self,
        client: &ClientId,
        now: OffsetDateTime,
    ) -> Result<Vec<TokenRecord>, StoreError>;
    /// Unexpired tokens of a family, any status, ordered by `issued_at` then hash.
    async fn list_family(
        &self,
        family: &FamilyId,
        now: OffsetDateTime,
    ) -> Result<Vec<TokenRecord>, StoreError>;
}
