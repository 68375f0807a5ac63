#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::*;
use crate::new_client::NewClient;
use crate::redirect::MatchRule;
use crate::scope::ScopeCatalog;

const ALL_KINDS: [ClientKind; 5] = [
    ClientKind::Web,
    ClientKind::Spa,
    ClientKind::Native,
    ClientKind::Machine,
    ClientKind::ResourceOwner,
];

const ALL_GRANTS: [GrantType; 9] = GrantType::ALL;

const ALL_METHODS: [TokenEndpointAuthMethod; 3] = [
    TokenEndpointAuthMethod::ClientSecretBasic,
    TokenEndpointAuthMethod::ClientSecretPost,
    TokenEndpointAuthMethod::None,
];

#[test]
fn rfc6749_2_2_client_id_rules() {
    let longest = "a".repeat(CLIENT_ID_MAX_LEN);
    let too_long = "a".repeat(CLIENT_ID_MAX_LEN + 1);
    let cases: Vec<(&str, &str, Result<(), IdentifierError>)> = vec![
        ("letters_digits", "App42", Ok(())),
        ("unreserved_punctuation", "a.b_c~d-e", Ok(())),
        ("longest", longest.as_str(), Ok(())),
        ("empty", "", Err(IdentifierError::Empty)),
        (
            "too_long",
            too_long.as_str(),
            Err(IdentifierError::TooLong {
                max: CLIENT_ID_MAX_LEN,
            }),
        ),
        (
            "space",
            "my app",
            Err(IdentifierError::InvalidCharacter { position: 2 }),
        ),
        (
            "colon_breaks_basic_auth",
            "a:b",
            Err(IdentifierError::InvalidCharacter { position: 1 }),
        ),
        (
            "slash",
            "a/b",
            Err(IdentifierError::InvalidCharacter { position: 1 }),
        ),
        (
            "percent",
            "a%20",
            Err(IdentifierError::InvalidCharacter { position: 1 }),
        ),
        (
            "non_ascii",
            "é",
            Err(IdentifierError::InvalidCharacter { position: 0 }),
        ),
    ];
    for (name, input, expected) in cases {
        assert_eq!(ClientId::new(input).map(|_| ()), expected, "case {name}");
    }
}

#[test]
fn generated_client_ids_are_128_bit_and_valid() {
    let a = ClientId::generate().unwrap();
    let b = ClientId::generate().unwrap();
    assert_ne!(a, b);
    assert_eq!(a.as_str().len(), 22);
    assert_eq!(ClientId::new(a.as_str()).unwrap(), a);
    assert_eq!(URL_SAFE_NO_PAD.decode(a.as_str()).unwrap().len(), 16);
}

#[test]
fn client_id_serde_is_a_validated_string() {
    let id = ClientId::new("app").unwrap();
    assert_eq!(serde_json::to_string(&id).unwrap(), "\"app\"");
    assert_eq!(serde_json::from_str::<ClientId>("\"app\"").unwrap(), id);
    assert!(serde_json::from_str::<ClientId>("\"a b\"").is_err());
    assert!(serde_json::from_str::<ClientId>("\"\"").is_err());
    assert_eq!(id.to_string(), "app");
    assert_eq!("app".parse::<ClientId>().unwrap(), id);
}

/// `as_str`, `FromStr` and serde all use the same wire names.
#[test]
fn wire_names_agree_with_serde() {
    for kind in ALL_KINDS {
        let json = serde_json::to_string(&kind).unwrap();
        assert_eq!(json, format!("\"{}\"", kind.as_str()));
        assert_eq!(kind.as_str().parse::<ClientKind>().unwrap(), kind);
        assert_eq!(serde_json::from_str::<ClientKind>(&json).unwrap(), kind);
    }
    for grant in ALL_GRANTS {
        let json = serde_json::to_string(&grant).unwrap();
        assert_eq!(json, format!("\"{}\"", grant.as_str()));
        assert_eq!(grant.as_str().parse::<GrantType>().unwrap(), grant);
        assert_eq!(serde_json::from_str::<GrantType>(&json).unwrap(), grant);
    }
    for method in ALL_METHODS {
        let json = serde_json::to_string(&method).unwrap();
        assert_eq!(json, format!("\"{}\"", method.as_str()));
        assert_eq!(
            method.as_str().parse::<TokenEndpointAuthMethod>().unwrap(),
            method
        );
    }
}

#[test]
fn wire_names_are_the_documented_ones() {
    let kinds: Vec<&str> = ALL_KINDS.iter().map(|k| k.as_str()).collect();
    assert_eq!(kinds, ["web", "spa", "native", "m2m", "resource_owner"]);
    let grants: Vec<&str> = ALL_GRANTS.iter().map(|g| g.as_str()).collect();
    assert_eq!(
        grants,
        [
            "authorization_code",
            "refresh_token",
            "client_credentials",
            "password",
            "implicit",
            "urn:ietf:params:oauth:grant-type:device_code",
            "urn:ietf:params:oauth:grant-type:token-exchange",
            "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "urn:ietf:params:oauth:grant-type:saml2-bearer",
        ]
    );
    let methods: Vec<&str> = ALL_METHODS.iter().map(|m| m.as_str()).collect();
    assert_eq!(
        methods,
        ["client_secret_basic", "client_secret_post", "none"]
    );
}

#[test]
fn unknown_wire_names_are_rejected() {
    assert_eq!(
        "Authorization_Code".parse::<GrantType>(),
        Err(UnknownNameError {
            expected: "grant type"
        })
    );
    assert_eq!(
        "machine".parse::<ClientKind>().unwrap_err().to_string(),
        "unknown application type"
    );
    assert!(
        "tls_client_auth"
            .parse::<TokenEndpointAuthMethod>()
            .is_err()
    );
    assert_eq!(
        "private_key_jwt".parse::<TokenEndpointAuthMethod>(),
        Ok(TokenEndpointAuthMethod::PrivateKeyJwt)
    );
    assert!(
        serde_json::from_str::<GrantType>("\"urn:ietf:params:oauth:grant-type:unknown\"").is_err()
    );
}

#[test]
fn rfc6749_2_1_public_kinds() {
    let public: Vec<ClientKind> = ALL_KINDS.into_iter().filter(|k| k.is_public()).collect();
    assert_eq!(public, [ClientKind::Spa, ClientKind::Native]);
    for kind in ALL_KINDS {
        assert_eq!(
            kind.default_auth_method().uses_secret(),
            !kind.is_public(),
            "{kind}"
        );
    }
}

#[test]
fn design_4_1_default_grant_types() {
    use GrantType::*;
    let cases: [(ClientKind, &[GrantType]); 5] = [
        (ClientKind::Web, &[AuthorizationCode, RefreshToken]),
        (ClientKind::Spa, &[AuthorizationCode]),
        (ClientKind::Native, &[AuthorizationCode]),
        (ClientKind::Machine, &[ClientCredentials]),
        (ClientKind::ResourceOwner, &[RefreshToken, Password]),
    ];
    for (kind, expected) in cases {
        let defaults: Vec<GrantType> = kind.default_grant_types().into_iter().collect();
        assert_eq!(defaults, expected, "{kind}");
        for grant in &defaults {
            assert!(
                kind.permits_grant(*grant),
                "{kind} permits its default {grant}"
            );
            assert_ne!(*grant, Implicit, "implicit is never a default");
        }
    }
}

fn web_client() -> (Client, crate::secret::ClientSecret) {
    let issued = NewClient::new("Web", ClientKind::Web)
        .client_id("web")
        .redirect_uri("https://a.example/cb")
        .redirect_uri("https://a.example/other")
        .scopes(["openid"])
        .build(&ScopeCatalog::with_oidc_scopes())
        .unwrap();
    (issued.client, issued.secret.unwrap())
}

#[test]
fn client_grants_and_redirects() {
    let (client, _) = web_client();
    assert!(!client.is_public());
    assert!(client.allows_grant(GrantType::AuthorizationCode));
    assert!(client.allows_grant(GrantType::RefreshToken));
    assert!(!client.allows_grant(GrantType::Implicit));
    assert!(!client.allows_grant(GrantType::Password));
    assert_eq!(
        client
            .match_redirect_uri("https://a.example/other")
            .map(RedirectUri::as_str),
        Some("https://a.example/other")
    );
    assert!(client.match_redirect_uri("https://a.example/cb/").is_none());
    // Two registered: a request must name one (RFC 6749 §3.1.2.3).
    assert!(client.default_redirect_uri().is_none());
}

#[test]
fn rfc6749_3_1_2_3_default_redirect_uri() {
    let catalog = ScopeCatalog::new();
    let single = NewClient::new("Spa", ClientKind::Spa)
        .redirect_uri("https://a.example/cb")
        .build(&catalog)
        .unwrap()
        .client;
    assert_eq!(
        single.default_redirect_uri().map(RedirectUri::as_str),
        Some("https://a.example/cb")
    );
    let loopback = NewClient::new("Cli", ClientKind::Native)
        .redirect_uri("http://127.0.0.1/cb")
        .build(&catalog)
        .unwrap()
        .client;
    assert_eq!(loopback.redirect_uris[0].rule(), MatchRule::LoopbackAnyPort);
    assert!(loopback.default_redirect_uri().is_none());
}

#[test]
fn verify_secret_checks_only_the_secret() {
    let (mut client, secret) = web_client();
    assert!(client.verify_secret(secret.expose_secret()));
    assert!(!client.verify_secret("wrong"));
    assert!(!client.verify_secret(""));
    // Revocation is the caller's business, not verify_secret's.
    client.revoked = true;
    assert!(client.verify_secret(secret.expose_secret()));
    client.secret_hash = None;
    assert!(!client.verify_secret(secret.expose_secret()));
    assert!(!client.verify_secret(""));
}

#[test]
fn rotate_secret_replaces_the_old_one() {
    let (mut client, old) = web_client();
    let new = client.rotate_secret().unwrap();
    assert_ne!(old.expose_secret(), new.expose_secret());
    assert!(client.verify_secret(new.expose_secret()));
    assert!(!client.verify_secret(old.expose_secret()));
}

#[test]
fn rfc6749_2_1_public_clients_cannot_rotate_a_secret() {
    let mut spa = NewClient::new("Spa", ClientKind::Spa)
        .redirect_uri("https://a.example/cb")
        .build(&ScopeCatalog::new())
        .unwrap()
        .client;
    assert_eq!(
        spa.rotate_secret().unwrap_err(),
        RegistryError::PublicClientHasNoSecret
    );
    assert_eq!(spa.secret_hash, None);

    let (mut web, secret) = web_client();
    web.auth_method = TokenEndpointAuthMethod::None;
    assert_eq!(
        web.rotate_secret().unwrap_err(),
        RegistryError::PublicClientHasNoSecret
    );
    assert!(
        web.verify_secret(secret.expose_secret()),
        "unchanged on error"
    );
}

#[test]
fn client_serde_uses_wire_names_and_round_trips() {
    let (client, _) = web_client();
    let value = serde_json::to_value(&client).unwrap();
    let object = value.as_object().unwrap();
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "access_token_format",
            "access_token_lifetime_secs",
            "application_type",
            "client_id",
            "description",
            "dpop_bound_access_tokens",
            "grant_types",
            "introspect_any",
            "name",
            "post_logout_redirect_uris",
            "redirect_uris",
            "refresh_token_lifetime_secs",
            "require_pushed_authorization_requests",
            "revoked",
            "roles",
            "scopes",
            "secret_hash",
            "subject_type",
            "token_endpoint_auth_method",
        ]
    );
    assert_eq!(value["client_id"], "web");
    assert_eq!(value["application_type"], "web");
    assert_eq!(
        value["grant_types"],
        serde_json::json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(value["scopes"], serde_json::json!(["openid"]));
    assert_eq!(value["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(
        value["redirect_uris"][0],
        serde_json::json!({"uri": "https://a.example/cb", "rule": "exact"})
    );
    let back: Client = serde_json::from_value(value).unwrap();
    assert_eq!(back, client);
}

#[test]
fn client_deserializes_with_defaults_for_optional_fields() {
    let json = r#"{
        "client_id": "svc",
        "name": "Service",
        "application_type": "m2m",
        "grant_types": ["client_credentials"],
        "scopes": "all",
        "token_endpoint_auth_method": "client_secret_post",
        "access_token_lifetime_secs": 3600,
        "refresh_token_lifetime_secs": 1209600
    }"#;
    let client: Client = serde_json::from_str(json).unwrap();
    assert_eq!(client.kind, ClientKind::Machine);
    assert_eq!(client.allowed_scopes, crate::scope::AllowedScopes::All);
    assert!(client.redirect_uris.is_empty());
    assert!(client.roles.is_empty());
    assert!(!client.revoked && !client.introspect_any);
    assert_eq!(client.secret_hash, None);
    assert_eq!(client.description, "");

    let bad_id = json.replace("\"svc\"", "\"s v c\"");
    assert!(serde_json::from_str::<Client>(&bad_id).is_err());
}

#[test]
fn role_assignment_serde() {
    let home = RoleAssignment::new("auditor", None);
    assert_eq!(
        serde_json::to_string(&home).unwrap(),
        r#"{"role":"auditor"}"#
    );
    let emea = RoleAssignment::new("auditor", Some("emea"));
    assert_eq!(
        serde_json::to_string(&emea).unwrap(),
        r#"{"role":"auditor","division":"emea"}"#
    );
    assert_eq!(
        serde_json::from_str::<RoleAssignment>(r#"{"role":"auditor"}"#).unwrap(),
        home
    );
}

#[test]
fn lifetime_constants() {
    assert_eq!(ACCESS_TOKEN_LIFETIME_SECS, 300..=172_800);
    assert_eq!(REFRESH_TOKEN_LIFETIME_SECS, 300..=31_536_000);
    assert!(ACCESS_TOKEN_LIFETIME_SECS.contains(&DEFAULT_ACCESS_TOKEN_LIFETIME_SECS));
    assert!(REFRESH_TOKEN_LIFETIME_SECS.contains(&DEFAULT_REFRESH_TOKEN_LIFETIME_SECS));
    assert_eq!(DEFAULT_REFRESH_TOKEN_LIFETIME_SECS, 14 * 24 * 3600);
    const { assert!(DEFAULT_REFRESH_TOKEN_LIFETIME_SECS >= DEFAULT_ACCESS_TOKEN_LIFETIME_SECS) };
}

/// Extension grants are named by their URNs (RFC 8628 §3.4, RFC 8693 §2.1, RFC 7523 §2.1,
/// RFC 7522 §2.1) on the wire, in JSON, and in the admin API.
#[test]
fn extension_grants_use_their_urns() {
    let cases = [
        (
            GrantType::DeviceCode,
            "urn:ietf:params:oauth:grant-type:device_code",
        ),
        (
            GrantType::TokenExchange,
            "urn:ietf:params:oauth:grant-type:token-exchange",
        ),
        (
            GrantType::JwtBearer,
            "urn:ietf:params:oauth:grant-type:jwt-bearer",
        ),
        (
            GrantType::Saml2Bearer,
            "urn:ietf:params:oauth:grant-type:saml2-bearer",
        ),
    ];
    for (grant, urn) in cases {
        assert_eq!(grant.as_str(), urn);
        assert_eq!(urn.parse::<GrantType>().unwrap(), grant);
        assert_eq!(serde_json::to_value(grant).unwrap(), urn);
        assert_eq!(
            serde_json::from_value::<GrantType>(urn.into()).unwrap(),
            grant
        );
    }
}

/// Who may hold an extension grant: the device grant needs a user at a device (native or
/// web clients); assertion and exchange grants bring their own subject (machine or web).
#[test]
fn extension_grants_by_kind() {
    use GrantType::*;
    let cases: [(ClientKind, &[GrantType], &[GrantType]); 5] = [
        (
            ClientKind::Web,
            &[DeviceCode, TokenExchange, JwtBearer, Saml2Bearer],
            &[],
        ),
        (
            ClientKind::Native,
            &[DeviceCode],
            &[TokenExchange, JwtBearer, Saml2Bearer],
        ),
        (
            ClientKind::Spa,
            &[],
            &[DeviceCode, TokenExchange, JwtBearer, Saml2Bearer],
        ),
        (
            ClientKind::Machine,
            &[TokenExchange, JwtBearer, Saml2Bearer],
            &[DeviceCode],
        ),
        (
            ClientKind::ResourceOwner,
            &[],
            &[DeviceCode, TokenExchange, JwtBearer, Saml2Bearer],
        ),
    ];
    for (kind, permitted, refused) in cases {
        for grant in permitted {
            assert!(kind.permits_grant(*grant), "{kind} may have {grant}");
        }
        for grant in refused {
            assert!(!kind.permits_grant(*grant), "{kind} may not have {grant}");
        }
    }
}
