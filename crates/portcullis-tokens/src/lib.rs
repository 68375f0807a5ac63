//! Tokens and signing keys for portcullis.
//!
//! **Opaque tokens**: at least 256 random bits from the operating system's generator,
//! base64url-encoded behind a typed prefix (`pc_at_` for access tokens, `pc_rt_` for refresh
//! tokens, …) so a leaked token is recognisable by secret scanners and a token presented at the
//! wrong place is refused before any lookup. Only the SHA-256 [`TokenHash`] of a token is ever
//! stored; the plain value goes to the client once.
//!
//! ```
//! use portcullis_tokens::{mint, RawToken, TokenHash, TokenKind};
//!
//! let token = mint(TokenKind::AccessToken)?;
//! assert!(token.expose_secret().starts_with("pc_at_"));
//!
//! // Store only the hash; look it up again from what a client presents.
//! let key: TokenHash = token.lookup_key();
//! let presented = RawToken::parse(token.expose_secret(), TokenKind::AccessToken)?;
//! assert_eq!(presented.lookup_key(), key);
//! # Ok::<(), portcullis_tokens::TokenError>(())
//! ```
//!
//! **Signed tokens**: a [`SigningKey`] (ES256 by default, EdDSA or RS256) signs JWTs such as ID
//! tokens and RFC 9068 access tokens; a [`KeySet`] holds the active key and the retired public
//! keys still published in the JWKS, and verifies tokens against [`JwtExpectations`] with the
//! algorithm pinned by the key. [`oidc_hash`] computes `at_hash` and `c_hash`.
//!
//! ```
//! use portcullis_tokens::{JwtExpectations, KeySet, SigningAlgorithm, SigningKey};
//! use serde_json::{json, Value};
//! use time::{Duration, OffsetDateTime};
//!
//! let keys = KeySet::new(SigningKey::generate(SigningAlgorithm::default())?);
//! let now = OffsetDateTime::now_utc();
//! let claims = json!({
//!     "iss": "https://issuer.example",
//!     "sub": "user-42",
//!     "aud": "https://api.example",
//!     "iat": now.unix_timestamp(),
//!     "exp": (now + Duration::minutes(5)).unix_timestamp(),
//! });
//! let jwt = keys.active().sign(Some("at+jwt"), &claims)?;
//!
//! let expect = JwtExpectations::new("https://issuer.example", now)
//!     .with_audience("https://api.example")
//!     .with_typ("at+jwt");
//! let verified: Value = keys.verify(&jwt, &expect)?;
//! assert_eq!(verified["sub"], "user-42");
//!
//! // Publish the public keys; never the private ones.
//! assert!(keys.jwks()["keys"][0].get("d").is_none());
//! # Ok::<(), portcullis_tokens::TokenError>(())
//! ```

mod dpop;
mod error;
mod identifier;
mod jwks;
mod jwt;
mod keys;
mod oidc_hash;
mod opaque;
mod sealing;
#[cfg(test)]
mod test_keys;

pub use dpop::{
    DPOP_JWT_TYP, DpopAlgorithm, DpopError, DpopExpectations, DpopProof, DpopSigner,
    MAX_DPOP_PROOF_BYTES, access_token_hash, jwk_thumbprint,
};
pub use error::TokenError;
pub use identifier::{IDENTIFIER_BYTES, InvalidSubject, Subject, random_identifier};
pub use jwks::{KeySet, PublicKeySet};
pub use jwt::{JwtExpectations, UnverifiedJwt};
pub use keys::{ParseSigningAlgorithmError, PublicKey, SigningAlgorithm, SigningKey};
pub use oidc_hash::oidc_hash;
pub use opaque::{
    ParseTokenHashError, RawToken, TOKEN_ENTROPY_BYTES, TokenHash, TokenKind, mint, mint_with,
};
pub use sealing::{SEALING_KEY_BYTES, SealError, SecretSealingKey};
