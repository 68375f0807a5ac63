//! The device authorization grant (RFC 8628) through the provider: the device
//! authorization endpoint (§3.1–3.2), polling at the token endpoint (§3.4–3.5), the
//! verification page with its login round trip and rate limit (§3.3, §5.1), discovery
//! (§4) and configuration.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::too_many_lines
)]

mod session_support;
mod support;

use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response};
use portcullis_endpoints::{
    ConfigError, Endpoint, Provider, USER_CODE_ATTEMPT_WINDOW, USER_CODE_ATTEMPTS_PER_USER,
};
use portcullis_grants::UserCode;
use portcullis_registry::{ClientKind, GrantType};
use portcullis_store::MemoryStore;
use portcullis_tokens::Subject;
use serde_json::Value;
use session_support::*;
use support::*;
use time::Duration;

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const DEVICE_AUTHORIZATION: &str = "/oauth/device_authorization";
const DEVICE_PAGE: &str = "/oauth/device";

async fn harness() -> Harness {
    Harness::with(|b| b.device_flow(Arc::new(MemoryStore::new()))).await
}

/// A public TV app (native) registered for the device grant and refresh tokens (the
/// registry asks for `authorization_code` beside `refresh_token`, hence the redirect).
async fn tv(h: &Harness) -> Registered {
    h.register(ClientKind::Native, |c| {
        c.client_id("tv")
            .redirect_uri(NATIVE_REDIRECT)
            .grant_types([
                GrantType::AuthorizationCode,
                GrantType::DeviceCode,
                GrantType::RefreshToken,
            ])
            .scopes(["openid", "offline_access", "view:users"])
    })
    .await
}

/// A confidential web client that may also use the device grant.
async fn console(h: &Harness) -> Registered {
    h.register(ClientKind::Web, |c| {
        c.client_id("console")
            .redirect_uri(REDIRECT)
            .grant_types([GrantType::AuthorizationCode, GrantType::DeviceCode])
            .all_scopes()
    })
    .await
}

async fn start_device(h: &Harness, pairs: &[(&str, &str)]) -> Value {
    let response = h
        .provider
        .device_authorization(form_post(DEVICE_AUTHORIZATION, &encode(pairs), &[]))
        .await;
    let body = json(&response);
    assert_eq!(response.status(), 200, "{body}");
    body
}

async fn poll(h: &Harness, device_code: &str, client_id: &str) -> Response<Bytes> {
    h.provider
        .token(form_post(
            "/oauth/token",
            &encode(&[
                ("grant_type", DEVICE_GRANT),
                ("device_code", device_code),
                ("client_id", client_id),
            ]),
            &[],
        ))
        .await
}

#[tokio::test]
async fn rfc8628_3_2_device_authorization_response() {
    let h = harness().await;
    tv(&h).await;
    let response = h
        .provider
        .device_authorization(form_post(
            DEVICE_AUTHORIZATION,
            "client_id=tv&scope=openid+view%3Ausers",
            &[],
        ))
        .await;
    assert_eq!(header(&response, "cache-control"), Some("no-store"));
    let body = json(&response);
    assert_eq!(response.status(), 200, "{body}");
    assert!(body["device_code"].as_str().unwrap().starts_with("pc_dc_"));
    let user_code = body["user_code"].as_str().unwrap();
    assert_eq!(user_code.len(), 9);
    assert_eq!(&user_code[4..5], "-");
    assert!(
        user_code
            .bytes()
            .filter(|b| *b != b'-')
            .all(|b| b"BCDFGHJKLMNPQRSTVWXZ".contains(&b)),
        "{user_code}"
    );
    assert_eq!(body["verification_uri"], "https://id.example/oauth/device");
    assert_eq!(
        body["verification_uri_complete"],
        format!("https://id.example/oauth/device?user_code={user_code}")
    );
    assert_eq!(body["expires_in"], 600);
    assert_eq!(body["interval"], 5);
}

/// (case, request, status, error, header that must be present)
type Row = (
    &'static str,
    Request<Bytes>,
    u16,
    &'static str,
    Option<(&'static str, &'static str)>,
);

#[tokio::test]
async fn rfc8628_3_1_device_authorization_negative_table() {
    let h = harness().await;
    tv(&h).await;
    let console = console(&h).await;
    h.register(ClientKind::Native, |c| {
        c.client_id("phone")
            .redirect_uri(NATIVE_REDIRECT)
            .all_scopes()
    })
    .await;
    let wrong_secret = basic("console", "not-the-secret");
    let rows: Vec<Row> = vec![
        (
            "rfc8628_3_1_post_only",
            get("/oauth/device_authorization?client_id=tv"),
            405,
            "invalid_request",
            Some(("allow", "POST")),
        ),
        (
            "rfc8628_3_1_form_encoded_body",
            Request::post(DEVICE_AUTHORIZATION)
                .header("content-type", "application/json")
                .body(Bytes::from_static(b"{\"client_id\":\"tv\"}"))
                .unwrap(),
            400,
            "invalid_request",
            None,
        ),
        (
            "rfc8628_3_1_client_id_required",
            form_post(DEVICE_AUTHORIZATION, "scope=openid", &[]),
            401,
            "invalid_client",
            None,
        ),
        (
            "rfc8628_3_1_unknown_client",
            form_post(DEVICE_AUTHORIZATION, "client_id=nobody", &[]),
            401,
            "invalid_client",
            None,
        ),
        (
            "rfc8628_3_1_confidential_client_authenticates",
            form_post(
                DEVICE_AUTHORIZATION,
                "",
                &[("authorization", wrong_secret.as_str())],
            ),
            401,
            "invalid_client",
            Some(("www-authenticate", "Basic realm=\"https://id.example\"")),
        ),
        (
            "rfc8628_3_1_confidential_client_without_secret",
            form_post(DEVICE_AUTHORIZATION, "client_id=console", &[]),
            401,
            "invalid_client",
            None,
        ),
        (
            "rfc8628_3_2_rfc6749_5_2_client_not_registered_for_the_grant",
            form_post(DEVICE_AUTHORIZATION, "client_id=phone", &[]),
            400,
            "unauthorized_client",
            None,
        ),
        (
            "rfc8628_3_1_rfc6749_3_3_scope_not_allowed",
            form_post(
                DEVICE_AUTHORIZATION,
                "client_id=tv&scope=delete%3Ausers",
                &[],
            ),
            400,
            "invalid_scope",
            None,
        ),
        (
            "rfc8628_3_1_rfc6749_3_3_scope_unknown",
            form_post(DEVICE_AUTHORIZATION, "client_id=tv&scope=launch", &[]),
            400,
            "invalid_scope",
            None,
        ),
        (
            "rfc8628_3_1_rfc6749_3_1_repeated_parameter",
            form_post(
                DEVICE_AUTHORIZATION,
                "client_id=tv&scope=openid&scope=openid",
                &[],
            ),
            400,
            "invalid_request",
            None,
        ),
    ];
    for (name, request, status, error, must_have) in rows {
        let response = h.provider.device_authorization(request).await;
        let body = json(&response);
        assert_eq!(response.status(), status, "{name}: {body}");
        assert_eq!(body["error"], error, "{name}: {body}");
        assert!(
            body["error_description"].as_str().is_some(),
            "{name}: {body}"
        );
        assert_eq!(
            header(&response, "cache-control"),
            Some("no-store"),
            "{name}"
        );
        if let Some((name_of_header, value)) = must_have {
            assert_eq!(header(&response, name_of_header), Some(value), "{name}");
        }
    }
    // And the confidential client with the right secret is answered.
    let ok = h
        .provider
        .device_authorization(form_post(
            DEVICE_AUTHORIZATION,
            "scope=view%3Ausers",
            &[("authorization", console.basic().as_str())],
        ))
        .await;
    assert_eq!(ok.status(), 200, "{}", body(&ok));
}

/// Signs alice in through the login page's device round trip and returns the browser,
/// checking each hop: device page → login (return_to) → device page.
async fn signed_in_at_device_page(h: &Harness, user_code: &str) -> (Browser, String) {
    let mut browser = Browser::default();
    let start = format!("{DEVICE_PAGE}?user_code={user_code}");
    let to_login = location(
        &h.provider
            .device_verification_page(browser.get(&start))
            .await,
    );
    assert!(
        to_login.starts_with("/oauth/login?return_to="),
        "{to_login}"
    );
    assert_eq!(query(&to_login)["return_to"], start);
    let page = h.provider.login_page(browser.get(&to_login)).await;
    assert_eq!(page.status(), 200, "{}", body(&page));
    browser.absorb(&page);
    let html = body(&page);
    let csrf = field(&html, "csrf");
    let return_to = field(&html, "return_to");
    let signed_in = h
        .provider
        .login_page(browser.post(
            "/oauth/login",
            &[
                ("return_to", &return_to),
                ("csrf", &csrf),
                ("username", "alice"),
                ("password", "correct horse"),
            ],
        ))
        .await;
    browser.absorb(&signed_in);
    assert_eq!(location(&signed_in), start, "back to the device page");
    (browser, csrf)
}

/// Shows the confirmation page for `user_code` and submits `decision`.
async fn decide(h: &Harness, browser: &mut Browser, user_code: &str, decision: &str) -> String {
    let page = h
        .provider
        .device_verification_page(browser.get(&format!("{DEVICE_PAGE}?user_code={user_code}")))
        .await;
    let html = body(&page);
    assert_eq!(page.status(), 200, "{html}");
    assert!(html.contains("Native test client"), "names the client");
    assert!(html.contains(user_code), "shows the code to compare (§5.4)");
    assert!(html.contains("view:users"), "lists the scopes");
    assert!(html.contains("value=\"allow\"") && html.contains("value=\"deny\""));
    let csp = header(&page, "content-security-policy").unwrap();
    assert!(csp.contains("form-action 'self'") && csp.contains("frame-ancestors 'none'"));
    browser.absorb(&page);
    let csrf = field(&html, "csrf");
    let done = h
        .provider
        .device_verification_page(browser.post(
            DEVICE_PAGE,
            &[
                ("csrf", &csrf),
                ("user_code", user_code),
                ("decision", decision),
            ],
        ))
        .await;
    let text = body(&done);
    assert_eq!(done.status(), 200, "{text}");
    text
}

#[tokio::test]
async fn rfc8628_3_3_approve_through_the_page_then_tokens_once() {
    let h = harness().await;
    tv(&h).await;
    let started = start_device(
        &h,
        &[
            ("client_id", "tv"),
            ("scope", "openid offline_access view:users"),
        ],
    )
    .await;
    let device_code = started["device_code"].as_str().unwrap();
    let user_code = started["user_code"].as_str().unwrap();

    let pending = poll(&h, device_code, "tv").await;
    assert_eq!(json(&pending)["error"], "authorization_pending");

    let (mut browser, _) = signed_in_at_device_page(&h, user_code).await;
    let text = decide(&h, &mut browser, user_code, "allow").await;
    assert!(text.contains("Device connected"), "{text}");

    h.clock.advance(Duration::seconds(6));
    let tokens = poll(&h, device_code, "tv").await;
    let body = json(&tokens);
    assert_eq!(tokens.status(), 200, "{body}");
    assert_eq!(header(&tokens, "cache-control"), Some("no-store"));
    assert_eq!(body["scope"], "offline_access openid view:users");
    assert!(body["refresh_token"].is_string(), "offline_access granted");
    assert!(body["id_token"].is_string(), "openid granted");

    h.clock.advance(Duration::seconds(6));
    let again = poll(&h, device_code, "tv").await;
    assert_eq!(json(&again)["error"], "expired_token", "issued once");
}

#[tokio::test]
async fn rfc8628_3_5_deny_through_the_page_is_access_denied() {
    let h = harness().await;
    tv(&h).await;
    let started = start_device(&h, &[("client_id", "tv"), ("scope", "view:users")]).await;
    let user_code = started["user_code"].as_str().unwrap();
    let (mut browser, _) = signed_in_at_device_page(&h, user_code).await;
    let text = decide(&h, &mut browser, user_code, "deny").await;
    assert!(text.contains("denied"), "{text}");
    let response = poll(&h, started["device_code"].as_str().unwrap(), "tv").await;
    assert_eq!(response.status(), 400);
    assert_eq!(json(&response)["error"], "access_denied");
}

#[tokio::test]
async fn rfc8628_3_5_polling_negative_table() {
    let h = harness().await;
    tv(&h).await;
    let console = console(&h).await;
    h.register(ClientKind::Native, |c| {
        c.client_id("phone")
            .redirect_uri(NATIVE_REDIRECT)
            .all_scopes()
    })
    .await;
    let fresh = |h: &Harness| {
        let h = h.provider.clone();
        async move {
            let response = h
                .device_authorization(form_post(DEVICE_AUTHORIZATION, "client_id=tv", &[]))
                .await;
            let body = json(&response);
            (
                body["device_code"].as_str().unwrap().to_owned(),
                body["user_code"].as_str().unwrap().to_owned(),
            )
        }
    };
    let token = |pairs: Vec<(&str, String)>, headers: Vec<(&str, String)>| {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        form_post("/oauth/token", &body, &headers)
    };

    // Polled once already, then again at once.
    let (too_fast, _) = fresh(&h).await;
    assert_eq!(
        json(&poll(&h, &too_fast, "tv").await)["error"],
        "authorization_pending"
    );
    let (expired, _) = fresh(&h).await;
    let (pending, _) = fresh(&h).await;
    let (others, others_user_code) = fresh(&h).await;
    // Approved for alice, so that the other client's poll reaches the client check.
    let now = h.provider.now();
    let alice = Subject::new("user-alice").unwrap();
    assert!(
        h.provider
            .device_flow()
            .unwrap()
            .decide(
                &UserCode::parse(&others_user_code).unwrap(),
                Some((&alice, now)),
                now
            )
            .await
            .unwrap()
    );

    let rows: Vec<(&str, Request<Bytes>, u16, &str)> = vec![
        (
            "rfc8628_3_5_authorization_pending",
            token(
                vec![
                    ("grant_type", DEVICE_GRANT.into()),
                    ("device_code", pending.clone()),
                    ("client_id", "tv".into()),
                ],
                vec![],
            ),
            400,
            "authorization_pending",
        ),
        (
            "rfc8628_3_5_slow_down",
            token(
                vec![
                    ("grant_type", DEVICE_GRANT.into()),
                    ("device_code", too_fast.clone()),
                    ("client_id", "tv".into()),
                ],
                vec![],
            ),
            400,
            "slow_down",
        ),
        (
            "rfc8628_3_4_device_code_required",
            token(
                vec![
                    ("grant_type", DEVICE_GRANT.into()),
                    ("client_id", "tv".into()),
                ],
                vec![],
            ),
            400,
            "invalid_request",
        ),
        (
            "rfc8628_3_4_malformed_device_code",
            token(
                vec![
                    ("grant_type", DEVICE_GRANT.into()),
                    ("device_code", "WDJB-MJHT".into()),
                    ("client_id", "tv".into()),
                ],
                vec![],
            ),
            400,
            "invalid_grant",
        ),
        (
            "rfc8628_3_4_client_authentication_required",
            token(
                vec![
                    ("grant_type", DEVICE_GRANT.into()),
                    ("device_code", pending.clone()),
                ],
                vec![],
            ),
            401,
            "invalid_client",
        ),
        (
            "rfc8628_3_4_rfc6749_5_2_client_not_registered_for_the_grant",
            token(
                vec![
                    ("grant_type", DEVICE_GRANT.into()),
                    ("device_code", pending.clone()),
                    ("client_id", "phone".into()),
                ],
                vec![],
            ),
            400,
            "unauthorized_client",
        ),
        (
            "rfc8628_3_4_device_code_of_another_client_after_approval",
            token(
                vec![
                    ("grant_type", DEVICE_GRANT.into()),
                    ("device_code", others.clone()),
                ],
                vec![("authorization", console.basic())],
            ),
            400,
            "invalid_grant",
        ),
        (
            "rfc8628_3_5_unknown_device_code_is_expired_token",
            token(
                vec![
                    ("grant_type", DEVICE_GRANT.into()),
                    (
                        "device_code",
                        "pc_dc_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into(),
                    ),
                    ("client_id", "tv".into()),
                ],
                vec![],
            ),
            400,
            "expired_token",
        ),
    ];
    for (name, request, status, error) in rows {
        let response = h.provider.token(request).await;
        let body = json(&response);
        assert_eq!(response.status(), status, "{name}: {body}");
        assert_eq!(body["error"], error, "{name}: {body}");
        assert_eq!(
            header(&response, "cache-control"),
            Some("no-store"),
            "{name}"
        );
    }
    // §3.5 expired_token once the lifetime has passed.
    h.clock.advance(Duration::minutes(10));
    let response = poll(&h, &expired, "tv").await;
    assert_eq!(json(&response)["error"], "expired_token");
}

#[tokio::test]
async fn rfc8628_4_discovery_lists_the_device_grant_only_when_enabled() {
    for (name, enabled, configure) in [
        ("off_by_default", false, None),
        ("on_with_device_flow", true, Some(false)),
        ("off_when_the_grant_is_disabled", false, Some(true)),
    ] {
        let h = Harness::with(|b| match configure {
            None => b,
            Some(disable) => {
                let b = b.device_flow(Arc::new(MemoryStore::new()));
                if disable {
                    b.disable_grant(GrantType::DeviceCode)
                } else {
                    b
                }
            }
        })
        .await;
        let metadata = h.provider.provider_metadata().await.unwrap();
        assert_eq!(
            metadata
                .grant_types_supported
                .iter()
                .any(|g| g == DEVICE_GRANT),
            enabled,
            "{name}"
        );
        assert_eq!(
            metadata.device_authorization_endpoint.as_deref(),
            enabled.then_some("https://id.example/oauth/device_authorization"),
            "{name}"
        );
        let document = h
            .provider
            .openid_configuration(get("/.well-known/openid-configuration"))
            .await;
        assert_eq!(
            json(&document)
                .get("device_authorization_endpoint")
                .is_some(),
            enabled,
            "{name}"
        );
        let routes = h.provider.routes();
        assert_eq!(
            routes.iter().any(
                |(path, e)| path == DEVICE_AUTHORIZATION && *e == Endpoint::DeviceAuthorization
            ),
            enabled,
            "{name}"
        );
        assert_eq!(
            routes
                .iter()
                .any(|(path, e)| path == DEVICE_PAGE && *e == Endpoint::DeviceVerification),
            enabled,
            "{name}"
        );
    }
}

#[tokio::test]
async fn device_flow_settings_are_checked_at_build() {
    let store = || Arc::new(MemoryStore::new());
    let cases = [
        (
            "lifetime_too_short",
            Provider::builder(ISSUER, store())
                .device_flow(store())
                .device_code_lifetime(Duration::seconds(30)),
            "device_code_lifetime",
        ),
        (
            "lifetime_too_long",
            Provider::builder(ISSUER, store())
                .device_flow(store())
                .device_code_lifetime(Duration::hours(1)),
            "device_code_lifetime",
        ),
        (
            "interval_zero",
            Provider::builder(ISSUER, store())
                .device_flow(store())
                .device_poll_interval(0),
            "device_poll_interval",
        ),
    ];
    for (name, builder, setting) in cases {
        match builder.build() {
            Err(ConfigError::Lifetime { setting: got, .. }) => assert_eq!(got, setting, "{name}"),
            other => panic!("{name}: {other:?}"),
        }
    }
    let provider = Provider::builder(ISSUER, store())
        .device_flow(store())
        .device_code_lifetime(Duration::minutes(15))
        .device_poll_interval(10)
        .build()
        .unwrap();
    let flow = provider.device_flow().unwrap();
    assert_eq!(flow.lifetime(), Duration::minutes(15));
    assert_eq!(flow.interval_secs(), 10);
}

#[tokio::test]
async fn rfc8628_5_1_wrong_user_codes_are_rate_limited_per_user() {
    let h = harness().await;
    tv(&h).await;
    let started = start_device(&h, &[("client_id", "tv")]).await;
    let user_code = started["user_code"].as_str().unwrap();
    let (mut browser, _) = signed_in_at_device_page(&h, user_code).await;
    let entry = h
        .provider
        .device_verification_page(browser.get(DEVICE_PAGE))
        .await;
    assert_eq!(entry.status(), 200);
    browser.absorb(&entry);
    let csrf = field(&body(&entry), "csrf");
    // A code that is surely not the right one (the alphabet has no vowels, but these are
    // letters of it): change the first letter.
    let first = user_code.as_bytes()[0];
    let wrong_first = if first == b'B' { 'C' } else { 'B' };
    let wrong = format!("{wrong_first}{}", &user_code[1..]);
    let submit = |code: &str| browser.post(DEVICE_PAGE, &[("csrf", &csrf), ("user_code", code)]);
    for attempt in 0..USER_CODE_ATTEMPTS_PER_USER {
        let response = h.provider.device_verification_page(submit(&wrong)).await;
        assert_eq!(response.status(), 400, "attempt {attempt}");
        assert!(body(&response).contains("not valid"));
    }
    // Malformed codes are answered without counting (they cannot match anything).
    let malformed = h.provider.device_verification_page(submit("ABC")).await;
    assert_ne!(malformed.status(), 200);
    // Now even the right code is refused until the window ends.
    let limited = h.provider.device_verification_page(submit(user_code)).await;
    assert_eq!(limited.status(), 429, "{}", body(&limited));
    let retry_after: i64 = header(&limited, "retry-after").unwrap().parse().unwrap();
    assert!(retry_after > 0 && retry_after <= USER_CODE_ATTEMPT_WINDOW.whole_seconds());
    // Another user is not affected.
    let other = h
        .provider
        .start_session(
            &portcullis_endpoints::AuthenticatedUser {
                subject: Subject::new("user-bob").unwrap(),
                auth_time: h.provider.now(),
            },
            &["pwd"],
        )
        .await
        .unwrap();
    let mut bob = Browser::default();
    let (pair, _) = other.split_once(';').unwrap();
    let (name, value) = pair.split_once('=').unwrap();
    bob.jar.insert(name.to_owned(), value.to_owned());
    bob.jar.insert(CSRF.to_owned(), csrf.clone());
    let for_bob = h
        .provider
        .device_verification_page(
            bob.post(DEVICE_PAGE, &[("csrf", &csrf), ("user_code", user_code)]),
        )
        .await;
    assert_eq!(for_bob.status(), 200, "{}", body(&for_bob));
    // After the window, alice may try again (the code itself lived 10 minutes: start over).
    h.clock.advance(USER_CODE_ATTEMPT_WINDOW);
    let again = h.provider.device_verification_page(submit(&wrong)).await;
    assert_eq!(again.status(), 400);
}

#[tokio::test]
async fn rfc8628_3_3_page_forms_need_the_csrf_token_and_a_session() {
    let h = harness().await;
    tv(&h).await;
    let started = start_device(&h, &[("client_id", "tv")]).await;
    let user_code = started["user_code"].as_str().unwrap();
    let (browser, csrf) = signed_in_at_device_page(&h, user_code).await;
    // No CSRF field: 403, nothing decided.
    let forged = h
        .provider
        .device_verification_page(browser.post(
            DEVICE_PAGE,
            &[("user_code", user_code), ("decision", "allow")],
        ))
        .await;
    assert_eq!(forged.status(), 403);
    // No session: off to the login page, still nothing decided.
    let mut anonymous = Browser::default();
    anonymous.jar.insert(CSRF.to_owned(), csrf.clone());
    let response = h
        .provider
        .device_verification_page(anonymous.post(
            DEVICE_PAGE,
            &[
                ("csrf", &csrf),
                ("user_code", user_code),
                ("decision", "allow"),
            ],
        ))
        .await;
    assert!(location(&response).starts_with("/oauth/login?return_to="));
    let still = poll(&h, started["device_code"].as_str().unwrap(), "tv").await;
    assert_eq!(json(&still)["error"], "authorization_pending");
}

#[tokio::test]
async fn login_return_to_is_only_the_device_page() {
    let h = harness().await;
    for (name, return_to, ok) in [
        ("device_page", "/oauth/device", true),
        (
            "device_page_with_code",
            "/oauth/device?user_code=BCDF-GHJK",
            true,
        ),
        ("absolute_url", "https://evil.example/oauth/device", false),
        ("protocol_relative", "//evil.example/oauth/device", false),
        ("other_path", "/oauth/token", false),
        (
            "extra_parameter",
            "/oauth/device?user_code=BCDF-GHJK&next=x",
            false,
        ),
        (
            "malformed_code",
            "/oauth/device?user_code=%3Cscript%3E",
            false,
        ),
    ] {
        let uri = format!("/oauth/login?{}", encode(&[("return_to", return_to)]));
        let response = h.provider.login_page(get(&uri)).await;
        assert_eq!(response.status() == 200, ok, "{name}: {}", body(&response));
    }
    // Without a device flow there is nothing to return to.
    let plain = Harness::new().await;
    let response = plain
        .provider
        .login_page(get("/oauth/login?return_to=%2Foauth%2Fdevice"))
        .await;
    assert_eq!(response.status(), 400);
    let page = plain
        .provider
        .device_verification_page(get(DEVICE_PAGE))
        .await;
    assert_eq!(page.status(), 404);
}
