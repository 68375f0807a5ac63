//! DPoP proofs (RFC 9449): parsing and checking a proof JWT (§4.2, §4.3), the RFC 7638 JWK
//! thumbprint a token is bound to (`cnf.jkt`, §6), the `ath` hash of an access token (§4.2),
//! and a client-side [`DpopSigner`].
//!
//! A proof is checked in the order of RFC 9449 §4.3: shape (item 2), `typ` (item 4), `alg`
//! (item 5), `jwk` (items 6 and 7), signature (item 6), required claims (item 3), `htm` (item
//! 8), `htu` (item 9), `nonce` (item 10), `iat` (item 11), then `ath` and the bound key (item
//! 12). Replay of a `jti` (§11.1) needs storage, so the caller checks it with
//! [`DpopProof::replay_key`] in a replay store after a proof verifies; item 1 (one `DPoP`
//! header) is an HTTP matter, also the caller's.
//!
//! ```
//! use portcullis_tokens::{DpopExpectations, DpopProof, DpopSigner, SigningAlgorithm, SigningKey};
//! use time::OffsetDateTime;
//!
//! let client = DpopSigner::new(SigningKey::generate(SigningAlgorithm::ES256)?);
//! let now = OffsetDateTime::now_utc();
//! let proof = client.proof("POST", "https://id.example/oauth/token", now, None, None)?;
//!
//! let expect = DpopExpectations::new("POST", "https://id.example/oauth/token?x=1", now);
//! let verified = DpopProof::verify(&proof, &expect)?;
//! assert_eq!(verified.jkt(), client.thumbprint());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::str::FromStr;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, Ed25519KeyPair, RsaKeyPair, RsaPublicKeyComponents,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use time::{Duration, OffsetDateTime};

use crate::{PublicKey, SigningAlgorithm, SigningKey, TokenError, TokenHash, UnverifiedJwt};

/// The JOSE `typ` of a DPoP proof (RFC 9449 §4.2).
pub const DPOP_JWT_TYP: &str = "dpop+jwt";

/// The largest proof accepted, in bytes: an RSA-8192 `jwk` and its signature fit well
/// within it; anything longer is refused before it is decoded.
pub const MAX_DPOP_PROOF_BYTES: usize = 16 * 1024;

/// The longest `jti` or `nonce` accepted, in bytes.
const MAX_CLAIM_BYTES: usize = 512;

/// Private JWK members (RFC 7518 §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2): a proof whose `jwk`
/// has any of them is refused (RFC 9449 §4.3 item 7).
const PRIVATE_JWK_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// An asymmetric JWS algorithm accepted for DPoP proofs (RFC 9449 §4.2: "MUST NOT be none
/// or an identifier for a symmetric algorithm").
///
/// Parsed and displayed as its exact JOSE name.
///
/// ```
/// use portcullis_tokens::DpopAlgorithm;
///
/// assert_eq!("PS256".parse::<DpopAlgorithm>(), Ok(DpopAlgorithm::PS256));
/// assert!("none".parse::<DpopAlgorithm>().is_err());
/// assert!("HS256".parse::<DpopAlgorithm>().is_err());
/// assert_eq!(DpopAlgorithm::EdDSA.to_string(), "EdDSA");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DpopAlgorithm {
    /// ECDSA on P-256 with SHA-256 (RFC 7518 §3.4).
    ES256,
    /// EdDSA with Ed25519 (RFC 8037 §3.1).
    EdDSA,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3).
    RS256,
    /// RSASSA-PSS with SHA-256 and MGF1 with SHA-256 (RFC 7518 §3.5).
    PS256,
}

impl DpopAlgorithm {
    /// Every supported algorithm: the default list a verifier accepts.
    ///
    /// ```
    /// use portcullis_tokens::DpopAlgorithm;
    /// let names: Vec<&str> = DpopAlgorithm::ALL.iter().map(|a| a.as_str()).collect();
    /// assert_eq!(names, ["ES256", "EdDSA", "RS256", "PS256"]);
    /// ```
    pub const ALL: [DpopAlgorithm; 4] = [
        DpopAlgorithm::ES256,
        DpopAlgorithm::EdDSA,
        DpopAlgorithm::RS256,
        DpopAlgorithm::PS256,
    ];

    /// The JOSE name, as in a proof's `alg` header and in `dpop_signing_alg_values_supported`.
    ///
    /// ```
    /// assert_eq!(portcullis_tokens::DpopAlgorithm::ES256.as_str(), "ES256");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            DpopAlgorithm::ES256 => "ES256",
            DpopAlgorithm::EdDSA => "EdDSA",
            DpopAlgorithm::RS256 => "RS256",
            DpopAlgorithm::PS256 => "PS256",
        }
    }

    /// The key type this algorithm signs with, as [`PublicKey::algorithm`] names it.
    fn key_algorithm(self) -> SigningAlgorithm {
        match self {
            DpopAlgorithm::ES256 => SigningAlgorithm::ES256,
            DpopAlgorithm::EdDSA => SigningAlgorithm::EdDSA,
            DpopAlgorithm::RS256 | DpopAlgorithm::PS256 => SigningAlgorithm::RS256,
        }
    }
}

impl fmt::Display for DpopAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<SigningAlgorithm> for DpopAlgorithm {
    fn from(algorithm: SigningAlgorithm) -> Self {
        match algorithm {
            SigningAlgorithm::ES256 => DpopAlgorithm::ES256,
            SigningAlgorithm::EdDSA => DpopAlgorithm::EdDSA,
            SigningAlgorithm::RS256 => DpopAlgorithm::RS256,
        }
    }
}

impl FromStr for DpopAlgorithm {
    type Err = DpopError;

    /// Exact, case-sensitive match on the JOSE name; `none` and `HS*` are never accepted.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DpopAlgorithm::ALL
            .into_iter()
            .find(|alg| alg.as_str() == s)
            .ok_or(DpopError::Algorithm)
    }
}

/// Why a DPoP proof was refused, one variant per check of RFC 9449 §4.3;
/// [`clause`](DpopError::clause) names it.
///
/// The Display text is terse, never contains the proof or a token, and is fit for an
/// `error_description`.
///
/// ```
/// use portcullis_tokens::{DpopError, DpopExpectations, DpopProof};
///
/// let expect = DpopExpectations::new("GET", "https://api.example/me", time::OffsetDateTime::now_utc());
/// let err = DpopProof::verify("not.a.proof", &expect).unwrap_err();
/// assert!(matches!(err, DpopError::Malformed { .. }));
/// assert_eq!(err.clause(), "RFC 9449 §4.3 item 2");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DpopError {
    /// Not a single well-formed compact JWS with JSON header and claims (§4.3 item 2).
    #[error("the DPoP proof is not a well-formed JWT: {reason}")]
    Malformed {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The header `typ` is not `dpop+jwt` (§4.3 item 4).
    #[error("the DPoP proof typ is not dpop+jwt")]
    Typ,
    /// The header `alg` is `none`, symmetric, unknown, or not accepted here (§4.3 item 5).
    #[error("the DPoP proof alg is not an accepted asymmetric algorithm")]
    Algorithm,
    /// The header has no `jwk` object (§4.2).
    #[error("the DPoP proof has no jwk header")]
    MissingJwk,
    /// The `jwk` carries private key members (§4.3 item 7).
    #[error("the DPoP proof jwk contains a private key")]
    PrivateKey,
    /// The `jwk` is not a supported, valid public key, or not one for the `alg` (§4.3 item 6).
    #[error("the DPoP proof jwk is not a usable public key for its alg: {reason}")]
    InvalidJwk {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The header names a critical extension nobody here understands (RFC 7515 §4.1.11).
    #[error("the DPoP proof has an unsupported critical header")]
    Critical,
    /// The signature does not verify with the `jwk` (§4.3 item 6).
    #[error("the DPoP proof signature is invalid")]
    Signature,
    /// A required claim is absent (§4.3 item 3: `jti`, `htm`, `htu`, `iat`).
    #[error("the DPoP proof has no {claim} claim")]
    MissingClaim {
        /// The claim's name.
        claim: &'static str,
    },
    /// A claim has the wrong type or is empty or too long (§4.2).
    #[error("the DPoP proof {claim} claim is malformed")]
    InvalidClaim {
        /// The claim's name.
        claim: &'static str,
    },
    /// `htm` is not the request's method (§4.3 item 8).
    #[error("the DPoP proof htm does not match the request method")]
    Method,
    /// `htu` is not the request's URI, query and fragment aside (§4.3 item 9).
    #[error("the DPoP proof htu does not match the request URI")]
    Uri,
    /// The server requires a nonce and the proof has none (§4.3 item 10, §8).
    #[error("the DPoP proof must carry a server-provided nonce")]
    NonceMissing,
    /// The proof's nonce is not one the server currently accepts (§4.3 item 10, §8).
    #[error("the DPoP proof nonce is not current")]
    NonceInvalid,
    /// `iat` is older than the accepted window (§4.3 item 11, §11.1).
    #[error("the DPoP proof is too old")]
    Stale,
    /// `iat` is further in the future than the clock skew allowed (§4.3 item 11).
    #[error("the DPoP proof is issued in the future")]
    Future,
    /// An access token was presented and the proof has no `ath` (§4.3 item 12).
    #[error("the DPoP proof has no ath for the access token")]
    AthMissing,
    /// `ath` is not the hash of the presented access token (§4.3 item 12).
    #[error("the DPoP proof ath does not match the access token")]
    AthMismatch,
    /// The proof's key is not the key the token is bound to (§4.3 item 12; §5 for refresh
    /// tokens, §10 for `dpop_jkt`).
    #[error("the DPoP proof key is not the key the token is bound to")]
    KeyMismatch,
}

impl DpopError {
    /// The RFC 9449 clause this failure breaks, for logs and test tables.
    ///
    /// ```
    /// assert_eq!(portcullis_tokens::DpopError::Typ.clause(), "RFC 9449 §4.3 item 4");
    /// ```
    pub const fn clause(&self) -> &'static str {
        match self {
            DpopError::Malformed { .. } => "RFC 9449 §4.3 item 2",
            DpopError::Typ => "RFC 9449 §4.3 item 4",
            DpopError::Algorithm => "RFC 9449 §4.3 item 5",
            DpopError::MissingJwk => "RFC 9449 §4.2",
            DpopError::PrivateKey => "RFC 9449 §4.3 item 7",
            DpopError::InvalidJwk { .. } | DpopError::Signature => "RFC 9449 §4.3 item 6",
            DpopError::Critical => "RFC 7515 §4.1.11",
            DpopError::MissingClaim { .. } => "RFC 9449 §4.3 item 3",
            DpopError::InvalidClaim { .. } => "RFC 9449 §4.2",
            DpopError::Method => "RFC 9449 §4.3 item 8",
            DpopError::Uri => "RFC 9449 §4.3 item 9",
            DpopError::NonceMissing | DpopError::NonceInvalid => "RFC 9449 §4.3 item 10",
            DpopError::Stale | DpopError::Future => "RFC 9449 §4.3 item 11",
            DpopError::AthMissing | DpopError::AthMismatch | DpopError::KeyMismatch => {
                "RFC 9449 §4.3 item 12"
            }
        }
    }

    /// Whether the fix is to retry with a fresh server nonce: the `use_dpop_nonce` error of
    /// RFC 9449 §8 (authorization server) and §9 (resource server).
    ///
    /// ```
    /// use portcullis_tokens::DpopError;
    /// assert!(DpopError::NonceMissing.is_nonce_error());
    /// assert!(!DpopError::Stale.is_nonce_error());
    /// ```
    pub const fn is_nonce_error(&self) -> bool {
        matches!(self, DpopError::NonceMissing | DpopError::NonceInvalid)
    }
}

/// What a DPoP proof must satisfy: the request it travels with, the clock, the accepted
/// algorithms and `iat` window, and, when they apply, the access token, the server nonces and
/// the key a token is bound to.
///
/// The `iat` window defaults to [`DEFAULT_MAX_AGE`](DpopExpectations::DEFAULT_MAX_AGE)
/// (60 s) in the past and [`DEFAULT_FUTURE_LEEWAY`](DpopExpectations::DEFAULT_FUTURE_LEEWAY)
/// (5 s) in the future: a proof is made just before its request (RFC 9449 §11.1 asks for "a
/// relatively brief period"), and a small allowance covers clocks a little ahead. `Debug`
/// never shows the access token.
///
/// ```
/// use portcullis_tokens::{DpopAlgorithm, DpopExpectations};
/// use time::{Duration, OffsetDateTime};
///
/// let expect = DpopExpectations::new("GET", "https://api.example/me", OffsetDateTime::now_utc())
///     .with_access_token("pc_at_example")
///     .with_algorithms([DpopAlgorithm::ES256])
///     .with_iat_window(Duration::seconds(30), Duration::seconds(2))
///     .with_nonces(["n-1".to_owned()])
///     .with_bound_key("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I");
/// assert_eq!(expect.max_age, Duration::seconds(30));
/// assert!(!format!("{expect:?}").contains("pc_at_example"));
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct DpopExpectations {
    /// The request's method, compared exactly with `htm` (§4.3 item 8).
    pub method: String,
    /// The request's absolute URI; compared with `htu` without query and fragment, after
    /// syntax- and scheme-based normalisation (§4.3 item 9, RFC 3986 §6.2.2, §6.2.3).
    pub uri: String,
    /// The current time, from the caller's clock.
    pub now: OffsetDateTime,
    /// How far in the past `iat` may be. Default [`Self::DEFAULT_MAX_AGE`].
    pub max_age: Duration,
    /// How far in the future `iat` may be. Default [`Self::DEFAULT_FUTURE_LEEWAY`].
    pub future_leeway: Duration,
    /// The accepted `alg` values. Default [`DpopAlgorithm::ALL`].
    pub algorithms: Vec<DpopAlgorithm>,
    /// `Some(nonces)`: the proof must carry one of them (§4.3 item 10, §8).
    pub nonces: Option<Vec<String>>,
    /// `Some(jkt)`: the proof's key must have this RFC 7638 thumbprint (§4.3 item 12).
    pub bound_key: Option<String>,
    access_token: Option<String>,
}

impl DpopExpectations {
    /// Default oldest accepted `iat`: 60 seconds before now.
    pub const DEFAULT_MAX_AGE: Duration = Duration::seconds(60);
    /// Default newest accepted `iat`: 5 seconds after now.
    pub const DEFAULT_FUTURE_LEEWAY: Duration = Duration::seconds(5);

    /// Expect a proof for a `method` request to `uri` at time `now`, with the defaults.
    ///
    /// ```
    /// use portcullis_tokens::{DpopAlgorithm, DpopExpectations};
    /// let expect = DpopExpectations::new("POST", "https://id.example/oauth/token", time::OffsetDateTime::UNIX_EPOCH);
    /// assert_eq!(expect.algorithms, DpopAlgorithm::ALL);
    /// assert_eq!(expect.nonces, None);
    /// ```
    pub fn new(
        method: impl Into<String>,
        uri: impl Into<String>,
        now: OffsetDateTime,
    ) -> DpopExpectations {
        DpopExpectations {
            method: method.into(),
            uri: uri.into(),
            now,
            max_age: Self::DEFAULT_MAX_AGE,
            future_leeway: Self::DEFAULT_FUTURE_LEEWAY,
            algorithms: DpopAlgorithm::ALL.to_vec(),
            nonces: None,
            bound_key: None,
            access_token: None,
        }
    }

    /// The proof accompanies this access token: `ath` must be its hash (§4.3 item 12).
    ///
    /// ```
    /// # use portcullis_tokens::DpopExpectations;
    /// let expect = DpopExpectations::new("GET", "https://a.example/", time::OffsetDateTime::UNIX_EPOCH)
    ///     .with_access_token("token");
    /// assert!(expect.has_access_token());
    /// ```
    #[must_use]
    pub fn with_access_token(mut self, access_token: impl Into<String>) -> DpopExpectations {
        self.access_token = Some(access_token.into());
        self
    }

    /// Whether an access token is expected with the proof.
    ///
    /// ```
    /// # use portcullis_tokens::DpopExpectations;
    /// let expect = DpopExpectations::new("GET", "https://a.example/", time::OffsetDateTime::UNIX_EPOCH);
    /// assert!(!expect.has_access_token());
    /// ```
    pub fn has_access_token(&self) -> bool {
        self.access_token.is_some()
    }

    /// Accept only these algorithms.
    ///
    /// ```
    /// # use portcullis_tokens::{DpopAlgorithm, DpopExpectations};
    /// let expect = DpopExpectations::new("GET", "https://a.example/", time::OffsetDateTime::UNIX_EPOCH)
    ///     .with_algorithms([DpopAlgorithm::EdDSA]);
    /// assert_eq!(expect.algorithms, [DpopAlgorithm::EdDSA]);
    /// ```
    #[must_use]
    pub fn with_algorithms(
        mut self,
        algorithms: impl IntoIterator<Item = DpopAlgorithm>,
    ) -> DpopExpectations {
        self.algorithms = algorithms.into_iter().collect();
        self
    }

    /// Accept `iat` from `max_age` before now to `future_leeway` after it; negative values
    /// count as zero.
    ///
    /// ```
    /// # use portcullis_tokens::DpopExpectations;
    /// use time::Duration;
    /// let expect = DpopExpectations::new("GET", "https://a.example/", time::OffsetDateTime::UNIX_EPOCH)
    ///     .with_iat_window(Duration::seconds(120), Duration::seconds(10));
    /// assert_eq!(expect.future_leeway, Duration::seconds(10));
    /// ```
    #[must_use]
    pub fn with_iat_window(mut self, max_age: Duration, future_leeway: Duration) -> Self {
        self.max_age = max_age.max(Duration::ZERO);
        self.future_leeway = future_leeway.max(Duration::ZERO);
        self
    }

    /// Require a `nonce` claim equal to one of `nonces` (§8: the server may accept more than
    /// one, for instance the current and the previous one).
    ///
    /// ```
    /// # use portcullis_tokens::DpopExpectations;
    /// let expect = DpopExpectations::new("GET", "https://a.example/", time::OffsetDateTime::UNIX_EPOCH)
    ///     .with_nonces(["a".to_owned(), "b".to_owned()]);
    /// assert_eq!(expect.nonces.as_ref().map(Vec::len), Some(2));
    /// ```
    #[must_use]
    pub fn with_nonces(mut self, nonces: impl IntoIterator<Item = String>) -> DpopExpectations {
        self.nonces = Some(nonces.into_iter().collect());
        self
    }

    /// Require the proof's key to have the RFC 7638 thumbprint `jkt`: the key the presented
    /// token is bound to.
    ///
    /// ```
    /// # use portcullis_tokens::DpopExpectations;
    /// let expect = DpopExpectations::new("GET", "https://a.example/", time::OffsetDateTime::UNIX_EPOCH)
    ///     .with_bound_key("jkt");
    /// assert_eq!(expect.bound_key.as_deref(), Some("jkt"));
    /// ```
    #[must_use]
    pub fn with_bound_key(mut self, jkt: impl Into<String>) -> DpopExpectations {
        self.bound_key = Some(jkt.into());
        self
    }
}

impl fmt::Debug for DpopExpectations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopExpectations")
            .field("method", &self.method)
            .field("uri", &self.uri)
            .field("now", &self.now)
            .field("max_age", &self.max_age)
            .field("future_leeway", &self.future_leeway)
            .field("algorithms", &self.algorithms)
            .field("nonces", &self.nonces.as_ref().map(Vec::len))
            .field("bound_key", &self.bound_key)
            .field(
                "access_token",
                &self.access_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// A DPoP proof that passed every check of RFC 9449 §4.3 but replay: the key's thumbprint
/// (the `jkt` a token gets bound to) and what the caller needs for its replay check.
///
/// ```
/// use portcullis_tokens::{DpopExpectations, DpopProof, DpopSigner, SigningAlgorithm, SigningKey};
/// use time::OffsetDateTime;
///
/// let client = DpopSigner::new(SigningKey::generate(SigningAlgorithm::EdDSA)?);
/// let now = OffsetDateTime::now_utc();
/// let proof = client.proof("GET", "https://api.example/me", now, Some("pc_at_x"), None)?;
/// let expect = DpopExpectations::new("GET", "https://api.example/me", now)
///     .with_access_token("pc_at_x")
///     .with_bound_key(client.thumbprint());
/// let verified = DpopProof::verify(&proof, &expect)?;
/// assert_eq!(verified.algorithm().as_str(), "EdDSA");
/// assert!(verified.replay_expires_at() > now);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DpopProof {
    jkt: String,
    jti: String,
    algorithm: DpopAlgorithm,
    issued_at: OffsetDateTime,
    nonce: Option<String>,
    replay_expires_at: OffsetDateTime,
}

/// The JOSE header members a proof's check looks at. Derived deserialization refuses a
/// header that repeats one of them.
#[derive(Deserialize)]
struct DpopHeader {
    alg: String,
    #[serde(default)]
    typ: Option<String>,
    #[serde(default)]
    jwk: Option<Value>,
    #[serde(default)]
    crit: Option<IgnoredAny>,
}

/// The claims of §4.2, as they came. Derived deserialization refuses repeated claims.
#[derive(Deserialize)]
struct DpopClaims {
    #[serde(default)]
    jti: Option<Value>,
    #[serde(default)]
    htm: Option<Value>,
    #[serde(default)]
    htu: Option<Value>,
    #[serde(default)]
    iat: Option<Value>,
    #[serde(default)]
    ath: Option<Value>,
    #[serde(default)]
    nonce: Option<Value>,
}

fn malformed(reason: &'static str) -> DpopError {
    DpopError::Malformed { reason }
}

impl DpopProof {
    /// Checks `proof` (the value of a `DPoP` header) against `expect`, in the order of RFC
    /// 9449 §4.3.
    ///
    /// ```
    /// use portcullis_tokens::{DpopError, DpopExpectations, DpopProof, DpopSigner, SigningAlgorithm, SigningKey};
    /// use time::OffsetDateTime;
    ///
    /// let client = DpopSigner::new(SigningKey::generate(SigningAlgorithm::ES256)?);
    /// let now = OffsetDateTime::now_utc();
    /// let proof = client.proof("GET", "https://api.example/me", now, None, None)?;
    /// let expect = DpopExpectations::new("POST", "https://api.example/me", now);
    /// assert_eq!(DpopProof::verify(&proof, &expect), Err(DpopError::Method));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// The [`DpopError`] of the first check that failed.
    pub fn verify(proof: &str, expect: &DpopExpectations) -> Result<DpopProof, DpopError> {
        // Item 2: one well-formed JWT.
        if proof.len() > MAX_DPOP_PROOF_BYTES {
            return Err(malformed("too long"));
        }
        let peeked = UnverifiedJwt::peek(proof).map_err(|_| malformed("not a compact JWS"))?;
        let mut parts = proof.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed("not a compact JWS"));
        };
        let header: DpopHeader = URL_SAFE_NO_PAD
            .decode(header)
            .ok()
            .and_then(|json| serde_json::from_slice(&json).ok())
            .ok_or(malformed("malformed header"))?;

        // Item 4: explicit typing.
        if header.typ.is_none() || !peeked.has_typ(DPOP_JWT_TYP) {
            return Err(DpopError::Typ);
        }
        // Item 5: an asymmetric algorithm accepted here.
        let algorithm: DpopAlgorithm = header.alg.parse()?;
        if !expect.algorithms.contains(&algorithm) {
            return Err(DpopError::Algorithm);
        }
        // Items 6 and 7: a public key for that algorithm.
        let jwk = header.jwk.as_ref().ok_or(DpopError::MissingJwk)?;
        let members = jwk.as_object().ok_or(DpopError::MissingJwk)?;
        if PRIVATE_JWK_MEMBERS
            .iter()
            .any(|name| members.contains_key(*name))
        {
            return Err(DpopError::PrivateKey);
        }
        let jkt = jwk_thumbprint(jwk)?;
        let key = public_key(members)?;
        if key.algorithm() != algorithm.key_algorithm() {
            return Err(DpopError::InvalidJwk {
                reason: "the key type is not the alg's",
            });
        }
        if header.crit.is_some() {
            return Err(DpopError::Critical);
        }
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| malformed("malformed signature"))?;
        let signing_input = proof
            .rsplit_once('.')
            .map_or(proof, |(input, _)| input)
            .as_bytes();
        if !verify_signature(algorithm, &key, members, signing_input, &signature) {
            return Err(DpopError::Signature);
        }

        // Item 3: the required claims, well typed.
        let claims: DpopClaims = URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|json| serde_json::from_slice(&json).ok())
            .ok_or(malformed("malformed claims"))?;
        let jti = bounded_string(claims.jti.as_ref(), "jti")?;
        let htm = bounded_string(claims.htm.as_ref(), "htm")?;
        let htu = bounded_string(claims.htu.as_ref(), "htu")?;
        let issued_at = numeric_date(claims.iat.as_ref())?;
        let nonce = match claims.nonce.as_ref() {
            None => None,
            Some(value) => Some(bounded_string(Some(value), "nonce")?),
        };

        // Item 8: the method, exactly (methods are case-sensitive, RFC 9110 §9.1).
        if htm != expect.method {
            return Err(DpopError::Method);
        }
        // Item 9: the URI, query and fragment aside, normalised.
        match (normalized_htu(htu), normalized_htu(&expect.uri)) {
            (Some(claimed), Some(actual)) if claimed == actual => {}
            _ => return Err(DpopError::Uri),
        }
        // Item 10: the server's nonce, when it asks for one.
        if let Some(accepted) = &expect.nonces {
            let nonce = nonce.ok_or(DpopError::NonceMissing)?;
            if !accepted.iter().any(|candidate| ct_str_eq(candidate, nonce)) {
                return Err(DpopError::NonceInvalid);
            }
        }
        // Item 11: fresh.
        if issued_at
            < expect
                .now
                .saturating_sub(expect.max_age.max(Duration::ZERO))
        {
            return Err(DpopError::Stale);
        }
        if issued_at
            > expect
                .now
                .saturating_add(expect.future_leeway.max(Duration::ZERO))
        {
            return Err(DpopError::Future);
        }
        // Item 12: bound to the presented token and its key.
        if let Some(access_token) = &expect.access_token {
            let ath = match claims.ath.as_ref() {
                None => return Err(DpopError::AthMissing),
                Some(Value::String(ath)) => ath,
                Some(_) => return Err(DpopError::InvalidClaim { claim: "ath" }),
            };
            if !ct_str_eq(ath, &access_token_hash(access_token)) {
                return Err(DpopError::AthMismatch);
            }
        }
        if let Some(bound) = &expect.bound_key
            && !ct_str_eq(bound, &jkt)
        {
            return Err(DpopError::KeyMismatch);
        }

        let replay_expires_at = issued_at
            .saturating_add(expect.max_age.max(Duration::ZERO))
            .saturating_add(Duration::seconds(1));
        Ok(DpopProof {
            jkt,
            jti: jti.to_owned(),
            algorithm,
            issued_at,
            nonce: nonce.map(str::to_owned),
            replay_expires_at,
        })
    }

    /// The RFC 7638 SHA-256 thumbprint of the proof's key, base64url: the `jkt` of `cnf`
    /// (§6.1) that binds a token to this key.
    ///
    /// ```
    /// # use portcullis_tokens::{DpopExpectations, DpopProof, DpopSigner, SigningAlgorithm, SigningKey};
    /// # let client = DpopSigner::new(SigningKey::generate(SigningAlgorithm::ES256)?);
    /// # let now = time::OffsetDateTime::now_utc();
    /// # let proof = client.proof("GET", "https://a.example/", now, None, None)?;
    /// let verified = DpopProof::verify(&proof, &DpopExpectations::new("GET", "https://a.example/", now))?;
    /// assert_eq!(verified.jkt().len(), 43);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn jkt(&self) -> &str {
        &self.jkt
    }

    /// The proof's `jti`.
    ///
    /// ```
    /// # use portcullis_tokens::{DpopExpectations, DpopProof, DpopSigner, SigningAlgorithm, SigningKey};
    /// # let client = DpopSigner::new(SigningKey::generate(SigningAlgorithm::ES256)?);
    /// # let now = time::OffsetDateTime::now_utc();
    /// # let proof = client.proof("GET", "https://a.example/", now, None, None)?;
    /// let verified = DpopProof::verify(&proof, &DpopExpectations::new("GET", "https://a.example/", now))?;
    /// assert!(!verified.jti().is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn jti(&self) -> &str {
        &self.jti
    }

    /// The algorithm the proof was signed with.
    ///
    /// ```
    /// # use portcullis_tokens::{DpopAlgorithm, DpopExpectations, DpopProof, DpopSigner, SigningAlgorithm, SigningKey};
    /// # let client = DpopSigner::new(SigningKey::generate(SigningAlgorithm::ES256)?);
    /// # let now = time::OffsetDateTime::now_utc();
    /// # let proof = client.proof("GET", "https://a.example/", now, None, None)?;
    /// let verified = DpopProof::verify(&proof, &DpopExpectations::new("GET", "https://a.example/", now))?;
    /// assert_eq!(verified.algorithm(), DpopAlgorithm::ES256);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn algorithm(&self) -> DpopAlgorithm {
        self.algorithm
    }

    /// The proof's `iat`.
    ///
    /// ```
    /// # use portcullis_tokens::{DpopExpectations, DpopProof, DpopSigner, SigningAlgorithm, SigningKey};
    /// # let client = DpopSigner::new(SigningKey::generate(SigningAlgorithm::ES256)?);
    /// let now = time::OffsetDateTime::from_unix_timestamp(1_700_000_000)?;
    /// let proof = client.proof("GET", "https://a.example/", now, None, None)?;
    /// let verified = DpopProof::verify(&proof, &DpopExpectations::new("GET", "https://a.example/", now))?;
    /// assert_eq!(verified.issued_at(), now);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn issued_at(&self) -> OffsetDateTime {
        self.issued_at
    }

    /// The proof's `nonce`, if it has one.
    ///
    /// ```
    /// # use portcullis_tokens::{DpopExpectations, DpopProof, DpopSigner, SigningAlgorithm, SigningKey};
    /// # let client = DpopSigner::new(SigningKey::generate(SigningAlgorithm::ES256)?);
    /// # let now = time::OffsetDateTime::now_utc();
    /// let proof = client.proof("GET", "https://a.example/", now, None, Some("n-1"))?;
    /// let verified = DpopProof::verify(&proof, &DpopExpectations::new("GET", "https://a.example/", now))?;
    /// assert_eq!(verified.nonce(), Some("n-1"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn nonce(&self) -> Option<&str> {
        self.nonce.as_deref()
    }

    /// The key under which a replay store remembers this proof (§11.1): the SHA-256 of the
    /// key thumbprint and the `jti`, so two clients never collide and the store never holds
    /// the proof.
    ///
    /// ```
    /// # use portcullis_tokens::{DpopExpectations, DpopProof, DpopSigner, SigningAlgorithm, SigningKey};
    /// # let client = DpopSigner::new(SigningKey::generate(SigningAlgorithm::ES256)?);
    /// # let now = time::OffsetDateTime::now_utc();
    /// let expect = DpopExpectations::new("GET", "https://a.example/", now);
    /// let one = DpopProof::verify(&client.proof("GET", "https://a.example/", now, None, None)?, &expect)?;
    /// let two = DpopProof::verify(&client.proof("GET", "https://a.example/", now, None, None)?, &expect)?;
    /// assert_ne!(one.replay_key(), two.replay_key()); // fresh jti each time
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn replay_key(&self) -> TokenHash {
        TokenHash::of(&format!("dpop\u{0}{}\u{0}{}", self.jkt, self.jti))
    }

    /// Until when the replay store must remember the proof: past it, the `iat` window
    /// refuses the proof anyway.
    ///
    /// ```
    /// # use portcullis_tokens::{DpopExpectations, DpopProof, DpopSigner, SigningAlgorithm, SigningKey};
    /// # let client = DpopSigner::new(SigningKey::generate(SigningAlgorithm::ES256)?);
    /// # let now = time::OffsetDateTime::now_utc();
    /// # let proof = client.proof("GET", "https://a.example/", now, None, None)?;
    /// let expect = DpopExpectations::new("GET", "https://a.example/", now);
    /// let verified = DpopProof::verify(&proof, &expect)?;
    /// assert!(verified.replay_expires_at() > verified.issued_at() + expect.max_age);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn replay_expires_at(&self) -> OffsetDateTime {
        self.replay_expires_at
    }
}

/// The RFC 7638 SHA-256 thumbprint of a public JWK, base64url: the JSON object of the
/// required members only (`crv`, `kty`, `x`, `y` for EC; `crv`, `kty`, `x` for OKP; `e`,
/// `kty`, `n` for RSA), in lexicographic order, without whitespace.
///
/// ```
/// use portcullis_tokens::jwk_thumbprint;
/// use serde_json::json;
///
/// // RFC 7638 §3.1.
/// let jwk = json!({
///     "kty": "RSA",
///     "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
///     "e": "AQAB",
///     "alg": "RS256",
///     "kid": "2011-04-29",
/// });
/// assert_eq!(jwk_thumbprint(&jwk)?, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
/// # Ok::<(), portcullis_tokens::DpopError>(())
/// ```
///
/// # Errors
///
/// [`DpopError::InvalidJwk`] when the JWK is not an object of a supported key type with its
/// required members as strings.
pub fn jwk_thumbprint(jwk: &Value) -> Result<String, DpopError> {
    let members = jwk.as_object().ok_or(DpopError::InvalidJwk {
        reason: "a JWK is a JSON object",
    })?;
    let required: &[&str] = match member(members, "kty")? {
        "EC" => &["crv", "kty", "x", "y"],
        "OKP" => &["crv", "kty", "x"],
        "RSA" => &["e", "kty", "n"],
        _ => {
            return Err(DpopError::InvalidJwk {
                reason: "unsupported key type",
            });
        }
    };
    let mut canonical = String::from("{");
    for (i, name) in required.iter().enumerate() {
        if i > 0 {
            canonical.push(',');
        }
        let value = member(members, name)?;
        // serde_json escapes exactly as RFC 7638 §3.3 expects (RFC 8259 strings).
        let quoted = serde_json::to_string(value).map_err(|_| DpopError::InvalidJwk {
            reason: "a JWK member cannot be encoded",
        })?;
        canonical.push('"');
        canonical.push_str(name);
        canonical.push_str("\":");
        canonical.push_str(&quoted);
    }
    canonical.push('}');
    let digest: [u8; 32] = Sha256::digest(canonical.as_bytes()).into();
    Ok(URL_SAFE_NO_PAD.encode(digest))
}

/// The `ath` of an access token (RFC 9449 §4.2): base64url of the SHA-256 of its ASCII
/// value.
///
/// ```
/// use portcullis_tokens::access_token_hash;
/// // RFC 9449 §7.1's example token and ath.
/// assert_eq!(
///     access_token_hash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
///     "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo",
/// );
/// ```
pub fn access_token_hash(access_token: &str) -> String {
    let digest: [u8; 32] = Sha256::digest(access_token.as_bytes()).into();
    URL_SAFE_NO_PAD.encode(digest)
}

/// A required JWK member that must be a string.
fn member<'a>(members: &'a Map<String, Value>, name: &str) -> Result<&'a str, DpopError> {
    members
        .get(name)
        .and_then(Value::as_str)
        .ok_or(DpopError::InvalidJwk {
            reason: "a required JWK member is missing or not a string",
        })
}

/// The public key of a proof's `jwk`, read from its required members only (so an `alg`,
/// `kid` or `use` member never decides anything).
fn public_key(members: &Map<String, Value>) -> Result<PublicKey, DpopError> {
    let mut minimal = Map::new();
    let names: &[&str] = match member(members, "kty")? {
        "EC" => &["kty", "crv", "x", "y"],
        "OKP" => &["kty", "crv", "x"],
        "RSA" => &["kty", "n", "e"],
        _ => {
            return Err(DpopError::InvalidJwk {
                reason: "unsupported key type",
            });
        }
    };
    for name in names {
        minimal.insert((*name).to_owned(), member(members, name)?.into());
    }
    PublicKey::from_foreign_jwk(&Value::Object(minimal)).map_err(|err| match err {
        TokenError::Key { reason } => DpopError::InvalidJwk { reason },
        _ => DpopError::InvalidJwk {
            reason: "not a valid public key",
        },
    })
}

/// Whether `signature` is valid over `message` with `key` under `algorithm`.
fn verify_signature(
    algorithm: DpopAlgorithm,
    key: &PublicKey,
    members: &Map<String, Value>,
    message: &[u8],
    signature: &[u8],
) -> bool {
    match algorithm {
        DpopAlgorithm::ES256 | DpopAlgorithm::EdDSA | DpopAlgorithm::RS256 => {
            key.verify_signature(message, signature)
        }
        DpopAlgorithm::PS256 => {
            // `PublicKey` verifies RS256; PSS needs the same (already validated) modulus and
            // exponent with other parameters.
            let decode = |name| {
                members
                    .get(name)
                    .and_then(Value::as_str)
                    .and_then(|value| URL_SAFE_NO_PAD.decode(value).ok())
            };
            let (Some(n), Some(e)) = (decode("n"), decode("e")) else {
                return false;
            };
            RsaPublicKeyComponents {
                n: n.as_slice(),
                e: e.as_slice(),
            }
            .verify(&signature::RSA_PSS_2048_8192_SHA256, message, signature)
            .is_ok()
        }
    }
}

/// A claim that must be a non-empty string of at most [`MAX_CLAIM_BYTES`] (`htu` may be
/// longer: up to the proof's own limit).
fn bounded_string<'a>(value: Option<&'a Value>, claim: &'static str) -> Result<&'a str, DpopError> {
    match value {
        None => Err(DpopError::MissingClaim { claim }),
        Some(Value::String(text))
            if !text.is_empty() && (claim == "htu" || text.len() <= MAX_CLAIM_BYTES) =>
        {
            Ok(text)
        }
        Some(_) => Err(DpopError::InvalidClaim { claim }),
    }
}

/// `iat` as a NumericDate (RFC 7519 §2): integer or fractional seconds since the epoch.
fn numeric_date(value: Option<&Value>) -> Result<OffsetDateTime, DpopError> {
    let value = value.ok_or(DpopError::MissingClaim { claim: "iat" })?;
    let date = if let Some(seconds) = value.as_i64() {
        OffsetDateTime::from_unix_timestamp(seconds).ok()
    } else {
        value
            .as_f64()
            .filter(|seconds| seconds.is_finite() && seconds.abs() < 1e15)
            .and_then(|seconds| {
                #[allow(clippy::cast_possible_truncation)] // bounded above
                let nanos = (seconds * 1e9) as i128;
                OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
            })
    };
    date.ok_or(DpopError::InvalidClaim { claim: "iat" })
}

/// An absolute `http`/`https` URI without query and fragment, normalised per RFC 3986
/// §6.2.2 and §6.2.3 (case of scheme and host, default port, dot segments, empty path).
fn normalized_htu(uri: &str) -> Option<String> {
    let mut url = url::Url::parse(uri).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return None;
    }
    url.set_query(None);
    url.set_fragment(None);
    Some(url.into())
}

/// Constant-time string equality (lengths may leak; contents do not).
fn ct_str_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// A client's DPoP key: signs proofs for its requests (RFC 9449 §4), with a fresh random
/// `jti` each time. Tests and Rust clients use it; a provider never needs it.
///
/// ```
/// use portcullis_tokens::{DpopAlgorithm, DpopSigner, SigningAlgorithm, SigningKey};
///
/// let signer = DpopSigner::new(SigningKey::generate(SigningAlgorithm::ES256)?);
/// assert_eq!(signer.algorithm(), DpopAlgorithm::ES256);
/// assert_eq!(signer.jwk()["kty"], "EC");
/// assert!(signer.jwk().get("d").is_none());
/// # Ok::<(), portcullis_tokens::TokenError>(())
/// ```
#[derive(Clone)]
pub struct DpopSigner {
    key: SigningKey,
    algorithm: DpopAlgorithm,
    jwk: Value,
    thumbprint: String,
}

impl DpopSigner {
    /// Signs with `key` under its own algorithm (ES256, EdDSA or RS256).
    ///
    /// ```
    /// use portcullis_tokens::{DpopSigner, SigningAlgorithm, SigningKey};
    /// let key = SigningKey::generate(SigningAlgorithm::EdDSA)?;
    /// let kid = key.kid().to_owned();
    /// // The thumbprint is the signing key's RFC 7638 kid.
    /// assert_eq!(DpopSigner::new(key).thumbprint(), kid);
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    pub fn new(key: SigningKey) -> DpopSigner {
        let algorithm = DpopAlgorithm::from(key.algorithm());
        DpopSigner::with_algorithm(key, algorithm)
    }

    /// Signs with an RSA `key` under PS256 instead of RS256.
    ///
    /// ```
    /// use portcullis_tokens::{DpopAlgorithm, DpopSigner, SigningAlgorithm, SigningKey};
    /// let rsa = SigningKey::generate(SigningAlgorithm::RS256)?;
    /// assert_eq!(DpopSigner::pss(rsa)?.algorithm(), DpopAlgorithm::PS256);
    /// let ec = SigningKey::generate(SigningAlgorithm::ES256)?;
    /// assert!(DpopSigner::pss(ec).is_err());
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`TokenError::Key`] when `key` is not an RSA key.
    pub fn pss(key: SigningKey) -> Result<DpopSigner, TokenError> {
        if key.algorithm() != SigningAlgorithm::RS256 {
            return Err(TokenError::Key {
                reason: "PS256 needs an RSA key",
            });
        }
        Ok(DpopSigner::with_algorithm(key, DpopAlgorithm::PS256))
    }

    fn with_algorithm(key: SigningKey, algorithm: DpopAlgorithm) -> DpopSigner {
        let full = key.public_key().jwk();
        let jwk: Map<String, Value> = full
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(name, _)| matches!(name.as_str(), "kty" | "crv" | "x" | "y" | "n" | "e"))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        let thumbprint = key.kid().to_owned();
        DpopSigner {
            key,
            algorithm,
            jwk: Value::Object(jwk),
            thumbprint,
        }
    }

    /// The algorithm proofs are signed with.
    ///
    /// ```
    /// # use portcullis_tokens::{DpopAlgorithm, DpopSigner, SigningAlgorithm, SigningKey};
    /// let signer = DpopSigner::new(SigningKey::generate(SigningAlgorithm::EdDSA)?);
    /// assert_eq!(signer.algorithm(), DpopAlgorithm::EdDSA);
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    pub fn algorithm(&self) -> DpopAlgorithm {
        self.algorithm
    }

    /// The public key as the minimal JWK a proof's header carries.
    ///
    /// ```
    /// # use portcullis_tokens::{DpopSigner, SigningAlgorithm, SigningKey};
    /// let signer = DpopSigner::new(SigningKey::generate(SigningAlgorithm::EdDSA)?);
    /// assert_eq!(signer.jwk()["crv"], "Ed25519");
    /// assert!(signer.jwk().get("kid").is_none());
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    pub fn jwk(&self) -> &Value {
        &self.jwk
    }

    /// The RFC 7638 thumbprint of the key: the `jkt` tokens get bound to, and the value of
    /// the `dpop_jkt` authorization request parameter (§10).
    ///
    /// ```
    /// # use portcullis_tokens::{DpopSigner, SigningAlgorithm, SigningKey, jwk_thumbprint};
    /// let signer = DpopSigner::new(SigningKey::generate(SigningAlgorithm::ES256)?);
    /// assert_eq!(jwk_thumbprint(signer.jwk()).ok().as_deref(), Some(signer.thumbprint()));
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// The standard proof header: `typ: dpop+jwt`, `alg`, and the public `jwk`.
    ///
    /// ```
    /// # use portcullis_tokens::{DpopSigner, SigningAlgorithm, SigningKey};
    /// let signer = DpopSigner::new(SigningKey::generate(SigningAlgorithm::ES256)?);
    /// assert_eq!(signer.header()["typ"], "dpop+jwt");
    /// assert_eq!(signer.header()["alg"], "ES256");
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    pub fn header(&self) -> Value {
        json!({"typ": DPOP_JWT_TYP, "alg": self.algorithm.as_str(), "jwk": self.jwk})
    }

    /// A proof for a `method` request to `uri` made at `now`: a random `jti`, `htm`, `htu`
    /// (without query and fragment), `iat`, and `ath` when an access token goes with it and
    /// `nonce` when the server asked for one.
    ///
    /// ```
    /// use portcullis_tokens::{DpopSigner, SigningAlgorithm, SigningKey, UnverifiedJwt};
    /// let signer = DpopSigner::new(SigningKey::generate(SigningAlgorithm::ES256)?);
    /// let proof = signer.proof("GET", "https://api.example/me?x=1", time::OffsetDateTime::now_utc(), Some("t"), None)?;
    /// let claims = UnverifiedJwt::peek(&proof)?.claims().clone();
    /// assert_eq!(claims["htu"], "https://api.example/me");
    /// assert!(claims.contains_key("ath"));
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`TokenError::Entropy`] when no random `jti` can be drawn; [`TokenError::Key`] when
    /// signing fails.
    pub fn proof(
        &self,
        method: &str,
        uri: &str,
        now: OffsetDateTime,
        access_token: Option<&str>,
        nonce: Option<&str>,
    ) -> Result<String, TokenError> {
        let htu = uri.split(['?', '#']).next().unwrap_or(uri);
        let mut claims = Map::new();
        claims.insert("jti".into(), crate::random_identifier()?.into());
        claims.insert("htm".into(), method.into());
        claims.insert("htu".into(), htu.into());
        claims.insert("iat".into(), now.unix_timestamp().into());
        if let Some(access_token) = access_token {
            claims.insert("ath".into(), access_token_hash(access_token).into());
        }
        if let Some(nonce) = nonce {
            claims.insert("nonce".into(), nonce.into());
        }
        self.sign(&self.header(), &Value::Object(claims))
    }

    /// Signs any header and claims with this key under its algorithm: for building the odd
    /// proofs tests need (another `typ`, a private `jwk`, missing claims).
    ///
    /// ```
    /// use portcullis_tokens::{DpopSigner, SigningAlgorithm, SigningKey};
    /// let signer = DpopSigner::new(SigningKey::generate(SigningAlgorithm::ES256)?);
    /// let mut header = signer.header();
    /// header["typ"] = "JWT".into();
    /// let odd = signer.sign(&header, &serde_json::json!({"jti": "1"}))?;
    /// assert_eq!(odd.split('.').count(), 3);
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`TokenError::Key`] when signing fails or the key cannot be loaded for it.
    pub fn sign(&self, header: &Value, claims: &Value) -> Result<String, TokenError> {
        let encode = |value: &Value| {
            serde_json::to_vec(value)
                .map(|json| URL_SAFE_NO_PAD.encode(json))
                .map_err(|_| TokenError::Jwt {
                    reason: "claims could not be serialized",
                })
        };
        let signing_input = format!("{}.{}", encode(header)?, encode(claims)?);
        let failed = |_| TokenError::Key {
            reason: "signing failed",
        };
        let der = self.key.pkcs8_der();
        let signature: Vec<u8> = match self.algorithm {
            DpopAlgorithm::ES256 => {
                EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, der)
                    .map_err(|_| TokenError::Key {
                        reason: "not a P-256 key",
                    })?
                    .sign(&SystemRandom::new(), signing_input.as_bytes())
                    .map_err(failed)?
                    .as_ref()
                    .to_vec()
            }
            DpopAlgorithm::EdDSA => Ed25519KeyPair::from_pkcs8(der)
                .map_err(|_| TokenError::Key {
                    reason: "not an Ed25519 key",
                })?
                .sign(signing_input.as_bytes())
                .as_ref()
                .to_vec(),
            DpopAlgorithm::RS256 | DpopAlgorithm::PS256 => {
                let pair = RsaKeyPair::from_pkcs8(der).map_err(|_| TokenError::Key {
                    reason: "not an RSA key",
                })?;
                let mut out = vec![0; pair.public_modulus_len()];
                let padding: &'static dyn signature::RsaEncoding =
                    if self.algorithm == DpopAlgorithm::PS256 {
                        &signature::RSA_PSS_SHA256
                    } else {
                        &signature::RSA_PKCS1_SHA256
                    };
                pair.sign(
                    padding,
                    &SystemRandom::new(),
                    signing_input.as_bytes(),
                    &mut out,
                )
                .map_err(failed)?;
                out
            }
        };
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }
}

impl fmt::Debug for DpopSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopSigner")
            .field("algorithm", &self.algorithm)
            .field("thumbprint", &self.thumbprint)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
