//! Browser sessions as store records (DESIGN §2): single sign-on across clients,
//! `prompt=none`, `prompt=login` and `max_age` (OpenID Connect Core §3.1.2.1), expiry on the
//! manual clock, and cookies that name no live record.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod session_support;
mod support;

use std::sync::Arc;

use portcullis_endpoints::{AuthenticatedUser, ConfigError, Provider};
use portcullis_registry::ClientKind;
use portcullis_store::{MemoryStore, SessionStore};
use portcullis_tokens::{Subject, TokenHash, TokenKind, mint};
use session_support::*;
use support::*;
use time::Duration;

/// Signing in through the login page stores a session record — subject, `auth_time`,
/// `amr`, the clients that got a grant, 12 hours to live — and gives the browser only a
/// random handle, in a cookie with the documented attributes.
#[tokio::test]
async fn design_2_sign_in_stores_a_session_record() {
    let h = Harness::new().await;
    let web = h.web().await;
    let signed_in_at = h.provider.now();
    let mut browser = Browser::default();
    let login = authorize(&h, &browser, &authorize_uri(web.id(), "openid", &[])).await;

    // The login POST's cookie.
    let page = h.provider.login_page(browser.get(&login)).await;
    browser.absorb(&page);
    let csrf = field(&body(&page), "csrf");
    let id = query(&login)["interaction"].clone();
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
    let cookie = set_cookie(&response, SESSION).unwrap().to_owned();
    assert!(cookie.starts_with("portcullis_session=pc_se_"), "{cookie}");
    for attribute in [
        "; Path=/",
        "; Max-Age=43200",
        "; HttpOnly",
        "; SameSite=Lax",
        "; Secure",
    ] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    browser.absorb(&response);
    let handle = &browser.jar[SESSION];
    assert_eq!(handle.len(), "pc_se_".len() + 43, "256 random bits");

    let record = browser.session(&h).await.expect("a live session record");
    assert_eq!(
        record.id,
        TokenHash::of(handle),
        "keyed by the handle's hash"
    );
    assert_eq!(record.subject.as_str(), "user-alice");
    assert_eq!(record.auth_time, signed_in_at);
    assert_eq!(record.amr, ["pwd"]);
    assert_eq!(record.created_at, signed_in_at);
    assert_eq!(record.expires_at, signed_in_at + Duration::hours(12));
    assert!(record.clients.is_empty(), "no grant yet");

    // Consenting hands the client a code: the client is recorded in the session.
    let consent = location(&response);
    let done = allow(&h, &mut browser, &consent).await;
    assert!(query(&done).contains_key("code"));
    let record = browser.session(&h).await.unwrap();
    assert_eq!(
        record
            .clients
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>(),
        [web.id()]
    );
}

/// The `Secure` attribute is left out only for an `http` issuer on loopback.
#[tokio::test]
async fn design_3_cookie_secure_unless_http_loopback() {
    for (issuer, secure) in [
        ("https://id.example", true),
        ("http://127.0.0.1:8080", false),
        ("http://localhost:8080", false),
    ] {
        let provider = Provider::builder(issuer, Arc::new(MemoryStore::new()))
            .build()
            .unwrap();
        let user = AuthenticatedUser {
            subject: Subject::new("user-alice").unwrap(),
            auth_time: provider.now(),
        };
        let cookie = provider.start_session(&user, &["pwd"]).await.unwrap();
        assert_eq!(cookie.contains("; Secure"), secure, "{issuer}: {cookie}");
        assert_eq!(
            provider.session_cookie_removal().contains("; Secure"),
            secure,
            "{issuer}"
        );
        assert!(cookie.contains("; HttpOnly; SameSite=Lax"), "{cookie}");
    }
}

/// OpenID Connect Core §3.1.2.3: once signed in, a second client's request does not ask
/// for a sign-in; with remembered consent it is answered at once, and both clients are in
/// the session.
#[tokio::test]
async fn oidc_3_1_2_3_single_sign_on_across_two_clients() {
    // Without remembered consent: straight to the consent page, never to the login page.
    let h = Harness::new().await;
    let first = h.web().await;
    let second = h.spa().await;
    let mut browser = signed_in_browser(&h, first.id()).await;
    let next = authorize(&h, &browser, &authorize_uri(second.id(), "openid", &[])).await;
    assert!(next.starts_with("/oauth/consent?interaction="), "{next}");
    let done = allow(&h, &mut browser, &next).await;
    assert!(query(&done).contains_key("code"), "{done}");
    let clients = browser.session(&h).await.unwrap().clients;
    assert_eq!(clients.len(), 2, "{clients:?}");

    // With remembered consent: the code at once, and the client recorded by authorize_http.
    let h = Harness::with(|b| b.consent(AlwaysConsented)).await;
    let first = h.web().await;
    let second = h.spa().await;
    let browser = signed_in_browser(&h, first.id()).await;
    let done = authorize(&h, &browser, &authorize_uri(second.id(), "openid", &[])).await;
    assert!(done.starts_with(REDIRECT), "{done}");
    let params = query(&done);
    assert_eq!(params["state"], "st");
    assert_eq!(params["iss"], ISSUER);
    assert!(params["code"].starts_with("pc_ac_"));
    let record = browser.session(&h).await.unwrap();
    let mut clients: Vec<&str> = record.clients.iter().map(|c| c.as_str()).collect();
    clients.sort_unstable();
    let mut expected = [first.id(), second.id()];
    expected.sort_unstable();
    assert_eq!(clients, expected);

    // The code redeems for tokens like any other.
    let response = h
        .provider
        .token(form_post(
            "/oauth/token",
            &encode(&[
                ("grant_type", "authorization_code"),
                ("code", &params["code"]),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
                ("client_id", second.id()),
            ]),
            &[],
        ))
        .await;
    assert_eq!(response.status(), 200, "{}", json(&response));

    // An error answered to a client (here a scope the catalog lacks) records nothing.
    let third = h.spa().await;
    let refused = h
        .provider
        .authorize_http(browser.get(&authorize_uri(third.id(), "openid no-such-scope", &[])))
        .await;
    assert_eq!(query(&location(&refused))["error"], "invalid_scope");
    assert!(
        !browser
            .session(&h)
            .await
            .unwrap()
            .clients
            .contains(&third.client.id)
    );
}

/// OpenID Connect Core §3.1.2.1 / §3.1.2.6: `prompt=none` without a session is
/// `login_required` at the client; with a session it answers at once, or
/// `consent_required` when consent is not remembered.
#[tokio::test]
async fn oidc_3_1_2_6_prompt_none() {
    let h = Harness::with(|b| b.consent(AlwaysConsented)).await;
    let web = h.web().await;
    let none = [("prompt", "none")];

    let anonymous = Browser::default();
    let answer = authorize(&h, &anonymous, &authorize_uri(web.id(), "openid", &none)).await;
    let params = query(&answer);
    assert!(answer.starts_with(REDIRECT), "{answer}");
    assert_eq!(params["error"], "login_required");
    assert_eq!(params["state"], "st");
    assert_eq!(params["iss"], ISSUER);

    let browser = signed_in_browser(&h, web.id()).await;
    let answer = authorize(&h, &browser, &authorize_uri(web.id(), "openid", &none)).await;
    assert!(query(&answer).contains_key("code"), "{answer}");

    // An ended session is no session.
    let ended = h
        .provider
        .sign_out(browser.get("/").headers())
        .await
        .unwrap();
    assert!(ended.is_some());
    let answer = authorize(&h, &browser, &authorize_uri(web.id(), "openid", &none)).await;
    assert_eq!(query(&answer)["error"], "login_required");

    // Without remembered consent: consent_required, not a page.
    let h = Harness::new().await;
    let web = h.web().await;
    let browser = signed_in_browser(&h, web.id()).await;
    let answer = authorize(&h, &browser, &authorize_uri(web.id(), "openid", &none)).await;
    assert_eq!(query(&answer)["error"], "consent_required");
}

/// OpenID Connect Core §3.1.2.1: `prompt=login` asks for a sign-in despite the session;
/// signing in again replaces the session record (a new handle, the old one deleted) and
/// keeps its clients.
#[tokio::test]
async fn oidc_3_1_2_1_prompt_login_replaces_the_session() {
    let h = Harness::with(|b| b.consent(AlwaysConsented)).await;
    let web = h.web().await;
    let mut browser = signed_in_browser(&h, web.id()).await;
    let old = browser.session(&h).await.unwrap();
    h.clock.advance(Duration::minutes(5));

    let login = authorize(
        &h,
        &browser,
        &authorize_uri(web.id(), "openid", &[("prompt", "login")]),
    )
    .await;
    assert!(login.starts_with("/oauth/login?interaction="), "{login}");
    let consent = sign_in(&h, &mut browser, &login).await;

    let new = browser.session(&h).await.unwrap();
    assert_ne!(new.id, old.id, "a new handle");
    assert_eq!(new.auth_time, old.auth_time + Duration::minutes(5));
    assert_eq!(new.clients, old.clients, "the clients carry over");
    assert!(
        h.store
            .get_session(&old.id, h.provider.now())
            .await
            .unwrap()
            .is_none(),
        "the old record is gone"
    );
    let done = allow(&h, &mut browser, &consent).await;
    assert!(query(&done).contains_key("code"));
}

/// OpenID Connect Core §3.1.2.1: `max_age` older than the session's `auth_time` forces a
/// sign-in; `max_age=0` always does.
#[tokio::test]
async fn oidc_3_1_2_1_max_age() {
    let h = Harness::with(|b| b.consent(AlwaysConsented)).await;
    let web = h.web().await;
    let browser = signed_in_browser(&h, web.id()).await;
    h.clock.advance(Duration::minutes(10));
    let cases = [
        ("60", false),
        ("599", false),
        ("600", true),
        ("3600", true),
        ("0", false),
    ];
    for (max_age, fresh_enough) in cases {
        let answer = authorize(
            &h,
            &browser,
            &authorize_uri(web.id(), "openid", &[("max_age", max_age)]),
        )
        .await;
        if fresh_enough {
            assert!(
                query(&answer).contains_key("code"),
                "max_age={max_age}: {answer}"
            );
        } else {
            assert!(
                answer.starts_with("/oauth/login?interaction="),
                "max_age={max_age}: {answer}"
            );
        }
    }
}

/// The session ends when its record expires, on the provider's clock; the lifetime is a
/// builder option and sets the cookie's `Max-Age` too.
#[tokio::test]
async fn design_2_session_expires_with_its_record() {
    let h = Harness::with(|b| b.consent(AlwaysConsented)).await;
    let web = h.web().await;
    let browser = signed_in_browser(&h, web.id()).await;
    h.clock.advance(Duration::hours(12) - Duration::seconds(1));
    let answer = authorize(&h, &browser, &authorize_uri(web.id(), "openid", &[])).await;
    assert!(query(&answer).contains_key("code"), "still live: {answer}");
    h.clock.advance(Duration::seconds(1));
    assert!(browser.session(&h).await.is_none());
    let answer = authorize(&h, &browser, &authorize_uri(web.id(), "openid", &[])).await;
    assert!(answer.starts_with("/oauth/login?"), "expired: {answer}");

    let h = Harness::with(|b| {
        b.consent(AlwaysConsented)
            .session_lifetime(Duration::hours(1))
    })
    .await;
    assert_eq!(h.provider.session_lifetime(), Duration::hours(1));
    let web = h.web().await;
    let mut browser = Browser::default();
    let login = authorize(&h, &browser, &authorize_uri(web.id(), "openid", &[])).await;
    let page = h.provider.login_page(browser.get(&login)).await;
    browser.absorb(&page);
    let csrf = field(&body(&page), "csrf");
    let id = query(&login)["interaction"].clone();
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
    assert!(
        set_cookie(&response, SESSION)
            .unwrap()
            .contains("; Max-Age=3600")
    );
    browser.absorb(&response);
    h.clock.advance(Duration::hours(1));
    assert!(browser.session(&h).await.is_none());
}

/// The session lifetime is checked at build time.
#[test]
fn session_lifetime_is_checked() {
    let builder = || Provider::builder(ISSUER, Arc::new(MemoryStore::new()));
    for (lifetime, ok) in [
        (Duration::seconds(59), false),
        (Duration::minutes(1), true),
        (Duration::days(30), true),
        (Duration::days(31), false),
        (Duration::seconds(-1), false),
    ] {
        let built = builder().session_lifetime(lifetime).build();
        assert_eq!(built.is_ok(), ok, "{lifetime}");
        if !ok {
            assert!(matches!(
                built,
                Err(ConfigError::Lifetime {
                    setting: "session_lifetime",
                    ..
                })
            ));
        }
    }
}

/// A cookie naming no live record is no session: a well-formed handle never issued, one
/// from another store, a handle of another kind, garbage.
#[tokio::test]
async fn forged_session_cookie_is_no_session() {
    let h = Harness::with(|b| b.consent(AlwaysConsented)).await;
    let web = h.web().await;
    let other = Harness::new().await;
    let user = AuthenticatedUser {
        subject: Subject::new("user-alice").unwrap(),
        auth_time: h.provider.now(),
    };
    let from_elsewhere = other.provider.start_session(&user, &["pwd"]).await.unwrap();
    let from_elsewhere = from_elsewhere
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned();
    let forged = [
        mint(TokenKind::Session).unwrap().expose_secret().to_owned(),
        from_elsewhere,
        mint(TokenKind::AccessToken)
            .unwrap()
            .expose_secret()
            .to_owned(),
        "pc_se_".to_owned(),
        "user-alice".to_owned(),
    ];
    for value in forged {
        let mut browser = Browser::default();
        browser.jar.insert(SESSION.into(), value.clone());
        assert!(
            h.provider
                .session(browser.get("/").headers())
                .await
                .unwrap()
                .is_none(),
            "{value}"
        );
        let answer = authorize(
            &h,
            &browser,
            &authorize_uri(web.id(), "openid", &[("prompt", "none")]),
        )
        .await;
        assert_eq!(query(&answer)["error"], "login_required", "{value}");
    }
}

/// Applications with their own login page: `start_session` then `authorize_http`, and
/// `add_session_client` after completing an interaction themselves.
#[tokio::test]
async fn own_login_page_starts_sessions() {
    let h = Harness::with(|b| b.consent(AlwaysConsented)).await;
    let web = h.web().await;
    let user = AuthenticatedUser {
        subject: Subject::new("user-bob").unwrap(),
        auth_time: h.provider.now() - Duration::minutes(1),
    };
    let cookie = h
        .provider
        .start_session(&user, &["pwd", "otp"])
        .await
        .unwrap();
    let mut browser = Browser::default();
    let mut response = http::Response::new(bytes::Bytes::new());
    response
        .headers_mut()
        .insert("set-cookie", cookie.parse().unwrap());
    browser.absorb(&response);

    let record = browser.session(&h).await.unwrap();
    assert_eq!(record.subject, user.subject);
    assert_eq!(record.auth_time, user.auth_time);
    assert_eq!(record.amr, ["pwd", "otp"]);

    let answer = authorize(&h, &browser, &authorize_uri(web.id(), "openid", &[])).await;
    assert!(query(&answer).contains_key("code"), "{answer}");

    let machine = h
        .register(ClientKind::Spa, |c| c.redirect_uri(REDIRECT))
        .await;
    assert!(
        h.provider
            .add_session_client(browser.get("/").headers(), &machine.client.id)
            .await
            .unwrap()
    );
    assert!(
        browser
            .session(&h)
            .await
            .unwrap()
            .clients
            .contains(&machine.client.id)
    );
    assert!(
        !h.provider
            .add_session_client(Browser::default().get("/").headers(), &machine.client.id)
            .await
            .unwrap(),
        "no session, nothing recorded"
    );
}
