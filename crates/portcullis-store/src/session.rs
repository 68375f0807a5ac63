//! Provider browser sessions: the record behind the provider's session cookie, which
//! carries single sign-on, `prompt=none` and `max_age` (OpenID Connect Core §3.1.2.1) and
//! logout (OpenID Connect RP-Initiated Logout 1.0, Back-Channel Logout 1.0).

use std::collections::BTreeSet;

use async_trait::async_trait;
use portcullis_registry::ClientId;
use portcullis_tokens::{Subject, TokenHash};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::StoreError;

/// A user's login at the provider, as remembered for their browser.
///
/// Keyed by the SHA-256 of the random session handle in the cookie; the handle itself is
/// never stored.
///
/// ```
/// use std::collections::BTreeSet;
/// use portcullis_store::SessionRecord;
/// use portcullis_tokens::{Subject, TokenHash};
/// use time::{Duration, OffsetDateTime};
///
/// let now = OffsetDateTime::now_utc();
/// let session = SessionRecord {
///     id: TokenHash::of("the random handle from the cookie"),
///     subject: Subject::new("user-1").expect("valid subject"),
///     auth_time: now,
///     amr: vec!["pwd".into()],
///     clients: BTreeSet::new(),
///     created_at: now,
///     expires_at: now + Duration::hours(8),
/// };
/// assert!(!session.is_expired(now));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// SHA-256 of the session handle in the cookie.
    pub id: TokenHash,
    /// The user logged in.
    pub subject: Subject,
    /// When the user authenticated: the ID token's `auth_time`, checked against `max_age`
    /// (OpenID Connect Core §2, §3.1.2.1).
    pub auth_time: OffsetDateTime,
    /// How the user authenticated: the ID token's `amr` values (RFC 8176 §2: `pwd`, `otp`,
    /// `mfa`, …).
    pub amr: Vec<String>,
    /// The clients that received tokens in this session, to be told when it ends.
    pub clients: BTreeSet<ClientId>,
    /// When the session began.
    pub created_at: OffsetDateTime,
    /// After this instant the session is over and the user logs in again.
    pub expires_at: OffsetDateTime,
}

impl SessionRecord {
    /// Whether the session has expired at `now`.
    ///
    /// ```
    /// # use std::collections::BTreeSet;
    /// # use portcullis_store::SessionRecord;
    /// # use portcullis_tokens::{Subject, TokenHash};
    /// # use time::{Duration, OffsetDateTime};
    /// # let now = OffsetDateTime::now_utc();
    /// # let session = SessionRecord { id: TokenHash::of("s"), subject: Subject::new("u").expect("sub"),
    /// #     auth_time: now, amr: vec![], clients: BTreeSet::new(), created_at: now,
    /// #     expires_at: now + Duration::hours(8) };
    /// assert!(session.is_expired(now + Duration::hours(8)));
    /// ```
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        now >= self.expires_at
    }
}

/// Where browser sessions are kept.
///
/// Contract (checked by the conformance kit):
/// - An expired session is never returned or changed, whether or not it has been swept;
///   [`SweepExpired`](crate::SweepExpired) deletes expired sessions.
/// - `insert_session` fails with [`StoreError::Conflict`] when the id exists and writes
///   nothing.
/// - `add_session_client` adds a client to a live session in one atomic step (concurrent
///   additions are all kept) and answers `true`, also when the client was there already;
///   `false` when there is no live session.
/// - `delete_session` removes the session and returns it, atomically: of any number of
///   concurrent callers exactly one gets the record. An expired session is removed too,
///   but not returned.
/// - `delete_subject_sessions` removes every session of the subject ("log out
///   everywhere") and answers how many of them were live.
///
/// ```
/// # async fn demo(store: &impl portcullis_store::SessionStore) -> Result<(), portcullis_store::StoreError> {
/// use portcullis_tokens::TokenHash;
/// let now = time::OffsetDateTime::now_utc();
/// let id = TokenHash::of("the handle from the session cookie");
/// match store.get_session(&id, now).await? {
///     Some(session) => println!("{} is logged in", session.subject),
///     None => println!("no session: show the login page"),
/// }
/// // Logout: end the session and tell the clients that had tokens in it.
/// if let Some(ended) = store.delete_session(&id, now).await? {
///     for client in &ended.clients {
///         println!("notify {client}");
///     }
/// }
/// # Ok(()) }
/// ```
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores a new session ([`StoreError::Conflict`] if the id exists).
    async fn insert_session(&self, session: SessionRecord) -> Result<(), StoreError>;
    /// The session with this id, unless it has expired or ended.
    async fn get_session(
        &self,
        id: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<SessionRecord>, StoreError>;
    /// Records that `client` received tokens in the session; `false` if there is no live
    /// session with this id.
    async fn add_session_client(
        &self,
        id: &TokenHash,
        client: &ClientId,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Ends the session: removes it and returns it if it was live, atomically.
    async fn delete_session(
        &self,
        id: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<SessionRecord>, StoreError>;
    /// Ends every session of `subject`; answers how many were live.
    async fn delete_subject_sessions(
        &self,
        subject: &Subject,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError>;
}
