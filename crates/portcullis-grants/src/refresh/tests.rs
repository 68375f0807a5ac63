#![allow(clippy::unwrap_used, clippy::expect_used)]

use portcullis_registry::{Client, ClientKind, NewClient, ScopeCatalog, ScopeSet};
use portcullis_store::{FamilyId, MemoryStore, TokenRecord, TokenStore};
use portcullis_tokens::{Subject, mint};
use time::{Duration, OffsetDateTime};

use super::*;
use crate::{Params, Policy};

fn scopes(s: &str) -> ScopeSet {
    ScopeSet::parse(s).unwrap()
}

#[test]
fn rfc6749_6_scope_may_only_narrow() {
    let original = scopes("openid profile offline_access");
    // (case, requested, Some(granted) or None for invalid_scope)
    let cases: [(&str, Option<&str>, Option<&str>); 6] = [
        (
            "absent_is_original",
            None,
            Some("openid profile offline_access"),
        ),
        (
            "same",
            Some("openid profile offline_access"),
            Some("openid profile offline_access"),
        ),
        ("narrower", Some("profile"), Some("profile")),
        (
            "order_does_not_matter",
            Some("profile openid"),
            Some("openid profile"),
        ),
        ("wider", Some("profile email"), None),
        ("disjoint", Some("email"), None),
    ];
    for (name, requested, expected) in cases {
        let result = narrowed_scope(Ok(requested.map(scopes)), &original);
        match expected {
            Some(granted) => assert_eq!(result.unwrap(), scopes(granted), "{name}"),
            None => assert_eq!(result.unwrap_err().code(), "invalid_scope", "{name}"),
        }
    }
    let malformed = narrowed_scope(Err(GrantError::invalid_scope("bad")), &original);
    assert_eq!(malformed.unwrap_err().code(), "invalid_scope");
}

fn client() -> Client {
    NewClient::new("unit test client", ClientKind::Web)
        .redirect_uri("https://app.example/callback")
        .all_scopes()
        .build(&ScopeCatalog::with_oidc_scopes())
        .expect("valid client")
        .client
}

async fn refresh_token(store: &MemoryStore, client: &Client, status: TokenStatus) -> String {
    let token = mint(TokenKind::RefreshToken).unwrap();
    let now = OffsetDateTime::now_utc();
    store
        .insert_tokens(vec![TokenRecord {
            hash: token.lookup_key(),
            kind: TokenKind::RefreshToken,
            client_id: client.id.clone(),
            subject: Some(Subject::new("user-1").unwrap()),
            scopes: scopes("profile email"),
            roles: Vec::new(),
            family: FamilyId::generate().unwrap(),
            issued_at: now,
            expires_at: now + Duration::days(1),
            status,
            audience: Vec::new(),
            confirmation: None,
        }])
        .await
        .unwrap();
    token.expose_secret().to_owned()
}

async fn exchange(
    store: &MemoryStore,
    client: &Client,
    pairs: &[(&str, &str)],
) -> Result<TokenResponse, GrantError> {
    let params = Params::from_pairs(pairs.iter().copied());
    let catalog = ScopeCatalog::with_oidc_scopes();
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
    RefreshTokenGrant.exchange(&cx).await
}

#[tokio::test]
async fn rfc6749_6_narrowed_access_token_keeps_original_refresh_scope() {
    let store = MemoryStore::new();
    let web = client();
    let token = refresh_token(&store, &web, TokenStatus::Active).await;
    let response = exchange(
        &store,
        &web,
        &[("refresh_token", &token), ("scope", "email")],
    )
    .await
    .unwrap();
    assert_eq!(response.scope, scopes("email"));
    let now = OffsetDateTime::now_utc();
    let successor = response.refresh_token.expect("rotation issues a successor");
    let stored = store
        .find_token(&successor.lookup_key(), now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.scopes, scopes("profile email"));
    let access = store
        .find_token(&response.access_token.lookup_key(), now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(access.scopes, scopes("email"));
    assert_eq!(access.family, stored.family);
}

#[tokio::test]
async fn rfc9700_4_14_2_replay_with_a_bad_scope_still_revokes_the_family() {
    let store = MemoryStore::new();
    let web = client();
    let token = refresh_token(&store, &web, TokenStatus::Active).await;
    let first = exchange(&store, &web, &[("refresh_token", &token)])
        .await
        .unwrap();
    let replay = exchange(
        &store,
        &web,
        &[("refresh_token", &token), ("scope", "openid")],
    )
    .await
    .unwrap_err();
    assert_eq!(replay.code(), "invalid_grant");
    let now = OffsetDateTime::now_utc();
    let newest = store
        .find_token(&first.refresh_token.unwrap().lookup_key(), now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(newest.status, TokenStatus::Revoked);
}

#[tokio::test]
async fn rfc6749_6_revoked_token_is_invalid_grant_even_with_a_bad_scope() {
    let store = MemoryStore::new();
    let web = client();
    let token = refresh_token(&store, &web, TokenStatus::Revoked).await;
    let err = exchange(
        &store,
        &web,
        &[("refresh_token", &token), ("scope", "openid")],
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "invalid_grant");
    assert!(!err.to_string().contains(&token));
}
