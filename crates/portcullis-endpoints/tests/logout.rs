//! The end-session endpoint (OpenID Connect RP-Initiated Logout 1.0 §2–3): where the
//! browser goes afterwards, which hints are believed, and that the session record is gone.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod session_support;
mod support;

use bytes::Bytes;
use http::{Request, Response};
use portcullis_registry::ClientKind;
use portcullis_tokens::{KeySet, SigningAlgorithm, SigningKey};
use serde_json::{Value, json};
use session_support::*;
use support::*;
use time::Duration;

const LOGOUT: &str = "/oauth/logout";
const LOGGED_OUT: &str = "https://app.example/logged-out";

/// A harness with a web client that registered [`LOGGED_OUT`], and alice signed in to it.
async fn signed_in() -> (Harness, Registered, Browser) {
    let h = Harness::new().await;
    let web = h
        .register(ClientKind::Web, |c| {
            c.redirect_uri(REDIRECT)
                .post_logout_redirect_uri(LOGGED_OUT)
                .all_scopes()
        })
        .await;
    let browser = signed_in_browser(&h, web.id()).await;
    assert!(browser.session(&h).await.is_some());
    (h, web, browser)
}

/// ID token claims for alice at `client_id`, issued now and valid for an hour.
fn id_token_claims(h: &Harness, client_id: &str) -> Value {
    let now = h.provider.now().unix_timestamp();
    json!({
        "iss": ISSUER,
        "sub": "user-alice",
        "aud": client_id,
        "iat": now,
        "exp": now + 3600,
        "auth_time": now,
    })
}

/// `claims` signed by the provider's active key, as an ID token.
fn sign(h: &Harness, claims: &Value) -> String {
    h.provider
        .signing_keys()
        .active()
        .sign(None, claims)
        .unwrap()
}

fn logout(pairs: &[(&str, &str)]) -> String {
    format!("{LOGOUT}?{}", encode(pairs))
}

fn assert_cookie_cleared(response: &Response<Bytes>) {
    let cookie = set_cookie(response, SESSION).expect("the session cookie is cleared");
    assert!(
        cookie.starts_with("portcullis_session=; Path=/; Max-Age=0"),
        "{cookie}"
    );
}

fn assert_page(response: &Response<Bytes>, status: u16) {
    assert_eq!(response.status(), status, "{}", body(response));
    assert!(header(response, "location").is_none());
    assert_eq!(
        header(response, "content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(header(response, "x-frame-options"), Some("DENY"));
    assert_eq!(header(response, "cache-control"), Some("no-store"));
    assert_eq!(header(response, "referrer-policy"), Some("no-referrer"));
    let csp = header(response, "content-security-policy").unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
}

/// §3: a registered `post_logout_redirect_uri` is followed, with `state`; the session
/// record is deleted and the cookie cleared.
#[tokio::test]
async fn rp_logout_3_registered_redirect_with_state() {
    let (h, web, browser) = signed_in().await;
    let hint = sign(&h, &id_token_claims(&h, web.id()));
    let response = h
        .provider
        .end_session(browser.get(&logout(&[
            ("id_token_hint", &hint),
            ("post_logout_redirect_uri", LOGGED_OUT),
            ("state", "a b&c"),
        ])))
        .await;
    assert_eq!(location(&response), format!("{LOGGED_OUT}?state=a+b%26c"));
    assert_eq!(header(&response, "cache-control"), Some("no-store"));
    assert_cookie_cleared(&response);
    assert!(browser.session(&h).await.is_none(), "the record is deleted");

    // The browser, cookie or not, is signed out: prompt=none says so.
    let answer = authorize(
        &h,
        &browser,
        &authorize_uri(web.id(), "openid", &[("prompt", "none")]),
    )
    .await;
    assert_eq!(query(&answer)["error"], "login_required");
}

/// The ID token the token endpoint issued is a good hint, as a relying party sends it.
#[tokio::test]
async fn rp_logout_2_issued_id_token_as_hint() {
    let h = Harness::new().await;
    let web = h
        .register(ClientKind::Web, |c| {
            c.redirect_uri(REDIRECT)
                .post_logout_redirect_uri(LOGGED_OUT)
                .all_scopes()
        })
        .await;
    let mut browser = Browser::default();
    let login = authorize(&h, &browser, &authorize_uri(web.id(), "openid", &[])).await;
    let consent = sign_in(&h, &mut browser, &login).await;
    let done = allow(&h, &mut browser, &consent).await;
    let response = h
        .provider
        .token(form_post(
            "/oauth/token",
            &encode(&[
                ("grant_type", "authorization_code"),
                ("code", &query(&done)["code"]),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ]),
            &[("authorization", &web.basic())],
        ))
        .await;
    let tokens = json(&response);
    assert_eq!(response.status(), 200, "{tokens}");
    let Some(id_token) = tokens.get("id_token").and_then(Value::as_str) else {
        // ID tokens from the token endpoint are another change; nothing to try yet.
        return;
    };
    let response = h
        .provider
        .end_session(browser.get(&logout(&[
            ("id_token_hint", id_token),
            ("post_logout_redirect_uri", LOGGED_OUT),
            ("state", "s1"),
        ])))
        .await;
    assert_eq!(location(&response), format!("{LOGGED_OUT}?state=s1"));
    assert!(browser.session(&h).await.is_none());
}

/// §2: `client_id` alone names the client; POST with a form works like GET; no `state`,
/// no `state` parameter.
#[tokio::test]
async fn rp_logout_2_client_id_and_post() {
    let (h, web, browser) = signed_in().await;
    let response = h
        .provider
        .end_session(browser.post(
            LOGOUT,
            &[
                ("client_id", web.id()),
                ("post_logout_redirect_uri", LOGGED_OUT),
            ],
        ))
        .await;
    assert_eq!(location(&response), LOGGED_OUT);
    assert_cookie_cleared(&response);
    assert!(browser.session(&h).await.is_none());
}

/// §3: an unregistered URI, or any URI without a known client, is never followed: a
/// signed-out page instead, and the session still ends.
#[tokio::test]
async fn rp_logout_3_unregistered_redirect_shows_a_page() {
    let (h, web, _) = signed_in().await;
    let _other = h
        .register(ClientKind::Web, |c| {
            c.redirect_uri(REDIRECT)
                .post_logout_redirect_uri("https://other.example/bye")
        })
        .await;
    let revoked = h
        .register(ClientKind::Web, |c| {
            c.redirect_uri(REDIRECT)
                .post_logout_redirect_uri(LOGGED_OUT)
                .revoked(true)
        })
        .await;
    let hint = sign(&h, &id_token_claims(&h, web.id()));
    let cases: [(&str, Vec<(&str, &str)>); 6] = [
        (
            "unregistered for the hint's client",
            vec![
                ("id_token_hint", &hint),
                ("post_logout_redirect_uri", "https://evil.example/"),
            ],
        ),
        (
            "registered by another client",
            vec![
                ("id_token_hint", &hint),
                ("post_logout_redirect_uri", "https://other.example/bye"),
            ],
        ),
        (
            "no client known",
            vec![("post_logout_redirect_uri", LOGGED_OUT)],
        ),
        (
            "unknown client_id",
            vec![
                ("client_id", "no-such-client"),
                ("post_logout_redirect_uri", LOGGED_OUT),
            ],
        ),
        (
            "revoked client",
            vec![
                ("client_id", revoked.id()),
                ("post_logout_redirect_uri", LOGGED_OUT),
            ],
        ),
        (
            "a prefix of the registered URI",
            vec![
                ("client_id", web.id()),
                ("post_logout_redirect_uri", "https://app.example/logged"),
            ],
        ),
    ];
    for (case, pairs) in cases {
        let browser = signed_in_browser(&h, web.id()).await;
        let response = h.provider.end_session(browser.get(&logout(&pairs))).await;
        assert_page(&response, 200);
        assert!(body(&response).contains("signed out"), "{case}");
        assert_cookie_cleared(&response);
        assert!(browser.session(&h).await.is_none(), "{case}");
    }
}

/// §2: a hint the provider did not sign for this issuer — tampered, signed by another key,
/// another issuer, an access token, or a `client_id` it was not issued to — gets a 400
/// page, and the session lives on.
#[tokio::test]
async fn rp_logout_2_bad_hint_is_400_and_keeps_the_session() {
    let (h, web, browser) = signed_in().await;
    let good = sign(&h, &id_token_claims(&h, web.id()));

    let mut tampered_claims = id_token_claims(&h, web.id());
    tampered_claims["sub"] = json!("user-mallory");
    let (header_b64, rest) = good.split_once('.').unwrap();
    let (_, signature) = rest.split_once('.').unwrap();
    let tampered = format!(
        "{header_b64}.{}.{signature}",
        base64_url(&tampered_claims.to_string())
    );

    let foreign_keys = KeySet::new(SigningKey::generate(SigningAlgorithm::ES256).unwrap());
    let foreign = foreign_keys
        .active()
        .sign(None, &id_token_claims(&h, web.id()))
        .unwrap();

    let mut other_issuer = id_token_claims(&h, web.id());
    other_issuer["iss"] = json!("https://other.example");
    let other_issuer = sign(&h, &other_issuer);

    let access_token = h
        .provider
        .signing_keys()
        .active()
        .sign(Some("at+jwt"), &id_token_claims(&h, web.id()))
        .unwrap();

    let mut unsigned = good.rsplit_once('.').unwrap().0.to_owned();
    unsigned.push('.');

    let cases: [(&str, Vec<(&str, &str)>); 7] = [
        ("tampered", vec![("id_token_hint", &tampered)]),
        ("another key", vec![("id_token_hint", &foreign)]),
        ("another issuer", vec![("id_token_hint", &other_issuer)]),
        ("an access token", vec![("id_token_hint", &access_token)]),
        ("no signature", vec![("id_token_hint", &unsigned)]),
        ("garbage", vec![("id_token_hint", "not-a-jwt")]),
        (
            "client_id not the hint's audience",
            vec![
                ("id_token_hint", &good),
                ("client_id", "another-client"),
                ("post_logout_redirect_uri", LOGGED_OUT),
            ],
        ),
    ];
    for (case, pairs) in cases {
        let response = h.provider.end_session(browser.get(&logout(&pairs))).await;
        assert_page(&response, 400);
        assert!(set_cookie(&response, SESSION).is_none(), "{case}");
        assert!(
            browser.session(&h).await.is_some(),
            "{case}: still signed in"
        );
    }

    // The good hint does end it.
    let response = h
        .provider
        .end_session(browser.get(&logout(&[("id_token_hint", &good)])))
        .await;
    assert_page(&response, 200);
    assert!(browser.session(&h).await.is_none());
}

/// §2: an expired ID token is still a good hint ("even when the exp time has passed"); one
/// with several audiences names its client by `azp`.
#[tokio::test]
async fn rp_logout_2_expired_hint_accepted() {
    let (h, web, browser) = signed_in().await;
    let mut claims = id_token_claims(&h, web.id());
    let long_ago = (h.provider.now() - Duration::days(2)).unix_timestamp();
    claims["iat"] = json!(long_ago);
    claims["exp"] = json!(long_ago + 3600);
    let expired = sign(&h, &claims);
    let response = h
        .provider
        .end_session(browser.get(&logout(&[
            ("id_token_hint", &expired),
            ("post_logout_redirect_uri", LOGGED_OUT),
            ("state", "xyz"),
        ])))
        .await;
    assert_eq!(location(&response), format!("{LOGGED_OUT}?state=xyz"));
    assert!(browser.session(&h).await.is_none());

    let browser = signed_in_browser(&h, web.id()).await;
    let mut claims = id_token_claims(&h, web.id());
    claims["aud"] = json!([web.id(), "https://api.example"]);
    claims["azp"] = json!(web.id());
    let response = h
        .provider
        .end_session(browser.get(&logout(&[
            ("id_token_hint", &sign(&h, &claims)),
            ("post_logout_redirect_uri", LOGGED_OUT),
        ])))
        .await;
    assert_eq!(location(&response), LOGGED_OUT);
}

/// A hint signed by a key retired by rotation (still published) is accepted.
#[tokio::test]
async fn rp_logout_2_hint_signed_before_rotation() {
    let (h, web, browser) = signed_in().await;
    let hint = sign(&h, &id_token_claims(&h, web.id()));
    h.provider
        .rotate_signing_key(SigningAlgorithm::EdDSA)
        .await
        .unwrap();
    let response = h
        .provider
        .end_session(browser.get(&logout(&[
            ("id_token_hint", &hint),
            ("post_logout_redirect_uri", LOGGED_OUT),
        ])))
        .await;
    assert_eq!(location(&response), LOGGED_OUT);
}

/// Logging out without a session: the page (or the redirect), and a cleared cookie.
#[tokio::test]
async fn rp_logout_without_a_session() {
    let (h, web, _) = signed_in().await;
    let nobody = Browser::default();
    let response = h.provider.end_session(nobody.get(LOGOUT)).await;
    assert_page(&response, 200);
    assert_cookie_cleared(&response);

    let response = h
        .provider
        .end_session(nobody.get(&logout(&[
            ("client_id", web.id()),
            ("post_logout_redirect_uri", LOGGED_OUT),
        ])))
        .await;
    assert_eq!(location(&response), LOGGED_OUT);

    // A cookie naming no record: the same.
    let mut stale = Browser::default();
    stale.jar.insert(
        SESSION.into(),
        "pc_se_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into(),
    );
    let response = h.provider.end_session(stale.get(LOGOUT)).await;
    assert_page(&response, 200);
    assert_cookie_cleared(&response);
}

/// Only this browser's session ends: another browser of the same user stays signed in.
#[tokio::test]
async fn rp_logout_ends_only_this_browsers_session() {
    let (h, web, browser) = signed_in().await;
    let other = signed_in_browser(&h, web.id()).await;
    let response = h.provider.end_session(browser.get(LOGOUT)).await;
    assert_page(&response, 200);
    assert!(browser.session(&h).await.is_none());
    assert!(other.session(&h).await.is_some());
}

/// Requests the endpoint cannot read: repeated parameters, other methods.
#[tokio::test]
async fn rp_logout_malformed_requests() {
    let (h, web, browser) = signed_in().await;
    let repeated = format!(
        "{LOGOUT}?client_id={0}&client_id={0}&post_logout_redirect_uri={1}",
        web.id(),
        encode(&[("x", LOGGED_OUT)]).trim_start_matches("x=")
    );
    let response = h.provider.end_session(browser.get(&repeated)).await;
    assert_page(&response, 400);
    assert!(browser.session(&h).await.is_some());

    let put = browser.send(Request::put(LOGOUT).body(Bytes::new()).unwrap());
    let response = h.provider.end_session(put).await;
    assert_page(&response, 405);
    assert_eq!(header(&response, "allow"), Some("GET, POST"));
    assert!(browser.session(&h).await.is_some());
}

fn base64_url(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}
