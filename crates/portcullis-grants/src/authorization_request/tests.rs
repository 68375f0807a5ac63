#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::*;
use portcullis_registry::{ClientKind, NewClient, Scope, ScopeDefinition};

const REDIRECT: &str = "https://app.example/cb";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

fn catalog() -> ScopeCatalog {
    let mut catalog = ScopeCatalog::with_oidc_scopes();
    for name in ["view:users", "delete:users"] {
        catalog
            .insert(ScopeDefinition::new(Scope::new(name).unwrap(), name))
            .unwrap();
    }
    catalog
}

fn client(kind: ClientKind, id: &str, configure: impl FnOnce(NewClient) -> NewClient) -> Client {
    configure(NewClient::new(id, kind).client_id(id))
        .build(&catalog())
        .unwrap()
        .client
}

/// Web (confidential): one redirect URI, scopes openid + view:users.
fn web() -> Client {
    client(ClientKind::Web, "web", |c| {
        c.redirect_uri(REDIRECT).scopes(["openid", "view:users"])
    })
}

/// SPA (public) with the implicit grant too, two redirect URIs.
fn spa() -> Client {
    client(ClientKind::Spa, "spa", |c| {
        c.redirect_uris([REDIRECT, "https://app.example/other"])
            .all_scopes()
            .grant_types([GrantType::AuthorizationCode, GrantType::Implicit])
    })
}

/// Native (public), loopback redirect with any port.
fn native() -> Client {
    client(ClientKind::Native, "native", |c| {
        c.redirect_uri("http://127.0.0.1/cb").all_scopes()
    })
}

fn machine() -> Client {
    client(ClientKind::Machine, "machine", |c| c.scopes(["view:users"]))
}

fn revoked() -> Client {
    client(ClientKind::Web, "revoked", |c| {
        c.redirect_uri(REDIRECT).revoked(true)
    })
}

fn validate_with(
    pairs: &[(&str, &str)],
    client: Option<&Client>,
    policy: &Policy,
) -> Result<AuthorizationRequest, AuthorizationRequestError> {
    let params = Params::from_pairs(pairs.iter().copied());
    AuthorizationRequest::validate(&params, client, &catalog(), policy)
}

fn validate(
    pairs: &[(&str, &str)],
    client: Option<&Client>,
) -> Result<AuthorizationRequest, AuthorizationRequestError> {
    validate_with(pairs, client, &Policy::default())
}

/// Expected outcome of a table row.
#[derive(Debug)]
enum Expect {
    /// Shown to the user: `InvalidClient`.
    BadClient,
    /// Shown to the user: `InvalidRedirectUri`.
    BadRedirect,
    /// Redirected with this code and response mode.
    Redirected(&'static str, ResponseMode),
}

type Pairs = Vec<(&'static str, String)>;

/// `client_id` and `response_type=code`.
fn base(client: &str) -> Pairs {
    vec![
        ("client_id", client.to_owned()),
        ("response_type", "code".to_owned()),
    ]
}

/// [`base`] plus `extra`.
fn with(client: &str, extra: &[(&'static str, &str)]) -> Pairs {
    let mut pairs = base(client);
    pairs.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    pairs
}

/// A code request of the SPA at [`REDIRECT`], plus `extra`.
fn spa_with(extra: &[(&'static str, &str)]) -> Pairs {
    let mut pairs = with("spa", &[("redirect_uri", REDIRECT)]);
    pairs.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    pairs
}

#[test]
fn negative_cases() {
    use Expect::*;
    use ResponseMode::{Fragment, Query};
    let web = web();
    let spa = spa();
    let native = native();
    let machine = machine();
    let revoked = revoked();
    let implicit_only = client(ClientKind::Spa, "implicit-only", |c| {
        c.redirect_uri(REDIRECT).grant_types([GrantType::Implicit])
    });
    let cases: Vec<(&str, Pairs, Option<&Client>, Expect)> = vec![
        (
            "rfc6749_4_1_2_1_missing_client_id",
            vec![("response_type", "code".into())],
            Some(&web),
            BadClient,
        ),
        (
            "rfc6749_4_1_2_1_unknown_client",
            base("nobody"),
            None,
            BadClient,
        ),
        (
            "rfc6749_4_1_2_1_malformed_client_id",
            base("not a client"),
            None,
            BadClient,
        ),
        (
            "rfc6749_4_1_2_1_revoked_client",
            base("revoked"),
            Some(&revoked),
            BadClient,
        ),
        (
            "rfc6749_4_1_2_1_client_mismatch",
            base("other"),
            Some(&web),
            BadClient,
        ),
        (
            "rfc6749_3_1_duplicate_client_id",
            with("web", &[("client_id", "web")]),
            Some(&web),
            BadClient,
        ),
        (
            "rfc6749_3_1_2_4_mismatched_redirect",
            with("web", &[("redirect_uri", "https://evil.example/cb")]),
            Some(&web),
            BadRedirect,
        ),
        (
            "rfc6749_3_1_2_4_trailing_slash",
            with("web", &[("redirect_uri", "https://app.example/cb/")]),
            Some(&web),
            BadRedirect,
        ),
        (
            "rfc6749_3_1_duplicate_redirect_uri",
            with(
                "web",
                &[("redirect_uri", REDIRECT), ("redirect_uri", REDIRECT)],
            ),
            Some(&web),
            BadRedirect,
        ),
        (
            "rfc6749_3_1_2_3_missing_redirect_with_two_registered",
            base("spa"),
            Some(&spa),
            BadRedirect,
        ),
        (
            "rfc8252_7_3_native_redirect_without_port",
            with("native", &[]),
            Some(&native),
            BadRedirect,
        ),
        (
            "rfc8252_7_3_native_other_path",
            with("native", &[("redirect_uri", "http://127.0.0.1:5000/other")]),
            Some(&native),
            BadRedirect,
        ),
        (
            "rfc6749_3_1_2_machine_client_has_no_redirect",
            base("machine"),
            Some(&machine),
            BadRedirect,
        ),
        (
            "rfc6749_3_1_duplicate_scope",
            with("web", &[("scope", "openid"), ("scope", "openid")]),
            Some(&web),
            Redirected("invalid_request", Query),
        ),
        (
            "rfc6749_3_1_duplicate_state",
            with("web", &[("state", "a"), ("state", "b")]),
            Some(&web),
            Redirected("invalid_request", Query),
        ),
        (
            "rfc6749_3_1_duplicate_unknown_parameter",
            with("web", &[("x", "1"), ("x", "2")]),
            Some(&web),
            Redirected("invalid_request", Query),
        ),
        (
            "rfc6749_3_1_1_missing_response_type",
            vec![("client_id", "web".into())],
            Some(&web),
            Redirected("invalid_request", Query),
        ),
        (
            "rfc6749_3_1_1_unknown_response_type",
            vec![
                ("client_id", "web".into()),
                ("response_type", "code token".into()),
            ],
            Some(&web),
            Redirected("unsupported_response_type", Query),
        ),
        (
            "oauth_mrt_5_repeated_response_type_value",
            vec![
                ("client_id", "spa".into()),
                ("redirect_uri", REDIRECT.into()),
                ("response_type", "id_token id_token".into()),
            ],
            Some(&spa),
            Redirected("unsupported_response_type", Query),
        ),
        (
            "oidc_core_3_2_2_1_id_token_needs_implicit_grant",
            vec![
                ("client_id", "web".into()),
                ("response_type", "id_token".into()),
                ("scope", "openid".into()),
                ("nonce", "n".into()),
            ],
            Some(&web),
            Redirected("unauthorized_client", Fragment),
        ),
        (
            "oidc_core_3_3_2_1_code_id_token_needs_code_grant",
            vec![
                ("client_id", "implicit-only".into()),
                ("response_type", "code id_token".into()),
                ("scope", "openid".into()),
                ("nonce", "n".into()),
            ],
            Some(&implicit_only),
            Redirected("unauthorized_client", Fragment),
        ),
        (
            "oidc_core_3_2_2_1_id_token_needs_openid_scope",
            vec![
                ("client_id", "spa".into()),
                ("redirect_uri", REDIRECT.into()),
                ("response_type", "id_token".into()),
                ("scope", "profile".into()),
                ("nonce", "n".into()),
            ],
            Some(&spa),
            Redirected("invalid_request", Fragment),
        ),
        (
            "oidc_core_3_2_2_1_id_token_needs_nonce",
            vec![
                ("client_id", "spa".into()),
                ("redirect_uri", REDIRECT.into()),
                ("response_type", "id_token".into()),
                ("scope", "openid".into()),
            ],
            Some(&spa),
            Redirected("invalid_request", Fragment),
        ),
        (
            "oidc_core_3_2_2_1_id_token_token_needs_nonce",
            vec![
                ("client_id", "spa".into()),
                ("redirect_uri", REDIRECT.into()),
                ("response_type", "token id_token".into()),
                ("scope", "openid".into()),
            ],
            Some(&spa),
            Redirected("invalid_request", Fragment),
        ),
        (
            "oidc_core_3_3_2_11_code_id_token_needs_nonce",
            vec![
                ("client_id", "spa".into()),
                ("redirect_uri", REDIRECT.into()),
                ("response_type", "code id_token".into()),
                ("scope", "openid".into()),
                ("code_challenge", CHALLENGE.into()),
                ("code_challenge_method", "S256".into()),
            ],
            Some(&spa),
            Redirected("invalid_request", Fragment),
        ),
        (
            "oidc_core_3_3_2_1_code_id_token_public_client_needs_pkce",
            vec![
                ("client_id", "spa".into()),
                ("redirect_uri", REDIRECT.into()),
                ("response_type", "code id_token".into()),
                ("scope", "openid".into()),
                ("nonce", "n".into()),
            ],
            Some(&spa),
            Redirected("invalid_request", Fragment),
        ),
        (
            "oauth_mrt_2_1_query_with_id_token",
            vec![
                ("client_id", "spa".into()),
                ("redirect_uri", REDIRECT.into()),
                ("response_type", "id_token".into()),
                ("scope", "openid".into()),
                ("nonce", "n".into()),
                ("response_mode", "query".into()),
            ],
            Some(&spa),
            Redirected("invalid_request", Fragment),
        ),
        (
            "rfc6749_4_2_2_1_implicit_not_registered",
            vec![
                ("client_id", "web".into()),
                ("response_type", "token".into()),
            ],
            Some(&web),
            Redirected("unauthorized_client", Fragment),
        ),
        (
            "rfc6749_4_1_2_1_code_not_registered",
            base("implicit-only"),
            Some(&implicit_only),
            Redirected("unauthorized_client", Query),
        ),
        (
            "oauth_mrt_2_1_query_with_token",
            vec![
                ("client_id", "spa".into()),
                ("response_type", "token".into()),
                ("redirect_uri", REDIRECT.into()),
                ("response_mode", "query".into()),
            ],
            Some(&spa),
            Redirected("invalid_request", Fragment),
        ),
        (
            "oauth_mrt_2_1_unknown_response_mode",
            spa_with(&[("response_mode", "web_message")]),
            Some(&spa),
            Redirected("invalid_request", Query),
        ),
        (
            "rfc6749_3_3_malformed_scope",
            with("web", &[("scope", "openid  view:users")]),
            Some(&web),
            Redirected("invalid_scope", Query),
        ),
        (
            "rfc6749_3_3_unknown_scope",
            with("web", &[("scope", "openid nonsense")]),
            Some(&web),
            Redirected("invalid_scope", Query),
        ),
        (
            "rfc6749_3_3_scope_not_allowed",
            with("web", &[("scope", "delete:users")]),
            Some(&web),
            Redirected("invalid_scope", Query),
        ),
        (
            "rfc7636_4_4_1_public_client_without_challenge",
            spa_with(&[]),
            Some(&spa),
            Redirected("invalid_request", Query),
        ),
        (
            "rfc7636_4_4_1_native_without_challenge",
            with("native", &[("redirect_uri", "http://127.0.0.1:5000/cb")]),
            Some(&native),
            Redirected("invalid_request", Query),
        ),
        (
            "rfc7636_4_3_method_without_challenge",
            spa_with(&[("code_challenge_method", "S256")]),
            Some(&spa),
            Redirected("invalid_request", Query),
        ),
        (
            "rfc7636_4_3_unknown_method",
            spa_with(&[
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S512"),
            ]),
            Some(&spa),
            Redirected("invalid_request", Query),
        ),
        (
            "rfc9700_2_1_1_plain_refused",
            spa_with(&[
                ("code_challenge", VERIFIER),
                ("code_challenge_method", "plain"),
            ]),
            Some(&spa),
            Redirected("invalid_request", Query),
        ),
        (
            "rfc7636_4_3_default_plain_refused",
            spa_with(&[("code_challenge", VERIFIER)]),
            Some(&spa),
            Redirected("invalid_request", Query),
        ),
        (
            "rfc7636_4_2_malformed_s256_challenge",
            spa_with(&[
                ("code_challenge", "short"),
                ("code_challenge_method", "S256"),
            ]),
            Some(&spa),
            Redirected("invalid_request", Query),
        ),
        (
            "oidc_core_3_1_2_1_prompt_none_with_login",
            with("web", &[("prompt", "none login")]),
            Some(&web),
            Redirected("invalid_request", Query),
        ),
        (
            "oidc_core_3_1_2_1_negative_max_age",
            with("web", &[("max_age", "-1")]),
            Some(&web),
            Redirected("invalid_request", Query),
        ),
        (
            "oidc_core_3_1_2_1_non_numeric_max_age",
            with("web", &[("max_age", "1h")]),
            Some(&web),
            Redirected("invalid_request", Query),
        ),
        (
            "oidc_core_3_1_2_1_plus_max_age",
            with("web", &[("max_age", "+5")]),
            Some(&web),
            Redirected("invalid_request", Query),
        ),
        (
            "oidc_core_6_1_request_not_supported",
            with("web", &[("request", "eyJ.e30.")]),
            Some(&web),
            Redirected("request_not_supported", Query),
        ),
        (
            "oidc_core_6_2_request_uri_not_supported",
            with("web", &[("request_uri", "https://app.example/r")]),
            Some(&web),
            Redirected("request_uri_not_supported", Query),
        ),
        (
            "oauth_form_post_error_mode_kept",
            with(
                "web",
                &[("response_mode", "form_post"), ("scope", "nonsense")],
            ),
            Some(&web),
            Redirected("invalid_scope", ResponseMode::FormPost),
        ),
    ];
    assert!(cases.len() >= 30);
    for (name, pairs, client, expected) in cases {
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let err = validate(&pairs, client).expect_err(name);
        match (&expected, &err) {
            (BadClient, AuthorizationRequestError::InvalidClient(_))
            | (BadRedirect, AuthorizationRequestError::InvalidRedirectUri(_)) => {
                assert!(!err.is_redirectable(), "case {name}");
                assert_eq!(err.code(), "invalid_request", "case {name}");
            }
            (Redirected(code, mode), AuthorizationRequestError::Redirect(redirect)) => {
                assert_eq!(redirect.error.code(), *code, "case {name}: {err}");
                assert_eq!(redirect.target.response_mode, *mode, "case {name}");
                assert!(!redirect.target.redirect_uri.is_empty(), "case {name}");
            }
            _ => panic!("case {name}: expected {expected:?}, got {err:?}"),
        }
        assert!(!err.description().is_empty(), "case {name}");
    }
}

#[test]
fn rfc6749_4_1_1_valid_code_request() {
    let web = web();
    let request = validate(
        &[
            ("client_id", "web"),
            ("response_type", "code"),
            ("redirect_uri", REDIRECT),
            ("scope", "openid view:users"),
            ("state", "st"),
            ("nonce", "n-0S6_WzA2Mj"),
            ("prompt", "login consent bogus"),
            ("max_age", "300"),
        ],
        Some(&web),
    )
    .unwrap();
    assert_eq!(request.client_id, web.id);
    assert_eq!(request.response_type, ResponseType::Code);
    assert_eq!(request.redirect_uri, REDIRECT);
    assert!(request.redirect_uri_in_request);
    assert_eq!(request.response_mode, ResponseMode::Query);
    assert_eq!(
        request.scopes,
        ScopeSet::parse("openid view:users").unwrap()
    );
    assert_eq!(request.state.as_deref(), Some("st"));
    assert_eq!(request.nonce.as_deref(), Some("n-0S6_WzA2Mj"));
    assert_eq!(request.code_challenge, None); // optional for confidential clients
    assert_eq!(request.prompt.to_string(), "login consent");
    assert_eq!(request.max_age, Some(300));
    assert_eq!(request.target().state.as_deref(), Some("st"));
}

#[test]
fn rfc6749_3_1_2_3_default_redirect_and_empty_scope() {
    let request = validate(
        &[("client_id", "web"), ("response_type", "code")],
        Some(&web()),
    )
    .unwrap();
    assert_eq!(request.redirect_uri, REDIRECT);
    assert!(!request.redirect_uri_in_request);
    assert!(request.scopes.is_empty());
    assert!(request.prompt.is_empty());
    assert_eq!(request.max_age, None);
}

#[test]
fn rfc8252_7_3_loopback_any_port() {
    let native = native();
    for uri in [
        "http://127.0.0.1:1/cb",
        "http://127.0.0.1:65535/cb",
        "http://127.0.0.1/cb",
    ] {
        let request = validate(
            &[
                ("client_id", "native"),
                ("response_type", "code"),
                ("redirect_uri", uri),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
            ],
            Some(&native),
        )
        .unwrap();
        assert_eq!(request.redirect_uri, uri);
    }
}

#[test]
fn rfc7636_4_3_pkce_rules() {
    let spa = spa();
    let pairs = |extra: &[(&'static str, &'static str)]| {
        let mut pairs = vec![
            ("client_id", "spa"),
            ("response_type", "code"),
            ("redirect_uri", REDIRECT),
        ];
        pairs.extend_from_slice(extra);
        pairs
    };
    let s256 = validate(
        &pairs(&[
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ]),
        Some(&spa),
    )
    .unwrap();
    assert_eq!(
        s256.code_challenge,
        Some(CodeChallenge {
            challenge: CHALLENGE.into(),
            method: CodeChallengeMethod::S256
        })
    );

    let plain_ok = Policy {
        pkce: crate::PkcePolicy {
            allow_plain: true,
            ..Default::default()
        },
        ..Policy::default()
    };
    let defaulted = validate_with(
        &pairs(&[("code_challenge", VERIFIER)]),
        Some(&spa),
        &plain_ok,
    )
    .unwrap();
    assert_eq!(
        defaulted.code_challenge.map(|c| c.method),
        Some(CodeChallengeMethod::Plain)
    );
    let explicit = validate_with(
        &pairs(&[
            ("code_challenge", VERIFIER),
            ("code_challenge_method", "plain"),
        ]),
        Some(&spa),
        &plain_ok,
    )
    .unwrap();
    assert_eq!(
        explicit.code_challenge.map(|c| c.method),
        Some(CodeChallengeMethod::Plain)
    );
    // Even when allowed, a plain challenge must be a well-formed verifier.
    assert!(
        validate_with(
            &pairs(&[("code_challenge", "short")]),
            Some(&spa),
            &plain_ok
        )
        .is_err()
    );

    // Confidential clients need PKCE only when the policy says so.
    let strict = Policy {
        pkce: crate::PkcePolicy {
            required_for_confidential_clients: true,
            ..Default::default()
        },
        ..Policy::default()
    };
    let web = web();
    let web_pairs = [("client_id", "web"), ("response_type", "code")];
    assert!(validate(&web_pairs, Some(&web)).is_ok());
    let err = validate_with(&web_pairs, Some(&web), &strict).unwrap_err();
    assert_eq!(err.code(), "invalid_request");
    assert!(err.description().contains("code_challenge"));
}

#[test]
fn rfc6749_4_2_1_implicit_for_registered_spa() {
    let spa = spa();
    let request = validate(
        &[
            ("client_id", "spa"),
            ("response_type", "token"),
            ("redirect_uri", REDIRECT),
            ("state", "s"),
        ],
        Some(&spa),
    )
    .unwrap();
    assert_eq!(request.response_type, ResponseType::Token);
    assert_eq!(request.response_mode, ResponseMode::Fragment);
    // No PKCE needed: there is no code to protect.
    assert_eq!(request.code_challenge, None);
    let form_post = validate(
        &[
            ("client_id", "spa"),
            ("response_type", "token"),
            ("redirect_uri", REDIRECT),
            ("response_mode", "form_post"),
        ],
        Some(&spa),
    )
    .unwrap();
    assert_eq!(form_post.response_mode, ResponseMode::FormPost);
}

#[test]
fn error_target_echoes_state_and_uses_requested_redirect() {
    let spa = spa();
    let err = validate(
        &[
            ("client_id", "spa"),
            ("response_type", "code"),
            ("redirect_uri", "https://app.example/other"),
            ("state", "abc"),
        ],
        Some(&spa),
    )
    .unwrap_err();
    let redirect = err.redirect().unwrap();
    assert_eq!(redirect.target.redirect_uri, "https://app.example/other");
    assert_eq!(redirect.target.state.as_deref(), Some("abc"));
    assert!(redirect.target.redirect_uri_in_request);
    // A repeated state is not echoed: which one would it be?
    let err = validate(
        &[
            ("client_id", "web"),
            ("response_type", "code"),
            ("state", "a"),
            ("state", "b"),
        ],
        Some(&web()),
    )
    .unwrap_err();
    assert_eq!(err.redirect().unwrap().target.state, None);
}

#[test]
fn descriptions_do_not_tell_unknown_from_revoked() {
    let unknown =
        validate(&[("client_id", "nobody"), ("response_type", "code")], None).unwrap_err();
    let revoked_client = revoked();
    let revoked = validate(
        &[("client_id", "revoked"), ("response_type", "code")],
        Some(&revoked_client),
    )
    .unwrap_err();
    assert_eq!(unknown.description(), revoked.description());
}

#[test]
fn max_age_saturates_and_accepts_zero() {
    let web = web();
    let age = |raw: &str| {
        validate(
            &[
                ("client_id", "web"),
                ("response_type", "code"),
                ("max_age", raw),
            ],
            Some(&web),
        )
        .unwrap()
        .max_age
    };
    assert_eq!(age("0"), Some(0));
    assert_eq!(age("99999999999999999999"), Some(u32::MAX));
}

#[test]
fn prompt_set_parsing() {
    assert_eq!(PromptSet::parse("none").len(), 1);
    assert_eq!(
        PromptSet::parse("  login   consent ").to_string(),
        "login consent"
    );
    assert!(PromptSet::parse("NONE").is_empty()); // case-sensitive
    let set: PromptSet = [Prompt::SelectAccount, Prompt::None].into_iter().collect();
    assert_eq!(set.to_string(), "none select_account");
}

#[test]
fn wire_names_round_trip() {
    for rt in ResponseType::ALL {
        assert_eq!(rt.as_str().parse(), Ok(rt));
    }
    for mode in [
        ResponseMode::Query,
        ResponseMode::Fragment,
        ResponseMode::FormPost,
    ] {
        assert_eq!(mode.as_str().parse(), Ok(mode));
    }
    for prompt in [
        Prompt::None,
        Prompt::Login,
        Prompt::Consent,
        Prompt::SelectAccount,
    ] {
        assert_eq!(prompt.as_str().parse(), Ok(prompt));
    }
}

#[test]
fn oauth_mrt_5_response_type_values_in_any_order() {
    for (raw, expected) in [
        ("id_token token", ResponseType::IdTokenToken),
        ("token id_token", ResponseType::IdTokenToken),
        ("code id_token", ResponseType::CodeIdToken),
        ("id_token code", ResponseType::CodeIdToken),
    ] {
        assert_eq!(raw.parse(), Ok(expected), "{raw}");
    }
    for refused in [
        "",
        " code",
        "code  id_token",
        "code token",
        "code id_token token",
        "ID_TOKEN",
        "none",
    ] {
        assert!(refused.parse::<ResponseType>().is_err(), "{refused:?}");
    }
}

#[test]
fn oidc_core_3_2_and_3_3_id_token_response_types_for_implicit_spa() {
    let spa = spa();
    let implicit = [
        ("client_id", "spa"),
        ("redirect_uri", REDIRECT),
        ("scope", "openid profile"),
        ("nonce", "n-0S6_WzA2Mj"),
        ("state", "s"),
    ];
    for (response_type, expected) in [
        ("id_token", ResponseType::IdToken),
        ("id_token token", ResponseType::IdTokenToken),
    ] {
        let mut pairs = implicit.to_vec();
        pairs.push(("response_type", response_type));
        let request = validate(&pairs, Some(&spa)).unwrap();
        assert_eq!(request.response_type, expected);
        assert_eq!(request.response_mode, ResponseMode::Fragment);
        assert_eq!(request.nonce.as_deref(), Some("n-0S6_WzA2Mj"));
    }
    let mut hybrid = implicit.to_vec();
    hybrid.extend([
        ("response_type", "code id_token"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]);
    let request = validate(&hybrid, Some(&spa)).unwrap();
    assert_eq!(request.response_type, ResponseType::CodeIdToken);
    assert_eq!(request.response_mode, ResponseMode::Fragment);
    assert!(request.code_challenge.is_some());
    hybrid.push(("response_mode", "form_post"));
    assert_eq!(
        validate(&hybrid, Some(&spa)).unwrap().response_mode,
        ResponseMode::FormPost
    );
}
