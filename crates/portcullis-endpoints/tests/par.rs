//! Pushed authorization requests (RFC 9126), driven through `Provider::handle` with plain
//! `http::Request<Bytes>` values: the PAR endpoint (§2), the authorization endpoint's use
//! of `request_uri` (§4), "PAR required" (§5, §6) and discovery (§5).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::too_many_lines,
    clippy::type_complexity // case tables read best as tuples
)]

mod support;

use bytes::Bytes;
use http::{Request, Response};
use portcullis_endpoints::{Authorization, Decision, Endpoint, ProviderBuilder};
use portcullis_registry::{ClientKind, ScopeSet};
use portcullis_store::CodeStore;
use portcullis_tokens::{Subject, TokenHash};
use support::*;
use time::Duration;

const PAR: &str = "/oauth/par";

async fn par(h: &Harness, body: &str, headers: &[(&str, &str)]) -> Response<Bytes> {
    h.provider
        .handle(
            Endpoint::PushedAuthorizationRequest,
            form_post(PAR, body, headers),
        )
        .await
}

/// The fixture's clients, with fixed ids so tables can name them.
async fn clients(h: &Harness) -> (Registered, Registered) {
    let web = h
        .register(ClientKind::Web, |c| {
            c.client_id("web").redirect_uri(REDIRECT).all_scopes()
        })
        .await;
    let spa = h
        .register(ClientKind::Spa, |c| {
            c.client_id("spa").redirect_uri(REDIRECT).all_scopes()
        })
        .await;
    (web, spa)
}

/// Pushes a good code request for `web` (Basic) with `extra` pairs; the `request_uri`.
async fn push(h: &Harness, web: &Registered, extra: &[(&str, &str)]) -> String {
    let mut pairs = vec![
        ("response_type", "code"),
        ("scope", "openid view:users"),
        ("state", "pushed-state"),
        ("redirect_uri", REDIRECT),
    ];
    pairs.extend_from_slice(extra);
    let response = par(h, &encode(&pairs), &[("authorization", &web.basic())]).await;
    assert_eq!(
        response.status(),
        201,
        "{}",
        String::from_utf8_lossy(response.body())
    );
    json(&response)["request_uri"].as_str().unwrap().to_owned()
}

async fn authorize(h: &Harness, query: &[(&str, &str)]) -> Authorization {
    let request = get(&format!("/oauth/authorize?{}", encode(query)));
    h.provider.authorize(request, None).await
}

/// RFC 9126 §2.2, §4: pushed, then used by reference; the parameters in the authorization
/// URL besides `client_id` and `request_uri` are ignored; the flow completes as usual.
#[tokio::test]
async fn rfc9126_push_authorize_complete_exchange() {
    let h = Harness::new().await;
    let (web, _) = clients(&h).await;
    let response = par(
        &h,
        &encode(&[
            ("response_type", "code"),
            ("scope", "openid view:users"),
            ("state", "pushed-state"),
            ("redirect_uri", REDIRECT),
        ]),
        &[("authorization", &web.basic())],
    )
    .await;
    // §2.2: 201, JSON, not cacheable.
    assert_eq!(response.status(), 201);
    assert_eq!(header(&response, "content-type"), Some("application/json"));
    assert_eq!(header(&response, "cache-control"), Some("no-store"));
    let body = json(&response);
    assert_eq!(body["expires_in"], 60);
    let request_uri = body["request_uri"].as_str().unwrap();
    assert!(request_uri.starts_with("urn:ietf:params:oauth:request_uri:"));
    assert!(request_uri.len() >= "urn:ietf:params:oauth:request_uri:".len() + 43);

    let Authorization::Interaction(interaction) = authorize(
        &h,
        &[
            ("client_id", "web"),
            ("request_uri", request_uri),
            // §4: ignored in favour of the pushed values.
            ("scope", "openid delete:users"),
            ("state", "url-state"),
            ("redirect_uri", "https://attacker.example/cb"),
        ],
    )
    .await
    else {
        panic!("expected an interaction");
    };
    assert_eq!(
        interaction.scopes,
        ScopeSet::parse("openid view:users").unwrap()
    );
    assert_eq!(interaction.redirect_uri, REDIRECT);
    let response = h
        .provider
        .complete(
            &interaction.id,
            Decision::Allow {
                subject: Subject::new("user-alice").unwrap(),
                scopes: interaction.scopes.clone(),
                auth_time: h.provider.now(),
            },
        )
        .await
        .unwrap();
    let location = header(&response, "location").unwrap();
    assert!(
        location.starts_with(&format!("{REDIRECT}?code=pc_ac_")),
        "{location}"
    );
    assert!(location.contains("state=pushed-state"), "{location}");
    let code = location
        .split(['?', '&'])
        .find_map(|pair| pair.strip_prefix("code="))
        .unwrap();
    let token = h
        .provider
        .token(form_post(
            "/oauth/token",
            &encode(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT),
            ]),
            &[("authorization", &web.basic())],
        ))
        .await;
    assert_eq!(
        token.status(),
        200,
        "{}",
        String::from_utf8_lossy(token.body())
    );
    assert_eq!(json(&token)["scope"], "openid view:users");
}

/// RFC 9126 §2.1: a public client identifies itself by `client_id` and still needs PKCE;
/// the pushed PKCE challenge carries through to the token endpoint.
#[tokio::test]
async fn rfc9126_2_1_public_client_pushes_with_pkce() {
    let h = Harness::new().await;
    let (_, spa) = clients(&h).await;
    let response = par(
        &h,
        &encode(&[
            ("client_id", spa.id()),
            ("response_type", "code"),
            ("scope", "view:users"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ]),
        &[],
    )
    .await;
    assert_eq!(response.status(), 201);
    let request_uri = json(&response)["request_uri"].as_str().unwrap().to_owned();
    let Authorization::Interaction(interaction) = authorize(
        &h,
        &[("client_id", spa.id()), ("request_uri", &request_uri)],
    )
    .await
    else {
        panic!("expected an interaction");
    };
    let response = h
        .provider
        .complete(
            &interaction.id,
            Decision::Allow {
                subject: Subject::new("user-alice").unwrap(),
                scopes: interaction.scopes,
                auth_time: h.provider.now(),
            },
        )
        .await
        .unwrap();
    let location = header(&response, "location").unwrap().to_owned();
    let code = location
        .split(['?', '&'])
        .find_map(|pair| pair.strip_prefix("code="))
        .unwrap();
    let exchange = |verifier: &'static str| {
        form_post(
            "/oauth/token",
            &encode(&[
                ("grant_type", "authorization_code"),
                ("client_id", spa.id()),
                ("code", code),
                ("code_verifier", verifier),
            ]),
            &[],
        )
    };
    let token = h.provider.token(exchange(VERIFIER)).await;
    assert_eq!(
        token.status(),
        200,
        "{}",
        String::from_utf8_lossy(token.body())
    );
}

/// RFC 9126 §2.1-§2.3 at the PAR endpoint: each row a request and the status and error
/// code it must get. Errors are JSON, never redirects.
#[tokio::test]
async fn rfc9126_2_par_endpoint_negative_table() {
    let h = Harness::with(|b| b.max_body_bytes(2048)).await;
    let (web, spa) = clients(&h).await;
    let basic = web.basic();
    let wrong = support::basic("web", "not-the-secret");
    let good = [
        ("response_type", "code"),
        ("scope", "view:users"),
        ("redirect_uri", REDIRECT),
    ];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut pairs: Vec<(&str, &str)> = good.to_vec();
        for (name, value) in extra {
            pairs.retain(|(n, _)| n != name);
            if !value.is_empty() {
                pairs.push((name, value));
            }
        }
        encode(&pairs)
    };
    let big = "x".repeat(4096);
    // (case, method, body, authorization, content type, status, error)
    let cases: Vec<(&str, &str, String, Option<&str>, &str, u16, &str)> = vec![
        (
            "§2.3: GET is 405",
            "GET",
            String::new(),
            Some(basic.as_str()),
            "",
            405,
            "invalid_request",
        ),
        (
            "§2: no client authentication",
            "POST",
            with(&[]),
            None,
            "form",
            401,
            "invalid_client",
        ),
        (
            "§2: wrong secret",
            "POST",
            with(&[]),
            Some(wrong.as_str()),
            "form",
            401,
            "invalid_client",
        ),
        (
            "§2: client_secret and Basic together (RFC 6749 §2.3)",
            "POST",
            format!("{}&client_secret=x", with(&[])),
            Some(basic.as_str()),
            "form",
            400,
            "invalid_request",
        ),
        (
            "§2.1: request_uri must not be pushed",
            "POST",
            with(&[("request_uri", "urn:ietf:params:oauth:request_uri:abc")]),
            Some(basic.as_str()),
            "form",
            400,
            "invalid_request",
        ),
        (
            "§2.3: unregistered redirect_uri is invalid_request",
            "POST",
            with(&[("redirect_uri", "https://attacker.example/cb")]),
            Some(basic.as_str()),
            "form",
            400,
            "invalid_request",
        ),
        (
            "§2.3 / RFC 6749 §4.1.1: missing response_type",
            "POST",
            with(&[("response_type", "")]),
            Some(basic.as_str()),
            "form",
            400,
            "invalid_request",
        ),
        (
            "§2.3: unsupported response_type",
            "POST",
            with(&[("response_type", "magic")]),
            Some(basic.as_str()),
            "form",
            400,
            "unsupported_response_type",
        ),
        (
            "§2.3: unknown scope",
            "POST",
            with(&[("scope", "launch:missiles")]),
            Some(basic.as_str()),
            "form",
            400,
            "invalid_scope",
        ),
        (
            "§2.3 / RFC 7636 §4.4.1: public client without PKCE",
            "POST",
            encode(&[("client_id", spa.id()), ("response_type", "code")]),
            None,
            "form",
            400,
            "invalid_request",
        ),
        (
            "§2.3 / RFC 6749 §3.1: repeated parameter",
            "POST",
            format!("{}&scope=openid", with(&[])),
            Some(basic.as_str()),
            "form",
            400,
            "invalid_request",
        ),
        (
            "§2: body client_id of another client than Basic",
            "POST",
            format!("{}&client_id=spa", with(&[])),
            Some(basic.as_str()),
            "form",
            400,
            "invalid_request",
        ),
        (
            "§2: not a form body",
            "POST",
            "{}".to_owned(),
            Some(basic.as_str()),
            "json",
            400,
            "invalid_request",
        ),
        (
            "§2.3: body over the limit is 413",
            "POST",
            format!("{}&state={big}", with(&[])),
            Some(basic.as_str()),
            "form",
            413,
            "invalid_request",
        ),
        (
            "OIDC Core §6: request objects are not supported",
            "POST",
            with(&[("request", "eyJhbGciOiJub25lIn0.e30.")]),
            Some(basic.as_str()),
            "form",
            400,
            "request_not_supported",
        ),
    ];
    assert!(cases.len() >= 8);
    for (name, method, body, authorization, content_type, status, error) in cases {
        let mut builder = Request::builder().method(method).uri(PAR);
        match content_type {
            "form" => builder = builder.header("content-type", "application/x-www-form-urlencoded"),
            "json" => builder = builder.header("content-type", "application/json"),
            _ => {}
        }
        if let Some(authorization) = authorization {
            builder = builder.header("authorization", authorization);
        }
        let request = builder.body(Bytes::from(body)).unwrap();
        let response = h
            .provider
            .handle(Endpoint::PushedAuthorizationRequest, request)
            .await;
        assert_eq!(
            response.status(),
            status,
            "case {name}: {:?}",
            response.body()
        );
        assert_eq!(json(&response)["error"], error, "case {name}");
        assert!(
            header(&response, "location").is_none(),
            "case {name}: never redirected"
        );
        assert_eq!(
            header(&response, "cache-control"),
            Some("no-store"),
            "case {name}"
        );
        if status == 405 {
            assert_eq!(header(&response, "allow"), Some("POST"), "case {name}");
        }
        if name == "§2: wrong secret" {
            assert!(
                header(&response, "www-authenticate").is_some_and(|v| v.starts_with("Basic")),
                "RFC 6749 §5.2: Basic was tried"
            );
        }
    }
}

/// What an authorization request answered: (status, error code in the page or redirect,
/// whether it redirected).
fn outcome(authorization: Authorization) -> (u16, String, bool) {
    let Authorization::Respond(response) = authorization else {
        return (0, "interaction".into(), false);
    };
    let status = response.status().as_u16();
    match header(&response, "location") {
        Some(location) => {
            let error = url::Url::parse(location)
                .unwrap()
                .query_pairs()
                .find(|(name, _)| name == "error")
                .map(|(_, value)| value.into_owned())
                .unwrap_or_default();
            (status, error, true)
        }
        None => {
            let page = String::from_utf8_lossy(response.body()).into_owned();
            let error = page
                .split("<code>")
                .nth(1)
                .and_then(|rest| rest.split("</code>").next())
                .unwrap_or_default()
                .to_owned();
            (status, error, false)
        }
    }
}

/// RFC 9126 §4 at the authorization endpoint: a `request_uri` that cannot be used is
/// `invalid_request_uri` (RFC 9101 §7) on a page, never redirected (RFC 6749 §4.1.2.1: the
/// only trusted redirect URI is in the pushed request).
#[tokio::test]
async fn rfc9126_4_request_uri_negative_table() {
    let h = Harness::new().await;
    let (web, _) = clients(&h).await;
    let used = push(&h, &web, &[]).await;
    let first = authorize(&h, &[("client_id", "web"), ("request_uri", &used)]).await;
    assert!(matches!(first, Authorization::Interaction(_)));
    let expired = push(&h, &web, &[]).await;
    let stolen = push(&h, &web, &[]).await;
    let unknown = format!("urn:ietf:params:oauth:request_uri:{}", "A".repeat(43));
    // Every row below except "expired" runs before the clock moves.
    type Row<'a> = (&'a str, Vec<(&'a str, &'a str)>, u16, &'a str);
    let rows: Vec<Row> = vec![
        (
            "§4: reused request_uri (one-time use)",
            vec![("client_id", "web"), ("request_uri", &used)],
            400,
            "invalid_request_uri",
        ),
        (
            "§2.2: bound to the client that pushed it",
            vec![("client_id", "spa"), ("request_uri", &stolen)],
            400,
            "invalid_request_uri",
        ),
        (
            "§4: unknown request_uri",
            vec![("client_id", "web"), ("request_uri", &unknown)],
            400,
            "invalid_request_uri",
        ),
        (
            "RFC 9101 §5: client_id is required",
            vec![("request_uri", &stolen)],
            400,
            "invalid_request",
        ),
        (
            "RFC 6749 §3.1: request_uri repeated",
            vec![
                ("client_id", "web"),
                ("request_uri", &stolen),
                ("request_uri", &stolen),
            ],
            400,
            "invalid_request",
        ),
    ];
    for (name, query, status, error) in rows {
        let (got_status, got_error, redirected) = outcome(authorize(&h, &query).await);
        assert_eq!(
            (got_status, got_error.as_str(), redirected),
            (status, error, false),
            "case {name}"
        );
    }
    // OpenID Connect Core §6.2: a request object by reference is not a pushed request.
    let (status, error, redirected) = outcome(
        authorize(
            &h,
            &[
                ("client_id", "web"),
                ("response_type", "code"),
                ("request_uri", "https://app.example/request.jwt"),
            ],
        )
        .await,
    );
    assert_eq!(
        (status, error.as_str(), redirected),
        (303, "request_uri_not_supported", true)
    );
    // The stolen one was neither used up by the other client nor by the malformed rows.
    let owner = authorize(&h, &[("client_id", "web"), ("request_uri", &stolen)]).await;
    assert!(
        matches!(owner, Authorization::Interaction(_)),
        "§2.2: the owner still can"
    );

    // §4: "An expired request_uri MUST be rejected as invalid."
    h.clock.advance(Duration::seconds(61));
    let (status, error, redirected) =
        outcome(authorize(&h, &[("client_id", "web"), ("request_uri", &expired)]).await);
    assert_eq!(
        (status, error.as_str(), redirected),
        (400, "invalid_request_uri", false)
    );
}

/// RFC 9126 §4-§6: where PAR is required (per client or provider-wide), an authorization
/// request that was not pushed is `invalid_request`, redirected like any error once the
/// client and redirect URI are known; a pushed one goes through.
#[tokio::test]
async fn rfc9126_par_required() {
    // Per client (§6 `require_pushed_authorization_requests`).
    let h = Harness::new().await;
    let (web, _) = clients(&h).await;
    let strict = h
        .register(ClientKind::Web, |c| {
            c.client_id("strict")
                .redirect_uri(REDIRECT)
                .all_scopes()
                .require_pushed_authorization_requests(true)
        })
        .await;
    let direct = [
        ("client_id", "strict"),
        ("response_type", "code"),
        ("scope", "view:users"),
        ("state", "s1"),
    ];
    let (status, error, redirected) = outcome(authorize(&h, &direct).await);
    assert_eq!(
        (status, error.as_str(), redirected),
        (303, "invalid_request", true)
    );
    // Others are not affected.
    let web_direct = [
        ("client_id", "web"),
        ("response_type", "code"),
        ("scope", "view:users"),
    ];
    assert!(matches!(
        authorize(&h, &web_direct).await,
        Authorization::Interaction(_)
    ));
    // Pushed, it works.
    let request_uri = push(&h, &strict, &[]).await;
    let pushed = authorize(
        &h,
        &[("client_id", "strict"), ("request_uri", &request_uri)],
    )
    .await;
    assert!(matches!(pushed, Authorization::Interaction(_)));
    let _ = web;

    // Provider-wide (§5): every client.
    let h = Harness::with(|b| b.require_pushed_authorization_requests(true)).await;
    let (web, _) = clients(&h).await;
    let (status, error, redirected) = outcome(authorize(&h, &web_direct).await);
    assert_eq!(
        (status, error.as_str(), redirected),
        (303, "invalid_request", true)
    );
    let request_uri = push(&h, &web, &[]).await;
    let pushed = authorize(&h, &[("client_id", "web"), ("request_uri", &request_uri)]).await;
    assert!(matches!(pushed, Authorization::Interaction(_)));
}

/// RFC 9126 §5: discovery names the endpoint while PAR is on, says when it is required,
/// and the endpoint is mounted exactly then; turned off, `request_uri` is not supported.
#[tokio::test]
async fn rfc9126_5_discovery_and_routes() {
    let metadata = |h: &Harness| {
        let provider = h.provider.clone();
        async move {
            let response = provider
                .handle(
                    Endpoint::OpenIdConfiguration,
                    get("/.well-known/openid-configuration"),
                )
                .await;
            json(&response)
        }
    };
    let mounted = |h: &Harness| {
        h.provider
            .routes()
            .iter()
            .any(|(path, e)| *e == Endpoint::PushedAuthorizationRequest && path == PAR)
    };
    let cases: [(&str, fn(ProviderBuilder) -> ProviderBuilder, bool, bool); 3] = [
        ("default: on, not required", |b| b, true, false),
        (
            "required",
            |b| b.require_pushed_authorization_requests(true),
            true,
            true,
        ),
        (
            "off",
            |b| b.pushed_authorization_requests(false),
            false,
            false,
        ),
    ];
    for (name, configure, enabled, required) in cases {
        let h = Harness::with(configure).await;
        let document = metadata(&h).await;
        assert_eq!(
            document["pushed_authorization_request_endpoint"].as_str(),
            enabled.then_some("https://id.example/oauth/par"),
            "case {name}"
        );
        assert_eq!(
            document
                .get("require_pushed_authorization_requests")
                .is_some(),
            required,
            "case {name}"
        );
        if required {
            assert_eq!(document["require_pushed_authorization_requests"], true);
        }
        assert_eq!(mounted(&h), enabled, "case {name}");
        if !enabled {
            clients(&h).await;
            let (status, error, redirected) = outcome(
                authorize(
                    &h,
                    &[
                        ("client_id", "web"),
                        ("response_type", "code"),
                        ("request_uri", "urn:ietf:params:oauth:request_uri:x"),
                    ],
                )
                .await,
            );
            assert_eq!(
                (status, error.as_str(), redirected),
                (303, "request_uri_not_supported", true),
                "case {name}"
            );
        }
    }
}

/// RFC 9126 §2.2: `expires_in` follows the configured lifetime, and the pushed request
/// lives exactly that long.
#[tokio::test]
async fn rfc9126_2_2_configured_lifetime() {
    let h =
        Harness::with(|b| b.pushed_authorization_request_lifetime(Duration::seconds(300))).await;
    let (web, _) = clients(&h).await;
    let response = par(
        &h,
        &encode(&[("response_type", "code"), ("scope", "view:users")]),
        &[("authorization", &web.basic())],
    )
    .await;
    assert_eq!(json(&response)["expires_in"], 300);
    let request_uri = json(&response)["request_uri"].as_str().unwrap().to_owned();
    h.clock.advance(Duration::seconds(299));
    let pushed = authorize(&h, &[("client_id", "web"), ("request_uri", &request_uri)]).await;
    assert!(matches!(pushed, Authorization::Interaction(_)));
}

/// RFC 9126 §2.1 with RFC 8707 §2.1: a pushed request may carry several `resource`
/// values; all of them reach the authorization code.
#[tokio::test]
async fn rfc9126_2_1_repeated_resources_are_pushed() {
    let h = Harness::new().await;
    let (web, _) = clients(&h).await;
    let request_uri = push(
        &h,
        &web,
        &[
            ("resource", "https://a.example/"),
            ("resource", "https://b.example/"),
        ],
    )
    .await;
    let Authorization::Interaction(interaction) =
        authorize(&h, &[("client_id", "web"), ("request_uri", &request_uri)]).await
    else {
        panic!("expected an interaction");
    };
    let response = h
        .provider
        .complete(
            &interaction.id,
            Decision::Allow {
                subject: Subject::new("user-alice").unwrap(),
                scopes: interaction.scopes,
                auth_time: h.provider.now(),
            },
        )
        .await
        .unwrap();
    let location = header(&response, "location").unwrap();
    let code = location
        .split(['?', '&'])
        .find_map(|pair| pair.strip_prefix("code="))
        .unwrap();
    let record = h
        .store
        .find_code(&TokenHash::of(code), h.provider.now())
        .await
        .unwrap()
        .expect("the code is stored");
    assert_eq!(
        record.resources,
        ["https://a.example/", "https://b.example/"]
    );
}

/// DESIGN §3, "no panics on any input", for the PAR endpoint and the authorization
/// endpoint's `request_uri`: arbitrary forms built from real parameter names, with and
/// without client authentication, answer 201 or a JSON error; arbitrary `request_uri`
/// values at the authorization endpoint answer a page or a redirect.
#[test]
fn design_3_par_never_panics() {
    use proptest::prelude::*;
    use proptest::sample::select;
    use proptest::test_runner::{Config, TestCaseError, TestRunner};

    const NAMES: &[&str] = &[
        "client_id",
        "client_secret",
        "response_type",
        "redirect_uri",
        "scope",
        "state",
        "nonce",
        "prompt",
        "max_age",
        "code_challenge",
        "code_challenge_method",
        "request",
        "request_uri",
        "resource",
        "dpop_jkt",
        "response_mode",
        "client_assertion",
        "client_assertion_type",
    ];
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (h, basic, good_uri) = runtime.block_on(async {
        let h = Harness::new().await;
        let (web, _) = clients(&h).await;
        let basic = web.basic();
        let good_uri = push(&h, &web, &[]).await;
        (h, basic, good_uri)
    });
    let value = prop_oneof![
        Just("code".to_owned()),
        Just("web".to_owned()),
        Just("spa".to_owned()),
        Just(REDIRECT.to_owned()),
        Just(CHALLENGE.to_owned()),
        Just("S256".to_owned()),
        Just("openid view:users".to_owned()),
        Just(good_uri.clone()),
        Just("urn:ietf:params:oauth:request_uri:".to_owned()),
        ".{0,40}",
    ];
    let form = proptest::collection::vec((select(NAMES), value), 0..10);
    let mut runner = TestRunner::new(Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&(form, any::<bool>()), |(pairs, authenticated)| {
        let body = encode(
            &pairs
                .iter()
                .map(|(n, v)| (*n, v.as_str()))
                .collect::<Vec<_>>(),
        );
        let headers: Vec<(&str, &str)> = if authenticated {
            vec![("authorization", basic.as_str())]
        } else {
            Vec::new()
        };
        let push_request = form_post(PAR, &body, &headers);
        let authorize_request = get(&format!("/oauth/authorize?{body}"));
        let provider = h.provider.clone();
        let outcome = runtime.block_on(async move {
            tokio::spawn(async move {
                let pushed = provider
                    .handle(Endpoint::PushedAuthorizationRequest, push_request)
                    .await;
                let authorized = provider.authorize(authorize_request, None).await;
                (pushed, authorized)
            })
            .await
        });
        let (pushed, authorized) =
            outcome.map_err(|err| TestCaseError::fail(format!("panicked: {err}")))?;
        let status = pushed.status().as_u16();
        prop_assert!(matches!(status, 201 | 400 | 401 | 413), "status {status}");
        prop_assert_eq!(header(&pushed, "cache-control"), Some("no-store"));
        let answer: serde_json::Value = serde_json::from_slice(pushed.body())
            .map_err(|err| TestCaseError::fail(format!("not JSON: {err}")))?;
        if status == 201 {
            prop_assert!(answer["request_uri"].is_string() && answer["expires_in"] == 60);
        } else {
            prop_assert!(answer["error"].is_string(), "{answer}");
        }
        if let Authorization::Respond(response) = authorized {
            let status = response.status().as_u16();
            prop_assert!(
                matches!(status, 200 | 303 | 400 | 500 | 503),
                "status {status}"
            );
            if status == 303 {
                prop_assert!(header(&response, "location").is_some());
            }
        }
        Ok(())
    });
    if let Err(err) = result {
        panic!("{err}");
    }
}
