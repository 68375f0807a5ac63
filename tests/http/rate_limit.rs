//! Rate limits and failed-login lockout through a real server (RFC 6585 §4 429 with
//! `Retry-After`), with the provider's manual clock: no sleeps.

use portcullis_endpoints::{LoginLockout, Rate, RateLimits};
use time::Duration;

use super::Adapter;
use super::fixture::*;

/// A client-credentials request by the billing job, with its secret or a wrong one.
async fn client_credentials(fx: &Fixture, secret: &str) -> reqwest::Response {
    fx.post_form(
        "/oauth/token",
        &[("grant_type", "client_credentials")],
        Some((&fx.machine.id, secret)),
    )
    .await
}

/// The token endpoint's 429: `temporarily_unavailable` JSON, `Retry-After`, `no-store`.
async fn assert_token_429(response: reqwest::Response, seconds: &str) {
    assert_eq!(header(&response, "retry-after").as_deref(), Some(seconds));
    assert_eq!(
        header(&response, "cache-control").as_deref(),
        Some("no-store")
    );
    let body = body_json(response, 429).await;
    assert_eq!(body["error"], "temporarily_unavailable");
}

/// The per-client limit keys on the authenticated client, so it works whether or not the
/// adapter knows the client's address: 2 a minute → the third gets 429 `Retry-After: 30`,
/// and after 30 s one more is admitted.
pub async fn rate_limit_token_per_client<A: Adapter>() {
    let fx = Fixture::start_with::<A>(|b| {
        b.rate_limits(RateLimits::default().token_per_client(Rate::per_minute(2)))
    })
    .await;
    let secret = fx.machine.secret().to_owned();
    for _ in 0..2 {
        body_json(client_credentials(&fx, &secret).await, 200).await;
    }
    assert_token_429(client_credentials(&fx, &secret).await, "30").await;
    fx.clock.advance(Duration::seconds(30));
    body_json(client_credentials(&fx, &secret).await, 200).await;
    assert_token_429(client_credentials(&fx, &secret).await, "30").await;
}

/// The per-IP limit needs the adapter to hand the peer address to the endpoints
/// (`ClientIp`): from 127.0.0.1, 2 a minute, failed client authentications included.
pub async fn rate_limit_token_per_ip<A: Adapter>() {
    let fx = Fixture::start_with::<A>(|b| {
        b.rate_limits(RateLimits::default().token_per_ip(Rate::per_minute(2)))
    })
    .await;
    let secret = fx.machine.secret().to_owned();
    body_json(client_credentials(&fx, &secret).await, 200).await;
    body_json(client_credentials(&fx, "wrong secret").await, 401).await;
    assert_token_429(client_credentials(&fx, &secret).await, "30").await;
}

/// Login lockout on the default login page: after 2 failures the form answers 429 with
/// `Retry-After` (an HTML page, no redirect), even to the right password; once the lock
/// ends the right password signs in.
pub async fn rate_limit_login_lockout<A: Adapter>() {
    let fx = Fixture::start_with::<A>(|b| {
        b.rate_limits(RateLimits::default().login_lockout(LoginLockout::after(2)))
    })
    .await;
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", fx.web.id.as_str()),
            ("redirect_uri", REDIRECT),
            ("scope", "view:users"),
            ("state", "xyz"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    let redirect = fx
        .browser
        .get(fx.url(&format!("/oauth/authorize?{query}")))
        .send()
        .await
        .expect("the server answers");
    let login = fx.url(&header(&redirect, "location").expect("to the login page"));
    let html = fx
        .browser
        .get(&login)
        .send()
        .await
        .expect("the server answers")
        .text()
        .await
        .expect("a page");
    let interaction = input_value(&html, "interaction").expect("interaction");
    let csrf = input_value(&html, "csrf").expect("csrf");
    // (advance, password, status, retry-after)
    let table = [
        (0, "wrong", 401, None),
        (0, "wrong", 401, None),
        (0, "wrong", 429, Some("1")),
        (0, PASSWORD, 429, Some("1")),
        (1, PASSWORD, 303, None),
    ];
    for (i, (advance, password, status, retry)) in table.into_iter().enumerate() {
        fx.clock.advance(Duration::seconds(advance));
        let response = fx
            .browser
            .post(&login)
            .form(&[
                ("interaction", interaction.as_str()),
                ("csrf", csrf.as_str()),
                ("username", USER),
                ("password", password),
            ])
            .send()
            .await
            .expect("the server answers");
        assert_eq!(response.status().as_u16(), status, "{} step {i}", A::NAME);
        assert_eq!(
            header(&response, "retry-after").as_deref(),
            retry,
            "step {i}"
        );
        if status == 429 {
            assert!(header(&response, "location").is_none());
            let page = response.text().await.expect("a page");
            assert!(page.contains("Too many sign-in attempts"), "{page}");
        }
    }
}
