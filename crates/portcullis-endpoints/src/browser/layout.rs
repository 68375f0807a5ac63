//! The look of the provider's own pages (login, consent, signed out, errors): one plain
//! HTML layout, served with the page security headers of [`crate::response::html`].

use bytes::Bytes;
use http::{Response, StatusCode};
use portcullis_store::StoreError;

use crate::AuthorizeErrorCode;
use crate::response::{PAGE_CSP, escape_html, html};

/// Plain styling; the page CSP allows inline styles and nothing else.
const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:30rem;margin:3rem auto;\
padding:0 1rem;line-height:1.5;color:#1a1a1a;background:#fff}\
label{display:block;margin-top:1rem;font-weight:600}\
input[type=text],input[type=password]{display:block;width:100%;box-sizing:border-box;\
padding:.5rem;margin-top:.25rem;font:inherit}\
button{margin:1.25rem .5rem 0 0;padding:.5rem 1.25rem;font:inherit}\
.error{color:#a40000;font-weight:600}.muted{color:#555}";

/// A whole HTML document titled `title` around `main` (already escaped markup).
pub(crate) fn layout(title: &str, main: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n\
         {main}</main>\n</body>\n</html>\n",
        title = escape_html(title),
    )
}

/// A page with a heading and one paragraph, both plain text.
pub(crate) fn message_page(status: StatusCode, title: &str, text: &str) -> Response<Bytes> {
    let main = format!(
        "<h1>{}</h1>\n<p>{}</p>\n",
        escape_html(title),
        escape_html(text)
    );
    html(status, layout(title, &main), PAGE_CSP)
}

/// The page for a store failure: 503 when a retry may help, else 500. The cause goes to the
/// log only.
pub(crate) fn store_failure(err: &StoreError) -> Response<Bytes> {
    tracing::error!("a browser page failed: storage: {err}");
    if AuthorizeErrorCode::for_store(err) == AuthorizeErrorCode::TemporarilyUnavailable {
        message_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Temporarily unavailable",
            "The service is busy. Try again in a moment.",
        )
    } else {
        message_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "The request could not be processed. Try again later.",
        )
    }
}
