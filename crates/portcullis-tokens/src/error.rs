//! The crate's error type.

/// Why a token could not be minted or read.
///
/// ```
/// use portcullis_tokens::{RawToken, TokenError, TokenKind};
///
/// let err = RawToken::parse("not-a-token", TokenKind::AccessToken).unwrap_err();
/// assert!(matches!(err, TokenError::Malformed { .. }));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The operating system's random generator failed; retry later, and check the host's
    /// entropy source if it persists.
    #[error("the operating system random generator failed: {0}")]
    Entropy(String),
    /// The presented string is not a token of the expected kind (wrong prefix, length or
    /// alphabet). Treat the token as invalid; the reason is safe to log, the value is not.
    #[error("malformed {expected} token: {reason}")]
    Malformed {
        /// The kind of token the caller expected.
        expected: crate::TokenKind,
        /// What is wrong with it, without echoing the value.
        reason: &'static str,
    },
}
