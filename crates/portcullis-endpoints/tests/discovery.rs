//! Discovery documents: OpenID Connect Discovery 1.0 §3 and RFC 8414 §2. Every REQUIRED
//! member is present, and every value says what the provider actually does.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod support;

use std::collections::BTreeSet;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response};
use portcullis_endpoints::{Paths, Provider, ProviderMetadata};
use portcullis_registry::GrantType;
use portcullis_store::MemoryStore;
use portcullis_tokens::{KeySet, SigningAlgorithm, SigningKey};
use serde_json::Value;
use support::*;

const OPENID_CONFIGURATION: &str = "/.well-known/openid-configuration";
const OAUTH_METADATA: &str = "/.well-known/oauth-authorization-server";

/// OpenID Connect Discovery 1.0 §3, the members marked REQUIRED (`token_endpoint` is
/// required "unless only the Implicit Flow is used", which is not the case here).
const OIDC_REQUIRED: [&str; 7] = [
    "issuer",
    "authorization_endpoint",
    "token_endpoint",
    "jwks_uri",
    "response_types_supported",
    "subject_types_supported",
    "id_token_signing_alg_values_supported",
];

/// RFC 8414 §2, the members marked REQUIRED (`authorization_endpoint` "unless no grant
/// types are supported that use the authorization endpoint", `token_endpoint` "unless only
/// the implicit grant type is supported": neither exception applies).
const RFC8414_REQUIRED: [&str; 4] = [
    "issuer",
    "authorization_endpoint",
    "token_endpoint",
    "response_types_supported",
];

/// Members this provider promises beyond the required ones (RECOMMENDED in Discovery §3,
/// or what clients rely on: DESIGN §4.1, RFC 9207 §3).
const PROMISED: [&str; 17] = [
    "userinfo_endpoint",
    "end_session_endpoint",
    "revocation_endpoint",
    "introspection_endpoint",
    "scopes_supported",
    "response_modes_supported",
    "grant_types_supported",
    "token_endpoint_auth_methods_supported",
    "revocation_endpoint_auth_methods_supported",
    "introspection_endpoint_auth_methods_supported",
    "code_challenge_methods_supported",
    "claims_supported",
    "authorization_response_iss_parameter_supported",
    "request_parameter_supported",
    "request_uri_parameter_supported",
    "claims_parameter_supported",
    "prompt_values_supported",
];

async fn fetch(provider: &Provider, path: &str) -> Value {
    let request = get(path);
    let response = if path.starts_with(OPENID_CONFIGURATION) || path.ends_with(OPENID_CONFIGURATION)
    {
        provider.openid_configuration(request).await
    } else {
        provider.authorization_server_metadata(request).await
    };
    assert_public_json(&response, path);
    json(&response)
}

fn assert_public_json(response: &Response<Bytes>, what: &str) {
    assert_eq!(response.status(), 200, "{what}");
    assert_eq!(
        header(response, "content-type"),
        Some("application/json"),
        "{what}"
    );
    assert_eq!(
        header(response, "cache-control"),
        Some("public, max-age=300"),
        "{what}"
    );
    assert_eq!(
        header(response, "access-control-allow-origin"),
        Some("*"),
        "{what}"
    );
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect()
}

/// Both documents carry every REQUIRED member of both specifications, and are the same.
#[tokio::test]
async fn oidc_discovery_3_and_rfc8414_2_required_members() {
    let h = Harness::new().await;
    let oidc = fetch(&h.provider, OPENID_CONFIGURATION).await;
    let oauth = fetch(&h.provider, OAUTH_METADATA).await;
    assert_eq!(oidc, oauth, "one document at both locations");
    for (spec, required) in [
        ("OpenID Connect Discovery 1.0 §3", &OIDC_REQUIRED[..]),
        ("RFC 8414 §2", &RFC8414_REQUIRED[..]),
        ("promised", &PROMISED[..]),
    ] {
        for member in required {
            let value = oidc
                .get(*member)
                .unwrap_or_else(|| panic!("{spec}: {member} missing from {oidc}"));
            assert!(!value.is_null(), "{spec}: {member} is null");
            if let Some(array) = value.as_array() {
                assert!(!array.is_empty(), "{spec}: {member} is empty");
            }
        }
    }
    // RFC 8414 §2 / Discovery §3: endpoints are absolute https URLs.
    for member in [
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "userinfo_endpoint",
        "end_session_endpoint",
        "revocation_endpoint",
        "introspection_endpoint",
    ] {
        let url = url::Url::parse(oidc[member].as_str().unwrap()).unwrap();
        assert_eq!(url.scheme(), "https", "{member}");
        assert!(
            url.query().is_none() && url.fragment().is_none(),
            "{member}"
        );
    }
}

/// The values are the provider's: issuer, endpoints at its paths, its grants, catalog,
/// keys and policy.
#[tokio::test]
async fn discovery_values_match_the_provider() {
    let h = Harness::new().await;
    let doc = fetch(&h.provider, OPENID_CONFIGURATION).await;
    assert_eq!(doc["issuer"], ISSUER, "DESIGN §4.1: exactly the issuer");
    let endpoints = [
        ("authorization_endpoint", "/oauth/authorize"),
        ("token_endpoint", "/oauth/token"),
        ("jwks_uri", "/oauth/jwks"),
        ("userinfo_endpoint", "/oauth/userinfo"),
        ("end_session_endpoint", "/oauth/logout"),
        ("revocation_endpoint", "/oauth/revoke"),
        ("introspection_endpoint", "/oauth/introspect"),
    ];
    for (member, path) in endpoints {
        assert_eq!(doc[member], format!("{ISSUER}{path}"), "{member}");
    }

    let scopes: BTreeSet<&str> = strings(&doc["scopes_supported"]).into_iter().collect();
    for scope in [
        "openid",
        "profile",
        "email",
        "address",
        "phone",
        "offline_access",
    ]
    .into_iter()
    .chain(APP_SCOPES)
    {
        assert!(scopes.contains(scope), "{scope} in {scopes:?}");
    }

    let mut grants: Vec<&str> = h.provider.grant_types().collect();
    grants.push("implicit");
    grants.sort_unstable();
    let mut advertised = strings(&doc["grant_types_supported"]);
    advertised.sort_unstable();
    assert_eq!(advertised, grants);
    assert!(
        advertised.contains(&"password"),
        "an Authenticator is configured"
    );

    assert_eq!(
        strings(&doc["response_types_supported"]),
        [
            "code",
            "token",
            "id_token",
            "id_token token",
            "code id_token"
        ]
    );
    assert_eq!(
        strings(&doc["response_modes_supported"]),
        ["query", "fragment", "form_post"]
    );
    assert_eq!(strings(&doc["subject_types_supported"]), ["public"]);
    assert_eq!(
        strings(&doc["id_token_signing_alg_values_supported"]),
        ["ES256"],
        "DESIGN §4.1: ES256 by default"
    );
    assert_eq!(
        strings(&doc["token_endpoint_auth_methods_supported"]),
        ["client_secret_basic", "client_secret_post", "none"]
    );
    for member in [
        "revocation_endpoint_auth_methods_supported",
        "introspection_endpoint_auth_methods_supported",
    ] {
        assert_eq!(
            strings(&doc[member]),
            ["client_secret_basic", "client_secret_post"],
            "{member}"
        );
    }
    assert_eq!(strings(&doc["code_challenge_methods_supported"]), ["S256"]);
    let claims = strings(&doc["claims_supported"]);
    for claim in [
        "sub",
        "iss",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "at_hash",
        "c_hash",
        "amr",
        "name",
        "family_name",
        "given_name",
        "middle_name",
        "nickname",
        "preferred_username",
        "profile",
        "picture",
        "website",
        "gender",
        "birthdate",
        "zoneinfo",
        "locale",
        "updated_at",
        "email",
        "email_verified",
        "address",
        "phone_number",
        "phone_number_verified",
    ] {
        assert!(claims.contains(&claim), "{claim}");
    }
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    assert_eq!(doc["request_parameter_supported"], false);
    assert_eq!(doc["request_uri_parameter_supported"], false);
    assert_eq!(doc["claims_parameter_supported"], false);

    // Disabling a grant takes it out of the document.
    let h = Harness::with(|b| b.disable_grant(GrantType::ClientCredentials)).await;
    let doc = fetch(&h.provider, OPENID_CONFIGURATION).await;
    assert!(!strings(&doc["grant_types_supported"]).contains(&"client_credentials"));
}

/// RFC 7636 / RFC 8414 §2: `plain` is advertised only when the policy allows it.
#[tokio::test]
async fn rfc8414_2_plain_pkce_only_when_allowed() {
    let h = Harness::with(|b| b.insecure_allow_plain_pkce()).await;
    let doc = fetch(&h.provider, OPENID_CONFIGURATION).await;
    assert_eq!(
        strings(&doc["code_challenge_methods_supported"]),
        ["S256", "plain"]
    );
}

/// `id_token_signing_alg_values_supported` lists the published keys' algorithms, the
/// active key's first, and never `none`.
#[tokio::test]
async fn oidc_discovery_3_signing_algorithms_follow_the_keys() {
    let cases = [
        (SigningAlgorithm::ES256, vec![], vec!["ES256"]),
        (SigningAlgorithm::RS256, vec![], vec!["RS256"]),
        (
            SigningAlgorithm::EdDSA,
            vec![SigningAlgorithm::ES256],
            vec!["EdDSA", "ES256"],
        ),
    ];
    for (active, retired, expected) in cases {
        let retired = retired
            .into_iter()
            .map(|alg| SigningKey::generate(alg).unwrap().public_key().clone());
        let keys = KeySet::with_retired(SigningKey::generate(active).unwrap(), retired);
        let h = Harness::with(|b| b.signing_keys(keys)).await;
        let doc = fetch(&h.provider, OPENID_CONFIGURATION).await;
        let algs = strings(&doc["id_token_signing_alg_values_supported"]);
        assert_eq!(algs, expected);
        assert!(!algs.iter().any(|alg| alg.eq_ignore_ascii_case("none")));
    }

    // A rotation shows at once.
    let h = Harness::new().await;
    h.provider
        .rotate_signing_key(SigningAlgorithm::EdDSA)
        .await
        .unwrap();
    let doc = fetch(&h.provider, OPENID_CONFIGURATION).await;
    assert_eq!(
        strings(&doc["id_token_signing_alg_values_supported"]),
        ["EdDSA", "ES256"]
    );
}

/// Custom paths and an issuer with a path: endpoints follow the paths, and the documents'
/// own locations follow Discovery §4 and RFC 8414 §3.1.
#[tokio::test]
async fn discovery_follows_paths_and_issuer_path() {
    let mut paths = Paths::default();
    paths.token = "/connect/token".into();
    paths.end_session = "/connect/end-session".into();
    let provider = Provider::builder("https://id.example/tenant-a", Arc::new(MemoryStore::new()))
        .paths(paths)
        .build()
        .unwrap();
    assert_eq!(
        provider.openid_configuration_path(),
        "/tenant-a/.well-known/openid-configuration"
    );
    assert_eq!(
        provider.authorization_server_metadata_path(),
        "/.well-known/oauth-authorization-server/tenant-a"
    );
    let doc = fetch(&provider, &provider.openid_configuration_path()).await;
    assert_eq!(doc["issuer"], "https://id.example/tenant-a");
    assert_eq!(
        doc["token_endpoint"],
        "https://id.example/tenant-a/connect/token"
    );
    assert_eq!(
        doc["end_session_endpoint"],
        "https://id.example/tenant-a/connect/end-session"
    );

    let h = Harness::new().await;
    assert_eq!(h.provider.openid_configuration_path(), OPENID_CONFIGURATION);
    assert_eq!(
        h.provider.authorization_server_metadata_path(),
        OAUTH_METADATA
    );
}

/// GET and HEAD only; the typed metadata reads the document back.
#[tokio::test]
async fn discovery_methods_and_typed_metadata() {
    let h = Harness::new().await;
    let head = Request::head(OPENID_CONFIGURATION)
        .body(Bytes::new())
        .unwrap();
    let response = h.provider.openid_configuration(head).await;
    assert_public_json(&response, "HEAD");
    assert!(response.body().is_empty());

    for method in ["POST", "PUT", "DELETE"] {
        let request = || {
            Request::builder()
                .method(method)
                .uri(OPENID_CONFIGURATION)
                .body(Bytes::new())
                .unwrap()
        };
        for response in [
            h.provider.openid_configuration(request()).await,
            h.provider.authorization_server_metadata(request()).await,
        ] {
            assert_eq!(response.status(), 405, "{method}");
            assert_eq!(header(&response, "allow"), Some("GET, HEAD"));
        }
    }

    let doc = fetch(&h.provider, OPENID_CONFIGURATION).await;
    let typed: ProviderMetadata = serde_json::from_value(doc.clone()).unwrap();
    assert_eq!(typed, h.provider.provider_metadata().await.unwrap());
    assert_eq!(serde_json::to_value(&typed).unwrap(), doc);
    assert!(!typed.request_uri_parameter_supported);

    // Discovery §3: `request_uri_parameter_supported` defaults to true when absent.
    let minimal: ProviderMetadata = serde_json::from_value(serde_json::json!({
        "issuer": "https://op.example",
        "authorization_endpoint": "https://op.example/authorize",
        "token_endpoint": "https://op.example/token",
        "jwks_uri": "https://op.example/jwks",
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }))
    .unwrap();
    assert!(minimal.request_uri_parameter_supported);
    assert!(!minimal.authorization_response_iss_parameter_supported);
}
