//! Pushed authorization requests end to end (RFC 9126): push, then sign in through the
//! default pages with only `client_id` and `request_uri` in the URL; a negative table whose
//! rows name the clause they prove; and "PAR required".

use serde_json::Value;

use super::Adapter;
use super::cases::walk_pages;
use super::fixture::*;

/// The parameters of a good pushed request for the web client.
fn pushed_params() -> Vec<(&'static str, &'static str)> {
    vec![
        ("response_type", "code"),
        ("redirect_uri", REDIRECT),
        ("scope", "view:users"),
        ("state", "pushed-state"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]
}

/// Pushes `params` for the web client (Basic); the `request_uri`.
async fn push(fx: &Fixture, params: &[(&str, &str)]) -> String {
    let response = fx
        .post_form("/oauth/par", params, Some((&fx.web.id, fx.web.secret())))
        .await;
    assert_eq!(
        header(&response, "cache-control").as_deref(),
        Some("no-store")
    );
    let body = body_json(response, 201).await;
    body["request_uri"]
        .as_str()
        .expect("request_uri")
        .to_owned()
}

fn authorize_url(client_id: &str, request_uri: &str) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", client_id)
        .append_pair("request_uri", request_uri)
        .finish();
    format!("/oauth/authorize?{query}")
}

/// RFC 9126 §2-§4: push (201, `request_uri`, `expires_in`), authorize with only
/// `client_id` and `request_uri`, sign in and consent on the default pages, get a code
/// carrying the pushed `state`, exchange it with the pushed PKCE challenge, use the token.
pub async fn par_code_flow<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let response = fx
        .post_form(
            "/oauth/par",
            &pushed_params(),
            Some((&fx.web.id, fx.web.secret())),
        )
        .await;
    assert_eq!(
        header(&response, "content-type").as_deref(),
        Some("application/json")
    );
    let body = body_json(response, 201).await;
    assert_eq!(body["expires_in"], 60, "§2.2");
    let request_uri = body["request_uri"].as_str().unwrap();
    assert!(request_uri.starts_with("urn:ietf:params:oauth:request_uri:"));

    let redirect = walk_pages(&fx, &authorize_url(&fx.web.id, request_uri), "allow").await;
    let params = redirect_params(&redirect, REDIRECT);
    assert_eq!(params["state"], "pushed-state");
    assert_eq!(params["iss"], fx.server.base, "RFC 9207");
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
    assert_eq!(tokens["scope"], "view:users");
    let me = fx.api("/api/me", tokens["access_token"].as_str()).await;
    assert_eq!(body_json(me, 200).await["sub"], "user-alice");

    // Discovery names the endpoint (§5).
    let metadata = body_json(
        fx.http
            .get(fx.url("/.well-known/oauth-authorization-server"))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(
        metadata["pushed_authorization_request_endpoint"],
        fx.url("/oauth/par")
    );
    assert!(
        metadata
            .get("require_pushed_authorization_requests")
            .is_none()
    );
}

/// RFC 9126 §2.1-§2.3 at the PAR endpoint (JSON errors, never redirects) and §4 at the
/// authorization endpoint (`invalid_request_uri` on a page, RFC 9101 §7): each row a request
/// and the status and error code it must get.
pub async fn par_negative_table<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let web = Some((fx.web.id.as_str(), fx.web.secret()));
    let wrong = Some((fx.web.id.as_str(), "not-the-secret"));
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut params = pushed_params();
        for (name, value) in extra {
            params.retain(|(n, _)| n != name);
            if !value.is_empty() {
                params.push((name, value));
            }
        }
        params
    };
    // (case, params, Basic credentials, status, error)
    type Row<'a> = (
        &'a str,
        Vec<(&'a str, &'a str)>,
        Option<(&'a str, &'a str)>,
        u16,
        &'a str,
    );
    let spa = fx.spa.id.as_str();
    let rows: Vec<Row> = vec![
        (
            "§2: no client authentication",
            with(&[]),
            None,
            401,
            "invalid_client",
        ),
        (
            "§2: wrong client secret",
            with(&[]),
            wrong,
            401,
            "invalid_client",
        ),
        (
            "§2.1: request_uri must not be pushed",
            with(&[("request_uri", "urn:ietf:params:oauth:request_uri:abc")]),
            web,
            400,
            "invalid_request",
        ),
        (
            "§2.3: unregistered redirect_uri",
            with(&[("redirect_uri", "http://127.0.0.1:9/elsewhere")]),
            web,
            400,
            "invalid_request",
        ),
        (
            "§2.3: missing response_type",
            with(&[("response_type", "")]),
            web,
            400,
            "invalid_request",
        ),
        (
            "§2.3: unknown scope",
            with(&[("scope", "launch:missiles")]),
            web,
            400,
            "invalid_scope",
        ),
        (
            "§2.3 / RFC 7636 §4.4.1: public client without PKCE",
            vec![
                ("client_id", spa),
                ("response_type", "code"),
                ("scope", "view:users"),
            ],
            None,
            400,
            "invalid_request",
        ),
        (
            "§2.3: a response_type the client is not registered for",
            with(&[("response_type", "token")]),
            web,
            400,
            "unauthorized_client",
        ),
    ];
    assert!(rows.len() >= 8);
    for (name, params, basic, status, error) in rows {
        let response = fx.post_form("/oauth/par", &params, basic).await;
        assert!(
            header(&response, "location").is_none(),
            "case {name}: never redirected"
        );
        let www = header(&response, "www-authenticate");
        let body = body_json(response, status).await;
        assert_eq!(body["error"], error, "case {name}: {body}");
        if name == "§2: wrong client secret" {
            assert!(www.is_some_and(|v| v.starts_with("Basic")), "RFC 6749 §5.2");
        }
    }
    // §2.3: 405 for GET.
    let get = fx.http.get(fx.url("/oauth/par")).send().await.unwrap();
    assert_eq!(header(&get, "allow").as_deref(), Some("POST"));
    let body: Value = body_json(get, 405).await;
    assert_eq!(body["error"], "invalid_request");

    // §4 at the authorization endpoint.
    let used = push(&fx, &pushed_params()).await;
    walk_pages(&fx, &authorize_url(&fx.web.id, &used), "allow").await;
    let stolen = push(&fx, &pushed_params()).await;
    let expired = push(&fx, &pushed_params()).await;
    let rows = [
        ("§4: reused request_uri", authorize_url(&fx.web.id, &used)),
        (
            "§2.2: another client's request_uri",
            authorize_url(&fx.spa.id, &stolen),
        ),
        (
            "§4: unknown request_uri",
            authorize_url(
                &fx.web.id,
                "urn:ietf:params:oauth:request_uri:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            ),
        ),
    ];
    for (name, url) in rows {
        let response = fx.browser.get(fx.url(&url)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 400, "case {name}");
        assert!(
            header(&response, "location").is_none(),
            "case {name}: RFC 6749 §4.1.2.1, never redirected"
        );
        let page = response.text().await.unwrap();
        assert!(page.contains("invalid_request_uri"), "case {name}: {page}");
    }
    // §4: "An expired request_uri MUST be rejected as invalid."
    fx.clock.advance(time::Duration::seconds(61));
    let response = fx
        .browser
        .get(fx.url(&authorize_url(&fx.web.id, &expired)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("invalid_request_uri")
    );
    // The one the other client tried is still the owner's (but expired now too: push anew).
    let fresh = push(&fx, &pushed_params()).await;
    let redirect = walk_pages(&fx, &authorize_url(&fx.web.id, &fresh), "allow").await;
    assert!(redirect_params(&redirect, REDIRECT).contains_key("code"));
}

/// RFC 9126 §5 provider-wide "PAR required": a request that was not pushed is
/// `invalid_request` at the client's redirect URI; a pushed one goes through; discovery
/// says `require_pushed_authorization_requests: true`.
pub async fn par_required<A: Adapter>() {
    let fx =
        Fixture::start_with::<A>(|builder| builder.require_pushed_authorization_requests(true))
            .await;
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pushed_params())
        .append_pair("client_id", &fx.web.id)
        .finish();
    let response = fx
        .browser
        .get(fx.url(&format!("/oauth/authorize?{query}")))
        .send()
        .await
        .unwrap();
    let params = redirect_params(&response, REDIRECT);
    assert_eq!(params["error"], "invalid_request");
    assert_eq!(params["state"], "pushed-state");
    assert_eq!(params["iss"], fx.server.base);

    let request_uri = push(&fx, &pushed_params()).await;
    let redirect = walk_pages(&fx, &authorize_url(&fx.web.id, &request_uri), "allow").await;
    assert!(redirect_params(&redirect, REDIRECT).contains_key("code"));

    let metadata = body_json(
        fx.http
            .get(fx.url("/.well-known/openid-configuration"))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(metadata["require_pushed_authorization_requests"], true);
}
