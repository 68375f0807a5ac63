//! The checks made on a JWT's JOSE header (RFC 7515 §4.1) before any key is looked up, so
//! that a token which can never verify costs no JWKS request.
//!
//! Nothing here is trusted: the header is read only to pick the key. The signature, and the
//! same header checks again, are verified by `portcullis_tokens` with that key.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_tokens::SigningAlgorithm;
use serde::Deserialize;

/// The `typ` of a JWT access token (RFC 9068 §2.1), compared as RFC 7515 §4.1.9 says:
/// ignoring ASCII case, with the `application/` prefix optional.
pub(super) const AT_JWT: &str = "at+jwt";

/// The header members read here. Derived deserialization refuses a header that repeats one
/// of them, as `portcullis_tokens` does.
#[derive(Deserialize)]
struct RawHeader {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    typ: Option<String>,
}

/// What the header says about the key to verify with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Header {
    /// The key id, never empty.
    pub(super) kid: String,
    /// The algorithm, one portcullis verifies: never `none`, never an HMAC.
    pub(super) alg: SigningAlgorithm,
}

/// Reads the header of `token`, a compact JWS (RFC 7515 §7.1): three base64url parts, a
/// header whose `alg` is ES256, EdDSA or RS256, whose `typ` is `at+jwt` (RFC 9068 §4), and
/// which names its key by `kid`.
///
/// # Errors
///
/// The first check that failed, terse and safe to log (it never echoes the token).
pub(super) fn read(token: &str) -> Result<Header, &'static str> {
    let mut parts = token.split('.');
    let (Some(header), Some(_payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("not a compact JWS");
    };
    let header: RawHeader = URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|json| serde_json::from_slice(&json).ok())
        .ok_or("malformed header")?;
    let alg = header
        .alg
        .parse::<SigningAlgorithm>()
        .map_err(|_| "unsupported algorithm")?;
    if !header.typ.as_deref().is_some_and(is_at_jwt) {
        return Err("typ is not at+jwt");
    }
    let kid = header
        .kid
        .filter(|kid| !kid.is_empty())
        .ok_or("missing kid")?;
    Ok(Header { kid, alg })
}

/// Whether `typ` is `at+jwt` or `application/at+jwt`, ignoring ASCII case.
fn is_at_jwt(typ: &str) -> bool {
    const PREFIX: &str = "application/";
    let bare = match typ.get(..PREFIX.len()) {
        Some(prefix) if prefix.eq_ignore_ascii_case(PREFIX) => {
            typ.get(PREFIX.len()..).unwrap_or(typ)
        }
        _ => typ,
    };
    bare.eq_ignore_ascii_case(AT_JWT)
}
