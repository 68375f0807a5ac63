//! Proof Key for Code Exchange (RFC 7636), with the downgrade protection of RFC 9700 §4.8.2.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

/// A `code_challenge_method` (RFC 7636 §4.3).
///
/// ```
/// use portcullis_grants::CodeChallengeMethod;
/// assert_eq!("S256".parse::<CodeChallengeMethod>(), Ok(CodeChallengeMethod::S256));
/// assert!("s256".parse::<CodeChallengeMethod>().is_err()); // case-sensitive
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodeChallengeMethod {
    /// `S256`: `BASE64URL(SHA256(ASCII(code_verifier)))`. The only method public clients
    /// may use unless the provider explicitly allows `plain`.
    S256,
    /// `plain`: the challenge is the verifier. Off by default (RFC 9700 §2.1.1).
    Plain,
}

impl CodeChallengeMethod {
    /// The wire name.
    ///
    /// ```
    /// assert_eq!(portcullis_grants::CodeChallengeMethod::Plain.as_str(), "plain");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            CodeChallengeMethod::S256 => "S256",
            CodeChallengeMethod::Plain => "plain",
        }
    }
}

impl fmt::Display for CodeChallengeMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The method name is neither `S256` nor `plain`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("code_challenge_method must be S256 or plain")]
pub struct UnknownChallengeMethod;

impl std::str::FromStr for CodeChallengeMethod {
    type Err = UnknownChallengeMethod;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "S256" => Ok(CodeChallengeMethod::S256),
            "plain" => Ok(CodeChallengeMethod::Plain),
            _ => Err(UnknownChallengeMethod),
        }
    }
}

/// Whether `value` has the form of a code verifier (RFC 7636 §4.1): 43 to 128 characters
/// of `[A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"`. A `plain` challenge has the same form.
///
/// ```
/// use portcullis_grants::pkce::is_well_formed_verifier;
/// assert!(is_well_formed_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
/// assert!(!is_well_formed_verifier("too-short"));
/// ```
pub fn is_well_formed_verifier(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Whether `challenge` is well formed for `method`: for `S256` exactly 43 base64url
/// characters (a SHA-256 digest), for `plain` a well-formed verifier.
///
/// ```
/// use portcullis_grants::{pkce::is_well_formed_challenge, CodeChallengeMethod};
/// assert!(is_well_formed_challenge(CodeChallengeMethod::S256, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
/// assert!(!is_well_formed_challenge(CodeChallengeMethod::S256, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c"));
/// ```
pub fn is_well_formed_challenge(method: CodeChallengeMethod, challenge: &str) -> bool {
    match method {
        CodeChallengeMethod::S256 => {
            challenge.len() == 43
                && challenge
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
        }
        CodeChallengeMethod::Plain => is_well_formed_verifier(challenge),
    }
}

/// Verifies `verifier` against the stored `challenge` (RFC 7636 §4.6), in constant time.
///
/// ```
/// use portcullis_grants::{pkce::verify, CodeChallengeMethod};
/// // RFC 7636 Appendix B.
/// assert!(verify(
///     CodeChallengeMethod::S256,
///     "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
///     "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
/// ));
/// ```
pub fn verify(method: CodeChallengeMethod, challenge: &str, verifier: &str) -> bool {
    if !is_well_formed_verifier(verifier) {
        return false;
    }
    let expected = match method {
        CodeChallengeMethod::S256 => URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())),
        CodeChallengeMethod::Plain => verifier.to_owned(),
    };
    expected.as_bytes().ct_eq(challenge.as_bytes()).into()
}

#[cfg(test)]
mod tests;
