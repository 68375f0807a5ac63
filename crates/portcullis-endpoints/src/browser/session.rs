//! The provider's browser session on the wire: the cookie that carries a random session
//! handle (`pc_se_…`, 256 bits), the `Set-Cookie` values, and the little parsing the
//! browser endpoints need. The session itself is a [`SessionRecord`](portcullis_store::SessionRecord)
//! in the store, keyed by the handle's SHA-256; nothing about the user is in the cookie.

use bytes::Bytes;
use http::header::{COOKIE, LOCATION};
use http::{HeaderMap, Response, StatusCode};
use portcullis_tokens::{RawToken, TokenHash, TokenKind};

/// At most this many session cookies of one request are looked up: a browser sends one,
/// and a request stuffed with more does not get to make the store work for each.
const MAX_SESSION_COOKIES: usize = 4;

/// The lookup keys of the well-formed session handles among the cookies called `name`, in
/// order. Values that are not `pc_se_` handles are skipped without a store lookup.
pub(crate) fn handles<'a>(
    headers: &'a HeaderMap,
    name: &'a str,
) -> impl Iterator<Item = TokenHash> + 'a {
    cookies(headers, name)
        .filter_map(|value| RawToken::parse(value, TokenKind::Session).ok())
        .map(|handle| handle.lookup_key())
        .take(MAX_SESSION_COOKIES)
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

/// Parameters whose presence in an authorization response means the client was handed a
/// grant (RFC 6749 §4.1.2, §4.2.2; OpenID Connect Core §3.2.2.5, §3.3.2.5).
const GRANT_PARAMETERS: [&str; 3] = ["code", "access_token", "id_token"];

/// Whether an answer of the authorization endpoint hands the client a grant: a 303 whose
/// `Location` carries a code or token and no `error` (in the query or the fragment), or a
/// form post page (OAuth 2.0 Form Post Response Mode §2) with such inputs and no `error`
/// input. Error redirects, error pages and anything else are not.
pub(crate) fn delivers_grant(response: &Response<Bytes>) -> bool {
    match response.status() {
        StatusCode::SEE_OTHER => {
            let Some(location) = response
                .headers()
                .get(LOCATION)
                .and_then(|value| value.to_str().ok())
            else {
                return false;
            };
            let Ok(url) = url::Url::parse(location) else {
                return false;
            };
            let query = url.query().unwrap_or_default();
            let fragment = url.fragment().unwrap_or_default();
            let names: Vec<String> = url::form_urlencoded::parse(query.as_bytes())
                .chain(url::form_urlencoded::parse(fragment.as_bytes()))
                .map(|(name, _)| name.into_owned())
                .collect();
            !names.iter().any(|name| name == "error")
                && names
                    .iter()
                    .any(|name| GRANT_PARAMETERS.contains(&name.as_str()))
        }
        StatusCode::OK => {
            let Ok(body) = std::str::from_utf8(response.body()) else {
                return false;
            };
            let input = |name: &str| body.contains(&format!("name=\"{name}\""));
            !input("error") && GRANT_PARAMETERS.iter().any(|name| input(name))
        }
        _ => false,
    }
}
