//! Sealing small secrets the provider must be able to read back: AES-256-GCM with a random
//! 96-bit nonce per seal, the output `base64url(nonce || ciphertext || tag)`.
//!
//! The one use today is `client_secret_jwt` (OpenID Connect Core §9): the client MACs its
//! assertion with its secret, so the provider needs the secret itself, not the hash it keeps
//! for every other method. It keeps a sealed copy for those clients only, under a key the
//! deployment holds outside the store, so a leaked database does not leak those secrets.
//!
//! ```
//! use portcullis_tokens::SecretSealingKey;
//!
//! let key = SecretSealingKey::generate()?;
//! let sealed = key.seal(b"s3cret", b"client:web-app")?;
//! assert_eq!(key.open(&sealed, b"client:web-app")?, b"s3cret");
//! // Bound to its context: the same ciphertext does not open for another client.
//! assert!(key.open(&sealed, b"client:other").is_err());
//! # Ok::<(), portcullis_tokens::SealError>(())
//! ```

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Length of a sealing key: 32 bytes (AES-256).
pub const SEALING_KEY_BYTES: usize = 32;

/// Why sealing or opening failed. Never carries key material or plaintext.
///
/// ```
/// use portcullis_tokens::{SealError, SecretSealingKey};
/// let key = SecretSealingKey::generate()?;
/// assert!(matches!(key.open("not sealed", b""), Err(SealError::Open)));
/// # Ok::<(), SealError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The key is not 32 bytes (or not base64url of 32 bytes).
    #[error("a sealing key is 32 bytes")]
    KeyLength,
    /// The operating system's random generator or the cipher failed.
    #[error("sealing failed")]
    Seal,
    /// The sealed value is malformed, was sealed under another key or context, or was
    /// tampered with.
    #[error("the sealed value cannot be opened with this key")]
    Open,
}

/// A 256-bit AES-GCM key that seals secrets the provider must read back (the secrets of
/// `client_secret_jwt` clients).
///
/// Each [`seal`](SecretSealingKey::seal) draws a fresh random nonce, so sealing the same
/// secret twice gives different outputs; a 96-bit random nonce is safe for far more seals
/// than a provider makes (NIST SP 800-38D §8.3 bounds it at 2^32 per key). The `context`
/// is authenticated but not encrypted: seal a client's secret with its client id as the
/// context, and a sealed value copied onto another client does not open.
///
/// The key never appears in `Debug` output. It is cheap to clone.
///
/// ```
/// use portcullis_tokens::SecretSealingKey;
/// let key = SecretSealingKey::from_bytes(&[7u8; 32])?;
/// assert_eq!(format!("{key:?}"), "SecretSealingKey(<redacted>)");
/// assert!(SecretSealingKey::from_bytes(&[7u8; 16]).is_err());
/// # Ok::<(), portcullis_tokens::SealError>(())
/// ```
#[derive(Clone)]
pub struct SecretSealingKey(Arc<RandomizedNonceKey>);

impl SecretSealingKey {
    /// The key made of these 32 bytes: load them from the deployment's secret store, the
    /// same on every instance.
    ///
    /// ```
    /// # use portcullis_tokens::SecretSealingKey;
    /// let key = SecretSealingKey::from_bytes(&[1u8; 32])?;
    /// # Ok::<(), portcullis_tokens::SealError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`SealError::KeyLength`] unless `bytes` is exactly 32 bytes long.
    pub fn from_bytes(bytes: &[u8]) -> Result<SecretSealingKey, SealError> {
        if bytes.len() != SEALING_KEY_BYTES {
            return Err(SealError::KeyLength);
        }
        RandomizedNonceKey::new(&AES_256_GCM, bytes)
            .map(|key| SecretSealingKey(Arc::new(key)))
            .map_err(|_| SealError::KeyLength)
    }

    /// The key whose 32 bytes are base64url-encoded (padding optional) in `encoded`, as an
    /// environment variable or configuration file would hold it.
    ///
    /// ```
    /// # use portcullis_tokens::SecretSealingKey;
    /// let key = SecretSealingKey::from_base64url("AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE")?;
    /// # Ok::<(), portcullis_tokens::SealError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`SealError::KeyLength`] when it is not base64url of 32 bytes.
    pub fn from_base64url(encoded: &str) -> Result<SecretSealingKey, SealError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(encoded.trim().trim_end_matches('='))
            .map_err(|_| SealError::KeyLength)?;
        SecretSealingKey::from_bytes(&bytes)
    }

    /// A fresh random key, for tests and single-process deployments: what it sealed cannot
    /// be opened after a restart.
    ///
    /// ```
    /// let key = portcullis_tokens::SecretSealingKey::generate()?;
    /// # Ok::<(), portcullis_tokens::SealError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`SealError::Seal`] when the operating system's random generator fails.
    pub fn generate() -> Result<SecretSealingKey, SealError> {
        let mut bytes = [0u8; SEALING_KEY_BYTES];
        aws_lc_rs::rand::fill(&mut bytes).map_err(|_| SealError::Seal)?;
        SecretSealingKey::from_bytes(&bytes)
    }

    /// Seals `plaintext`, binding it to `context`: `base64url(nonce || ciphertext || tag)`.
    ///
    /// ```
    /// # use portcullis_tokens::SecretSealingKey;
    /// let key = SecretSealingKey::generate()?;
    /// let a = key.seal(b"secret", b"ctx")?;
    /// let b = key.seal(b"secret", b"ctx")?;
    /// assert_ne!(a, b, "a fresh nonce each time");
    /// # Ok::<(), portcullis_tokens::SealError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`SealError::Seal`] when the random generator or the cipher fails.
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Result<String, SealError> {
        let mut in_out = plaintext.to_vec();
        let nonce = self
            .0
            .seal_in_place_append_tag(Aad::from(context), &mut in_out)
            .map_err(|_| SealError::Seal)?;
        let mut sealed = Vec::with_capacity(NONCE_LEN + in_out.len());
        sealed.extend_from_slice(nonce.as_ref());
        sealed.extend_from_slice(&in_out);
        Ok(URL_SAFE_NO_PAD.encode(sealed))
    }

    /// Opens what [`seal`](SecretSealingKey::seal) made with this key and `context`.
    ///
    /// ```
    /// # use portcullis_tokens::SecretSealingKey;
    /// let key = SecretSealingKey::generate()?;
    /// let sealed = key.seal(b"secret", b"ctx")?;
    /// let other = SecretSealingKey::generate()?;
    /// assert!(other.open(&sealed, b"ctx").is_err());
    /// # Ok::<(), portcullis_tokens::SealError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`SealError::Open`] when `sealed` is malformed, was sealed under another key or
    /// context, or was altered.
    pub fn open(&self, sealed: &str, context: &[u8]) -> Result<Vec<u8>, SealError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(sealed)
            .map_err(|_| SealError::Open)?;
        let (nonce, ciphertext) = bytes.split_at_checked(NONCE_LEN).ok_or(SealError::Open)?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Open)?;
        let mut in_out = ciphertext.to_vec();
        let plaintext = self
            .0
            .open_in_place(nonce, Aad::from(context), &mut in_out)
            .map_err(|_| SealError::Open)?;
        Ok(plaintext.to_vec())
    }
}

impl fmt::Debug for SecretSealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretSealingKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn round_trip_and_every_tampering_refused() {
        let key = SecretSealingKey::generate().unwrap();
        let sealed = key.seal(b"the secret", b"client:a").unwrap();
        assert_eq!(key.open(&sealed, b"client:a").unwrap(), b"the secret");
        let raw = URL_SAFE_NO_PAD.decode(&sealed).unwrap();
        assert_eq!(raw.len(), NONCE_LEN + b"the secret".len() + 16);
        // Flip each byte in turn: nonce, ciphertext and tag are all authenticated.
        for index in 0..raw.len() {
            let mut altered = raw.clone();
            altered[index] ^= 0x01;
            let altered = URL_SAFE_NO_PAD.encode(altered);
            assert_eq!(
                key.open(&altered, b"client:a"),
                Err(SealError::Open),
                "byte {index}"
            );
        }
        let cases: [(&str, String, &[u8]); 5] = [
            ("wrong context", sealed.clone(), b"client:b"),
            ("truncated", sealed[..10].to_owned(), b"client:a"),
            ("empty", String::new(), b"client:a"),
            ("not base64url", "***".to_owned(), b"client:a"),
            (
                "tag dropped",
                URL_SAFE_NO_PAD.encode(&raw[..raw.len() - 16]),
                b"client:a",
            ),
        ];
        for (name, value, context) in cases {
            assert_eq!(key.open(&value, context), Err(SealError::Open), "{name}");
        }
        let other = SecretSealingKey::generate().unwrap();
        assert_eq!(other.open(&sealed, b"client:a"), Err(SealError::Open));
    }

    #[test]
    fn keys_load_from_bytes_and_base64url_and_hide_in_debug() {
        let bytes = [42u8; 32];
        let a = SecretSealingKey::from_bytes(&bytes).unwrap();
        let b = SecretSealingKey::from_base64url(&URL_SAFE_NO_PAD.encode(bytes)).unwrap();
        let sealed = a.seal(b"x", b"").unwrap();
        assert_eq!(b.open(&sealed, b"").unwrap(), b"x");
        assert!(!format!("{a:?}").contains("42"));
        for bad in [&[0u8; 31][..], &[0u8; 33][..], &[][..]] {
            assert_eq!(
                SecretSealingKey::from_bytes(bad).unwrap_err(),
                SealError::KeyLength
            );
        }
        assert!(SecretSealingKey::from_base64url("short").is_err());
    }
}
