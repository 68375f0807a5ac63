//! The default login and consent pages check the example's users table: a user created
//! through the admin API signs in, consents, and the client redeems the code (RFC 6749
//! §4.1 with PKCE, RFC 7636) for tokens that carry the user's claims.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Server, TempDb, access_token, json_of};

/// RFC 7636 Appendix B's verifier and challenge.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const REDIRECT: &str = "http://127.0.0.1:8400/callback";

/// The `value` of the `<input name="…">` of a page.
fn input_value(html: &str, name: &str) -> Option<String> {
    html.split("<input").skip(1).find_map(|tag| {
        let tag = tag.split('>').next()?;
        let attribute = |attr: &str| {
            let start = tag.find(&format!("{attr}=\""))? + attr.len() + 2;
            let end = tag.get(start..)?.find('"')? + start;
            tag.get(start..end).map(|value| value.replace("&amp;", "&"))
        };
        (attribute("name")? == name)
            .then(|| attribute("value"))
            .flatten()
    })
}

fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .and_then(|value| value.to_str().ok())
        .expect("a Location header")
        .to_owned()
}

/// The value of `name` in the query of `url`.
fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then(|| value.replace("%3A", ":").replace("%2F", "/"))
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_user_signs_in_consents_and_the_code_is_redeemed() {
    let db = TempDb::new();
    let server = Server::start_ok(&db.url(), None, &[]).await;
    let (status, client) = server
        .admin_post(
            "/admin/clients",
            json!({"name": "Browser app", "application_type": "spa",
                   "redirect_uris": [REDIRECT], "scopes": ["openid", "profile", "email"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{client}");
    let client_id = client["client_id"].as_str().expect("id").to_owned();
    let (status, user) = server
        .admin_post(
            "/admin/users",
            json!({"username": "dana", "password": "dana's password", "email": "dana@example.com"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");

    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a browser");
    let authorize = format!(
        "{}/oauth/authorize?response_type=code&client_id={client_id}&redirect_uri={REDIRECT}\
         &scope=openid%20email&state=xyz&code_challenge={CHALLENGE}&code_challenge_method=S256",
        server.base
    );
    let response = browser.get(&authorize).send().await.expect("authorize");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let login = server.url(&location(&response));
    let page = browser.get(&login).send().await.expect("login page");
    let html = page.text().await.expect("html");
    let form = |password: &'static str| {
        [
            (
                "interaction",
                input_value(&html, "interaction").expect("interaction"),
            ),
            ("csrf", input_value(&html, "csrf").expect("csrf")),
            ("username", "dana".to_owned()),
            ("password", password.to_owned()),
        ]
    };
    let refused = browser
        .post(server.url("/oauth/login"))
        .form(&form("not dana's password"))
        .send()
        .await
        .expect("login");
    assert_ne!(
        refused.status(),
        StatusCode::SEE_OTHER,
        "a wrong password is refused"
    );
    let response = browser
        .post(server.url("/oauth/login"))
        .form(&form("dana's password"))
        .send()
        .await
        .expect("login");
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "DESIGN §4.1: login answers 303"
    );

    let consent = server.url(&location(&response));
    let page = browser.get(&consent).send().await.expect("consent page");
    let html = page.text().await.expect("html");
    let response = browser
        .post(server.url("/oauth/consent"))
        .form(&[
            (
                "interaction",
                input_value(&html, "interaction").expect("interaction"),
            ),
            ("csrf", input_value(&html, "csrf").expect("csrf")),
            ("decision", "allow".to_owned()),
        ])
        .send()
        .await
        .expect("consent");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let redirect = location(&response);
    assert!(redirect.starts_with(REDIRECT), "{redirect}");
    assert_eq!(query_param(&redirect, "state").as_deref(), Some("xyz"));
    assert_eq!(
        query_param(&redirect, "iss").as_deref(),
        Some(server.base.as_str()),
        "RFC 9207"
    );
    let code = query_param(&redirect, "code").expect("a code");

    let response = server
        .http
        .post(server.url("/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", &client_id),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .expect("token");
    let (status, tokens) = json_of(response).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert!(tokens["id_token"].is_string());
    let (_, claims) = server
        .bearer_get("/oauth/userinfo", &access_token(&tokens))
        .await;
    assert_eq!(claims["sub"], user["subject"]);
    assert_eq!(claims["email"], "dana@example.com");
}
