//! The symmetric signing secret (spec "Signature scheme": `whsec_` and base64 of 24 to 64
//! random bytes).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rand::TryRng as _;

/// The prefix that marks a Standard Webhooks symmetric secret.
const PREFIX: &str = "whsec_";
/// Bytes in a generated secret (256 bits).
const GENERATED_BYTES: usize = 32;
/// The spec's bounds on the key: at least 192 bits, at most 512.
const MIN_BYTES: usize = 24;
const MAX_BYTES: usize = 64;

/// Why a secret could not be made or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed")]
    Entropy(#[source] rand::rngs::SysError),
    /// The text is not `whsec_` followed by base64 of 24 to 64 bytes.
    #[error("not a webhook secret: {0}")]
    Malformed(&'static str),
}

/// A Standard Webhooks signing secret: 24 to 64 random bytes, written `whsec_<base64>`.
///
/// Its `Debug` output is redacted; the written form is reachable only through
/// [`WebhookSecret::expose`], to show it once to the receiver's owner.
///
/// ```
/// use portcullis_events::webhook::WebhookSecret;
///
/// let secret = WebhookSecret::generate()?;
/// assert!(secret.expose().starts_with("whsec_"));
/// assert_eq!(format!("{secret:?}"), "WebhookSecret(<redacted>)");
/// let again = WebhookSecret::parse(&secret.expose())?;
/// assert_eq!(again.expose(), secret.expose());
/// assert!(WebhookSecret::parse("whsec_c2hvcnQ=").is_err()); // 5 bytes: too short
/// # Ok::<(), portcullis_events::webhook::SecretError>(())
/// ```
#[derive(Clone)]
pub struct WebhookSecret {
    key: Vec<u8>,
}

impl WebhookSecret {
    /// A fresh 256-bit secret from the operating system's random number generator.
    ///
    /// # Errors
    ///
    /// [`SecretError::Entropy`] if the system random number generator fails.
    ///
    /// ```
    /// use portcullis_events::webhook::WebhookSecret;
    /// let a = WebhookSecret::generate()?;
    /// let b = WebhookSecret::generate()?;
    /// assert_ne!(a.expose(), b.expose());
    /// # Ok::<(), portcullis_events::webhook::SecretError>(())
    /// ```
    pub fn generate() -> Result<WebhookSecret, SecretError> {
        let mut key = vec![0_u8; GENERATED_BYTES];
        rand::rngs::SysRng
            .try_fill_bytes(&mut key)
            .map_err(SecretError::Entropy)?;
        Ok(WebhookSecret { key })
    }

    /// Reads the written form `whsec_<base64>` (standard alphabet, padded as base64 is).
    ///
    /// # Errors
    ///
    /// [`SecretError::Malformed`] when the prefix is missing, the rest is not base64, or
    /// the key is shorter than 24 or longer than 64 bytes.
    ///
    /// ```
    /// use portcullis_events::webhook::WebhookSecret;
    /// assert!(WebhookSecret::parse("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").is_ok());
    /// assert!(WebhookSecret::parse("C2FVsBQIhrscChlQIMV+b5sSYspob7oD").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<WebhookSecret, SecretError> {
        let encoded = text
            .strip_prefix(PREFIX)
            .ok_or(SecretError::Malformed("missing the whsec_ prefix"))?;
        let key = STANDARD
            .decode(encoded)
            .map_err(|_| SecretError::Malformed("not base64"))?;
        if key.len() < MIN_BYTES {
            return Err(SecretError::Malformed("shorter than 24 bytes"));
        }
        if key.len() > MAX_BYTES {
            return Err(SecretError::Malformed("longer than 64 bytes"));
        }
        Ok(WebhookSecret { key })
    }

    /// The written form, `whsec_<base64>`.
    ///
    /// # Security
    ///
    /// This is the credential itself: show it once to the receiver's owner, never log it.
    ///
    /// ```
    /// use portcullis_events::webhook::WebhookSecret;
    /// let secret = WebhookSecret::parse("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD")?;
    /// assert_eq!(secret.expose(), "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD");
    /// # Ok::<(), portcullis_events::webhook::SecretError>(())
    /// ```
    #[must_use]
    pub fn expose(&self) -> String {
        format!("{PREFIX}{}", STANDARD.encode(&self.key))
    }

    /// The raw HMAC key.
    pub(crate) fn key(&self) -> &[u8] {
        &self.key
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

impl std::str::FromStr for WebhookSecret {
    type Err = SecretError;

    fn from_str(text: &str) -> Result<WebhookSecret, SecretError> {
        WebhookSecret::parse(text)
    }
}
