//! Token minting for portcullis.
//!
//! This first part holds **opaque tokens**: at least 256 random bits from the operating
//! system's generator, base64url-encoded behind a typed prefix (`pc_at_` for access tokens,
//! `pc_rt_` for refresh tokens, …) so a leaked token is recognisable by secret scanners and a
//! token presented at the wrong place is refused before any lookup. Only the SHA-256
//! [`TokenHash`] of a token is ever stored; the plain value goes to the client once.
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

mod error;
mod identifier;
mod opaque;

pub use error::TokenError;
pub use identifier::{IDENTIFIER_BYTES, InvalidSubject, Subject, random_identifier};
pub use opaque::{
    ParseTokenHashError, RawToken, TOKEN_ENTROPY_BYTES, TokenHash, TokenKind, mint, mint_with,
};
