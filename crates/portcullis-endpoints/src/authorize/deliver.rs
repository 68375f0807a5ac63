//! Delivering an authorization response or error to the client's redirect URI: in the query
//! (RFC 6749 §4.1.2), in the fragment (§4.2.2), or by an auto-submitting form (OAuth 2.0
//! Form Post Response Mode §2).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::{Response, StatusCode};
use portcullis_grants::authorization_request::ResponseMode;
use sha2::{Digest as _, Sha256};

use crate::response::{escape_html, html, see_other};

/// The one inline script of the form post page; the page's CSP allows exactly this text by
/// its hash.
const SUBMIT_SCRIPT: &str = "document.forms[0].submit();";

/// Sends `params` to `redirect_uri` the way `mode` says: a 303 for `query` and `fragment`,
/// a 200 page with a self-submitting form for `form_post`.
pub(super) fn deliver(
    redirect_uri: &str,
    mode: ResponseMode,
    params: &[(&str, &str)],
) -> Response<Bytes> {
    match mode {
        ResponseMode::Query => see_other(&with_query(redirect_uri, &encode(params))),
        ResponseMode::Fragment => see_other(&with_fragment(redirect_uri, &encode(params))),
        ResponseMode::FormPost => form_post(redirect_uri, params),
    }
}

/// `application/x-www-form-urlencoded` serialization (RFC 6749 Appendix B), which
/// percent-encodes every value.
pub(super) fn encode(params: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish()
}

/// The URI without a fragment: registered redirect URIs have none (RFC 6749 §3.1.2), but a
/// response must never end up after one.
fn without_fragment(uri: &str) -> &str {
    uri.split_once('#').map_or(uri, |(base, _)| base)
}

/// Appends `encoded` to the query of `uri`, keeping any query it already has (RFC 6749
/// §3.1.2: "MAY include an application/x-www-form-urlencoded formatted query component …
/// which MUST be retained when adding additional query parameters").
pub(super) fn with_query(uri: &str, encoded: &str) -> String {
    let base = without_fragment(uri);
    match base.split_once('?') {
        None => format!("{base}?{encoded}"),
        Some((_, query)) if query.is_empty() || query.ends_with('&') => {
            format!("{base}{encoded}")
        }
        Some(_) => format!("{base}&{encoded}"),
    }
}

/// Puts `encoded` in the fragment of `uri` (RFC 6749 §4.2.2).
pub(super) fn with_fragment(uri: &str, encoded: &str) -> String {
    format!("{}#{encoded}", without_fragment(uri))
}

/// The page of the form post response mode: hidden inputs POSTed to the redirect URI by a
/// one-line script, with a button for browsers without JavaScript.
fn form_post(redirect_uri: &str, params: &[(&str, &str)]) -> Response<Bytes> {
    let mut inputs = String::new();
    for (name, value) in params {
        inputs.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
            escape_html(name),
            escape_html(value)
        ));
    }
    let body = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">\
         <title>Continuing to the application</title></head>\n<body>\n\
         <form method=\"post\" action=\"{action}\">\n{inputs}\
         <noscript><p>JavaScript is turned off. Press the button to continue.</p>\
         <button type=\"submit\">Continue</button></noscript>\n</form>\n\
         <script>{SUBMIT_SCRIPT}</script>\n</body>\n</html>\n",
        action = escape_html(redirect_uri),
    );
    html(StatusCode::OK, body, &form_post_csp(redirect_uri))
}

/// Allows the one inline script by hash and form submission only to the redirect URI's
/// origin; nothing else may load.
pub(super) fn form_post_csp(redirect_uri: &str) -> String {
    let hash = STANDARD.encode(Sha256::digest(SUBMIT_SCRIPT.as_bytes()));
    format!(
        "default-src 'none'; script-src 'sha256-{hash}'; style-src 'unsafe-inline'; \
         base-uri 'none'; frame-ancestors 'none'; form-action {}",
        form_action_source(redirect_uri)
    )
}

/// The CSP source for the redirect URI: its origin, or its scheme for a private-use URI
/// (RFC 8252 §7.1), or `'none'` if it does not parse.
pub(crate) fn form_action_source(redirect_uri: &str) -> String {
    match url::Url::parse(redirect_uri) {
        Ok(url) => match url.origin() {
            url::Origin::Tuple(..) => url.origin().ascii_serialization(),
            url::Origin::Opaque(_) => format!("{}:", url.scheme()),
        },
        Err(_) => "'none'".to_owned(),
    }
}

/// RFC 6749 §4.1.2.1: `error_description` is limited to `%x20-21 / %x23-5B / %x5D-7E`;
/// anything else becomes `'`, `/` or `?`.
pub(super) fn description_chars(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '"' => '\'',
            '\\' => '/',
            ' '..='~' => c,
            _ => '?',
        })
        .collect()
}
