//! Fixtures shared by the grants' unit tests.

#![allow(clippy::expect_used)]

use std::sync::OnceLock;

use portcullis_tokens::{KeySet, SigningAlgorithm, SigningKey};

use crate::{IssuerSettings, NoClaims, Signing};

/// Signing with one ES256 key, issuer `https://id.example`, no claims source.
pub(crate) fn signing() -> Signing<'static> {
    static KEYS: OnceLock<(IssuerSettings, KeySet)> = OnceLock::new();
    static CLAIMS: NoClaims = NoClaims;
    let (settings, keys) = KEYS.get_or_init(|| {
        let key = SigningKey::generate(SigningAlgorithm::ES256).expect("an ES256 key");
        (IssuerSettings::new("https://id.example"), KeySet::new(key))
    });
    Signing {
        settings,
        keys,
        claims: &CLAIMS,
    }
}
