//! The device authorization grant (RFC 8628) end to end under each adapter: a device
//! client (plain HTTP) and a user's browser (cookies, the default pages) against a
//! provider with `device_flow` enabled.

use std::sync::Arc;

use portcullis_registry::{ClientKind, GrantType, NewClient, Scope, ScopeCatalog, ScopeDefinition};
use portcullis_store::{ClientStore, MemoryStore};
use serde_json::Value;
use time::Duration;

use super::Adapter;
use super::fixture::*;

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const TV: &str = "living-room-tv";

/// A fixture whose provider runs the device flow, with a public native client [`TV`]
/// registered for it (`authorization_code` too: the registry wants it beside
/// `refresh_token`).
async fn device_fixture<A: Adapter>() -> Fixture {
    let fx = Fixture::start_with::<A>(|b| b.device_flow(Arc::new(MemoryStore::new()))).await;
    let mut catalog = ScopeCatalog::with_oidc_scopes();
    catalog
        .insert(ScopeDefinition::new(
            Scope::new("view:users").unwrap(),
            "view:users scope",
        ))
        .unwrap();
    let tv = NewClient::new("Living room TV", ClientKind::Native)
        .client_id(TV)
        .redirect_uri("http://127.0.0.1/callback")
        .grant_types([
            GrantType::AuthorizationCode,
            GrantType::DeviceCode,
            GrantType::RefreshToken,
        ])
        .scopes(["openid", "offline_access", "view:users"])
        .build(&catalog)
        .expect("a valid client")
        .client;
    fx.store.insert_client(tv).await.expect("client stored");
    fx
}

/// RFC 8628 §3.1: the device asks; answers the §3.2 body.
async fn start_device(fx: &Fixture, scope: &str) -> Value {
    let response = fx
        .post_form(
            "/oauth/device_authorization",
            &[("client_id", TV), ("scope", scope)],
            None,
        )
        .await;
    assert_eq!(
        header(&response, "cache-control").as_deref(),
        Some("no-store")
    );
    body_json(response, 200).await
}

/// RFC 8628 §3.4: one poll of the token endpoint.
async fn poll(fx: &Fixture, device_code: &str) -> reqwest::Response {
    fx.post_form(
        "/oauth/token",
        &[
            ("grant_type", DEVICE_GRANT),
            ("device_code", device_code),
            ("client_id", TV),
        ],
        None,
    )
    .await
}

async fn poll_error(fx: &Fixture, device_code: &str) -> String {
    let response = poll(fx, device_code).await;
    assert_eq!(
        header(&response, "cache-control").as_deref(),
        Some("no-store")
    );
    let body = body_json(response, 400).await;
    body["error"].as_str().expect("error").to_owned()
}

/// The user's side (RFC 8628 §3.3): opens `verification_uri_complete`, signs in through the
/// login page and comes back, checks the code and client shown, and decides.
async fn user_decides(fx: &Fixture, started: &Value, decision: &str) {
    let complete = started["verification_uri_complete"].as_str().unwrap();
    let user_code = started["user_code"].as_str().unwrap();
    let response = fx.browser.get(complete).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 303);
    let login = header(&response, "location").unwrap();
    assert!(login.starts_with("/oauth/login?return_to="), "{login}");

    let page = fx.browser.get(fx.url(&login)).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.unwrap();
    let csrf = input_value(&html, "csrf").expect("csrf");
    let return_to = input_value(&html, "return_to").expect("return_to");
    let signed_in = fx
        .browser
        .post(fx.url("/oauth/login"))
        .form(&[
            ("return_to", return_to.as_str()),
            ("csrf", csrf.as_str()),
            ("username", USER),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status().as_u16(), 303);
    let back = header(&signed_in, "location").unwrap();
    assert_eq!(back, format!("/oauth/device?user_code={user_code}"));

    let confirm = fx.browser.get(fx.url(&back)).send().await.unwrap();
    assert_eq!(confirm.status().as_u16(), 200);
    assert_eq!(header(&confirm, "x-frame-options").as_deref(), Some("DENY"));
    let html = confirm.text().await.unwrap();
    assert!(html.contains("Living room TV"), "{html}");
    assert!(
        html.contains(user_code),
        "RFC 8628 §5.4: the code to compare"
    );
    assert!(
        html.contains("view:users scope"),
        "scope descriptions from the catalog"
    );
    let csrf = input_value(&html, "csrf").expect("csrf");
    let done = fx
        .browser
        .post(fx.url("/oauth/device"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("user_code", user_code),
            ("decision", decision),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        done.status().as_u16(),
        200,
        "{}",
        done.text().await.unwrap()
    );
}

/// RFC 8628 §3.4–3.5: pending, slow_down, approval through the pages, tokens once.
pub async fn device_flow_approve<A: Adapter>() {
    let fx = device_fixture::<A>().await;
    let started = start_device(&fx, "openid offline_access view:users").await;
    assert_eq!(started["interval"], 5);
    assert_eq!(
        started["verification_uri"],
        format!("{}/oauth/device", fx.server.base)
    );
    let device_code = started["device_code"].as_str().unwrap().to_owned();

    assert_eq!(poll_error(&fx, &device_code).await, "authorization_pending");
    // §3.5: polled again at once, so the interval grows.
    assert_eq!(poll_error(&fx, &device_code).await, "slow_down");
    fx.clock.advance(Duration::seconds(10));
    assert_eq!(poll_error(&fx, &device_code).await, "authorization_pending");

    user_decides(&fx, &started, "allow").await;
    fx.clock.advance(Duration::seconds(10));
    let response = poll(&fx, &device_code).await;
    assert_eq!(
        header(&response, "cache-control").as_deref(),
        Some("no-store")
    );
    let tokens = body_json(response, 200).await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["scope"], "offline_access openid view:users");
    assert!(tokens["refresh_token"].is_string());
    assert!(tokens["id_token"].is_string());
    let access = tokens["access_token"].as_str().unwrap();
    assert!(fx.active(access).await);
    let me = body_json(fx.api("/api/me", Some(access)).await, 200).await;
    assert_eq!(me["sub"], "user-alice");
    assert_eq!(me["client_id"], TV);

    fx.clock.advance(Duration::seconds(10));
    assert_eq!(
        poll_error(&fx, &device_code).await,
        "expired_token",
        "tokens are issued once"
    );
}

/// RFC 8628 §3.5: a denial answers `access_denied`.
pub async fn device_flow_deny<A: Adapter>() {
    let fx = device_fixture::<A>().await;
    let started = start_device(&fx, "view:users").await;
    user_decides(&fx, &started, "deny").await;
    let device_code = started["device_code"].as_str().unwrap();
    assert_eq!(poll_error(&fx, device_code).await, "access_denied");
}

/// RFC 8628 §3.5: past `expires_in` the device code answers `expired_token`.
pub async fn device_flow_expired<A: Adapter>() {
    let fx = device_fixture::<A>().await;
    let started = start_device(&fx, "view:users").await;
    let expires_in = started["expires_in"].as_i64().unwrap();
    fx.clock.advance(Duration::seconds(expires_in));
    let device_code = started["device_code"].as_str().unwrap();
    assert_eq!(poll_error(&fx, device_code).await, "expired_token");
}

/// RFC 8628 §3.1–3.5 and RFC 6749 §5.2: what the device authorization endpoint and the
/// polling grant refuse, with status, error code and headers.
pub async fn device_flow_negative_table<A: Adapter>() {
    let fx = device_fixture::<A>().await;
    let pending = start_device(&fx, "view:users").await;
    let pending = pending["device_code"].as_str().unwrap().to_owned();
    // (case, path, form, Basic credentials, status, error, header that must be there)
    type Row<'a> = (
        &'a str,
        &'a str,
        Vec<(&'a str, &'a str)>,
        Option<(&'a str, &'a str)>,
        u16,
        &'a str,
        Option<(&'a str, &'a str)>,
    );
    let da = "/oauth/device_authorization";
    let token = "/oauth/token";
    let web = (fx.web.id.as_str(), "wrong-secret");
    let rows: Vec<Row<'_>> = vec![
        (
            "rfc8628_3_1_client_id_required",
            da,
            vec![("scope", "view:users")],
            None,
            401,
            "invalid_client",
            None,
        ),
        (
            "rfc8628_3_1_unknown_client",
            da,
            vec![("client_id", "no-such-tv")],
            None,
            401,
            "invalid_client",
            None,
        ),
        (
            "rfc8628_3_1_rfc6749_5_2_wrong_basic_credentials",
            da,
            vec![],
            Some(web),
            401,
            "invalid_client",
            Some(("www-authenticate", "Basic")),
        ),
        (
            "rfc8628_3_1_rfc6749_5_2_client_without_the_device_grant",
            da,
            vec![("client_id", fx.spa.id.as_str())],
            None,
            400,
            "unauthorized_client",
            None,
        ),
        (
            "rfc8628_3_1_rfc6749_3_3_scope_not_allowed",
            da,
            vec![("client_id", TV), ("scope", "delete:users")],
            None,
            400,
            "invalid_scope",
            None,
        ),
        (
            "rfc8628_3_5_authorization_pending",
            token,
            vec![
                ("grant_type", DEVICE_GRANT),
                ("device_code", pending.as_str()),
                ("client_id", TV),
            ],
            None,
            400,
            "authorization_pending",
            None,
        ),
        (
            "rfc8628_3_5_slow_down",
            token,
            vec![
                ("grant_type", DEVICE_GRANT),
                ("device_code", pending.as_str()),
                ("client_id", TV),
            ],
            None,
            400,
            "slow_down",
            None,
        ),
        (
            "rfc8628_3_4_device_code_required",
            token,
            vec![("grant_type", DEVICE_GRANT), ("client_id", TV)],
            None,
            400,
            "invalid_request",
            None,
        ),
        (
            "rfc8628_3_4_malformed_device_code",
            token,
            vec![
                ("grant_type", DEVICE_GRANT),
                ("device_code", "BCDF-GHJK"),
                ("client_id", TV),
            ],
            None,
            400,
            "invalid_grant",
            None,
        ),
        (
            "rfc8628_3_4_rfc6749_5_2_client_without_the_device_grant",
            token,
            vec![
                ("grant_type", DEVICE_GRANT),
                ("device_code", pending.as_str()),
                ("client_id", fx.spa.id.as_str()),
            ],
            None,
            400,
            "unauthorized_client",
            None,
        ),
        (
            "rfc8628_3_5_unknown_device_code_is_expired_token",
            token,
            vec![
                ("grant_type", DEVICE_GRANT),
                (
                    "device_code",
                    "pc_dc_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                ),
                ("client_id", TV),
            ],
            None,
            400,
            "expired_token",
            None,
        ),
    ];
    for (name, path, form, basic, status, error, must_have) in rows {
        let response = fx.post_form(path, &form, basic).await;
        assert_eq!(
            header(&response, "cache-control").as_deref(),
            Some("no-store"),
            "{name}"
        );
        if let Some((header_name, prefix)) = must_have {
            let value = header(&response, header_name).unwrap_or_default();
            assert!(value.starts_with(prefix), "{name}: {header_name}: {value}");
        }
        let body = body_json(response, status).await;
        assert_eq!(body["error"], error, "{name}: {body}");
        assert!(body["error_description"].is_string(), "{name}");
    }
    // §3.1: GET is not how a device asks.
    let get = fx
        .http
        .get(fx.url("/oauth/device_authorization?client_id=living-room-tv"))
        .send()
        .await
        .unwrap();
    assert_eq!(header(&get, "allow").as_deref(), Some("POST"));
    assert_eq!(body_json(get, 405).await["error"], "invalid_request");
}

/// RFC 8628 §5.1: wrong user codes on the page are rate limited per user (429 with
/// `Retry-After`), and then even the right code waits for the window to end.
pub async fn device_flow_user_code_rate_limit<A: Adapter>() {
    let fx = device_fixture::<A>().await;
    let started = start_device(&fx, "view:users").await;
    let user_code = started["user_code"].as_str().unwrap().to_owned();
    let first = user_code.as_bytes()[0];
    let wrong = format!(
        "{}{}",
        if first == b'B' { 'C' } else { 'B' },
        &user_code[1..]
    );
    // Signs in through the round trip of a wrong code's link.
    let complete = format!("{}/oauth/device?user_code={wrong}", fx.server.base);
    let response = fx.browser.get(complete).send().await.unwrap();
    let login = header(&response, "location").unwrap();
    let html = fx
        .browser
        .get(fx.url(&login))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = input_value(&html, "csrf").unwrap();
    let return_to = input_value(&html, "return_to").unwrap();
    let signed_in = fx
        .browser
        .post(fx.url("/oauth/login"))
        .form(&[
            ("return_to", return_to.as_str()),
            ("csrf", csrf.as_str()),
            ("username", USER),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status().as_u16(), 303);
    let mut statuses = Vec::new();
    for _ in 0..portcullis_endpoints::USER_CODE_ATTEMPTS_PER_USER {
        let response = fx
            .browser
            .post(fx.url("/oauth/device"))
            .form(&[("csrf", csrf.as_str()), ("user_code", wrong.as_str())])
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert!(statuses.iter().all(|s| *s == 400), "{statuses:?}");
    let limited = fx
        .browser
        .post(fx.url("/oauth/device"))
        .form(&[("csrf", csrf.as_str()), ("user_code", user_code.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(limited.status().as_u16(), 429);
    assert!(header(&limited, "retry-after").is_some());
}

/// RFC 8628 §4: discovery lists `device_authorization_endpoint` and the grant only when
/// the device flow is enabled, and only then is the endpoint mounted.
pub async fn device_flow_discovery_only_when_enabled<A: Adapter>() {
    for enabled in [false, true] {
        let fx = if enabled {
            device_fixture::<A>().await
        } else {
            Fixture::start::<A>().await
        };
        let document = body_json(
            fx.http
                .get(fx.url("/.well-known/openid-configuration"))
                .send()
                .await
                .unwrap(),
            200,
        )
        .await;
        let grants: Vec<&str> = document["grant_types_supported"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(grants.contains(&DEVICE_GRANT), enabled, "{document}");
        assert_eq!(
            document.get("device_authorization_endpoint").is_some(),
            enabled,
            "{document}"
        );
        if enabled {
            assert_eq!(
                document["device_authorization_endpoint"],
                format!("{}/oauth/device_authorization", fx.server.base)
            );
        }
        let response = fx
            .post_form("/oauth/device_authorization", &[("client_id", TV)], None)
            .await;
        assert_eq!(
            response.status().as_u16() == 404,
            !enabled,
            "mounted only when enabled"
        );
    }
}
