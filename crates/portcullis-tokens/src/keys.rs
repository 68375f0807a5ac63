//! Signing keys for JSON Web Signatures (RFC 7515): ES256 (RFC 7518 §3.4), EdDSA with Ed25519
//! (RFC 8037 §3.1) and RS256 (RFC 7518 §3.3), each named by its JWK thumbprint (RFC 7638).
//!
//! Private keys live as PKCS#8 DER (RFC 5958), the form a key store persists; public keys are
//! published and read back as JWKs (RFC 7517 §4).

use std::fmt;
use std::str::FromStr;

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::error::{KeyRejected, Unspecified};
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, ParsedPublicKey, RsaPublicKeyComponents,
};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{EncodingKey, Header};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};

use crate::{JwtExpectations, TokenError};

/// A JWS signing algorithm portcullis can sign and verify with (RFC 7518 §3.1, RFC 8037 §3.1).
///
/// Serialized, parsed and displayed as its JOSE name. [`ES256`](SigningAlgorithm::ES256) is
/// the default: short keys and signatures, and supported by every OpenID Connect client.
///
/// ```
/// use portcullis_tokens::SigningAlgorithm;
///
/// assert_eq!(SigningAlgorithm::default(), SigningAlgorithm::ES256);
/// assert_eq!("EdDSA".parse::<SigningAlgorithm>()?, SigningAlgorithm::EdDSA);
/// assert_eq!(serde_json::to_string(&SigningAlgorithm::RS256).unwrap(), r#""RS256""#);
/// assert!("none".parse::<SigningAlgorithm>().is_err());
/// # Ok::<(), portcullis_tokens::ParseSigningAlgorithmError>(())
/// ```
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[non_exhaustive]
pub enum SigningAlgorithm {
    /// ECDSA on P-256 with SHA-256 (RFC 7518 §3.4). The default.
    #[default]
    #[serde(rename = "ES256")]
    ES256,
    /// EdDSA with Ed25519 (RFC 8037 §3.1).
    #[serde(rename = "EdDSA")]
    EdDSA,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3), 2048-bit keys when generated.
    /// OpenID Connect Core §15.1 makes it the one algorithm every provider must support.
    #[serde(rename = "RS256")]
    RS256,
}

impl SigningAlgorithm {
    /// Every supported algorithm, default first.
    pub const ALL: [SigningAlgorithm; 3] = [
        SigningAlgorithm::ES256,
        SigningAlgorithm::EdDSA,
        SigningAlgorithm::RS256,
    ];

    /// The JOSE name, as it appears in a JWS `alg` header and in discovery metadata.
    ///
    /// ```
    /// use portcullis_tokens::SigningAlgorithm;
    /// let names: Vec<&str> = SigningAlgorithm::ALL.iter().map(|a| a.as_str()).collect();
    /// assert_eq!(names, ["ES256", "EdDSA", "RS256"]);
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            SigningAlgorithm::ES256 => "ES256",
            SigningAlgorithm::EdDSA => "EdDSA",
            SigningAlgorithm::RS256 => "RS256",
        }
    }

    fn jwt_algorithm(self) -> jsonwebtoken::Algorithm {
        match self {
            SigningAlgorithm::ES256 => jsonwebtoken::Algorithm::ES256,
            SigningAlgorithm::EdDSA => jsonwebtoken::Algorithm::EdDSA,
            SigningAlgorithm::RS256 => jsonwebtoken::Algorithm::RS256,
        }
    }
}

impl fmt::Display for SigningAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The string is not the exact JOSE name of a supported algorithm (`ES256`, `EdDSA`, `RS256`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported signing algorithm; expected ES256, EdDSA or RS256")]
pub struct ParseSigningAlgorithmError;

impl FromStr for SigningAlgorithm {
    type Err = ParseSigningAlgorithmError;

    /// Exact, case-sensitive match on the JOSE name (RFC 7515 §4.1.1).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SigningAlgorithm::ALL
            .into_iter()
            .find(|alg| alg.as_str() == s)
            .ok_or(ParseSigningAlgorithmError)
    }
}

/// A private signing key with its algorithm and public half.
///
/// Held as PKCS#8 DER (RFC 5958); its key id is the RFC 7638 thumbprint of the public key, so
/// the same key always has the same `kid` on every instance of the provider. `Debug` never shows
/// the private key.
///
/// ```
/// use portcullis_tokens::{SigningAlgorithm, SigningKey};
///
/// let key = SigningKey::generate(SigningAlgorithm::ES256)?;
/// let again = SigningKey::from_pkcs8(key.algorithm(), key.pkcs8_der())?;
/// assert_eq!(again.kid(), key.kid());
/// assert!(!format!("{key:?}").contains(&format!("{:?}", key.pkcs8_der())));
/// # Ok::<(), portcullis_tokens::TokenError>(())
/// ```
#[derive(Clone)]
pub struct SigningKey {
    pkcs8: Vec<u8>,
    encoding: EncodingKey,
    public: PublicKey,
}

impl SigningKey {
    /// Generates a fresh key for `algorithm` from the operating system's random generator:
    /// a P-256 key for ES256, an Ed25519 key for EdDSA, a 2048-bit RSA key for RS256.
    ///
    /// RSA generation takes a noticeable fraction of a second; do it at provisioning or
    /// rotation time, not per request.
    ///
    /// ```
    /// use portcullis_tokens::{SigningAlgorithm, SigningKey};
    ///
    /// let key = SigningKey::generate(SigningAlgorithm::EdDSA)?;
    /// assert_eq!(key.algorithm(), SigningAlgorithm::EdDSA);
    /// assert_eq!(key.kid().len(), 43);
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`TokenError::Key`] when the cryptographic library fails to generate or encode a key.
    pub fn generate(algorithm: SigningAlgorithm) -> Result<SigningKey, TokenError> {
        fn failed(_: Unspecified) -> TokenError {
            TokenError::Key {
                reason: "key generation failed",
            }
        }
        let der: Vec<u8> = match algorithm {
            SigningAlgorithm::ES256 => {
                EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING)
                    .and_then(|pair| pair.to_pkcs8v1())
                    .map_err(failed)?
                    .as_ref()
                    .to_vec()
            }
            SigningAlgorithm::EdDSA => Ed25519KeyPair::generate()
                .and_then(|pair| pair.to_pkcs8())
                .map_err(failed)?
                .as_ref()
                .to_vec(),
            SigningAlgorithm::RS256 => RsaKeyPair::generate(KeySize::Rsa2048)
                .and_then(|pair| pair.as_der())
                .map_err(failed)?
                .as_ref()
                .to_vec(),
        };
        SigningKey::from_pkcs8(algorithm, &der)
    }

    /// Reads a private key stored as unencrypted PKCS#8 DER, checking that it is a key for
    /// `algorithm` (a P-256 key for ES256, Ed25519 for EdDSA, RSA of 2048 to 8192 bits for
    /// RS256).
    ///
    /// ```
    /// use portcullis_tokens::{SigningAlgorithm, SigningKey};
    ///
    /// let key = SigningKey::generate(SigningAlgorithm::ES256)?;
    /// let loaded = SigningKey::from_pkcs8(SigningAlgorithm::ES256, key.pkcs8_der())?;
    /// assert_eq!(loaded.public_key(), key.public_key());
    /// assert!(SigningKey::from_pkcs8(SigningAlgorithm::EdDSA, key.pkcs8_der()).is_err());
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`TokenError::Key`] when `der` is not a PKCS#8 private key for `algorithm`.
    pub fn from_pkcs8(algorithm: SigningAlgorithm, der: &[u8]) -> Result<SigningKey, TokenError> {
        fn rejected(_: KeyRejected) -> TokenError {
            TokenError::Key {
                reason: "not a PKCS#8 private key for this algorithm",
            }
        }
        let (material, encoding) = match algorithm {
            SigningAlgorithm::ES256 => {
                let pair =
                    EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, der)
                        .map_err(rejected)?;
                // jsonwebtoken's ES256 signer reads PKCS#8 itself.
                (
                    KeyMaterial::from_p256_point(pair.public_key().as_ref())?,
                    EncodingKey::from_ec_der(der),
                )
            }
            SigningAlgorithm::EdDSA => {
                let pair = Ed25519KeyPair::from_pkcs8(der).map_err(rejected)?;
                // jsonwebtoken's EdDSA signer reads PKCS#8 (v1 or v2) itself.
                (
                    KeyMaterial::Okp {
                        x: pair.public_key().as_ref().to_vec(),
                    },
                    EncodingKey::from_ed_der(der),
                )
            }
            SigningAlgorithm::RS256 => {
                let pair = RsaKeyPair::from_pkcs8(der).map_err(rejected)?;
                let public = pair.public_key();
                let material = KeyMaterial::Rsa {
                    n: public.modulus().big_endian_without_leading_zero().to_vec(),
                    e: public.exponent().big_endian_without_leading_zero().to_vec(),
                };
                // `EncodingKey::from_rsa_der` wants PKCS#1 `RSAPrivateKey`, not PKCS#8; its PEM
                // reader unwraps a PKCS#8 "PRIVATE KEY" into the PKCS#1 structure it needs.
                let encoding =
                    EncodingKey::from_rsa_pem(pkcs8_pem(der).as_bytes()).map_err(|_| {
                        TokenError::Key {
                            reason: "RSA key could not be loaded for signing",
                        }
                    })?;
                (material, encoding)
            }
        };
        let public = PublicKey::new(algorithm, material)?;
        Ok(SigningKey {
            pkcs8: der.to_vec(),
            encoding,
            public,
        })
    }

    /// The private key as PKCS#8 DER, for a key store.
    ///
    /// # Security
    ///
    /// This is the private key: whoever holds it can sign ID tokens and access tokens that
    /// every client and resource server will accept. Store it encrypted or in a protected
    /// store, never log it, and never publish it; publish [`public_key`](SigningKey::public_key)
    /// instead.
    ///
    /// ```
    /// use portcullis_tokens::{SigningAlgorithm, SigningKey};
    /// let key = SigningKey::generate(SigningAlgorithm::ES256)?;
    /// assert_eq!(key.pkcs8_der().first(), Some(&0x30)); // a DER SEQUENCE
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The algorithm this key signs with.
    ///
    /// ```
    /// use portcullis_tokens::{SigningAlgorithm, SigningKey};
    /// let key = SigningKey::generate(SigningAlgorithm::ES256)?;
    /// assert_eq!(key.algorithm(), SigningAlgorithm::ES256);
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    pub fn algorithm(&self) -> SigningAlgorithm {
        self.public.algorithm
    }

    /// The key id: the RFC 7638 SHA-256 thumbprint of the public key, base64url.
    ///
    /// ```
    /// use portcullis_tokens::{SigningAlgorithm, SigningKey};
    /// let key = SigningKey::generate(SigningAlgorithm::ES256)?;
    /// assert_eq!(key.kid(), key.public_key().kid());
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    pub fn kid(&self) -> &str {
        &self.public.kid
    }

    /// The public half, to publish in the JWKS and verify with.
    ///
    /// ```
    /// use portcullis_tokens::{SigningAlgorithm, SigningKey};
    /// let key = SigningKey::generate(SigningAlgorithm::ES256)?;
    /// assert_eq!(key.public_key().jwk()["kty"], "EC");
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// Signs `claims` as a compact JWS (RFC 7515 §7.1) whose header carries `alg`, `kid`, and
    /// `typ` when given (`"at+jwt"` for RFC 9068 access tokens; `None` omits it).
    ///
    /// ```
    /// use portcullis_tokens::{SigningAlgorithm, SigningKey};
    ///
    /// let key = SigningKey::generate(SigningAlgorithm::ES256)?;
    /// let jwt = key.sign(Some("at+jwt"), &serde_json::json!({"iss": "https://issuer.example"}))?;
    /// assert_eq!(jwt.split('.').count(), 3);
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`TokenError::Jwt`] when `claims` does not serialize to a JSON object (RFC 7519 §7.1);
    /// [`TokenError::Key`] when signing fails.
    pub fn sign<C: Serialize + ?Sized>(
        &self,
        typ: Option<&str>,
        claims: &C,
    ) -> Result<String, TokenError> {
        let claims = serde_json::to_value(claims).map_err(|_| TokenError::Jwt {
            reason: "claims could not be serialized",
        })?;
        if !claims.is_object() {
            return Err(TokenError::Jwt {
                reason: "claims are not a JSON object",
            });
        }
        let mut header = Header::new(self.algorithm().jwt_algorithm());
        header.typ = typ.map(str::to_owned);
        header.kid = Some(self.kid().to_owned());
        jsonwebtoken::encode(&header, &claims, &self.encoding).map_err(|_| TokenError::Key {
            reason: "signing failed",
        })
    }

    /// Test helper: a JWS over arbitrary header and payload text, signed with this key's
    /// algorithm, to build tokens that [`sign`](SigningKey::sign) would never produce.
    #[cfg(test)]
    pub(crate) fn sign_raw(&self, header_json: &str, payload_json: &str) -> String {
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header_json),
            URL_SAFE_NO_PAD.encode(payload_json)
        );
        let signature = jsonwebtoken::crypto::sign(
            signing_input.as_bytes(),
            &self.encoding,
            self.algorithm().jwt_algorithm(),
        );
        match signature {
            Ok(signature) => format!("{signing_input}.{signature}"),
            Err(err) => panic!("test signing failed: {err}"),
        }
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("algorithm", &self.algorithm())
            .field("kid", &self.kid())
            .field("private_key", &"<redacted>")
            .finish()
    }
}

/// PKCS#8 DER as a PEM "PRIVATE KEY" document (RFC 7468 §10), 64 characters a line.
fn pkcs8_pem(der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut pem = String::with_capacity(body.len() + body.len() / 64 + 64);
    pem.push_str("-----BEGIN PRIVATE KEY-----");
    for (i, c) in body.chars().enumerate() {
        if i % 64 == 0 {
            pem.push('\n');
        }
        pem.push(c);
    }
    pem.push_str("\n-----END PRIVATE KEY-----\n");
    pem
}

/// The public members of a key, as they appear in its JWK (RFC 7518 §6, RFC 8037 §2), raw.
#[derive(Clone, PartialEq, Eq)]
enum KeyMaterial {
    /// P-256 coordinates, 32 bytes each.
    Ec { x: Vec<u8>, y: Vec<u8> },
    /// The Ed25519 public key, 32 bytes.
    Okp { x: Vec<u8> },
    /// Modulus and exponent, unsigned big-endian without leading zeros.
    Rsa { n: Vec<u8>, e: Vec<u8> },
}

/// P-256 coordinate length in bytes.
const P256_COORDINATE: usize = 32;
/// Ed25519 public key length in bytes.
const ED25519_PUBLIC: usize = 32;
/// RSA modulus bounds in bytes: 2048 to 8192 bits, what RS256 verification accepts.
const RSA_MODULUS: std::ops::RangeInclusive<usize> = 256..=1024;

impl KeyMaterial {
    /// Splits an uncompressed SEC 1 point (`0x04 || x || y`) into its coordinates.
    fn from_p256_point(point: &[u8]) -> Result<KeyMaterial, TokenError> {
        match point.split_first() {
            Some((0x04, xy)) if xy.len() == 2 * P256_COORDINATE => {
                let (x, y) = xy.split_at(P256_COORDINATE);
                Ok(KeyMaterial::Ec {
                    x: x.to_vec(),
                    y: y.to_vec(),
                })
            }
            _ => Err(TokenError::Key {
                reason: "not an uncompressed P-256 point",
            }),
        }
    }

    fn algorithm(&self) -> SigningAlgorithm {
        match self {
            KeyMaterial::Ec { .. } => SigningAlgorithm::ES256,
            KeyMaterial::Okp { .. } => SigningAlgorithm::EdDSA,
            KeyMaterial::Rsa { .. } => SigningAlgorithm::RS256,
        }
    }

    /// Parses and validates the key for signature verification.
    fn verifier(&self) -> Result<ParsedPublicKey, TokenError> {
        let invalid = |reason: &'static str| move |_| TokenError::Key { reason };
        match self {
            KeyMaterial::Ec { x, y } => {
                if x.len() != P256_COORDINATE || y.len() != P256_COORDINATE {
                    return Err(TokenError::Key {
                        reason: "P-256 coordinates are 32 bytes",
                    });
                }
                let mut point = Vec::with_capacity(1 + 2 * P256_COORDINATE);
                point.push(0x04);
                point.extend_from_slice(x);
                point.extend_from_slice(y);
                ParsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                    .map_err(invalid("not a point on P-256"))
            }
            KeyMaterial::Okp { x } => {
                if x.len() != ED25519_PUBLIC {
                    return Err(TokenError::Key {
                        reason: "Ed25519 public keys are 32 bytes",
                    });
                }
                ParsedPublicKey::new(&signature::ED25519, x)
                    .map_err(invalid("not an Ed25519 public key"))
            }
            KeyMaterial::Rsa { n, e } => {
                if n.first() == Some(&0) || e.first() == Some(&0) || e.is_empty() {
                    return Err(TokenError::Key {
                        reason: "RSA parameters must be minimal big-endian integers",
                    });
                }
                if !RSA_MODULUS.contains(&n.len()) {
                    return Err(TokenError::Key {
                        reason: "RSA modulus must be 2048 to 8192 bits",
                    });
                }
                RsaPublicKeyComponents {
                    n: n.as_slice(),
                    e: e.as_slice(),
                }
                .to_parsed_public_key(&signature::RSA_PKCS1_2048_8192_SHA256)
                .map_err(invalid("not a valid RSA public key"))
            }
        }
    }

    /// The RFC 7638 §3.2 canonical JSON: required members only, in lexicographic order, no
    /// whitespace. base64url values never need escaping.
    fn thumbprint(&self) -> String {
        let canonical = match self {
            KeyMaterial::Ec { x, y } => format!(
                r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
                URL_SAFE_NO_PAD.encode(x),
                URL_SAFE_NO_PAD.encode(y)
            ),
            KeyMaterial::Okp { x } => format!(
                r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
                URL_SAFE_NO_PAD.encode(x)
            ),
            KeyMaterial::Rsa { n, e } => format!(
                r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
                URL_SAFE_NO_PAD.encode(e),
                URL_SAFE_NO_PAD.encode(n)
            ),
        };
        let digest: [u8; 32] = Sha256::digest(canonical.as_bytes()).into();
        URL_SAFE_NO_PAD.encode(digest)
    }
}

/// A public verification key: the public half of a [`SigningKey`], or a key read from a JWKS.
///
/// Its `kid` is the RFC 7638 thumbprint of the key, except for keys read with
/// [`from_foreign_jwk`](PublicKey::from_foreign_jwk), which keep their issuer's `kid`.
/// Equality compares the key material, not the `kid`. `Debug` shows algorithm and kid.
///
/// ```
/// use portcullis_tokens::{PublicKey, SigningAlgorithm, SigningKey};
///
/// let key = SigningKey::generate(SigningAlgorithm::ES256)?;
/// let jwk = key.public_key().jwk();
/// let read_back = PublicKey::from_jwk(&jwk)?;
/// assert_eq!(&read_back, key.public_key());
/// # Ok::<(), portcullis_tokens::TokenError>(())
/// ```
#[derive(Clone)]
pub struct PublicKey {
    algorithm: SigningAlgorithm,
    kid: String,
    material: KeyMaterial,
    verifier: ParsedPublicKey,
}

impl PublicKey {
    fn new(algorithm: SigningAlgorithm, material: KeyMaterial) -> Result<PublicKey, TokenError> {
        if material.algorithm() != algorithm {
            return Err(TokenError::Key {
                reason: "key type does not match the algorithm",
            });
        }
        let verifier = material.verifier()?;
        Ok(PublicKey {
            algorithm,
            kid: material.thumbprint(),
            material,
            verifier,
        })
    }

    /// The algorithm this key verifies; a token whose header names another is refused.
    ///
    /// ```
    /// use portcullis_tokens::{SigningAlgorithm, SigningKey};
    /// let key = SigningKey::generate(SigningAlgorithm::EdDSA)?;
    /// assert_eq!(key.public_key().algorithm(), SigningAlgorithm::EdDSA);
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    pub fn algorithm(&self) -> SigningAlgorithm {
        self.algorithm
    }

    /// The key id: the RFC 7638 SHA-256 JWK thumbprint, base64url (43 characters), or the
    /// issuer's own `kid` for a key read with [`from_foreign_jwk`](PublicKey::from_foreign_jwk).
    ///
    /// ```
    /// use portcullis_tokens::{SigningAlgorithm, SigningKey};
    /// let key = SigningKey::generate(SigningAlgorithm::ES256)?;
    /// assert_eq!(key.public_key().kid(), key.public_key().jwk()["kid"]);
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The key as a JWK (RFC 7517 §4) for a JWKS document: the public members for its type
    /// (`kty`, `crv`, `x`, `y` / `n`, `e`) plus `kid`, `alg` and `use: "sig"`. Never a private
    /// member.
    ///
    /// ```
    /// use portcullis_tokens::{SigningAlgorithm, SigningKey};
    ///
    /// let key = SigningKey::generate(SigningAlgorithm::EdDSA)?;
    /// let jwk = key.public_key().jwk();
    /// assert_eq!(jwk["kty"], "OKP");
    /// assert_eq!(jwk["crv"], "Ed25519");
    /// assert_eq!(jwk["alg"], "EdDSA");
    /// assert_eq!(jwk["use"], "sig");
    /// assert!(jwk.get("d").is_none());
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    pub fn jwk(&self) -> Value {
        let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
        let (kid, alg) = (self.kid.as_str(), self.algorithm.as_str());
        match &self.material {
            KeyMaterial::Ec { x, y } => json!({
                "kty": "EC", "crv": "P-256", "x": b64(x), "y": b64(y),
                "kid": kid, "alg": alg, "use": "sig",
            }),
            KeyMaterial::Okp { x } => json!({
                "kty": "OKP", "crv": "Ed25519", "x": b64(x),
                "kid": kid, "alg": alg, "use": "sig",
            }),
            KeyMaterial::Rsa { n, e } => json!({
                "kty": "RSA", "n": b64(n), "e": b64(e),
                "kid": kid, "alg": alg, "use": "sig",
            }),
        }
    }

    /// Reads a public JWK: EC on P-256 (ES256), OKP with Ed25519 (EdDSA) or RSA (RS256).
    ///
    /// The key is validated (a point on the curve, an RSA modulus of 2048 to 8192 bits). `alg`,
    /// when present, must be the algorithm the key type implies; `use`, when present, must be
    /// `"sig"`; `kid`, when present, must equal the key's RFC 7638 thumbprint. Private members
    /// (`d`, `p`, `q`, …) are ignored and never carried into [`jwk`](PublicKey::jwk).
    ///
    /// ```
    /// use portcullis_tokens::PublicKey;
    /// use serde_json::json;
    ///
    /// // RFC 7638 §3.1's example key.
    /// let key = PublicKey::from_jwk(&json!({
    ///     "kty": "RSA",
    ///     "e": "AQAB",
    ///     "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
    /// }))?;
    /// assert_eq!(key.kid(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`TokenError::Key`] when the JWK is not a supported, valid public signing key, or its
    /// `kid` is not its thumbprint.
    pub fn from_jwk(jwk: &Value) -> Result<PublicKey, TokenError> {
        let (key, kid) = PublicKey::parse_jwk(jwk)?;
        if let Some(kid) = kid
            && kid != key.kid
        {
            return Err(TokenError::Key {
                reason: "JWK kid is not its RFC 7638 thumbprint",
            });
        }
        Ok(key)
    }

    /// Reads a public JWK published by **another** issuer, whose `kid` may be any string
    /// (RFC 7517 §4.5 leaves its structure unspecified): the key keeps that `kid`, or its
    /// RFC 7638 thumbprint when the JWK has none. Every other check is
    /// [`from_jwk`](PublicKey::from_jwk)'s.
    ///
    /// Use it for keys the provider trusts but does not own (a JWT bearer assertion issuer,
    /// RFC 7523), never for the provider's own key set.
    ///
    /// ```
    /// use portcullis_tokens::{PublicKey, SigningAlgorithm, SigningKey};
    ///
    /// let key = SigningKey::generate(SigningAlgorithm::ES256)?;
    /// let mut jwk = key.public_key().jwk();
    /// jwk["kid"] = "2026-key-1".into();
    /// assert!(PublicKey::from_jwk(&jwk).is_err());
    /// let foreign = PublicKey::from_foreign_jwk(&jwk)?;
    /// assert_eq!(foreign.kid(), "2026-key-1");
    /// assert_eq!(&foreign, key.public_key());
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`TokenError::Key`] when the JWK is not a supported, valid public signing key, or its
    /// `kid` is empty.
    pub fn from_foreign_jwk(jwk: &Value) -> Result<PublicKey, TokenError> {
        let (mut key, kid) = PublicKey::parse_jwk(jwk)?;
        if let Some(kid) = kid {
            if kid.is_empty() {
                return Err(TokenError::Key {
                    reason: "JWK kid is empty",
                });
            }
            kid.clone_into(&mut key.kid);
        }
        Ok(key)
    }

    /// The key a JWK describes (named by its thumbprint) and the JWK's own `kid`, if any.
    fn parse_jwk(jwk: &Value) -> Result<(PublicKey, Option<&str>), TokenError> {
        let members = jwk.as_object().ok_or(TokenError::Key {
            reason: "a JWK is a JSON object",
        })?;
        let material = match required_string(members, "kty")? {
            "EC" => {
                if required_string(members, "crv")? != "P-256" {
                    return Err(TokenError::Key {
                        reason: "unsupported elliptic curve",
                    });
                }
                KeyMaterial::Ec {
                    x: base64url_member(members, "x")?,
                    y: base64url_member(members, "y")?,
                }
            }
            "OKP" => {
                if required_string(members, "crv")? != "Ed25519" {
                    return Err(TokenError::Key {
                        reason: "unsupported OKP curve",
                    });
                }
                KeyMaterial::Okp {
                    x: base64url_member(members, "x")?,
                }
            }
            "RSA" => KeyMaterial::Rsa {
                n: base64url_member(members, "n")?,
                e: base64url_member(members, "e")?,
            },
            _ => {
                return Err(TokenError::Key {
                    reason: "unsupported key type",
                });
            }
        };
        let algorithm = material.algorithm();
        if let Some(alg) = optional_string(members, "alg")?
            && alg != algorithm.as_str()
        {
            return Err(TokenError::Key {
                reason: "JWK alg is not supported for its key type",
            });
        }
        if let Some(usage) = optional_string(members, "use")?
            && usage != "sig"
        {
            return Err(TokenError::Key {
                reason: "JWK is not a signature key",
            });
        }
        let key = PublicKey::new(algorithm, material)?;
        Ok((key, optional_string(members, "kid")?))
    }

    /// Verifies a compact JWS signed by this key and returns its claims, checked against
    /// `expect`; the same checks as [`KeySet::verify`](crate::KeySet::verify), with this key
    /// as the only one known.
    ///
    /// ```
    /// use portcullis_tokens::{JwtExpectations, SigningAlgorithm, SigningKey};
    /// use serde_json::{json, Value};
    /// use time::OffsetDateTime;
    ///
    /// let key = SigningKey::generate(SigningAlgorithm::ES256)?;
    /// let now = OffsetDateTime::now_utc().unix_timestamp();
    /// let jwt = key.sign(None, &json!({"iss": "https://issuer.example", "exp": now + 60}))?;
    ///
    /// let expect = JwtExpectations::new("https://issuer.example", OffsetDateTime::now_utc());
    /// let claims: Value = key.public_key().verify(&jwt, &expect)?;
    /// assert_eq!(claims["iss"], "https://issuer.example");
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`TokenError::Jwt`] naming the first check that failed.
    pub fn verify<C: DeserializeOwned>(
        &self,
        token: &str,
        expect: &JwtExpectations,
    ) -> Result<C, TokenError> {
        crate::jwt::verify(token, expect, |alg, kid| {
            if alg != self.algorithm {
                return Err(TokenError::Jwt {
                    reason: "unsupported algorithm",
                });
            }
            match kid {
                None => Err(TokenError::Jwt {
                    reason: "missing kid",
                }),
                Some(kid) if kid == self.kid => Ok(self),
                Some(_) => Err(TokenError::Jwt {
                    reason: "unknown kid",
                }),
            }
        })
    }

    /// Whether `signature` is this key's signature over `message`.
    pub(crate) fn verify_signature(&self, message: &[u8], signature: &[u8]) -> bool {
        self.verifier.verify_sig(message, signature).is_ok()
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.algorithm == other.algorithm && self.material == other.material
    }
}

impl Eq for PublicKey {}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("algorithm", &self.algorithm)
            .field("kid", &self.kid)
            .finish()
    }
}

fn optional_string<'a>(
    members: &'a Map<String, Value>,
    name: &'static str,
) -> Result<Option<&'a str>, TokenError> {
    match members.get(name) {
        None => Ok(None),
        Some(Value::String(value)) => Ok(Some(value)),
        Some(_) => Err(TokenError::Key {
            reason: "a JWK member is not a string",
        }),
    }
}

fn required_string<'a>(
    members: &'a Map<String, Value>,
    name: &'static str,
) -> Result<&'a str, TokenError> {
    optional_string(members, name)?.ok_or(TokenError::Key {
        reason: "a required JWK member is missing",
    })
}

fn base64url_member(
    members: &Map<String, Value>,
    name: &'static str,
) -> Result<Vec<u8>, TokenError> {
    URL_SAFE_NO_PAD
        .decode(required_string(members, name)?)
        .map_err(|_| TokenError::Key {
            reason: "a JWK member is not base64url",
        })
}

#[cfg(test)]
mod tests;
