//! Reading parameters from requests: bodies must be forms, within the size limit.

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{Method, Request};
use portcullis_grants::{Params, ParamsError};

use crate::OAuthError;

/// Whether the request's media type is `application/x-www-form-urlencoded` (parameters such
/// as `charset` allowed, case-insensitive).
fn is_form(request: &Request<Bytes>) -> bool {
    request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| {
            media
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// The parameters of a POST form body (RFC 6749 §3.2: the token endpoint takes
/// `application/x-www-form-urlencoded` bodies), refusing other methods, other media types,
/// bodies over `limit` (413) and duplicated parameters.
pub(crate) fn form(request: &Request<Bytes>, limit: usize) -> Result<Params, OAuthError> {
    if request.method() != Method::POST {
        return Err(OAuthError::method_not_allowed("POST"));
    }
    if request.body().len() > limit {
        return Err(OAuthError::body_too_large(limit));
    }
    if !is_form(request) {
        return Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    let params = Params::parse(request.body()).map_err(params_error)?;
    reject_duplicates(&params)?;
    Ok(params)
}

/// The parameters of an authorization request: the query of a GET, or the form body of a
/// POST (OpenID Connect Core §3.1.2.1). Duplicates are kept for the caller to judge.
pub(crate) fn authorization(request: &Request<Bytes>, limit: usize) -> Result<Params, OAuthError> {
    let raw: &[u8] = match *request.method() {
        Method::GET => request.uri().query().unwrap_or("").as_bytes(),
        Method::POST => {
            if request.body().len() > limit {
                return Err(OAuthError::body_too_large(limit));
            }
            if !is_form(request) {
                return Err(OAuthError::invalid_request(
                    "the body must be application/x-www-form-urlencoded",
                ));
            }
            request.body()
        }
        _ => return Err(OAuthError::method_not_allowed("GET, POST")),
    };
    Params::parse(raw).map_err(params_error)
}

/// RFC 6749 §3.1: "Request and response parameters MUST NOT be included more than once."
pub(crate) fn reject_duplicates(params: &Params) -> Result<(), OAuthError> {
    match params.duplicates().iter().next() {
        Some(name) => Err(OAuthError::invalid_request(format!(
            "parameter {} is repeated",
            shown(name)
        ))),
        None => Ok(()),
    }
}

/// A parameter name fit to repeat in `error_description`, whose characters RFC 6749 §5.2
/// restricts to `%x20-21 / %x23-5B / %x5D-7E`; anything else is not echoed.
fn shown(name: &str) -> &str {
    let plain = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if plain { name } else { "(unprintable)" }
}

fn params_error(err: ParamsError) -> OAuthError {
    match err {
        ParamsError::TooLong { name, max } => OAuthError::invalid_request(format!(
            "parameter {} is too long (at most {max} bytes)",
            shown(&name)
        )),
        other => OAuthError::invalid_request(other.to_string()),
    }
}
