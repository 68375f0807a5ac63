//! The admin console over plain HTTP: what a browser test cannot see well. Every page needs
//! a session, every form its CSRF token (a forged submission changes nothing), cookies are
//! strict, pages are never cached or framed, and a form shows the admin API's own messages.

use reqwest::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, LOCATION, SET_COOKIE};
use reqwest::{Client, StatusCode};
use serde_json::json;

use crate::support::{ADMIN_TOKEN, Server, TempDb};

/// A cookie-keeping client that does not follow redirects, like a browser seen from outside.
fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client")
}

/// The `value` of the hidden `csrf` input of a page.
fn csrf_of(html: &str) -> String {
    let start = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    let end = html[start..].find('"').expect("end of value") + start;
    html[start..end].to_owned()
}

/// Signs `browser` in; returns the session's CSRF token.
async fn sign_in(server: &Server, browser: &Client) -> String {
    let page = browser
        .get(server.url("/admin"))
        .send()
        .await
        .expect("sign-in page");
    let form_csrf = csrf_of(&page.text().await.expect("html"));
    let response = browser
        .post(server.url("/admin/sign-in"))
        .form(&[("csrf", form_csrf.as_str()), ("token", ADMIN_TOKEN)])
        .send()
        .await
        .expect("sign in");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let clients = browser
        .get(server.url("/admin/console/clients"))
        .send()
        .await
        .expect("clients page");
    assert_eq!(clients.status(), StatusCode::OK);
    csrf_of(&clients.text().await.expect("html"))
}

async fn client_count(server: &Server) -> usize {
    let (status, clients) = server.admin_get("/admin/clients").await;
    assert_eq!(status, StatusCode::OK);
    clients.as_array().expect("a list").len()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_console_page_needs_a_session() {
    let db = TempDb::new();
    let server = Server::start_ok(&db.url(), None, &["--demo"]).await;
    let browser = browser();
    // request → 303 to the sign-in page, nothing done.
    let table: &[(&str, &str)] = &[
        ("GET", "/admin/console/clients"),
        ("GET", "/admin/console/clients/new"),
        ("GET", "/admin/console/clients/demo-web"),
        ("GET", "/admin/console/clients/demo-web/endpoints"),
        ("GET", "/admin/console/scopes"),
        ("GET", "/admin/console/users"),
        ("GET", "/admin/console/audit"),
        ("POST", "/admin/console/clients"),
        ("POST", "/admin/console/clients/demo-web/revoked"),
        ("POST", "/admin/console/clients/demo-web/secret"),
        ("POST", "/admin/console/scopes"),
        ("POST", "/admin/console/users"),
        ("POST", "/admin/sign-out"),
    ];
    let before = client_count(&server).await;
    for (method, path) in table {
        let request = match *method {
            "GET" => browser.get(server.url(path)),
            _ => browser.post(server.url(path)).form(&[
                ("name", "x"),
                ("application_type", "m2m"),
                ("revoked", "true"),
            ]),
        };
        let response = request.send().await.expect("request");
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{method} {path}");
        assert_eq!(response.headers()[LOCATION], "/admin", "{method} {path}");
    }
    assert_eq!(client_count(&server).await, before, "nothing was created");
    let (_, web) = server.admin_get("/admin/clients/demo-web").await;
    assert_eq!(web["revoked"], false, "nothing was revoked");
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_needs_the_form_cookie_and_the_token() {
    let db = TempDb::new();
    let server = Server::start_ok(&db.url(), None, &[]).await;

    // No sign-in cookie (a form posted from another site): 403, no session.
    let response = browser()
        .post(server.url("/admin/sign-in"))
        .form(&[("csrf", "forged"), ("token", ADMIN_TOKEN)])
        .send()
        .await
        .expect("sign in");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.headers().get_all(SET_COOKIE).iter().all(|cookie| {
        !cookie
            .to_str()
            .unwrap_or_default()
            .starts_with("pc_console=")
    }));

    // A wrong token: 401 and the message next to the field.
    let browser = browser();
    let page = browser
        .get(server.url("/admin"))
        .send()
        .await
        .expect("page");
    let sign_in_cookie = page.headers()[SET_COOKIE]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        sign_in_cookie.contains("HttpOnly") && sign_in_cookie.contains("SameSite=Strict"),
        "{sign_in_cookie}"
    );
    let csrf = csrf_of(&page.text().await.expect("html"));
    let response = browser
        .post(server.url("/admin/sign-in"))
        .form(&[("csrf", csrf.as_str()), ("token", "wrong")])
        .send()
        .await
        .expect("sign in");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let html = response.text().await.expect("html");
    assert!(
        html.contains("data-field=\"token\">this is not the admin token"),
        "{html}"
    );

    // The token: 303 to the clients, with a strict session cookie for /admin only.
    let csrf = csrf_of(&html);
    let response = browser
        .post(server.url("/admin/sign-in"))
        .form(&[("csrf", csrf.as_str()), ("token", ADMIN_TOKEN)])
        .send()
        .await
        .expect("sign in");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], "/admin/console/clients");
    let session = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|cookie| cookie.to_str().ok())
        .find(|cookie| cookie.starts_with("pc_console="))
        .expect("a session cookie")
        .to_owned();
    for part in ["Path=/admin", "HttpOnly", "SameSite=Strict", "Max-Age="] {
        assert!(session.contains(part), "{part} in {session}");
    }
    assert!(!session.contains("Secure"), "http issuer: no Secure flag");
}

#[tokio::test(flavor = "multi_thread")]
async fn forms_without_the_session_token_change_nothing() {
    let db = TempDb::new();
    let server = Server::start_ok(&db.url(), None, &["--demo"]).await;
    let browser = browser();
    let csrf = sign_in(&server, &browser).await;
    let before = client_count(&server).await;

    // request (signed in, CSRF token missing or wrong) → 403, nothing changed.
    for token in ["", "forged", &csrf[1..]] {
        let table: &[(&str, &[(&str, &str)])] = &[
            (
                "/admin/console/clients",
                &[("name", "Forged"), ("application_type", "m2m")],
            ),
            (
                "/admin/console/clients/demo-web/revoked",
                &[("revoked", "true")],
            ),
            ("/admin/console/clients/demo-web/secret", &[]),
            (
                "/admin/console/scopes",
                &[("name", "forged:scope"), ("description", "x")],
            ),
            (
                "/admin/console/users",
                &[
                    ("username", "mallory"),
                    ("password", "long enough password"),
                ],
            ),
            ("/admin/sign-out", &[]),
        ];
        for (path, fields) in table {
            let mut form: Vec<(&str, &str)> = fields.to_vec();
            form.push(("csrf", token));
            let response = browser
                .post(server.url(path))
                .form(&form)
                .send()
                .await
                .expect("post");
            assert_eq!(
                response.status(),
                StatusCode::FORBIDDEN,
                "{path} with {token:?}"
            );
        }
    }
    assert_eq!(client_count(&server).await, before);
    let (_, web) = server.admin_get("/admin/clients/demo-web").await;
    assert_eq!(web["revoked"], false);
    let (_, scopes) = server.admin_get("/admin/scopes").await;
    assert!(!scopes.to_string().contains("forged:scope"));
    let (_, users) = server.admin_get("/admin/users").await;
    assert!(!users.to_string().contains("mallory"));
    // Still signed in (the forged sign-out did nothing).
    let page = browser
        .get(server.url("/admin/console/users"))
        .send()
        .await
        .expect("users page");
    assert_eq!(page.status(), StatusCode::OK);

    // A toggle value that is neither true nor false is a 400.
    let response = browser
        .post(server.url("/admin/console/clients/demo-web/revoked"))
        .form(&[("csrf", csrf.as_str()), ("revoked", "maybe")])
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_are_not_cached_or_framed_and_show_the_api_messages() {
    let db = TempDb::new();
    let server = Server::start_ok(&db.url(), None, &["--demo"]).await;
    let browser = browser();
    let csrf = sign_in(&server, &browser).await;

    for path in [
        "/admin",
        "/admin/console/clients",
        "/admin/console/clients/new",
        "/admin/console/clients/demo-m2m",
        "/admin/console/clients/demo-m2m/endpoints",
        "/admin/console/scopes",
        "/admin/console/users",
    ] {
        let response = browser.get(server.url(path)).send().await.expect("page");
        if path == "/admin" {
            assert_eq!(
                response.status(),
                StatusCode::SEE_OTHER,
                "signed in already"
            );
            continue;
        }
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let headers = response.headers();
        assert_eq!(headers[CACHE_CONTROL], "no-store", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        let csp = headers[CONTENT_SECURITY_POLICY].to_str().expect("ascii");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        let html = response.text().await.expect("html");
        assert!(
            html.contains("name=\"csrf\""),
            "{path} has forms with the token"
        );
    }

    // The same bad input through the API and through the form: the same messages.
    let (status, api) = server
        .admin_post(
            "/admin/clients",
            json!({"name": "", "application_type": "web", "access_token_lifetime_secs": 100,
                   "redirect_uris": ["not a uri"], "scopes": ["openid"]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let response = browser
        .post(server.url("/admin/console/clients"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", ""),
            ("application_type", "web"),
            ("access_token_lifetime_secs", "100"),
            ("redirect_uris", "not a uri"),
            ("scope", "openid"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = response.text().await.expect("html");
    let fields = api["fields"].as_array().expect("field messages");
    assert_eq!(fields.len(), 3, "{api}");
    for field in fields {
        let name = field["field"].as_str().expect("field");
        let message = field["message"].as_str().expect("message");
        let (base, prefix) = match name.split_once('[') {
            Some((base, _)) => (base, "line 1: "),
            None => (name, ""),
        };
        let escaped = message
            .replace('&', "&amp;")
            .replace('"', "&#34;")
            .replace('\'', "&#39;");
        let shown = format!("data-field=\"{base}\">{prefix}{escaped}</p>");
        assert!(html.contains(&shown), "{shown} in the form page");
    }

    // The secret is shown when the client is created, and never on a page again.
    let response = browser
        .post(server.url("/admin/console/clients"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "Nightly export"),
            ("application_type", "m2m"),
            ("scope", "view:users"),
            ("roles", "reader\nwriter emea"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
    let html = response.text().await.expect("html");
    let value_of = |id: &str| {
        let marker = format!("id=\"{id}\" value=\"");
        let start = html.find(&marker).expect(id) + marker.len();
        html[start..start + html[start..].find('"').expect("end")].to_owned()
    };
    let (client_id, secret) = (value_of("client-id"), value_of("client-secret"));
    let (status, token) = server
        .form(
            "/oauth/token",
            (&client_id, &secret),
            &[
                ("grant_type", "client_credentials"),
                ("scope", "view:users"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "the shown secret works: {token}");
    let (_, stored) = server
        .admin_get(&format!("/admin/clients/{client_id}"))
        .await;
    assert_eq!(
        stored["roles"],
        json!([{"role": "reader"}, {"role": "writer", "division": "emea"}])
    );
    // Extension grants are ticked like any other (here the device grant, RFC 8628).
    let response = browser
        .post(server.url("/admin/console/clients"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "Living-room TV"),
            ("application_type", "native"),
            ("redirect_uris", "http://127.0.0.1/callback"),
            ("scope", "openid"),
            ("grant_type", "authorization_code"),
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), StatusCode::CREATED);
    let html = response.text().await.expect("html");
    let marker = "id=\"client-id\" value=\"";
    let start = html.find(marker).expect("an id") + marker.len();
    let tv = &html[start..start + html[start..].find('"').expect("end")];
    let (_, stored) = server.admin_get(&format!("/admin/clients/{tv}")).await;
    assert_eq!(
        stored["grant_types"],
        json!([
            "authorization_code",
            "urn:ietf:params:oauth:grant-type:device_code"
        ])
    );

    // Rotate secret: the new one is shown once and works, the old one stops working.
    let response = browser
        .post(server.url(&format!("/admin/console/clients/{client_id}/secret")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("rotate");
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.expect("html");
    let marker = "id=\"client-secret\" value=\"";
    let start = html.find(marker).expect("a new secret") + marker.len();
    let rotated = html[start..start + html[start..].find('"').expect("end")].to_owned();
    assert_ne!(rotated, secret);
    let grant = [
        ("grant_type", "client_credentials"),
        ("scope", "view:users"),
    ];
    let (status, _) = server
        .form("/oauth/token", (&client_id, &secret), &grant)
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the old secret is refused"
    );
    let (status, _) = server
        .form("/oauth/token", (&client_id, &rotated), &grant)
        .await;
    assert_eq!(status, StatusCode::OK, "the new secret works");

    for path in [
        "/admin/console/clients".to_owned(),
        format!("/admin/console/clients/{client_id}"),
        format!("/admin/console/clients/{client_id}/endpoints"),
    ] {
        let html = browser
            .get(server.url(&path))
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("html");
        assert!(!html.contains(&secret), "{path} shows no secret");
        assert!(!html.contains(&rotated), "{path} shows no secret");
    }
}

/// Issue 12: the audit log records what the provider did, and the Audit page filters it by
/// client, user, type and time.
#[tokio::test(flavor = "multi_thread")]
async fn the_audit_page_lists_and_filters_the_events() {
    let db = TempDb::new();
    let server = Server::start_ok(&db.url(), None, &[]).await;
    let (status, client) = server
        .admin_post(
            "/admin/clients",
            json!({"name": "Audited job", "application_type": "m2m"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{client}");
    let id = client["client_id"].as_str().expect("id").to_owned();
    let secret = client["client_secret"].as_str().expect("secret").to_owned();
    let response = server
        .http
        .post(server.url("/oauth/token"))
        .basic_auth(&id, Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token");
    assert_eq!(response.status(), StatusCode::OK);

    let browser = browser();
    sign_in(&server, &browser).await;
    let page = |query: &'static str| {
        let browser = browser.clone();
        let url = server.url(&format!("/admin/console/audit{query}"));
        async move {
            let response = browser.get(url).send().await.expect("audit page");
            assert_eq!(response.status(), StatusCode::OK);
            response.text().await.expect("html")
        }
    };
    // The queue records in the background: wait until both events are there.
    let mut html = String::new();
    for _ in 0..50 {
        html = page("").await;
        if html.contains("data-type=\"token.issued\"")
            && html.contains("data-type=\"client.created\"")
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(html.contains("data-type=\"client.created\""), "{html}");
    assert!(html.contains("data-type=\"token.issued\""), "{html}");
    assert!(html.contains(&id));
    assert!(!html.contains(&secret), "events carry no secrets");

    let only_tokens = page("?type=token.issued").await;
    assert!(only_tokens.contains("data-type=\"token.issued\""));
    assert!(!only_tokens.contains("data-type=\"client.created\""));
    let other_client = page("?client=someone-else").await;
    assert!(
        !other_client.contains("data-type="),
        "no rows for another client"
    );
    let future = page("?since=2999-01-01T00%3A00").await;
    assert!(
        !future.contains("data-type="),
        "nothing after the year 2999"
    );
    let junk = page("?since=yesterday").await;
    assert!(junk.contains("since: use YYYY-MM-DDTHH:MM"), "{junk}");
}
