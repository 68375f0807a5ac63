//! The revocation endpoint (RFC 7009): a table of refusals and invalid tokens, each named
//! after its clause, then the scenarios that revoke.
//!
//! The built-in grants are still being written, so tokens are minted with
//! `portcullis_grants::mint_tokens` and stored directly.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod support;

use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response};
use portcullis_endpoints::Provider;
use portcullis_grants::{Issuance, IssuerSettings, ManualClock, NoClaims, Signing, mint_tokens};
use portcullis_registry::{Client, ClientKind, ScopeSet, TokenEndpointAuthMethod};
use portcullis_store::testing::{Failure, FaultyStore};
use portcullis_store::{
    ClientStore, FamilyId, MemoryStore, RecordFamily, TokenRecord, TokenStatus, TokenStore,
};
use portcullis_tokens::{
    KeySet, SigningAlgorithm, SigningKey, Subject, TokenHash, TokenKind, mint,
};
use serde_json::json;
use support::*;
use time::{Duration, OffsetDateTime};

/// Signing for tokens minted straight into the store: default settings (opaque access
/// tokens) and a throwaway key.
fn signing() -> Signing<'static> {
    static SIGNING: std::sync::OnceLock<(IssuerSettings, KeySet)> = std::sync::OnceLock::new();
    let (settings, keys) = SIGNING.get_or_init(|| {
        let key = SigningKey::generate(SigningAlgorithm::ES256).unwrap();
        (IssuerSettings::new(ISSUER), KeySet::new(key))
    });
    Signing {
        settings,
        keys,
        claims: &NoClaims,
    }
}

const REVOKE: &str = "/oauth/revoke";
const INTROSPECT: &str = "/oauth/introspect";

// ---------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------

/// Tokens minted for a client and stored.
struct Issued {
    access: String,
    refresh: Option<String>,
    family: FamilyId,
}

/// Mints an access token (and a refresh token when `refresh`) for `client` at `now`, with
/// the given status, in `family` (a fresh one when `None`), and stores them.
async fn mint_stored(
    store: &dyn TokenStore,
    client: &Client,
    now: OffsetDateTime,
    refresh: bool,
    family: Option<FamilyId>,
    status: TokenStatus,
) -> Issued {
    let family = family.unwrap_or_else(|| FamilyId::generate().unwrap());
    let scopes = ScopeSet::parse("view:users").unwrap();
    let minted = mint_tokens(Issuance {
        audience: portcullis_grants::Audience::unrestricted(),
        confirmation: None,
        client,
        subject: (client.kind != ClientKind::Machine).then(|| Subject::new("user-alice").unwrap()),
        scopes: scopes.clone(),
        family: family.clone(),
        now,
        refresh_scopes: refresh.then_some(scopes),
        auth_time: None,
        signing: signing(),
    })
    .unwrap();
    let records = minted
        .records
        .into_iter()
        .map(|record| TokenRecord { status, ..record })
        .collect();
    store.insert_tokens(records).await.unwrap();
    Issued {
        access: minted.response.access_token.expose_secret().to_owned(),
        refresh: minted
            .response
            .refresh_token
            .map(|t| t.expose_secret().to_owned()),
        family,
    }
}

/// Active access + refresh tokens for `client`, issued now.
async fn issue(h: &Harness, client: &Registered) -> Issued {
    mint_stored(
        h.store.as_ref(),
        &client.client,
        h.provider.now(),
        true,
        None,
        TokenStatus::Active,
    )
    .await
}

fn revoke_as(client: &Registered, pairs: &[(&str, &str)]) -> Request<Bytes> {
    form_post(
        REVOKE,
        &encode(pairs),
        &[("authorization", &client.basic())],
    )
}

/// Whether `client` (the token's own, confidential) is told `token` is active.
async fn active(h: &Harness, client: &Registered, token: &str) -> bool {
    let response = h
        .provider
        .introspect(form_post(
            INTROSPECT,
            &encode(&[("token", token)]),
            &[("authorization", &client.basic())],
        ))
        .await;
    assert_eq!(response.status(), 200, "{}", json(&response));
    json(&response)["active"] == json!(true)
}

/// Asserts the RFC 7009 §2.2 success answer: 200, empty body, not cacheable.
fn assert_revoked_answer(response: &Response<Bytes>) {
    assert_eq!(response.status(), 200);
    assert!(response.body().is_empty(), "{:?}", response.body());
    assert_eq!(header(response, "cache-control"), Some("no-store"));
}

// ---------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------

/// What a row expects back.
enum Expect {
    /// RFC 7009 §2.2: 200 with an empty body.
    Revoked,
    /// An RFC 6749 §5.2 error: status, code, and whether `WWW-Authenticate: Basic` is owed.
    Error {
        status: u16,
        code: &'static str,
        basic: bool,
    },
}

struct Case {
    name: &'static str,
    request: Request<Bytes>,
    expect: Expect,
    /// Further headers the answer must carry.
    headers: &'static [(&'static str, &'static str)],
}

fn case(name: &'static str, request: Request<Bytes>, expect: Expect) -> Case {
    Case {
        name,
        request,
        expect,
        headers: &[],
    }
}

fn error(status: u16, code: &'static str) -> Expect {
    Expect::Error {
        status,
        code,
        basic: false,
    }
}

fn basic_error(status: u16, code: &'static str) -> Expect {
    Expect::Error {
        status,
        code,
        basic: true,
    }
}

/// Runs every row, checking status, code, headers and body, and that no answer repeats any
/// of `secrets` (tokens and client secrets in play).
async fn run(provider: &Provider, cases: Vec<Case>, secrets: &[String]) {
    for Case {
        name,
        request,
        expect,
        headers,
    } in cases
    {
        let response = provider.revoke(request).await;
        let body = String::from_utf8_lossy(response.body()).into_owned();
        assert_eq!(
            header(&response, "cache-control"),
            Some("no-store"),
            "{name}: Cache-Control"
        );
        for secret in secrets {
            assert!(
                !body.contains(secret.as_str()),
                "{name}: echoes a secret: {body}"
            );
        }
        for (header_name, value) in headers {
            assert_eq!(
                header(&response, header_name),
                Some(*value),
                "{name}: {header_name}"
            );
        }
        match expect {
            Expect::Revoked => {
                assert_eq!(response.status(), 200, "{name}: {body}");
                assert!(body.is_empty(), "{name}: body {body:?}");
                assert_eq!(
                    header(&response, "www-authenticate"),
                    None,
                    "{name}: WWW-Authenticate"
                );
            }
            Expect::Error {
                status,
                code,
                basic,
            } => {
                assert_eq!(response.status(), status, "{name}: {body}");
                assert_eq!(
                    header(&response, "content-type"),
                    Some("application/json"),
                    "{name}: Content-Type"
                );
                let value = json(&response);
                let object = value.as_object().expect("a JSON object");
                assert_eq!(object["error"], code, "{name}: {body}");
                assert!(
                    object["error_description"]
                        .as_str()
                        .is_some_and(|d| !d.is_empty()),
                    "{name}: error_description {body}"
                );
                assert_eq!(
                    object.len(),
                    2,
                    "{name}: only error and description: {body}"
                );
                let challenge = header(&response, "www-authenticate");
                if basic {
                    assert!(
                        challenge.is_some_and(|c| c.starts_with("Basic realm=")),
                        "{name}: WWW-Authenticate {challenge:?}"
                    );
                } else {
                    assert_eq!(challenge, None, "{name}: WWW-Authenticate");
                }
            }
        }
    }
}

#[tokio::test]
async fn rfc7009_negative_cases() {
    let h = Harness::new().await;
    let web = h.web().await;
    let post = h
        .register(ClientKind::Web, |c| {
            c.redirect_uri(REDIRECT)
                .all_scopes()
                .auth_method(TokenEndpointAuthMethod::ClientSecretPost)
        })
        .await;
    let other = h.web().await;
    let revoked_client = h
        .register(ClientKind::Web, |c| {
            c.redirect_uri(REDIRECT).all_scopes().revoked(true)
        })
        .await;

    let now = h.provider.now();
    let live = issue(&h, &web).await;
    let others = issue(&h, &other).await;
    let expired = mint_stored(
        h.store.as_ref(),
        &web.client,
        now - Duration::hours(2),
        false,
        None,
        TokenStatus::Active,
    )
    .await;
    let already_revoked = mint_stored(
        h.store.as_ref(),
        &web.client,
        now,
        true,
        None,
        TokenStatus::Revoked,
    )
    .await;
    let unknown = mint(TokenKind::AccessToken)
        .unwrap()
        .expose_secret()
        .to_owned();
    let code = mint(TokenKind::AuthorizationCode)
        .unwrap()
        .expose_secret()
        .to_owned();
    let live_at = live.access.as_str();

    let wrong_basic = basic(web.id(), "not-the-secret");
    let big = "a".repeat(70 * 1024);
    let cases = vec![
        case(
            "rfc7009_2_1_client_auth_required_401",
            form_post(REVOKE, &encode(&[("token", live_at)]), &[]),
            error(401, "invalid_client"),
        ),
        case(
            "rfc7009_2_1_wrong_secret_basic_401",
            form_post(
                REVOKE,
                &encode(&[("token", live_at)]),
                &[("authorization", &wrong_basic)],
            ),
            basic_error(401, "invalid_client"),
        ),
        case(
            "rfc7009_2_1_unknown_client_basic_401",
            form_post(
                REVOKE,
                &encode(&[("token", live_at)]),
                &[("authorization", &basic("no-such-client", "secret"))],
            ),
            basic_error(401, "invalid_client"),
        ),
        case(
            "rfc7009_2_1_malformed_basic_header_401",
            form_post(
                REVOKE,
                &encode(&[("token", live_at)]),
                &[("authorization", "Basic %%%not-base64")],
            ),
            basic_error(401, "invalid_client"),
        ),
        case(
            "rfc6749_2_3_1_wrong_secret_post_401",
            form_post(
                REVOKE,
                &encode(&[
                    ("token", live_at),
                    ("client_id", post.id()),
                    ("client_secret", "not-the-secret"),
                ]),
                &[],
            ),
            error(401, "invalid_client"),
        ),
        case(
            "rfc6749_2_3_1_unregistered_auth_method_401",
            form_post(
                REVOKE,
                &encode(&[
                    ("token", live_at),
                    ("client_id", web.id()),
                    ("client_secret", web.secret()),
                ]),
                &[],
            ),
            error(401, "invalid_client"),
        ),
        case(
            "rfc6749_2_3_one_auth_method_only_400",
            form_post(
                REVOKE,
                &encode(&[("token", live_at), ("client_secret", web.secret())]),
                &[("authorization", &web.basic())],
            ),
            error(400, "invalid_request"),
        ),
        case(
            "design_4_1_revoked_client_401",
            revoke_as(&revoked_client, &[("token", live_at)]),
            basic_error(401, "invalid_client"),
        ),
        case(
            "rfc7009_2_1_token_required_400",
            revoke_as(&web, &[("token_type_hint", "access_token")]),
            error(400, "invalid_request"),
        ),
        case(
            "rfc7009_2_2_1_unsupported_token_type",
            revoke_as(
                &web,
                &[
                    ("token", live_at),
                    ("token_type_hint", "authorization_code"),
                ],
            ),
            error(400, "unsupported_token_type"),
        ),
        case(
            "rfc7009_2_2_unknown_token_200",
            revoke_as(&web, &[("token", &unknown)]),
            Expect::Revoked,
        ),
        case(
            "rfc7009_2_2_malformed_token_200",
            revoke_as(&web, &[("token", "pc_at_short")]),
            Expect::Revoked,
        ),
        case(
            "rfc7009_2_2_expired_token_200",
            revoke_as(&web, &[("token", &expired.access)]),
            Expect::Revoked,
        ),
        case(
            "rfc7009_2_2_already_revoked_token_200",
            revoke_as(
                &web,
                &[("token", already_revoked.refresh.as_deref().unwrap())],
            ),
            Expect::Revoked,
        ),
        case(
            "rfc7009_2_1_other_clients_token_200",
            revoke_as(&web, &[("token", &others.access)]),
            Expect::Revoked,
        ),
        case(
            "rfc7009_2_2_authorization_code_is_not_a_token_200",
            revoke_as(&web, &[("token", &code)]),
            Expect::Revoked,
        ),
        Case {
            headers: &[("allow", "POST")],
            ..case(
                "rfc7009_2_1_get_not_allowed_405",
                Request::get(format!("{REVOKE}?{}", encode(&[("token", live_at)])))
                    .header("authorization", web.basic())
                    .body(Bytes::new())
                    .unwrap(),
                error(405, "invalid_request"),
            )
        },
        case(
            "rfc7009_2_1_form_body_required_400",
            Request::post(REVOKE)
                .header("content-type", "application/json")
                .header("authorization", web.basic())
                .body(Bytes::from(json!({"token": live_at}).to_string()))
                .unwrap(),
            error(400, "invalid_request"),
        ),
        case(
            "rfc6749_3_1_repeated_parameter_400",
            form_post(
                REVOKE,
                &format!("{}&token={}", encode(&[("token", live_at)]), unknown),
                &[("authorization", &web.basic())],
            ),
            error(400, "invalid_request"),
        ),
        case(
            "rfc7009_2_1_oversized_body_413",
            revoke_as(&web, &[("token", live_at), ("padding", &big)]),
            error(413, "invalid_request"),
        ),
    ];
    assert!(cases.len() >= 15);
    let secrets = vec![
        live.access.clone(),
        live.refresh.clone().unwrap(),
        others.access.clone(),
        expired.access.clone(),
        unknown.clone(),
        code.clone(),
        web.secret().to_owned(),
        post.secret().to_owned(),
    ];
    run(&h.provider, cases, &secrets).await;

    // None of the refused or ignored requests revoked anything.
    assert!(active(&h, &web, &live.access).await);
    assert!(active(&h, &web, live.refresh.as_deref().unwrap()).await);
    assert!(active(&h, &other, &others.access).await);
}

#[tokio::test]
async fn rfc7009_2_2_1_store_failure_cases() {
    let store = Arc::new(FaultyStore::new(MemoryStore::new()));
    let clock = Arc::new(ManualClock::starting_now());
    let provider = Provider::builder(ISSUER, store.clone())
        .clock(clock.clone())
        .build()
        .unwrap();
    let issued = portcullis_registry::NewClient::new("Web", ClientKind::Web)
        .redirect_uri(REDIRECT)
        .build(&portcullis_registry::ScopeCatalog::with_oidc_scopes())
        .unwrap();
    store.insert_client(issued.client.clone()).await.unwrap();
    let web = Registered {
        client: issued.client,
        secret: issued.secret.map(|s| s.expose_secret().to_owned()),
    };
    let tokens = mint_stored(
        store.as_ref(),
        &web.client,
        provider.now(),
        true,
        None,
        TokenStatus::Active,
    )
    .await;
    let request = || revoke_as(&web, &[("token", &tokens.access)]);
    let secrets = [tokens.access.clone(), web.secret().to_owned()];

    store.fail(RecordFamily::Token, Failure::Unavailable);
    run(
        &provider,
        vec![case(
            "rfc7009_2_2_1_store_unavailable_503",
            request(),
            error(503, "temporarily_unavailable"),
        )],
        &secrets,
    )
    .await;
    store.fail(RecordFamily::Token, Failure::Backend);
    run(
        &provider,
        vec![case(
            "rfc6749_5_2_store_backend_failure_500",
            request(),
            error(500, "server_error"),
        )],
        &secrets,
    )
    .await;
    store.heal(RecordFamily::Token);
    store.fail(RecordFamily::Client, Failure::Unavailable);
    run(
        &provider,
        vec![case(
            "rfc7009_2_1_client_lookup_unavailable_503",
            request(),
            error(503, "temporarily_unavailable"),
        )],
        &secrets,
    )
    .await;

    // Once the store is back the same request revokes.
    store.heal(RecordFamily::Client);
    assert_revoked_answer(&provider.revoke(request()).await);
    let record = store
        .inner()
        .find_token(&TokenHash::of(&tokens.access), provider.now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.status, TokenStatus::Revoked);
}

// ---------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn rfc7009_2_1_revoking_an_access_token_leaves_its_refresh_token() {
    let h = Harness::new().await;
    let web = h.web().await;
    let tokens = issue(&h, &web).await;
    let refresh = tokens.refresh.as_deref().unwrap();

    let response = h
        .provider
        .revoke(revoke_as(
            &web,
            &[
                ("token", &tokens.access),
                ("token_type_hint", "access_token"),
            ],
        ))
        .await;
    assert_revoked_answer(&response);

    assert!(!active(&h, &web, &tokens.access).await);
    assert!(active(&h, &web, refresh).await);

    // Revoking it again is harmless and answers the same.
    let again = h
        .provider
        .revoke(revoke_as(&web, &[("token", &tokens.access)]))
        .await;
    assert_revoked_answer(&again);
    assert!(active(&h, &web, refresh).await);
}

#[tokio::test]
async fn rfc7009_2_1_revoking_a_refresh_token_revokes_the_family() {
    let h = Harness::new().await;
    let web = h.web().await;
    let tokens = issue(&h, &web).await;
    // A later access token of the same grant (as a refresh would have issued).
    let sibling = mint_stored(
        h.store.as_ref(),
        &web.client,
        h.provider.now(),
        false,
        Some(tokens.family.clone()),
        TokenStatus::Active,
    )
    .await;
    // Another grant of the same client is not touched.
    let unrelated = issue(&h, &web).await;

    let response = h
        .provider
        .revoke(revoke_as(
            &web,
            &[
                ("token", tokens.refresh.as_deref().unwrap()),
                ("token_type_hint", "refresh_token"),
            ],
        ))
        .await;
    assert_revoked_answer(&response);

    assert!(!active(&h, &web, tokens.refresh.as_deref().unwrap()).await);
    assert!(!active(&h, &web, &tokens.access).await);
    assert!(!active(&h, &web, &sibling.access).await);
    assert!(active(&h, &web, &unrelated.access).await);
    assert!(active(&h, &web, unrelated.refresh.as_deref().unwrap()).await);
    let family = h
        .store
        .list_family(&tokens.family, h.provider.now())
        .await
        .unwrap();
    assert_eq!(family.len(), 3);
    assert!(family.iter().all(|t| t.status == TokenStatus::Revoked));
}

#[tokio::test]
async fn rfc7009_2_1_another_clients_token_is_not_revoked() {
    let h = Harness::new().await;
    let owner = h.web().await;
    let intruder = h.web().await;
    let tokens = issue(&h, &owner).await;

    for token in [tokens.access.as_str(), tokens.refresh.as_deref().unwrap()] {
        let response = h
            .provider
            .revoke(revoke_as(&intruder, &[("token", token)]))
            .await;
        // The same answer as for a token that does not exist.
        assert_revoked_answer(&response);
    }
    assert!(active(&h, &owner, &tokens.access).await);
    assert!(active(&h, &owner, tokens.refresh.as_deref().unwrap()).await);
}

#[tokio::test]
async fn rfc7009_2_1_wrong_hint_still_finds_and_revokes() {
    let h = Harness::new().await;
    let web = h.web().await;

    // An access token hinted as a refresh token: only the access token goes.
    let first = issue(&h, &web).await;
    let response = h
        .provider
        .revoke(revoke_as(
            &web,
            &[
                ("token", &first.access),
                ("token_type_hint", "refresh_token"),
            ],
        ))
        .await;
    assert_revoked_answer(&response);
    assert!(!active(&h, &web, &first.access).await);
    assert!(active(&h, &web, first.refresh.as_deref().unwrap()).await);

    // A refresh token hinted as an access token: still a refresh token, so the family goes.
    let second = issue(&h, &web).await;
    let response = h
        .provider
        .revoke(revoke_as(
            &web,
            &[
                ("token", second.refresh.as_deref().unwrap()),
                ("token_type_hint", "access_token"),
            ],
        ))
        .await;
    assert_revoked_answer(&response);
    assert!(!active(&h, &web, second.refresh.as_deref().unwrap()).await);
    assert!(!active(&h, &web, &second.access).await);
}

#[tokio::test]
async fn rfc7009_2_1_public_client_revokes_with_its_client_id() {
    let h = Harness::new().await;
    let spa = h.spa().await;
    let tokens = mint_stored(
        h.store.as_ref(),
        &spa.client,
        h.provider.now(),
        false,
        None,
        TokenStatus::Active,
    )
    .await;
    let response = h
        .provider
        .revoke(form_post(
            REVOKE,
            &encode(&[("client_id", spa.id()), ("token", &tokens.access)]),
            &[],
        ))
        .await;
    assert_revoked_answer(&response);
    let record = h
        .store
        .find_token(&TokenHash::of(&tokens.access), h.provider.now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.status, TokenStatus::Revoked);
}

#[tokio::test]
async fn rfc6749_2_3_1_client_secret_post_client_revokes() {
    let h = Harness::new().await;
    let post = h
        .register(ClientKind::Web, |c| {
            c.redirect_uri(REDIRECT)
                .all_scopes()
                .auth_method(TokenEndpointAuthMethod::ClientSecretPost)
        })
        .await;
    let tokens = issue(&h, &post).await;
    let response = h
        .provider
        .revoke(form_post(
            REVOKE,
            &encode(&[
                ("client_id", post.id()),
                ("client_secret", post.secret()),
                ("token", tokens.refresh.as_deref().unwrap()),
            ]),
            &[],
        ))
        .await;
    assert_revoked_answer(&response);
    let family = h
        .store
        .list_family(&tokens.family, h.provider.now())
        .await
        .unwrap();
    assert!(family.iter().all(|t| t.status == TokenStatus::Revoked));
}

#[tokio::test]
async fn design_4_1_revoked_client_cannot_revoke() {
    let h = Harness::new().await;
    let web = h.web().await;
    let tokens = issue(&h, &web).await;
    let mut disabled = web.client.clone();
    disabled.revoked = true;
    h.store.update_client(disabled).await.unwrap();

    let response = h
        .provider
        .revoke(revoke_as(&web, &[("token", &tokens.access)]))
        .await;
    assert_eq!(response.status(), 401);
    assert_eq!(json(&response)["error"], "invalid_client");
    assert!(header(&response, "www-authenticate").is_some_and(|v| v.starts_with("Basic")));
    assert_eq!(header(&response, "cache-control"), Some("no-store"));
}

#[tokio::test]
async fn rfc7009_2_2_expired_token_answers_200_after_the_clock_moves() {
    let h = Harness::new().await;
    let web = h.web().await;
    let tokens = issue(&h, &web).await;
    h.clock.advance(Duration::seconds(i64::from(
        web.client.access_token_lifetime_secs,
    )));
    let response = h
        .provider
        .revoke(revoke_as(&web, &[("token", &tokens.access)]))
        .await;
    assert_revoked_answer(&response);
    // The refresh token outlives the access token and is untouched.
    assert!(active(&h, &web, tokens.refresh.as_deref().unwrap()).await);
}
