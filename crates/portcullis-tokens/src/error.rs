//! The crate's error type.

/// Why a token could not be minted, signed or read, or a key could not be made or loaded.
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
    /// A JWT was refused: malformed, signed with an algorithm or key that is not accepted,
    /// a bad signature, or claims that fail the expectations (issuer, audience, times, `typ`).
    /// Also returned by signing when the claims are not a JSON object. The reason is terse and
    /// safe to log; it never contains the token.
    #[error("jwt rejected: {reason}")]
    Jwt {
        /// Which check failed.
        reason: &'static str,
    },
    /// A signing key could not be generated, loaded or used, or a public key (JWK) is not a
    /// supported, valid signing key.
    #[error("signing key unusable: {reason}")]
    Key {
        /// What is wrong with it, without echoing key material.
        reason: &'static str,
    },
}
