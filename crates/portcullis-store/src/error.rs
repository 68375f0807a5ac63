//! The crate's error type and the record families it names.

use std::fmt;

/// The record families a store keeps, one storage trait each.
///
/// ```
/// use portcullis_store::RecordFamily;
/// assert_eq!(RecordFamily::AuthorizationCode.to_string(), "authorization code");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RecordFamily {
    /// Registered clients ([`ClientStore`](crate::ClientStore)).
    Client,
    /// The scope catalog ([`ScopeStore`](crate::ScopeStore)).
    Scope,
    /// Authorization requests waiting for login and consent
    /// ([`PendingAuthorizationStore`](crate::PendingAuthorizationStore)).
    PendingAuthorization,
    /// Authorization codes ([`CodeStore`](crate::CodeStore)).
    AuthorizationCode,
    /// Access and refresh tokens ([`TokenStore`](crate::TokenStore)).
    Token,
    /// Signing keys ([`KeyStore`](crate::KeyStore)).
    SigningKey,
    /// Provider browser sessions ([`SessionStore`](crate::SessionStore)).
    Session,
    /// Device authorizations ([`DeviceAuthorizationStore`](crate::DeviceAuthorizationStore)).
    DeviceAuthorization,
    /// Used assertion identifiers ([`ReplayStore`](crate::ReplayStore)).
    UsedAssertion,
}

impl fmt::Display for RecordFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RecordFamily::Client => "client",
            RecordFamily::Scope => "scope",
            RecordFamily::PendingAuthorization => "pending authorization",
            RecordFamily::AuthorizationCode => "authorization code",
            RecordFamily::Token => "token",
            RecordFamily::SigningKey => "signing key",
            RecordFamily::Session => "session",
            RecordFamily::DeviceAuthorization => "device authorization",
            RecordFamily::UsedAssertion => "used assertion",
        })
    }
}

/// Why a storage operation failed.
///
/// `Conflict`, `NotFound` and `InvalidRecord` are answers about the data; `CapacityExceeded`,
/// `Unavailable` and `Backend` are failures of the store itself, which endpoints report as
/// `temporarily_unavailable` or `server_error` without changing anything.
///
/// ```
/// use portcullis_store::{RecordFamily, StoreError};
///
/// let err = StoreError::Conflict { family: RecordFamily::Client, key: "app-1".into() };
/// assert_eq!(err.to_string(), "client app-1 already exists");
/// assert!(!err.is_transient());
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A record with this key exists already; nothing was written. Choose another key (for
    /// generated tokens: mint again).
    #[error("{family} {key} already exists")]
    Conflict {
        /// Which family the record belongs to.
        family: RecordFamily,
        /// The clashing key (an id or a token hash, never a plain token).
        key: String,
    },
    /// The record to update does not exist.
    #[error("{family} {key} not found")]
    NotFound {
        /// Which family was searched.
        family: RecordFamily,
        /// The missing key.
        key: String,
    },
    /// The write was refused because the records break the operation's contract (for
    /// example successors of a refresh token in another family); nothing was written.
    #[error("invalid {family} write: {reason}")]
    InvalidRecord {
        /// Which family the write was for.
        family: RecordFamily,
        /// What is wrong, for the developer.
        reason: &'static str,
    },
    /// A bounded store is full of live records; nothing was written. Raise the bound or
    /// use a persistent store.
    #[error(
        "{family} store is full ({limit} live records); raise the limit or use a persistent store"
    )]
    CapacityExceeded {
        /// The full family.
        family: RecordFamily,
        /// Its bound.
        limit: usize,
    },
    /// The backend is temporarily out of reach (pool exhausted, connection refused);
    /// nothing was written and the same call may succeed later.
    #[error("storage temporarily unavailable: {message}")]
    Unavailable {
        /// What failed, without secrets.
        message: String,
        /// The backend's own error.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The backend failed in a way a retry will not fix (bad schema, corrupt row).
    #[error("storage backend failed: {message}")]
    Backend {
        /// What failed, without secrets.
        message: String,
        /// The backend's own error.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

impl StoreError {
    /// Whether retrying the same call later may succeed (`temporarily_unavailable`).
    ///
    /// ```
    /// use portcullis_store::StoreError;
    /// let err = StoreError::Unavailable { message: "pool timed out".into(), source: None };
    /// assert!(err.is_transient());
    /// ```
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            StoreError::Unavailable { .. } | StoreError::CapacityExceeded { .. }
        )
    }
}
