#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use portcullis_registry::{ClientKind, GrantType, ScopeCatalog, TokenEndpointAuthMethod};

use super::metadata::{Metadata, client_metadata};
use super::*;

fn metadata(json: &str) -> Metadata {
    Metadata::from_json(json.as_bytes()).expect("valid metadata")
}

fn metadata_error(json: &str) -> String {
    match Metadata::from_json(json.as_bytes()) {
        Err(RegistrationError::InvalidClientMetadata(description)) => description,
        other => panic!("expected invalid_client_metadata for {json}, got {other:?}"),
    }
}

/// RFC 7591 §2: "The authorization server MUST ignore any client metadata sent by the
/// client that it does not understand."
#[test]
fn rfc7591_2_unknown_metadata_is_ignored() {
    let parsed = metadata(
        r#"{"client_name": "Reports", "logo_uri": "https://x.example/l.png",
            "software_statement": 42, "client_name#ja-Jpan-JP": "レポート", "x-custom": [1, 2]}"#,
    );
    assert_eq!(parsed.client_name.as_deref(), Some("Reports"));
}

/// RFC 7592 §2.2: "The authorization server MAY ignore any null or empty value"; a `null`
/// member is treated as absent.
#[test]
fn rfc7592_2_2_null_members_are_absent() {
    let parsed = metadata(r#"{"client_name": null, "grant_types": null, "jwks_uri": null}"#);
    assert!(parsed.client_name.is_none());
    assert!(parsed.grant_types.is_none());
    assert!(parsed.jwks_uri.is_none());
}

/// RFC 7591 §2 defaults: `authorization_code`, `client_secret_basic`; OpenID Connect
/// Registration §2: `application_type` `web`. Native apps default to `none` here.
#[test]
fn rfc7591_2_defaults() {
    let parsed = metadata("{}");
    assert_eq!(parsed.grant_types(), [GrantType::AuthorizationCode].into());
    assert_eq!(
        parsed.auth_method(),
        TokenEndpointAuthMethod::ClientSecretBasic
    );
    assert_eq!(parsed.kind().unwrap(), ClientKind::Web);
    let native = metadata(r#"{"application_type": "native"}"#);
    assert_eq!(native.auth_method(), TokenEndpointAuthMethod::None);
    assert_eq!(native.kind().unwrap(), ClientKind::Native);
}

/// The kind mapping documented on `Metadata::kind`.
#[test]
fn kind_from_application_type_and_auth_method() {
    let cases = [
        (
            r#"{"token_endpoint_auth_method": "none"}"#,
            Some(ClientKind::Spa),
        ),
        (
            r#"{"application_type": "native", "token_endpoint_auth_method": "none"}"#,
            Some(ClientKind::Native),
        ),
        (
            r#"{"token_endpoint_auth_method": "client_secret_post"}"#,
            Some(ClientKind::Web),
        ),
        (
            r#"{"grant_types": ["client_credentials"]}"#,
            Some(ClientKind::Machine),
        ),
        (
            r#"{"grant_types": ["client_credentials", "authorization_code"]}"#,
            Some(ClientKind::Web),
        ),
        (
            r#"{"token_endpoint_auth_method": "private_key_jwt", "grant_types": ["client_credentials"]}"#,
            Some(ClientKind::Machine),
        ),
        (
            r#"{"application_type": "native", "token_endpoint_auth_method": "client_secret_basic"}"#,
            None,
        ),
    ];
    for (json, expected) in cases {
        let kind = metadata(json).kind().ok();
        assert_eq!(kind, expected, "{json}");
    }
}

/// RFC 7591 §2.1: grant types and response types must agree.
#[test]
fn rfc7591_2_1_grant_and_response_types_agree() {
    let cases = [
        (r#"{"response_types": ["code"]}"#, true),
        (r#"{"grant_types": ["client_credentials"]}"#, true),
        (
            r#"{"grant_types": ["authorization_code", "implicit"], "response_types": ["code", "id_token token"]}"#,
            true,
        ),
        (r#"{"response_types": ["token"]}"#, false),
        (r#"{"response_types": ["code id_token"]}"#, false),
        (
            r#"{"grant_types": ["implicit"], "response_types": ["code"]}"#,
            false,
        ),
        (r#"{"response_types": []}"#, false),
        (
            r#"{"grant_types": ["client_credentials"], "response_types": ["code"]}"#,
            false,
        ),
    ];
    for (json, consistent) in cases {
        let result = metadata(json).check_consistency();
        assert_eq!(result.is_ok(), consistent, "{json}: {result:?}");
    }
}

/// Every known member of the wrong JSON type, or an unknown wire value, is
/// `invalid_client_metadata` naming the member.
#[test]
fn rfc7591_3_2_2_malformed_members_name_their_field() {
    let cases = [
        (
            r#"{"redirect_uris": "https://a.example/cb"}"#,
            "redirect_uris",
        ),
        (r#"{"redirect_uris": [1]}"#, "redirect_uris"),
        (r#"{"grant_types": ["magic"]}"#, "grant_types"),
        (r#"{"response_types": ["code token"]}"#, "response_types"),
        (
            r#"{"token_endpoint_auth_method": "tls_client_auth"}"#,
            "token_endpoint_auth_method",
        ),
        (r#"{"application_type": "desktop"}"#, "application_type"),
        (r#"{"subject_type": "secret"}"#, "subject_type"),
        (r#"{"jwks": "keys"}"#, "jwks"),
        (
            r#"{"jwks": {"keys": []}, "jwks_uri": "https://a.example/jwks"}"#,
            "jwks",
        ),
        (
            r#"{"dpop_bound_access_tokens": "yes"}"#,
            "dpop_bound_access_tokens",
        ),
        (r#"{"scope": ["openid"]}"#, "scope"),
        (r#"{"client_name": 7}"#, "client_name"),
    ];
    for (json, field) in cases {
        let description = metadata_error(json);
        assert!(
            description.starts_with(&format!("{field}:")),
            "{json}: {description}"
        );
    }
    for body in ["not json", "[1, 2]", "\"text\""] {
        metadata_error(body);
    }
}

/// A client written back as metadata carries every registered value and never the secret.
#[test]
fn rfc7591_3_2_1_metadata_round_trip() {
    let catalog = ScopeCatalog::with_oidc_scopes();
    let parsed = metadata(
        r#"{"client_name": "Reports", "redirect_uris": ["https://r.example/cb"],
            "post_logout_redirect_uris": ["https://r.example/bye"],
            "grant_types": ["authorization_code", "refresh_token"],
            "scope": "openid email", "dpop_bound_access_tokens": true,
            "require_pushed_authorization_requests": true, "description": "Monthly reports"}"#,
    );
    let kind = parsed.kind().unwrap();
    let scopes = parsed.scope.clone().unwrap();
    let issued = parsed.new_client(kind, scopes).build(&catalog).unwrap();
    let written = Value::Object(client_metadata(&issued.client, &catalog));
    assert_eq!(written["client_name"], "Reports");
    assert_eq!(written["description"], "Monthly reports");
    assert_eq!(written["application_type"], "web");
    assert_eq!(written["redirect_uris"], json!(["https://r.example/cb"]));
    assert_eq!(
        written["post_logout_redirect_uris"],
        json!(["https://r.example/bye"])
    );
    assert_eq!(
        written["grant_types"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(written["response_types"], json!(["code"]));
    assert_eq!(written["scope"], "email openid");
    assert_eq!(written["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(written["subject_type"], "public");
    assert_eq!(written["dpop_bound_access_tokens"], true);
    assert_eq!(written["require_pushed_authorization_requests"], true);
    let text = written.to_string();
    assert!(!text.contains("secret_hash") && !text.contains("client_secret\""));
    // What was written reads back to the same client.
    let again = metadata(&text);
    let rebuilt = again
        .new_client(again.kind().unwrap(), again.scope.clone().unwrap())
        .build(&catalog)
        .unwrap();
    assert_eq!(
        Value::Object(client_metadata(&rebuilt.client, &catalog))["grant_types"],
        written["grant_types"]
    );
}

/// RFC 7591 §3: initial access tokens are compared by hash; any configured one works.
#[test]
fn rfc7591_3_initial_access_tokens() {
    let policy = RegistrationPolicy::initial_access_tokens(["first-token", "second-token"]);
    assert!(policy.admits(Some("first-token")));
    assert!(policy.admits(Some("second-token")));
    assert!(!policy.admits(Some("first-token ")));
    assert!(!policy.admits(Some("")));
    assert!(!policy.admits(None));
    assert!(RegistrationPolicy::open().admits(None));
    assert!(!RegistrationPolicy::initial_access_tokens(Vec::<String>::new()).admits(Some("x")));
    let debug = format!("{policy:?}");
    assert!(!debug.contains("first-token"), "{debug}");
}

/// Open registration defaults to the OpenID Connect scopes; machine clients get none.
#[test]
fn default_scopes_follow_the_policy() {
    let mut catalog = ScopeCatalog::with_oidc_scopes();
    catalog
        .insert(portcullis_registry::ScopeDefinition::new(
            portcullis_registry::Scope::new("view:users").unwrap(),
            "view",
        ))
        .unwrap();
    let open = RegistrationPolicy::open();
    let defaults = open.default_scopes(ClientKind::Web, &catalog);
    assert!(defaults.contains(&"openid".to_owned()));
    assert!(!defaults.contains(&"view:users".to_owned()));
    assert!(
        open.default_scopes(ClientKind::Machine, &catalog)
            .is_empty()
    );
    let narrow = RegistrationPolicy::open().registrable_scopes(["openid"]);
    assert_eq!(narrow.default_scopes(ClientKind::Spa, &catalog), ["openid"]);
}

/// RFC 6749 §5.2: descriptions stay within the allowed characters.
#[test]
fn descriptions_are_printable() {
    assert_eq!(printable("scope: \"x\"\u{7}é\\"), "scope: 'x'??/");
}

#[test]
fn configuration_endpoint_names_one_client() {
    let request = |uri: &str| Request::get(uri).body(Bytes::new()).unwrap();
    assert_eq!(
        configured_client(&request("/oauth/register?client_id=abc")).as_deref(),
        Some("abc")
    );
    assert_eq!(configured_client(&request("/oauth/register")), None);
    assert_eq!(
        configured_client(&request("/oauth/register?client_id=a&client_id=b")),
        None
    );
}
