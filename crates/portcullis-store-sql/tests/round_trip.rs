//! Every record reads back exactly as written, on both backends: whole-second and
//! sub-second times (kept to the microsecond), other UTC offsets, optional fields set and
//! unset, empty lists, non-ASCII text, arbitrary key bytes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeSet;

use portcullis_registry::{
    AccessTokenFormat, ClientKind, NewClient, RoleAssignment, Scope, ScopeCatalog, ScopeDefinition,
    ScopeSet,
};
use portcullis_store::{
    AuthorizationCode, FamilyId, KeyRecord, Page, PendingAuthorization, SessionRecord, Store,
    TokenRecord, TokenStatus,
};
use portcullis_tokens::{Subject, TokenHash, TokenKind};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", support::random_name())
}

fn hash() -> TokenHash {
    TokenHash::of(&unique("handle"))
}

/// Whole seconds, microseconds, and another offset.
fn instants() -> [OffsetDateTime; 3] {
    [
        datetime!(2025-06-01 12:34:56 UTC),
        datetime!(2025-06-01 12:34:56.789_012 UTC),
        datetime!(2025-06-01 18:04:56.000_001 +05:30),
    ]
}

async fn clients_round_trip<S: Store>(store: &S) {
    let mut catalog = ScopeCatalog::with_oidc_scopes();
    catalog
        .insert(ScopeDefinition::new(
            Scope::new("invoices:read").unwrap(),
            "Read invoices",
        ))
        .unwrap();
    let web = NewClient::new("Fakturering — ünïcode ✓", ClientKind::Web)
        .client_id(unique("web"))
        .description("a \"quoted\" description\nwith a newline")
        .redirect_uris(["https://app.example/cb", "https://app.example/cb2"])
        .post_logout_redirect_uri("https://app.example/bye")
        .scopes(["openid", "invoices:read"])
        .access_token_format(AccessTokenFormat::Jwt)
        .access_token_lifetime_secs(900)
        .build(&catalog)
        .unwrap()
        .client;
    let machine = NewClient::new("Exporter", ClientKind::Machine)
        .client_id(unique("m2m"))
        .all_scopes()
        .role("auditor", None)
        .role("auditor", Some("emea"))
        .introspect_any(true)
        .revoked(true)
        .build(&catalog)
        .unwrap()
        .client;
    let native = NewClient::new("Phone", ClientKind::Native)
        .client_id(unique("native"))
        .redirect_uri("http://127.0.0.1/callback")
        .build(&catalog)
        .unwrap()
        .client;
    for client in [&web, &machine, &native] {
        store.insert_client(client.clone()).await.unwrap();
        assert_eq!(
            store.get_client(&client.id).await.unwrap().as_ref(),
            Some(client)
        );
    }
    let listed = store.list_clients(Page::first(usize::MAX)).await.unwrap();
    assert!(listed.contains(&machine));

    let scope = ScopeDefinition::new(
        Scope::new(unique("view")).unwrap(),
        "Voir les données — 表示",
    );
    store.insert_scope(scope.clone()).await.unwrap();
    assert_eq!(
        store.get_scope(scope.name.as_str()).await.unwrap(),
        Some(scope)
    );
}

async fn pending_round_trip<S: Store>(store: &S) {
    for (n, at) in instants().into_iter().enumerate() {
        let full = PendingAuthorization {
            handle: hash(),
            client_id: portcullis_registry::ClientId::new(unique("c")).unwrap(),
            redirect_uri: "https://app.example/cb?x=1&y=é".into(),
            redirect_uri_in_request: n % 2 == 0,
            response_type: "code id_token".into(),
            response_mode: "form_post".into(),
            scopes: ScopeSet::parse("openid profile offline_access").unwrap(),
            state: Some("state with spaces & ünïcode".into()),
            nonce: Some("n-0S6_WzA2Mj".into()),
            code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
            code_challenge_method: Some("S256".into()),
            prompt: vec!["login".into(), "consent".into()],
            max_age: Some(u32::MAX),
            created_at: at,
            expires_at: at + Duration::minutes(10),
            resources: Vec::new(),
            dpop_jkt: None,
        };
        let bare = PendingAuthorization {
            handle: hash(),
            redirect_uri_in_request: false,
            scopes: ScopeSet::new(),
            state: None,
            nonce: None,
            code_challenge: None,
            code_challenge_method: None,
            prompt: Vec::new(),
            max_age: None,
            ..full.clone()
        };
        for record in [full, bare] {
            store.insert_pending(record.clone()).await.unwrap();
            assert_eq!(
                store.get_pending(&record.handle, at).await.unwrap(),
                Some(record.clone())
            );
            assert_eq!(
                store.take_pending(&record.handle, at).await.unwrap(),
                Some(record)
            );
        }
    }
}

async fn codes_round_trip<S: Store>(store: &S) {
    for at in instants() {
        let full = AuthorizationCode {
            code: hash(),
            client_id: portcullis_registry::ClientId::new(unique("c")).unwrap(),
            redirect_uri: Some("https://app.example/cb".into()),
            subject: Subject::new("user with spaces@example.com").unwrap(),
            scopes: ScopeSet::parse("openid email").unwrap(),
            nonce: Some("nonce".into()),
            code_challenge: Some("challenge".into()),
            code_challenge_method: Some("plain".into()),
            auth_time: Some(at - Duration::microseconds(1)),
            family: FamilyId::generate().unwrap(),
            issued_at: at,
            expires_at: at + Duration::seconds(600),
            resources: Vec::new(),
            dpop_jkt: None,
        };
        let bare = AuthorizationCode {
            code: hash(),
            redirect_uri: None,
            nonce: None,
            code_challenge: None,
            code_challenge_method: None,
            auth_time: None,
            ..full.clone()
        };
        for record in [full, bare] {
            store.insert_code(record.clone()).await.unwrap();
            assert_eq!(
                store.find_code(&record.code, at).await.unwrap(),
                Some(record)
            );
        }
    }
}

async fn tokens_round_trip<S: Store>(store: &S) {
    let client = portcullis_registry::ClientId::new(unique("c")).unwrap();
    let family = FamilyId::generate().unwrap();
    let mut expected = Vec::new();
    let statuses = [
        TokenStatus::Active,
        TokenStatus::Rotated,
        TokenStatus::Revoked,
    ];
    for ((n, at), status) in instants().into_iter().enumerate().zip(statuses) {
        let record = TokenRecord {
            hash: hash(),
            kind: if n == 0 {
                TokenKind::AccessToken
            } else {
                TokenKind::RefreshToken
            },
            client_id: client.clone(),
            subject: (n != 1).then(|| Subject::new("user-1").unwrap()),
            scopes: if n == 2 {
                ScopeSet::new()
            } else {
                ScopeSet::parse("openid view:users").unwrap()
            },
            roles: vec![
                RoleAssignment::new("auditor", None),
                RoleAssignment::new("admin", Some("emea — ünïcode")),
            ],
            family: family.clone(),
            issued_at: at,
            expires_at: at + Duration::days(14),
            status,
            audience: Vec::new(),
            confirmation: None,
        };
        store.insert_tokens(vec![record.clone()]).await.unwrap();
        assert_eq!(
            store.find_token(&record.hash, at).await.unwrap(),
            Some(record.clone())
        );
        expected.push(record);
    }
    // Listed by issue time (the +05:30 instant is the second), then hash.
    expected.sort_by_key(|token| (token.issued_at, token.hash));
    let [at, ..] = instants();
    assert_eq!(store.list_family(&family, at).await.unwrap(), expected);
    assert_eq!(
        store.list_client_tokens(&client, at).await.unwrap(),
        expected
    );
}

async fn sessions_round_trip<S: Store>(store: &S) {
    for at in instants() {
        let clients: BTreeSet<_> = ["a", "b", "c"]
            .iter()
            .map(|s| portcullis_registry::ClientId::new(unique(s)).unwrap())
            .collect();
        for (clients, amr) in [
            (clients, vec!["pwd".to_owned(), "otp".to_owned()]),
            (BTreeSet::new(), Vec::new()),
        ] {
            let record = SessionRecord {
                id: hash(),
                subject: Subject::new(unique("user")).unwrap(),
                auth_time: at - Duration::microseconds(250),
                amr,
                clients,
                created_at: at,
                expires_at: at + Duration::hours(8),
            };
            store.insert_session(record.clone()).await.unwrap();
            assert_eq!(
                store.get_session(&record.id, at).await.unwrap(),
                Some(record.clone())
            );
            assert_eq!(
                store.delete_session(&record.id, at).await.unwrap(),
                Some(record)
            );
        }
    }
}

async fn keys_round_trip<S: Store>(store: &S) {
    let [whole, sub, offset] = instants();
    let key = KeyRecord {
        kid: unique("kid ünïcode"),
        algorithm: "EdDSA".into(),
        private_pkcs8: (0..=255).collect(),
        created_at: whole,
        activated_at: Some(sub),
        retired_at: Some(offset),
    };
    store.insert_key(key.clone()).await.unwrap();
    let stored = store
        .list_keys()
        .await
        .unwrap()
        .into_iter()
        .find(|k| k.kid == key.kid);
    assert_eq!(stored, Some(key));
}

/// Digits below the microsecond are cut, nothing else changes.
async fn nanoseconds_are_cut_to_microseconds<S: Store>(store: &S) {
    let at = datetime!(2025-06-01 12:34:56.789_012_345 UTC);
    let record = TokenRecord {
        hash: hash(),
        kind: TokenKind::AccessToken,
        client_id: portcullis_registry::ClientId::new(unique("c")).unwrap(),
        subject: None,
        scopes: ScopeSet::new(),
        roles: Vec::new(),
        family: FamilyId::generate().unwrap(),
        issued_at: at,
        expires_at: at + Duration::hours(1),
        status: TokenStatus::Active,
        audience: Vec::new(),
        confirmation: None,
    };
    store.insert_tokens(vec![record.clone()]).await.unwrap();
    let stored = store.find_token(&record.hash, at).await.unwrap().unwrap();
    assert_eq!(stored.issued_at, datetime!(2025-06-01 12:34:56.789_012 UTC));
    assert_eq!(
        stored.expires_at,
        datetime!(2025-06-01 13:34:56.789_012 UTC)
    );
}

async fn everything_round_trips<S: Store>(store: &S) {
    clients_round_trip(store).await;
    pending_round_trip(store).await;
    codes_round_trip(store).await;
    tokens_round_trip(store).await;
    sessions_round_trip(store).await;
    keys_round_trip(store).await;
    nanoseconds_are_cut_to_microseconds(store).await;
}

#[tokio::test]
async fn sqlite_records_round_trip_exactly() {
    everything_round_trips(&support::sqlite_store().await).await;
}

#[tokio::test]
async fn sqlite_in_memory_records_round_trip_exactly() {
    let store = portcullis_store_sql::SqliteStore::connect("sqlite::memory:")
        .await
        .unwrap();
    store.migrate().await.unwrap();
    everything_round_trips(&store).await;
}

#[tokio::test]
async fn postgres_records_round_trip_exactly() {
    let Some(store) = support::postgres_store().await else {
        return;
    };
    everything_round_trips(&store).await;
}

#[tokio::test]
async fn sql_store_delegates_to_either_backend() {
    let store = portcullis_store_sql::SqlStore::from(support::sqlite_store().await);
    everything_round_trips(&store).await;
    if let Some(store) = support::postgres_store().await {
        let store = portcullis_store_sql::SqlStore::from(store);
        assert_eq!(store.backend(), "postgres");
        everything_round_trips(&store).await;
    }
}
