//! Rate limits and failed-login lockout (`ProviderBuilder::rate_limits`), driven by the
//! harness's manual clock: no sleeps, no timing. Each case is a table of requests and the
//! status and `Retry-After` (RFC 6585 §4, RFC 9110 §10.2.3) each must get.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod support;

use std::collections::BTreeMap;
use std::net::IpAddr;

use bytes::Bytes;
use http::{Request, Response};
use portcullis_endpoints::{ClientIp, LoginLockout, Rate, RateLimits};
use support::*;
use time::Duration;

const IP_A: &str = "192.0.2.10";
const IP_B: &str = "198.51.100.20";

fn with_ip(mut request: Request<Bytes>, ip: Option<&str>) -> Request<Bytes> {
    if let Some(ip) = ip {
        let ip: IpAddr = ip.parse().unwrap();
        request.extensions_mut().insert(ClientIp(ip));
    }
    request
}

fn client_credentials(client: &Registered, ip: Option<&str>) -> Request<Bytes> {
    with_ip(
        form_post(
            "/oauth/token",
            "grant_type=client_credentials",
            &[("authorization", &client.basic())],
        ),
        ip,
    )
}

fn retry_after(response: &Response<Bytes>) -> Option<&str> {
    header(response, "retry-after")
}

/// The 429 of the token endpoint: RFC 6749 §5.2 JSON, `temporarily_unavailable`, not
/// cacheable, with `Retry-After`.
fn assert_token_429(response: &Response<Bytes>, seconds: &str) {
    assert_eq!(response.status(), 429);
    assert_eq!(retry_after(response), Some(seconds));
    assert_eq!(header(response, "cache-control"), Some("no-store"));
    assert_eq!(header(response, "content-type"), Some("application/json"));
    let body = json(response);
    assert_eq!(body["error"], "temporarily_unavailable");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains(seconds)
    );
}

/// One step of a table: move the clock, send, expect a status and a `Retry-After`.
struct Step {
    advance: i64,
    status: u16,
    retry_after: Option<&'static str>,
}

const fn step(advance: i64, status: u16, retry_after: Option<&'static str>) -> Step {
    Step {
        advance,
        status,
        retry_after,
    }
}

/// Limits are off unless configured: many token requests and failed logins, no 429.
#[tokio::test]
async fn limits_are_off_by_default() {
    let h = Harness::new().await;
    let machine = h.machine().await;
    for _ in 0..50 {
        let response = h
            .provider
            .token(client_credentials(&machine, Some(IP_A)))
            .await;
        assert_eq!(response.status(), 200);
        assert_eq!(retry_after(&response), None);
    }
    let mut login = LoginForm::open(&h).await;
    for _ in 0..30 {
        let response = login.attempt(&h, "alice", "wrong", Some(IP_A)).await;
        assert_eq!(response.status(), 401);
    }
    assert_eq!(
        login
            .attempt(&h, "alice", "correct horse", Some(IP_A))
            .await
            .status(),
        303
    );
}

/// Per-client limit (keyed by the authenticated `client_id`, with or without an IP):
/// 2 per minute → a burst of 2, then one every 30 s; another client is unaffected.
#[tokio::test]
async fn rfc6585_4_token_per_client_limit_and_refill() {
    let h = Harness::with(|b| {
        b.rate_limits(RateLimits::default().token_per_client(Rate::per_minute(2)))
    })
    .await;
    let machine = h.machine().await;
    let other = h.machine().await;
    let table = [
        step(0, 200, None),
        step(0, 200, None),
        step(0, 429, Some("30")),
        step(10, 429, Some("20")),
        step(19, 429, Some("1")),
        step(1, 200, None),
        step(0, 429, Some("30")),
        step(120, 200, None),
        step(0, 200, None),
        step(0, 429, Some("30")),
    ];
    for (i, s) in table.iter().enumerate() {
        h.clock.advance(Duration::seconds(s.advance));
        // Alternate with and without an IP: the per-client limit needs none.
        let ip = (i % 2 == 0).then_some(IP_A);
        let response = h.provider.token(client_credentials(&machine, ip)).await;
        assert_eq!(response.status(), s.status, "step {i}");
        assert_eq!(retry_after(&response), s.retry_after, "step {i}");
        if s.status == 429 {
            assert_token_429(&response, s.retry_after.unwrap());
        }
        if i == 2 {
            let unaffected = h.provider.token(client_credentials(&other, ip)).await;
            assert_eq!(
                unaffected.status(),
                200,
                "the other client has its own limit"
            );
        }
    }
}

/// Per-IP limit, checked before client authentication (so failed authentications count
/// too); other IPs and requests without an IP are not limited; IPv6 counts per /64.
#[tokio::test]
async fn rfc6585_4_token_per_ip_limit() {
    let h =
        Harness::with(|b| b.rate_limits(RateLimits::default().token_per_ip(Rate::per_minute(3))))
            .await;
    let machine = h.machine().await;
    let wrong = Registered {
        client: machine.client.clone(),
        secret: Some("not the secret".into()),
    };
    // (client, ip, advance, status, retry-after)
    let table: [(&Registered, Option<&str>, Step); 10] = [
        (&machine, Some(IP_A), step(0, 200, None)),
        (&wrong, Some(IP_A), step(0, 401, None)),
        (&machine, Some(IP_A), step(0, 200, None)),
        (&machine, Some(IP_A), step(0, 429, Some("20"))),
        (&wrong, Some(IP_A), step(0, 429, Some("20"))),
        (&machine, Some(IP_B), step(0, 200, None)),
        (&machine, None, step(0, 200, None)),
        (&machine, Some(IP_A), step(20, 200, None)),
        (&machine, Some("2001:db8:0:1::1"), step(0, 200, None)),
        (&machine, Some("2001:db8:0:2::1"), step(0, 200, None)),
    ];
    for (i, (client, ip, s)) in table.iter().enumerate() {
        h.clock.advance(Duration::seconds(s.advance));
        let response = h.provider.token(client_credentials(client, *ip)).await;
        assert_eq!(response.status(), s.status, "step {i}");
        assert_eq!(retry_after(&response), s.retry_after, "step {i}");
        if s.status == 429 {
            assert_token_429(&response, s.retry_after.unwrap());
        }
    }
    // Same /64: three more from 2001:db8:0:1::/64 (one already spent) hit the limit.
    for (ip, status) in [
        ("2001:db8:0:1::2", 200),
        ("2001:db8:0:1:ffff::3", 200),
        ("2001:db8:0:1::4", 429),
    ] {
        let response = h
            .provider
            .token(client_credentials(&machine, Some(ip)))
            .await;
        assert_eq!(response.status(), status, "{ip}");
    }
    // Many requests without an IP: never limited by IP.
    for _ in 0..10 {
        let response = h.provider.token(client_credentials(&machine, None)).await;
        assert_eq!(response.status(), 200);
    }
}

/// The default login page, opened once in a browser: its interaction, CSRF token and
/// cookie.
struct LoginForm {
    uri: String,
    interaction: String,
    csrf: String,
    cookie: String,
}

impl LoginForm {
    async fn open(h: &Harness) -> LoginForm {
        let web = h.web().await;
        let authorize = format!(
            "/oauth/authorize?{}",
            encode(&[
                ("response_type", "code"),
                ("client_id", web.id()),
                ("redirect_uri", REDIRECT),
                ("scope", "view:users"),
                ("state", "xyz"),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
            ])
        );
        let redirect = h.provider.authorize_http(get(&authorize)).await;
        let uri = header(&redirect, "location").unwrap().to_owned();
        let interaction = uri.split_once("interaction=").unwrap().1.to_owned();
        let page = h.provider.login_page(get(&uri)).await;
        assert_eq!(page.status(), 200);
        let cookie = header(&page, "set-cookie")
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let text = String::from_utf8(page.body().to_vec()).unwrap();
        let marker = "name=\"csrf\" value=\"";
        let start = text.find(marker).unwrap() + marker.len();
        let csrf = text[start..start + 43].to_owned();
        LoginForm {
            uri,
            interaction,
            csrf,
            cookie,
        }
    }

    async fn attempt(
        &mut self,
        h: &Harness,
        username: &str,
        password: &str,
        ip: Option<&str>,
    ) -> Response<Bytes> {
        let body = encode(&[
            ("interaction", &self.interaction),
            ("csrf", &self.csrf),
            ("username", username),
            ("password", password),
        ]);
        let request = form_post(&self.uri, &body, &[("cookie", &self.cookie)]);
        let response = h.provider.login_page(with_ip(request, ip)).await;
        if response.status() == 303 {
            // Signed in: the interaction moves on to consent; start another for later steps.
            *self = LoginForm::open(h).await;
        }
        response
    }
}

/// What must not differ between a known and an unknown username: status, every header,
/// and the page with the typed username (echoed in the form) blanked.
fn observable(
    response: &Response<Bytes>,
    username: &str,
) -> (u16, BTreeMap<String, String>, String) {
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
        .collect();
    let body = String::from_utf8(response.body().to_vec())
        .unwrap()
        .replace(username, "USERNAME");
    (response.status().as_u16(), headers, body)
}

/// Failed-login backoff on the login page: after 3 failures a 1 s lock, then 2 s, 4 s…;
/// a lock is a 429 page with `Retry-After` (no redirect), even for the right password;
/// an unknown username is counted and answered exactly like a known one, during and after
/// the lock; another IP is not locked; a success resets the count.
#[tokio::test]
async fn login_page_lockout_escalates_and_never_reveals_existence() {
    let h = Harness::with(|b| {
        b.rate_limits(RateLimits::default().login_lockout(LoginLockout::after(3)))
    })
    .await;
    let mut known = LoginForm::open(&h).await;
    let mut unknown = LoginForm::open(&h).await;
    // (advance, password kind, status, retry-after); "right" is alice's password, which
    // for the unknown username is just another wrong one.
    let table: [(i64, &str, u16, Option<&str>); 14] = [
        (0, "wrong", 401, None),
        (0, "wrong", 401, None),
        (0, "wrong", 401, None), // third failure: locked 1 s
        (0, "wrong", 429, Some("1")),
        (0, "right", 429, Some("1")), // a lock refuses even the right password
        (1, "wrong", 401, None),      // fourth failure: locked 2 s
        (0, "wrong", 429, Some("2")),
        (1, "wrong", 429, Some("1")),
        (1, "wrong", 401, None), // fifth: 4 s
        (0, "wrong", 429, Some("4")),
        (3, "wrong", 429, Some("1")),
        (1, "wrong", 401, None), // sixth: 8 s
        (0, "wrong", 429, Some("8")),
        (8, "wrong", 401, None), // seventh: 16 s
    ];
    for (i, (advance, password, status, retry)) in table.into_iter().enumerate() {
        h.clock.advance(Duration::seconds(advance));
        let password = if password == "right" {
            "correct horse"
        } else {
            "wrong"
        };
        let alice = known.attempt(&h, "alice", password, Some(IP_A)).await;
        let nobody = unknown.attempt(&h, "nobody", password, Some(IP_A)).await;
        assert_eq!(alice.status(), status, "step {i}");
        assert_eq!(retry_after(&alice), retry, "step {i}");
        // Both forms are the same page but for the interaction and CSRF token.
        let mut seen_alice = observable(&alice, "alice");
        let mut seen_nobody = observable(&nobody, "nobody");
        seen_alice.2 = seen_alice
            .2
            .replace(&known.interaction, "ID")
            .replace(&known.csrf, "CSRF");
        seen_nobody.2 = seen_nobody
            .2
            .replace(&unknown.interaction, "ID")
            .replace(&unknown.csrf, "CSRF");
        assert_eq!(
            seen_alice, seen_nobody,
            "step {i}: known and unknown users differ"
        );
        if status == 429 {
            let text = String::from_utf8(alice.body().to_vec()).unwrap();
            assert!(text.contains("Too many sign-in attempts"), "{text}");
            assert!(text.contains("name=\"password\""), "the form again: {text}");
            assert_eq!(header(&alice, "location"), None);
        }
    }
    // Locked for 16 s from IP A; IP B is a different key, and alice signs in from there.
    assert_eq!(
        known
            .attempt(&h, "alice", "correct horse", Some(IP_A))
            .await
            .status(),
        429
    );
    assert_eq!(
        known
            .attempt(&h, "alice", "correct horse", Some(IP_B))
            .await
            .status(),
        303
    );
    // Case and spacing variants of a username share its count.
    let variant = known.attempt(&h, " ALICE", "wrong", Some(IP_A)).await;
    assert_eq!(
        (variant.status().as_u16(), retry_after(&variant)),
        (429, Some("16"))
    );
    // After the lock, a success resets: the next lock comes only after three new failures,
    // and lasts 1 s again.
    h.clock.advance(Duration::seconds(16));
    assert_eq!(
        known
            .attempt(&h, "alice", "correct horse", Some(IP_A))
            .await
            .status(),
        303
    );
    for (i, (status, retry)) in [(401, None), (401, None), (401, None), (429, Some("1"))]
        .into_iter()
        .enumerate()
    {
        let response = known.attempt(&h, "alice", "wrong", Some(IP_A)).await;
        assert_eq!(
            (response.status().as_u16(), retry_after(&response)),
            (status, retry),
            "after reset {i}"
        );
    }
}

/// Per-IP and per-username-and-IP login rates on the login page.
#[tokio::test]
async fn login_page_rate_limits() {
    let h = Harness::with(|b| {
        b.rate_limits(
            RateLimits::default()
                .login_per_ip(Rate::per_minute(4))
                .login_per_user_ip(Rate::per_minute(2)),
        )
    })
    .await;
    let mut form = LoginForm::open(&h).await;
    // (username, ip, step)
    let table: [(&str, Option<&str>, Step); 9] = [
        ("alice", Some(IP_A), step(0, 401, None)),
        ("alice", Some(IP_A), step(0, 401, None)),
        // Per username and IP: 2 a minute.
        ("alice", Some(IP_A), step(0, 429, Some("30"))),
        ("bob", Some(IP_A), step(0, 401, None)),
        // Per IP: 4 a minute, and the attempt the per-user limit refused counted too.
        ("carol", Some(IP_A), step(0, 429, Some("15"))),
        ("alice", Some(IP_B), step(0, 401, None)),
        // Without an IP, no per-IP limit, and the username alone is the key.
        ("alice", None, step(0, 401, None)),
        ("alice", None, step(0, 401, None)),
        ("alice", None, step(0, 429, Some("30"))),
    ];
    for (i, (username, ip, s)) in table.into_iter().enumerate() {
        h.clock.advance(Duration::seconds(s.advance));
        let response = form.attempt(&h, username, "wrong", ip).await;
        assert_eq!(response.status(), s.status, "step {i}");
        let retry = s.retry_after;
        assert_eq!(retry_after(&response), retry, "step {i}");
    }
}

/// The password grant is a login: its failures lock the typed username and IP out, with
/// the token endpoint's 429; an unknown username gets the very same answers.
#[tokio::test]
async fn password_grant_lockout() {
    let h = Harness::with(|b| {
        b.rate_limits(RateLimits::default().login_lockout(LoginLockout::after(2)))
    })
    .await;
    let client = h.resource_owner().await;
    let attempt = |username: &'static str, password: &'static str| {
        let body = encode(&[
            ("grant_type", "password"),
            ("username", username),
            ("password", password),
        ]);
        with_ip(
            form_post("/oauth/token", &body, &[("authorization", &client.basic())]),
            Some(IP_A),
        )
    };
    let table: [(i64, &str, u16, Option<&str>); 6] = [
        (0, "wrong", 400, None),
        (0, "wrong", 400, None), // second failure: locked 1 s
        (0, "correct horse", 429, Some("1")),
        (1, "wrong", 400, None), // third: 2 s
        (0, "wrong", 429, Some("2")),
        (2, "correct horse", 200, None),
    ];
    for (i, (advance, password, status, retry)) in table.into_iter().enumerate() {
        h.clock.advance(Duration::seconds(advance));
        let alice = h.provider.token(attempt("alice", password)).await;
        let nobody = h.provider.token(attempt("nobody", password)).await;
        assert_eq!(alice.status(), status, "step {i}");
        assert_eq!(retry_after(&alice), retry, "step {i}");
        if status == 200 {
            assert_eq!(nobody.status(), 400, "step {i}: nobody has no password");
            continue;
        }
        assert_eq!(
            observable(&alice, "alice"),
            observable(&nobody, "nobody"),
            "step {i}"
        );
        if status == 429 {
            assert_token_429(&alice, retry.unwrap());
        } else {
            assert_eq!(json(&alice)["error"], "invalid_grant");
        }
    }
    // The success reset alice's count: one failure does not lock.
    assert_eq!(
        h.provider.token(attempt("alice", "wrong")).await.status(),
        400
    );
    assert_eq!(
        h.provider
            .token(attempt("alice", "correct horse"))
            .await
            .status(),
        200
    );
}
