//! Tokens whose signature this validator has already verified, so that a client presenting
//! the same token again does not pay for the signature a second time (ES256 verification
//! costs ~70 µs here, the rest of a protected request a few µs).
//!
//! What a hit skips is exactly what cannot change between two presentations of the same
//! bytes: the signature, the header and the time-independent claims (`iss`, `aud`, the
//! required members). An entry is used only with the very key object it was verified with
//! (`Arc::ptr_eq`): when the JWKS is fetched again, or the key is no longer published,
//! tokens are verified again from scratch. The time checks (`exp`, `nbf`, `iat` against the
//! clock and the leeway) run on every hit, as on a miss.
//!
//! Keys are the SHA-256 of the token; the cache is sharded (no global lock) and bounded
//! (`SHARDS × PER_SHARD` entries; a full shard drops its expired entries, then everything).

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use portcullis_tokens::{PublicKey, TokenHash};
use time::OffsetDateTime;

use crate::AccessToken;

const SHARDS: usize = 16;
const PER_SHARD: usize = 4096;

/// What a verified token said, and what it was verified with.
struct Entry {
    key: Arc<PublicKey>,
    token: AccessToken,
    not_before: Option<OffsetDateTime>,
}

/// A verified token from the cache, whose time claims are still to be checked.
pub(super) struct Hit {
    pub(super) token: AccessToken,
    pub(super) not_before: Option<OffsetDateTime>,
}

/// The cache.
pub(super) struct Verified {
    shards: Vec<RwLock<HashMap<TokenHash, Entry>>>,
}

impl Default for Verified {
    fn default() -> Self {
        Verified {
            shards: (0..SHARDS).map(|_| RwLock::default()).collect(),
        }
    }
}

impl std::fmt::Debug for Verified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verified").finish_non_exhaustive()
    }
}

impl Verified {
    fn shard(&self, hash: &TokenHash) -> Option<&RwLock<HashMap<TokenHash, Entry>>> {
        let first = usize::from(hash.as_bytes().first().copied().unwrap_or(0));
        self.shards.get(first % SHARDS)
    }

    /// The token `hash` names, if it was verified with `key`.
    pub(super) fn get(&self, hash: &TokenHash, key: &Arc<PublicKey>) -> Option<Hit> {
        let shard = self
            .shard(hash)?
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let entry = shard.get(hash)?;
        Arc::ptr_eq(&entry.key, key).then(|| Hit {
            token: entry.token.clone(),
            not_before: entry.not_before,
        })
    }

    /// Remembers that the token `hash` verified with `key`. `expired_before`: entries whose
    /// `exp` is at or before it are dropped when the shard is full.
    pub(super) fn insert(
        &self,
        hash: TokenHash,
        key: Arc<PublicKey>,
        token: AccessToken,
        not_before: Option<OffsetDateTime>,
        expired_before: OffsetDateTime,
    ) {
        let Some(shard) = self.shard(&hash) else {
            return;
        };
        let mut shard = shard.write().unwrap_or_else(PoisonError::into_inner);
        if shard.len() >= PER_SHARD {
            shard.retain(|_, entry| entry.token.expires_at > expired_before);
            if shard.len() >= PER_SHARD {
                shard.clear();
            }
        }
        shard.insert(
            hash,
            Entry {
                key,
                token,
                not_before,
            },
        );
    }
}
