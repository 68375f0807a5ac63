#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::*;
use crate::client::ClientKind::{Machine, Native, ResourceOwner, Spa, Web};
use crate::client::GrantType::{
    AuthorizationCode, ClientCredentials, Implicit, Password, RefreshToken,
};
use crate::redirect::{MatchRule, RedirectUriError};
use crate::scope::ScopeDefinition;

fn catalog() -> ScopeCatalog {
    let mut catalog = ScopeCatalog::with_oidc_scopes();
    catalog
        .insert(ScopeDefinition::new(
            Scope::new("invoices:read").unwrap(),
            "Read invoices",
        ))
        .unwrap();
    catalog
}

fn web() -> NewClient {
    NewClient::new("Billing", Web).redirect_uri("https://billing.example/cb")
}

fn spa() -> NewClient {
    NewClient::new("Dashboard", Spa).redirect_uri("https://dash.example/cb")
}

fn native() -> NewClient {
    NewClient::new("Field app", Native).redirect_uri("http://127.0.0.1/cb")
}

fn m2m() -> NewClient {
    NewClient::new("Exporter", Machine)
}

fn resource_owner() -> NewClient {
    NewClient::new("Legacy app", ResourceOwner)
}

fn fields(result: &Result<IssuedClient, ValidationErrors>) -> Vec<String> {
    match result {
        Ok(_) => Vec::new(),
        Err(errors) => errors.iter().map(|e| e.field.to_string()).collect(),
    }
}

/// Every validation rule of `NewClient::build`, by the field paths it reports (empty: valid).
#[test]
fn client_validation_table() {
    let many_mistakes = NewClient::new("  ", Spa)
        .client_id("bad id")
        .description("d".repeat(CLIENT_DESCRIPTION_MAX_CHARS + 1))
        .grant_types([AuthorizationCode, Password])
        .redirect_uris([
            "https://ok.example/cb",
            "http://evil.example/cb",
            "https://ok.example/cb",
            "https://*.example/cb",
        ])
        .scopes(["openid", "admin", "bad\"scope"])
        .auth_method(TokenEndpointAuthMethod::ClientSecretBasic)
        .access_token_lifetime_secs(10)
        .refresh_token_lifetime_secs(100)
        .role("admin", None);

    let cases: Vec<(&str, NewClient, &[&str])> = vec![
        // Valid clients of every kind, with their defaults.
        ("design_4_1_web_defaults_valid", web(), &[]),
        ("design_4_1_spa_defaults_valid", spa(), &[]),
        ("design_4_1_native_defaults_valid", native(), &[]),
        ("design_4_1_m2m_defaults_valid", m2m(), &[]),
        (
            "design_4_1_resource_owner_defaults_valid",
            resource_owner(),
            &[],
        ),
        (
            "rfc8252_7_1_native_private_use_scheme_valid",
            native().redirect_uri("com.example.field:/cb"),
            &[],
        ),
        // client_id.
        (
            "rfc6749_2_2_client_id_given_valid",
            web().client_id("billing-web"),
            &[],
        ),
        (
            "rfc6749_2_2_client_id_with_space",
            web().client_id("billing web"),
            &["client_id"],
        ),
        (
            "rfc6749_2_2_client_id_empty",
            web().client_id(""),
            &["client_id"],
        ),
        // name.
        ("name_empty", web().name(""), &["name"]),
        ("name_blank_after_trim", web().name(" \t "), &["name"]),
        (
            "name_100_chars_valid",
            web().name("é".repeat(CLIENT_NAME_MAX_CHARS)),
            &[],
        ),
        (
            "name_101_chars",
            web().name("n".repeat(CLIENT_NAME_MAX_CHARS + 1)),
            &["name"],
        ),
        (
            "name_control_character",
            web().name("Bill\u{0}ing"),
            &["name"],
        ),
        ("name_newline", web().name("Bill\ning"), &["name"]),
        // description.
        (
            "description_1000_chars_valid",
            web().description("d".repeat(CLIENT_DESCRIPTION_MAX_CHARS)),
            &[],
        ),
        (
            "description_1001_chars",
            web().description("d".repeat(CLIENT_DESCRIPTION_MAX_CHARS + 1)),
            &["description"],
        ),
        (
            "description_line_breaks_valid",
            web().description("one\r\ntwo\tthree"),
            &[],
        ),
        (
            "description_control_character",
            web().description("bell\u{7}"),
            &["description"],
        ),
        // grant_types.
        (
            "grant_types_empty",
            web().grant_types([]),
            &["grant_types", "redirect_uris"],
        ),
        (
            "rfc6749_4_4_spa_client_credentials_refused",
            spa().grant_types([AuthorizationCode, ClientCredentials]),
            &["grant_types"],
        ),
        (
            "rfc6749_4_3_native_password_refused",
            native().grant_types([AuthorizationCode, Password]),
            &["grant_types"],
        ),
        (
            "rfc6749_4_2_implicit_when_asked_spa_valid",
            spa().grant_types([Implicit]),
            &[],
        ),
        (
            "rfc6749_4_2_implicit_when_asked_web_valid",
            web().grant_types([AuthorizationCode, Implicit]),
            &[],
        ),
        (
            "rfc6749_4_2_implicit_for_resource_owner_refused",
            resource_owner()
                .grant_types([Password, Implicit])
                .redirect_uri("https://legacy.example/cb"),
            &["grant_types"],
        ),
        (
            "rfc6749_4_2_implicit_for_m2m_refused",
            m2m()
                .grant_types([ClientCredentials, Implicit])
                .redirect_uri("https://svc.example/cb"),
            &["grant_types"],
        ),
        (
            "design_4_1_m2m_authorization_code_refused",
            m2m()
                .grant_types([AuthorizationCode])
                .redirect_uri("https://svc.example/cb"),
            &["grant_types"],
        ),
        (
            "rfc6749_6_refresh_without_issuing_grant_refused",
            m2m().grant_types([ClientCredentials, RefreshToken]),
            &["grant_types"],
        ),
        (
            "rfc6749_6_refresh_with_password_valid",
            resource_owner().grant_types([Password, RefreshToken]),
            &[],
        ),
        (
            "rfc6749_6_refresh_with_code_valid",
            native().grant_types([AuthorizationCode, RefreshToken]),
            &[],
        ),
        (
            "rfc6749_4_4_web_client_credentials_valid",
            web().grant_types([AuthorizationCode, ClientCredentials]),
            &[],
        ),
        // redirect_uris.
        (
            "rfc6749_3_1_2_2_redirect_required_for_code",
            NewClient::new("Billing", Web),
            &["redirect_uris"],
        ),
        (
            "rfc6749_3_1_2_2_redirect_required_for_implicit",
            NewClient::new("Dashboard", Spa).grant_types([Implicit]),
            &["redirect_uris"],
        ),
        (
            "design_4_1_m2m_redirect_refused",
            m2m().redirect_uri("https://svc.example/cb"),
            &["redirect_uris"],
        ),
        (
            "design_4_1_password_only_redirect_refused",
            resource_owner().redirect_uri("https://legacy.example/cb"),
            &["redirect_uris"],
        ),
        (
            "rfc9700_2_6_http_non_loopback_refused",
            web().redirect_uri("http://billing.example/cb"),
            &["redirect_uris[1]"],
        ),
        (
            "rfc8252_7_1_private_use_scheme_for_web_refused",
            web().redirect_uris(["com.example.billing:/cb"]),
            &["redirect_uris[0]"],
        ),
        (
            "rfc6749_3_1_2_fragment_refused",
            spa().redirect_uri("https://dash.example/cb#x"),
            &["redirect_uris[1]"],
        ),
        (
            "rfc9700_4_1_3_wildcard_refused",
            spa().redirect_uri("https://*.dash.example/cb"),
            &["redirect_uris[1]"],
        ),
        (
            "redirect_uri_duplicate_refused",
            web()
                .redirect_uri("https://billing.example/other")
                .redirect_uri("https://billing.example/cb"),
            &["redirect_uris[2]"],
        ),
        (
            "redirect_uri_differing_by_case_not_a_duplicate",
            web().redirect_uri("https://billing.example/CB"),
            &[],
        ),
        // scopes.
        (
            "design_4_1_scopes_empty_valid",
            web().scopes(Vec::<String>::new()),
            &[],
        ),
        ("design_4_1_scopes_all_valid", web().all_scopes(), &[]),
        (
            "design_4_1_scopes_listed_valid",
            web().scopes(["openid", "invoices:read", "openid"]),
            &[],
        ),
        (
            "design_4_1_scope_unknown",
            web().scopes(["openid", "admin"]),
            &["scopes"],
        ),
        (
            "rfc6749_3_3_scope_malformed",
            web().scopes(["two words"]),
            &["scopes"],
        ),
        ("rfc6749_3_3_scope_empty", web().scopes([""]), &["scopes"]),
        // token_endpoint_auth_method.
        (
            "rfc6749_2_3_1_web_client_secret_post_valid",
            web().auth_method(TokenEndpointAuthMethod::ClientSecretPost),
            &[],
        ),
        (
            "rfc6749_2_1_spa_with_secret_method_refused",
            spa().auth_method(TokenEndpointAuthMethod::ClientSecretBasic),
            &["token_endpoint_auth_method"],
        ),
        (
            "rfc6749_2_1_native_with_secret_post_refused",
            native().auth_method(TokenEndpointAuthMethod::ClientSecretPost),
            &["token_endpoint_auth_method"],
        ),
        (
            "rfc6749_2_1_web_with_none_refused",
            web().auth_method(TokenEndpointAuthMethod::None),
            &["token_endpoint_auth_method"],
        ),
        (
            "rfc6749_2_1_m2m_with_none_refused",
            m2m().auth_method(TokenEndpointAuthMethod::None),
            &["token_endpoint_auth_method"],
        ),
        // Lifetimes.
        (
            "access_lifetime_bounds_valid",
            web()
                .access_token_lifetime_secs(300)
                .refresh_token_lifetime_secs(300),
            &[],
        ),
        (
            "access_lifetime_max_valid",
            web().access_token_lifetime_secs(172_800),
            &[],
        ),
        (
            "access_lifetime_too_short",
            web().access_token_lifetime_secs(299),
            &["access_token_lifetime_secs"],
        ),
        (
            "access_lifetime_too_long",
            web().access_token_lifetime_secs(172_801),
            &["access_token_lifetime_secs"],
        ),
        (
            "refresh_lifetime_max_valid",
            web().refresh_token_lifetime_secs(31_536_000),
            &[],
        ),
        (
            "refresh_lifetime_too_short",
            web().refresh_token_lifetime_secs(299),
            &["refresh_token_lifetime_secs"],
        ),
        (
            "refresh_lifetime_too_long",
            web().refresh_token_lifetime_secs(31_536_001),
            &["refresh_token_lifetime_secs"],
        ),
        (
            "refresh_lifetime_shorter_than_access",
            web()
                .access_token_lifetime_secs(7200)
                .refresh_token_lifetime_secs(3600),
            &["refresh_token_lifetime_secs"],
        ),
        // roles.
        (
            "roles_for_m2m_valid",
            m2m()
                .role("auditor", None)
                .role("auditor", Some("emea"))
                .role("reader", Some("emea")),
            &[],
        ),
        (
            "roles_for_web_refused",
            web().role("auditor", None),
            &["roles"],
        ),
        (
            "roles_for_native_refused",
            native().role("auditor", None),
            &["roles"],
        ),
        ("role_empty", m2m().role("", None), &["roles[0]"]),
        (
            "role_with_space",
            m2m().role("ok", None).role("two words", None),
            &["roles[1]"],
        ),
        (
            "role_division_empty",
            m2m().role("auditor", Some("")),
            &["roles[0]"],
        ),
        (
            "role_and_division_both_invalid",
            m2m().role("a\"b", Some("c\\d")),
            &["roles[0]", "roles[0]"],
        ),
        (
            "role_too_long",
            m2m().role("r".repeat(129), None),
            &["roles[0]"],
        ),
        (
            "role_duplicate_home_division",
            m2m().role("auditor", None).role("auditor", None),
            &["roles[1]"],
        ),
        (
            "role_duplicate_same_division",
            m2m()
                .role("auditor", Some("emea"))
                .role("reader", None)
                .role("auditor", Some("emea")),
            &["roles[2]"],
        ),
        // Everything at once.
        (
            "all_problems_reported_at_once",
            many_mistakes,
            &[
                "client_id",
                "name",
                "description",
                "grant_types",
                "redirect_uris[1]",
                "redirect_uris[2]",
                "redirect_uris[3]",
                "scopes",
                "scopes",
                "token_endpoint_auth_method",
                "access_token_lifetime_secs",
                "refresh_token_lifetime_secs",
                "roles",
            ],
        ),
    ];

    let catalog = catalog();
    assert!(cases.len() >= 25);
    for (name, builder, expected) in cases {
        let result = builder.build(&catalog);
        assert_eq!(fields(&result), expected, "case {name}: {result:?}");
    }
}

fn reasons(builder: NewClient) -> Vec<FieldErrorReason> {
    builder
        .build(&catalog())
        .unwrap_err()
        .into_iter()
        .map(|error| error.reason)
        .collect()
}

#[test]
fn reasons_are_structured() {
    assert_eq!(reasons(web().name(" ")), [FieldErrorReason::Required]);
    assert_eq!(
        reasons(web().name("x".repeat(101))),
        [FieldErrorReason::TooLong { max: 100 }]
    );
    assert_eq!(
        reasons(spa().grant_types([AuthorizationCode, ClientCredentials])),
        [FieldErrorReason::GrantNotAllowed {
            grant: ClientCredentials,
            kind: Spa
        }]
    );
    assert_eq!(
        reasons(m2m().grant_types([ClientCredentials, RefreshToken])),
        [FieldErrorReason::RefreshWithoutIssuingGrant]
    );
    assert_eq!(
        reasons(web().redirect_uri("http://billing.example/cb")),
        [FieldErrorReason::InvalidRedirectUri(
            RedirectUriError::InsecureHttp
        )]
    );
    assert_eq!(
        reasons(web().scopes(["openid", "admin"])),
        [FieldErrorReason::InvalidScope(ScopeError::Unknown {
            scope: Scope::new("admin").unwrap()
        })]
    );
    assert_eq!(
        reasons(web().auth_method(TokenEndpointAuthMethod::None)),
        [FieldErrorReason::AuthMethodNotAllowed {
            method: TokenEndpointAuthMethod::None,
            kind: Web
        }]
    );
    assert_eq!(
        reasons(web().access_token_lifetime_secs(1)),
        [FieldErrorReason::LifetimeOutOfRange {
            min: 300,
            max: 172_800
        }]
    );
    assert_eq!(
        reasons(
            web()
                .access_token_lifetime_secs(7200)
                .refresh_token_lifetime_secs(3600)
        ),
        [FieldErrorReason::RefreshShorterThanAccess { access: 7200 }]
    );
    assert_eq!(
        reasons(web().role("auditor", None)),
        [FieldErrorReason::RolesNotAllowed { kind: Web }]
    );
}

#[test]
fn validation_errors_display_lists_every_problem() {
    let errors = NewClient::new("", Web)
        .scopes(["admin"])
        .access_token_lifetime_secs(1)
        .build(&catalog())
        .unwrap_err();
    assert_eq!(
        errors.to_string(),
        "invalid client: name: must not be empty; \
         redirect_uris: at least one redirect uri is required for authorization_code and implicit; \
         scopes: unknown scope admin; \
         access_token_lifetime_secs: must be between 300 and 172800 seconds"
    );
    assert_eq!(errors.errors().len(), 4);
}

#[test]
fn design_4_1_defaults_are_applied() {
    let catalog = catalog();
    let cases = [
        (web(), TokenEndpointAuthMethod::ClientSecretBasic, true),
        (spa(), TokenEndpointAuthMethod::None, false),
        (native(), TokenEndpointAuthMethod::None, false),
        (m2m(), TokenEndpointAuthMethod::ClientSecretBasic, true),
        (
            resource_owner(),
            TokenEndpointAuthMethod::ClientSecretBasic,
            true,
        ),
    ];
    for (builder, method, has_secret) in cases {
        let IssuedClient { client, secret } = builder.build(&catalog).unwrap();
        let kind = client.kind;
        assert_eq!(client.grant_types, kind.default_grant_types(), "{kind}");
        assert!(
            !client.allows_grant(Implicit),
            "{kind}: implicit is never a default"
        );
        assert_eq!(client.auth_method, method, "{kind}");
        assert_eq!(
            secret.is_some(),
            has_secret,
            "{kind}: secret only if confidential"
        );
        assert_eq!(client.secret_hash.is_some(), has_secret, "{kind}");
        if let Some(secret) = secret {
            assert!(client.verify_secret(secret.expose_secret()));
        }
        assert_eq!(client.access_token_lifetime_secs, 3600);
        assert_eq!(client.refresh_token_lifetime_secs, 1_209_600);
        assert_eq!(client.allowed_scopes, AllowedScopes::default());
        assert_eq!(client.id.as_str().len(), 22, "generated id");
        assert!(!client.revoked && !client.introspect_any && client.roles.is_empty());
    }
}

#[test]
fn build_stores_normalised_values() {
    let issued = NewClient::new("  Billing  ", Native)
        .description("  For the billing team.\n")
        .redirect_uris(["http://127.0.0.1/cb", "com.example.billing:/cb"])
        .scopes(["profile", "openid", "profile"])
        .introspect_any(true)
        .build(&catalog())
        .unwrap();
    let client = issued.client;
    assert_eq!(client.name, "Billing");
    assert_eq!(client.description, "For the billing team.");
    assert_eq!(
        client.allowed_scopes,
        AllowedScopes::List(ScopeSet::parse("openid profile").unwrap())
    );
    assert_eq!(client.redirect_uris.len(), 2);
    assert_eq!(client.redirect_uris[0].rule(), MatchRule::LoopbackAnyPort);
    assert_eq!(client.redirect_uris[1].rule(), MatchRule::Exact);
    assert!(client.introspect_any);

    let all = web().all_scopes().build(&catalog()).unwrap().client;
    assert_eq!(all.allowed_scopes, AllowedScopes::All);
}

#[test]
fn from_client_keeps_id_and_secret_and_issues_none() {
    let catalog = catalog();
    let IssuedClient { client, secret } = web().scopes(["openid"]).build(&catalog).unwrap();
    let secret = secret.unwrap();

    let edited = NewClient::from_client(&client)
        .name("Billing v2")
        .redirect_uri("https://billing.example/v2/cb")
        .build(&catalog)
        .unwrap();
    assert!(edited.secret.is_none(), "editing issues no new secret");
    assert_eq!(edited.client.id, client.id);
    assert_eq!(edited.client.secret_hash, client.secret_hash);
    assert!(edited.client.verify_secret(secret.expose_secret()));
    assert_eq!(edited.client.name, "Billing v2");
    assert_eq!(edited.client.redirect_uris.len(), 2);

    // Reopening without changes reproduces the client.
    let same = NewClient::from_client(&client).build(&catalog).unwrap();
    assert_eq!(same.client, client);
    assert!(same.secret.is_none());
}

#[test]
fn from_client_edits_are_validated() {
    let catalog = catalog();
    let client = web().all_scopes().build(&catalog).unwrap().client;
    let errors = NewClient::from_client(&client)
        .access_token_lifetime_secs(10)
        .redirect_uris(Vec::<String>::new())
        .build(&catalog)
        .unwrap_err();
    let fields: Vec<String> = errors.iter().map(|e| e.field.to_string()).collect();
    assert_eq!(fields, ["redirect_uris", "access_token_lifetime_secs"]);
}

#[test]
fn from_client_keeps_revoked_and_roles() {
    let catalog = catalog();
    let mut client = m2m()
        .role("auditor", Some("emea"))
        .build(&catalog)
        .unwrap()
        .client;
    client.revoked = true;
    let edited = NewClient::from_client(&client)
        .build(&catalog)
        .unwrap()
        .client;
    assert!(edited.revoked);
    assert_eq!(edited.roles, client.roles);
    let restored = NewClient::from_client(&client)
        .revoked(false)
        .build(&catalog)
        .unwrap()
        .client;
    assert!(!restored.revoked);
}

#[test]
fn changing_kind_moves_the_secret() {
    let catalog = catalog();
    // Public → confidential: a secret is needed, and issued.
    let spa_client = spa().build(&catalog).unwrap().client;
    let issued = NewClient::from_client(&spa_client)
        .kind(Web)
        .auth_method(TokenEndpointAuthMethod::ClientSecretBasic)
        .build(&catalog)
        .unwrap();
    let secret = issued.secret.unwrap();
    assert!(issued.client.verify_secret(secret.expose_secret()));

    // Confidential → public: the hash is dropped.
    let public = NewClient::from_client(&issued.client)
        .kind(Spa)
        .auth_method(TokenEndpointAuthMethod::None)
        .build(&catalog)
        .unwrap();
    assert!(public.secret.is_none());
    assert_eq!(public.client.secret_hash, None);

    // A kind change that leaves the reopened auth method unsuitable is reported.
    let errors = NewClient::from_client(&spa_client)
        .kind(Web)
        .build(&catalog)
        .unwrap_err();
    assert_eq!(errors.errors()[0].field, Field::TokenEndpointAuthMethod);
}

#[test]
fn builder_defaults_follow_a_kind_change() {
    let client = NewClient::new("Exporter", Web)
        .kind(Machine)
        .build(&catalog())
        .unwrap()
        .client;
    assert_eq!(client.grant_types, Machine.default_grant_types());
    assert_eq!(
        client.auth_method,
        TokenEndpointAuthMethod::ClientSecretBasic
    );
}

#[test]
fn oversized_input_is_rejected_without_panicking() {
    let huge = "x".repeat(100_000);
    let result = NewClient::new(huge.as_str(), Native)
        .client_id(huge.as_str())
        .description(huge.as_str())
        .redirect_uri(huge.as_str())
        .scopes([huge.as_str()])
        .build(&catalog());
    assert_eq!(
        fields(&result),
        [
            "client_id",
            "name",
            "description",
            "redirect_uris[0]",
            "scopes"
        ]
    );
}

#[test]
fn rp_initiated_logout_3_post_logout_redirect_uris_follow_redirect_rules() {
    let catalog = ScopeCatalog::with_oidc_scopes();
    let errors = NewClient::new("Web", ClientKind::Web)
        .redirect_uri("https://app.example/cb")
        .post_logout_redirect_uris([
            "https://app.example/bye",
            "http://app.example/bye",
            "https://app.example/bye",
            "https://app.example/bye#frag",
        ])
        .build(&catalog)
        .unwrap_err();
    let fields: Vec<String> = errors
        .errors()
        .iter()
        .map(|e| e.field.to_string())
        .collect();
    assert_eq!(
        fields,
        [
            "post_logout_redirect_uris[1]",
            "post_logout_redirect_uris[2]",
            "post_logout_redirect_uris[3]"
        ]
    );
    let client = NewClient::new("Web", ClientKind::Web)
        .redirect_uri("https://app.example/cb")
        .post_logout_redirect_uri("https://app.example/bye")
        .access_token_format(AccessTokenFormat::Jwt)
        .build(&catalog)
        .unwrap()
        .client;
    assert!(
        client
            .match_post_logout_redirect_uri("https://app.example/bye")
            .is_some()
    );
    assert!(
        client
            .match_post_logout_redirect_uri("https://app.example/bye/")
            .is_none()
    );
    let reopened = NewClient::from_client(&client)
        .build(&catalog)
        .unwrap()
        .client;
    assert_eq!(reopened, client);
}

fn ed25519_jwks() -> serde_json::Value {
    serde_json::json!({"keys": [{"kty": "OKP", "crv": "Ed25519",
        "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]})
}

/// Registration rules for client keys (RFC 7591 §2, RFC 7523 §2.2) and pairwise sectors
/// (OpenID Connect Core §8.1): each row is a client and the one error it must get.
#[test]
fn keys_and_sectors_negative_table() {
    use crate::client::SubjectType::Pairwise;
    use crate::client::TokenEndpointAuthMethod::{ClientSecretBasic, PrivateKeyJwt};
    let private = serde_json::json!({"keys": [{"kty": "EC", "crv": "P-256",
        "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
        "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
        "d": "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"}]});
    let rows: Vec<(&str, NewClient, Field, FieldErrorReason)> = vec![
        (
            "rfc7523_private_key_jwt_needs_keys",
            m2m().auth_method(PrivateKeyJwt),
            Field::Jwks,
            FieldErrorReason::KeysRequired,
        ),
        (
            "rfc7591_2_jwks_and_jwks_uri_not_both",
            m2m()
                .auth_method(PrivateKeyJwt)
                .jwks(ed25519_jwks())
                .jwks_uri("https://keys.example/jwks.json"),
            Field::Jwks,
            FieldErrorReason::KeysTwice,
        ),
        (
            "rfc7591_2_jwks_holds_public_keys_only",
            m2m().auth_method(PrivateKeyJwt).jwks(private),
            Field::Jwks,
            FieldErrorReason::InvalidJwks,
        ),
        (
            "rfc7591_2_jwks_is_a_set",
            m2m()
                .auth_method(PrivateKeyJwt)
                .jwks(serde_json::json!({"kty": "OKP"})),
            Field::Jwks,
            FieldErrorReason::InvalidJwks,
        ),
        (
            "rfc7591_2_jwks_not_empty",
            m2m()
                .auth_method(PrivateKeyJwt)
                .jwks(serde_json::json!({"keys": []})),
            Field::Jwks,
            FieldErrorReason::InvalidJwks,
        ),
        (
            "jwks_uri_https_only",
            m2m()
                .auth_method(PrivateKeyJwt)
                .jwks_uri("http://keys.example/jwks.json"),
            Field::JwksUri,
            FieldErrorReason::NotHttpsUrl,
        ),
        (
            "oidc_core_8_1_several_hosts_need_a_sector",
            web()
                .redirect_uri("https://other.example/cb")
                .subject_type(Pairwise),
            Field::SectorIdentifierUri,
            FieldErrorReason::SectorRequired,
        ),
        (
            "oidc_core_8_1_sector_uri_https",
            web()
                .subject_type(Pairwise)
                .sector_identifier_uri("http://billing.example/sector.json"),
            Field::SectorIdentifierUri,
            FieldErrorReason::NotHttpsUrl,
        ),
        (
            "oidc_core_8_1_sector_uri_no_fragment",
            web()
                .subject_type(Pairwise)
                .sector_identifier_uri("https://billing.example/sector.json#x"),
            Field::SectorIdentifierUri,
            FieldErrorReason::NotHttpsUrl,
        ),
        (
            "oidc_core_8_1_sector_uri_absolute",
            web()
                .subject_type(Pairwise)
                .sector_identifier_uri("/sector.json"),
            Field::SectorIdentifierUri,
            FieldErrorReason::NotHttpsUrl,
        ),
        (
            "rfc6749_2_1_secret_method_for_public_client",
            spa().auth_method(ClientSecretBasic),
            Field::TokenEndpointAuthMethod,
            FieldErrorReason::AuthMethodNotAllowed {
                method: ClientSecretBasic,
                kind: Spa,
            },
        ),
        (
            "rfc6749_2_1_key_method_for_public_client",
            spa().auth_method(PrivateKeyJwt).jwks(ed25519_jwks()),
            Field::TokenEndpointAuthMethod,
            FieldErrorReason::AuthMethodNotAllowed {
                method: PrivateKeyJwt,
                kind: Spa,
            },
        ),
    ];
    for (row, client, field, reason) in rows {
        let errors = client.build(&catalog()).expect_err(row);
        let errors: Vec<FieldError> = errors.iter().cloned().collect();
        assert_eq!(errors, [FieldError::new(field, reason)], "{row}");
    }
}

#[test]
fn private_key_jwt_clients_get_keys_not_secrets() {
    use crate::client::TokenEndpointAuthMethod::{ClientSecretJwt, PrivateKeyJwt};
    let issued = m2m()
        .auth_method(PrivateKeyJwt)
        .jwks(ed25519_jwks())
        .sealed_secret("sealed")
        .build(&catalog())
        .unwrap();
    assert!(issued.secret.is_none() && issued.client.secret_hash.is_none());
    assert_eq!(
        issued.client.sealed_secret, None,
        "only client_secret_jwt keeps one"
    );
    let reopened = NewClient::from_client(&issued.client)
        .build(&catalog())
        .unwrap();
    assert_eq!(reopened.client.jwks, Some(ed25519_jwks()));

    let hmac = m2m()
        .auth_method(ClientSecretJwt)
        .sealed_secret("sealed")
        .build(&catalog())
        .unwrap();
    assert!(
        hmac.secret.is_some(),
        "client_secret_jwt clients have a secret"
    );
    assert_eq!(hmac.client.sealed_secret.as_deref(), Some("sealed"));
    let mut rotated = hmac.client.clone();
    rotated.rotate_secret().unwrap();
    assert_eq!(
        rotated.sealed_secret, None,
        "a new secret drops the old sealed copy"
    );
}

#[test]
fn pairwise_sector_is_the_redirect_host_or_the_sector_uri() {
    use crate::client::SubjectType::Pairwise;
    let by_host = web()
        .subject_type(Pairwise)
        .build(&catalog())
        .unwrap()
        .client;
    assert_eq!(
        by_host.sector_identifier().as_deref(),
        Some("billing.example")
    );
    let by_uri = web()
        .redirect_uri("https://other.example/cb")
        .subject_type(Pairwise)
        .sector_identifier_uri("https://sector.example/uris.json")
        .build(&catalog())
        .unwrap()
        .client;
    assert_eq!(
        by_uri.sector_identifier().as_deref(),
        Some("sector.example")
    );
}
