//! Signing keys: the private keys behind JWS signatures (RFC 7515) on ID tokens (OpenID
//! Connect Core §10.1) and JWT access tokens (RFC 9068), published as a JWK Set
//! (RFC 7517 §5) and rotated with at most one key signing at any time.

use std::fmt;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::StoreError;

/// A stored signing key.
///
/// A key goes through three stages, each one-way: **new** (inserted, published in the JWK
/// Set so relying parties can fetch it before it signs anything), **active** (the one key
/// that signs, from [`KeyStore::activate_key`]) and **retired** (replaced by another active
/// key; still published so tokens it signed verify until they expire, then deleted).
///
/// `private_pkcs8` is the private key as PKCS #8 DER. `Debug` never prints it; serde writes
/// it as a base64url string (no padding) so the record fits text columns and JSON.
///
/// ```
/// use portcullis_store::KeyRecord;
/// use time::OffsetDateTime;
///
/// let key = KeyRecord {
///     kid: "2025-06-k1".into(),
///     algorithm: "ES256".into(),
///     private_pkcs8: vec![0x30, 0x81, 0x87], // PKCS #8 DER from the key generator
///     created_at: OffsetDateTime::now_utc(),
///     activated_at: None,
///     retired_at: None,
/// };
/// assert!(!key.is_active());
/// assert!(format!("{key:?}").contains("<redacted>"));
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    /// The key id, published as the JWK `kid` and put in every JWS header it signs
    /// (RFC 7515 §4.1.4).
    pub kid: String,
    /// The JOSE algorithm name (RFC 7518 §3.1, RFC 8037 §3.1): `ES256`, `EdDSA`, `RS256`.
    pub algorithm: String,
    /// The private key, PKCS #8 DER (RFC 5958).
    #[serde(with = "base64url")]
    pub private_pkcs8: Vec<u8>,
    /// When the key was made.
    pub created_at: OffsetDateTime,
    /// When the key became the active one; `None` while it is new.
    pub activated_at: Option<OffsetDateTime>,
    /// When another key replaced it; `None` until then.
    pub retired_at: Option<OffsetDateTime>,
}

impl KeyRecord {
    /// Whether this is the key that signs: activated and not retired.
    ///
    /// ```
    /// # use portcullis_store::KeyRecord;
    /// # use time::OffsetDateTime;
    /// # let now = OffsetDateTime::now_utc();
    /// # let mut key = KeyRecord { kid: "k1".into(), algorithm: "ES256".into(),
    /// #     private_pkcs8: vec![], created_at: now, activated_at: None, retired_at: None };
    /// key.activated_at = Some(now);
    /// assert!(key.is_active());
    /// key.retired_at = Some(now);
    /// assert!(!key.is_active());
    /// ```
    pub fn is_active(&self) -> bool {
        self.activated_at.is_some() && self.retired_at.is_none()
    }

    /// Whether another key has replaced this one (it verifies, it no longer signs).
    ///
    /// ```
    /// # use portcullis_store::KeyRecord;
    /// # use time::OffsetDateTime;
    /// # let now = OffsetDateTime::now_utc();
    /// # let mut key = KeyRecord { kid: "k1".into(), algorithm: "ES256".into(),
    /// #     private_pkcs8: vec![], created_at: now, activated_at: Some(now), retired_at: None };
    /// assert!(!key.is_retired());
    /// key.retired_at = Some(now);
    /// assert!(key.is_retired());
    /// ```
    pub fn is_retired(&self) -> bool {
        self.retired_at.is_some()
    }
}

impl fmt::Debug for KeyRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRecord")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("private_pkcs8", &format_args!("<redacted>"))
            .field("created_at", &self.created_at)
            .field("activated_at", &self.activated_at)
            .field("retired_at", &self.retired_at)
            .finish()
    }
}

/// serde for key bytes as an unpadded base64url string.
mod base64url {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde::{Deserialize, Deserializer, Serializer, de};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&URL_SAFE_NO_PAD.encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<u8>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        URL_SAFE_NO_PAD
            .decode(text.as_bytes())
            .map_err(|_| de::Error::custom("private_pkcs8 is not unpadded base64url"))
    }
}

/// Where signing keys are kept.
///
/// Contract (checked by the conformance kit):
/// - **At most one key is active at any time, under any concurrency.** Only
///   `activate_key` makes a key active, and it retires the previously active key in the
///   same atomic step; of any number of concurrent activations exactly one key ends up
///   active. Once a key has been activated some key is always active (the active key
///   cannot be deleted).
/// - `insert_key` adds a new key ([`StoreError::Conflict`] if the `kid` exists). It never
///   activates: a record that [`is_active`](KeyRecord::is_active) is refused with
///   [`StoreError::InvalidRecord`]. Retired records may be inserted (importing a key set).
/// - `activate_key(kid, now)` sets the key's `activated_at = now` and the previously active
///   key's `retired_at = now`. Activating the active key changes nothing; an unknown `kid`
///   is [`StoreError::NotFound`]; a retired key is never activated again
///   ([`StoreError::InvalidRecord`]: mint a new key instead). Nothing changes on an error.
/// - `delete_key` removes a new or retired key and answers whether it existed; the active
///   key is refused with [`StoreError::InvalidRecord`].
/// - `list_keys` returns every key ordered by `created_at`, then `kid`.
/// - Keys never expire: [`SweepExpired`](crate::SweepExpired) leaves them alone; deleting a
///   retired key once the tokens it signed have expired is the caller's decision.
///
/// ```
/// # async fn demo(store: &impl portcullis_store::KeyStore, pkcs8: Vec<u8>) -> Result<(), portcullis_store::StoreError> {
/// use portcullis_store::KeyRecord;
/// let now = time::OffsetDateTime::now_utc();
/// // Publish the next key first, so relying parties have it before it signs …
/// store
///     .insert_key(KeyRecord {
///         kid: "2025-06-k2".into(),
///         algorithm: "ES256".into(),
///         private_pkcs8: pkcs8,
///         created_at: now,
///         activated_at: None,
///         retired_at: None,
///     })
///     .await?;
/// // … then, later, switch signing to it; the old key is retired in the same step.
/// store.activate_key("2025-06-k2", now).await?;
/// assert_eq!(store.active_key().await?.map(|key| key.kid), Some("2025-06-k2".into()));
/// # Ok(()) }
/// ```
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// Adds a new, inactive key.
    async fn insert_key(&self, key: KeyRecord) -> Result<(), StoreError>;
    /// Every key, new, active and retired, ordered by `created_at` then `kid`.
    async fn list_keys(&self) -> Result<Vec<KeyRecord>, StoreError>;
    /// Makes `kid` the only active key and retires the previous one, atomically.
    async fn activate_key(&self, kid: &str, now: OffsetDateTime) -> Result<(), StoreError>;
    /// Removes a key that is not active; answers whether it existed.
    async fn delete_key(&self, kid: &str) -> Result<bool, StoreError>;

    /// The active key, if one has been activated.
    async fn active_key(&self) -> Result<Option<KeyRecord>, StoreError> {
        Ok(self
            .list_keys()
            .await?
            .into_iter()
            .find(KeyRecord::is_active))
    }
}

#[cfg(test)]
mod tests;
