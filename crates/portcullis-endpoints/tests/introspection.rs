//! The introspection endpoint (RFC 7662): a table of refusals and inactive answers, each
//! named after its clause, then the scenarios with active tokens.
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
use portcullis_registry::{
    Client, ClientKind, NewClient, RoleAssignment, ScopeCatalog, ScopeSet, TokenEndpointAuthMethod,
};
use portcullis_store::testing::{Failure, FaultyStore};
use portcullis_store::{
    ClientStore, FamilyId, MemoryStore, RecordFamily, TokenRecord, TokenStatus, TokenStore,
};
use portcullis_tokens::{
    KeySet, SigningAlgorithm, SigningKey, Subject, TokenHash, TokenKind, mint,
};
use serde_json::{Value, json};
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

const INTROSPECT: &str = "/oauth/introspect";
const REVOKE: &str = "/oauth/revoke";

// ---------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------

/// Tokens minted for a client and stored.
struct Issued {
    access: String,
    refresh: Option<String>,
    issued_at: OffsetDateTime,
}

/// What to mint.
struct Mint<'a> {
    client: &'a Client,
    subject: Option<&'a str>,
    scopes: &'a str,
    refresh: bool,
    now: OffsetDateTime,
    status: TokenStatus,
}

impl<'a> Mint<'a> {
    /// An active access + refresh token for user `user-alice`, scope `openid view:users`.
    fn user(client: &'a Client, now: OffsetDateTime) -> Mint<'a> {
        Mint {
            client,
            subject: Some("user-alice"),
            scopes: "openid view:users",
            refresh: true,
            now,
            status: TokenStatus::Active,
        }
    }

    /// An active client-credentials access token, scope `view:users`.
    fn machine(client: &'a Client, now: OffsetDateTime) -> Mint<'a> {
        Mint {
            client,
            subject: None,
            scopes: "view:users",
            refresh: false,
            now,
            status: TokenStatus::Active,
        }
    }

    async fn store(self, store: &dyn TokenStore) -> Issued {
        let scopes = ScopeSet::parse(self.scopes).unwrap();
        let minted = mint_tokens(Issuance {
            audience: portcullis_grants::Audience::unrestricted(),
            confirmation: None,
            client: self.client,
            subject: self.subject.map(|s| Subject::new(s).unwrap()),
            scopes: scopes.clone(),
            family: FamilyId::generate().unwrap(),
            now: self.now,
            refresh_scopes: self.refresh.then_some(scopes),
            auth_time: None,
            signing: signing(),
        })
        .unwrap();
        let status = self.status;
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
            issued_at: self.now,
        }
    }
}

fn introspect_as(client: &Registered, pairs: &[(&str, &str)]) -> Request<Bytes> {
    form_post(
        INTROSPECT,
        &encode(pairs),
        &[("authorization", &client.basic())],
    )
}

/// Introspects `token` as `client` and returns the JSON answer (asserting 200, no-store).
async fn introspect(h: &Harness, client: &Registered, token: &str) -> Value {
    let response = h
        .provider
        .introspect(introspect_as(client, &[("token", token)]))
        .await;
    assert_eq!(response.status(), 200, "{}", json(&response));
    assert_eq!(header(&response, "cache-control"), Some("no-store"));
    assert_eq!(header(&response, "content-type"), Some("application/json"));
    assert!(!String::from_utf8_lossy(response.body()).contains(token));
    json(&response)
}

fn inactive() -> Value {
    json!({"active": false})
}

/// A resource server: a machine client that may introspect any token (DESIGN §4.1).
async fn resource_server(h: &Harness) -> Registered {
    h.register(ClientKind::Machine, |c| c.introspect_any(true))
        .await
}

// ---------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------

/// What a row expects back.
enum Expect {
    /// RFC 7662 §2.2: 200 with exactly `{"active": false}`.
    Inactive,
    /// An RFC 7662 §2.3 error: status, code, and whether `WWW-Authenticate: Basic` is owed.
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
        let response: Response<Bytes> = provider.introspect(request).await;
        let body = String::from_utf8_lossy(response.body()).into_owned();
        assert_eq!(
            header(&response, "cache-control"),
            Some("no-store"),
            "{name}: Cache-Control"
        );
        assert_eq!(
            header(&response, "content-type"),
            Some("application/json"),
            "{name}: Content-Type"
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
        let value = json(&response);
        let challenge = header(&response, "www-authenticate");
        match expect {
            Expect::Inactive => {
                assert_eq!(response.status(), 200, "{name}: {body}");
                assert_eq!(value, inactive(), "{name}: nothing but active=false");
                assert_eq!(challenge, None, "{name}: WWW-Authenticate");
            }
            Expect::Error {
                status,
                code,
                basic,
            } => {
                assert_eq!(response.status(), status, "{name}: {body}");
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
async fn rfc7662_negative_cases() {
    let h = Harness::new().await;
    let catalog = ScopeCatalog::with_oidc_scopes();
    let web = h.web().await;
    let other = h.web().await;
    let spa = h.spa().await;
    let rs = resource_server(&h).await;
    let revoked_caller = h
        .register(ClientKind::Web, |c| {
            c.redirect_uri(REDIRECT).all_scopes().revoked(true)
        })
        .await;
    // A machine client registered already revoked: its tokens were stored as active, so only
    // the issuing-client check can make them inactive.
    let revoked_issuer = h.register(ClientKind::Machine, |c| c.revoked(true)).await;
    // A client that is not (or no longer) in the store.
    let gone = NewClient::new("Gone", ClientKind::Machine)
        .build(&catalog)
        .unwrap()
        .client;

    let now = h.provider.now();
    let store = h.store.as_ref();
    let live = Mint::user(&web.client, now).store(store).await;
    let live_at = live.access.as_str();
    let others = Mint::user(&other.client, now).store(store).await;
    let spa_token = Mint {
        refresh: false,
        ..Mint::user(&spa.client, now)
    }
    .store(store)
    .await;
    let expired = Mint::user(&web.client, now - Duration::hours(2))
        .store(store)
        .await;
    let revoked = Mint {
        status: TokenStatus::Revoked,
        ..Mint::user(&web.client, now)
    }
    .store(store)
    .await;
    let rotated = Mint {
        status: TokenStatus::Rotated,
        ..Mint::user(&web.client, now)
    }
    .store(store)
    .await;
    let of_revoked_issuer = Mint::machine(&revoked_issuer.client, now)
        .store(store)
        .await;
    let of_gone = Mint::machine(&gone, now).store(store).await;
    let unknown = mint(TokenKind::RefreshToken)
        .unwrap()
        .expose_secret()
        .to_owned();
    let code = mint(TokenKind::AuthorizationCode)
        .unwrap()
        .expose_secret()
        .to_owned();
    let wrong_basic = basic(web.id(), "not-the-secret");

    let cases = vec![
        case(
            "rfc7662_2_1_unauthenticated_401",
            form_post(INTROSPECT, &encode(&[("token", live_at)]), &[]),
            error(401, "invalid_client"),
        ),
        case(
            "rfc7662_2_1_wrong_secret_basic_401",
            form_post(
                INTROSPECT,
                &encode(&[("token", live_at)]),
                &[("authorization", &wrong_basic)],
            ),
            basic_error(401, "invalid_client"),
        ),
        case(
            "rfc7662_2_1_unknown_client_basic_401",
            form_post(
                INTROSPECT,
                &encode(&[("token", live_at)]),
                &[("authorization", &basic("no-such-client", "secret"))],
            ),
            basic_error(401, "invalid_client"),
        ),
        case(
            "rfc7662_2_1_public_client_401",
            form_post(
                INTROSPECT,
                &encode(&[("client_id", spa.id()), ("token", &spa_token.access)]),
                &[],
            ),
            error(401, "invalid_client"),
        ),
        case(
            "design_4_1_revoked_caller_401",
            introspect_as(&revoked_caller, &[("token", live_at)]),
            basic_error(401, "invalid_client"),
        ),
        case(
            "rfc7662_2_1_token_required_400",
            introspect_as(&web, &[("token_type_hint", "access_token")]),
            error(400, "invalid_request"),
        ),
        case(
            "rfc7662_2_1_repeated_token_400",
            form_post(
                INTROSPECT,
                &format!("{}&token={}", encode(&[("token", live_at)]), unknown),
                &[("authorization", &web.basic())],
            ),
            error(400, "invalid_request"),
        ),
        Case {
            headers: &[("allow", "POST")],
            ..case(
                "rfc7662_2_1_get_not_allowed_405",
                Request::get(format!("{INTROSPECT}?{}", encode(&[("token", live_at)])))
                    .header("authorization", web.basic())
                    .body(Bytes::new())
                    .unwrap(),
                error(405, "invalid_request"),
            )
        },
        case(
            "rfc7662_2_1_form_body_required_400",
            Request::post(INTROSPECT)
                .header("content-type", "application/json")
                .header("authorization", web.basic())
                .body(Bytes::from(json!({"token": live_at}).to_string()))
                .unwrap(),
            error(400, "invalid_request"),
        ),
        case(
            "rfc7662_2_2_unknown_token_inactive",
            introspect_as(&web, &[("token", &unknown)]),
            Expect::Inactive,
        ),
        case(
            "rfc7662_2_2_malformed_token_inactive",
            introspect_as(&web, &[("token", "pc_at_!!!")]),
            Expect::Inactive,
        ),
        case(
            "rfc7662_2_2_authorization_code_inactive",
            introspect_as(&web, &[("token", &code)]),
            Expect::Inactive,
        ),
        case(
            "rfc7662_2_2_expired_inactive",
            introspect_as(&web, &[("token", &expired.access)]),
            Expect::Inactive,
        ),
        case(
            "rfc7662_2_2_revoked_inactive",
            introspect_as(&web, &[("token", &revoked.access)]),
            Expect::Inactive,
        ),
        case(
            "rfc7662_2_2_rotated_refresh_token_inactive",
            introspect_as(&web, &[("token", rotated.refresh.as_deref().unwrap())]),
            Expect::Inactive,
        ),
        case(
            "design_4_1_other_clients_token_inactive",
            introspect_as(&web, &[("token", &others.access)]),
            Expect::Inactive,
        ),
        case(
            "design_4_1_other_clients_refresh_token_inactive",
            introspect_as(
                &web,
                &[
                    ("token", others.refresh.as_deref().unwrap()),
                    ("token_type_hint", "refresh_token"),
                ],
            ),
            Expect::Inactive,
        ),
        case(
            "design_4_1_revoked_issuing_client_inactive",
            introspect_as(&rs, &[("token", &of_revoked_issuer.access)]),
            Expect::Inactive,
        ),
        case(
            "design_4_1_deleted_issuing_client_inactive",
            introspect_as(&rs, &[("token", &of_gone.access)]),
            Expect::Inactive,
        ),
    ];
    assert!(cases.len() >= 15);
    let secrets = vec![
        live.access.clone(),
        others.access.clone(),
        others.refresh.clone().unwrap(),
        spa_token.access.clone(),
        expired.access.clone(),
        revoked.access.clone(),
        rotated.refresh.clone().unwrap(),
        of_revoked_issuer.access.clone(),
        of_gone.access.clone(),
        unknown.clone(),
        code.clone(),
        web.secret().to_owned(),
        rs.secret().to_owned(),
    ];
    run(&h.provider, cases, &secrets).await;

    // The rows answered inactive for the reason they name, not because the tokens are bad:
    // each one's own client (or a resource server) still sees it active.
    assert_eq!(introspect(&h, &web, live_at).await["active"], true);
    assert_eq!(introspect(&h, &other, &others.access).await["active"], true);
    assert_eq!(introspect(&h, &rs, &others.access).await["active"], true);
}

#[tokio::test]
async fn rfc7662_2_3_store_failure_cases() {
    let store = Arc::new(FaultyStore::new(MemoryStore::new()));
    let clock = Arc::new(ManualClock::starting_now());
    let provider = Provider::builder(ISSUER, store.clone())
        .clock(clock.clone())
        .build()
        .unwrap();
    let catalog = ScopeCatalog::with_oidc_scopes();
    let issued = NewClient::new("Web", ClientKind::Web)
        .redirect_uri(REDIRECT)
        .build(&catalog)
        .unwrap();
    store.insert_client(issued.client.clone()).await.unwrap();
    let web = Registered {
        client: issued.client,
        secret: issued.secret.map(|s| s.expose_secret().to_owned()),
    };
    let tokens = Mint::machine(&web.client, provider.now())
        .store(store.as_ref())
        .await;
    let request = || introspect_as(&web, &[("token", &tokens.access)]);
    let secrets = [tokens.access.clone(), web.secret().to_owned()];

    store.fail(RecordFamily::Token, Failure::Unavailable);
    run(
        &provider,
        vec![case(
            "rfc7662_2_3_store_unavailable_503",
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
            "rfc7662_2_1_client_lookup_unavailable_503",
            request(),
            error(503, "temporarily_unavailable"),
        )],
        &secrets,
    )
    .await;
    store.heal(RecordFamily::Client);
    let response = provider.introspect(request()).await;
    assert_eq!(response.status(), 200);
    assert_eq!(json(&response)["active"], true);
}

// ---------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn rfc7662_2_2_active_access_token_every_member() {
    let h = Harness::new().await;
    let web = h.web().await;
    let tokens = Mint::user(&web.client, h.provider.now())
        .store(h.store.as_ref())
        .await;
    let iat = tokens.issued_at.unix_timestamp();

    let answer = introspect(&h, &web, &tokens.access).await;
    assert_eq!(
        answer,
        json!({
            "active": true,
            "scope": "openid view:users",
            "client_id": web.id(),
            "sub": "user-alice",
            "exp": iat + i64::from(web.client.access_token_lifetime_secs),
            "iat": iat,
            "token_type": "Bearer",
            "iss": ISSUER,
        })
    );
}

#[tokio::test]
async fn rfc7662_2_2_active_refresh_token_every_member() {
    let h = Harness::new().await;
    let web = h.web().await;
    let tokens = Mint::user(&web.client, h.provider.now())
        .store(h.store.as_ref())
        .await;
    let iat = tokens.issued_at.unix_timestamp();

    let answer = introspect(&h, &web, tokens.refresh.as_deref().unwrap()).await;
    assert_eq!(
        answer,
        json!({
            "active": true,
            "scope": "openid view:users",
            "client_id": web.id(),
            "sub": "user-alice",
            "exp": iat + i64::from(web.client.refresh_token_lifetime_secs),
            "iat": iat,
            "token_type": "refresh_token",
            "iss": ISSUER,
        })
    );
}

#[tokio::test]
async fn design_4_1_introspect_any_sees_other_clients_tokens() {
    let h = Harness::new().await;
    let web = h.web().await;
    let machine = h.machine().await;
    let rs = resource_server(&h).await;
    let now = h.provider.now();
    let user_tokens = Mint::user(&web.client, now).store(h.store.as_ref()).await;
    let machine_token = Mint::machine(&machine.client, now)
        .store(h.store.as_ref())
        .await;

    let answer = introspect(&h, &rs, &user_tokens.access).await;
    assert_eq!(answer["active"], true);
    assert_eq!(answer["client_id"], web.id());
    assert_eq!(answer["sub"], "user-alice");
    let answer = introspect(&h, &rs, user_tokens.refresh.as_deref().unwrap()).await;
    assert_eq!(answer["token_type"], "refresh_token");
    let answer = introspect(&h, &rs, &machine_token.access).await;
    assert_eq!(answer["active"], true);
    assert_eq!(answer["client_id"], machine.id());

    // Without introspect_any, the same question about another client's token is "inactive".
    assert_eq!(
        introspect(&h, &machine, &user_tokens.access).await,
        inactive()
    );
}

#[tokio::test]
async fn design_4_1_machine_client_roles_with_divisions() {
    let h = Harness::new().await;
    let machine = h
        .register(ClientKind::Machine, |c| {
            c.scopes(["view:users", "create:users"])
                .role("auditor", Some("emea"))
                .role("reader", None)
        })
        .await;
    let tokens = Mint {
        scopes: "create:users view:users",
        ..Mint::machine(&machine.client, h.provider.now())
    }
    .store(h.store.as_ref())
    .await;
    let iat = tokens.issued_at.unix_timestamp();

    let answer = introspect(&h, &machine, &tokens.access).await;
    assert_eq!(
        answer,
        json!({
            "active": true,
            "scope": "create:users view:users",
            "client_id": machine.id(),
            "exp": iat + i64::from(machine.client.access_token_lifetime_secs),
            "iat": iat,
            "token_type": "Bearer",
            "iss": ISSUER,
            "roles": [
                {"role": "auditor", "division": "emea"},
                {"role": "reader"},
            ],
        })
    );
    // The roles are those of the token record, serialized as RoleAssignment does.
    let roles: Vec<RoleAssignment> = serde_json::from_value(answer["roles"].clone()).unwrap();
    assert_eq!(roles, machine.client.roles);
}

#[tokio::test]
async fn design_4_1_revoked_client_tokens_inactive_and_requests_refused() {
    let h = Harness::new().await;
    let machine = h.machine().await;
    let rs = resource_server(&h).await;
    let tokens = Mint::machine(&machine.client, h.provider.now())
        .store(h.store.as_ref())
        .await;
    assert_eq!(introspect(&h, &rs, &tokens.access).await["active"], true);
    assert_eq!(
        introspect(&h, &machine, &tokens.access).await["active"],
        true
    );

    let mut disabled = machine.client.clone();
    disabled.revoked = true;
    h.store.update_client(disabled).await.unwrap();

    assert_eq!(introspect(&h, &rs, &tokens.access).await, inactive());
    for response in [
        h.provider
            .introspect(introspect_as(&machine, &[("token", &tokens.access)]))
            .await,
        h.provider
            .revoke(form_post(
                REVOKE,
                &encode(&[("token", &tokens.access)]),
                &[("authorization", &machine.basic())],
            ))
            .await,
    ] {
        assert_eq!(response.status(), 401);
        assert_eq!(json(&response)["error"], "invalid_client");
        assert!(header(&response, "www-authenticate").is_some_and(|v| v.starts_with("Basic")));
        assert_eq!(header(&response, "cache-control"), Some("no-store"));
    }
}

#[tokio::test]
async fn design_4_1_deleted_client_tokens_inactive() {
    let h = Harness::new().await;
    let web = h.web().await;
    let rs = resource_server(&h).await;
    let tokens = Mint::user(&web.client, h.provider.now())
        .store(h.store.as_ref())
        .await;
    assert_eq!(introspect(&h, &rs, &tokens.access).await["active"], true);
    assert!(h.store.delete_client(&web.client.id).await.unwrap());
    assert_eq!(introspect(&h, &rs, &tokens.access).await, inactive());
    assert_eq!(
        introspect(&h, &rs, tokens.refresh.as_deref().unwrap()).await,
        inactive()
    );
}

#[tokio::test]
async fn rfc7662_2_2_expiry_follows_the_clock() {
    let h = Harness::new().await;
    let web = h.web().await;
    let tokens = Mint::user(&web.client, h.provider.now())
        .store(h.store.as_ref())
        .await;
    let lifetime = Duration::seconds(i64::from(web.client.access_token_lifetime_secs));

    h.clock.advance(lifetime - Duration::seconds(1));
    assert_eq!(introspect(&h, &web, &tokens.access).await["active"], true);
    h.clock.advance(Duration::seconds(1));
    assert_eq!(introspect(&h, &web, &tokens.access).await, inactive());
    // The refresh token lives longer.
    assert_eq!(
        introspect(&h, &web, tokens.refresh.as_deref().unwrap()).await["active"],
        true
    );
}

#[tokio::test]
async fn rfc7662_2_1_hint_is_only_a_hint() {
    let h = Harness::new().await;
    let web = h.web().await;
    let tokens = Mint::user(&web.client, h.provider.now())
        .store(h.store.as_ref())
        .await;
    let refresh = tokens.refresh.as_deref().unwrap();
    for (token, hint, token_type) in [
        (tokens.access.as_str(), "refresh_token", "Bearer"),
        (refresh, "access_token", "refresh_token"),
        // RFC 7662 defines no error for a hint it does not know: it is ignored.
        (tokens.access.as_str(), "authorization_code", "Bearer"),
    ] {
        let response = h
            .provider
            .introspect(introspect_as(
                &web,
                &[("token", token), ("token_type_hint", hint)],
            ))
            .await;
        assert_eq!(response.status(), 200, "{hint}");
        let answer = json(&response);
        assert_eq!(answer["active"], true, "{hint}");
        assert_eq!(answer["token_type"], token_type, "{hint}");
    }
}

#[tokio::test]
async fn rfc7662_2_1_client_secret_post_caller() {
    let h = Harness::new().await;
    let post = h
        .register(ClientKind::Web, |c| {
            c.redirect_uri(REDIRECT)
                .all_scopes()
                .auth_method(TokenEndpointAuthMethod::ClientSecretPost)
        })
        .await;
    let tokens = Mint::user(&post.client, h.provider.now())
        .store(h.store.as_ref())
        .await;
    let response = h
        .provider
        .introspect(form_post(
            INTROSPECT,
            &encode(&[
                ("client_id", post.id()),
                ("client_secret", post.secret()),
                ("token", &tokens.access),
            ]),
            &[],
        ))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(json(&response)["client_id"], post.id());
}

#[tokio::test]
async fn rfc7009_revocations_seen_by_introspection() {
    let h = Harness::new().await;
    let web = h.web().await;
    let rs = resource_server(&h).await;
    let tokens = Mint::user(&web.client, h.provider.now())
        .store(h.store.as_ref())
        .await;
    let refresh = tokens.refresh.as_deref().unwrap();

    let revoke = |token: &str| {
        form_post(
            REVOKE,
            &encode(&[("token", token)]),
            &[("authorization", &web.basic())],
        )
    };
    assert_eq!(
        h.provider.revoke(revoke(&tokens.access)).await.status(),
        200
    );
    assert_eq!(introspect(&h, &rs, &tokens.access).await, inactive());
    assert_eq!(introspect(&h, &rs, refresh).await["active"], true);

    assert_eq!(h.provider.revoke(revoke(refresh)).await.status(), 200);
    assert_eq!(introspect(&h, &rs, refresh).await, inactive());
    let family = h
        .store
        .find_token(&TokenHash::of(refresh), h.provider.now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(family.status, TokenStatus::Revoked);
}
