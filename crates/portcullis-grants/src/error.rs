//! The crate's error type: what a grant tells the token endpoint.

use std::borrow::Cow;

use portcullis_store::StoreError;
use portcullis_tokens::TokenError;

/// A boxed error from the embedding application (its user database, say).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a token request was refused or failed.
///
/// The protocol variants name the RFC 6749 §5.2 error code they become; the description is
/// shown to the client, so it names the offending parameter but never echoes a secret,
/// token or code, and never tells whether a client or user exists. The other variants are
/// failures of the provider itself (`server_error` / `temporarily_unavailable`).
///
/// The mapping to HTTP status, headers and body lives in `portcullis-endpoints`.
///
/// ```
/// use portcullis_grants::GrantError;
/// let err = GrantError::invalid_grant("the authorization code is invalid or expired");
/// assert_eq!(err.code(), "invalid_grant");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GrantError {
    /// `invalid_request`: a required parameter is missing or malformed.
    #[error("invalid_request: {0}")]
    InvalidRequest(Cow<'static, str>),
    /// `invalid_client`: client authentication failed.
    #[error("invalid_client: {0}")]
    InvalidClient(Cow<'static, str>),
    /// `invalid_grant`: the code, refresh token or credentials are invalid, expired,
    /// revoked, or were issued to another client or redirect URI.
    #[error("invalid_grant: {0}")]
    InvalidGrant(Cow<'static, str>),
    /// `unauthorized_client`: this client may not use this grant type.
    #[error("unauthorized_client: {0}")]
    UnauthorizedClient(Cow<'static, str>),
    /// `unsupported_grant_type`: the provider does not offer this grant type.
    #[error("unsupported_grant_type: {0}")]
    UnsupportedGrantType(Cow<'static, str>),
    /// `invalid_scope`: a scope is unknown, not allowed, or wider than the original grant.
    #[error("invalid_scope: {0}")]
    InvalidScope(Cow<'static, str>),
    /// An error code defined by an extension (e.g. RFC 8628's `authorization_pending`),
    /// answered with status 400.
    #[error("{code}: {description}")]
    Extension {
        /// The registered error code.
        code: &'static str,
        /// What the client should know.
        description: Cow<'static, str>,
    },
    /// The store failed; nothing was issued.
    #[error("storage failed")]
    Store(#[from] StoreError),
    /// Minting a token failed; nothing was issued.
    #[error("token minting failed")]
    Token(#[from] TokenError),
    /// The application's `Authenticator` or `ClaimsSource` failed; nothing was issued.
    #[error("the application callback failed")]
    Application(#[source] BoxError),
}

impl GrantError {
    /// `invalid_request` with a description.
    ///
    /// ```
    /// let err = portcullis_grants::GrantError::invalid_request("code is required");
    /// assert_eq!(err.description(), "code is required");
    /// ```
    pub fn invalid_request(description: impl Into<Cow<'static, str>>) -> GrantError {
        GrantError::InvalidRequest(description.into())
    }

    /// `invalid_grant` with a description.
    ///
    /// ```
    /// assert_eq!(portcullis_grants::GrantError::invalid_grant("expired").code(), "invalid_grant");
    /// ```
    pub fn invalid_grant(description: impl Into<Cow<'static, str>>) -> GrantError {
        GrantError::InvalidGrant(description.into())
    }

    /// `invalid_scope` with a description.
    ///
    /// ```
    /// assert_eq!(portcullis_grants::GrantError::invalid_scope("x").code(), "invalid_scope");
    /// ```
    pub fn invalid_scope(description: impl Into<Cow<'static, str>>) -> GrantError {
        GrantError::InvalidScope(description.into())
    }

    /// `unauthorized_client` with a description.
    ///
    /// ```
    /// let err = portcullis_grants::GrantError::unauthorized_client("no password grant");
    /// assert_eq!(err.code(), "unauthorized_client");
    /// ```
    pub fn unauthorized_client(description: impl Into<Cow<'static, str>>) -> GrantError {
        GrantError::UnauthorizedClient(description.into())
    }

    /// The wire error code.
    ///
    /// ```
    /// use portcullis_grants::GrantError;
    /// let err = GrantError::Application("database down".into());
    /// assert_eq!(err.code(), "server_error");
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            GrantError::InvalidRequest(_) => "invalid_request",
            GrantError::InvalidClient(_) => "invalid_client",
            GrantError::InvalidGrant(_) => "invalid_grant",
            GrantError::UnauthorizedClient(_) => "unauthorized_client",
            GrantError::UnsupportedGrantType(_) => "unsupported_grant_type",
            GrantError::InvalidScope(_) => "invalid_scope",
            GrantError::Extension { code, .. } => code,
            GrantError::Store(err) if err.is_transient() => "temporarily_unavailable",
            GrantError::Store(_) | GrantError::Token(_) | GrantError::Application(_) => {
                "server_error"
            }
        }
    }

    /// The human description sent to the client (never a secret, never internal detail).
    ///
    /// ```
    /// use portcullis_grants::GrantError;
    /// let err = GrantError::Application("connection refused to 10.0.0.5".into());
    /// assert!(!err.description().contains("10.0.0.5"));
    /// ```
    pub fn description(&self) -> &str {
        match self {
            GrantError::InvalidRequest(d)
            | GrantError::InvalidClient(d)
            | GrantError::InvalidGrant(d)
            | GrantError::UnauthorizedClient(d)
            | GrantError::UnsupportedGrantType(d)
            | GrantError::InvalidScope(d)
            | GrantError::Extension { description: d, .. } => d,
            GrantError::Store(err) if err.is_transient() => {
                "the authorization server is temporarily unavailable; retry later"
            }
            GrantError::Store(_) | GrantError::Token(_) | GrantError::Application(_) => {
                "the authorization server failed to process the request"
            }
        }
    }
}
