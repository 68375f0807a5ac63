//! Opaque tokens: random values with a typed prefix, stored only as SHA-256
//! (RFC 6749 §10.10 credential guessing; RFC 6819 §5.1.4.1.3 hashed storage).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::TryCryptoRng;
use rand::rngs::SysRng;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use crate::TokenError;

/// Random bytes in every opaque token: 32 bytes, 256 bits (RFC 6749 §10.10 asks for a
/// guessing probability of at most 2^-128; RFC 6819 §5.1.4.2.2 recommends 128 bits or more).
pub const TOKEN_ENTROPY_BYTES: usize = 32;

/// Length of the base64url (unpadded) body of a token: 32 bytes encode to 43 characters.
const BODY_LEN: usize = 43;

/// What a token is for; each kind has its own prefix.
///
/// ```
/// use portcullis_tokens::TokenKind;
///
/// assert_eq!(TokenKind::RefreshToken.prefix(), "pc_rt_");
/// assert_eq!(TokenKind::of("pc_rt_abc"), Some(TokenKind::RefreshToken));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TokenKind {
    /// An OAuth access token (RFC 6749 §1.4), prefix `pc_at_`.
    AccessToken,
    /// An OAuth refresh token (RFC 6749 §1.5), prefix `pc_rt_`.
    RefreshToken,
    /// An authorization code (RFC 6749 §4.1.2), prefix `pc_ac_`.
    AuthorizationCode,
    /// The handle of a pending authorization waiting for login and consent, prefix `pc_pa_`.
    PendingAuthorization,
    /// The handle of a provider browser session (the session cookie's value), prefix `pc_se_`.
    Session,
    /// A device code (RFC 8628 §3.2), the polling device's secret, prefix `pc_dc_`.
    DeviceCode,
    /// A registration access token (RFC 7592 §3): the bearer credential of the client
    /// configuration endpoint, prefix `pc_rat_`. Never an access token: every endpoint
    /// that takes access tokens parses them as [`TokenKind::AccessToken`].
    RegistrationAccessToken,
}

impl TokenKind {
    /// Every kind, in prefix order.
    pub const ALL: [TokenKind; 7] = [
        TokenKind::AccessToken,
        TokenKind::RefreshToken,
        TokenKind::AuthorizationCode,
        TokenKind::PendingAuthorization,
        TokenKind::Session,
        TokenKind::DeviceCode,
        TokenKind::RegistrationAccessToken,
    ];

    /// The prefix every token of this kind starts with.
    ///
    /// ```
    /// assert_eq!(portcullis_tokens::TokenKind::AccessToken.prefix(), "pc_at_");
    /// ```
    pub const fn prefix(self) -> &'static str {
        match self {
            TokenKind::AccessToken => "pc_at_",
            TokenKind::RefreshToken => "pc_rt_",
            TokenKind::AuthorizationCode => "pc_ac_",
            TokenKind::PendingAuthorization => "pc_pa_",
            TokenKind::Session => "pc_se_",
            TokenKind::DeviceCode => "pc_dc_",
            TokenKind::RegistrationAccessToken => "pc_rat_",
        }
    }

    /// The kind whose prefix `token` starts with, if any. Says nothing about whether the
    /// rest of the token is well formed; use [`RawToken::parse`] for that.
    ///
    /// ```
    /// use portcullis_tokens::TokenKind;
    /// assert_eq!(TokenKind::of("pc_ac_xyz"), Some(TokenKind::AuthorizationCode));
    /// assert_eq!(TokenKind::of("eyJhbGciOi"), None);
    /// ```
    pub fn of(token: &str) -> Option<TokenKind> {
        Self::ALL
            .into_iter()
            .find(|kind| token.starts_with(kind.prefix()))
    }

    /// A short human name, used in error messages.
    ///
    /// ```
    /// assert_eq!(portcullis_tokens::TokenKind::AuthorizationCode.name(), "authorization code");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            TokenKind::AccessToken => "access",
            TokenKind::RefreshToken => "refresh",
            TokenKind::AuthorizationCode => "authorization code",
            TokenKind::PendingAuthorization => "pending authorization",
            TokenKind::Session => "session",
            TokenKind::DeviceCode => "device code",
            TokenKind::RegistrationAccessToken => "registration access",
        }
    }
}

impl fmt::Display for TokenKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A token in plain text: what is handed to the client once and presented back.
///
/// It never prints its value (`Debug` is redacted), has no `Serialize`, and compares in
/// constant time. Store its [`lookup_key`](RawToken::lookup_key), never the value.
///
/// ```
/// use portcullis_tokens::{mint, TokenKind};
///
/// let token = mint(TokenKind::RefreshToken)?;
/// assert_eq!(format!("{token:?}"), "RawToken(refresh, <redacted>)");
/// # Ok::<(), portcullis_tokens::TokenError>(())
/// ```
#[derive(Clone)]
pub struct RawToken {
    kind: TokenKind,
    value: String,
}

impl RawToken {
    /// Reads a token presented by a client, checking that it is a well-formed token of the
    /// `expected` kind (prefix, length, base64url alphabet). A well-formed token may still be
    /// unknown, expired or revoked: that is for the store to say.
    ///
    /// ```
    /// use portcullis_tokens::{mint, RawToken, TokenKind};
    ///
    /// let code = mint(TokenKind::AuthorizationCode)?;
    /// assert!(RawToken::parse(code.expose_secret(), TokenKind::AuthorizationCode).is_ok());
    /// // A code is not accepted where a refresh token is expected.
    /// assert!(RawToken::parse(code.expose_secret(), TokenKind::RefreshToken).is_err());
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    pub fn parse(presented: &str, expected: TokenKind) -> Result<RawToken, TokenError> {
        let malformed = |reason| TokenError::Malformed { expected, reason };
        let body = presented
            .strip_prefix(expected.prefix())
            .ok_or_else(|| malformed("wrong prefix"))?;
        if body.len() != BODY_LEN {
            return Err(malformed("wrong length"));
        }
        if !body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(malformed("not base64url"));
        }
        Ok(RawToken {
            kind: expected,
            value: presented.to_owned(),
        })
    }

    /// The kind of this token.
    ///
    /// ```
    /// use portcullis_tokens::{mint, TokenKind};
    /// assert_eq!(mint(TokenKind::AccessToken)?.kind(), TokenKind::AccessToken);
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    pub fn kind(&self) -> TokenKind {
        self.kind
    }

    /// The plain token, to put in a response to the client.
    ///
    /// # Security
    ///
    /// This is a bearer credential (RFC 6750 §5): whoever holds it can use it. Send it only
    /// to the client it was issued to, over TLS, with `Cache-Control: no-store`; never log
    /// it or store it. Store [`lookup_key`](RawToken::lookup_key) instead.
    ///
    /// ```
    /// use portcullis_tokens::{mint, TokenKind};
    /// let token = mint(TokenKind::AccessToken)?;
    /// assert_eq!(token.expose_secret().len(), "pc_at_".len() + 43);
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    pub fn expose_secret(&self) -> &str {
        &self.value
    }

    /// The SHA-256 of the token: the only form in which it is stored and looked up.
    ///
    /// ```
    /// use portcullis_tokens::{mint, TokenHash, TokenKind};
    /// let token = mint(TokenKind::AccessToken)?;
    /// assert_eq!(token.lookup_key(), TokenHash::of(token.expose_secret()));
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    pub fn lookup_key(&self) -> TokenHash {
        TokenHash::of(&self.value)
    }
}

impl fmt::Debug for RawToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RawToken({}, <redacted>)", self.kind.name())
    }
}

impl PartialEq for RawToken {
    /// Constant-time comparison of the values.
    fn eq(&self, other: &Self) -> bool {
        self.value.as_bytes().ct_eq(other.value.as_bytes()).into()
    }
}

impl Eq for RawToken {}

/// Mints a fresh token of `kind` from the operating system's random generator.
///
/// ```
/// use portcullis_tokens::{mint, TokenKind};
/// let a = mint(TokenKind::AccessToken)?;
/// let b = mint(TokenKind::AccessToken)?;
/// assert_ne!(a, b);
/// # Ok::<(), portcullis_tokens::TokenError>(())
/// ```
///
/// # Errors
///
/// [`TokenError::Entropy`] when the operating system cannot provide random bytes.
pub fn mint(kind: TokenKind) -> Result<RawToken, TokenError> {
    mint_with(kind, &mut SysRng)
}

/// Mints a token of `kind` from a caller-supplied cryptographically secure generator:
/// the injection point for deterministic tests. Production code uses [`mint`].
///
/// ```
/// use portcullis_tokens::{mint_with, TokenKind};
/// use rand::rngs::SysRng;
///
/// let token = mint_with(TokenKind::RefreshToken, &mut SysRng)?;
/// assert!(token.expose_secret().starts_with("pc_rt_"));
/// # Ok::<(), portcullis_tokens::TokenError>(())
/// ```
///
/// # Errors
///
/// [`TokenError::Entropy`] when the generator fails.
pub fn mint_with<R: TryCryptoRng + ?Sized>(
    kind: TokenKind,
    rng: &mut R,
) -> Result<RawToken, TokenError> {
    let mut bytes = [0u8; TOKEN_ENTROPY_BYTES];
    rng.try_fill_bytes(&mut bytes)
        .map_err(|e| TokenError::Entropy(e.to_string()))?;
    let mut value = String::with_capacity(kind.prefix().len() + BODY_LEN);
    value.push_str(kind.prefix());
    URL_SAFE_NO_PAD.encode_string(bytes, &mut value);
    Ok(RawToken { kind, value })
}

/// SHA-256 of a token string: the key under which a token is stored and found.
///
/// Serialized as 64 lowercase hex digits. A hash is not a secret, so `Debug` shows it.
///
/// ```
/// use portcullis_tokens::TokenHash;
///
/// let key = TokenHash::of("pc_at_example");
/// assert_eq!(key.to_string().len(), 64);
/// assert_eq!(key.to_string().parse::<TokenHash>().ok(), Some(key));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    /// Hashes whatever string a client presented. Unknown or malformed strings simply
    /// hash to a key that is not in the store.
    ///
    /// ```
    /// use portcullis_tokens::TokenHash;
    /// assert_ne!(TokenHash::of("a"), TokenHash::of("b"));
    /// ```
    pub fn of(presented: &str) -> TokenHash {
        TokenHash(Sha256::digest(presented.as_bytes()).into())
    }

    /// Wraps 32 bytes read back from storage.
    ///
    /// ```
    /// use portcullis_tokens::TokenHash;
    /// let key = TokenHash::of("x");
    /// assert_eq!(TokenHash::from_bytes(*key.as_bytes()), key);
    /// ```
    pub const fn from_bytes(bytes: [u8; 32]) -> TokenHash {
        TokenHash(bytes)
    }

    /// The 32 hash bytes, for storage.
    ///
    /// ```
    /// assert_eq!(portcullis_tokens::TokenHash::of("x").as_bytes().len(), 32);
    /// ```
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Compares two hashes in constant time.
    ///
    /// ```
    /// use portcullis_tokens::TokenHash;
    /// assert!(TokenHash::of("x").ct_eq(&TokenHash::of("x")));
    /// ```
    pub fn ct_eq(&self, other: &TokenHash) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl fmt::Display for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash({self})")
    }
}

/// The string was not 64 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a token hash is 64 hexadecimal digits")]
pub struct ParseTokenHashError;

impl std::str::FromStr for TokenHash {
    type Err = ParseTokenHashError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != 64 {
            return Err(ParseTokenHashError);
        }
        fn nibble(digit: u8) -> Result<u8, ParseTokenHashError> {
            match digit {
                b'0'..=b'9' => Ok(digit - b'0'),
                b'a'..=b'f' => Ok(digit - b'a' + 10),
                b'A'..=b'F' => Ok(digit - b'A' + 10),
                _ => Err(ParseTokenHashError),
            }
        }
        let mut out = [0u8; 32];
        for (byte, pair) in out.iter_mut().zip(s.as_bytes().chunks_exact(2)) {
            if let [high, low] = pair {
                *byte = (nibble(*high)? << 4) | nibble(*low)?;
            }
        }
        Ok(TokenHash(out))
    }
}

impl Serialize for TokenHash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TokenHash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests;
