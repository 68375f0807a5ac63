//! Two `SqliteStore`s on one file, as two processes would have: each has its own pool and
//! its own in-process write turn, so only SQLite's locking (`BEGIN IMMEDIATE`, the busy
//! timeout) and the conditional statements keep single-use operations single-use.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use portcullis_registry::{ClientId, ScopeSet};
use portcullis_store::{
    AuthorizationCode, CodeRedemption, CodeStore, FamilyId, KeyRecord, KeyStore, Rotation,
    SessionStore, Store, TokenRecord, TokenStatus, TokenStore,
};
use portcullis_store_sql::SqliteStore;
use portcullis_tokens::{Subject, TokenHash, TokenKind, mint};
use time::{Duration, OffsetDateTime};
use tokio::sync::Barrier;

const CALLERS: usize = 64;

async fn two_stores() -> (tempfile::TempDir, Arc<SqliteStore>, Arc<SqliteStore>) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("shared.db").display()
    );
    let a = SqliteStore::connect(&url).await.unwrap();
    a.migrate().await.unwrap();
    let b = SqliteStore::connect(&url).await.unwrap();
    b.migrate().await.unwrap();
    (dir, Arc::new(a), Arc::new(b))
}

/// Runs `CALLERS` concurrent calls, alternating between the two stores.
async fn race<T, F, Fut>(a: &Arc<SqliteStore>, b: &Arc<SqliteStore>, call: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(Arc<SqliteStore>, usize) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let barrier = Arc::new(Barrier::new(CALLERS));
    let mut tasks = Vec::new();
    for n in 0..CALLERS {
        let store = if n % 2 == 0 { a.clone() } else { b.clone() };
        let barrier = barrier.clone();
        let call = call(store, n);
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            call.await
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    results
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn refresh(client: &ClientId, family: &FamilyId, at: OffsetDateTime) -> TokenRecord {
    TokenRecord {
        hash: mint(TokenKind::RefreshToken).unwrap().lookup_key(),
        kind: TokenKind::RefreshToken,
        client_id: client.clone(),
        subject: Some(Subject::new("user").unwrap()),
        scopes: ScopeSet::parse("openid").unwrap(),
        roles: Vec::new(),
        family: family.clone(),
        issued_at: at,
        expires_at: at + Duration::days(1),
        status: TokenStatus::Active,
        audience: Vec::new(),
        confirmation: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_code_is_redeemed_once_across_stores() {
    let (_dir, a, b) = two_stores().await;
    let at = now();
    let client = ClientId::new("two-stores").unwrap();
    let code = AuthorizationCode {
        code: mint(TokenKind::AuthorizationCode).unwrap().lookup_key(),
        client_id: client.clone(),
        redirect_uri: None,
        subject: Subject::new("user").unwrap(),
        scopes: ScopeSet::parse("openid").unwrap(),
        nonce: None,
        code_challenge: None,
        code_challenge_method: None,
        auth_time: None,
        family: FamilyId::generate().unwrap(),
        issued_at: at,
        expires_at: at + Duration::minutes(1),
        resources: Vec::new(),
        dpop_jkt: None,
    };
    a.insert_code(code.clone()).await.unwrap();
    let outcomes = race(&a, &b, |store, _| {
        let (hash, token) = (code.code, refresh(&client, &code.family, at));
        async move { store.redeem_code(&hash, vec![token], at).await.unwrap() }
    })
    .await;
    let redeemed = outcomes
        .iter()
        .filter(|o| matches!(o, CodeRedemption::Redeemed(_)))
        .count();
    assert_eq!(redeemed, 1);
    assert_eq!(b.list_family(&code.family, at).await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refresh_token_rotates_once_across_stores() {
    let (_dir, a, b) = two_stores().await;
    let at = now();
    let client = ClientId::new("two-stores").unwrap();
    let family = FamilyId::generate().unwrap();
    let presented = refresh(&client, &family, at);
    a.insert_tokens(vec![presented.clone()]).await.unwrap();
    let outcomes = race(&a, &b, |store, _| {
        let (hash, successor) = (presented.hash, refresh(&client, &family, at));
        async move {
            store
                .rotate_refresh_token(&hash, vec![successor], at)
                .await
                .unwrap()
        }
    })
    .await;
    let rotated = outcomes
        .iter()
        .filter(|o| matches!(o, Rotation::Rotated { .. }))
        .count();
    assert_eq!(rotated, 1);
    assert_eq!(a.list_family(&family, at).await.unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn single_use_handles_are_taken_once_across_stores() {
    let (_dir, a, b) = two_stores().await;
    let at = now();
    let session = portcullis_store::SessionRecord {
        id: TokenHash::of("two-stores-session"),
        subject: Subject::new("user").unwrap(),
        auth_time: at,
        amr: Vec::new(),
        clients: Default::default(),
        created_at: at,
        expires_at: at + Duration::hours(1),
    };
    a.insert_session(session.clone()).await.unwrap();
    let added = race(&a, &b, |store, n| {
        let client = ClientId::new(format!("client-{n}")).unwrap();
        async move {
            store
                .add_session_client(&TokenHash::of("two-stores-session"), &client, at)
                .await
                .unwrap()
        }
    })
    .await;
    assert!(added.into_iter().all(|ok| ok));
    let ended = race(&a, &b, |store, _| async move {
        store
            .delete_session(&TokenHash::of("two-stores-session"), at)
            .await
            .unwrap()
    })
    .await;
    let winners: Vec<_> = ended.into_iter().flatten().collect();
    assert_eq!(winners.len(), 1);
    assert_eq!(winners.first().map(|s| s.clients.len()), Some(CALLERS));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_key_is_active_across_stores() {
    let (_dir, a, b) = two_stores().await;
    let at = now();
    let kids: Vec<String> = (0..CALLERS).map(|n| format!("kid-{n}")).collect();
    for kid in &kids {
        a.insert_key(KeyRecord {
            kid: kid.clone(),
            algorithm: "ES256".into(),
            private_pkcs8: vec![1, 2, 3],
            created_at: at,
            activated_at: None,
            retired_at: None,
        })
        .await
        .unwrap();
    }
    race(&a, &b, |store, n| {
        let kid = format!("kid-{n}");
        async move { store.activate_key(&kid, at).await.unwrap() }
    })
    .await;
    let active: Vec<_> = b
        .list_keys()
        .await
        .unwrap()
        .into_iter()
        .filter(KeyRecord::is_active)
        .collect();
    assert_eq!(active.len(), 1);
}

/// Keeps the generic bound honest: both are full stores.
#[test]
fn sqlite_store_is_a_store() {
    fn is_store<S: Store>() {}
    is_store::<SqliteStore>();
    is_store::<portcullis_store_sql::PostgresStore>();
    is_store::<portcullis_store_sql::SqlStore>();
}
