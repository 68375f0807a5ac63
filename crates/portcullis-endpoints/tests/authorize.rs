//! The authorization endpoint (RFC 6749 §3.1, §4.1, §4.2; RFC 7636; RFC 9207; OpenID
//! Connect Core §3.1.2), driven through `Provider::authorize` and `Provider::complete` with
//! plain `http::Request<Bytes>` values.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::too_many_lines
)]

mod support;

use std::collections::BTreeMap;

use async_trait::async_trait;
use base64::Engine as _;
use bytes::Bytes;
use http::{Request, Response};
use portcullis_endpoints::{
    AuthenticatedUser, Authorization, CompleteError, Decision, Interaction, ProviderBuilder,
};
use portcullis_grants::{BoxError, ConsentSource};
use portcullis_registry::{ClientId, ClientKind, GrantType, ScopeSet};
use portcullis_store::{ClientStore, CodeStore, TokenStore};
use portcullis_tokens::{Subject, TokenHash, TokenKind};
use sha2::Digest as _;
use support::*;
use time::Duration;

// ---------------------------------------------------------------------------------------
// Fixtures of this file: clients with fixed ids, so request tables can name them.

/// A redirect URI registered with a query of its own (RFC 6749 §3.1.2).
const QUERY_REDIRECT: &str = "https://app.example/callback?tenant=acme";
const OTHER_REDIRECT: &str = "https://app.example/other";
const USER: &str = "user-alice";

/// Registers the clients every test here uses.
async fn clients(h: &Harness) {
    h.register(ClientKind::Web, |c| {
        c.client_id("web").redirect_uri(REDIRECT).all_scopes()
    })
    .await;
    h.register(ClientKind::Web, |c| {
        c.client_id("web-q")
            .redirect_uri(QUERY_REDIRECT)
            .all_scopes()
    })
    .await;
    h.register(ClientKind::Web, |c| {
        c.client_id("two")
            .redirect_uris([REDIRECT, OTHER_REDIRECT])
            .all_scopes()
    })
    .await;
    h.register(ClientKind::Web, |c| {
        c.client_id("limited")
            .redirect_uri(REDIRECT)
            .scopes(["openid", "view:users"])
    })
    .await;
    h.register(ClientKind::Web, |c| {
        c.client_id("revoked")
            .redirect_uri(REDIRECT)
            .all_scopes()
            .revoked(true)
    })
    .await;
    h.register(ClientKind::Spa, |c| {
        c.client_id("spa").redirect_uri(REDIRECT).all_scopes()
    })
    .await;
    h.register(ClientKind::Spa, |c| {
        c.client_id("spa-implicit")
            .redirect_uri(REDIRECT)
            .all_scopes()
            .grant_types([GrantType::AuthorizationCode, GrantType::Implicit])
    })
    .await;
    h.register(ClientKind::Spa, |c| {
        c.client_id("implicit-only")
            .redirect_uri(REDIRECT)
            .all_scopes()
            .grant_types([GrantType::Implicit])
    })
    .await;
    h.register(ClientKind::Native, |c| {
        c.client_id("native")
            .redirect_uri(NATIVE_REDIRECT)
            .all_scopes()
    })
    .await;
    h.register(ClientKind::Machine, |c| {
        c.client_id("machine").scopes(["view:users"])
    })
    .await;
}

async fn harness() -> Harness {
    harness_with(|b| b).await
}

async fn harness_with(configure: impl FnOnce(ProviderBuilder) -> ProviderBuilder) -> Harness {
    let h = Harness::with(configure).await;
    clients(&h).await;
    h
}

/// Remembers that every user granted every client these scopes.
struct Remembered(&'static str);

#[async_trait]
impl ConsentSource for Remembered {
    async fn granted_scopes(&self, _: &Subject, _: &ClientId) -> Result<ScopeSet, BoxError> {
        Ok(ScopeSet::parse(self.0)?)
    }
}

/// A consent source whose backend is down.
struct BrokenConsent;

#[async_trait]
impl ConsentSource for BrokenConsent {
    async fn granted_scopes(&self, _: &Subject, _: &ClientId) -> Result<ScopeSet, BoxError> {
        Err("consent database unreachable".into())
    }
}

/// A GET of the authorization endpoint with these parameters.
fn authorize_get(pairs: &[(&str, &str)]) -> Request<Bytes> {
    get(&format!("/oauth/authorize?{}", encode(pairs)))
}

fn user_at(h: &Harness, age: Duration) -> AuthenticatedUser {
    AuthenticatedUser {
        subject: Subject::new(USER).unwrap(),
        auth_time: h.provider.now() - age,
    }
}

fn respond(outcome: Authorization) -> Response<Bytes> {
    match outcome {
        Authorization::Respond(response) => response,
        Authorization::Interaction(interaction) => {
            panic!("expected a response, got {interaction:?}")
        }
    }
}

fn interaction(outcome: Authorization) -> Interaction {
    match outcome {
        Authorization::Interaction(interaction) => interaction,
        Authorization::Respond(response) => panic!(
            "expected an interaction, got {} {:?} {}",
            response.status(),
            header(&response, "location"),
            String::from_utf8_lossy(response.body())
        ),
    }
}

fn allow(scopes: &str, h: &Harness) -> Decision {
    Decision::Allow {
        subject: Subject::new(USER).unwrap(),
        scopes: ScopeSet::parse(scopes).unwrap(),
        auth_time: h.provider.now(),
    }
}

/// A parsed redirect: the Location before its parameters, and the parameters.
#[derive(Debug)]
struct Redirect {
    location: String,
    query: BTreeMap<String, String>,
    fragment: BTreeMap<String, String>,
}

fn pairs_of(raw: Option<&str>) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

fn redirect(response: &Response<Bytes>) -> Redirect {
    assert_eq!(
        response.status(),
        303,
        "{}",
        String::from_utf8_lossy(response.body())
    );
    let location = header(response, "location").expect("a Location header");
    let url = url::Url::parse(location).expect("an absolute Location");
    Redirect {
        location: location.to_owned(),
        query: pairs_of(url.query()),
        fragment: pairs_of(url.fragment()),
    }
}

/// The hidden inputs of a form post page, and its action.
fn form_post_fields(response: &Response<Bytes>) -> (String, BTreeMap<String, String>) {
    let body = String::from_utf8(response.body().to_vec()).unwrap();
    let action = between(&body, "action=\"", "\"").expect("a form action");
    let mut fields = BTreeMap::new();
    for chunk in body.split("<input type=\"hidden\" ").skip(1) {
        let name = between(chunk, "name=\"", "\"").unwrap();
        let value = between(chunk, "value=\"", "\"").unwrap();
        fields.insert(unescape(&name), unescape(&value));
    }
    (unescape(&action), fields)
}

fn between(text: &str, start: &str, end: &str) -> Option<String> {
    let from = text.find(start)? + start.len();
    let len = text[from..].find(end)?;
    Some(text[from..from + len].to_owned())
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The headers every provider page carries (clickjacking, caching, referrer).
fn assert_page_headers(response: &Response<Bytes>, name: &str) {
    assert_eq!(
        header(response, "x-frame-options"),
        Some("DENY"),
        "case {name}"
    );
    assert_eq!(
        header(response, "cache-control"),
        Some("no-store"),
        "case {name}"
    );
    assert_eq!(
        header(response, "referrer-policy"),
        Some("no-referrer"),
        "case {name}"
    );
    assert!(
        header(response, "content-security-policy")
            .is_some_and(|csp| csp.contains("frame-ancestors 'none'")),
        "case {name}"
    );
    assert!(
        header(response, "content-type").is_some_and(|ct| ct.starts_with("text/html")),
        "case {name}"
    );
}

// ---------------------------------------------------------------------------------------
// The table of refused requests.

/// Which provider configuration a case runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Setup {
    /// The secure defaults.
    Default,
    /// `require_pkce_for_confidential_clients()`.
    StrictPkce,
}

/// Who is signed in when the request arrives.
#[derive(Debug, Clone, Copy)]
enum Who {
    Nobody,
    /// Signed in just now.
    Fresh,
    /// Signed in an hour ago.
    Old,
}

/// How the request is sent.
enum How {
    Get(Vec<(&'static str, &'static str)>),
    Post {
        content_type: &'static str,
        body: &'static str,
    },
    Method(&'static str),
}

/// What must come back.
#[derive(Debug)]
enum Expect {
    /// An HTML error page with this status and code; never a redirect.
    Page(u16, &'static str),
    /// An error at the client's redirect URI, `location` being the redirect URI the
    /// parameters are added to.
    Redirect {
        error: &'static str,
        mode: Mode,
        location: &'static str,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Query,
    Fragment,
    FormPost,
}

struct Case {
    name: &'static str,
    setup: Setup,
    who: Who,
    send: How,
    expect: Expect,
}

fn page(status: u16, error: &'static str) -> Expect {
    Expect::Page(status, error)
}

fn to(error: &'static str, mode: Mode) -> Expect {
    Expect::Redirect {
        error,
        mode,
        location: REDIRECT,
    }
}

fn case(name: &'static str, pairs: &[(&'static str, &'static str)], expect: Expect) -> Case {
    Case {
        name,
        setup: Setup::Default,
        who: Who::Nobody,
        send: How::Get(pairs.to_vec()),
        expect,
    }
}

fn case_as(
    name: &'static str,
    who: Who,
    pairs: &[(&'static str, &'static str)],
    expect: Expect,
) -> Case {
    Case {
        who,
        ..case(name, pairs, expect)
    }
}

const CODE: (&str, &str) = ("response_type", "code");
const TOKEN: (&str, &str) = ("response_type", "token");
const STATE: (&str, &str) = ("state", "st-1");
const S256: [(&str, &str); 2] = [
    ("code_challenge", CHALLENGE),
    ("code_challenge_method", "S256"),
];

fn negative_cases() -> Vec<Case> {
    use Mode::{FormPost, Fragment, Query};
    let web = ("client_id", "web");
    let spa = ("client_id", "spa");
    let [challenge, method] = S256;
    vec![
        // Step 1: the client. Never redirected (RFC 6749 §4.1.2.1).
        case(
            "rfc6749_4_1_2_1_missing_client_id_no_redirect",
            &[CODE, ("redirect_uri", REDIRECT), STATE],
            page(400, "invalid_request"),
        ),
        case(
            "rfc6749_4_1_2_1_unknown_client_no_redirect",
            &[
                ("client_id", "nobody"),
                CODE,
                ("redirect_uri", REDIRECT),
                STATE,
            ],
            page(400, "invalid_request"),
        ),
        case(
            "rfc6749_4_1_2_1_malformed_client_id_no_redirect",
            &[("client_id", "<b>x</b>"), CODE, ("redirect_uri", REDIRECT)],
            page(400, "invalid_request"),
        ),
        case(
            "rfc6749_4_1_2_1_revoked_client_no_redirect",
            &[
                ("client_id", "revoked"),
                CODE,
                ("redirect_uri", REDIRECT),
                STATE,
            ],
            page(400, "invalid_request"),
        ),
        case(
            "rfc6749_3_1_duplicate_client_id_no_redirect",
            &[web, web, CODE, ("redirect_uri", REDIRECT), STATE],
            page(400, "invalid_request"),
        ),
        // Step 2: the redirect URI. Never redirected (RFC 6749 §3.1.2.4).
        case(
            "rfc6749_3_1_2_4_mismatched_redirect_uri_no_redirect",
            &[
                web,
                CODE,
                ("redirect_uri", "https://evil.example/callback"),
                STATE,
            ],
            page(400, "invalid_request"),
        ),
        case(
            "rfc9700_4_1_3_redirect_uri_exact_match_no_suffix",
            &[
                web,
                CODE,
                ("redirect_uri", "https://app.example/callback/x"),
                STATE,
            ],
            page(400, "invalid_request"),
        ),
        case(
            "rfc9700_4_1_3_redirect_uri_exact_match_no_extra_query",
            &[
                web,
                CODE,
                ("redirect_uri", "https://app.example/callback?a=1"),
            ],
            page(400, "invalid_request"),
        ),
        case(
            "rfc6749_3_1_duplicate_redirect_uri_no_redirect",
            &[
                web,
                CODE,
                ("redirect_uri", REDIRECT),
                ("redirect_uri", REDIRECT),
                STATE,
            ],
            page(400, "invalid_request"),
        ),
        case(
            "rfc6749_3_1_2_3_missing_redirect_uri_with_two_registered",
            &[("client_id", "two"), CODE, STATE],
            page(400, "invalid_request"),
        ),
        case(
            "rfc8252_7_3_loopback_port_only_not_host",
            &[
                ("client_id", "native"),
                CODE,
                ("redirect_uri", "http://localhost:51004/callback"),
                challenge,
                method,
            ],
            page(400, "invalid_request"),
        ),
        case(
            "rfc8252_7_3_loopback_needs_explicit_redirect_uri",
            &[("client_id", "native"), CODE, challenge, method],
            page(400, "invalid_request"),
        ),
        case(
            "rfc6749_3_1_2_machine_client_has_no_redirect_uri",
            &[("client_id", "machine"), CODE, STATE],
            page(400, "invalid_request"),
        ),
        // Reading the request at all.
        Case {
            send: How::Post {
                content_type: "application/json",
                body: "{\"client_id\":\"web\",\"response_type\":\"code\"}",
            },
            ..case(
                "rfc6749_3_1_post_wrong_content_type_no_redirect",
                &[],
                page(400, "invalid_request"),
            )
        },
        Case {
            send: How::Method("PUT"),
            ..case(
                "rfc6749_3_1_method_not_allowed_no_redirect",
                &[],
                page(405, "invalid_request"),
            )
        },
        // Everything after step 2 is redirected, with state and iss.
        case(
            "rfc6749_3_1_duplicate_scope",
            &[web, CODE, ("scope", "openid"), ("scope", "openid"), STATE],
            to("invalid_request", Query),
        ),
        case(
            "rfc6749_3_1_duplicate_response_type",
            &[web, CODE, CODE, STATE],
            to("invalid_request", Query),
        ),
        case(
            "rfc6749_3_1_duplicate_state_not_echoed",
            &[web, CODE, ("state", "a"), ("state", "b")],
            to("invalid_request", Query),
        ),
        case(
            "rfc6749_3_1_1_missing_response_type",
            &[web, STATE],
            to("invalid_request", Query),
        ),
        case(
            "rfc6749_4_1_2_1_unsupported_response_type",
            &[web, ("response_type", "device_code"), STATE],
            to("unsupported_response_type", Query),
        ),
        case(
            "oidc_core_3_2_2_1_id_token_without_implicit_grant",
            &[
                web,
                ("response_type", "id_token"),
                ("scope", "openid"),
                ("nonce", "n"),
                STATE,
            ],
            to("unauthorized_client", Fragment),
        ),
        case(
            "rfc6749_4_1_2_1_unsupported_response_type_combination",
            &[web, ("response_type", "code token"), STATE],
            to("unsupported_response_type", Query),
        ),
        case(
            "rfc6749_4_2_2_1_implicit_not_enabled_for_client",
            &[web, TOKEN, STATE],
            to("unauthorized_client", Fragment),
        ),
        case(
            "rfc6749_4_1_2_1_code_not_enabled_for_client",
            &[("client_id", "implicit-only"), CODE, STATE],
            to("unauthorized_client", Query),
        ),
        case(
            "oauth_mrt_2_1_response_mode_query_with_token",
            &[
                ("client_id", "spa-implicit"),
                TOKEN,
                ("response_mode", "query"),
                STATE,
            ],
            to("invalid_request", Fragment),
        ),
        case(
            "oauth_mrt_2_1_unknown_response_mode",
            &[web, CODE, ("response_mode", "web_message"), STATE],
            to("invalid_request", Query),
        ),
        case(
            "oauth_mrt_2_1_fragment_mode_for_errors",
            &[
                web,
                CODE,
                ("response_mode", "fragment"),
                ("scope", "nonsense"),
                STATE,
            ],
            to("invalid_scope", Fragment),
        ),
        case(
            "oauth_form_post_2_error_delivered_by_form",
            &[
                web,
                CODE,
                ("response_mode", "form_post"),
                ("scope", "nonsense"),
                STATE,
            ],
            to("invalid_scope", FormPost),
        ),
        case(
            "rfc6749_3_3_malformed_scope",
            &[web, CODE, ("scope", "openid  profile"), STATE],
            to("invalid_scope", Query),
        ),
        case(
            "rfc6749_3_3_unknown_scope",
            &[web, CODE, ("scope", "openid nonsense"), STATE],
            to("invalid_scope", Query),
        ),
        case(
            "rfc6749_3_3_scope_not_allowed_for_client",
            &[
                ("client_id", "limited"),
                CODE,
                ("scope", "openid delete:users"),
                STATE,
            ],
            to("invalid_scope", Query),
        ),
        case(
            "rfc7636_4_4_1_public_client_without_challenge",
            &[spa, CODE, STATE],
            to("invalid_request", Query),
        ),
        case(
            "rfc7636_4_4_1_native_client_without_challenge",
            &[
                ("client_id", "native"),
                CODE,
                ("redirect_uri", "http://127.0.0.1:51004/callback"),
                STATE,
            ],
            Expect::Redirect {
                error: "invalid_request",
                mode: Query,
                location: "http://127.0.0.1:51004/callback",
            },
        ),
        case(
            "rfc7636_4_3_method_without_challenge",
            &[spa, CODE, method, STATE],
            to("invalid_request", Query),
        ),
        case(
            "rfc7636_4_3_unknown_challenge_method",
            &[
                spa,
                CODE,
                challenge,
                ("code_challenge_method", "S512"),
                STATE,
            ],
            to("invalid_request", Query),
        ),
        case(
            "rfc9700_2_1_1_plain_refused_by_default",
            &[
                spa,
                CODE,
                ("code_challenge", VERIFIER),
                ("code_challenge_method", "plain"),
                STATE,
            ],
            to("invalid_request", Query),
        ),
        case(
            "rfc7636_4_3_missing_method_means_plain_refused_by_default",
            &[spa, CODE, ("code_challenge", VERIFIER), STATE],
            to("invalid_request", Query),
        ),
        case(
            "rfc7636_4_2_malformed_s256_challenge",
            &[spa, CODE, ("code_challenge", "too-short"), method, STATE],
            to("invalid_request", Query),
        ),
        Case {
            setup: Setup::StrictPkce,
            ..case(
                "rfc9700_2_1_1_confidential_client_pkce_required_by_policy",
                &[web, CODE, STATE],
                to("invalid_request", Query),
            )
        },
        case(
            "oidc_core_3_1_2_1_prompt_none_with_login",
            &[web, CODE, ("prompt", "none login"), STATE],
            to("invalid_request", Query),
        ),
        case(
            "oidc_core_3_1_2_1_negative_max_age",
            &[web, CODE, ("max_age", "-1"), STATE],
            to("invalid_request", Query),
        ),
        case(
            "oidc_core_3_1_2_1_non_numeric_max_age",
            &[web, CODE, ("max_age", "ten"), STATE],
            to("invalid_request", Query),
        ),
        case(
            "oidc_core_6_1_request_not_supported",
            &[web, CODE, ("request", "eyJhbGciOiJub25lIn0.e30."), STATE],
            to("request_not_supported", Query),
        ),
        case(
            "oidc_core_6_2_request_uri_not_supported",
            &[
                web,
                CODE,
                ("request_uri", "https://app.example/request.jwt"),
                STATE,
            ],
            to("request_uri_not_supported", Query),
        ),
        case(
            "oidc_core_3_1_2_6_prompt_none_login_required",
            &[web, CODE, ("scope", "openid"), ("prompt", "none"), STATE],
            to("login_required", Query),
        ),
        case_as(
            "oidc_core_3_1_2_6_prompt_none_max_age_exceeded",
            Who::Old,
            &[
                web,
                CODE,
                ("scope", "openid"),
                ("prompt", "none"),
                ("max_age", "60"),
                STATE,
            ],
            to("login_required", Query),
        ),
        case_as(
            "oidc_core_3_1_2_6_prompt_none_max_age_zero_is_prompt_login",
            Who::Fresh,
            &[web, CODE, ("prompt", "none"), ("max_age", "0"), STATE],
            to("login_required", Query),
        ),
        case_as(
            "oidc_core_3_1_2_6_prompt_none_consent_required",
            Who::Fresh,
            &[web, CODE, ("scope", "openid"), ("prompt", "none"), STATE],
            to("consent_required", Query),
        ),
        case_as(
            "oidc_core_3_1_2_6_prompt_none_consent_required_in_fragment_for_token",
            Who::Fresh,
            &[
                ("client_id", "spa-implicit"),
                TOKEN,
                ("scope", "openid"),
                ("prompt", "none"),
                STATE,
            ],
            to("consent_required", Fragment),
        ),
        case(
            "rfc9207_iss_on_error",
            &[web, CODE, ("scope", "nonsense"), STATE],
            to("invalid_scope", Query),
        ),
        case(
            "rfc6749_4_1_2_1_no_state_sent_none_echoed",
            &[web, CODE, ("scope", "nonsense")],
            to("invalid_scope", Query),
        ),
        case(
            "rfc6749_3_1_2_error_keeps_registered_query",
            &[("client_id", "web-q"), CODE, ("scope", "nonsense"), STATE],
            Expect::Redirect {
                error: "invalid_scope",
                mode: Query,
                location: QUERY_REDIRECT,
            },
        ),
        Case {
            send: How::Post {
                content_type: "application/x-www-form-urlencoded; charset=UTF-8",
                body: "client_id=web&response_type=code&scope=nonsense&state=st-1",
            },
            ..case(
                "oidc_core_3_1_2_1_post_form_errors_redirect",
                &[],
                to("invalid_scope", Query),
            )
        },
    ]
}

fn build_request(send: &How) -> Request<Bytes> {
    match send {
        How::Get(pairs) => authorize_get(pairs),
        How::Post { content_type, body } => form_post_with_type(content_type, body),
        How::Method(method) => Request::builder()
            .method(*method)
            .uri("/oauth/authorize?client_id=web&response_type=code")
            .body(Bytes::new())
            .unwrap(),
    }
}

fn form_post_with_type(content_type: &str, body: &str) -> Request<Bytes> {
    Request::post("/oauth/authorize")
        .header("content-type", content_type)
        .body(Bytes::from(body.to_owned()))
        .unwrap()
}

/// The `state` the case sent, if it sent exactly one.
fn sent_state(case: &Case) -> Option<String> {
    let pairs: Vec<(String, String)> = match &case.send {
        How::Get(pairs) => pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        How::Post { body, .. } => url::form_urlencoded::parse(body.as_bytes())
            .into_owned()
            .collect(),
        How::Method(_) => Vec::new(),
    };
    let states: Vec<&String> = pairs
        .iter()
        .filter(|(k, _)| k == "state")
        .map(|(_, v)| v)
        .collect();
    match states.as_slice() {
        [one] => Some((*one).clone()),
        _ => None,
    }
}

#[tokio::test]
async fn refused_requests_table() {
    let default = harness().await;
    let strict = harness_with(ProviderBuilder::require_pkce_for_confidential_clients).await;
    let cases = negative_cases();
    assert!(cases.len() >= 30, "{} cases", cases.len());
    for case in &cases {
        let name = case.name;
        let h = match case.setup {
            Setup::Default => &default,
            Setup::StrictPkce => &strict,
        };
        let user = match case.who {
            Who::Nobody => None,
            Who::Fresh => Some(user_at(h, Duration::ZERO)),
            Who::Old => Some(user_at(h, Duration::hours(1))),
        };
        let response = respond(
            h.provider
                .authorize(build_request(&case.send), user.as_ref())
                .await,
        );
        match case.expect {
            Expect::Page(status, error) => {
                assert_eq!(response.status(), status, "case {name}");
                assert!(
                    header(&response, "location").is_none(),
                    "case {name}: must not redirect"
                );
                assert_page_headers(&response, name);
                let body = String::from_utf8_lossy(response.body());
                assert!(body.contains(error), "case {name}: {body}");
                assert!(!body.contains("<b>x</b>"), "case {name}: not escaped");
            }
            Expect::Redirect {
                error,
                mode,
                location,
            } => {
                let params = match mode {
                    Mode::Query | Mode::Fragment => {
                        let redirect = redirect(&response);
                        assert!(
                            redirect.location.starts_with(location),
                            "case {name}: {}",
                            redirect.location
                        );
                        let rest = &redirect.location[location.len()..];
                        if mode == Mode::Query {
                            let separator = if location.contains('?') { '&' } else { '?' };
                            assert!(rest.starts_with(separator), "case {name}: {rest}");
                            assert!(!rest.contains('#'), "case {name}: no fragment");
                            let mut params = redirect.query;
                            if location == QUERY_REDIRECT {
                                assert_eq!(
                                    params.remove("tenant").as_deref(),
                                    Some("acme"),
                                    "case {name}"
                                );
                            }
                            params
                        } else {
                            assert!(rest.starts_with('#'), "case {name}: {rest}");
                            assert!(!redirect.query.contains_key("error"), "case {name}");
                            redirect.fragment
                        }
                    }
                    Mode::FormPost => {
                        assert_eq!(response.status(), 200, "case {name}");
                        assert!(header(&response, "location").is_none(), "case {name}");
                        assert_page_headers(&response, name);
                        let (action, fields) = form_post_fields(&response);
                        assert_eq!(action, location, "case {name}");
                        fields
                    }
                };
                assert_eq!(
                    params.get("error").map(String::as_str),
                    Some(error),
                    "case {name}"
                );
                assert!(
                    params
                        .get("error_description")
                        .is_some_and(|d| !d.is_empty()),
                    "case {name}: error_description"
                );
                assert_eq!(
                    params.get("iss").map(String::as_str),
                    Some(ISSUER),
                    "case {name}: RFC 9207 iss"
                );
                assert_eq!(
                    params.get("state").cloned(),
                    sent_state(case),
                    "case {name}: state"
                );
                let known = ["error", "error_description", "state", "iss"];
                assert!(
                    params.keys().all(|k| known.contains(&k.as_str())),
                    "case {name}: {params:?}"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Successful flows.

#[tokio::test]
async fn rfc6749_4_1_code_flow_interaction_then_allow() {
    let h = harness().await;
    let started = h.provider.now();
    let outcome = h
        .provider
        .authorize(
            authorize_get(&[
                ("client_id", "spa"),
                CODE,
                ("redirect_uri", REDIRECT),
                ("scope", "openid view:users"),
                ("state", "af0ifjsldkj"),
                ("nonce", "n-0S6_WzA2Mj"),
                S256[0],
                S256[1],
            ]),
            None,
        )
        .await;
    let interaction = interaction(outcome);
    assert!(interaction.id.starts_with("pc_pa_"));
    assert_eq!(interaction.client_id.as_str(), "spa");
    assert_eq!(interaction.client_name, "Spa test client");
    assert_eq!(
        interaction.scopes,
        ScopeSet::parse("openid view:users").unwrap()
    );
    assert!(interaction.login_required);
    assert!(interaction.consent_required);
    assert_eq!(interaction.expires_at, started + Duration::minutes(10));

    // The application's pages can read it back, as often as they like.
    let again = h.provider.interaction(&interaction.id).await.unwrap();
    assert_eq!(again.as_ref(), Some(&interaction));

    h.clock.advance(Duration::seconds(30));
    let auth_time = h.provider.now();
    let response = h
        .provider
        .complete(
            &interaction.id,
            Decision::Allow {
                subject: Subject::new(USER).unwrap(),
                scopes: ScopeSet::parse("openid view:users").unwrap(),
                auth_time,
            },
        )
        .await
        .unwrap();
    let redirect = redirect(&response);
    assert!(
        redirect
            .location
            .starts_with(&format!("{REDIRECT}?code=pc_ac_"))
    );
    assert!(redirect.fragment.is_empty());
    assert_eq!(redirect.query["state"], "af0ifjsldkj");
    assert_eq!(redirect.query["iss"], ISSUER);
    let code = &redirect.query["code"];
    assert_eq!(TokenKind::of(code), Some(TokenKind::AuthorizationCode));
    assert_eq!(header(&response, "cache-control"), Some("no-store"));

    let stored = h
        .store
        .find_code(&TokenHash::of(code), h.provider.now())
        .await
        .unwrap()
        .expect("the code is stored under its hash");
    assert_eq!(stored.client_id.as_str(), "spa");
    assert_eq!(stored.redirect_uri.as_deref(), Some(REDIRECT));
    assert_eq!(stored.subject.as_str(), USER);
    assert_eq!(stored.scopes, ScopeSet::parse("openid view:users").unwrap());
    assert_eq!(stored.nonce.as_deref(), Some("n-0S6_WzA2Mj"));
    assert_eq!(stored.code_challenge.as_deref(), Some(CHALLENGE));
    assert_eq!(stored.code_challenge_method.as_deref(), Some("S256"));
    // OpenID Connect Core §2: no max_age, so no auth_time for the ID token; the code keeps
    // it only when the ID token must carry it.
    assert_eq!(stored.auth_time, None);
    assert_eq!(stored.issued_at, auth_time);
    assert_eq!(stored.expires_at, auth_time + Duration::minutes(10));

    // Single use: gone for the pages too.
    assert_eq!(h.provider.interaction(&interaction.id).await.unwrap(), None);
}

#[tokio::test]
async fn rfc6749_4_1_3_redirect_uri_recorded_only_when_sent() {
    let h = harness().await;
    let user = user_at(&h, Duration::ZERO);
    let interaction = interaction(
        h.provider
            .authorize(authorize_get(&[("client_id", "web"), CODE]), Some(&user))
            .await,
    );
    // Signed in already: only consent is needed.
    assert!(!interaction.login_required);
    assert!(interaction.consent_required);
    let response = h
        .provider
        .complete(&interaction.id, allow("", &h))
        .await
        .unwrap();
    let redirect = redirect(&response);
    assert!(!redirect.query.contains_key("state"));
    let stored = h
        .store
        .find_code(&TokenHash::of(&redirect.query["code"]), h.provider.now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.redirect_uri, None);
    assert_eq!(stored.code_challenge, None);
    assert!(stored.scopes.is_empty());
}

#[tokio::test]
async fn rfc6749_4_1_2_1_deny_is_access_denied() {
    let h = harness().await;
    let interaction = interaction(
        h.provider
            .authorize(
                authorize_get(&[("client_id", "web"), CODE, ("scope", "openid"), STATE]),
                None,
            )
            .await,
    );
    let response = h
        .provider
        .complete(&interaction.id, Decision::Deny)
        .await
        .unwrap();
    let redirect = redirect(&response);
    assert!(
        redirect
            .location
            .starts_with(&format!("{REDIRECT}?error=access_denied"))
    );
    assert_eq!(redirect.query["state"], "st-1");
    assert_eq!(redirect.query["iss"], ISSUER);
    assert!(!redirect.query.contains_key("code"));
    // A denied interaction is used up as well.
    assert!(matches!(
        h.provider.complete(&interaction.id, Decision::Deny).await,
        Err(CompleteError::UnknownInteraction)
    ));
}

#[tokio::test]
async fn rfc6749_4_1_2_interaction_is_single_use() {
    let h = harness().await;
    let interaction = interaction(
        h.provider
            .authorize(authorize_get(&[("client_id", "web"), CODE, STATE]), None)
            .await,
    );
    assert!(
        h.provider
            .complete(&interaction.id, allow("", &h))
            .await
            .is_ok()
    );
    assert!(matches!(
        h.provider.complete(&interaction.id, allow("", &h)).await,
        Err(CompleteError::UnknownInteraction)
    ));
}

#[tokio::test]
async fn interaction_expires_after_its_ttl() {
    let h = harness().await;
    let interaction = interaction(
        h.provider
            .authorize(authorize_get(&[("client_id", "web"), CODE]), None)
            .await,
    );
    h.clock.advance(Duration::minutes(10));
    assert_eq!(h.provider.interaction(&interaction.id).await.unwrap(), None);
    assert!(matches!(
        h.provider.complete(&interaction.id, allow("", &h)).await,
        Err(CompleteError::UnknownInteraction)
    ));
}

#[tokio::test]
async fn unknown_and_malformed_interaction_ids() {
    let h = harness().await;
    for id in [
        "",
        "nonsense",
        "pc_at_abc",
        "pc_pa_",
        "pc_pa_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        assert!(
            matches!(
                h.provider.complete(id, Decision::Deny).await,
                Err(CompleteError::UnknownInteraction)
            ),
            "{id:?}"
        );
        assert_eq!(h.provider.interaction(id).await.unwrap(), None, "{id:?}");
    }
}

#[tokio::test]
async fn granting_an_unrequested_scope_fails_and_keeps_the_interaction() {
    let h = harness().await;
    let interaction = interaction(
        h.provider
            .authorize(
                authorize_get(&[("client_id", "web"), CODE, ("scope", "openid")]),
                None,
            )
            .await,
    );
    let err = h
        .provider
        .complete(&interaction.id, allow("openid delete:users", &h))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, CompleteError::ScopeNotRequested { scope } if scope.as_str() == "delete:users"),
        "{err:?}"
    );
    // The user may still grant less than asked.
    let response = h
        .provider
        .complete(&interaction.id, allow("", &h))
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
}

#[tokio::test]
async fn rfc6749_4_2_2_implicit_flow_for_registered_spa() {
    let h = harness().await;
    let user = user_at(&h, Duration::ZERO);
    let interaction = interaction(
        h.provider
            .authorize(
                authorize_get(&[
                    ("client_id", "spa-implicit"),
                    TOKEN,
                    ("scope", "view:users"),
                    ("state", "s p&ce"),
                ]),
                Some(&user),
            )
            .await,
    );
    assert!(!interaction.login_required);
    assert!(interaction.consent_required);
    let response = h
        .provider
        .complete(&interaction.id, allow("view:users", &h))
        .await
        .unwrap();
    let redirect = redirect(&response);
    assert!(
        redirect
            .location
            .starts_with(&format!("{REDIRECT}#access_token=pc_at_"))
    );
    assert!(redirect.query.is_empty(), "nothing in the query");
    let fragment = &redirect.fragment;
    assert_eq!(fragment["token_type"], "Bearer");
    assert_eq!(fragment["expires_in"], "3600");
    assert_eq!(fragment["scope"], "view:users");
    assert_eq!(fragment["state"], "s p&ce");
    assert_eq!(fragment["iss"], ISSUER);
    assert!(
        !fragment.contains_key("refresh_token"),
        "never with implicit"
    );
    assert!(!fragment.contains_key("code"));

    let record = h
        .store
        .find_token(&TokenHash::of(&fragment["access_token"]), h.provider.now())
        .await
        .unwrap()
        .expect("the access token is stored");
    assert_eq!(record.client_id.as_str(), "spa-implicit");
    assert_eq!(record.subject.as_ref().map(Subject::as_str), Some(USER));
    assert_eq!(record.kind, TokenKind::AccessToken);
    assert_eq!(
        h.store
            .list_family(&record.family, h.provider.now())
            .await
            .unwrap()
            .len(),
        1,
        "no refresh token stored"
    );
}

#[tokio::test]
async fn oauth_form_post_response_mode_page() {
    let h = harness_with(|b| b.consent(Remembered("openid"))).await;
    let user = user_at(&h, Duration::ZERO);
    // Remembered consent: approved at once, answered with the form post page.
    let response = respond(
        h.provider
            .authorize(
                authorize_get(&[
                    ("client_id", "web"),
                    CODE,
                    ("scope", "openid"),
                    ("response_mode", "form_post"),
                    ("state", "<\"state\">"),
                ]),
                Some(&user),
            )
            .await,
    );
    assert_eq!(response.status(), 200);
    assert!(header(&response, "location").is_none());
    assert_page_headers(&response, "form_post");
    let (action, fields) = form_post_fields(&response);
    assert_eq!(action, REDIRECT);
    assert!(fields["code"].starts_with("pc_ac_"));
    assert_eq!(fields["state"], "<\"state\">");
    assert_eq!(fields["iss"], ISSUER);

    let body = String::from_utf8(response.body().to_vec()).unwrap();
    assert!(!body.contains("<\"state\">"), "values are escaped");
    assert!(body.contains("<noscript>") && body.contains("<button type=\"submit\">"));
    let script = between(&body, "<script>", "</script>").expect("an inline script");
    let hash =
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(script.as_bytes()));
    let csp = header(&response, "content-security-policy").unwrap();
    assert!(
        csp.contains(&format!("script-src 'sha256-{hash}'")),
        "{csp}"
    );
    assert!(csp.contains("form-action https://app.example"), "{csp}");
    assert!(!csp.contains("unsafe-inline'; script") && !csp.contains("script-src 'unsafe-inline'"));
}

#[tokio::test]
async fn oidc_core_3_1_2_1_prompt_none_succeeds_with_remembered_consent() {
    let h = harness_with(|b| b.consent(Remembered("openid profile view:users"))).await;
    let user = user_at(&h, Duration::minutes(5));
    let response = respond(
        h.provider
            .authorize(
                authorize_get(&[
                    ("client_id", "web"),
                    CODE,
                    ("redirect_uri", REDIRECT),
                    ("scope", "openid view:users"),
                    ("prompt", "none"),
                    ("max_age", "600"),
                    STATE,
                ]),
                Some(&user),
            )
            .await,
    );
    let redirect = redirect(&response);
    assert_eq!(redirect.query["state"], "st-1");
    assert_eq!(redirect.query["iss"], ISSUER);
    let stored = h
        .store
        .find_code(&TokenHash::of(&redirect.query["code"]), h.provider.now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.subject.as_str(), USER);
    assert_eq!(stored.auth_time, Some(user.auth_time));
    assert_eq!(stored.scopes, ScopeSet::parse("openid view:users").unwrap());

    // A scope beyond the remembered consent needs the consent page.
    let response = respond(
        h.provider
            .authorize(
                authorize_get(&[
                    ("client_id", "web"),
                    CODE,
                    ("scope", "openid email"),
                    ("prompt", "none"),
                ]),
                Some(&user),
            )
            .await,
    );
    assert_eq!(redirect_of(&response)["error"], "consent_required");
}

fn redirect_of(response: &Response<Bytes>) -> BTreeMap<String, String> {
    redirect(response).query
}

#[tokio::test]
async fn oidc_core_3_1_2_1_prompt_login_and_consent_force_interaction() {
    let h = harness_with(|b| b.consent(Remembered("openid"))).await;
    let user = user_at(&h, Duration::ZERO);
    let login = interaction(
        h.provider
            .authorize(
                authorize_get(&[
                    ("client_id", "web"),
                    CODE,
                    ("scope", "openid"),
                    ("prompt", "login"),
                ]),
                Some(&user),
            )
            .await,
    );
    assert!(login.login_required);
    let stored = h.provider.interaction(&login.id).await.unwrap().unwrap();
    assert!(stored.login_required);

    let consent = interaction(
        h.provider
            .authorize(
                authorize_get(&[
                    ("client_id", "web"),
                    CODE,
                    ("scope", "openid"),
                    ("prompt", "consent"),
                ]),
                Some(&user),
            )
            .await,
    );
    assert!(!consent.login_required);
    assert!(consent.consent_required);
    let stored = h.provider.interaction(&consent.id).await.unwrap().unwrap();
    assert_eq!(
        (stored.login_required, stored.consent_required),
        (false, true)
    );

    // max_age exceeded: sign in again.
    let old = user_at(&h, Duration::hours(2));
    let again = interaction(
        h.provider
            .authorize(
                authorize_get(&[
                    ("client_id", "web"),
                    CODE,
                    ("scope", "openid"),
                    ("max_age", "3600"),
                ]),
                Some(&old),
            )
            .await,
    );
    assert!(again.login_required);

    // Remembered consent and a fresh sign-in: approved without a page.
    let response = respond(
        h.provider
            .authorize(
                authorize_get(&[("client_id", "web"), CODE, ("scope", "openid")]),
                Some(&user),
            )
            .await,
    );
    assert!(redirect_of(&response).contains_key("code"));
}

#[tokio::test]
async fn rfc6749_3_1_2_redirect_uri_with_query_keeps_it() {
    let h = harness().await;
    let interaction = interaction(
        h.provider
            .authorize(
                authorize_get(&[
                    ("client_id", "web-q"),
                    CODE,
                    ("redirect_uri", QUERY_REDIRECT),
                    STATE,
                ]),
                None,
            )
            .await,
    );
    let response = h
        .provider
        .complete(&interaction.id, allow("", &h))
        .await
        .unwrap();
    let redirect = redirect(&response);
    assert!(
        redirect
            .location
            .starts_with(&format!("{QUERY_REDIRECT}&code=pc_ac_")),
        "{}",
        redirect.location
    );
    assert_eq!(redirect.query["tenant"], "acme");
    assert_eq!(redirect.query["state"], "st-1");
    assert_eq!(redirect.query["iss"], ISSUER);
}

#[tokio::test]
async fn rfc8252_7_3_native_loopback_any_port() {
    let h = harness().await;
    let requested = "http://127.0.0.1:51004/callback";
    let interaction = interaction(
        h.provider
            .authorize(
                authorize_get(&[
                    ("client_id", "native"),
                    CODE,
                    ("redirect_uri", requested),
                    S256[0],
                    S256[1],
                ]),
                None,
            )
            .await,
    );
    let response = h
        .provider
        .complete(&interaction.id, allow("", &h))
        .await
        .unwrap();
    let redirect = redirect(&response);
    assert!(redirect.location.starts_with(&format!("{requested}?code=")));
    let stored = h
        .store
        .find_code(&TokenHash::of(&redirect.query["code"]), h.provider.now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.redirect_uri.as_deref(), Some(requested));
}

#[tokio::test]
async fn rfc7636_4_3_plain_allowed_with_insecure_allow_plain_pkce() {
    let h = harness_with(ProviderBuilder::insecure_allow_plain_pkce).await;
    for pairs in [
        vec![("client_id", "spa"), CODE, ("code_challenge", VERIFIER)],
        vec![
            ("client_id", "spa"),
            CODE,
            ("code_challenge", VERIFIER),
            ("code_challenge_method", "plain"),
        ],
    ] {
        let interaction = interaction(h.provider.authorize(authorize_get(&pairs), None).await);
        let response = h
            .provider
            .complete(&interaction.id, allow("", &h))
            .await
            .unwrap();
        let code = redirect_of(&response)["code"].clone();
        let stored = h
            .store
            .find_code(&TokenHash::of(&code), h.provider.now())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.code_challenge.as_deref(), Some(VERIFIER));
        assert_eq!(stored.code_challenge_method.as_deref(), Some("plain"));
    }
}

#[tokio::test]
async fn oidc_core_3_1_2_1_post_form_is_accepted() {
    let h = harness().await;
    let body = encode(&[("client_id", "web"), CODE, ("scope", "openid"), STATE]);
    let interaction = interaction(
        h.provider
            .authorize(form_post("/oauth/authorize", &body, &[]), None)
            .await,
    );
    assert_eq!(interaction.scopes, ScopeSet::parse("openid").unwrap());
}

#[tokio::test]
async fn a_client_disabled_during_the_interaction_gets_no_redirect() {
    let h = harness().await;
    let interaction = interaction(
        h.provider
            .authorize(authorize_get(&[("client_id", "web"), CODE, STATE]), None)
            .await,
    );
    let id = ClientId::new("web").unwrap();
    let mut client = h.store.get_client(&id).await.unwrap().unwrap();
    client.revoked = true;
    h.store.update_client(client).await.unwrap();
    let response = h
        .provider
        .complete(&interaction.id, allow("", &h))
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(header(&response, "location").is_none());
    assert_page_headers(&response, "disabled client");
}

#[tokio::test]
async fn error_pages_name_the_problem() {
    let h = harness().await;
    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[CODE], "client_id is required"),
        (
            &[("client_id", "web"), ("client_id", "x"), CODE],
            "client_id is repeated",
        ),
        (
            &[
                ("client_id", "web"),
                CODE,
                ("redirect_uri", "https://evil.example/"),
            ],
            "redirect_uri does not match",
        ),
        (&[("client_id", "two"), CODE], "redirect_uri is required"),
    ];
    for (pairs, text) in cases {
        let response = respond(h.provider.authorize(authorize_get(pairs), None).await);
        let body = String::from_utf8_lossy(response.body());
        assert!(body.contains(text), "{text}: {body}");
    }
    // Unknown and disabled clients read the same, so the page does not tell which.
    let unknown = respond(
        h.provider
            .authorize(authorize_get(&[("client_id", "nobody"), CODE]), None)
            .await,
    );
    let revoked = respond(
        h.provider
            .authorize(authorize_get(&[("client_id", "revoked"), CODE]), None)
            .await,
    );
    assert_eq!(unknown.body(), revoked.body());
}

#[tokio::test]
async fn no_panics_and_no_unvetted_redirects_on_garbage() {
    let h = harness().await;
    let inputs = [
        "",
        "&&&",
        "=",
        "client_id",
        "client_id=%ZZ&redirect_uri=%",
        "client_id=web&redirect_uri=https%3A%2F%2Fapp.example%2Fcallback%00",
        "client_id=web&response_type=code&scope=%FF%FE",
        "client_id=web&response_type=code&max_age=99999999999999999999999",
        "client_id=web&response_type=code&prompt=%20%20none%20%20",
        "client_id=web&response_type=code&state=%0D%0ALocation:%20https://evil.example",
    ];
    for input in inputs {
        let outcome = h
            .provider
            .authorize(get(&format!("/oauth/authorize?{input}")), None)
            .await;
        if let Authorization::Respond(response) = outcome
            && let Some(location) = header(&response, "location")
        {
            assert!(location.starts_with(REDIRECT), "{input}: {location}");
            assert!(!location.contains('\r') && !location.contains('\n'));
        }
    }
    let many = (0..100)
        .map(|i| format!("p{i}=v"))
        .collect::<Vec<_>>()
        .join("&");
    let response = respond(
        h.provider
            .authorize(get(&format!("/oauth/authorize?{many}")), None)
            .await,
    );
    assert_eq!(response.status(), 400);
    assert!(header(&response, "location").is_none());
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Any query: an answer, never a panic, and a redirect only to a registered URI.
        #[test]
        fn any_query_is_answered_safely(pairs in proptest::collection::vec(
            (
                prop::sample::select(vec!["client_id", "redirect_uri", "response_type", "scope",
                    "state", "response_mode", "code_challenge", "code_challenge_method", "prompt",
                    "max_age", "nonce", "request"]),
                prop::sample::select(vec!["web", "spa", "native", "code", "token", "openid",
                    REDIRECT, "http://127.0.0.1:8000/callback", "none", "login", "S256", "plain",
                    "form_post", "query", "fragment", "-1", "0", "<script>", "a b", CHALLENGE]),
            ),
            0..8,
        )) {
            let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
            runtime.block_on(async {
                let h = harness().await;
                let user = user_at(&h, Duration::ZERO);
                let outcome = h.provider.authorize(authorize_get(&pairs), Some(&user)).await;
                if let Authorization::Respond(response) = outcome {
                    if let Some(location) = header(&response, "location") {
                        prop_assert!(
                            location.starts_with(REDIRECT)
                                || location.starts_with("http://127.0.0.1:8000/callback"),
                            "{}", location
                        );
                    } else {
                        prop_assert_eq!(header(&response, "x-frame-options"), Some("DENY"));
                    }
                }
                Ok(())
            })?;
        }
    }
}

#[tokio::test]
async fn rfc6749_4_1_2_1_failing_consent_source_is_server_error() {
    let h = harness_with(|b| b.consent(BrokenConsent)).await;
    let user = user_at(&h, Duration::ZERO);
    let response = respond(
        h.provider
            .authorize(
                authorize_get(&[("client_id", "web"), CODE, ("scope", "openid"), STATE]),
                Some(&user),
            )
            .await,
    );
    let redirect = redirect(&response);
    assert_eq!(redirect.query["error"], "server_error");
    assert_eq!(redirect.query["state"], "st-1");
    assert_eq!(redirect.query["iss"], ISSUER);
    assert!(!redirect.query["error_description"].contains("unreachable"));
}
