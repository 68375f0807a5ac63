//! The token endpoint through `Provider::token` (RFC 6749 §3.2, §4.1.3, §4.3, §4.4, §5, §6;
//! RFC 7636 §4.5-4.6; RFC 9700 §4.8.2, §4.14.2): first a table of refusals, each named after
//! the clause it proves, then every grant end to end.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod support;

use bytes::Bytes;
use http::{Request, Response};
use portcullis_registry::{ClientKind, GrantType, ScopeSet, TokenEndpointAuthMethod};
use portcullis_store::{
    AuthorizationCode, ClientStore, CodeStore, FamilyId, TokenRecord, TokenStatus, TokenStore,
};
use portcullis_tokens::{Subject, TokenHash, TokenKind, mint};
use serde_json::Value;
use support::*;
use time::{Duration, OffsetDateTime};

const TOKEN: &str = "/oauth/token";
const REALM: &str = "Basic realm=\"https://id.example\"";

// ---------------------------------------------------------------------------------------
// Requests

/// A token request authenticated with `Authorization: Basic` (client_secret_basic).
fn basic_req(client: &Registered, pairs: &[(&str, &str)]) -> Request<Bytes> {
    form_post(TOKEN, &encode(pairs), &[("authorization", &client.basic())])
}

/// A token request with `client_id` and `client_secret` in the body (client_secret_post).
fn post_req(client: &Registered, pairs: &[(&str, &str)]) -> Request<Bytes> {
    let mut all = vec![
        ("client_id", client.id()),
        ("client_secret", client.secret()),
    ];
    all.extend_from_slice(pairs);
    form_post(TOKEN, &encode(&all), &[])
}

/// A token request of a public client: `client_id` only (`none`).
fn public_req(client: &Registered, pairs: &[(&str, &str)]) -> Request<Bytes> {
    let mut all = vec![("client_id", client.id())];
    all.extend_from_slice(pairs);
    form_post(TOKEN, &encode(&all), &[])
}

/// A request the way the client is registered to authenticate.
fn auth_req(client: &Registered, pairs: &[(&str, &str)]) -> Request<Bytes> {
    match client.client.auth_method {
        TokenEndpointAuthMethod::ClientSecretBasic => basic_req(client, pairs),
        TokenEndpointAuthMethod::ClientSecretPost => post_req(client, pairs),
        TokenEndpointAuthMethod::None => public_req(client, pairs),
        other => panic!("these tests register no {other} client"),
    }
}

// ---------------------------------------------------------------------------------------
// Records inserted directly (the authorization endpoint is tested on its own)

struct CodeSpec<'a> {
    redirect_uri: Option<&'a str>,
    /// An S256 challenge.
    challenge: Option<&'a str>,
    scope: &'a str,
    issued_at: OffsetDateTime,
    expires_at: OffsetDateTime,
}

impl<'a> CodeSpec<'a> {
    fn new(h: &Harness, scope: &'a str) -> CodeSpec<'a> {
        let now = h.provider.now();
        CodeSpec {
            redirect_uri: Some(REDIRECT),
            challenge: None,
            scope,
            issued_at: now,
            expires_at: now + Duration::minutes(10),
        }
    }

    fn redirect(mut self, uri: Option<&'a str>) -> Self {
        self.redirect_uri = uri;
        self
    }

    fn s256(mut self, challenge: &'a str) -> Self {
        self.challenge = Some(challenge);
        self
    }

    fn expired(mut self) -> Self {
        self.issued_at -= Duration::minutes(11);
        self.expires_at = self.issued_at + Duration::minutes(10);
        self
    }
}

/// Stores an authorization code for `client`; answers its plain value and family.
async fn insert_code(h: &Harness, client: &Registered, spec: CodeSpec<'_>) -> (String, FamilyId) {
    let code = mint(TokenKind::AuthorizationCode).unwrap();
    let family = FamilyId::generate().unwrap();
    h.store
        .insert_code(AuthorizationCode {
            code: code.lookup_key(),
            client_id: client.client.id.clone(),
            redirect_uri: spec.redirect_uri.map(str::to_owned),
            subject: Subject::new("user-alice").unwrap(),
            scopes: ScopeSet::parse(spec.scope).unwrap(),
            nonce: None,
            code_challenge: spec.challenge.map(str::to_owned),
            code_challenge_method: spec.challenge.map(|_| "S256".to_owned()),
            auth_time: Some(spec.issued_at),
            family: family.clone(),
            issued_at: spec.issued_at,
            expires_at: spec.expires_at,
            resources: Vec::new(),
            dpop_jkt: None,
        })
        .await
        .unwrap();
    (code.expose_secret().to_owned(), family)
}

/// Stores a token of `kind` for `client`; answers its plain value.
async fn insert_token(
    h: &Harness,
    client: &Registered,
    kind: TokenKind,
    status: TokenStatus,
    expires_in: Duration,
) -> String {
    let token = mint(kind).unwrap();
    let now = h.provider.now();
    h.store
        .insert_tokens(vec![TokenRecord {
            hash: token.lookup_key(),
            kind,
            client_id: client.client.id.clone(),
            subject: Some(Subject::new("user-alice").unwrap()),
            scopes: ScopeSet::parse("profile view:users").unwrap(),
            roles: Vec::new(),
            family: FamilyId::generate().unwrap(),
            issued_at: now.min(now + expires_in) - Duration::minutes(1),
            expires_at: now + expires_in,
            status,
            audience: Vec::new(),
            confirmation: None,
        }])
        .await
        .unwrap();
    token.expose_secret().to_owned()
}

async fn stored(h: &Harness, token: &str) -> TokenRecord {
    h.store
        .find_token(&TokenHash::of(token), h.provider.now())
        .await
        .unwrap()
        .expect("the token is stored")
}

// ---------------------------------------------------------------------------------------
// Responses

/// Headers RFC 6749 §5.1 and §5.2 require on every token endpoint answer.
fn assert_json_no_store(response: &Response<Bytes>, context: &str) {
    assert_eq!(
        header(response, "content-type"),
        Some("application/json"),
        "{context}"
    );
    assert_eq!(
        header(response, "cache-control"),
        Some("no-store"),
        "{context}"
    );
    assert_eq!(header(response, "pragma"), Some("no-cache"), "{context}");
}

/// Checks a successful token response (RFC 6749 §5.1) and answers its body.
fn assert_issued(
    response: &Response<Bytes>,
    client: &Registered,
    scope: &str,
    refresh: bool,
) -> Value {
    let body = json(response);
    assert_eq!(response.status(), 200, "{body}");
    assert_json_no_store(response, "success");
    assert!(
        body["access_token"].as_str().unwrap().starts_with("pc_at_"),
        "{body}"
    );
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], client.client.access_token_lifetime_secs);
    let granted = ScopeSet::parse(body["scope"].as_str().unwrap_or_default()).unwrap();
    assert_eq!(granted, ScopeSet::parse(scope).unwrap(), "{body}");
    match body.get("refresh_token") {
        Some(token) if refresh => assert!(token.as_str().unwrap().starts_with("pc_rt_")),
        None if !refresh => {}
        other => panic!("refresh_token expected: {refresh}, got {other:?}"),
    }
    body
}

/// Checks an RFC 6749 §5.2 error response.
fn assert_error(response: &Response<Bytes>, status: u16, error: &str) {
    let body = json(response);
    assert_eq!(response.status(), status, "{body}");
    assert_eq!(body["error"], error, "{body}");
    assert!(!body["error_description"].as_str().unwrap().is_empty());
    assert_json_no_store(response, error);
}

fn text(value: &Value) -> String {
    value.as_str().unwrap().to_owned()
}

// ---------------------------------------------------------------------------------------
// The table of refusals

/// One harness with a client of every kind and codes and tokens in every state.
struct Fx {
    h: Harness,
    web: Registered,
    web_post: Registered,
    spa: Registered,
    machine: Registered,
    ro: Registered,
    revoked: Registered,
    /// Web: redirect REDIRECT, no PKCE.
    code: String,
    /// Web: no redirect_uri in the authorization request.
    code_no_redirect: String,
    /// SPA: redirect REDIRECT, S256 challenge of VERIFIER.
    spa_code: String,
    /// Web, expired a minute ago.
    expired_code: String,
    /// Web refresh tokens, scope "profile view:users".
    refresh: String,
    rotated_refresh: String,
    revoked_refresh: String,
    expired_refresh: String,
    /// A web access token.
    access: String,
}

impl Fx {
    async fn new() -> Fx {
        let h = Harness::new().await;
        let web = h.web().await;
        let web_post = h
            .register(ClientKind::Web, |c| {
                c.redirect_uri(REDIRECT)
                    .all_scopes()
                    .auth_method(TokenEndpointAuthMethod::ClientSecretPost)
            })
            .await;
        let spa = h.spa().await;
        let machine = h.machine().await;
        let ro = h.resource_owner().await;
        let revoked = h
            .register(ClientKind::Web, |c| {
                c.redirect_uri(REDIRECT).all_scopes().revoked(true)
            })
            .await;
        let (code, _) = insert_code(&h, &web, CodeSpec::new(&h, "profile")).await;
        let (code_no_redirect, _) =
            insert_code(&h, &web, CodeSpec::new(&h, "profile").redirect(None)).await;
        let (spa_code, _) =
            insert_code(&h, &spa, CodeSpec::new(&h, "profile").s256(CHALLENGE)).await;
        let (expired_code, _) = insert_code(&h, &web, CodeSpec::new(&h, "profile").expired()).await;
        let day = Duration::days(1);
        let refresh =
            insert_token(&h, &web, TokenKind::RefreshToken, TokenStatus::Active, day).await;
        let rotated_refresh =
            insert_token(&h, &web, TokenKind::RefreshToken, TokenStatus::Rotated, day).await;
        let revoked_refresh =
            insert_token(&h, &web, TokenKind::RefreshToken, TokenStatus::Revoked, day).await;
        let expired_refresh = insert_token(
            &h,
            &web,
            TokenKind::RefreshToken,
            TokenStatus::Active,
            -Duration::seconds(1),
        )
        .await;
        let access = insert_token(&h, &web, TokenKind::AccessToken, TokenStatus::Active, day).await;
        Fx {
            h,
            web,
            web_post,
            spa,
            machine,
            ro,
            revoked,
            code,
            code_no_redirect,
            spa_code,
            expired_code,
            refresh,
            rotated_refresh,
            revoked_refresh,
            expired_refresh,
            access,
        }
    }

    fn clients(&self) -> [&Registered; 6] {
        [
            &self.web,
            &self.web_post,
            &self.spa,
            &self.machine,
            &self.ro,
            &self.revoked,
        ]
    }

    /// Values that must never appear in a response body.
    fn secrets(&self) -> Vec<&str> {
        let mut secrets: Vec<&str> = self
            .clients()
            .iter()
            .filter_map(|c| c.secret.as_deref())
            .collect();
        secrets.extend([
            self.code.as_str(),
            &self.code_no_redirect,
            &self.spa_code,
            &self.expired_code,
            &self.refresh,
            &self.rotated_refresh,
            &self.revoked_refresh,
            &self.expired_refresh,
            &self.access,
            VERIFIER,
            "correct horse",
        ]);
        secrets
    }

    /// How many live tokens the clients hold, any status.
    async fn token_count(&self) -> usize {
        let mut count = 0;
        for client in self.clients() {
            count += self
                .h
                .store
                .list_client_tokens(&client.client.id, self.h.provider.now())
                .await
                .unwrap()
                .len();
        }
        count
    }
}

/// One row: the request, and the status, `error` and `WWW-Authenticate` it must get.
struct Case {
    name: &'static str,
    request: fn(&Fx) -> Request<Bytes>,
    status: u16,
    error: &'static str,
    /// `WWW-Authenticate: Basic` expected: the client tried the Authorization header and
    /// failed (RFC 6749 §5.2).
    basic_challenge: bool,
}

fn case(
    name: &'static str,
    status: u16,
    error: &'static str,
    basic_challenge: bool,
    request: fn(&Fx) -> Request<Bytes>,
) -> Case {
    Case {
        name,
        request,
        status,
        error,
        basic_challenge,
    }
}

const CC: (&str, &str) = ("grant_type", "client_credentials");
const AC: (&str, &str) = ("grant_type", "authorization_code");
const RT: (&str, &str) = ("grant_type", "refresh_token");
const PW: (&str, &str) = ("grant_type", "password");
const ALICE: [(&str, &str); 2] = [("username", "alice"), ("password", "correct horse")];

#[rustfmt::skip]
fn refusals() -> Vec<Case> {
    const IR: &str = "invalid_request";
    const IC: &str = "invalid_client";
    const IG: &str = "invalid_grant";
    const IS: &str = "invalid_scope";
    const UC: &str = "unauthorized_client";
    vec![
        // Client authentication (RFC 6749 §2.3, §3.2.1, §5.2).
        case("rfc6749_5_2_invalid_client_unknown_client_basic_401", 401, IC, true,
            |_| form_post(TOKEN, &encode(&[CC]), &[("authorization", &basic("no-such-client", "guess"))])),
        case("rfc6749_5_2_invalid_client_unknown_client_post_401", 401, IC, false,
            |_| form_post(TOKEN, &encode(&[CC, ("client_id", "no-such-client"), ("client_secret", "guess")]), &[])),
        case("rfc6749_5_2_invalid_client_wrong_secret_basic_401", 401, IC, true,
            |fx| form_post(TOKEN, &encode(&[CC]), &[("authorization", &basic(fx.machine.id(), "wrong"))])),
        case("rfc6749_5_2_invalid_client_wrong_secret_post_401", 401, IC, false,
            |fx| form_post(TOKEN, &encode(&[AC, ("code", &fx.code), ("client_id", fx.web_post.id()), ("client_secret", "wrong")]), &[])),
        case("rfc6749_2_3_1_post_for_basic_client_401", 401, IC, false,
            |fx| post_req(&fx.machine, &[CC])),
        case("rfc6749_2_3_1_basic_for_post_client_401", 401, IC, true,
            |fx| basic_req(&fx.web_post, &[AC, ("code", &fx.code)])),
        case("rfc6749_2_3_both_basic_and_post_invalid_request", 400, IR, false,
            |fx| form_post(TOKEN, &encode(&[CC, ("client_id", fx.machine.id()), ("client_secret", fx.machine.secret())]),
                &[("authorization", &fx.machine.basic())])),
        case("rfc6749_2_3_1_client_id_mismatch_with_basic", 400, IR, false,
            |fx| form_post(TOKEN, &encode(&[CC, ("client_id", fx.web.id())]), &[("authorization", &fx.machine.basic())])),
        case("rfc6749_2_3_1_malformed_basic_401", 401, IC, true,
            |_| form_post(TOKEN, &encode(&[CC]), &[("authorization", "Basic !!!not-base64")])),
        case("rfc6749_2_3_1_basic_without_colon_401", 401, IC, true,
            |_| form_post(TOKEN, &encode(&[CC]), &[("authorization", "Basic bm8tY29sb24=")])),
        case("rfc6749_2_3_1_other_auth_scheme_401", 401, IC, true,
            |_| form_post(TOKEN, &encode(&[CC]), &[("authorization", "Bearer pc_at_whatever")])),
        case("rfc6749_2_3_repeated_authorization_header_invalid_request", 400, IR, false,
            |fx| form_post(TOKEN, &encode(&[CC]), &[("authorization", &fx.machine.basic()), ("authorization", &fx.machine.basic())])),
        case("rfc6749_5_2_revoked_client_invalid_client", 401, IC, true,
            |fx| basic_req(&fx.revoked, &[AC, ("code", &fx.code)])),
        case("rfc6749_3_2_1_confidential_client_without_secret_401", 401, IC, false,
            |fx| public_req(&fx.web, &[AC, ("code", &fx.code), ("redirect_uri", REDIRECT)])),
        case("rfc6749_2_1_public_client_sending_secret_401", 401, IC, false,
            |fx| form_post(TOKEN, &encode(&[AC, ("code", &fx.spa_code), ("client_id", fx.spa.id()), ("client_secret", "made-up")]), &[])),
        case("rfc6749_2_1_public_client_with_basic_401", 401, IC, true,
            |fx| form_post(TOKEN, &encode(&[AC, ("code", &fx.spa_code)]), &[("authorization", &basic(fx.spa.id(), ""))])),
        case("rfc6749_3_2_1_no_client_authentication_401", 401, IC, false,
            |_| form_post(TOKEN, &encode(&[CC]), &[])),
        // The request itself (RFC 6749 §3.1, §3.2).
        case("rfc6749_3_2_get_405", 405, IR, false,
            |_| get("/oauth/token?grant_type=client_credentials")),
        case("rfc6749_3_2_json_body_invalid_request", 400, IR, false,
            |fx| Request::post(TOKEN).header("content-type", "application/json")
                .header("authorization", fx.machine.basic())
                .body(Bytes::from_static(br#"{"grant_type":"client_credentials"}"#)).unwrap()),
        case("rfc6749_3_2_no_content_type_invalid_request", 400, IR, false,
            |fx| Request::post(TOKEN).header("authorization", fx.machine.basic())
                .body(Bytes::from_static(b"grant_type=client_credentials")).unwrap()),
        case("rfc6749_3_2_body_over_limit_413", 413, IR, false,
            |fx| basic_req(&fx.machine, &[CC, ("padding", &"a".repeat(65 * 1024))])),
        case("rfc6749_3_1_duplicate_grant_type", 400, IR, false,
            |fx| basic_req(&fx.machine, &[CC, CC])),
        case("rfc6749_3_1_duplicate_scope", 400, IR, false,
            |fx| basic_req(&fx.machine, &[CC, ("scope", "view:users"), ("scope", "create:users")])),
        case("rfc6749_3_1_too_many_parameters", 400, IR, false,
            |fx| {
                let names: Vec<String> = (0..70).map(|i| format!("p{i}")).collect();
                let mut pairs: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "v")).collect();
                pairs.push(CC);
                basic_req(&fx.machine, &pairs)
            }),
        // grant_type (RFC 6749 §4.1.3, §5.2).
        case("rfc6749_5_2_missing_grant_type_invalid_request", 400, IR, false,
            |fx| basic_req(&fx.machine, &[("scope", "view:users")])),
        case("rfc6749_5_2_unsupported_grant_type", 400, "unsupported_grant_type", false,
            |fx| basic_req(&fx.machine, &[("grant_type", "urn:example:params:oauth:grant-type:unknown")])),
        case("rfc6749_5_2_implicit_is_no_token_grant", 400, "unsupported_grant_type", false,
            |fx| basic_req(&fx.web, &[("grant_type", "implicit")])),
        case("rfc6749_5_2_grant_not_registered_unauthorized_client", 400, UC, false,
            |fx| basic_req(&fx.web, &[CC])),
        case("rfc6749_4_1_3_machine_client_authorization_code_unauthorized", 400, UC, false,
            |fx| basic_req(&fx.machine, &[AC, ("code", &fx.code)])),
        // Authorization code (RFC 6749 §4.1.3, RFC 7636 §4.5-4.6, RFC 9700 §4.8.2).
        case("rfc6749_4_1_3_missing_code", 400, IR, false,
            |fx| basic_req(&fx.web, &[AC, ("redirect_uri", REDIRECT)])),
        case("rfc6749_4_1_3_malformed_code", 400, IG, false,
            |fx| basic_req(&fx.web, &[AC, ("code", "not-a-code"), ("redirect_uri", REDIRECT)])),
        case("rfc6749_4_1_3_refresh_token_as_code", 400, IG, false,
            |fx| basic_req(&fx.web, &[AC, ("code", &fx.refresh), ("redirect_uri", REDIRECT)])),
        case("rfc6749_4_1_3_unknown_code", 400, IG, false,
            |fx| basic_req(&fx.web, &[AC, ("code", mint(TokenKind::AuthorizationCode).unwrap().expose_secret()), ("redirect_uri", REDIRECT)])),
        case("rfc6749_4_1_2_expired_code", 400, IG, false,
            |fx| basic_req(&fx.web, &[AC, ("code", &fx.expired_code), ("redirect_uri", REDIRECT)])),
        case("rfc6749_4_1_3_code_of_another_client", 400, IG, false,
            |fx| post_req(&fx.web_post, &[AC, ("code", &fx.code), ("redirect_uri", REDIRECT)])),
        case("rfc6749_4_1_3_redirect_uri_mismatch", 400, IG, false,
            |fx| basic_req(&fx.web, &[AC, ("code", &fx.code), ("redirect_uri", "https://app.example/other")])),
        case("rfc6749_4_1_3_redirect_uri_missing", 400, IG, false,
            |fx| basic_req(&fx.web, &[AC, ("code", &fx.code)])),
        case("rfc6749_4_1_3_redirect_uri_not_in_authorization_request", 400, IG, false,
            |fx| basic_req(&fx.web, &[AC, ("code", &fx.code_no_redirect), ("redirect_uri", REDIRECT)])),
        case("rfc7636_4_5_missing_verifier", 400, IG, false,
            |fx| public_req(&fx.spa, &[AC, ("code", &fx.spa_code), ("redirect_uri", REDIRECT)])),
        case("rfc7636_4_6_wrong_verifier", 400, IG, false,
            |fx| public_req(&fx.spa, &[AC, ("code", &fx.spa_code), ("redirect_uri", REDIRECT),
                ("code_verifier", "wrong-verifier-wrong-verifier-wrong-verifier-00")])),
        case("rfc7636_4_1_malformed_verifier", 400, IG, false,
            |fx| public_req(&fx.spa, &[AC, ("code", &fx.spa_code), ("redirect_uri", REDIRECT), ("code_verifier", "short")])),
        case("rfc7636_4_6_challenge_sent_as_verifier", 400, IG, false,
            |fx| public_req(&fx.spa, &[AC, ("code", &fx.spa_code), ("redirect_uri", REDIRECT), ("code_verifier", CHALLENGE)])),
        case("rfc9700_4_8_2_pkce_downgrade", 400, IG, false,
            |fx| basic_req(&fx.web, &[AC, ("code", &fx.code), ("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)])),
        // Refresh (RFC 6749 §6, RFC 9700 §4.14.2).
        case("rfc6749_6_missing_refresh_token", 400, IR, false,
            |fx| basic_req(&fx.web, &[RT])),
        case("rfc6749_6_malformed_refresh_token", 400, IG, false,
            |fx| basic_req(&fx.web, &[RT, ("refresh_token", "pc_rt_short")])),
        case("rfc6749_6_access_token_as_refresh_token", 400, IG, false,
            |fx| basic_req(&fx.web, &[RT, ("refresh_token", &fx.access)])),
        case("rfc6749_6_unknown_refresh_token", 400, IG, false,
            |fx| basic_req(&fx.web, &[RT, ("refresh_token", mint(TokenKind::RefreshToken).unwrap().expose_secret())])),
        case("rfc6749_6_expired_refresh_token", 400, IG, false,
            |fx| basic_req(&fx.web, &[RT, ("refresh_token", &fx.expired_refresh)])),
        case("rfc7009_2_revoked_refresh_token", 400, IG, false,
            |fx| basic_req(&fx.web, &[RT, ("refresh_token", &fx.revoked_refresh)])),
        case("rfc9700_4_14_2_rotated_refresh_token_reuse", 400, IG, false,
            |fx| basic_req(&fx.web, &[RT, ("refresh_token", &fx.rotated_refresh)])),
        case("rfc6749_6_refresh_token_of_another_client", 400, IG, false,
            |fx| post_req(&fx.web_post, &[RT, ("refresh_token", &fx.refresh)])),
        case("rfc6749_6_scope_widening", 400, IS, false,
            |fx| basic_req(&fx.web, &[RT, ("refresh_token", &fx.refresh), ("scope", "profile view:users email")])),
        case("rfc6749_6_scope_malformed", 400, IS, false,
            |fx| basic_req(&fx.web, &[RT, ("refresh_token", &fx.refresh), ("scope", "profile\"")])),
        case("rfc6749_6_client_without_refresh_grant_unauthorized", 400, UC, false,
            |fx| public_req(&fx.spa, &[RT, ("refresh_token", &fx.refresh)])),
        // Client credentials (RFC 6749 §4.4).
        case("rfc6749_4_4_public_client_unauthorized", 400, UC, false,
            |fx| public_req(&fx.spa, &[CC])),
        case("rfc6749_4_4_scope_not_allowed", 400, IS, false,
            |fx| basic_req(&fx.machine, &[CC, ("scope", "view:users delete:users")])),
        case("rfc6749_4_4_scope_unknown", 400, IS, false,
            |fx| basic_req(&fx.machine, &[CC, ("scope", "launch:missiles")])),
        case("rfc6749_4_4_scope_malformed", 400, IS, false,
            |fx| basic_req(&fx.machine, &[CC, ("scope", "view:users  create:users")])),
        // Password (RFC 6749 §4.3).
        case("rfc6749_4_3_2_missing_username", 400, IR, false,
            |fx| basic_req(&fx.ro, &[PW, ("password", "correct horse")])),
        case("rfc6749_4_3_2_missing_password", 400, IR, false,
            |fx| basic_req(&fx.ro, &[PW, ("username", "alice")])),
        case("rfc6749_4_3_2_wrong_password", 400, IG, false,
            |fx| basic_req(&fx.ro, &[PW, ("username", "alice"), ("password", "Correct horse")])),
        case("rfc6749_4_3_2_unknown_user", 400, IG, false,
            |fx| basic_req(&fx.ro, &[PW, ("username", "mallory"), ("password", "correct horse")])),
        case("rfc6749_4_3_scope_unknown", 400, IS, false,
            |fx| basic_req(&fx.ro, &[PW, ALICE[0], ALICE[1], ("scope", "openid launch:missiles")])),
        case("rfc6749_4_3_client_not_registered_unauthorized", 400, UC, false,
            |fx| basic_req(&fx.web, &[PW, ALICE[0], ALICE[1]])),
        case("rfc6749_4_3_public_client_unauthorized", 400, UC, false,
            |fx| public_req(&fx.spa, &[PW, ALICE[0], ALICE[1]])),
    ]
}

#[tokio::test]
async fn token_endpoint_refusals() {
    let cases = refusals();
    assert!(cases.len() >= 35, "{} cases", cases.len());
    let mut names = std::collections::BTreeSet::new();
    for case in cases {
        assert!(names.insert(case.name), "duplicate case name {}", case.name);
        let fx = Fx::new().await;
        let before = fx.token_count().await;
        let response = fx.h.provider.token((case.request)(&fx)).await;
        let name = case.name;
        let body = json(&response);
        assert_eq!(response.status(), case.status, "{name}: {body}");
        assert_eq!(body["error"], case.error, "{name}: {body}");
        let description = body["error_description"].as_str();
        assert!(description.is_some_and(|d| !d.is_empty()), "{name}: {body}");
        assert_json_no_store(&response, name);
        let challenge = header(&response, "www-authenticate");
        if case.basic_challenge {
            assert_eq!(challenge, Some(REALM), "{name}");
        } else {
            assert_eq!(challenge, None, "{name}");
        }
        if case.status == 405 {
            assert_eq!(header(&response, "allow"), Some("POST"), "{name}");
        }
        let raw = String::from_utf8_lossy(response.body());
        for secret in fx.secrets() {
            assert!(!raw.contains(secret), "{name}: the body echoes a secret");
        }
        assert!(!raw.contains("pc_"), "{name}: the body mentions a token");
        assert_eq!(
            fx.token_count().await,
            before,
            "{name}: something was issued"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Client credentials (RFC 6749 §4.4)

#[tokio::test]
async fn rfc6749_4_4_client_credentials_end_to_end() {
    let h = Harness::new().await;
    let machine = h.machine().await;

    // No scope: every allowed scope; no refresh token (§4.4.3); no subject; roles carried.
    let response = h.provider.token(basic_req(&machine, &[CC])).await;
    let body = assert_issued(&response, &machine, "view:users create:users", false);
    let record = stored(&h, &text(&body["access_token"])).await;
    assert_eq!(record.kind, TokenKind::AccessToken);
    assert_eq!(record.client_id, machine.client.id);
    assert_eq!(record.subject, None);
    assert_eq!(record.roles, machine.client.roles);
    assert!(!record.roles.is_empty());
    assert_eq!(
        record.scopes,
        ScopeSet::parse("view:users create:users").unwrap()
    );
    assert_eq!(record.status, TokenStatus::Active);
    assert_eq!(
        record.expires_at - record.issued_at,
        Duration::seconds(machine.client.access_token_lifetime_secs.into())
    );

    // A narrower scope.
    let response = h
        .provider
        .token(basic_req(&machine, &[CC, ("scope", "view:users")]))
        .await;
    let body = assert_issued(&response, &machine, "view:users", false);
    assert_eq!(
        stored(&h, &text(&body["access_token"])).await.scopes,
        ScopeSet::parse("view:users").unwrap()
    );
}

#[tokio::test]
async fn rfc6749_4_4_default_scope_leaves_out_oidc_user_scopes() {
    let h = Harness::new().await;
    let machine = h
        .register(ClientKind::Machine, |c| {
            c.all_scopes()
                .access_token_lifetime_secs(600)
                .auth_method(TokenEndpointAuthMethod::ClientSecretPost)
        })
        .await;
    let response = h.provider.token(post_req(&machine, &[CC])).await;
    let body = assert_issued(&response, &machine, &APP_SCOPES.join(" "), false);
    assert_eq!(body["expires_in"], 600);
    // Asked for explicitly, an allowed OpenID scope is granted (never silently dropped).
    let response = h
        .provider
        .token(post_req(&machine, &[CC, ("scope", "openid view:users")]))
        .await;
    assert_issued(&response, &machine, "openid view:users", false);
}

#[tokio::test]
async fn rfc6749_3_2_form_content_type_with_charset_is_accepted() {
    let h = Harness::new().await;
    let machine = h.machine().await;
    let request = Request::post(TOKEN)
        .header(
            "content-type",
            "application/x-www-form-urlencoded; charset=UTF-8",
        )
        .header("authorization", machine.basic())
        .body(Bytes::from_static(b"grant_type=client_credentials"))
        .unwrap();
    assert_issued(
        &h.provider.token(request).await,
        &machine,
        "view:users create:users",
        false,
    );
}

#[tokio::test]
async fn disabled_grant_is_unsupported() {
    let h = Harness::with(|b| b.disable_grant(GrantType::ClientCredentials)).await;
    let machine = h.machine().await;
    let response = h.provider.token(basic_req(&machine, &[CC])).await;
    assert_error(&response, 400, "unsupported_grant_type");
}

// ---------------------------------------------------------------------------------------
// Password (RFC 6749 §4.3)

#[tokio::test]
async fn rfc6749_4_3_password_end_to_end() {
    let h = Harness::new().await;
    let ro = h.resource_owner().await;

    // No scope: every scope the client may request, OpenID ones included; offline_access is
    // among them, so a refresh token comes too.
    let response = h
        .provider
        .token(basic_req(&ro, &[PW, ALICE[0], ALICE[1]]))
        .await;
    let everything = "openid profile email address phone offline_access view:users create:users update:users delete:users";
    let body = assert_issued(&response, &ro, everything, true);
    let access = stored(&h, &text(&body["access_token"])).await;
    let refresh = stored(&h, &text(&body["refresh_token"])).await;
    assert_eq!(access.subject, Some(Subject::new("user-alice").unwrap()));
    assert_eq!(access.kind, TokenKind::AccessToken);
    assert_eq!(refresh.kind, TokenKind::RefreshToken);
    assert_eq!(refresh.subject, access.subject);
    assert_eq!(refresh.family, access.family);
    assert_eq!(refresh.scopes, access.scopes);

    // DESIGN §4.1: the password grant has no consent screen to grant offline_access on, so
    // a client with the refresh_token grant gets a refresh token for OpenID requests too.
    let response = h
        .provider
        .token(basic_req(
            &ro,
            &[PW, ALICE[0], ALICE[1], ("scope", "openid profile")],
        ))
        .await;
    assert_issued(&response, &ro, "openid profile", true);
    // ... and a client without the refresh_token grant never gets one.
    let no_refresh = h
        .register(portcullis_registry::ClientKind::ResourceOwner, |c| {
            c.all_scopes()
                .grant_types([portcullis_registry::GrantType::Password])
        })
        .await;
    let response = h
        .provider
        .token(basic_req(
            &no_refresh,
            &[PW, ALICE[0], ALICE[1], ("scope", "view:users")],
        ))
        .await;
    assert_issued(&response, &no_refresh, "view:users", false);
    let response = h
        .provider
        .token(basic_req(
            &ro,
            &[PW, ALICE[0], ALICE[1], ("scope", "view:users")],
        ))
        .await;
    let body = assert_issued(&response, &ro, "view:users", true);
    // Each password grant is its own family.
    assert_ne!(
        stored(&h, &text(&body["access_token"])).await.family,
        access.family
    );

    // The refresh token works with the client's authentication.
    let response = h
        .provider
        .token(basic_req(
            &ro,
            &[RT, ("refresh_token", &text(&body["refresh_token"]))],
        ))
        .await;
    assert_issued(&response, &ro, "view:users", true);
}

#[tokio::test]
async fn rfc6749_4_3_2_wrong_password_and_unknown_user_look_the_same() {
    let h = Harness::new().await;
    let ro = h.resource_owner().await;
    let wrong = h
        .provider
        .token(basic_req(
            &ro,
            &[PW, ("username", "alice"), ("password", "hunter2")],
        ))
        .await;
    let unknown = h
        .provider
        .token(basic_req(
            &ro,
            &[PW, ("username", "nobody"), ("password", "hunter2")],
        ))
        .await;
    assert_error(&wrong, 400, "invalid_grant");
    assert_error(&unknown, 400, "invalid_grant");
    assert_eq!(wrong.body(), unknown.body());
    assert!(!String::from_utf8_lossy(wrong.body()).contains("hunter2"));
}

// ---------------------------------------------------------------------------------------
// Authorization code (RFC 6749 §4.1.3-4.1.4, RFC 7636, RFC 9700)

#[tokio::test]
async fn rfc6749_4_1_3_authorization_code_end_to_end() {
    let h = Harness::new().await;
    let web = h.web().await;
    let (code, family) = insert_code(&h, &web, CodeSpec::new(&h, "profile view:users")).await;
    let response = h
        .provider
        .token(basic_req(
            &web,
            &[AC, ("code", &code), ("redirect_uri", REDIRECT)],
        ))
        .await;
    // Plain OAuth request, client with the refresh_token grant: a refresh token.
    let body = assert_issued(&response, &web, "profile view:users", true);
    let access = stored(&h, &text(&body["access_token"])).await;
    let refresh = stored(&h, &text(&body["refresh_token"])).await;
    for record in [&access, &refresh] {
        assert_eq!(record.family, family, "tokens join the code's family");
        assert_eq!(record.client_id, web.client.id);
        assert_eq!(record.subject, Some(Subject::new("user-alice").unwrap()));
        assert_eq!(
            record.scopes,
            ScopeSet::parse("profile view:users").unwrap()
        );
        assert_eq!(record.status, TokenStatus::Active);
    }
    assert_eq!(access.kind, TokenKind::AccessToken);
    assert_eq!(refresh.kind, TokenKind::RefreshToken);
    assert_eq!(
        refresh.expires_at - refresh.issued_at,
        Duration::seconds(web.client.refresh_token_lifetime_secs.into())
    );

    // client_secret_post, and a code whose request had no redirect_uri.
    let web_post = h
        .register(ClientKind::Web, |c| {
            c.redirect_uri(REDIRECT)
                .all_scopes()
                .auth_method(TokenEndpointAuthMethod::ClientSecretPost)
        })
        .await;
    let (code, _) = insert_code(&h, &web_post, CodeSpec::new(&h, "profile").redirect(None)).await;
    let response = h
        .provider
        .token(post_req(&web_post, &[AC, ("code", &code)]))
        .await;
    assert_issued(&response, &web_post, "profile", true);
}

#[tokio::test]
async fn oidc_core_11_refresh_token_only_with_offline_access() {
    let h = Harness::new().await;
    let web = h.web().await;
    let (code, _) = insert_code(&h, &web, CodeSpec::new(&h, "openid profile")).await;
    let response = h
        .provider
        .token(basic_req(
            &web,
            &[AC, ("code", &code), ("redirect_uri", REDIRECT)],
        ))
        .await;
    assert_issued(&response, &web, "openid profile", false);

    let (code, _) = insert_code(&h, &web, CodeSpec::new(&h, "openid profile offline_access")).await;
    let response = h
        .provider
        .token(basic_req(
            &web,
            &[AC, ("code", &code), ("redirect_uri", REDIRECT)],
        ))
        .await;
    assert_issued(&response, &web, "openid profile offline_access", true);
}

#[tokio::test]
async fn rfc7636_4_6_public_clients_with_pkce() {
    let h = Harness::new().await;
    // An SPA without the refresh_token grant gets no refresh token, even for plain OAuth.
    let spa = h.spa().await;
    let (code, _) = insert_code(&h, &spa, CodeSpec::new(&h, "profile").s256(CHALLENGE)).await;
    let pairs = [
        AC,
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    assert_issued(
        &h.provider.token(public_req(&spa, &pairs)).await,
        &spa,
        "profile",
        false,
    );

    // A native client with a loopback redirect on an ephemeral port (RFC 8252 §7.3): the
    // token request repeats exactly what the authorization request sent.
    let native = h.native().await;
    let loopback = "http://127.0.0.1:51004/callback";
    let (code, _) = insert_code(
        &h,
        &native,
        CodeSpec::new(&h, "openid")
            .redirect(Some(loopback))
            .s256(CHALLENGE),
    )
    .await;
    let pairs = [
        AC,
        ("code", code.as_str()),
        ("redirect_uri", loopback),
        ("code_verifier", VERIFIER),
    ];
    assert_issued(
        &h.provider.token(public_req(&native, &pairs)).await,
        &native,
        "openid",
        false,
    );
}

#[tokio::test]
async fn rfc6749_4_1_3_failed_checks_leave_the_code_redeemable() {
    let h = Harness::new().await;
    let spa = h.spa().await;
    let (code, _) = insert_code(&h, &spa, CodeSpec::new(&h, "profile").s256(CHALLENGE)).await;
    let wrong_verifier = "Z".repeat(43);
    let attempts: [&[(&str, &str)]; 4] = [
        &[
            AC,
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &wrong_verifier),
        ],
        &[AC, ("code", &code), ("redirect_uri", REDIRECT)],
        &[AC, ("code", &code), ("code_verifier", VERIFIER)],
        &[
            AC,
            ("code", &code),
            ("redirect_uri", "https://evil.example/cb"),
            ("code_verifier", VERIFIER),
        ],
    ];
    for pairs in attempts {
        assert_error(
            &h.provider.token(public_req(&spa, pairs)).await,
            400,
            "invalid_grant",
        );
    }
    // Another client presenting the code does not burn it either.
    let other = h.spa().await;
    let pairs = [
        AC,
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    assert_error(
        &h.provider.token(public_req(&other, &pairs)).await,
        400,
        "invalid_grant",
    );
    assert!(
        h.store
            .list_client_tokens(&spa.client.id, h.provider.now())
            .await
            .unwrap()
            .is_empty()
    );

    assert_issued(
        &h.provider.token(public_req(&spa, &pairs)).await,
        &spa,
        "profile",
        false,
    );
}

#[tokio::test]
async fn rfc6749_4_1_2_code_reuse_revokes_the_first_tokens() {
    let h = Harness::new().await;
    let web = h.web().await;
    let (code, family) = insert_code(&h, &web, CodeSpec::new(&h, "profile")).await;
    let pairs = [AC, ("code", code.as_str()), ("redirect_uri", REDIRECT)];
    let first = assert_issued(
        &h.provider.token(basic_req(&web, &pairs)).await,
        &web,
        "profile",
        true,
    );
    assert_eq!(
        stored(&h, &text(&first["access_token"])).await.status,
        TokenStatus::Active
    );

    let again = h.provider.token(basic_req(&web, &pairs)).await;
    assert_error(&again, 400, "invalid_grant");
    for token in [&first["access_token"], &first["refresh_token"]] {
        assert_eq!(stored(&h, &text(token)).await.status, TokenStatus::Revoked);
    }
    let family = h
        .store
        .list_family(&family, h.provider.now())
        .await
        .unwrap();
    assert_eq!(family.len(), 2, "the second redemption stored nothing");
    // The revoked refresh token no longer works.
    let response = h
        .provider
        .token(basic_req(
            &web,
            &[RT, ("refresh_token", &text(&first["refresh_token"]))],
        ))
        .await;
    assert_error(&response, 400, "invalid_grant");
}

#[tokio::test]
async fn rfc6749_4_1_2_expired_code_is_invalid_grant() {
    let h = Harness::new().await;
    let web = h.web().await;
    let (early, _) = insert_code(&h, &web, CodeSpec::new(&h, "profile")).await;
    let (late, _) = insert_code(&h, &web, CodeSpec::new(&h, "profile")).await;
    h.clock
        .advance(Duration::minutes(10) - Duration::seconds(1));
    let response = h
        .provider
        .token(basic_req(
            &web,
            &[AC, ("code", &early), ("redirect_uri", REDIRECT)],
        ))
        .await;
    assert_issued(&response, &web, "profile", true);
    h.clock.advance(Duration::seconds(1));
    let response = h
        .provider
        .token(basic_req(
            &web,
            &[AC, ("code", &late), ("redirect_uri", REDIRECT)],
        ))
        .await;
    assert_error(&response, 400, "invalid_grant");
}

// ---------------------------------------------------------------------------------------
// Refresh (RFC 6749 §6, RFC 9700 §4.14.2)

/// Redeems a fresh code for `client` and answers the token response and the code's family.
async fn tokens_for(h: &Harness, client: &Registered, scope: &str) -> (Value, FamilyId) {
    let (code, family) = insert_code(h, client, CodeSpec::new(h, scope).s256(CHALLENGE)).await;
    let pairs = [
        AC,
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let response = h.provider.token(auth_req(client, &pairs)).await;
    (assert_issued(&response, client, scope, true), family)
}

#[tokio::test]
async fn rfc6749_6_rotation_on_every_use() {
    let h = Harness::new().await;
    let web = h.web().await;
    let (body, family) = tokens_for(&h, &web, "profile view:users").await;
    let mut refresh = text(&body["refresh_token"]);
    let mut seen = vec![refresh.clone()];
    for round in 0..3 {
        let response = h
            .provider
            .token(basic_req(&web, &[RT, ("refresh_token", &refresh)]))
            .await;
        let body = assert_issued(&response, &web, "profile view:users", true);
        assert_eq!(
            stored(&h, &refresh).await.status,
            TokenStatus::Rotated,
            "round {round}"
        );
        let next = text(&body["refresh_token"]);
        assert!(!seen.contains(&next), "a new refresh token every time");
        let access = stored(&h, &text(&body["access_token"])).await;
        let successor = stored(&h, &next).await;
        assert_eq!(
            (access.family.clone(), successor.family.clone()),
            (family.clone(), family.clone())
        );
        assert_eq!(access.subject, Some(Subject::new("user-alice").unwrap()));
        assert_eq!(successor.status, TokenStatus::Active);
        seen.push(next.clone());
        refresh = next;
    }
    // 1 + 3 access tokens, 1 + 3 refresh tokens, all in the code's family.
    assert_eq!(
        h.store
            .list_family(&family, h.provider.now())
            .await
            .unwrap()
            .len(),
        8
    );
}

#[tokio::test]
async fn rfc6749_6_narrowing_keeps_the_original_scope_for_later() {
    let h = Harness::new().await;
    let web = h.web().await;
    let (body, _) = tokens_for(&h, &web, "profile view:users").await;
    let original = ScopeSet::parse("profile view:users").unwrap();

    let response = h
        .provider
        .token(basic_req(
            &web,
            &[
                RT,
                ("refresh_token", &text(&body["refresh_token"])),
                ("scope", "profile"),
            ],
        ))
        .await;
    let narrowed = assert_issued(&response, &web, "profile", true);
    assert_eq!(
        stored(&h, &text(&narrowed["access_token"])).await.scopes,
        ScopeSet::parse("profile").unwrap()
    );
    assert_eq!(
        stored(&h, &text(&narrowed["refresh_token"])).await.scopes,
        original
    );

    // Widening is refused and does not consume the token…
    let refresh = text(&narrowed["refresh_token"]);
    let response = h
        .provider
        .token(basic_req(
            &web,
            &[
                RT,
                ("refresh_token", &refresh),
                ("scope", "profile view:users email"),
            ],
        ))
        .await;
    assert_error(&response, 400, "invalid_scope");
    assert_eq!(stored(&h, &refresh).await.status, TokenStatus::Active);

    // …and the original scope is still there to ask for.
    let response = h
        .provider
        .token(basic_req(
            &web,
            &[
                RT,
                ("refresh_token", &refresh),
                ("scope", "view:users profile"),
            ],
        ))
        .await;
    assert_issued(&response, &web, "profile view:users", true);
}

#[tokio::test]
async fn rfc9700_4_14_2_reuse_revokes_the_whole_family() {
    let h = Harness::new().await;
    let web = h.web().await;
    let (body, family) = tokens_for(&h, &web, "profile").await;
    let first = text(&body["refresh_token"]);
    let second = h
        .provider
        .token(basic_req(&web, &[RT, ("refresh_token", &first)]))
        .await;
    let second = assert_issued(&second, &web, "profile", true);
    let third = h
        .provider
        .token(basic_req(
            &web,
            &[RT, ("refresh_token", &text(&second["refresh_token"]))],
        ))
        .await;
    let third = assert_issued(&third, &web, "profile", true);

    // The first refresh token, rotated long ago, comes back: stolen or replayed.
    let replay = h
        .provider
        .token(basic_req(&web, &[RT, ("refresh_token", &first)]))
        .await;
    assert_error(&replay, 400, "invalid_grant");
    let records = h
        .store
        .list_family(&family, h.provider.now())
        .await
        .unwrap();
    assert_eq!(records.len(), 6);
    assert!(
        records.iter().all(|r| r.status == TokenStatus::Revoked),
        "every token of the family is revoked, newest included: {records:?}"
    );
    // The newest refresh token, in the legitimate client's hands, is dead too.
    let newest = h
        .provider
        .token(basic_req(
            &web,
            &[RT, ("refresh_token", &text(&third["refresh_token"]))],
        ))
        .await;
    assert_error(&newest, 400, "invalid_grant");
}

#[tokio::test]
async fn rfc6749_6_another_clients_refresh_token_is_left_alone() {
    let h = Harness::new().await;
    let web = h.web().await;
    let thief = h.web().await;
    let (body, _) = tokens_for(&h, &web, "profile").await;
    let refresh = text(&body["refresh_token"]);
    let response = h
        .provider
        .token(basic_req(&thief, &[RT, ("refresh_token", &refresh)]))
        .await;
    assert_error(&response, 400, "invalid_grant");
    assert_eq!(stored(&h, &refresh).await.status, TokenStatus::Active);
    let response = h
        .provider
        .token(basic_req(&web, &[RT, ("refresh_token", &refresh)]))
        .await;
    assert_issued(&response, &web, "profile", true);
}

#[tokio::test]
async fn rfc6749_6_expired_refresh_token_is_invalid_grant() {
    let h = Harness::new().await;
    let web = h.web().await;
    let (body, _) = tokens_for(&h, &web, "profile").await;
    let lifetime = Duration::seconds(web.client.refresh_token_lifetime_secs.into());
    h.clock.advance(lifetime - Duration::seconds(1));
    let response = h
        .provider
        .token(basic_req(
            &web,
            &[RT, ("refresh_token", &text(&body["refresh_token"]))],
        ))
        .await;
    let next = assert_issued(&response, &web, "profile", true);
    // The successor lives a full lifetime from its own issue (sliding expiry).
    h.clock.advance(lifetime);
    let response = h
        .provider
        .token(basic_req(
            &web,
            &[RT, ("refresh_token", &text(&next["refresh_token"]))],
        ))
        .await;
    assert_error(&response, 400, "invalid_grant");
}

#[tokio::test]
async fn rfc6749_6_public_clients_refresh_and_rotate() {
    let h = Harness::new().await;
    let spa = h
        .register(ClientKind::Spa, |c| {
            c.redirect_uri(REDIRECT)
                .all_scopes()
                .grant_types([GrantType::AuthorizationCode, GrantType::RefreshToken])
        })
        .await;
    let (body, _) = tokens_for(&h, &spa, "profile").await;
    let first = text(&body["refresh_token"]);
    let response = h
        .provider
        .token(public_req(&spa, &[RT, ("refresh_token", &first)]))
        .await;
    assert_issued(&response, &spa, "profile", true);
    assert_eq!(stored(&h, &first).await.status, TokenStatus::Rotated);
    let replay = h
        .provider
        .token(public_req(&spa, &[RT, ("refresh_token", &first)]))
        .await;
    assert_error(&replay, 400, "invalid_grant");
}

// ---------------------------------------------------------------------------------------
// Revoked clients (DESIGN §4.1: revoking a client invalidates every token it holds)

#[tokio::test]
async fn revoked_client_is_invalid_client_and_its_tokens_are_revoked() {
    let h = Harness::new().await;
    let web = h.web().await;
    let (body, _) = tokens_for(&h, &web, "profile").await;
    let machine = h.machine().await;
    let cc = assert_issued(
        &h.provider.token(basic_req(&machine, &[CC])).await,
        &machine,
        "view:users create:users",
        false,
    );

    for client in [&web, &machine] {
        let mut revoked = client.client.clone();
        revoked.revoked = true;
        h.store.update_client(revoked).await.unwrap();
    }

    let response = h
        .provider
        .token(basic_req(
            &web,
            &[RT, ("refresh_token", &text(&body["refresh_token"]))],
        ))
        .await;
    assert_error(&response, 401, "invalid_client");
    assert_eq!(header(&response, "www-authenticate"), Some(REALM));
    let response = h.provider.token(basic_req(&machine, &[CC])).await;
    assert_error(&response, 401, "invalid_client");

    for token in [
        &body["access_token"],
        &body["refresh_token"],
        &cc["access_token"],
    ] {
        assert_eq!(stored(&h, &text(token)).await.status, TokenStatus::Revoked);
    }
}
