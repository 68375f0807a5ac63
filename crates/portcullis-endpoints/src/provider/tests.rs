#![allow(clippy::unwrap_used)]

use super::*;
use portcullis_store::MemoryStore;

fn builder(issuer: &str) -> ProviderBuilder {
    Provider::builder(issuer, Arc::new(MemoryStore::new()))
}

#[test]
fn rfc8414_2_issuer_rules() {
    let cases: [(&str, bool); 11] = [
        ("https://id.example", true),
        ("https://id.example/tenant", true),
        ("http://127.0.0.1:8080", true),
        ("http://localhost:3000", true),
        ("http://[::1]:8080", true),
        ("http://id.example", false),
        ("https://id.example/", false),
        ("https://id.example?x=1", false),
        ("https://id.example#f", false),
        ("https://user@id.example", false),
        ("id.example", false),
    ];
    for (issuer, ok) in cases {
        assert_eq!(builder(issuer).build().is_ok(), ok, "{issuer}");
    }
}

#[test]
fn lifetimes_and_limits_are_checked() {
    let base = "https://id.example";
    assert!(
        builder(base)
            .code_ttl(Duration::minutes(10))
            .build()
            .is_ok()
    );
    assert!(matches!(
        builder(base).code_ttl(Duration::seconds(601)).build(),
        Err(ConfigError::Lifetime {
            setting: "code_ttl",
            ..
        })
    ));
    assert!(matches!(
        builder(base).code_ttl(Duration::ZERO).build(),
        Err(ConfigError::Lifetime { .. })
    ));
    assert!(matches!(
        builder(base).interaction_ttl(Duration::seconds(10)).build(),
        Err(ConfigError::Lifetime { .. })
    ));
    assert_eq!(
        builder(base).max_body_bytes(10).build().err(),
        Some(ConfigError::BodyLimit)
    );
}

#[test]
fn grants_follow_configuration() {
    let provider = builder("https://id.example").build().unwrap();
    let grants: Vec<&str> = provider.grant_types().collect();
    assert_eq!(
        grants,
        ["authorization_code", "client_credentials", "refresh_token"]
    );
    let provider = builder("https://id.example")
        .disable_grant(GrantType::ClientCredentials)
        .build()
        .unwrap();
    assert!(!provider.grant_types().any(|g| g == "client_credentials"));
    assert!(matches!(
        builder("https://id.example")
            .grant(RefreshTokenGrant)
            .build(),
        Err(ConfigError::DuplicateGrant(name)) if name == "refresh_token"
    ));
}
