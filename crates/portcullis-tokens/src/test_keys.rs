//! Keys shared by the unit tests. RSA generation is slow in debug builds, so each fixture key
//! is generated once per test binary.
#![allow(clippy::expect_used)]

use std::sync::OnceLock;

use crate::{SigningAlgorithm, SigningKey};

/// Two distinct keys per algorithm, generated on first use.
static KEYS: [[OnceLock<SigningKey>; 2]; 3] = [const { [const { OnceLock::new() }; 2] }; 3];

/// Fixture key number `which` (0 or 1) for `algorithm`.
pub(crate) fn key(algorithm: SigningAlgorithm, which: usize) -> &'static SigningKey {
    let row = match algorithm {
        SigningAlgorithm::ES256 => &KEYS[0],
        SigningAlgorithm::EdDSA => &KEYS[1],
        SigningAlgorithm::RS256 => &KEYS[2],
    };
    row.get(which)
        .expect("fixture keys are numbered 0 and 1")
        .get_or_init(|| SigningKey::generate(algorithm).expect("key generation"))
}
