//! Issuers the provider trusts to sign JWTs it did not issue: assertion issuers for the JWT
//! bearer grant (RFC 7523 §3, item 9: "The JWT MUST be digitally signed … by the issuer")
//! and the issuers of foreign subject tokens in token exchange (RFC 8693 §2.1).
//!
//! Keys come from a [`JwksSource`]: [`StaticJwks`] for keys configured up front, or
//! [`CachedJwks`] around any [`FetchJwks`] for keys fetched from the issuer's `jwks_uri`.
//! This crate holds no HTTP client: the application implements [`FetchJwks`] with the one it
//! already has (a few lines with `reqwest`, see [`FetchJwks`]), and [`CachedJwks`] bounds how
//! often it is called.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use portcullis_tokens::{JwtExpectations, PublicKeySet, TokenError, UnverifiedJwt};
use serde::de::DeserializeOwned;
use serde_json::Value;
use time::{Duration, OffsetDateTime};

use crate::BoxError;

/// Where a trusted issuer's public keys come from.
///
/// `kid` is the key id the token to verify names (unverified), so a caching source can
/// refetch when the issuer has rotated to a key it has not seen yet.
///
/// ```
/// use std::sync::Arc;
/// use async_trait::async_trait;
/// use portcullis_grants::{BoxError, JwksSource};
/// use portcullis_tokens::PublicKeySet;
///
/// /// Keys the application loads from its own configuration store.
/// struct FromConfig(Arc<PublicKeySet>);
///
/// #[async_trait]
/// impl JwksSource for FromConfig {
///     async fn keys(&self, _kid: Option<&str>, _now: time::OffsetDateTime) -> Result<Arc<PublicKeySet>, BoxError> {
///         Ok(self.0.clone())
///     }
/// }
/// ```
#[async_trait]
pub trait JwksSource: Send + Sync + 'static {
    /// The issuer's current verification keys.
    ///
    /// # Errors
    ///
    /// When the keys cannot be had (the issuer's JWKS endpoint is down, say); the grant then
    /// answers `server_error` and issues nothing.
    async fn keys(
        &self,
        kid: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Arc<PublicKeySet>, BoxError>;
}

/// Keys configured up front; never refetched.
///
/// ```
/// use portcullis_grants::StaticJwks;
/// use portcullis_tokens::{SigningAlgorithm, SigningKey};
///
/// let theirs = SigningKey::generate(SigningAlgorithm::ES256)?;
/// let jwks = serde_json::json!({"keys": [theirs.public_key().jwk()]});
/// let source = StaticJwks::from_jwks(&jwks)?;
/// # Ok::<(), portcullis_tokens::TokenError>(())
/// ```
#[derive(Debug, Clone)]
pub struct StaticJwks(Arc<PublicKeySet>);

impl StaticJwks {
    /// These keys.
    ///
    /// ```
    /// use portcullis_grants::StaticJwks;
    /// use portcullis_tokens::{PublicKeySet, SigningAlgorithm, SigningKey};
    /// let key = SigningKey::generate(SigningAlgorithm::EdDSA)?;
    /// let source = StaticJwks::new(PublicKeySet::new([key.public_key().clone()]));
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    pub fn new(keys: PublicKeySet) -> StaticJwks {
        StaticJwks(Arc::new(keys))
    }

    /// The keys of a JWK Set document (RFC 7517 §5); see [`PublicKeySet::from_jwks`].
    ///
    /// # Errors
    ///
    /// [`TokenError::Key`] when the document holds no usable signature key.
    pub fn from_jwks(jwks: &Value) -> Result<StaticJwks, TokenError> {
        PublicKeySet::from_jwks(jwks).map(StaticJwks::new)
    }
}

#[async_trait]
impl JwksSource for StaticJwks {
    async fn keys(
        &self,
        _kid: Option<&str>,
        _now: OffsetDateTime,
    ) -> Result<Arc<PublicKeySet>, BoxError> {
        Ok(self.0.clone())
    }
}

/// Fetches an issuer's JWK Set document, for [`CachedJwks`].
///
/// Implement it with the application's HTTP client; for example with `reqwest`:
///
/// ```text
/// struct Fetch { http: reqwest::Client, jwks_uri: String }
///
/// #[async_trait]
/// impl FetchJwks for Fetch {
///     async fn fetch(&self) -> Result<serde_json::Value, BoxError> {
///         let response = self.http.get(&self.jwks_uri).send().await?.error_for_status()?;
///         Ok(response.json().await?)
///     }
/// }
/// ```
///
/// Use `https` (RFC 7523 §7 relies on the keys being the issuer's) and a client timeout.
#[async_trait]
pub trait FetchJwks: Send + Sync + 'static {
    /// The JWK Set document, as JSON.
    ///
    /// # Errors
    ///
    /// Whatever went wrong fetching or decoding it.
    async fn fetch(&self) -> Result<Value, BoxError>;
}

/// A [`JwksSource`] that fetches through `F` and caches the keys.
///
/// - The keys are refetched when older than [`max_age`](CachedJwks::max_age) (default one
///   hour), and before that when a token names a `kid` they do not have (the issuer rotated),
///   but at most once per [`min_refetch_interval`](CachedJwks::min_refetch_interval)
///   (default one minute), so tokens with made-up `kid`s cannot make the provider hammer the
///   issuer.
/// - When a refetch fails, keys younger than `max_age` keep being used; older ones are not
///   (the source answers an error).
/// - No lock is held while fetching; concurrent misses may fetch twice, which is harmless.
///
/// ```
/// use async_trait::async_trait;
/// use portcullis_grants::{BoxError, CachedJwks, FetchJwks, JwksSource};
/// use portcullis_tokens::{SigningAlgorithm, SigningKey};
///
/// struct Fixed(serde_json::Value);
///
/// #[async_trait]
/// impl FetchJwks for Fixed {
///     async fn fetch(&self) -> Result<serde_json::Value, BoxError> {
///         Ok(self.0.clone())
///     }
/// }
///
/// # tokio::runtime::Builder::new_current_thread().build().expect("rt").block_on(async {
/// let theirs = SigningKey::generate(SigningAlgorithm::ES256).expect("key");
/// let source = CachedJwks::new(Fixed(serde_json::json!({"keys": [theirs.public_key().jwk()]})))
///     .max_age(time::Duration::minutes(10));
/// let keys = source.keys(Some(theirs.kid()), time::OffsetDateTime::now_utc()).await.expect("keys");
/// assert!(keys.find(theirs.kid()).is_some());
/// # });
/// ```
pub struct CachedJwks<F> {
    fetcher: F,
    max_age: Duration,
    min_refetch_interval: Duration,
    cached: Mutex<Option<(Arc<PublicKeySet>, OffsetDateTime)>>,
}

impl<F: FetchJwks> CachedJwks<F> {
    /// Caches what `fetcher` fetches, with the defaults above.
    pub fn new(fetcher: F) -> CachedJwks<F> {
        CachedJwks {
            fetcher,
            max_age: Duration::hours(1),
            min_refetch_interval: Duration::minutes(1),
            cached: Mutex::new(None),
        }
    }

    /// How long fetched keys are used before a refetch. Default one hour.
    #[must_use]
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// The least time between two fetches caused by an unknown `kid`. Default one minute.
    #[must_use]
    pub fn min_refetch_interval(mut self, interval: Duration) -> Self {
        self.min_refetch_interval = interval;
        self
    }

    fn snapshot(&self) -> Option<(Arc<PublicKeySet>, OffsetDateTime)> {
        self.cached
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[async_trait]
impl<F: FetchJwks> JwksSource for CachedJwks<F> {
    async fn keys(
        &self,
        kid: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Arc<PublicKeySet>, BoxError> {
        let cached = self.snapshot();
        if let Some((keys, fetched_at)) = &cached {
            let age = now - *fetched_at;
            let fresh = age < self.max_age;
            let knows_kid = kid.is_none_or(|kid| keys.find(kid).is_some());
            if fresh && (knows_kid || age < self.min_refetch_interval) {
                return Ok(keys.clone());
            }
        }
        let fetched = match self.fetcher.fetch().await {
            Ok(document) => PublicKeySet::from_jwks(&document).map_err(BoxError::from),
            Err(err) => Err(err),
        };
        match fetched {
            Ok(keys) => {
                let keys = Arc::new(keys);
                *self.cached.lock().unwrap_or_else(PoisonError::into_inner) =
                    Some((keys.clone(), now));
                Ok(keys)
            }
            Err(err) => match cached {
                Some((keys, fetched_at)) if now - fetched_at < self.max_age => Ok(keys),
                _ => Err(err),
            },
        }
    }
}

impl<F> fmt::Debug for CachedJwks<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedJwks")
            .field("max_age", &self.max_age)
            .field("min_refetch_interval", &self.min_refetch_interval)
            .finish_non_exhaustive()
    }
}

/// An issuer identifier (`iss`, compared exactly) and where its keys come from.
///
/// ```
/// use portcullis_grants::{StaticJwks, TrustedIssuer};
/// use portcullis_tokens::{SigningAlgorithm, SigningKey};
///
/// let theirs = SigningKey::generate(SigningAlgorithm::ES256)?;
/// let jwks = serde_json::json!({"keys": [theirs.public_key().jwk()]});
/// let issuer = TrustedIssuer::new("https://idp.example", StaticJwks::from_jwks(&jwks)?);
/// assert_eq!(issuer.issuer(), "https://idp.example");
/// # Ok::<(), portcullis_tokens::TokenError>(())
/// ```
#[derive(Clone)]
pub struct TrustedIssuer {
    issuer: String,
    jwks: Arc<dyn JwksSource>,
}

/// Why a foreign JWT was not accepted.
#[derive(Debug)]
pub(crate) enum ForeignJwtError {
    /// The token or its claims are not acceptable: `invalid_grant` (or the grant's own
    /// code); the reason is safe to log.
    Rejected(TokenError),
    /// The keys could not be had.
    Keys(BoxError),
}

impl TrustedIssuer {
    /// Trust JWTs whose `iss` is exactly `issuer` and whose signature verifies with a key
    /// from `jwks`.
    pub fn new(issuer: impl Into<String>, jwks: impl JwksSource) -> TrustedIssuer {
        TrustedIssuer {
            issuer: issuer.into(),
            jwks: Arc::new(jwks),
        }
    }

    /// The issuer identifier.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Verifies `token` (already peeked) with this issuer's keys against `expect`.
    pub(crate) async fn verify<C: DeserializeOwned>(
        &self,
        token: &str,
        peeked: &UnverifiedJwt,
        expect: &JwtExpectations,
    ) -> Result<C, ForeignJwtError> {
        let keys = self
            .jwks
            .keys(peeked.kid(), expect.now)
            .await
            .map_err(ForeignJwtError::Keys)?;
        keys.verify(token, expect)
            .map_err(ForeignJwtError::Rejected)
    }
}

impl fmt::Debug for TrustedIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrustedIssuer")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
