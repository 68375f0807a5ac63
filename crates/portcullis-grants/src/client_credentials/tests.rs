#![allow(clippy::unwrap_used, clippy::expect_used)]

use portcullis_registry::{
    Client, ClientKind, NewClient, Scope, ScopeCatalog, ScopeDefinition, ScopeSet,
};
use portcullis_store::{MemoryStore, TokenStore};
use portcullis_tokens::TokenKind;
use time::OffsetDateTime;

use super::*;
use crate::{Params, Policy};

fn catalog() -> ScopeCatalog {
    let mut catalog = ScopeCatalog::with_oidc_scopes();
    for name in ["view:users", "create:users"] {
        catalog
            .insert(ScopeDefinition::new(Scope::new(name).unwrap(), name))
            .unwrap();
    }
    catalog
}

fn client(kind: ClientKind, configure: impl FnOnce(NewClient) -> NewClient) -> Client {
    configure(NewClient::new("unit test client", kind))
        .build(&catalog())
        .expect("valid client")
        .client
}

fn scopes(s: &str) -> ScopeSet {
    ScopeSet::parse(s).unwrap()
}

async fn exchange(
    store: &MemoryStore,
    client: &Client,
    pairs: &[(&str, &str)],
) -> Result<TokenResponse, GrantError> {
    let params = Params::from_pairs(pairs.iter().copied());
    let catalog = catalog();
    let policy = Policy::default();
    let now = OffsetDateTime::now_utc();
    let cx = GrantContext::new(
        store,
        client,
        &params,
        now,
        &policy,
        &catalog,
        None,
        crate::test_support::signing(),
    );
    ClientCredentialsGrant.exchange(&cx).await
}

#[tokio::test]
async fn rfc6749_3_3_default_scope_excludes_oidc_user_scopes() {
    let store = MemoryStore::new();
    let all = client(ClientKind::Machine, NewClient::all_scopes);
    let response = exchange(&store, &all, &[]).await.unwrap();
    assert_eq!(response.scope, scopes("create:users view:users"));
    for scope in OIDC_USER_SCOPES {
        assert!(
            !response.scope.contains(scope),
            "{scope} must not be a default"
        );
    }
}

#[tokio::test]
async fn rfc6749_3_3_default_scope_is_the_allowed_list() {
    let store = MemoryStore::new();
    let listed = client(ClientKind::Machine, |c| c.scopes(["view:users", "openid"]));
    let response = exchange(&store, &listed, &[]).await.unwrap();
    assert_eq!(response.scope, scopes("view:users"));
    let nothing = client(ClientKind::Machine, |c| c);
    let response = exchange(&store, &nothing, &[]).await.unwrap();
    assert!(response.scope.is_empty());
}

#[tokio::test]
async fn rfc6749_3_3_requested_scope_is_checked_never_dropped() {
    let store = MemoryStore::new();
    let listed = client(ClientKind::Machine, |c| c.scopes(["view:users", "openid"]));
    // (case, scope, Some(granted) or None for invalid_scope)
    let cases: [(&str, &str, Option<&str>); 6] = [
        ("allowed", "view:users", Some("view:users")),
        (
            "explicit_oidc_scope_when_allowed",
            "openid view:users",
            Some("openid view:users"),
        ),
        ("not_allowed", "create:users", None),
        ("one_of_two_not_allowed", "view:users create:users", None),
        ("unknown", "delete:everything", None),
        ("malformed", "view:users\"", None),
    ];
    for (name, requested, expected) in cases {
        let result = exchange(&store, &listed, &[("scope", requested)]).await;
        match expected {
            Some(granted) => assert_eq!(result.unwrap().scope, scopes(granted), "{name}"),
            None => assert_eq!(result.unwrap_err().code(), "invalid_scope", "{name}"),
        }
    }
    // Only the two successful cases stored anything: one access token each.
    let stored = store
        .list_client_tokens(&listed.id, OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert_eq!(stored.len(), 2);
}

#[tokio::test]
async fn rfc6749_4_4_3_no_refresh_token_even_with_the_refresh_grant() {
    let store = MemoryStore::new();
    // A resource-owner client may hold both grants; machine clients cannot register
    // refresh_token at all.
    let both = client(ClientKind::ResourceOwner, |c| {
        c.all_scopes().grant_types([
            GrantType::ClientCredentials,
            GrantType::Password,
            GrantType::RefreshToken,
        ])
    });
    let response = exchange(&store, &both, &[]).await.unwrap();
    assert!(response.refresh_token.is_none());
}

#[tokio::test]
async fn rfc6749_4_4_token_has_no_subject_and_carries_the_roles() {
    let store = MemoryStore::new();
    let machine = client(ClientKind::Machine, |c| {
        c.scopes(["view:users"]).role("auditor", Some("emea"))
    });
    let response = exchange(&store, &machine, &[]).await.unwrap();
    let stored = store
        .find_token(
            &response.access_token.lookup_key(),
            OffsetDateTime::now_utc(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.kind, TokenKind::AccessToken);
    assert_eq!(stored.subject, None);
    assert_eq!(stored.scopes, scopes("view:users"));
    assert!(!stored.roles.is_empty());
    assert_eq!(stored.roles, machine.roles);
}

#[tokio::test]
async fn rfc6749_4_4_public_and_unregistered_clients_are_unauthorized() {
    let store = MemoryStore::new();
    let spa = client(ClientKind::Spa, |c| {
        c.redirect_uri("https://app.example/cb")
    });
    let err = exchange(&store, &spa, &[]).await.unwrap_err();
    assert_eq!(err.code(), "unauthorized_client");
    let web = client(ClientKind::Web, |c| {
        c.redirect_uri("https://app.example/cb")
    });
    let err = exchange(&store, &web, &[]).await.unwrap_err();
    assert_eq!(err.code(), "unauthorized_client");
}
