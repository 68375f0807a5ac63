//! Identifiers that are unique but not secret: grant family ids, client ids, key ids.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::TryRng as _;
use rand::rngs::SysRng;
use serde::{Deserialize, Serialize};

use crate::TokenError;

/// Random bytes in an identifier: 16 bytes, 128 bits, enough that two never collide.
pub const IDENTIFIER_BYTES: usize = 16;

/// A fresh random identifier: 128 bits from the operating system, base64url, 22 characters.
///
/// Identifiers are unique, not secret: use [`mint`](crate::mint) for anything that grants
/// access.
///
/// ```
/// let id = portcullis_tokens::random_identifier()?;
/// assert_eq!(id.len(), 22);
/// # Ok::<(), portcullis_tokens::TokenError>(())
/// ```
///
/// # Errors
///
/// [`TokenError::Entropy`] when the operating system cannot provide random bytes.
pub fn random_identifier() -> Result<String, TokenError> {
    let mut bytes = [0u8; IDENTIFIER_BYTES];
    SysRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| TokenError::Entropy(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The subject of a grant: the `sub` the provider asserts for a user (OpenID Connect Core
/// §2, "locally unique and never reassigned", at most 255 ASCII characters).
///
/// Subjects come from the embedding application's `Authenticator`; the provider does not
/// invent them.
///
/// ```
/// use portcullis_tokens::Subject;
///
/// let sub = Subject::new("user-42")?;
/// assert_eq!(sub.as_str(), "user-42");
/// assert!(Subject::new("").is_err());
/// # Ok::<(), portcullis_tokens::InvalidSubject>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Subject(String);

/// A subject was empty, longer than 255 bytes, or not printable ASCII.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a subject is 1 to 255 printable ASCII characters")]
pub struct InvalidSubject;

impl Subject {
    /// Checks and wraps a subject identifier.
    ///
    /// ```
    /// assert!(portcullis_tokens::Subject::new("alice@example.com").is_ok());
    /// assert!(portcullis_tokens::Subject::new("tab\there").is_err());
    /// ```
    ///
    /// # Errors
    ///
    /// [`InvalidSubject`] unless it is 1 to 255 printable ASCII characters (`0x21..=0x7E`
    /// plus space inside).
    pub fn new(subject: impl Into<String>) -> Result<Subject, InvalidSubject> {
        let subject = subject.into();
        let printable = subject.bytes().all(|b| (0x20..=0x7e).contains(&b));
        let trimmed = subject.trim() == subject;
        if subject.is_empty() || subject.len() > 255 || !printable || !trimmed {
            return Err(InvalidSubject);
        }
        Ok(Subject(subject))
    }

    /// The subject as it appears in `sub` claims.
    ///
    /// ```
    /// assert_eq!(portcullis_tokens::Subject::new("u1").map(|s| s.as_str().len()), Ok(2));
    /// ```
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Subject {
    type Error = InvalidSubject;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Subject::new(value)
    }
}

impl From<Subject> for String {
    fn from(value: Subject) -> Self {
        value.0
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Subject({:?})", self.0)
    }
}

#[cfg(test)]
mod tests;
