//! Resource indicators (RFC 8707) through each adapter: the `resource` parameter at the
//! authorization and token endpoints, audience-restricted tokens, and `invalid_target`.

use portcullis_grants::ResourcePolicy;
use serde_json::Value;

use super::Adapter;
use super::cases::walk_pages;
use super::fixture::*;

/// A second resource server the provider knows, beside the fixture's API.
const LEDGER: &str = "https://ledger.example/";

async fn start<A: Adapter>() -> Fixture {
    Fixture::start_with::<A>(|builder| {
        builder.resources(ResourcePolicy::only([API_RESOURCE, LEDGER]))
    })
    .await
}

/// A token request; answers the JSON body after checking the status.
async fn token(fx: &Fixture, pairs: &[(&str, &str)], client: &Registered, status: u16) -> Value {
    let response = fx
        .post_form("/oauth/token", pairs, Some((&client.id, client.secret())))
        .await;
    if status != 200 {
        assert_eq!(
            header(&response, "cache-control").as_deref(),
            Some("no-store"),
            "RFC 6749 §5.2 errors are not cached either"
        );
    }
    body_json(response, status).await
}

/// What introspection says of `token`'s audience (`aud`, RFC 7662 §2.2).
async fn audience(fx: &Fixture, token: &str) -> Vec<String> {
    let response = fx
        .post_form(
            "/oauth/introspect",
            &[("token", token)],
            Some((&fx.resource_server.id, fx.resource_server.secret())),
        )
        .await;
    let body = body_json(response, 200).await;
    assert_eq!(body["active"], true, "{body}");
    body["aud"]
        .as_array()
        .map(|aud| {
            aud.iter()
                .map(|v| v.as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The authorize URL of the web client with `resources`.
fn authorize_url(fx: &Fixture, resources: &[&str]) -> String {
    let mut pairs = vec![
        ("response_type", "code"),
        ("client_id", fx.web.id.as_str()),
        ("redirect_uri", REDIRECT),
        ("scope", "view:users"),
        ("state", "rs-state"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    pairs.extend(resources.iter().map(|resource| ("resource", *resource)));
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("/oauth/authorize?{query}")
}

/// A code of the web client for `resources`, through the default pages.
async fn code_for(fx: &Fixture, resources: &[&str]) -> String {
    let response = walk_pages(fx, &authorize_url(fx, resources), "allow").await;
    let params = redirect_params(&response, REDIRECT);
    params["code"].clone()
}

fn redeem<'a>(code: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut pairs = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    pairs.extend_from_slice(extra);
    pairs
}

/// RFC 8707 §2: client credentials for two resources: the token's audience is both, and a
/// resource server that is neither refuses it (§2: "audience-restricted").
pub async fn resource_indicators_client_credentials<A: Adapter>() {
    let fx = start::<A>().await;
    let both = token(
        &fx,
        &[
            ("grant_type", "client_credentials"),
            ("scope", "view:users"),
            ("resource", API_RESOURCE),
            ("resource", LEDGER),
        ],
        &fx.machine,
        200,
    )
    .await;
    let both = both["access_token"].as_str().expect("access_token");
    assert_eq!(audience(&fx, both).await, [API_RESOURCE, LEDGER]);
    assert_eq!(fx.api("/api/me", Some(both)).await.status().as_u16(), 200);

    let ledger_only = token(
        &fx,
        &[
            ("grant_type", "client_credentials"),
            ("scope", "view:users"),
            ("resource", LEDGER),
        ],
        &fx.machine,
        200,
    )
    .await;
    let ledger_only = ledger_only["access_token"].as_str().expect("access_token");
    assert_eq!(audience(&fx, ledger_only).await, [LEDGER]);
    let refused = fx.api("/api/me", Some(ledger_only)).await;
    assert_eq!(
        refused.status().as_u16(),
        401,
        "a token for another resource"
    );
    let challenge = header(&refused, "www-authenticate").unwrap_or_default();
    assert!(challenge.contains("invalid_token"), "{challenge}");

    // No resource: an unrestricted token, as before RFC 8707.
    let plain = fx.machine_token(&fx.machine, "view:users").await;
    assert!(audience(&fx, &plain).await.is_empty());
    assert_eq!(fx.api("/api/me", Some(&plain)).await.status().as_u16(), 200);
}

/// RFC 8707 §2.1–§2.2: resources named at the authorization endpoint bound the grant; the
/// token request narrows to some of them, and each refresh may pick another of them.
pub async fn resource_indicators_code_flow<A: Adapter>() {
    let fx = start::<A>().await;
    let code = code_for(&fx, &[API_RESOURCE, LEDGER]).await;
    let tokens = token(&fx, &redeem(&code, &[("resource", LEDGER)]), &fx.web, 200).await;
    let access = tokens["access_token"].as_str().expect("access_token");
    assert_eq!(audience(&fx, access).await, [LEDGER]);
    assert_eq!(fx.api("/api/me", Some(access)).await.status().as_u16(), 401);

    let refresh = tokens["refresh_token"].as_str().expect("refresh_token");
    let refreshed = token(
        &fx,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("resource", API_RESOURCE),
        ],
        &fx.web,
        200,
    )
    .await;
    let access = refreshed["access_token"].as_str().expect("access_token");
    assert_eq!(audience(&fx, access).await, [API_RESOURCE]);
    assert_eq!(fx.api("/api/me", Some(access)).await.status().as_u16(), 200);

    // Without `resource`, the whole authorized set.
    let refresh = refreshed["refresh_token"].as_str().expect("refresh_token");
    let all = token(
        &fx,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
        &fx.web,
        200,
    )
    .await;
    let access = all["access_token"].as_str().expect("access_token");
    assert_eq!(audience(&fx, access).await, [API_RESOURCE, LEDGER]);
}

/// RFC 8707 §2 negative cases: each row is a request and the error it must get. A refused
/// token request changes nothing: the code or refresh token still works afterwards.
pub async fn resource_indicators_negative_table<A: Adapter>() {
    let fx = start::<A>().await;

    // Authorization endpoint: the error is redirected with `state` and `iss` (RFC 6749
    // §4.1.2.1, RFC 9207), because client and redirect URI are valid.
    let authorize_rows: [(&str, &[&str]); 4] = [
        ("rfc8707_2_relative_uri", &["/api"]),
        ("rfc8707_2_fragment", &["https://ledger.example/#part"]),
        ("rfc8707_2_unknown_resource", &["https://unknown.example/"]),
        ("rfc8707_2_one_bad_among_good", &[LEDGER, "urn:not-known"]),
    ];
    for (row, resources) in authorize_rows {
        let response = fx
            .browser
            .get(fx.url(&authorize_url(&fx, resources)))
            .send()
            .await
            .expect("the server answers");
        let params = redirect_params(&response, REDIRECT);
        assert_eq!(params["error"], "invalid_target", "{row}: {params:?}");
        assert_eq!(params["state"], "rs-state", "{row}");
        assert_eq!(params["iss"], fx.server.base, "{row}: RFC 9207");
        assert!(!params.contains_key("code"), "{row}");
    }

    // Token endpoint, client credentials: 400 invalid_target, nothing issued.
    let many: Vec<String> = (0..17).map(|i| format!("https://r{i}.example/")).collect();
    let mut too_many = vec![("grant_type", "client_credentials")];
    too_many.extend(many.iter().map(|r| ("resource", r.as_str())));
    let token_rows: [(&str, Vec<(&str, &str)>); 4] = [
        (
            "rfc8707_2_token_relative_uri",
            vec![("grant_type", "client_credentials"), ("resource", "api")],
        ),
        (
            "rfc8707_2_token_fragment",
            vec![
                ("grant_type", "client_credentials"),
                ("resource", "https://ledger.example/#x"),
            ],
        ),
        (
            "rfc8707_2_token_unknown_resource",
            vec![
                ("grant_type", "client_credentials"),
                ("resource", "https://unknown.example/"),
            ],
        ),
        ("rfc8707_2_token_too_many_resources", too_many),
    ];
    for (row, pairs) in token_rows {
        let body = token(&fx, &pairs, &fx.machine, 400).await;
        assert_eq!(body["error"], "invalid_target", "{row}: {body}");
        assert!(body["access_token"].is_null(), "{row}");
    }

    // A code authorized for the ledger only cannot be redeemed for the API, and the
    // refusal leaves the code usable.
    let code = code_for(&fx, &[LEDGER]).await;
    let body = token(
        &fx,
        &redeem(&code, &[("resource", API_RESOURCE)]),
        &fx.web,
        400,
    )
    .await;
    assert_eq!(
        body["error"], "invalid_target",
        "rfc8707_2_2_code_for_an_unauthorized_resource: {body}"
    );
    let tokens = token(&fx, &redeem(&code, &[]), &fx.web, 200).await;

    // The same for a refresh token.
    let refresh = tokens["refresh_token"].as_str().expect("refresh_token");
    let body = token(
        &fx,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("resource", API_RESOURCE),
        ],
        &fx.web,
        400,
    )
    .await;
    assert_eq!(
        body["error"], "invalid_target",
        "rfc8707_2_2_refresh_for_an_unauthorized_resource: {body}"
    );
    token(
        &fx,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
        &fx.web,
        200,
    )
    .await;
}
