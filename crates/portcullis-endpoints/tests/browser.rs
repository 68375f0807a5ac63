//! The authorization endpoint as a browser drives it: `authorize_http` with the session
//! cookie, the default login and consent pages (feature `ui`), CSRF, and the security
//! headers of every page. Plain `http::Request`s; cookies are carried by hand.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod support;

use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;
use http::{Request, Response};
use portcullis_endpoints::{AuthenticatedUser, Provider};
use portcullis_registry::ClientKind;
use portcullis_tokens::Subject;
use support::*;
use time::Duration;

const SESSION: &str = "portcullis_session";
const CSRF: &str = "portcullis_csrf";

/// A browser's cookie jar, by name.
#[derive(Debug, Default, Clone)]
struct Browser {
    jar: BTreeMap<String, String>,
}

impl Browser {
    /// Adds the jar's cookies to `request`.
    fn send(&self, mut request: Request<Bytes>) -> Request<Bytes> {
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

    fn get(&self, uri: &str) -> Request<Bytes> {
        self.send(get(uri))
    }

    fn post(&self, uri: &str, pairs: &[(&str, &str)]) -> Request<Bytes> {
        self.send(form_post(uri, &encode(pairs), &[]))
    }

    /// Keeps the cookies a response sets (and drops those it expires).
    fn absorb(&mut self, response: &Response<Bytes>) {
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
}

fn body(response: &Response<Bytes>) -> String {
    String::from_utf8(response.body().to_vec()).unwrap()
}

/// The `Location` of a 303.
fn location(response: &Response<Bytes>) -> String {
    assert_eq!(response.status(), 303, "{}", body(response));
    header(response, "location").unwrap().to_owned()
}

/// The query parameters of a URI.
fn query(uri: &str) -> HashMap<String, String> {
    let query = uri.split_once('?').map_or("", |(_, q)| q);
    url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// The `value` of the form input called `name`.
fn field(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} field in {page}"))
        + marker.len();
    let end = page[start..].find('"').unwrap() + start;
    page[start..end].to_owned()
}

/// The `Set-Cookie` header for cookie `name`.
fn set_cookie<'a>(response: &'a Response<Bytes>, name: &str) -> Option<&'a str> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
}

fn authorize_uri(client_id: &str, extra: &[(&str, &str)]) -> String {
    let mut pairs = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT),
        ("scope", "view:users update:users"),
        ("state", "af0ifjsldkj"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    pairs.extend_from_slice(extra);
    format!("/oauth/authorize?{}", encode(&pairs))
}

/// Authorize in `browser`: the 303's location, which must go to `expected_path`.
async fn start(h: &Harness, browser: &Browser, uri: &str, expected_path: &str) -> String {
    let response = h.provider.authorize_http(browser.get(uri)).await;
    assert_eq!(header(&response, "referrer-policy"), Some("no-referrer"));
    let next = location(&response);
    assert!(
        next.starts_with(&format!("{expected_path}?interaction=pc_pa_")),
        "{next}"
    );
    next
}

/// Shows the login page and returns the CSRF token in its form.
async fn open_login(h: &Harness, browser: &mut Browser, login: &str) -> String {
    let page = h.provider.login_page(browser.get(login)).await;
    assert_eq!(page.status(), 200, "{}", body(&page));
    browser.absorb(&page);
    field(&body(&page), "csrf")
}

/// Signs alice in at `login` (a login page URI); returns the consent page URI.
async fn sign_in(h: &Harness, browser: &mut Browser, login: &str) -> String {
    let csrf = open_login(h, browser, login).await;
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

/// Shows the consent page and returns the CSRF token in its form.
async fn open_consent(h: &Harness, browser: &mut Browser, consent: &str) -> String {
    let page = h.provider.consent_page(browser.get(consent)).await;
    assert_eq!(page.status(), 200, "{}", body(&page));
    browser.absorb(&page);
    field(&body(&page), "csrf")
}

/// Presses a consent button; returns the response.
async fn decide(h: &Harness, browser: &Browser, consent: &str, decision: &str) -> Response<Bytes> {
    let csrf = browser.jar[CSRF].clone();
    let id = query(consent)["interaction"].clone();
    h.provider
        .consent_page(browser.post(
            consent,
            &[
                ("interaction", &id),
                ("csrf", &csrf),
                ("decision", decision),
            ],
        ))
        .await
}

/// A browser that has signed alice in (through the pages) and consented once.
async fn signed_in_browser(h: &Harness, client_id: &str) -> Browser {
    let mut browser = Browser::default();
    let login = start(h, &browser, &authorize_uri(client_id, &[]), "/oauth/login").await;
    let consent = sign_in(h, &mut browser, &login).await;
    open_consent(h, &mut browser, &consent).await;
    let done = decide(h, &browser, &consent, "allow").await;
    assert!(location(&done).starts_with(REDIRECT));
    browser
}

/// DESIGN §4.1 login and consent pages, end to end: authorize → login (wrong password,
/// then right) → consent → code at the client → tokens at the token endpoint.
#[tokio::test]
async fn browser_flow_login_consent_code_redeems() {
    let h = Harness::new().await;
    let web = h.web().await;
    let mut browser = Browser::default();

    let login = start(&h, &browser, &authorize_uri(web.id(), &[]), "/oauth/login").await;
    let id = query(&login)["interaction"].clone();

    // The login page: a labelled form with the CSRF token of the cookie it sets.
    let page = h.provider.login_page(browser.get(&login)).await;
    assert_eq!(page.status(), 200);
    let csrf_cookie = set_cookie(&page, CSRF).expect("the login page sets the CSRF cookie");
    assert!(csrf_cookie.contains("; HttpOnly"), "{csrf_cookie}");
    assert!(csrf_cookie.contains("; SameSite=Strict"), "{csrf_cookie}");
    assert!(csrf_cookie.contains("; Path=/"), "{csrf_cookie}");
    assert!(
        csrf_cookie.contains("; Secure"),
        "https issuer: {csrf_cookie}"
    );
    browser.absorb(&page);
    let html = body(&page);
    let csrf = field(&html, "csrf");
    assert_eq!(csrf, browser.jar[CSRF]);
    assert_eq!(csrf.len(), 43, "256 bits in base64url");
    assert_eq!(field(&html, "interaction"), id);
    assert!(html.contains("<form method=\"post\">"), "{html}");
    assert!(html.contains("<label for=\"username\">"), "{html}");
    assert!(html.contains("name=\"username\""), "{html}");
    assert!(html.contains("<label for=\"password\">"), "{html}");
    assert!(html.contains("type=\"password\" id=\"password\" name=\"password\""));
    assert!(html.contains(&web.client.name), "client name shown: {html}");
    assert!(html.contains("view:users") && html.contains("update:users"));
    assert!(!html.contains("<script"), "no JavaScript");

    // Wrong password, and an unknown user: the same 401 form, the same message.
    let mut refusals = Vec::new();
    for (username, password) in [("alice", "wrong"), ("nobody", "correct horse")] {
        let response = h
            .provider
            .login_page(browser.post(
                &login,
                &[
                    ("interaction", &id),
                    ("csrf", &csrf),
                    ("username", username),
                    ("password", password),
                ],
            ))
            .await;
        assert_eq!(response.status(), 401, "{username}");
        assert!(set_cookie(&response, SESSION).is_none());
        let html = body(&response);
        assert!(html.contains("The username or password is incorrect."));
        assert!(html.contains("name=\"password\""), "the form again");
        assert_eq!(field(&html, "csrf"), csrf);
        refusals.push(html.replace(username, "USER"));
    }
    assert_eq!(
        refusals[0], refusals[1],
        "never says whether the user exists"
    );

    // The right password: a session cookie and a 303 to the consent page.
    let response = h
        .provider
        .login_page(browser.post(
            &login,
            &[
                ("interaction", &id),
                ("csrf", &csrf),
                ("username", "alice"),
                ("password", "correct horse"),
            ],
        ))
        .await;
    let consent = location(&response);
    assert_eq!(consent, format!("/oauth/consent?interaction={id}"));
    let session = set_cookie(&response, SESSION).expect("a session cookie");
    for attribute in [
        "; HttpOnly",
        "; Secure",
        "; SameSite=Lax",
        "; Path=/",
        "; Max-Age=43200",
    ] {
        assert!(session.contains(attribute), "{attribute} in {session}");
    }
    browser.absorb(&response);

    // The consent page: scopes with their descriptions, two buttons.
    let page = h.provider.consent_page(browser.get(&consent)).await;
    assert_eq!(page.status(), 200, "{}", body(&page));
    let html = body(&page);
    assert!(set_cookie(&page, CSRF).is_none(), "the CSRF cookie is kept");
    assert_eq!(field(&html, "csrf"), csrf);
    assert_eq!(field(&html, "interaction"), id);
    assert!(html.contains(&web.client.name));
    assert!(
        html.contains("view:users scope"),
        "description shown: {html}"
    );
    assert!(
        html.contains("update:users scope"),
        "description shown: {html}"
    );
    assert!(html.contains("name=\"decision\" value=\"allow\""));
    assert!(html.contains("name=\"decision\" value=\"deny\""));
    assert!(html.contains("user-alice"), "who is signed in");

    // Allow: a 303 to the client with code, state and iss (RFC 9207).
    let response = decide(&h, &browser, &consent, "allow").await;
    let redirect = location(&response);
    assert!(redirect.starts_with(&format!("{REDIRECT}?")), "{redirect}");
    let params = query(&redirect);
    assert_eq!(params["state"], "af0ifjsldkj");
    assert_eq!(params["iss"], ISSUER);
    let code = &params["code"];

    let response = h
        .provider
        .token(form_post(
            "/oauth/token",
            &encode(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ]),
            &[("authorization", &web.basic())],
        ))
        .await;
    let tokens = json(&response);
    assert_eq!(response.status(), 200, "{tokens}");
    assert_eq!(tokens["scope"], "update:users view:users");
    assert!(
        tokens["access_token"]
            .as_str()
            .unwrap()
            .starts_with("pc_at_")
    );

    // The interaction is spent: the consent page no longer knows it.
    let again = h.provider.consent_page(browser.get(&consent)).await;
    assert_eq!(again.status(), 400);
}

/// OpenID Connect Core §3.1.2.3: a signed-in user is not asked to sign in again.
#[tokio::test]
async fn session_cookie_skips_login() {
    let h = Harness::new().await;
    let web = h.web().await;
    let mut browser = signed_in_browser(&h, web.id()).await;

    // No remembered consent (the default), so straight to the consent page.
    let consent = start(
        &h,
        &browser,
        &authorize_uri(web.id(), &[]),
        "/oauth/consent",
    )
    .await;
    open_consent(&h, &mut browser, &consent).await;
    let response = decide(&h, &browser, &consent, "allow").await;
    assert!(query(&location(&response)).contains_key("code"));
}

/// OpenID Connect Core §3.1.2.1: `prompt=login` asks for a sign-in despite the session,
/// and the old session cannot be used to skip it.
#[tokio::test]
async fn oidc_3_1_2_1_prompt_login_forces_login_despite_session() {
    let h = Harness::new().await;
    let web = h.web().await;
    let mut browser = signed_in_browser(&h, web.id()).await;
    h.clock.advance(Duration::minutes(5));

    let login = start(
        &h,
        &browser,
        &authorize_uri(web.id(), &[("prompt", "login")]),
        "/oauth/login",
    )
    .await;
    let id = query(&login)["interaction"].clone();

    // Going straight to the consent page with the old session leads back to the login page.
    let consent = format!("/oauth/consent?interaction={id}");
    let response = h.provider.consent_page(browser.get(&consent)).await;
    assert_eq!(location(&response), login);
    let csrf = browser.jar[CSRF].clone();
    let response = h
        .provider
        .consent_page(browser.post(
            &consent,
            &[("interaction", &id), ("csrf", &csrf), ("decision", "allow")],
        ))
        .await;
    assert_eq!(location(&response), login);
    assert!(h.provider.interaction(&id).await.unwrap().is_some());

    // Signing in again works, and the new auth_time counts.
    assert_eq!(sign_in(&h, &mut browser, &login).await, consent);
    open_consent(&h, &mut browser, &consent).await;
    let response = decide(&h, &browser, &consent, "allow").await;
    assert!(query(&location(&response)).contains_key("code"));
}

/// `max_age` older than the session's sign-in also sends the user to the login page.
#[tokio::test]
async fn oidc_3_1_2_1_max_age_exceeded_forces_login() {
    let h = Harness::new().await;
    let web = h.web().await;
    let browser = signed_in_browser(&h, web.id()).await;
    h.clock.advance(Duration::minutes(10));
    start(
        &h,
        &browser,
        &authorize_uri(web.id(), &[("max_age", "60")]),
        "/oauth/login",
    )
    .await;
    start(
        &h,
        &browser,
        &authorize_uri(web.id(), &[("max_age", "3600")]),
        "/oauth/consent",
    )
    .await;
}

/// CSRF on the login form: missing, mismatched or foreign tokens get 403 and the
/// authenticator is not even asked (no session, the interaction still waits).
#[tokio::test]
async fn login_csrf_missing_mismatched_or_foreign_is_403() {
    let h = Harness::new().await;
    let web = h.web().await;
    let mut browser = Browser::default();
    let login = start(&h, &browser, &authorize_uri(web.id(), &[]), "/oauth/login").await;
    let id = query(&login)["interaction"].clone();
    let csrf = open_login(&h, &mut browser, &login).await;

    // Another browser (the attacker's) gets its own, valid token.
    let mut attacker = Browser::default();
    let foreign = open_login(&h, &mut attacker, &login).await;
    assert_ne!(foreign, csrf);

    let mut no_cookie = browser.clone();
    no_cookie.jar.remove(CSRF);
    let mut flipped = csrf.clone();
    flipped.replace_range(0..1, if csrf.starts_with('A') { "B" } else { "A" });
    let cases: [(&str, &Browser, Option<&str>); 6] = [
        ("no form token", &browser, None),
        ("no cookie", &no_cookie, Some(&csrf)),
        ("mismatched", &browser, Some(&flipped)),
        ("foreign token", &browser, Some(&foreign)),
        ("malformed, equal to the cookie", &browser, Some("x")),
        ("empty", &browser, Some("")),
    ];
    for (case, sender, token) in cases {
        let mut pairs = vec![
            ("interaction", id.as_str()),
            ("username", "alice"),
            ("password", "correct horse"),
        ];
        if let Some(token) = token {
            pairs.push(("csrf", token));
        }
        let mut sender = sender.clone();
        if case.starts_with("malformed") {
            sender.jar.insert(CSRF.into(), "x".into());
        }
        let response = h.provider.login_page(sender.post(&login, &pairs)).await;
        assert_eq!(response.status(), 403, "{case}");
        assert!(set_cookie(&response, SESSION).is_none(), "{case}");
        assert!(header(&response, "location").is_none(), "{case}");
    }
    assert!(h.provider.interaction(&id).await.unwrap().is_some());
}

/// CSRF on the consent form: a forged POST completes nothing.
#[tokio::test]
async fn consent_csrf_missing_mismatched_or_foreign_is_403_and_completes_nothing() {
    let h = Harness::new().await;
    let web = h.web().await;
    let mut browser = signed_in_browser(&h, web.id()).await;
    let consent = start(
        &h,
        &browser,
        &authorize_uri(web.id(), &[]),
        "/oauth/consent",
    )
    .await;
    let id = query(&consent)["interaction"].clone();
    let csrf = open_consent(&h, &mut browser, &consent).await;

    let mut attacker = Browser::default();
    let login = format!("/oauth/login?interaction={id}");
    let foreign = open_login(&h, &mut attacker, &login).await;

    // A cross-site form: the browser sends the session cookie (SameSite=Lax does not stop a
    // top-level POST in every browser) but the attacker cannot read the CSRF cookie.
    let mut without_csrf_cookie = browser.clone();
    without_csrf_cookie.jar.remove(CSRF);
    let cases: [(&str, &Browser, Option<&str>); 4] = [
        ("no form token", &browser, None),
        ("no cookie", &without_csrf_cookie, Some(&csrf)),
        ("foreign token", &browser, Some(&foreign)),
        ("garbage", &browser, Some("<script>")),
    ];
    for decision in ["allow", "deny"] {
        for (case, sender, token) in cases {
            let mut pairs = vec![("interaction", id.as_str()), ("decision", decision)];
            if let Some(token) = token {
                pairs.push(("csrf", token));
            }
            let response = h.provider.consent_page(sender.post(&consent, &pairs)).await;
            assert_eq!(response.status(), 403, "{decision}: {case}");
            assert!(header(&response, "location").is_none(), "{case}");
        }
    }
    assert!(
        h.provider.interaction(&id).await.unwrap().is_some(),
        "nothing was completed"
    );

    // The real form still works.
    let response = decide(&h, &browser, &consent, "allow").await;
    assert!(query(&location(&response)).contains_key("code"));
}

/// A forged, tampered, unknown, expired or malformed session cookie is no session.
#[tokio::test]
async fn forged_tampered_expired_or_malformed_session_is_no_session() {
    let h = Harness::new().await;
    let web = h.web().await;
    let browser = signed_in_browser(&h, web.id()).await;
    let genuine = browser.jar[SESSION].clone();
    assert!(genuine.starts_with("pc_se_"), "a random handle: {genuine}");
    assert!(
        !genuine.contains("alice"),
        "nothing about the user in the cookie"
    );

    // A genuine session of another provider (another store) is unknown here.
    let other = Harness::new().await;
    let user = AuthenticatedUser {
        subject: Subject::new("user-alice").unwrap(),
        auth_time: h.provider.now(),
    };
    let foreign = cookie_value(&other.provider.start_session(&user, &["pwd"]).await.unwrap());

    // Alice's handle with one character changed.
    let mut tampered = genuine.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });

    let cases = [
        ("foreign", foreign),
        ("tampered", tampered),
        ("another kind of token", format!("pc_at_{}", &genuine[6..])),
        ("malformed", "garbage".to_owned()),
        ("empty", String::new()),
    ];
    for (case, value) in cases {
        let mut browser = browser.clone();
        browser.jar.insert(SESSION.into(), value);
        assert!(
            h.provider
                .session_user(browser.get("/").headers())
                .await
                .unwrap()
                .is_none(),
            "{case}"
        );
        start(&h, &browser, &authorize_uri(web.id(), &[]), "/oauth/login").await;
        let consent = start(
            &h,
            &Browser::default(),
            &authorize_uri(web.id(), &[]),
            "/oauth/login",
        )
        .await
        .replace("/oauth/login", "/oauth/consent");
        let response = h.provider.consent_page(browser.get(&consent)).await;
        assert!(
            location(&response).starts_with("/oauth/login?interaction="),
            "{case}"
        );
    }

    // The genuine cookie works until the session expires, 12 hours after sign-in.
    assert!(
        h.provider
            .session_user(browser.get("/").headers())
            .await
            .unwrap()
            .is_some()
    );
    h.clock.advance(Duration::hours(12));
    assert!(
        h.provider
            .session_user(browser.get("/").headers())
            .await
            .unwrap()
            .is_none()
    );
    start(&h, &browser, &authorize_uri(web.id(), &[]), "/oauth/login").await;
}

/// Providers sharing a store (instances behind a load balancer) share sessions, and a
/// session ended on one is ended on all.
#[tokio::test]
async fn instances_sharing_a_store_share_sessions() {
    let a = Harness::new().await;
    let b = Provider::builder(ISSUER, a.store.clone())
        .clock(a.clock.clone())
        .build()
        .unwrap();
    let user = AuthenticatedUser {
        subject: Subject::new("user-alice").unwrap(),
        auth_time: a.provider.now(),
    };
    let mut browser = Browser::default();
    browser.jar.insert(
        SESSION.into(),
        cookie_value(&a.provider.start_session(&user, &["pwd"]).await.unwrap()),
    );
    let seen = b
        .session_user(browser.get("/").headers())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen, user);

    // Signing out on one instance ends the session on the other.
    let ended = b
        .sign_out(browser.get("/").headers())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ended.subject, user.subject);
    assert_eq!(ended.amr, ["pwd"]);
    assert!(
        a.provider
            .session_user(browser.get("/").headers())
            .await
            .unwrap()
            .is_none()
    );
    let removal = a.provider.session_cookie_removal();
    assert!(removal.starts_with("portcullis_session=; Path=/; Max-Age=0"));
}

/// The user denies: `access_denied` at the client (RFC 6749 §4.1.2.1) with state and iss.
#[tokio::test]
async fn rfc6749_4_1_2_1_deny_redirects_access_denied() {
    let h = Harness::new().await;
    let web = h.web().await;
    let mut browser = Browser::default();
    let login = start(&h, &browser, &authorize_uri(web.id(), &[]), "/oauth/login").await;
    let consent = sign_in(&h, &mut browser, &login).await;
    open_consent(&h, &mut browser, &consent).await;
    let response = decide(&h, &browser, &consent, "deny").await;
    let redirect = location(&response);
    assert!(redirect.starts_with(&format!("{REDIRECT}?")), "{redirect}");
    let params = query(&redirect);
    assert_eq!(params["error"], "access_denied");
    assert_eq!(params["state"], "af0ifjsldkj");
    assert_eq!(params["iss"], ISSUER);
    assert!(!params.contains_key("code"));

    // Neither allow nor deny: a 400 page, and the interaction still waits.
    let mut browser = Browser::default();
    let login = start(&h, &browser, &authorize_uri(web.id(), &[]), "/oauth/login").await;
    let consent = sign_in(&h, &mut browser, &login).await;
    open_consent(&h, &mut browser, &consent).await;
    let response = decide(&h, &browser, &consent, "maybe").await;
    assert_eq!(response.status(), 400);
    let id = &query(&consent)["interaction"];
    assert!(h.provider.interaction(id).await.unwrap().is_some());
}

fn assert_page_headers(response: &Response<Bytes>, what: &str) {
    assert_eq!(
        header(response, "content-type"),
        Some("text/html; charset=utf-8"),
        "{what}"
    );
    assert_eq!(header(response, "x-frame-options"), Some("DENY"), "{what}");
    let csp = header(response, "content-security-policy").unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(
        !csp.contains("script-src"),
        "{what}: no scripts allowed: {csp}"
    );
    assert_eq!(
        header(response, "referrer-policy"),
        Some("no-referrer"),
        "{what}"
    );
    assert_eq!(
        header(response, "cache-control"),
        Some("no-store"),
        "{what}"
    );
    assert!(!body(response).contains("<script"), "{what}: no JavaScript");
}

/// RFC 6749 §10.13 (clickjacking) and no caching or referrers on every page; a client name
/// with markup is shown as text.
#[tokio::test]
async fn rfc6749_10_13_pages_carry_security_headers_and_escape_client_names() {
    let h = Harness::new().await;
    let evil = h
        .register(ClientKind::Web, |c| {
            c.name("<script>alert('x')</script> & Co")
                .redirect_uri(REDIRECT)
                .all_scopes()
        })
        .await;
    let mut browser = Browser::default();
    let login = start(&h, &browser, &authorize_uri(evil.id(), &[]), "/oauth/login").await;
    let id = query(&login)["interaction"].clone();
    let escaped = "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; Co";

    let page = h.provider.login_page(browser.get(&login)).await;
    assert_page_headers(&page, "login");
    assert!(body(&page).contains(escaped), "{}", body(&page));
    browser.absorb(&page);
    let csrf = browser.jar[CSRF].clone();

    let wrong = h
        .provider
        .login_page(browser.post(
            &login,
            &[
                ("interaction", &id),
                ("csrf", &csrf),
                ("username", "\"><script>alert(1)</script>"),
                ("password", "nope"),
            ],
        ))
        .await;
    assert_eq!(wrong.status(), 401);
    assert_page_headers(&wrong, "login refused");
    assert!(
        body(&wrong).contains("&quot;&gt;&lt;script&gt;"),
        "username echoed escaped"
    );

    let consent = sign_in(&h, &mut browser, &login).await;
    let page = h.provider.consent_page(browser.get(&consent)).await;
    assert_page_headers(&page, "consent");
    assert!(body(&page).contains(escaped));

    let forbidden = h
        .provider
        .consent_page(browser.post(&consent, &[("interaction", &id), ("decision", "allow")]))
        .await;
    assert_eq!(forbidden.status(), 403);
    assert_page_headers(&forbidden, "csrf failure");

    let unknown = h
        .provider
        .login_page(browser.get("/oauth/login?interaction=pc_pa_nope"))
        .await;
    assert_page_headers(&unknown, "unknown interaction");
}

/// An unknown, expired or missing interaction gets a 400 page, never a form.
#[tokio::test]
async fn unknown_or_expired_interaction_is_a_400_page() {
    let h = Harness::new().await;
    let web = h.web().await;
    let mut browser = signed_in_browser(&h, web.id()).await;
    let csrf = browser.jar[CSRF].clone();

    let unknown = [
        "/oauth/login",
        "/oauth/login?interaction=",
        "/oauth/login?interaction=pc_pa_unknown",
        "/oauth/login?interaction=not-a-handle",
        "/oauth/login?interaction=a&interaction=b",
    ];
    for uri in unknown {
        let response = h.provider.login_page(browser.get(uri)).await;
        assert_eq!(response.status(), 400, "{uri}");
        assert!(!body(&response).contains("<form"), "{uri}");
        let consent = uri.replace("login", "consent");
        let response = h.provider.consent_page(browser.get(&consent)).await;
        assert_eq!(response.status(), 400, "{consent}");
    }
    let response = h
        .provider
        .login_page(browser.post(
            "/oauth/login",
            &[
                ("interaction", "pc_pa_unknown"),
                ("csrf", &csrf),
                ("username", "alice"),
                ("password", "correct horse"),
            ],
        ))
        .await;
    assert_eq!(response.status(), 400);

    // Expired: the interaction lives 10 minutes.
    let consent = start(
        &h,
        &browser,
        &authorize_uri(web.id(), &[]),
        "/oauth/consent",
    )
    .await;
    open_consent(&h, &mut browser, &consent).await;
    h.clock.advance(Duration::minutes(11));
    let response = h.provider.consent_page(browser.get(&consent)).await;
    assert_eq!(response.status(), 400);
    let response = decide(&h, &browser, &consent, "allow").await;
    assert_eq!(response.status(), 400);
}

/// The consent page needs a session; without one it sends the user to sign in.
#[tokio::test]
async fn consent_without_session_goes_to_login() {
    let h = Harness::new().await;
    let web = h.web().await;
    let mut browser = Browser::default();
    let login = start(&h, &browser, &authorize_uri(web.id(), &[]), "/oauth/login").await;
    let csrf = open_login(&h, &mut browser, &login).await;
    let id = query(&login)["interaction"].clone();
    let consent = format!("/oauth/consent?interaction={id}");

    let response = h.provider.consent_page(browser.get(&consent)).await;
    assert_eq!(location(&response), login);
    let response = h
        .provider
        .consent_page(browser.post(
            &consent,
            &[("interaction", &id), ("csrf", &csrf), ("decision", "allow")],
        ))
        .await;
    assert_eq!(location(&response), login);
    assert!(h.provider.interaction(&id).await.unwrap().is_some());
}

/// Methods, media types and sizes the pages do not take.
#[tokio::test]
async fn pages_refuse_other_methods_media_types_and_large_bodies() {
    let h = Harness::new().await;
    let web = h.web().await;
    let mut browser = Browser::default();
    let login = start(&h, &browser, &authorize_uri(web.id(), &[]), "/oauth/login").await;
    let csrf = open_login(&h, &mut browser, &login).await;

    for method in ["PUT", "DELETE", "PATCH"] {
        let request = || {
            Request::builder()
                .method(method)
                .uri(&login)
                .body(Bytes::new())
                .unwrap()
        };
        for response in [
            h.provider.login_page(request()).await,
            h.provider.consent_page(request()).await,
        ] {
            assert_eq!(response.status(), 405, "{method}");
            assert_eq!(header(&response, "allow"), Some("GET, POST"));
            assert_page_headers(&response, method);
        }
    }

    let json = browser.send(
        Request::post(&login)
            .header("content-type", "application/json")
            .body(Bytes::from_static(b"{}"))
            .unwrap(),
    );
    assert_eq!(h.provider.login_page(json).await.status(), 400);

    let padding = "x".repeat(h.provider.max_body_bytes());
    let response = h
        .provider
        .login_page(browser.post(
            &login,
            &[
                ("csrf", &csrf),
                ("username", "alice"),
                ("password", &padding),
            ],
        ))
        .await;
    assert_eq!(response.status(), 413);
    assert_page_headers(&response, "too large");

    // Missing credentials: the form again, nobody asked.
    let id = query(&login)["interaction"].clone();
    let response = h
        .provider
        .login_page(browser.post(&login, &[("interaction", &id), ("csrf", &csrf)]))
        .await;
    assert_eq!(response.status(), 400);
    assert!(body(&response).contains("name=\"password\""));
}

/// Without an `Authenticator` the login page says so with a 500.
#[tokio::test]
async fn login_without_authenticator_is_a_500_page() {
    use portcullis_store::ScopeStore as _;
    let store = std::sync::Arc::new(portcullis_store::MemoryStore::new());
    for name in APP_SCOPES {
        let name = portcullis_registry::Scope::new(name).unwrap();
        store
            .insert_scope(portcullis_registry::ScopeDefinition::new(name, "a scope"))
            .await
            .unwrap();
    }
    let provider = Provider::builder(ISSUER, store.clone()).build().unwrap();
    let h = Harness {
        provider,
        store,
        clock: std::sync::Arc::new(portcullis_grants::ManualClock::starting_now()),
    };
    let web = h.web().await;
    let mut browser = Browser::default();
    let login = start(&h, &browser, &authorize_uri(web.id(), &[]), "/oauth/login").await;
    let page = h.provider.login_page(browser.get(&login)).await;
    assert_eq!(page.status(), 500);
    assert!(body(&page).contains("no authenticator"), "{}", body(&page));

    // Even a well-formed POST (with a CSRF pair) goes no further.
    browser.jar.insert(CSRF.into(), "A".repeat(43));
    let id = query(&login)["interaction"].clone();
    let csrf = "A".repeat(43);
    let response = h
        .provider
        .login_page(browser.post(
            &login,
            &[
                ("interaction", &id),
                ("csrf", &csrf),
                ("username", "alice"),
                ("password", "correct horse"),
            ],
        ))
        .await;
    assert_eq!(response.status(), 500);
    assert!(body(&response).contains("no authenticator"));
}

/// `authorize_http` passes answers through (here, an error page for an unknown client) and
/// honours `Paths`.
#[tokio::test]
async fn authorize_http_answers_and_custom_paths() {
    let h = Harness::with(|b| {
        let mut paths = portcullis_endpoints::Paths::default();
        paths.login = "/account/sign-in".into();
        paths.consent = "/account/consent".into();
        b.paths(paths)
    })
    .await;
    let web = h.web().await;
    let browser = Browser::default();
    start(
        &h,
        &browser,
        &authorize_uri(web.id(), &[]),
        "/account/sign-in",
    )
    .await;

    let response = h
        .provider
        .authorize_http(get(&authorize_uri("no-such-client", &[])))
        .await;
    assert_eq!(
        response.status(),
        400,
        "never redirect for an unknown client"
    );
    assert!(header(&response, "location").is_none());
    assert_eq!(header(&response, "referrer-policy"), Some("no-referrer"));

    // prompt=none without a session: login_required at the client, not a login page.
    let response = h
        .provider
        .authorize_http(get(&authorize_uri(web.id(), &[("prompt", "none")])))
        .await;
    assert_eq!(query(&location(&response))["error"], "login_required");
}

/// The value of a `Set-Cookie` header.
fn cookie_value(set_cookie: &str) -> String {
    let pair = set_cookie.split(';').next().unwrap();
    pair.split_once('=').unwrap().1.to_owned()
}
