//! The UserInfo endpoint (OpenID Connect Core §5.3): a table of refusals with their
//! status and `WWW-Authenticate` (RFC 6750 §3), then the claims a token's scopes release.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod session_support;
mod support;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http::Request;
use portcullis_grants::{BoxError, ClaimsSource};
use portcullis_registry::ScopeSet;
use portcullis_store::ClientStore;
use portcullis_tokens::Subject;
use serde_json::{Map, Value, json};
use session_support::*;
use support::*;
use time::Duration;

const USERINFO: &str = "/oauth/userinfo";

/// A directory that knows everything about everyone, and tries to say more than it may:
/// a `sub` of its own, a custom claim, a null.
struct Directory;

#[async_trait]
impl ClaimsSource for Directory {
    async fn claims(
        &self,
        subject: &Subject,
        _scopes: &ScopeSet,
    ) -> Result<Map<String, Value>, BoxError> {
        let claims = json!({
            "sub": "someone-else",
            "name": "Alice Liddell",
            "given_name": "Alice",
            "preferred_username": "alice",
            "updated_at": 1_700_000_000,
            "email": format!("{subject}@example.com"),
            "email_verified": true,
            "address": {"country": "GB"},
            "phone_number": "+44 20 7946 0000",
            "phone_number_verified": false,
            "nickname": null,
            "employee_id": "E-42",
        });
        let Value::Object(claims) = claims else {
            unreachable!()
        };
        Ok(claims)
    }
}

async fn harness() -> Harness {
    Harness::with(|b| b.claims(Directory)).await
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn userinfo_get(authorization: Option<&str>, query: &str) -> Request<Bytes> {
    let uri = if query.is_empty() {
        USERINFO.to_owned()
    } else {
        format!("{USERINFO}?{query}")
    };
    let mut builder = Request::get(uri);
    if let Some(value) = authorization {
        builder = builder.header("authorization", value);
    }
    builder.body(Bytes::new()).unwrap()
}

fn userinfo_post(authorization: Option<&str>, body: &str) -> Request<Bytes> {
    let headers: Vec<(&str, &str)> = authorization
        .map(|value| vec![("authorization", value)])
        .unwrap_or_default();
    form_post(USERINFO, body, &headers)
}

/// What a refusal must look like.
struct Expected {
    status: u16,
    /// The `error` in the challenge; `None` for a bare challenge.
    error: Option<&'static str>,
}

const BARE_401: Expected = Expected {
    status: 401,
    error: None,
};
const INVALID_REQUEST: Expected = Expected {
    status: 400,
    error: Some("invalid_request"),
};
const INVALID_TOKEN: Expected = Expected {
    status: 401,
    error: Some("invalid_token"),
};
const INSUFFICIENT_SCOPE: Expected = Expected {
    status: 403,
    error: Some("insufficient_scope"),
};

/// RFC 6750 §2–3 and OpenID Connect Core §5.3.3: every refusal, with its status and
/// challenge, and never a claim in the body.
#[tokio::test]
async fn rfc6750_3_1_negative_cases() {
    let h = harness().await;
    let owner = h.resource_owner().await;
    let machine = h.machine().await;

    let tokens = password_tokens(&h, &owner, "openid profile").await;
    let good = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let no_openid = password_tokens(&h, &owner, "profile view:users").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let client_credentials = machine_token(&h, &machine).await;
    let to_revoke = password_tokens(&h, &owner, "openid").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoked = h
        .provider
        .revoke(form_post(
            "/oauth/revoke",
            &encode(&[("token", &to_revoke)]),
            &[("authorization", &owner.basic())],
        ))
        .await;
    assert_eq!(revoked.status(), 200);

    let good_header = bearer(&good);
    let query_token = encode(&[("access_token", &good)]);
    let two_headers = {
        let mut request = userinfo_get(Some(&good_header), "");
        request
            .headers_mut()
            .append("authorization", good_header.parse().unwrap());
        request
    };
    let put = Request::put(USERINFO)
        .header("authorization", &good_header)
        .body(Bytes::new())
        .unwrap();

    let cases: Vec<(&str, Request<Bytes>, Expected)> = vec![
        (
            "rfc6750_3_1_no_authorization",
            userinfo_get(None, ""),
            BARE_401,
        ),
        (
            "rfc6750_2_3_access_token_in_query_refused",
            userinfo_get(None, &query_token),
            BARE_401,
        ),
        (
            "rfc6750_2_2_access_token_in_form_body_refused",
            userinfo_post(None, &query_token),
            BARE_401,
        ),
        (
            "rfc6750_3_1_other_scheme_is_no_bearer_token",
            userinfo_get(Some(&owner.basic()), ""),
            BARE_401,
        ),
        (
            "rfc6750_2_one_method_per_request",
            userinfo_get(Some(&good_header), &query_token),
            INVALID_REQUEST,
        ),
        (
            "rfc6750_2_one_method_per_request_body",
            userinfo_post(Some(&good_header), &query_token),
            INVALID_REQUEST,
        ),
        (
            "rfc6750_2_1_empty_token",
            userinfo_get(Some("Bearer"), ""),
            INVALID_REQUEST,
        ),
        (
            "rfc6750_2_1_malformed_token",
            userinfo_get(Some("Bearer not a token"), ""),
            INVALID_REQUEST,
        ),
        ("rfc6750_3_1_repeated_header", two_headers, INVALID_REQUEST),
        (
            "rfc6750_3_1_unknown_token",
            userinfo_get(
                Some("Bearer pc_at_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
                "",
            ),
            INVALID_TOKEN,
        ),
        (
            "rfc6750_3_1_garbage_token",
            userinfo_get(Some("Bearer abc.def.ghi"), ""),
            INVALID_TOKEN,
        ),
        (
            "rfc6750_3_1_refresh_token_is_not_an_access_token",
            userinfo_get(Some(&bearer(&refresh)), ""),
            INVALID_TOKEN,
        ),
        (
            "rfc7009_revoked_token",
            userinfo_get(Some(&bearer(&to_revoke)), ""),
            INVALID_TOKEN,
        ),
        (
            "oidc_5_3_client_credentials_token_has_no_user",
            userinfo_get(Some(&bearer(&client_credentials)), ""),
            INVALID_TOKEN,
        ),
        (
            "oidc_5_3_1_token_without_openid_scope",
            userinfo_get(Some(&bearer(&no_openid)), ""),
            INSUFFICIENT_SCOPE,
        ),
        (
            "oidc_5_3_1_post_without_openid_scope",
            userinfo_post(Some(&bearer(&no_openid)), ""),
            INSUFFICIENT_SCOPE,
        ),
    ];
    for (case, request, expected) in cases {
        assert_refused(&h, case, request, &expected).await;
    }

    let response = h.provider.userinfo(put).await;
    assert_eq!(response.status(), 405);
    assert_eq!(header(&response, "allow"), Some("GET, POST"));

    // The good token still works: the refusals were about the requests.
    let response = h
        .provider
        .userinfo(userinfo_get(Some(&good_header), ""))
        .await;
    assert_eq!(response.status(), 200, "{}", body(&response));
}

async fn assert_refused(h: &Harness, case: &str, request: Request<Bytes>, expected: &Expected) {
    let response = h.provider.userinfo(request).await;
    assert_eq!(
        response.status(),
        expected.status,
        "{case}: {}",
        body(&response)
    );
    assert_eq!(
        header(&response, "cache-control"),
        Some("no-store"),
        "{case}"
    );
    let challenge = header(&response, "www-authenticate")
        .unwrap_or_else(|| panic!("{case}: no WWW-Authenticate"));
    match expected.error {
        None => {
            assert_eq!(challenge, format!("Bearer realm=\"{ISSUER}\""), "{case}");
            assert!(response.body().is_empty(), "{case}");
        }
        Some(error) => {
            assert!(
                challenge.starts_with(&format!("Bearer realm=\"{ISSUER}\", error=\"{error}\"")),
                "{case}: {challenge}"
            );
            assert!(challenge.contains("error_description=\""), "{case}");
            let answer = json(&response);
            assert_eq!(answer["error"], error, "{case}");
            assert!(answer.get("sub").is_none(), "{case}");
            if error == "insufficient_scope" {
                assert!(
                    challenge.ends_with(", scope=\"openid\""),
                    "{case}: {challenge}"
                );
            }
        }
    }
}

/// Tokens that were good and are no longer: expired on the clock, their client revoked or
/// deleted.
#[tokio::test]
async fn rfc6750_3_1_expired_token_and_revoked_or_deleted_client() {
    let h = harness().await;
    let owner = h.resource_owner().await;
    let token = |scope: &'static str| {
        let h = &h;
        let owner = &owner;
        async move {
            let tokens = password_tokens(h, owner, scope).await;
            bearer(tokens["access_token"].as_str().unwrap())
        }
    };
    let request = |header_value: &str| userinfo_get(Some(header_value), "");

    let expiring = token("openid").await;
    assert_eq!(h.provider.userinfo(request(&expiring)).await.status(), 200);
    h.clock.advance(
        Duration::seconds(i64::from(owner.client.access_token_lifetime_secs))
            - Duration::seconds(1),
    );
    assert_eq!(h.provider.userinfo(request(&expiring)).await.status(), 200);
    h.clock.advance(Duration::seconds(1));
    assert_refused(
        &h,
        "rfc6750_3_1_expired_token",
        request(&expiring),
        &INVALID_TOKEN,
    )
    .await;

    let before_revocation = token("openid").await;
    let mut client = h.store.get_client(&owner.client.id).await.unwrap().unwrap();
    client.revoked = true;
    h.store.update_client(client).await.unwrap();
    assert_refused(
        &h,
        "design_4_1_revoked_client",
        request(&before_revocation),
        &INVALID_TOKEN,
    )
    .await;

    let other = h.resource_owner().await;
    let tokens = password_tokens(&h, &other, "openid").await;
    let orphan = bearer(tokens["access_token"].as_str().unwrap());
    assert_eq!(h.provider.userinfo(request(&orphan)).await.status(), 200);
    assert!(h.store.delete_client(&other.client.id).await.unwrap());
    assert_refused(&h, "deleted_client", request(&orphan), &INVALID_TOKEN).await;
}

/// OpenID Connect Core §5.3.2 and §5.4: GET and POST answer `sub` and the standard claims
/// of the granted scopes, nothing else; never a null; `sub` is the token's.
#[tokio::test]
async fn oidc_5_3_2_claims_filtered_by_scope() {
    let h = harness().await;
    let owner = h.resource_owner().await;
    let cases: [(&str, Value); 5] = [
        ("openid", json!({"sub": "user-alice"})),
        (
            "openid email",
            json!({"sub": "user-alice", "email": "user-alice@example.com", "email_verified": true}),
        ),
        (
            "openid profile",
            json!({"sub": "user-alice", "name": "Alice Liddell", "given_name": "Alice",
                   "preferred_username": "alice", "updated_at": 1_700_000_000}),
        ),
        (
            "openid address phone view:users",
            json!({"sub": "user-alice", "address": {"country": "GB"},
                   "phone_number": "+44 20 7946 0000", "phone_number_verified": false}),
        ),
        (
            "openid profile email address phone",
            json!({"sub": "user-alice", "name": "Alice Liddell", "given_name": "Alice",
                   "preferred_username": "alice", "updated_at": 1_700_000_000,
                   "email": "user-alice@example.com", "email_verified": true,
                   "address": {"country": "GB"}, "phone_number": "+44 20 7946 0000",
                   "phone_number_verified": false}),
        ),
    ];
    for (scope, expected) in cases {
        let tokens = password_tokens(&h, &owner, scope).await;
        let header_value = bearer(tokens["access_token"].as_str().unwrap());
        let requests = [
            ("GET", userinfo_get(Some(&header_value), "")),
            ("POST", userinfo_post(Some(&header_value), "")),
            (
                "POST with a form",
                userinfo_post(Some(&header_value), "x=1"),
            ),
        ];
        for (method, request) in requests {
            let response = h.provider.userinfo(request).await;
            assert_eq!(
                response.status(),
                200,
                "{scope} {method}: {}",
                body(&response)
            );
            assert_eq!(header(&response, "content-type"), Some("application/json"));
            assert_eq!(header(&response, "cache-control"), Some("no-store"));
            assert_eq!(json(&response), expected, "{scope} {method}");
        }
        // The same `sub` as the ID token, when the token endpoint issues one.
        if let Some(id_token) = tokens.get("id_token").and_then(Value::as_str) {
            let payload = id_token.split('.').nth(1).unwrap();
            let claims: Value =
                serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
            assert_eq!(claims["sub"], expected["sub"], "{scope}");
        }
    }
}

/// Without a claims source, UserInfo still answers `sub`.
#[tokio::test]
async fn oidc_5_3_2_sub_always_returned() {
    let h = Harness::new().await;
    let owner = h.resource_owner().await;
    let token = password_tokens(&h, &owner, "openid profile email").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = h
        .provider
        .userinfo(userinfo_get(Some(&format!("bearer {token}")), ""))
        .await;
    assert_eq!(response.status(), 200, "the scheme is case-insensitive");
    assert_eq!(json(&response), json!({"sub": "user-alice"}));
}

/// RFC 9068 JWT access tokens work like opaque ones, and a revoked one is refused although
/// its signature is still good (DESIGN §4.1).
#[tokio::test]
async fn rfc9068_jwt_access_token_and_its_revocation() {
    let h = Harness::with(|b| b.claims(Directory).jwt_access_tokens()).await;
    let owner = h.resource_owner().await;
    let token = password_tokens(&h, &owner, "openid email").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(token.matches('.').count(), 2, "a JWT: {token}");
    let request = || userinfo_get(Some(&bearer(&token)), "");
    let response = h.provider.userinfo(request()).await;
    assert_eq!(response.status(), 200, "{}", body(&response));
    assert_eq!(
        json(&response),
        json!({"sub": "user-alice", "email": "user-alice@example.com", "email_verified": true})
    );

    let revoked = h
        .provider
        .revoke(form_post(
            "/oauth/revoke",
            &encode(&[("token", &token)]),
            &[("authorization", &owner.basic())],
        ))
        .await;
    assert_eq!(revoked.status(), 200);
    assert_refused(&h, "design_4_1_revoked_jwt", request(), &INVALID_TOKEN).await;
}
