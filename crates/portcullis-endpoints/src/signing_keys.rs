//! Signing-key management over the store's [`KeyStore`]: the keys behind JWS signatures on
//! ID tokens (OpenID Connect Core §10.1) and JWT access tokens (RFC 9068), published in the
//! JWK Set (RFC 7517 §5) and rotated with overlap (OpenID Connect Core §10.1.1: "the JWK
//! Set … can contain multiple keys", so relying parties find both the old and the new key).
//!
//! The store is the truth (DESIGN §5): every instance loads the same active key and the
//! same published keys, and a rotation done by one instance reaches the others when they
//! [reload](Provider::reload_signing_keys).
//!
//! | stage | in the store | in the [`KeySet`] |
//! |---|---|---|
//! | new (inserted, not yet active) | `activated_at` and `retired_at` unset | published, accepted |
//! | active | `activated_at` set | signs, published first |
//! | retired within the grace period | `retired_at` set, recent | published, accepted |
//! | retired longer ago | `retired_at` older than the grace | left out |

use std::cmp::Reverse;

use portcullis_store::{KeyRecord, KeyStore, StoreError};
use portcullis_tokens::{KeySet, SigningAlgorithm, SigningKey, TokenError};
use time::{Duration, OffsetDateTime};

use crate::Provider;

/// How long a retired key stays published by default: 7 days, far longer than any ID token
/// (at most a day) or access token (at most 48 hours) it may have signed.
pub const DEFAULT_RETIRED_KEY_GRACE: Duration = Duration::days(7);

/// Why signing keys could not be loaded, created or rotated.
///
/// ```
/// use portcullis_endpoints::SigningKeyError;
/// let err = SigningKeyError::NoActiveKey;
/// assert_eq!(err.to_string(), "the store has no active signing key");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SigningKeyError {
    /// The store failed.
    #[error("storage failed")]
    Store(#[from] StoreError),
    /// A new key could not be generated.
    #[error("generating a signing key failed")]
    Generate(#[source] TokenError),
    /// A stored key could not be read: its algorithm is unknown or its private key is not a
    /// PKCS #8 key for that algorithm.
    #[error("stored signing key {kid} is unusable")]
    Unusable {
        /// The key's id.
        kid: String,
        /// What is wrong with it (an unknown algorithm is a [`TokenError::Key`]).
        #[source]
        source: TokenError,
    },
    /// The store has no active key (only [`load_or_create_signing_keys`] creates one).
    #[error("the store has no active signing key")]
    NoActiveKey,
}

/// The provider's signing keys from `store`, creating the first one if there is none.
///
/// The active key signs; keys retired less than [`DEFAULT_RETIRED_KEY_GRACE`] before `now`,
/// and new keys not yet active, are published and accepted. When the store has no active
/// key, a key for `algorithm` is generated, inserted and activated (`algorithm` is used for
/// nothing else: an existing active key of another algorithm is kept). Should two instances
/// create the first key at once, both end up with whichever the store activated last.
///
/// Call it at start-up and give the result to
/// [`ProviderBuilder::signing_keys`](crate::ProviderBuilder::signing_keys):
///
/// ```
/// use portcullis_endpoints::{Provider, load_or_create_signing_keys};
/// use portcullis_store::MemoryStore;
/// use portcullis_tokens::SigningAlgorithm;
/// use std::sync::Arc;
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let store = Arc::new(MemoryStore::new());
/// let now = time::OffsetDateTime::now_utc();
/// let keys = load_or_create_signing_keys(&*store, SigningAlgorithm::ES256, now).await?;
/// let provider = Provider::builder("https://id.example", store.clone())
///     .signing_keys(keys)
///     .build()?;
///
/// // The next start finds the same key.
/// let again = load_or_create_signing_keys(&*store, SigningAlgorithm::ES256, now).await?;
/// assert_eq!(again.active().kid(), provider.signing_keys().active().kid());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`SigningKeyError`] when the store fails, a stored active key is unusable, or a key
/// cannot be generated.
pub async fn load_or_create_signing_keys(
    store: &dyn KeyStore,
    algorithm: SigningAlgorithm,
    now: OffsetDateTime,
) -> Result<KeySet, SigningKeyError> {
    load_or_create_signing_keys_with_grace(store, algorithm, now, DEFAULT_RETIRED_KEY_GRACE).await
}

/// [`load_or_create_signing_keys`] with retired keys published for `grace` after they were
/// replaced instead of [`DEFAULT_RETIRED_KEY_GRACE`].
///
/// # Errors
///
/// As [`load_or_create_signing_keys`].
pub async fn load_or_create_signing_keys_with_grace(
    store: &dyn KeyStore,
    algorithm: SigningAlgorithm,
    now: OffsetDateTime,
    grace: Duration,
) -> Result<KeySet, SigningKeyError> {
    match load_signing_keys(store, now, grace).await {
        Err(SigningKeyError::NoActiveKey) => {}
        loaded => return loaded,
    }
    let key = SigningKey::generate(algorithm).map_err(SigningKeyError::Generate)?;
    store.insert_key(new_record(&key, now)).await?;
    store.activate_key(key.kid(), now).await?;
    tracing::info!(kid = key.kid(), %algorithm, "created the first signing key");
    // Read back what the store holds, in case another instance activated its own key.
    load_signing_keys(store, now, grace).await
}

/// The signing keys in `store` at `now`: the active key, then new keys and keys retired
/// within `grace`, newest first.
///
/// # Errors
///
/// [`SigningKeyError::NoActiveKey`] when no key is active; the store's error; an unusable
/// active key. An unusable published key is left out and logged.
pub async fn load_signing_keys(
    store: &dyn KeyStore,
    now: OffsetDateTime,
    grace: Duration,
) -> Result<KeySet, SigningKeyError> {
    let records = store.list_keys().await?;
    let active = records
        .iter()
        .find(|record| record.is_active())
        .ok_or(SigningKeyError::NoActiveKey)?;
    let active = signing_key(active)?;
    let oldest_kept = now - grace;
    let mut published: Vec<&KeyRecord> = records
        .iter()
        .filter(|record| record.kid != active.kid())
        .filter(|record| match record.retired_at {
            Some(retired_at) => retired_at >= oldest_kept,
            // New keys are published ahead of activation; a key activated and not retired
            // besides the active one cannot exist in a conforming store.
            None => record.activated_at.is_none(),
        })
        .collect();
    // Newest first: by when the key stopped signing, new keys (never signing) first.
    published.sort_by_key(|record| {
        (
            record.retired_at.is_some(),
            Reverse(record.retired_at),
            Reverse(record.created_at),
        )
    });
    let published = published
        .into_iter()
        .filter_map(|record| match signing_key(record) {
            Ok(key) => Some(key.public_key().clone()),
            Err(err) => {
                tracing::warn!(kid = %record.kid, "a published signing key is left out: {err}");
                None
            }
        });
    Ok(KeySet::with_retired(active, published))
}

/// The store record of a freshly generated key: new, neither active nor retired.
fn new_record(key: &SigningKey, now: OffsetDateTime) -> KeyRecord {
    KeyRecord {
        kid: key.kid().to_owned(),
        algorithm: key.algorithm().as_str().to_owned(),
        private_pkcs8: key.pkcs8_der().to_vec(),
        created_at: now,
        activated_at: None,
        retired_at: None,
    }
}

/// The private key of a stored record.
fn signing_key(record: &KeyRecord) -> Result<SigningKey, SigningKeyError> {
    let unusable = |source| SigningKeyError::Unusable {
        kid: record.kid.clone(),
        source,
    };
    let algorithm: SigningAlgorithm = record.algorithm.parse().map_err(|_| {
        unusable(TokenError::Key {
            reason: "unknown signing algorithm",
        })
    })?;
    SigningKey::from_pkcs8(algorithm, &record.private_pkcs8).map_err(unusable)
}

impl Provider {
    /// Rotates the signing key: generates a key for `algorithm`, stores it, makes it the
    /// active key (the store retires the previous one in the same step), and puts it in
    /// force here at once, with the previous key still published so tokens it signed keep
    /// verifying ([`ProviderBuilder::retired_key_grace`](crate::ProviderBuilder::retired_key_grace)).
    /// Answers the new key's `kid`.
    ///
    /// Other instances sharing the store pick the new key up with
    /// [`reload_signing_keys`](Provider::reload_signing_keys); until then they still sign
    /// with the old key, which stays published, so nothing they issue fails to verify.
    ///
    /// ```
    /// use portcullis_endpoints::{Provider, load_or_create_signing_keys};
    /// use portcullis_store::MemoryStore;
    /// use portcullis_tokens::SigningAlgorithm;
    /// use std::sync::Arc;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let store = Arc::new(MemoryStore::new());
    /// let keys = load_or_create_signing_keys(&*store, SigningAlgorithm::ES256, time::OffsetDateTime::now_utc()).await?;
    /// let old = keys.active().kid().to_owned();
    /// let provider = Provider::builder("https://id.example", store).signing_keys(keys).build()?;
    ///
    /// let new = provider.rotate_signing_key(SigningAlgorithm::EdDSA).await?;
    /// let keys = provider.signing_keys();
    /// assert_eq!(keys.active().kid(), new);
    /// assert!(keys.find(&old).is_some(), "the old key is still published");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`SigningKeyError`] when the key cannot be generated, or the store fails (if it
    /// failed after storing the key, the key may be new or active in the store while this
    /// provider still signs with the old one; reloading settles it).
    pub async fn rotate_signing_key(
        &self,
        algorithm: SigningAlgorithm,
    ) -> Result<String, SigningKeyError> {
        let now = self.now();
        let key = SigningKey::generate(algorithm).map_err(SigningKeyError::Generate)?;
        let store = self.store();
        store.insert_key(new_record(&key, now)).await?;
        store.activate_key(key.kid(), now).await?;
        let loaded = load_signing_keys(store.as_ref(), now, self.retired_key_grace()).await?;
        // The key that signed until now stays published even if the store never had it
        // (the builder's in-memory default key).
        let previous = self.signing_keys();
        let keys = KeySet::with_retired(
            loaded.active().clone(),
            loaded
                .retired()
                .iter()
                .cloned()
                .chain(std::iter::once(previous.active().public_key().clone())),
        );
        let kid = keys.active().kid().to_owned();
        tracing::info!(%kid, %algorithm, retired = previous.active().kid(), "rotated the signing key");
        self.set_signing_keys(keys);
        Ok(kid)
    }

    /// Replaces the signing keys in force with the store's: the active key, and the new and
    /// recently retired keys ([`ProviderBuilder::retired_key_grace`](crate::ProviderBuilder::retired_key_grace)).
    /// Call it now and then (every few minutes) on every instance, so a rotation done by one
    /// reaches all, and retired keys stop being published once their grace is over.
    ///
    /// # Errors
    ///
    /// [`SigningKeyError`] when the store fails, has no active key, or its active key is
    /// unusable; the keys in force are unchanged then.
    pub async fn reload_signing_keys(&self) -> Result<(), SigningKeyError> {
        let keys =
            load_signing_keys(self.store().as_ref(), self.now(), self.retired_key_grace()).await?;
        self.set_signing_keys(keys);
        Ok(())
    }
}
