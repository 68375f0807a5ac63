//! The provider's key set: one active signing key plus earlier public keys still published in
//! the JWK Set (RFC 7517 §5) so tokens they signed keep verifying after a rotation (OpenID
//! Connect Core §10.1.1).

use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::{JwtExpectations, PublicKey, SigningAlgorithm, SigningKey, TokenError};

/// One active [`SigningKey`] and the public halves of the keys it replaced, newest first.
///
/// Rotation keeps the old public key published; prune it once every token it signed has
/// expired (the longest token lifetime after the rotation).
///
/// ```
/// use portcullis_tokens::{KeySet, SigningAlgorithm, SigningKey};
///
/// let mut keys = KeySet::new(SigningKey::generate(SigningAlgorithm::ES256)?);
/// let first = keys.active().kid().to_owned();
/// keys.rotate(SigningKey::generate(SigningAlgorithm::ES256)?);
/// assert_eq!(keys.retired()[0].kid(), first);
/// assert_eq!(keys.jwks()["keys"].as_array().map(Vec::len), Some(2));
/// keys.prune(0);
/// assert!(keys.retired().is_empty());
/// # Ok::<(), portcullis_tokens::TokenError>(())
/// ```
#[derive(Debug, Clone)]
pub struct KeySet {
    active: SigningKey,
    retired: Vec<PublicKey>,
}

impl KeySet {
    /// A key set with `active` as its only key.
    ///
    /// ```
    /// use portcullis_tokens::{KeySet, SigningAlgorithm, SigningKey};
    /// let keys = KeySet::new(SigningKey::generate(SigningAlgorithm::ES256)?);
    /// assert!(keys.retired().is_empty());
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    pub fn new(active: SigningKey) -> KeySet {
        KeySet {
            active,
            retired: Vec::new(),
        }
    }

    /// A key set restored from storage: `active` plus still-published `retired` keys, newest
    /// first. Keys repeating the active key or an earlier retired key are dropped.
    ///
    /// ```
    /// use portcullis_tokens::{KeySet, SigningAlgorithm, SigningKey};
    ///
    /// let old = SigningKey::generate(SigningAlgorithm::ES256)?;
    /// let new = SigningKey::generate(SigningAlgorithm::ES256)?;
    /// let keys = KeySet::with_retired(new, [old.public_key().clone()]);
    /// assert_eq!(keys.retired(), [old.public_key().clone()]);
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    pub fn with_retired(
        active: SigningKey,
        retired: impl IntoIterator<Item = PublicKey>,
    ) -> KeySet {
        let mut keys = KeySet::new(active);
        for key in retired {
            if keys.find(key.kid()).is_none() {
                keys.retired.push(key);
            }
        }
        keys
    }

    /// Makes `next` the active key; the previous active key's public half becomes the newest
    /// retired key, still published and still accepted.
    ///
    /// ```
    /// use portcullis_tokens::{KeySet, SigningAlgorithm, SigningKey};
    ///
    /// let mut keys = KeySet::new(SigningKey::generate(SigningAlgorithm::ES256)?);
    /// let next = SigningKey::generate(SigningAlgorithm::EdDSA)?;
    /// keys.rotate(next.clone());
    /// assert_eq!(keys.active().kid(), next.kid());
    /// assert_eq!(keys.retired().len(), 1);
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    pub fn rotate(&mut self, next: SigningKey) {
        self.retired.retain(|key| key.kid() != next.kid());
        let previous = std::mem::replace(&mut self.active, next);
        if previous.kid() != self.active.kid() {
            self.retired.insert(0, previous.public_key().clone());
        }
    }

    /// Stops publishing the oldest retired key and returns it; tokens it signed no longer
    /// verify.
    ///
    /// ```
    /// use portcullis_tokens::{KeySet, SigningAlgorithm, SigningKey};
    ///
    /// let mut keys = KeySet::new(SigningKey::generate(SigningAlgorithm::ES256)?);
    /// let first = keys.active().public_key().clone();
    /// keys.rotate(SigningKey::generate(SigningAlgorithm::ES256)?);
    /// keys.rotate(SigningKey::generate(SigningAlgorithm::ES256)?);
    /// assert_eq!(keys.retire_oldest(), Some(first));
    /// assert_eq!(keys.retired().len(), 1);
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    pub fn retire_oldest(&mut self) -> Option<PublicKey> {
        self.retired.pop()
    }

    /// Keeps at most `max_retired` retired keys, the newest ones, and returns those dropped,
    /// newest first.
    ///
    /// ```
    /// use portcullis_tokens::{KeySet, SigningAlgorithm, SigningKey};
    ///
    /// let mut keys = KeySet::new(SigningKey::generate(SigningAlgorithm::ES256)?);
    /// for _ in 0..3 {
    ///     keys.rotate(SigningKey::generate(SigningAlgorithm::ES256)?);
    /// }
    /// assert_eq!(keys.prune(1).len(), 2);
    /// assert_eq!(keys.retired().len(), 1);
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    pub fn prune(&mut self, max_retired: usize) -> Vec<PublicKey> {
        if self.retired.len() > max_retired {
            self.retired.split_off(max_retired)
        } else {
            Vec::new()
        }
    }

    /// The key that signs new tokens.
    ///
    /// ```
    /// use portcullis_tokens::{KeySet, SigningAlgorithm, SigningKey};
    /// let key = SigningKey::generate(SigningAlgorithm::ES256)?;
    /// let keys = KeySet::new(key.clone());
    /// assert_eq!(keys.active().kid(), key.kid());
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    pub fn active(&self) -> &SigningKey {
        &self.active
    }

    /// The retired public keys still published, newest first.
    ///
    /// ```
    /// use portcullis_tokens::{KeySet, SigningAlgorithm, SigningKey};
    /// let keys = KeySet::new(SigningKey::generate(SigningAlgorithm::ES256)?);
    /// assert!(keys.retired().is_empty());
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    pub fn retired(&self) -> &[PublicKey] {
        &self.retired
    }

    /// Every published public key: the active one first, then the retired ones, newest first.
    ///
    /// ```
    /// use portcullis_tokens::{KeySet, SigningAlgorithm, SigningKey};
    /// let keys = KeySet::new(SigningKey::generate(SigningAlgorithm::ES256)?);
    /// assert_eq!(keys.public_keys().next(), Some(keys.active().public_key()));
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    pub fn public_keys(&self) -> impl Iterator<Item = &PublicKey> + '_ {
        std::iter::once(self.active.public_key()).chain(&self.retired)
    }

    /// The published key with this `kid`, if any.
    ///
    /// ```
    /// use portcullis_tokens::{KeySet, SigningAlgorithm, SigningKey};
    /// let keys = KeySet::new(SigningKey::generate(SigningAlgorithm::ES256)?);
    /// assert!(keys.find(keys.active().kid()).is_some());
    /// assert!(keys.find("no-such-key").is_none());
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    pub fn find(&self, kid: &str) -> Option<&PublicKey> {
        self.public_keys().find(|key| key.kid() == kid)
    }

    /// The JWK Set document served at the JWKS endpoint: `{"keys": [...]}`, active key first,
    /// public members only (RFC 7517 §5).
    ///
    /// ```
    /// use portcullis_tokens::{KeySet, SigningAlgorithm, SigningKey};
    ///
    /// let keys = KeySet::new(SigningKey::generate(SigningAlgorithm::ES256)?);
    /// let jwks = keys.jwks();
    /// assert_eq!(jwks["keys"][0]["kid"], keys.active().kid());
    /// assert!(jwks["keys"][0].get("d").is_none());
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    pub fn jwks(&self) -> Value {
        json!({ "keys": self.public_keys().map(PublicKey::jwk).collect::<Vec<_>>() })
    }

    /// The algorithms of the published keys, the active key's first, without repeats: what
    /// [`verify`](KeySet::verify) accepts. Only the active key's algorithm is used to sign
    /// new tokens.
    ///
    /// ```
    /// use portcullis_tokens::{KeySet, SigningAlgorithm, SigningKey};
    ///
    /// let mut keys = KeySet::new(SigningKey::generate(SigningAlgorithm::EdDSA)?);
    /// keys.rotate(SigningKey::generate(SigningAlgorithm::ES256)?);
    /// assert_eq!(keys.algorithms(), [SigningAlgorithm::ES256, SigningAlgorithm::EdDSA]);
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    pub fn algorithms(&self) -> Vec<SigningAlgorithm> {
        let mut algorithms = Vec::with_capacity(SigningAlgorithm::ALL.len());
        for key in self.public_keys() {
            if !algorithms.contains(&key.algorithm()) {
                algorithms.push(key.algorithm());
            }
        }
        algorithms
    }

    /// Verifies a compact JWS signed by one of the published keys and returns its claims.
    ///
    /// In order: the header `alg` must be one of [`algorithms`](KeySet::algorithms) (so
    /// `none`, `HS256` and anything else are refused before any key lookup); `kid` must name a
    /// published key whose algorithm is exactly that `alg`; a `crit` header is refused; `typ`
    /// must match when expected; the signature must verify; then the claims are checked
    /// against `expect` (see [`JwtExpectations`]) and deserialized into `C`.
    ///
    /// ```
    /// use portcullis_tokens::{JwtExpectations, KeySet, SigningAlgorithm, SigningKey};
    /// use serde_json::{json, Value};
    /// use time::OffsetDateTime;
    ///
    /// let keys = KeySet::new(SigningKey::generate(SigningAlgorithm::ES256)?);
    /// let now = OffsetDateTime::now_utc();
    /// let exp = now.unix_timestamp() + 300;
    /// let claims = json!({"iss": "https://issuer.example", "aud": "api", "exp": exp});
    /// let jwt = keys.active().sign(Some("at+jwt"), &claims)?;
    ///
    /// let expect = JwtExpectations::new("https://issuer.example", now)
    ///     .with_audience("api")
    ///     .with_typ("at+jwt");
    /// let claims: Value = keys.verify(&jwt, &expect)?;
    /// assert_eq!(claims["aud"], "api");
    ///
    /// let wrong = JwtExpectations::new("https://other.example", now);
    /// assert!(keys.verify::<Value>(&jwt, &wrong).is_err());
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`TokenError::Jwt`] naming the first check that failed, never echoing the token.
    pub fn verify<C: DeserializeOwned>(
        &self,
        token: &str,
        expect: &JwtExpectations,
    ) -> Result<C, TokenError> {
        crate::jwt::verify(token, expect, |alg, kid| {
            if !self.public_keys().any(|key| key.algorithm() == alg) {
                return Err(TokenError::Jwt {
                    reason: "unsupported algorithm",
                });
            }
            let kid = kid.ok_or(TokenError::Jwt {
                reason: "missing kid",
            })?;
            self.find(kid).ok_or(TokenError::Jwt {
                reason: "unknown kid",
            })
        })
    }
}

/// The public keys of an issuer the provider trusts but does not own: a JWK Set (RFC 7517
/// §5) published by another authorization server or assertion issuer, for verifying the JWTs
/// it signs (RFC 7523 assertions, foreign subject tokens in RFC 8693 token exchange).
///
/// Keys keep their issuer's `kid`, whatever its form ([`PublicKey::from_foreign_jwk`]).
/// [`from_jwks`](PublicKeySet::from_jwks) skips members it cannot use (other key types,
/// encryption keys), as RFC 7517 §5 asks, but refuses a set with no usable key.
///
/// ```
/// use portcullis_tokens::{JwtExpectations, PublicKeySet, SigningAlgorithm, SigningKey};
/// use serde_json::{json, Value};
/// use time::OffsetDateTime;
///
/// let theirs = SigningKey::generate(SigningAlgorithm::ES256)?;
/// let jwks = json!({"keys": [
///     theirs.public_key().jwk(),
///     {"kty": "oct", "k": "c2VjcmV0"},
/// ]});
/// let trusted = PublicKeySet::from_jwks(&jwks)?;
/// assert_eq!(trusted.keys().len(), 1);
///
/// let now = OffsetDateTime::now_utc();
/// let jwt = theirs.sign(None, &json!({"iss": "https://idp.example", "exp": now.unix_timestamp() + 60}))?;
/// let claims: Value = trusted.verify(&jwt, &JwtExpectations::new("https://idp.example", now))?;
/// assert_eq!(claims["iss"], "https://idp.example");
/// # Ok::<(), portcullis_tokens::TokenError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKeySet {
    keys: Vec<PublicKey>,
}

impl PublicKeySet {
    /// A set of these keys.
    ///
    /// ```
    /// use portcullis_tokens::{PublicKeySet, SigningAlgorithm, SigningKey};
    /// let key = SigningKey::generate(SigningAlgorithm::EdDSA)?;
    /// let set = PublicKeySet::new([key.public_key().clone()]);
    /// assert!(set.find(key.kid()).is_some());
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    pub fn new(keys: impl IntoIterator<Item = PublicKey>) -> PublicKeySet {
        PublicKeySet {
            keys: keys.into_iter().collect(),
        }
    }

    /// Reads a JWK Set document `{"keys": [...]}`, keeping every supported signature key and
    /// skipping the others.
    ///
    /// ```
    /// use portcullis_tokens::PublicKeySet;
    /// assert!(PublicKeySet::from_jwks(&serde_json::json!({"keys": []})).is_err());
    /// assert!(PublicKeySet::from_jwks(&serde_json::json!([1, 2])).is_err());
    /// ```
    ///
    /// # Errors
    ///
    /// [`TokenError::Key`] when the document is not a JWK Set or holds no usable key.
    pub fn from_jwks(jwks: &Value) -> Result<PublicKeySet, TokenError> {
        let members = jwks
            .get("keys")
            .and_then(Value::as_array)
            .ok_or(TokenError::Key {
                reason: "a JWK Set has a keys array",
            })?;
        let keys: Vec<PublicKey> = members
            .iter()
            .filter_map(|jwk| PublicKey::from_foreign_jwk(jwk).ok())
            .collect();
        if keys.is_empty() {
            return Err(TokenError::Key {
                reason: "the JWK Set has no usable signature key",
            });
        }
        Ok(PublicKeySet { keys })
    }

    /// The keys, in the order given.
    pub fn keys(&self) -> &[PublicKey] {
        &self.keys
    }

    /// The key with this `kid`, if any.
    pub fn find(&self, kid: &str) -> Option<&PublicKey> {
        self.keys.iter().find(|key| key.kid() == kid)
    }

    /// Verifies a compact JWS signed by one of these keys and returns its claims; the checks
    /// of [`KeySet::verify`], except that a token without `kid` is accepted when exactly one
    /// key has its algorithm (issuers with a single key often omit it).
    ///
    /// # Errors
    ///
    /// [`TokenError::Jwt`] naming the first check that failed, never echoing the token.
    pub fn verify<C: DeserializeOwned>(
        &self,
        token: &str,
        expect: &JwtExpectations,
    ) -> Result<C, TokenError> {
        crate::jwt::verify(token, expect, |alg, kid| {
            let mut candidates = self.keys.iter().filter(|key| key.algorithm() == alg);
            match kid {
                Some(kid) => candidates
                    .find(|key| key.kid() == kid)
                    .ok_or(TokenError::Jwt {
                        reason: "unknown kid",
                    }),
                None => match (candidates.next(), candidates.next()) {
                    (Some(only), None) => Ok(only),
                    (None, _) => Err(TokenError::Jwt {
                        reason: "unsupported algorithm",
                    }),
                    (Some(_), Some(_)) => Err(TokenError::Jwt {
                        reason: "missing kid",
                    }),
                },
            }
        })
    }
}

#[cfg(test)]
mod tests;
