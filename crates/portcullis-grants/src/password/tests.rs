#![allow(clippy::unwrap_used, clippy::expect_used)]

use portcullis_registry::{
    Client, ClientKind, NewClient, Scope, ScopeCatalog, ScopeDefinition, ScopeSet,
};
use portcullis_store::{MemoryStore, TokenStore};
use portcullis_tokens::Subject;
use time::OffsetDateTime;

use super::*;
use crate::{Authenticator, BoxError, Params, Policy};

const PASSWORD: &str = "correct horse";

/// alice / "correct horse"; the user "broken" makes the check itself fail.
struct Users;

#[async_trait]
impl Authenticator for Users {
    async fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<Subject>, BoxError> {
        if username == "broken" {
            return Err(format!("user database unreachable while checking {password}").into());
        }
        Ok((username == "alice" && password == PASSWORD)
            .then(|| Subject::new("user-alice").unwrap()))
    }
}

fn catalog() -> ScopeCatalog {
    let mut catalog = ScopeCatalog::with_oidc_scopes();
    catalog
        .insert(ScopeDefinition::new(
            Scope::new("view:users").unwrap(),
            "view",
        ))
        .unwrap();
    catalog
}

fn client(configure: impl FnOnce(NewClient) -> NewClient) -> Client {
    configure(NewClient::new(
        "unit test client",
        ClientKind::ResourceOwner,
    ))
    .build(&catalog())
    .expect("valid client")
    .client
}

async fn exchange(
    store: &MemoryStore,
    client: &Client,
    authenticator: Option<&dyn Authenticator>,
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
        authenticator,
        crate::test_support::signing(),
    );
    PasswordGrant.exchange(&cx).await
}

fn alice<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut pairs = vec![("username", "alice"), ("password", PASSWORD)];
    pairs.extend_from_slice(extra);
    pairs
}

#[tokio::test]
async fn rfc6749_4_3_without_an_authenticator_the_grant_is_unsupported() {
    let store = MemoryStore::new();
    let err = exchange(&store, &client(NewClient::all_scopes), None, &alice(&[]))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "unsupported_grant_type");
}

#[tokio::test]
async fn rfc6749_4_3_2_wrong_credentials_never_say_whether_the_user_exists() {
    let store = MemoryStore::new();
    let client = client(NewClient::all_scopes);
    let wrong_password = exchange(
        &store,
        &client,
        Some(&Users),
        &[("username", "alice"), ("password", "hunter2")],
    )
    .await
    .unwrap_err();
    let no_such_user = exchange(
        &store,
        &client,
        Some(&Users),
        &[("username", "mallory"), ("password", "hunter2")],
    )
    .await
    .unwrap_err();
    assert_eq!(wrong_password.code(), "invalid_grant");
    assert_eq!(no_such_user.code(), "invalid_grant");
    assert_eq!(wrong_password.description(), no_such_user.description());
    assert!(!wrong_password.to_string().contains("hunter2"));
    assert!(!no_such_user.to_string().contains("mallory"));
    let stored = store
        .list_client_tokens(&client.id, OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert!(stored.is_empty(), "nothing is issued on error");
}

#[tokio::test]
async fn rfc6749_4_3_2_a_failing_authenticator_is_a_server_error_without_detail() {
    let store = MemoryStore::new();
    let err = exchange(
        &store,
        &client(NewClient::all_scopes),
        Some(&Users),
        &[("username", "broken"), ("password", "s3cret-pw")],
    )
    .await
    .unwrap_err();
    assert!(matches!(err, GrantError::Application(_)));
    assert_eq!(err.code(), "server_error");
    assert!(!err.description().contains("s3cret-pw"));
}

#[tokio::test]
async fn rfc6749_4_3_2_username_and_password_are_required() {
    let store = MemoryStore::new();
    let client = client(NewClient::all_scopes);
    for (name, pairs) in [
        ("no_username", vec![("password", PASSWORD)]),
        ("no_password", vec![("username", "alice")]),
        (
            "empty_password",
            vec![("username", "alice"), ("password", "")],
        ),
    ] {
        let err = exchange(&store, &client, Some(&Users), &pairs)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "invalid_request", "{name}");
    }
}

#[tokio::test]
async fn rfc6749_3_3_default_scope_and_refresh_rule() {
    let store = MemoryStore::new();
    // (case, allowed scopes, requested scope, granted scope, refresh token?)
    type Row = (
        &'static str,
        &'static [&'static str],
        Option<&'static str>,
        &'static str,
        bool,
    );
    let cases: [Row; 5] = [
        (
            "default_is_all_allowed",
            &["openid", "offline_access", "view:users"],
            None,
            "openid offline_access view:users",
            true,
        ),
        (
            "design_4_1_openid_without_offline_access_still_refreshes",
            &["openid", "view:users"],
            None,
            "openid view:users",
            true,
        ),
        (
            "plain_oauth_always_refreshes",
            &["openid", "view:users"],
            Some("view:users"),
            "view:users",
            true,
        ),
        (
            "openid_asks_offline_access",
            &["openid", "offline_access"],
            Some("openid offline_access"),
            "openid offline_access",
            true,
        ),
        (
            "design_4_1_openid_alone_still_refreshes",
            &["openid", "offline_access"],
            Some("openid"),
            "openid",
            true,
        ),
    ];
    for (name, allowed, requested, granted, refresh) in cases {
        let client = client(|c| c.scopes(allowed.iter().copied()));
        let pairs = match requested {
            Some(scope) => alice(&[("scope", scope)]),
            None => alice(&[]),
        };
        let response = exchange(&store, &client, Some(&Users), &pairs)
            .await
            .unwrap();
        assert_eq!(response.scope, ScopeSet::parse(granted).unwrap(), "{name}");
        assert_eq!(response.refresh_token.is_some(), refresh, "{name}");
    }
}

#[tokio::test]
async fn rfc6749_4_3_scope_not_allowed_is_refused_before_authenticating() {
    let store = MemoryStore::new();
    let client = client(|c| c.scopes(["view:users"]));
    let err = exchange(
        &store,
        &client,
        Some(&Users),
        &alice(&[("scope", "openid")]),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "invalid_scope");
}

#[tokio::test]
async fn rfc6749_4_3_client_must_be_registered_for_the_grant() {
    let store = MemoryStore::new();
    let client = client(|c| c.all_scopes().grant_types([GrantType::ClientCredentials]));
    let err = exchange(&store, &client, Some(&Users), &alice(&[]))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "unauthorized_client");
}
