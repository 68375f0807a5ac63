//! Whole flows through every endpoint, as a client and an application would drive them:
//! authorize → login/consent (`complete`) → token → refresh → introspect → revoke.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod support;

use std::collections::HashMap;

use bytes::Bytes;
use http::Response;
use portcullis_endpoints::{Authorization, Decision, Interaction};
use portcullis_registry::ScopeSet;
use portcullis_tokens::Subject;
use serde_json::Value;
use support::*;

/// The query (or fragment) parameters of a redirect.
fn redirect_params(response: &Response<Bytes>, base: &str) -> HashMap<String, String> {
    assert_eq!(response.status(), 303, "{:?}", response.body());
    let location = header(response, "location").expect("a Location header");
    let rest = location
        .strip_prefix(base)
        .unwrap_or_else(|| panic!("{location} does not go to {base}"));
    let encoded = rest.trim_start_matches(['?', '#']);
    url::form_urlencoded::parse(encoded.as_bytes())
        .into_owned()
        .collect()
}

fn interaction(outcome: Authorization) -> Interaction {
    match outcome {
        Authorization::Interaction(interaction) => interaction,
        Authorization::Respond(response) => panic!(
            "expected an interaction, got {} {:?}",
            response.status(),
            response.headers()
        ),
    }
}

fn alice() -> Subject {
    Subject::new("user-alice").unwrap()
}

async fn introspect(h: &Harness, client: &Registered, token: &str) -> Value {
    let response = h
        .provider
        .introspect(form_post(
            "/oauth/introspect",
            &encode(&[("token", token)]),
            &[("authorization", &client.basic())],
        ))
        .await;
    assert_eq!(response.status(), 200);
    json(&response)
}

/// RFC 6749 §4.1 with PKCE (RFC 7636) for a confidential client, then refresh rotation
/// (§6), introspection (RFC 7662) and revocation of the family (RFC 7009 §2.1).
#[tokio::test]
async fn rfc6749_4_1_code_flow_end_to_end() {
    let h = Harness::new().await;
    let web = h.web().await;

    let query = encode(&[
        ("response_type", "code"),
        ("client_id", web.id()),
        ("redirect_uri", REDIRECT),
        ("scope", "view:users update:users"),
        ("state", "af0ifjsldkj"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]);
    let pending = interaction(
        h.provider
            .authorize(get(&format!("/oauth/authorize?{query}")), None)
            .await,
    );
    assert!(pending.login_required);
    assert_eq!(pending.client_id, web.client.id);
    assert_eq!(
        pending.scopes,
        ScopeSet::parse("view:users update:users").unwrap()
    );

    // The app's consent page asked for both scopes; the user grants only one.
    let redirect = h
        .provider
        .complete(
            &pending.id,
            Decision::Allow {
                subject: alice(),
                scopes: ScopeSet::parse("view:users").unwrap(),
                auth_time: h.provider.now(),
            },
        )
        .await
        .unwrap();
    let params = redirect_params(&redirect, REDIRECT);
    assert_eq!(params["state"], "af0ifjsldkj");
    assert_eq!(params["iss"], ISSUER, "RFC 9207 iss");
    let code = &params["code"];

    let response = h
        .provider
        .token(form_post(
            "/oauth/token",
            &encode(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ]),
            &[("authorization", &web.basic())],
        ))
        .await;
    let tokens = json(&response);
    assert_eq!(response.status(), 200, "{tokens}");
    assert_eq!(tokens["scope"], "view:users");
    assert_eq!(tokens["token_type"], "Bearer");
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();

    let info = introspect(&h, &web, &access).await;
    assert_eq!(info["active"], true);
    assert_eq!(info["sub"], "user-alice");
    assert_eq!(info["client_id"], web.id());
    assert_eq!(info["iss"], ISSUER);
    assert_eq!(info["scope"], "view:users");

    // Refresh: a new pair; the old refresh token is spent.
    h.clock.advance(time::Duration::minutes(5));
    let response = h
        .provider
        .token(form_post(
            "/oauth/token",
            &encode(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)]),
            &[("authorization", &web.basic())],
        ))
        .await;
    let rotated = json(&response);
    assert_eq!(response.status(), 200, "{rotated}");
    let new_access = rotated["access_token"].as_str().unwrap().to_owned();
    let new_refresh = rotated["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(new_refresh, refresh);
    assert_eq!(introspect(&h, &web, &refresh).await["active"], false);
    assert_eq!(introspect(&h, &web, &new_access).await["active"], true);

    // Revoking the refresh token revokes the whole grant (RFC 7009 §2.1).
    let response = h
        .provider
        .revoke(form_post(
            "/oauth/revoke",
            &encode(&[
                ("token", &new_refresh),
                ("token_type_hint", "refresh_token"),
            ]),
            &[("authorization", &web.basic())],
        ))
        .await;
    assert_eq!(response.status(), 200);
    for token in [&access, &new_access, &new_refresh] {
        assert_eq!(introspect(&h, &web, token).await["active"], false);
    }

    // The code is single use: a replay fails (RFC 6749 §4.1.2).
    let replay = h
        .provider
        .token(form_post(
            "/oauth/token",
            &encode(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ]),
            &[("authorization", &web.basic())],
        ))
        .await;
    assert_eq!(replay.status(), 400);
    assert_eq!(json(&replay)["error"], "invalid_grant");
}

/// A public client (RFC 6749 §2.1) on a native loopback redirect with a port chosen at run
/// time (RFC 8252 §7.3): PKCE is its only proof, no secret, no refresh token by default.
#[tokio::test]
async fn rfc8252_native_public_client_flow() {
    let h = Harness::new().await;
    let native = h.native().await;
    let redirect = "http://127.0.0.1:51004/callback";
    let query = encode(&[
        ("response_type", "code"),
        ("client_id", native.id()),
        ("redirect_uri", redirect),
        ("scope", "view:users"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]);
    let pending = interaction(
        h.provider
            .authorize(get(&format!("/oauth/authorize?{query}")), None)
            .await,
    );
    let response = h
        .provider
        .complete(
            &pending.id,
            Decision::Allow {
                subject: alice(),
                scopes: pending.scopes.clone(),
                auth_time: h.provider.now(),
            },
        )
        .await
        .unwrap();
    let params = redirect_params(&response, redirect);
    let token_request = |verifier: &str| {
        form_post(
            "/oauth/token",
            &encode(&[
                ("grant_type", "authorization_code"),
                ("client_id", native.id()),
                ("code", &params["code"]),
                ("redirect_uri", redirect),
                ("code_verifier", verifier),
            ]),
            &[],
        )
    };
    // A wrong verifier fails and leaves the code usable for the real client.
    let wrong = h.provider.token(token_request(&"x".repeat(43))).await;
    assert_eq!(json(&wrong)["error"], "invalid_grant");
    let response = h.provider.token(token_request(VERIFIER)).await;
    let body = json(&response);
    assert_eq!(response.status(), 200, "{body}");
    assert!(body.get("refresh_token").is_none());
}

/// The user says no: the client learns `access_denied` with its state and our `iss`, and
/// the interaction cannot be replayed into an approval.
#[tokio::test]
async fn rfc6749_4_1_2_1_denied_flow() {
    let h = Harness::new().await;
    let spa = h.spa().await;
    let query = encode(&[
        ("response_type", "code"),
        ("client_id", spa.id()),
        ("scope", "view:users"),
        ("state", "s1"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]);
    let pending = interaction(
        h.provider
            .authorize(get(&format!("/oauth/authorize?{query}")), None)
            .await,
    );
    let response = h
        .provider
        .complete(&pending.id, Decision::Deny)
        .await
        .unwrap();
    let params = redirect_params(&response, REDIRECT);
    assert_eq!(params["error"], "access_denied");
    assert_eq!(params["state"], "s1");
    assert_eq!(params["iss"], ISSUER);
    let again = h
        .provider
        .complete(
            &pending.id,
            Decision::Allow {
                subject: alice(),
                scopes: pending.scopes.clone(),
                auth_time: h.provider.now(),
            },
        )
        .await;
    assert!(again.is_err(), "an interaction completes once");
}
