//! The provider's browser session: a cookie that says who signed in and when, signed with
//! HMAC-SHA256 (RFC 2104) under the provider's session key. Nothing is stored server-side.
//!
//! The value is `v1.<subject>.<auth_time>.<expires>.<tag>`: the subject in base64url, the
//! two instants in Unix seconds, and the tag, in base64url, is HMAC-SHA256 over
//! `portcullis_session` and a NUL byte followed by everything before the last dot. Every
//! character is a cookie-octet (RFC 6265 §4.1.1), so the value needs no quoting.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit as _, Mac as _};
use http::HeaderMap;
use http::header::COOKIE;
use portcullis_tokens::{Subject, TokenError, TokenKind, mint};
use sha2::Sha256;
use time::OffsetDateTime;

use crate::AuthenticatedUser;

/// The version tag that opens every session value this code signs.
const VERSION: &str = "v1";

/// Separates the session MAC from any other use of the key.
const DOMAIN: &[u8] = b"portcullis_session\0";

/// Longer values are not ours (a 255-character subject makes about 420).
const MAX_VALUE_LEN: usize = 1024;

/// Why a presented session cookie does not count. Only logged: a browser with a bad cookie
/// is simply not signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rejected {
    /// Not of the form this module signs.
    Malformed,
    /// The tag does not match: forged, tampered with, or signed under another key.
    Signature,
    /// Genuine but past its expiry.
    Expired,
}

/// The cookie value for `user`, valid until `expires_at`.
pub(crate) fn sign(key: &[u8; 32], user: &AuthenticatedUser, expires_at: OffsetDateTime) -> String {
    let payload = format!(
        "{VERSION}.{}.{}.{}",
        URL_SAFE_NO_PAD.encode(user.subject.as_str()),
        user.auth_time.unix_timestamp(),
        expires_at.unix_timestamp(),
    );
    let tag = mac(key, &payload).finalize().into_bytes();
    format!("{payload}.{}", URL_SAFE_NO_PAD.encode(tag))
}

/// The user a cookie value names, if it was signed under `key` and has not expired at
/// `now`. The tag is checked (in constant time) before anything else is read.
pub(crate) fn verify(
    key: &[u8; 32],
    value: &str,
    now: OffsetDateTime,
) -> Result<AuthenticatedUser, Rejected> {
    if value.len() > MAX_VALUE_LEN {
        return Err(Rejected::Malformed);
    }
    let (payload, tag) = value.rsplit_once('.').ok_or(Rejected::Malformed)?;
    let tag = URL_SAFE_NO_PAD
        .decode(tag)
        .map_err(|_| Rejected::Malformed)?;
    mac(key, payload)
        .verify_slice(&tag)
        .map_err(|_| Rejected::Signature)?;

    let mut parts = payload.split('.');
    let (Some(VERSION), Some(subject), Some(auth_time), Some(expires), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(Rejected::Malformed);
    };
    let instant = |text: &str| {
        text.parse::<i64>()
            .ok()
            .and_then(|secs| OffsetDateTime::from_unix_timestamp(secs).ok())
            .ok_or(Rejected::Malformed)
    };
    let auth_time = instant(auth_time)?;
    let expires_at = instant(expires)?;
    if auth_time > expires_at {
        return Err(Rejected::Malformed);
    }
    if now >= expires_at {
        return Err(Rejected::Expired);
    }
    let subject = URL_SAFE_NO_PAD
        .decode(subject)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| Subject::new(text).ok())
        .ok_or(Rejected::Malformed)?;
    Ok(AuthenticatedUser { subject, auth_time })
}

/// Signs an arbitrary payload, so tests can present well-signed nonsense.
#[cfg(test)]
pub(super) fn sign_payload(key: &[u8; 32], payload: &str) -> String {
    let tag = mac(key, payload).finalize().into_bytes();
    format!("{payload}.{}", URL_SAFE_NO_PAD.encode(tag))
}

/// HMAC-SHA256 keyed with `key`, fed the domain and `payload`.
fn mac(key: &[u8; 32], payload: &str) -> Hmac<Sha256> {
    // HMAC pads a short key with zeros to the hash's block size (RFC 2104 §2), so padding
    // it here changes nothing and makes the constructor infallible.
    let mut block = [0u8; 64];
    for (padded, byte) in block.iter_mut().zip(key) {
        *padded = *byte;
    }
    let mut mac = Hmac::<Sha256>::new(&block.into());
    mac.update(DOMAIN);
    mac.update(payload.as_bytes());
    mac
}

/// The values of every cookie called `name` in the request's `Cookie` headers (RFC 6265
/// §5.4; HTTP/2 may split them over several headers), in order.
pub(crate) fn cookies<'a>(headers: &'a HeaderMap, name: &'a str) -> impl Iterator<Item = &'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(move |pair| {
            let (key, value) = pair.split_once('=')?;
            (key.trim() == name).then(|| value.trim().trim_matches('"'))
        })
}

/// A `Set-Cookie` value (RFC 6265 §4.1) for the whole site, never readable by scripts.
/// `max_age` of `None` makes a cookie that ends with the browser session; `secure` adds
/// `Secure`, for providers served over https.
pub(crate) fn set_cookie(
    name: &str,
    value: &str,
    max_age: Option<i64>,
    same_site: &str,
    secure: bool,
) -> String {
    let mut cookie = format!("{name}={value}; Path=/");
    if let Some(seconds) = max_age {
        cookie.push_str(&format!("; Max-Age={seconds}"));
    }
    cookie.push_str("; HttpOnly; SameSite=");
    cookie.push_str(same_site);
    if secure {
        cookie.push_str("; Secure");
    }
    cookie
}

/// 32 bytes from the operating system's random generator.
///
/// This crate reaches the generator through `portcullis_tokens::mint`, whose 43-character
/// body is exactly 32 random bytes in base64url.
pub(crate) fn random_bytes() -> Result<[u8; 32], TokenError> {
    let token = mint(TokenKind::PendingAuthorization)?;
    let unexpected =
        |reason: &str| TokenError::Entropy(format!("unexpected token shape: {reason}"));
    let body = token
        .expose_secret()
        .strip_prefix(TokenKind::PendingAuthorization.prefix())
        .ok_or_else(|| unexpected("prefix"))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(body)
        .map_err(|_| unexpected("encoding"))?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| unexpected("length"))
}
