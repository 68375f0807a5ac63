//! Reading the bearer token from a request: the `Authorization` header only (RFC 6750 §2.1;
//! form-body and query tokens, §2.2–2.3, are not accepted).

use http::HeaderMap;
use http::header::AUTHORIZATION;

use crate::BearerError;

/// The token of `Authorization: Bearer <token>`.
///
/// The scheme is case-insensitive (RFC 7235 §2.1); the token must match `b64token`
/// (RFC 6750 §2.1). No header, or another scheme, is [`BearerError::Missing`]; a repeated
/// header or a malformed token is [`BearerError::InvalidRequest`].
///
/// ```
/// use portcullis_resource::{bearer_token, BearerError};
/// let mut headers = http::HeaderMap::new();
/// assert_eq!(bearer_token(&headers), Err(BearerError::Missing));
/// headers.insert("authorization", "bearer pc_at_abc".parse().expect("header"));
/// assert_eq!(bearer_token(&headers), Ok("pc_at_abc"));
/// ```
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, BearerError> {
    match authorization_token(headers)? {
        (TokenScheme::Bearer, token) => Ok(token),
        (TokenScheme::Dpop, _) => Err(BearerError::Missing),
    }
}

/// The authentication scheme an access token was presented with.
///
/// ```
/// use portcullis_resource::TokenScheme;
/// assert_ne!(TokenScheme::Bearer, TokenScheme::Dpop);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenScheme {
    /// `Authorization: Bearer` (RFC 6750 §2.1).
    Bearer,
    /// `Authorization: DPoP`, with a `DPoP` proof header (RFC 9449 §7.1).
    Dpop,
}

/// The token of `Authorization: Bearer <token>` or `Authorization: DPoP <token>`, and its
/// scheme. The same rules as [`bearer_token`] otherwise.
///
/// ```
/// use portcullis_resource::{authorization_token, BearerError, TokenScheme};
/// let mut headers = http::HeaderMap::new();
/// headers.insert("authorization", "DPoP pc_at_abc".parse().expect("header"));
/// assert_eq!(authorization_token(&headers), Ok((TokenScheme::Dpop, "pc_at_abc")));
/// headers.insert("authorization", "Basic abc".parse().expect("header"));
/// assert_eq!(authorization_token(&headers), Err(BearerError::Missing));
/// ```
///
/// # Errors
///
/// [`BearerError::Missing`] without a token in a known scheme; [`BearerError::InvalidRequest`]
/// for a repeated header or a malformed token.
pub fn authorization_token(headers: &HeaderMap) -> Result<(TokenScheme, &str), BearerError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Err(BearerError::Missing);
    };
    if values.next().is_some() {
        return Err(BearerError::InvalidRequest(
            "the Authorization header is repeated".into(),
        ));
    }
    let value = value
        .to_str()
        .map_err(|_| BearerError::InvalidRequest("the Authorization header is not text".into()))?;
    let Some((scheme, token)) = value.split_once(' ') else {
        return if value.eq_ignore_ascii_case("bearer") || value.eq_ignore_ascii_case("dpop") {
            Err(BearerError::InvalidRequest(
                "the bearer token is empty".into(),
            ))
        } else {
            Err(BearerError::Missing)
        };
    };
    let scheme = if scheme.eq_ignore_ascii_case("bearer") {
        TokenScheme::Bearer
    } else if scheme.eq_ignore_ascii_case("dpop") {
        TokenScheme::Dpop
    } else {
        return Err(BearerError::Missing);
    };
    let token = token.trim_start_matches(' ');
    if !is_b64token(token) {
        return Err(BearerError::InvalidRequest(
            "the bearer token is malformed".into(),
        ));
    }
    Ok((scheme, token))
}

/// `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        })
}

#[cfg(test)]
mod tests;
