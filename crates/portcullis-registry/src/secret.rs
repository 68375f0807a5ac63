//! Client secrets (RFC 6749 §2.3.1): generated with 256 bits of entropy, shown once, stored
//! only as a SHA-256 hash, compared in constant time.
//!
//! A fast hash is enough here because the secrets are machine-generated: guessing one means
//! searching 2^256 values, so a slow password hash would add cost without adding safety.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::TryRng as _;
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use crate::error::RegistryError;

#[cfg(test)]
mod tests;

/// How many random bytes a client secret holds.
const SECRET_BYTES: usize = 32;

/// A client secret in the clear: 256 random bits, base64url-encoded without padding
/// (43 characters).
///
/// It exists only between its generation and the response that shows it to the client's
/// owner. It cannot be serialized, its `Debug` output is redacted, and the value is reachable
/// only through [`ClientSecret::expose_secret`].
///
/// ```
/// use portcullis_registry::ClientSecret;
///
/// let secret = ClientSecret::generate()?;
/// assert_eq!(format!("{secret:?}"), "ClientSecret(<redacted>)");
/// let hash = secret.hash();
/// assert!(hash.verify(secret.expose_secret()));
/// assert!(!hash.verify("guess"));
/// # Ok::<(), portcullis_registry::RegistryError>(())
/// ```
pub struct ClientSecret(String);

impl ClientSecret {
    /// A fresh secret from the operating system's random number generator.
    ///
    /// # Errors
    ///
    /// [`RegistryError::Entropy`] if the system random number generator fails.
    pub fn generate() -> Result<Self, RegistryError> {
        Self::try_generate().map_err(RegistryError::Entropy)
    }

    /// [`ClientSecret::generate`] with the bare system error.
    pub(crate) fn try_generate() -> Result<Self, rand::rngs::SysError> {
        let mut bytes = [0_u8; SECRET_BYTES];
        rand::rngs::SysRng.try_fill_bytes(&mut bytes)?;
        Ok(Self(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// The secret's value.
    ///
    /// # Security
    ///
    /// This is the credential itself. Show it to the client's owner once, over a secure
    /// channel, and then drop it: never log it, store it, put it in an error message or echo
    /// it back later. Store [`ClientSecret::hash`] instead.
    #[must_use]
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// The hash to store in place of the secret.
    #[must_use]
    pub fn hash(&self) -> ClientSecretHash {
        ClientSecretHash::of(&self.0)
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret(<redacted>)")
    }
}

/// The SHA-256 hash of a client secret's string, as stored in place of the secret.
///
/// Serializes as 64 lowercase hexadecimal characters; deserializing also accepts uppercase.
/// Equality, like [`ClientSecretHash::verify`], is constant-time.
///
/// ```
/// use portcullis_registry::ClientSecretHash;
///
/// let hash = ClientSecretHash::of("s3cr3t");
/// assert!(hash.verify("s3cr3t"));
/// assert!(!hash.verify("s3cr3T"));
/// assert_eq!(ClientSecretHash::from_bytes(*hash.as_bytes()), hash);
/// ```
#[derive(Clone, Copy)]
pub struct ClientSecretHash([u8; 32]);

impl ClientSecretHash {
    /// The hash of `secret`.
    #[must_use]
    pub fn of(secret: &str) -> Self {
        Self(Sha256::digest(secret.as_bytes()).into())
    }

    /// Whether `presented` hashes to this hash, compared in constant time.
    #[must_use]
    pub fn verify(&self, presented: &str) -> bool {
        bool::from(Self::of(presented).0.ct_eq(&self.0))
    }

    /// The 32 hash bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// A hash from its 32 bytes, as read back from storage.
    #[must_use]
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The hash as 64 lowercase hexadecimal characters.
    #[must_use]
    pub fn to_hex(&self) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut hex = String::with_capacity(64);
        for byte in self.0 {
            for nibble in [byte >> 4, byte & 0x0f] {
                if let Some(&digit) = DIGITS.get(usize::from(nibble)) {
                    hex.push(char::from(digit));
                }
            }
        }
        hex
    }

    /// A hash from 64 hexadecimal characters (either case).
    ///
    /// # Errors
    ///
    /// [`InvalidSecretHash`] for any other input.
    pub fn from_hex(hex: &str) -> Result<Self, InvalidSecretHash> {
        fn nibble(c: u8) -> Option<u8> {
            match c {
                b'0'..=b'9' => Some(c - b'0'),
                b'a'..=b'f' => Some(c - b'a' + 10),
                b'A'..=b'F' => Some(c - b'A' + 10),
                _ => None,
            }
        }

        if hex.len() != 64 {
            return Err(InvalidSecretHash);
        }
        let mut bytes = [0_u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(hex.as_bytes().chunks_exact(2)) {
            let [high, low] = pair else {
                return Err(InvalidSecretHash);
            };
            let (Some(high), Some(low)) = (nibble(*high), nibble(*low)) else {
                return Err(InvalidSecretHash);
            };
            *byte = (high << 4) | low;
        }
        Ok(Self(bytes))
    }
}

impl PartialEq for ClientSecretHash {
    fn eq(&self, other: &Self) -> bool {
        bool::from(self.0.ct_eq(&other.0))
    }
}

impl Eq for ClientSecretHash {}

impl fmt::Debug for ClientSecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientSecretHash({})", self.to_hex())
    }
}

impl FromStr for ClientSecretHash {
    type Err = InvalidSecretHash;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_hex(s)
    }
}

impl Serialize for ClientSecretHash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for ClientSecretHash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let hex = String::deserialize(deserializer)?;
        Self::from_hex(&hex).map_err(de::Error::custom)
    }
}

/// A stored secret hash that is not 64 hexadecimal characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("secret hash must be 64 hexadecimal characters")]
pub struct InvalidSecretHash;
