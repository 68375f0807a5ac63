//! `at_hash` and `c_hash`: OpenID Connect Core §3.1.3.6 and §3.3.2.11, the left-most half of
//! the hash of the ASCII value, with the hash the ID token's `alg` uses.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256, Sha512};

use crate::SigningAlgorithm;

/// The `at_hash` of an access token or the `c_hash` of an authorization code, for an ID token
/// signed with `algorithm`: base64url of the left-most half of the hash of `value`'s ASCII
/// octets.
///
/// ES256 and RS256 hash with SHA-256. EdDSA with Ed25519 hashes with SHA-512, as the OpenID
/// Connect Core errata set specifies and the `openidconnect` crate checks.
///
/// ```
/// use portcullis_tokens::{SigningAlgorithm, oidc_hash};
///
/// // OpenID Connect Core, Appendix A.3.
/// assert_eq!(
///     oidc_hash(SigningAlgorithm::RS256, "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
///     "77QmUPtjPfzWtF2AnpK9RQ",
/// );
/// assert_eq!(oidc_hash(SigningAlgorithm::EdDSA, "code").len(), 43);
/// ```
pub fn oidc_hash(algorithm: SigningAlgorithm, value: &str) -> String {
    match algorithm {
        SigningAlgorithm::ES256 | SigningAlgorithm::RS256 => {
            let digest: [u8; 32] = Sha256::digest(value.as_bytes()).into();
            let (left, _) = digest.split_at(digest.len() / 2);
            URL_SAFE_NO_PAD.encode(left)
        }
        SigningAlgorithm::EdDSA => {
            let digest: [u8; 64] = Sha512::digest(value.as_bytes()).into();
            let (left, _) = digest.split_at(digest.len() / 2);
            URL_SAFE_NO_PAD.encode(left)
        }
    }
}

#[cfg(test)]
mod tests;
