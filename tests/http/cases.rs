//! The cases, each run under every adapter. Names say what they prove; the clause is in
//! the doc line.

use serde_json::Value;

use super::Adapter;
pub use super::client_jwt::*;
pub use super::device::*;
pub use super::dpop::*;
pub use super::extension_grants::*;
use super::fixture::*;
pub use super::interop::*;
pub use super::oidc::*;
pub use super::pairwise::*;
pub use super::par::*;
pub use super::rate_limit::*;
pub use super::registration::*;
pub use super::resource_indicators::*;

fn assert_no_store(response: &reqwest::Response) {
    assert_eq!(
        header(response, "cache-control").as_deref(),
        Some("no-store")
    );
}

async fn expect_error(response: reqwest::Response, status: u16, error: &str) -> Value {
    assert_no_store(&response);
    let body = body_json(response, status).await;
    assert_eq!(body["error"], error, "{body}");
    body
}

// ---------------------------------------------------------------------------------------
// Token endpoint (RFC 6749 §3.2, §4.4, §5)

/// RFC 6749 §4.4: client credentials with `client_secret_basic`.
pub async fn token_client_credentials_basic<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let response = fx
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "client_credentials"),
                ("scope", "view:users"),
            ],
            Some((&fx.machine.id, fx.machine.secret())),
        )
        .await;
    let body = body_json(response, 200).await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "view:users");
    assert_eq!(body["expires_in"], 3600);
    assert!(body.get("refresh_token").is_none(), "RFC 6749 §4.4.3");
}

/// RFC 6749 §5.1: `Cache-Control: no-store`, `Pragma: no-cache`, JSON.
pub async fn token_response_headers<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let response = fx
        .post_form(
            "/oauth/token",
            &[("grant_type", "client_credentials")],
            Some((&fx.machine.id, fx.machine.secret())),
        )
        .await;
    assert_no_store(&response);
    assert_eq!(header(&response, "pragma").as_deref(), Some("no-cache"));
    assert!(
        header(&response, "content-type")
            .unwrap_or_default()
            .starts_with("application/json")
    );
    body_json(response, 200).await;
}

/// RFC 6749 §5.2: a failed Basic authentication is 401 with `WWW-Authenticate: Basic`.
pub async fn token_invalid_client_wrong_secret_basic<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let response = fx
        .post_form(
            "/oauth/token",
            &[("grant_type", "client_credentials")],
            Some((&fx.machine.id, "wrong")),
        )
        .await;
    let challenge = header(&response, "www-authenticate").unwrap_or_default();
    assert!(challenge.starts_with("Basic realm="), "{challenge}");
    expect_error(response, 401, "invalid_client").await;
}

/// RFC 6749 §5.2: an unknown client authenticating in the body is `invalid_client`.
pub async fn token_invalid_client_unknown_post<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let response = fx
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "nobody"),
                ("client_secret", "x"),
            ],
            None,
        )
        .await;
    expect_error(response, 401, "invalid_client").await;
}

/// RFC 6749 §3.2.1: confidential clients must authenticate.
pub async fn token_no_client_authentication<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let response = fx
        .post_form(
            "/oauth/token",
            &[("grant_type", "client_credentials")],
            None,
        )
        .await;
    expect_error(response, 401, "invalid_client").await;
}

/// RFC 7591 §2 `token_endpoint_auth_method`: a client registered for Basic may not use the body.
pub async fn token_auth_method_mismatch<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let response = fx
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &fx.machine.id),
                ("client_secret", fx.machine.secret()),
            ],
            None,
        )
        .await;
    expect_error(response, 401, "invalid_client").await;
}

/// RFC 6749 §2.3: one authentication method per request.
pub async fn token_both_auth_methods<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let response = fx
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_secret", fx.machine.secret()),
            ],
            Some((&fx.machine.id, fx.machine.secret())),
        )
        .await;
    expect_error(response, 400, "invalid_request").await;
}

/// RFC 6749 §3.2: the token endpoint takes POST only.
pub async fn token_get_not_allowed<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let response = fx
        .http
        .get(fx.url("/oauth/token?grant_type=client_credentials"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 405, "{}", A::NAME);
}

/// RFC 6749 §3.2: the body is `application/x-www-form-urlencoded`.
pub async fn token_non_form_body<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let response = fx
        .http
        .post(fx.url("/oauth/token"))
        .basic_auth(&fx.machine.id, Some(fx.machine.secret()))
        .header("content-type", "application/json")
        .body(r#"{"grant_type":"client_credentials"}"#)
        .send()
        .await
        .unwrap();
    expect_error(response, 400, "invalid_request").await;
}

/// A body over the provider's limit is refused with 413 before it is parsed.
pub async fn token_body_too_large<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let big = "x".repeat(fx.provider.max_body_bytes() + 10);
    let response = fx
        .post_form(
            "/oauth/token",
            &[("grant_type", "client_credentials"), ("padding", &big)],
            Some((&fx.machine.id, fx.machine.secret())),
        )
        .await;
    assert_eq!(response.status().as_u16(), 413, "{}", A::NAME);
}

/// RFC 6749 §3.1: parameters must not be repeated.
pub async fn token_duplicate_parameter<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let response = fx
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "client_credentials"),
                ("scope", "view:users"),
                ("scope", "create:users"),
            ],
            Some((&fx.machine.id, fx.machine.secret())),
        )
        .await;
    expect_error(response, 400, "invalid_request").await;
}

/// RFC 6749 §5.2 `unsupported_grant_type`.
pub async fn token_unsupported_grant_type<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let response = fx
        .post_form(
            "/oauth/token",
            &[("grant_type", "urn:example:unknown")],
            Some((&fx.machine.id, fx.machine.secret())),
        )
        .await;
    expect_error(response, 400, "unsupported_grant_type").await;
}

/// RFC 6749 §5.2 `unauthorized_client`: a web client may not use client credentials.
pub async fn token_unauthorized_client<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let response = fx
        .post_form(
            "/oauth/token",
            &[("grant_type", "client_credentials")],
            Some((&fx.web.id, fx.web.secret())),
        )
        .await;
    expect_error(response, 400, "unauthorized_client").await;
}

/// RFC 6749 §5.2 `invalid_scope`: a scope the client may not have is refused, never dropped.
pub async fn token_invalid_scope<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let response = fx
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "client_credentials"),
                ("scope", "view:users delete:users"),
            ],
            Some((&fx.machine.id, fx.machine.secret())),
        )
        .await;
    expect_error(response, 400, "invalid_scope").await;
}

/// DESIGN §4.1: a revoked client is cut off at once: its requests fail and its tokens die.
pub async fn token_revoked_client<A: Adapter>() {
    use portcullis_registry::ClientId;
    use portcullis_store::ClientStore;
    let fx = Fixture::start::<A>().await;
    let token = fx.machine_token(&fx.machine, "view:users").await;
    let id = ClientId::new(fx.machine.id.as_str()).unwrap();
    let mut client = fx.store.get_client(&id).await.unwrap().unwrap();
    client.revoked = true;
    fx.store.update_client(client).await.unwrap();
    let response = fx
        .post_form(
            "/oauth/token",
            &[("grant_type", "client_credentials")],
            Some((&fx.machine.id, fx.machine.secret())),
        )
        .await;
    expect_error(response, 401, "invalid_client").await;
    assert_eq!(fx.api("/api/me", Some(&token)).await.status().as_u16(), 401);
}

// ---------------------------------------------------------------------------------------
// Revocation (RFC 7009) and introspection (RFC 7662)

/// RFC 7009 §2.1: a revoked access token is refused everywhere at once.
pub async fn revoke_access_token<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let token = fx.machine_token(&fx.machine, "view:users").await;
    assert!(fx.active(&token).await);
    let response = fx
        .post_form(
            "/oauth/revoke",
            &[("token", &token)],
            Some((&fx.machine.id, fx.machine.secret())),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    assert!(!fx.active(&token).await);
    assert_eq!(fx.api("/api/me", Some(&token)).await.status().as_u16(), 401);
}

/// RFC 7009 §2.2: an unknown token is not an error.
pub async fn revoke_unknown_token_is_ok<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let response = fx
        .post_form(
            "/oauth/revoke",
            &[("token", "pc_at_nothing")],
            Some((&fx.machine.id, fx.machine.secret())),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
}

/// RFC 7009 §2.1: the client must authenticate.
pub async fn revoke_requires_client_authentication<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let token = fx.machine_token(&fx.machine, "view:users").await;
    let response = fx
        .post_form("/oauth/revoke", &[("token", &token)], None)
        .await;
    expect_error(response, 401, "invalid_client").await;
    assert!(fx.active(&token).await);
}

/// RFC 7009 §2.2.1 `unsupported_token_type`.
pub async fn revoke_unsupported_token_type_hint<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let token = fx.machine_token(&fx.machine, "view:users").await;
    let response = fx
        .post_form(
            "/oauth/revoke",
            &[("token", &token), ("token_type_hint", "id_token")],
            Some((&fx.machine.id, fx.machine.secret())),
        )
        .await;
    expect_error(response, 400, "unsupported_token_type").await;
}

/// RFC 7662 §2.2: an active token reports its claims; roles for machine clients (DESIGN §4.1).
pub async fn introspect_active_token<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let token = fx.machine_token(&fx.machine, "view:users").await;
    let response = fx
        .post_form(
            "/oauth/introspect",
            &[("token", &token)],
            Some((&fx.machine.id, fx.machine.secret())),
        )
        .await;
    assert_no_store(&response);
    let body = body_json(response, 200).await;
    assert_eq!(body["active"], true);
    assert_eq!(body["client_id"], fx.machine.id.as_str());
    assert_eq!(body["scope"], "view:users");
    assert_eq!(body["iss"], fx.server.base.as_str());
    assert_eq!(body["roles"][0]["role"], "auditor");
    assert_eq!(body["roles"][0]["division"], "emea");
}

/// RFC 7662 §2.2: anything unknown is just inactive.
pub async fn introspect_unknown_token<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let response = fx
        .post_form(
            "/oauth/introspect",
            &[("token", "pc_at_unknown")],
            Some((&fx.machine.id, fx.machine.secret())),
        )
        .await;
    assert_eq!(
        body_json(response, 200).await,
        serde_json::json!({"active": false})
    );
}

/// RFC 7662 §2.1: the caller must authenticate.
pub async fn introspect_requires_client_authentication<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let token = fx.machine_token(&fx.machine, "view:users").await;
    let response = fx
        .post_form("/oauth/introspect", &[("token", &token)], None)
        .await;
    expect_error(response, 401, "invalid_client").await;
}

/// DESIGN §4.1: a client may introspect only its own tokens, unless it is `introspect_any`.
pub async fn introspect_other_clients_token_is_inactive<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let token = fx.machine_token(&fx.machine, "view:users").await;
    let response = fx
        .post_form(
            "/oauth/introspect",
            &[("token", &token)],
            Some((&fx.bare_machine.id, fx.bare_machine.secret())),
        )
        .await;
    assert_eq!(body_json(response, 200).await["active"], false);
    assert!(
        fx.active(&token).await,
        "the introspect_any resource server sees it"
    );
}

// ---------------------------------------------------------------------------------------
// Authorization endpoint and the default pages (RFC 6749 §4.1, RFC 9207, DESIGN §4.1)

fn authorize_query(fx: &Fixture, extra: &[(&str, &str)]) -> String {
    let mut pairs = vec![
        ("response_type", "code"),
        ("client_id", fx.web.id.as_str()),
        ("redirect_uri", REDIRECT),
        ("scope", "view:users"),
        ("state", "xyz"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    for (name, value) in extra {
        pairs.retain(|(n, _)| n != name);
        if !value.is_empty() {
            pairs.push((name, value));
        }
    }
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

async fn browse(fx: &Fixture, path_and_query: &str) -> reqwest::Response {
    let url = if path_and_query.starts_with("http") {
        path_and_query.to_owned()
    } else {
        fx.url(path_and_query)
    };
    fx.browser
        .get(url)
        .send()
        .await
        .expect("the server answers")
}

fn location(response: &reqwest::Response) -> String {
    header(response, "location").expect("a Location header")
}

fn assert_page_without_redirect(response: &reqwest::Response, status: u16) {
    assert_eq!(response.status().as_u16(), status);
    assert!(
        header(response, "location").is_none(),
        "RFC 6749 §4.1.2.1: must not redirect"
    );
    assert_eq!(header(response, "x-frame-options").as_deref(), Some("DENY"));
}

/// Walks the default pages from an authorize URL to the client's redirect, as alice,
/// allowing or denying; answers the final 303.
pub async fn sign_in_and_decide(
    fx: &Fixture,
    authorize: &str,
    decision: &str,
) -> reqwest::Response {
    let mut response = browse(fx, authorize).await;
    if location(&response).contains("/oauth/login") {
        let login = location(&response);
        let page = browse(fx, &login).await;
        assert_eq!(page.status().as_u16(), 200);
        let html = page.text().await.unwrap();
        let interaction = input_value(&html, "interaction").expect("interaction field");
        let csrf = input_value(&html, "csrf").expect("csrf field");
        response = fx
            .browser
            .post(fx.url("/oauth/login"))
            .form(&[
                ("interaction", interaction.as_str()),
                ("csrf", csrf.as_str()),
                ("username", USER),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status().as_u16(),
            303,
            "DESIGN §4.1: a successful login POST answers 303"
        );
    }
    let consent = location(&response);
    assert!(consent.contains("/oauth/consent"), "{consent}");
    let page = browse(fx, &consent).await;
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.unwrap();
    let interaction = input_value(&html, "interaction").expect("interaction field");
    let csrf = input_value(&html, "csrf").expect("csrf field");
    fx.browser
        .post(fx.url("/oauth/consent"))
        .form(&[
            ("interaction", interaction.as_str()),
            ("csrf", csrf.as_str()),
            ("decision", decision),
        ])
        .send()
        .await
        .unwrap()
}

/// RFC 6749 §4.1.2.1: an unknown client gets a page, never a redirect.
pub async fn authorize_unknown_client_no_redirect<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let query = authorize_query(&fx, &[("client_id", "nobody")]);
    let response = browse(&fx, &format!("/oauth/authorize?{query}")).await;
    assert_page_without_redirect(&response, 400);
}

/// RFC 6749 §3.1.2.4: a redirect URI that does not match exactly gets a page, never a redirect.
pub async fn authorize_mismatched_redirect_no_redirect<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let query = authorize_query(
        &fx,
        &[("redirect_uri", "http://127.0.0.1:9/callback/../evil")],
    );
    let response = browse(&fx, &format!("/oauth/authorize?{query}")).await;
    assert_page_without_redirect(&response, 400);
}

/// RFC 6749 §4.1.2.1 and RFC 9207: later errors redirect with `state` and `iss`.
pub async fn authorize_missing_response_type_redirects_error<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let query = authorize_query(&fx, &[("response_type", "")]);
    let response = browse(&fx, &format!("/oauth/authorize?{query}")).await;
    let params = redirect_params(&response, REDIRECT);
    assert_eq!(params["error"], "invalid_request");
    assert_eq!(params["state"], "xyz");
    assert_eq!(params["iss"], fx.server.base);
}

/// RFC 7636 §4.4.1 / DESIGN §3: a public client must send a PKCE challenge.
pub async fn authorize_public_client_needs_pkce<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let query = authorize_query(
        &fx,
        &[
            ("client_id", fx.spa.id.as_str()),
            ("code_challenge", ""),
            ("code_challenge_method", ""),
        ],
    );
    let response = browse(&fx, &format!("/oauth/authorize?{query}")).await;
    assert_eq!(
        redirect_params(&response, REDIRECT)["error"],
        "invalid_request"
    );
}

/// DESIGN §2: a valid request without a session goes to the login page.
pub async fn authorize_redirects_to_login<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let response = browse(
        &fx,
        &format!("/oauth/authorize?{}", authorize_query(&fx, &[])),
    )
    .await;
    assert_eq!(response.status().as_u16(), 303);
    let login = location(&response);
    assert!(
        login.contains("/oauth/login?") && login.contains("interaction="),
        "{login}"
    );
}

/// DESIGN §4.1: the login page is a form with `username` and `password`, CSRF-protected,
/// not framable, no referrer.
pub async fn login_page_is_a_protected_form<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let response = browse(
        &fx,
        &format!("/oauth/authorize?{}", authorize_query(&fx, &[])),
    )
    .await;
    let page = browse(&fx, &location(&response)).await;
    assert_eq!(page.status().as_u16(), 200);
    assert_eq!(header(&page, "x-frame-options").as_deref(), Some("DENY"));
    assert!(
        header(&page, "content-security-policy")
            .unwrap_or_default()
            .contains("frame-ancestors 'none'")
    );
    assert_eq!(
        header(&page, "referrer-policy").as_deref(),
        Some("no-referrer")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("name=\"username\"") && html.contains("name=\"password\""));
    assert!(input_value(&html, "csrf").is_some_and(|v| v.len() >= 32));
}

/// A wrong password re-shows the form and signs nobody in.
pub async fn login_wrong_password<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let response = browse(
        &fx,
        &format!("/oauth/authorize?{}", authorize_query(&fx, &[])),
    )
    .await;
    let html = browse(&fx, &location(&response))
        .await
        .text()
        .await
        .unwrap();
    let response = fx
        .browser
        .post(fx.url("/oauth/login"))
        .form(&[
            (
                "interaction",
                input_value(&html, "interaction").unwrap().as_str(),
            ),
            ("csrf", input_value(&html, "csrf").unwrap().as_str()),
            ("username", USER),
            ("password", "wrong"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    assert!(header(&response, "location").is_none());
}

/// A login POST without the CSRF token is refused.
pub async fn login_without_csrf_is_refused<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let response = browse(
        &fx,
        &format!("/oauth/authorize?{}", authorize_query(&fx, &[])),
    )
    .await;
    let html = browse(&fx, &location(&response))
        .await
        .text()
        .await
        .unwrap();
    let response = fx
        .browser
        .post(fx.url("/oauth/login"))
        .form(&[
            (
                "interaction",
                input_value(&html, "interaction").unwrap().as_str(),
            ),
            ("username", USER),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);
}

/// RFC 6749 §4.1 + RFC 7636: the whole code flow through the default pages.
pub async fn code_flow_through_the_forms<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let authorize = format!("/oauth/authorize?{}", authorize_query(&fx, &[]));
    let response = sign_in_and_decide(&fx, &authorize, "allow").await;
    let params = redirect_params(&response, REDIRECT);
    assert_eq!(params["state"], "xyz");
    assert_eq!(params["iss"], fx.server.base, "RFC 9207");
    let response = fx
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &params["code"]),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ],
            Some((&fx.web.id, fx.web.secret())),
        )
        .await;
    let tokens = body_json(response, 200).await;
    assert_eq!(tokens["scope"], "view:users");
    assert!(tokens["refresh_token"].is_string());
    let me = fx.api("/api/me", tokens["access_token"].as_str()).await;
    let me = body_json(me, 200).await;
    assert_eq!(me["sub"], "user-alice");
}

/// RFC 6749 §4.1.2.1 `access_denied`.
pub async fn consent_deny<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let authorize = format!("/oauth/authorize?{}", authorize_query(&fx, &[]));
    let response = sign_in_and_decide(&fx, &authorize, "deny").await;
    let params = redirect_params(&response, REDIRECT);
    assert_eq!(params["error"], "access_denied");
    assert_eq!(params["iss"], fx.server.base);
}

/// DESIGN §2: the provider's session spares a second login.
pub async fn session_skips_login<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let authorize = format!("/oauth/authorize?{}", authorize_query(&fx, &[]));
    sign_in_and_decide(&fx, &authorize, "allow").await;
    let again = browse(&fx, &authorize).await;
    assert_eq!(again.status().as_u16(), 303);
    assert!(
        location(&again).contains("/oauth/consent"),
        "{}",
        location(&again)
    );
}

/// OpenID Connect Core §3.1.2.6: `prompt=none` without a session is `login_required`.
pub async fn prompt_none_without_session<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let query = authorize_query(&fx, &[("prompt", "none")]);
    let response = browse(&fx, &format!("/oauth/authorize?{query}")).await;
    let params = redirect_params(&response, REDIRECT);
    assert_eq!(params["error"], "login_required");
    assert_eq!(params["state"], "xyz");
}

/// OpenID Connect Core §3.1.2.1: the authorization endpoint accepts POST too.
pub async fn authorize_by_post<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let response = fx
        .browser
        .post(fx.url("/oauth/authorize"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(authorize_query(&fx, &[]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 303);
    assert!(location(&response).contains("/oauth/login"));
}

// ---------------------------------------------------------------------------------------
// Protected routes (RFC 6750)

fn challenge(response: &reqwest::Response) -> String {
    header(response, "www-authenticate").expect("a WWW-Authenticate header")
}

/// RFC 6750 §3.1: no credentials → 401 with a bare `Bearer` challenge, no error code.
pub async fn api_without_token<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let response = fx.api("/api/me", None).await;
    assert_eq!(response.status().as_u16(), 401);
    let challenge = challenge(&response);
    assert!(challenge.starts_with("Bearer realm=\"api\""), "{challenge}");
    assert!(!challenge.contains("error="), "{challenge}");
}

/// RFC 6750 §3.1 `invalid_request`: a malformed `Authorization` header.
pub async fn api_malformed_authorization<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let response = fx
        .http
        .get(fx.url("/api/me"))
        .header("authorization", "Bearer a b")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    assert!(challenge(&response).contains("error=\"invalid_request\""));
}

/// RFC 6750 §3.1 `invalid_token`: unknown token.
pub async fn api_unknown_token<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let response = fx
        .api(
            "/api/me",
            Some("pc_at_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        )
        .await;
    assert_eq!(response.status().as_u16(), 401);
    assert!(challenge(&response).contains("error=\"invalid_token\""));
}

/// RFC 6750 §3.1 `invalid_token`: an expired token (bearer tokens of limited lifespan).
pub async fn api_expired_token<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let token = fx.machine_token(&fx.machine, "view:users").await;
    assert_eq!(fx.api("/api/me", Some(&token)).await.status().as_u16(), 200);
    fx.clock.advance(time::Duration::seconds(3600));
    let response = fx.api("/api/me", Some(&token)).await;
    assert_eq!(response.status().as_u16(), 401);
    assert!(challenge(&response).contains("error=\"invalid_token\""));
}

/// RFC 6750 §3.1 `invalid_token`: a revoked token.
pub async fn api_revoked_token<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let token = fx.machine_token(&fx.machine, "view:users").await;
    fx.post_form(
        "/oauth/revoke",
        &[("token", &token)],
        Some((&fx.machine.id, fx.machine.secret())),
    )
    .await;
    let response = fx.api("/api/me", Some(&token)).await;
    assert_eq!(response.status().as_u16(), 401);
    assert!(challenge(&response).contains("error=\"invalid_token\""));
}

/// RFC 6750 §3.1 `insufficient_scope`: 403 naming the scope needed.
pub async fn api_insufficient_scope<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let token = fx.machine_token(&fx.machine, "create:users").await;
    let response = fx.api("/api/me", Some(&token)).await;
    assert_eq!(response.status().as_u16(), 403);
    let challenge = challenge(&response);
    assert!(
        challenge.contains("error=\"insufficient_scope\""),
        "{challenge}"
    );
    assert!(challenge.contains("scope=\"view:users\""), "{challenge}");
}

/// A good token reaches the handler, which sees the caller.
pub async fn api_good_token<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let token = fx.machine_token(&fx.machine, "view:users").await;
    let body = body_json(fx.api("/api/me", Some(&token)).await, 200).await;
    assert_eq!(body["client_id"], fx.machine.id.as_str());
    assert_eq!(body["scope"], "view:users");
    assert!(body["sub"].is_null(), "client credentials have no subject");
}

/// DESIGN: roles per division for machine clients; the home division is not `emea`.
pub async fn api_role_guard<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let auditor = fx.machine_token(&fx.machine, "view:users").await;
    assert_eq!(
        fx.api("/api/audit", Some(&auditor)).await.status().as_u16(),
        200
    );
    let bare = fx.machine_token(&fx.bare_machine, "").await;
    let response = fx.api("/api/audit", Some(&bare)).await;
    assert_eq!(response.status().as_u16(), 403);
    assert!(challenge(&response).contains("insufficient_scope"));
}

/// RFC 6750 §2: we take tokens from the `Authorization` header only, not the query.
pub async fn api_token_in_query_is_ignored<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let token = fx.machine_token(&fx.machine, "view:users").await;
    let response = fx.api(&format!("/api/me?access_token={token}"), None).await;
    assert_eq!(response.status().as_u16(), 401);
}

/// A refresh token is not an access token.
pub async fn api_refresh_token_is_not_an_access_token<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let authorize = format!("/oauth/authorize?{}", authorize_query(&fx, &[]));
    let params = redirect_params(
        &sign_in_and_decide(&fx, &authorize, "allow").await,
        REDIRECT,
    );
    let tokens = body_json(
        fx.post_form(
            "/oauth/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &params["code"]),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ],
            Some((&fx.web.id, fx.web.secret())),
        )
        .await,
        200,
    )
    .await;
    let response = fx.api("/api/me", tokens["refresh_token"].as_str()).await;
    assert_eq!(response.status().as_u16(), 401);
}

pub use sign_in_and_decide as walk_pages;
