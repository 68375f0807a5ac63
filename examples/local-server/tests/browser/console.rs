//! The console end to end in Chromium: sign in with the admin token, create a client through
//! the form (messages next to the fields first), see the secret once, copy it, open the
//! Endpoints tab, add a scope and a user, sign the demo user in and consent, land on the
//! redirect URI with a code, then toggle **Revoked** and see the client's token refused.

use reqwest::StatusCode;
use serde_json::Value;

use crate::driver::{Browser, landing_page};
use crate::local_client::demo_password;
use crate::support::{ADMIN_TOKEN, Server, TempDb, random_name};

/// A query parameter of `url`.
fn query(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn console_and_login_pages_in_chromium() {
    let Some(mut browser) = Browser::start("console").await else {
        return;
    };
    let db = TempDb::new();
    let server = Server::start_ok(&db.url(), None, &["--demo"]).await;
    let (redirect_uri, _landing) = landing_page().await;

    // Console pages need a session.
    browser.goto(&server.url("/admin/console/clients")).await;
    assert_eq!(browser.url().await, server.url("/admin"));

    // Sign in: a wrong token is refused next to the field, the right one opens the console.
    browser.fill("#token", "not-the-token").await;
    browser.follow("#sign-in").await;
    assert_eq!(
        browser.field_errors("token").await,
        ["this is not the admin token"]
    );
    browser.shot("sign-in-refused").await;
    browser.fill("#token", ADMIN_TOKEN).await;
    browser.follow("#sign-in").await;
    assert_eq!(browser.url().await, server.url("/admin/console/clients"));
    for demo in [
        "demo-web",
        "demo-spa",
        "demo-native",
        "demo-m2m",
        "demo-password",
    ] {
        assert!(
            browser.has(&format!("tr[data-client=\"{demo}\"]")).await,
            "{demo} is listed"
        );
    }
    browser.shot("clients").await;

    // New client: the server's messages appear next to their fields, input is kept.
    browser.follow("#new-client").await;
    assert_eq!(
        browser.url().await,
        server.url("/admin/console/clients/new")
    );
    browser.fill("#name", "").await;
    browser.fill("#redirect_uris", "not a uri").await;
    browser.fill("#access_token_lifetime_secs", "100").await;
    browser.shot("new-client-form").await;
    browser.follow("#create").await;
    assert!(
        !browser.field_errors("name").await.is_empty(),
        "name message"
    );
    let lifetime = browser.field_errors("access_token_lifetime_secs").await;
    assert!(
        lifetime
            .iter()
            .any(|m| m.contains("300") && m.contains("172800")),
        "lifetime message names the range: {lifetime:?}"
    );
    let uris = browser.field_errors("redirect_uris").await;
    assert!(uris.iter().any(|m| m.starts_with("line 1:")), "{uris:?}");
    assert_eq!(browser.value("#redirect_uris").await, "not a uri");
    browser.shot("new-client-messages").await;

    // A valid regular web application.
    let name = format!("Browser app {}", random_name());
    browser.fill("#name", &name).await;
    browser.fill("#redirect_uris", &redirect_uri).await;
    browser
        .fill("#description", "Registered through the console")
        .await;
    browser.fill("#access_token_lifetime_secs", "900").await;
    browser
        .click("input[name=scope][value=\"view:users\"]")
        .await;
    browser.follow("#create").await;
    let client_id = browser.value("#client-id").await;
    let secret = browser.value("#client-secret").await;
    assert!(
        !client_id.is_empty() && secret.len() >= 40,
        "{client_id} {secret}"
    );
    assert!(
        browser
            .text("#secret-warning")
            .await
            .contains("keep it confidential")
    );
    browser.click("button[data-copy=\"client-secret\"]").await;
    let copied = browser
        .client
        .wait()
        .at_most(std::time::Duration::from_secs(5))
        .for_element(fantoccini::Locator::XPath(
            "//button[@data-copy='client-secret' and text()='Copied']",
        ))
        .await;
    assert!(copied.is_ok(), "the copy button ran");
    browser.shot("client-created-secret-once").await;

    // The secret is never shown again.
    browser
        .goto(&server.url(&format!("/admin/console/clients/{client_id}")))
        .await;
    assert!(!browser.source().await.contains(&secret));
    assert_eq!(browser.text("#client-id").await, client_id);
    browser.shot("client-settings").await;

    // The Endpoints tab.
    browser.follow("#tab-endpoints").await;
    assert_eq!(
        browser.url().await,
        server.url(&format!("/admin/console/clients/{client_id}/endpoints"))
    );
    for (id, path) in [
        ("discovery_url", "/.well-known/openid-configuration"),
        ("authorization_url", "/oauth/authorize"),
        ("token_url", "/oauth/token"),
        ("logout_url", "/oauth/logout"),
        ("userinfo_url", "/oauth/userinfo"),
    ] {
        assert_eq!(
            browser.value(&format!("#{id}")).await,
            server.url(path),
            "{id}"
        );
    }
    assert_eq!(browser.value("#issuer").await, server.base);
    browser.click("button[data-copy=\"token_url\"]").await;
    browser.shot("client-endpoints").await;

    // Scopes: a bad name is refused next to the field; a good one is listed; a duplicate
    // is a conflict on the name.
    browser
        .follow("header nav a[href=\"/admin/console/scopes\"]")
        .await;
    assert!(browser.has("tr[data-scope=\"view:users\"]").await);
    assert!(browser.has("tr[data-scope=\"openid\"]").await);
    browser.fill("#name", "two words").await;
    browser.fill("#description", "Export reports").await;
    browser.follow("#add-scope").await;
    assert_eq!(browser.field_errors("name").await.len(), 1);
    assert_eq!(browser.value("#description").await, "Export reports");
    browser.fill("#name", "export:reports").await;
    browser.follow("#add-scope").await;
    assert_eq!(browser.url().await, server.url("/admin/console/scopes"));
    assert!(browser.has("tr[data-scope=\"export:reports\"]").await);
    browser.fill("#name", "export:reports").await;
    browser.fill("#description", "Again").await;
    browser.follow("#add-scope").await;
    assert_eq!(browser.field_errors("name").await, ["already exists"]);
    browser.shot("scopes").await;

    // Users: a short password is refused next to the field; a good user is listed.
    browser
        .follow("header nav a[href=\"/admin/console/users\"]")
        .await;
    assert!(browser.has("tr[data-user=\"demo\"]").await);
    browser.fill("#username", "grace").await;
    browser.fill("#password", "short").await;
    browser.follow("#add-user").await;
    browser.shot("users-short-password").await;
    assert_eq!(
        browser.field_errors("password").await.len(),
        1,
        "{}",
        browser.source().await
    );
    assert_eq!(browser.value("#username").await, "grace");
    assert_eq!(
        browser.value("#password").await,
        "",
        "passwords are not sent back"
    );
    browser.fill("#password", "a long enough password").await;
    browser.fill("#user-name", "Grace Hopper").await;
    browser.fill("#email", "grace@example.test").await;
    browser.follow("#add-user").await;
    assert!(browser.has("tr[data-user=\"grace\"]").await);
    browser.shot("users").await;

    // The demo user signs in to the new client and consents; the browser lands on the
    // redirect URI with a code, the state and the issuer (RFC 9207).
    let authorize = format!(
        "{}?response_type=code&client_id={client_id}&redirect_uri={}&scope={}&state=xyz-state&nonce=n-1",
        server.url("/oauth/authorize"),
        url::form_urlencoded::byte_serialize(redirect_uri.as_bytes()).collect::<String>(),
        url::form_urlencoded::byte_serialize(b"openid profile view:users").collect::<String>(),
    );
    browser.goto(&authorize).await;
    browser.find("input[name=username]").await;
    assert!(
        browser.source().await.contains(&name),
        "the login page names the client"
    );
    browser.shot("login").await;
    browser.fill("input[name=username]", "demo").await;
    browser
        .fill("input[name=password]", &demo_password(&server))
        .await;
    browser
        .follow("form button[type=submit], form input[type=submit]")
        .await;
    browser.find("button[name=decision][value=allow]").await;
    let consent = browser.source().await;
    assert!(consent.contains("view:users"), "consent lists the scopes");
    browser.shot("consent").await;
    browser.follow("button[name=decision][value=allow]").await;
    browser.find("#landed").await;
    let landed = browser.url().await;
    assert!(landed.starts_with(&redirect_uri), "{landed}");
    assert_eq!(query(&landed, "state").as_deref(), Some("xyz-state"));
    assert_eq!(query(&landed, "iss").as_deref(), Some(server.base.as_str()));
    let code = query(&landed, "code").expect("a code on the redirect URI");
    browser.shot("redirect-with-code").await;

    // The web app redeems the code with its secret and calls the API.
    let (status, tokens) = server
        .form(
            "/oauth/token",
            (&client_id, &secret),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", &redirect_uri),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let access = tokens["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned();
    assert!(tokens["id_token"].is_string());
    let (status, me) = server.bearer_get("/api/me", &access).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["client_id"], Value::from(client_id.as_str()));

    // Revoked: the toggle in the list cuts the client off at once.
    browser.goto(&server.url("/admin/console/clients")).await;
    let toggle = format!("button.revoked-toggle[data-client=\"{client_id}\"]");
    assert_eq!(browser.text(&toggle).await, "Revoke");
    browser.follow(&toggle).await;
    assert_eq!(browser.text(&toggle).await, "Restore");
    assert_eq!(
        browser
            .text(&format!("tr[data-client=\"{client_id}\"] .badge"))
            .await,
        "Revoked"
    );
    browser.shot("client-revoked").await;
    let (status, body) = server.bearer_get("/api/me", &access).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, body) = server
        .form(
            "/oauth/token",
            (&client_id, &secret),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"], "invalid_client");

    // Restoring lets the client in again, but its old tokens stay revoked.
    browser.follow(&toggle).await;
    assert_eq!(browser.text(&toggle).await, "Revoke");
    let (status, _) = server.bearer_get("/api/me", &access).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Signing out ends the session.
    browser.follow("#sign-out").await;
    assert_eq!(browser.url().await, server.url("/admin"));
    browser.goto(&server.url("/admin/console/users")).await;
    assert_eq!(browser.url().await, server.url("/admin"));
    browser.shot("signed-out").await;
    browser.close().await;
}
