//! A browser for the session, logout and UserInfo tests: a cookie jar, the default login
//! and consent pages driven by hand, and tokens from the token endpoint. Builds on
//! `support` (the harness), which the including test file declares first.

#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use bytes::Bytes;
use http::{Request, Response};
use portcullis_grants::{BoxError, ConsentSource};
use portcullis_registry::{ClientId, ScopeSet};
use portcullis_store::{SessionRecord, SessionStore};
use portcullis_tokens::{Subject, TokenHash};
use serde_json::Value;

use crate::support::*;

pub const SESSION: &str = "portcullis_session";
pub const CSRF: &str = "portcullis_csrf";

/// Remembers that every user granted every client everything: no consent page, so
/// single sign-on and `prompt=none` can answer at once.
pub struct AlwaysConsented;

#[async_trait]
impl ConsentSource for AlwaysConsented {
    async fn granted_scopes(
        &self,
        _subject: &Subject,
        _client: &ClientId,
    ) -> Result<ScopeSet, BoxError> {
        Ok(ScopeSet::parse(
            "openid profile email address phone offline_access view:users create:users update:users delete:users",
        )?)
    }
}

/// A browser's cookie jar, by name.
#[derive(Debug, Default, Clone)]
pub struct Browser {
    pub jar: BTreeMap<String, String>,
}

impl Browser {
    /// Adds the jar's cookies to `request`.
    pub fn send(&self, mut request: Request<Bytes>) -> Request<Bytes> {
        if !self.jar.is_empty() {
            let cookie = self
                .jar
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect::<Vec<_>>()
                .join("; ");
            request
                .headers_mut()
                .insert("cookie", cookie.parse().unwrap());
        }
        request
    }

    pub fn get(&self, uri: &str) -> Request<Bytes> {
        self.send(get(uri))
    }

    pub fn post(&self, uri: &str, pairs: &[(&str, &str)]) -> Request<Bytes> {
        self.send(form_post(uri, &encode(pairs), &[]))
    }

    /// Keeps the cookies a response sets (and drops those it expires).
    pub fn absorb(&mut self, response: &Response<Bytes>) {
        for value in response.headers().get_all("set-cookie") {
            let value = value.to_str().unwrap();
            let (pair, attributes) = value.split_once(';').unwrap_or((value, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attributes.contains("Max-Age=0") {
                self.jar.remove(name);
            } else {
                self.jar.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    /// The store key of the browser's session handle.
    pub fn session_id(&self) -> TokenHash {
        TokenHash::of(&self.jar[SESSION])
    }

    /// The browser's session record, if it is live.
    pub async fn session(&self, h: &Harness) -> Option<SessionRecord> {
        if !self.jar.contains_key(SESSION) {
            return None;
        }
        h.store
            .get_session(&self.session_id(), h.provider.now())
            .await
            .unwrap()
    }
}

pub fn body(response: &Response<Bytes>) -> String {
    String::from_utf8(response.body().to_vec()).unwrap()
}

/// The `Location` of a 303.
pub fn location(response: &Response<Bytes>) -> String {
    assert_eq!(response.status(), 303, "{}", body(response));
    header(response, "location").unwrap().to_owned()
}

/// The query parameters of a URI.
pub fn query(uri: &str) -> HashMap<String, String> {
    let query = uri.split_once('?').map_or("", |(_, q)| q);
    let query = query.split_once('#').map_or(query, |(q, _)| q);
    url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// The `value` of the form input called `name`.
pub fn field(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} field in {page}"))
        + marker.len();
    let end = page[start..].find('"').unwrap() + start;
    page[start..end].to_owned()
}

/// The `Set-Cookie` header for cookie `name`.
pub fn set_cookie<'a>(response: &'a Response<Bytes>, name: &str) -> Option<&'a str> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
}

/// An authorization request URI for `client_id` (code flow with PKCE, `state` `st`).
pub fn authorize_uri(client_id: &str, scope: &str, extra: &[(&str, &str)]) -> String {
    let mut pairs = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT),
        ("scope", scope),
        ("state", "st"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    pairs.extend_from_slice(extra);
    format!("/oauth/authorize?{}", encode(&pairs))
}

/// Authorizes in `browser`: the 303's location.
pub async fn authorize(h: &Harness, browser: &Browser, uri: &str) -> String {
    location(&h.provider.authorize_http(browser.get(uri)).await)
}

/// Signs alice in at `login` (a login page URI) through the default page; returns the
/// consent page URI it sends the browser to.
pub async fn sign_in(h: &Harness, browser: &mut Browser, login: &str) -> String {
    assert!(login.starts_with("/oauth/login?interaction="), "{login}");
    let page = h.provider.login_page(browser.get(login)).await;
    assert_eq!(page.status(), 200, "{}", body(&page));
    browser.absorb(&page);
    let csrf = field(&body(&page), "csrf");
    let id = query(login)["interaction"].clone();
    let response = h
        .provider
        .login_page(browser.post(
            login,
            &[
                ("interaction", &id),
                ("csrf", &csrf),
                ("username", "alice"),
                ("password", "correct horse"),
            ],
        ))
        .await;
    browser.absorb(&response);
    location(&response)
}

/// Allows at the consent page `consent`; returns the redirect to the client.
pub async fn allow(h: &Harness, browser: &mut Browser, consent: &str) -> String {
    assert!(
        consent.starts_with("/oauth/consent?interaction="),
        "{consent}"
    );
    let page = h.provider.consent_page(browser.get(consent)).await;
    assert_eq!(page.status(), 200, "{}", body(&page));
    browser.absorb(&page);
    let csrf = field(&body(&page), "csrf");
    let id = query(consent)["interaction"].clone();
    let response = h
        .provider
        .consent_page(browser.post(
            consent,
            &[("interaction", &id), ("csrf", &csrf), ("decision", "allow")],
        ))
        .await;
    location(&response)
}

/// A browser in which alice signed in (through the pages) and approved `client_id` once.
pub async fn signed_in_browser(h: &Harness, client_id: &str) -> Browser {
    let mut browser = Browser::default();
    let login = authorize(h, &browser, &authorize_uri(client_id, "openid", &[])).await;
    let consent = sign_in(h, &mut browser, &login).await;
    let done = allow(h, &mut browser, &consent).await;
    assert!(query(&done).contains_key("code"), "{done}");
    browser
}

/// Tokens for alice from the password grant, as `client` (a resource-owner client).
pub async fn password_tokens(h: &Harness, client: &Registered, scope: &str) -> Value {
    let response = h
        .provider
        .token(form_post(
            "/oauth/token",
            &encode(&[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", "correct horse"),
                ("scope", scope),
            ]),
            &[("authorization", &client.basic())],
        ))
        .await;
    let tokens = json(&response);
    assert_eq!(response.status(), 200, "{tokens}");
    tokens
}

/// A client-credentials access token for `client` (a machine client).
pub async fn machine_token(h: &Harness, client: &Registered) -> String {
    let response = h
        .provider
        .token(form_post(
            "/oauth/token",
            "grant_type=client_credentials",
            &[("authorization", &client.basic())],
        ))
        .await;
    let tokens = json(&response);
    assert_eq!(response.status(), 200, "{tokens}");
    tokens["access_token"].as_str().unwrap().to_owned()
}
