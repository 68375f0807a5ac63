//! The conformance kit: the storage contract as async test functions.
//!
//! Every store implementation runs all of them against itself; a store is correct when they
//! pass. Each function takes a fresh `Arc` of the store and panics (as a test assertion) on
//! the first broken clause. They create records with random ids and never assume the store
//! is empty, so one database can serve all of them at once. Times are whole seconds: a
//! store must keep at least one-second precision.
//!
//! One exception: a store has a single active signing key, so the `key_*` cases that
//! activate keys check which key is active and must not run while anything else activates
//! keys in the same store. They take turns through a lock in this module, which covers every
//! case run by one test process (`cargo test`); do not point test processes that run at the
//! same time (e.g. `cargo nextest`) at one database, or run the `key_*` cases by themselves.
//!
//! Turn them into tests for your store with [`conformance_tests!`](crate::conformance_tests):
//!
//! ```
//! // tests/conformance.rs of a store crate, with `portcullis-store` (feature
//! // `conformance`) as a dev-dependency:
//! portcullis_store::conformance_tests!(|| async { portcullis_store::MemoryStore::new() });
//! ```
//!
//! The expression is called once per test and must produce the store; each test runs on
//! its own multi-threaded tokio runtime so the concurrency cases are really concurrent.

// This module is test code shipped for other crates' tests: a failed clause panics, which is
// how a test reports it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeSet, HashSet};
use std::future::Future;
use std::sync::Arc;

use portcullis_registry::{
    Client, ClientId, ClientKind, NewClient, Scope, ScopeCatalog, ScopeDefinition, ScopeSet,
};
use portcullis_tokens::{RawToken, Subject, TokenHash, TokenKind, mint, random_identifier};
use time::{Duration, OffsetDateTime};
use tokio::sync::{Barrier, Mutex};

use crate::{
    AuthorizationCode, CodeRedemption, FamilyId, KeyRecord, Page, PendingAuthorization,
    RecordFamily, Rotation, SessionRecord, Store, StoreError, TokenRecord, TokenStatus,
};

mod extensions;
pub use extensions::*;

/// How many callers race in the single-use cases.
pub const CONCURRENT_CALLERS: usize = 100;

/// Runs one case: builds the store with `make` on a fresh multi-threaded runtime and hands
/// it to `case`. [`conformance_tests!`](crate::conformance_tests) calls this for you.
///
/// ```
/// use portcullis_store::{conformance, MemoryStore};
/// conformance::run(|| async { MemoryStore::new() }, conformance::client_round_trip);
/// ```
pub fn run<S, M, MF, C, CF>(make: M, case: C)
where
    S: Store,
    M: FnOnce() -> MF,
    MF: Future<Output = S>,
    C: FnOnce(Arc<S>) -> CF,
    CF: Future<Output = ()>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("a tokio runtime for the conformance kit");
    runtime.block_on(async move {
        let store = Arc::new(make().await);
        case(store).await;
    });
}

/// Runs one case like [`run`], but `make` may decline: `None` means the backend is not
/// available here and the case is skipped (the caller prints why). Backends that must not
/// be skipped (in CI) should make `make` panic instead of answering `None`.
///
/// ```
/// use portcullis_store::{conformance, MemoryStore};
/// conformance::run_or_skip(|| async { Some(MemoryStore::new()) }, conformance::client_round_trip);
/// ```
pub fn run_or_skip<S, M, MF, C, CF>(make: M, case: C)
where
    S: Store,
    M: FnOnce() -> MF,
    MF: Future<Output = Option<S>>,
    C: FnOnce(Arc<S>) -> CF,
    CF: Future<Output = ()>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("a tokio runtime for the conformance kit");
    runtime.block_on(async move {
        if let Some(store) = make().await {
            case(Arc::new(store)).await;
        }
    });
}

/// Calls the macro `$then` with `[$args…]` followed by the name of every conformance case,
/// so a store crate can generate its own wrappers around the kit without copying the list.
///
/// ```
/// macro_rules! count {
///     ([] $($case:ident),+ $(,)?) => { [$(stringify!($case)),+].len() };
/// }
/// assert!(portcullis_store::conformance_cases!(count, []) >= 30);
/// ```
#[macro_export]
macro_rules! conformance_cases {
    ($($then:ident)::+, [$($args:tt)*]) => {
        $($then)::+! {[$($args)*]
            client_round_trip,
            client_insert_conflict_writes_nothing,
            client_update_replaces_and_requires_existing,
            client_delete,
            client_list_ordered_and_paged,
            client_revocation_cuts_off_its_tokens,
            client_deletion_revokes_its_tokens,
            scope_round_trip_and_conflict,
            scope_list_ordered_and_catalog,
            pending_round_trip_and_single_take,
            pending_expired_is_gone,
            pending_take_single_use_under_concurrency,
            code_redeemed_once_then_reported_as_reused,
            code_expired_or_unknown_is_not_found,
            code_insert_conflict_and_bad_tokens_change_nothing,
            code_single_use_under_concurrency,
            token_round_trip_and_expiry,
            token_insert_is_all_or_nothing,
            refresh_rotation_then_reuse_revokes_family,
            refresh_rotation_single_use_under_concurrency,
            refresh_rotation_refuses_what_it_must,
            revoke_single_token,
            revoke_family_touches_only_that_family,
            revoke_client_tokens_touches_only_that_client,
            listings_are_ordered_and_skip_expired,
            session_round_trip_and_conflict,
            session_expired_is_gone,
            session_add_client,
            session_add_client_keeps_concurrent_additions,
            session_delete_single_use_under_concurrency,
            session_delete_subject_sessions_touches_only_that_subject,
            key_insert_list_and_conflict,
            key_activation_retires_the_previous,
            key_activate_unknown_is_not_found,
            key_delete_refuses_the_active_key,
            key_activation_single_active_under_concurrency,
            sweep_removes_only_expired_records,
        }
    };
}

/// Like [`conformance_cases!`](crate::conformance_cases), for the extension grants'
/// families (device authorizations, used assertion ids).
#[macro_export]
macro_rules! extension_conformance_cases {
    ($($then:ident)::+, [$($args:tt)*]) => {
        $($then)::+! {[$($args)*]
            device_round_trip_and_conflicts,
            device_poll_pending_and_slow_down,
            device_decided_once_and_answered_once,
            device_expired_is_gone,
            device_approval_single_use_under_concurrency,
            replay_first_use_once_until_expiry,
            replay_single_use_under_concurrency,
            extension_sweep_removes_only_expired,
        }
    };
}

/// Like [`conformance_tests!`](crate::conformance_tests), for the extension grants'
/// families: the store must also implement
/// [`DeviceAuthorizationStore`](crate::DeviceAuthorizationStore) and
/// [`ReplayStore`](crate::ReplayStore).
///
/// ```
/// mod memory_extensions {
///     portcullis_store::extension_conformance_tests!(|| async { portcullis_store::MemoryStore::new() });
/// }
/// ```
#[macro_export]
macro_rules! extension_conformance_tests {
    (optional $make:expr) => {
        $crate::extension_conformance_cases!($crate::conformance_tests, [@optional $make]);
    };
    ($make:expr) => {
        $crate::extension_conformance_cases!($crate::conformance_tests, [@required $make]);
    };
}

/// Generates one `#[test]` per conformance case for the store that `$make` builds.
///
/// `$make` is an expression callable as `FnOnce() -> impl Future<Output = S>` where
/// `S: portcullis_store::Store`; it is evaluated once per test. With `optional` before it,
/// `$make` answers `Option<S>` and `None` skips the case (see [`run_or_skip`]).
///
/// ```
/// mod memory {
///     portcullis_store::conformance_tests!(|| async { portcullis_store::MemoryStore::new() });
/// }
/// mod maybe {
///     portcullis_store::conformance_tests!(optional || async { Some(portcullis_store::MemoryStore::new()) });
/// }
/// ```
#[macro_export]
macro_rules! conformance_tests {
    (optional $make:expr) => {
        $crate::conformance_cases!($crate::conformance_tests, [@optional $make]);
    };
    ([@optional $make:expr] $($case:ident),+ $(,)?) => {
        $(
            #[test]
            fn $case() {
                $crate::conformance::run_or_skip($make, $crate::conformance::$case);
            }
        )+
    };
    ([@required $make:expr] $($case:ident),+ $(,)?) => {
        $(
            #[test]
            fn $case() {
                $crate::conformance::run($make, $crate::conformance::$case);
            }
        )+
    };
    ($make:expr) => {
        $crate::conformance_cases!($crate::conformance_tests, [@required $make]);
    };
}

// ---------------------------------------------------------------------------------------
// Fixtures

/// Now, in whole seconds.
fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(0).unwrap_or(now)
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", random_identifier().expect("entropy"))
}

fn client_with_id(id: &str) -> Client {
    NewClient::new("Conformance web app", ClientKind::Web)
        .client_id(id)
        .description("created by portcullis_store::conformance")
        .redirect_uri("https://app.example/callback")
        .scopes(["openid", "profile"])
        .build(&ScopeCatalog::with_oidc_scopes())
        .expect("the conformance fixture client is valid")
        .client
}

fn new_client() -> Client {
    client_with_id(&unique("conf"))
}

fn family() -> FamilyId {
    FamilyId::generate().expect("entropy")
}

fn subject() -> Subject {
    Subject::new("conformance-user").expect("valid subject")
}

fn scopes(text: &str) -> ScopeSet {
    ScopeSet::parse(text).expect("valid scopes")
}

fn token(
    kind: TokenKind,
    client: &ClientId,
    family: &FamilyId,
    issued_at: OffsetDateTime,
    ttl: Duration,
) -> (RawToken, TokenRecord) {
    let raw = mint(kind).expect("entropy");
    let record = TokenRecord {
        hash: raw.lookup_key(),
        kind,
        client_id: client.clone(),
        subject: Some(subject()),
        scopes: scopes("openid profile"),
        roles: Vec::new(),
        family: family.clone(),
        issued_at,
        expires_at: issued_at + ttl,
        status: TokenStatus::Active,
        // Access tokens carry an audience and a DPoP binding, refresh tokens neither, so
        // both shapes make the round trip.
        audience: if kind == TokenKind::AccessToken {
            vec!["https://api.example/".into(), "urn:example:ledger".into()]
        } else {
            Vec::new()
        },
        confirmation: (kind == TokenKind::AccessToken)
            .then(|| "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I".into()),
    };
    (raw, record)
}

fn access(client: &ClientId, family: &FamilyId, at: OffsetDateTime) -> TokenRecord {
    token(
        TokenKind::AccessToken,
        client,
        family,
        at,
        Duration::hours(1),
    )
    .1
}

fn refresh(client: &ClientId, family: &FamilyId, at: OffsetDateTime) -> TokenRecord {
    token(
        TokenKind::RefreshToken,
        client,
        family,
        at,
        Duration::days(14),
    )
    .1
}

fn code(client: &ClientId, issued_at: OffsetDateTime, ttl: Duration) -> AuthorizationCode {
    AuthorizationCode {
        code: mint(TokenKind::AuthorizationCode)
            .expect("entropy")
            .lookup_key(),
        client_id: client.clone(),
        redirect_uri: Some("https://app.example/callback".into()),
        subject: subject(),
        scopes: scopes("openid"),
        nonce: Some("n-0S6_WzA2Mj".into()),
        code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
        code_challenge_method: Some("S256".into()),
        auth_time: Some(issued_at),
        family: family(),
        issued_at,
        expires_at: issued_at + ttl,
        resources: vec!["https://api.example/".into()],
        dpop_jkt: Some("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I".into()),
    }
}

fn pending(client: &ClientId, created_at: OffsetDateTime, ttl: Duration) -> PendingAuthorization {
    PendingAuthorization {
        handle: mint(TokenKind::PendingAuthorization)
            .expect("entropy")
            .lookup_key(),
        client_id: client.clone(),
        redirect_uri: "https://app.example/callback".into(),
        redirect_uri_in_request: true,
        response_type: "code".into(),
        response_mode: "query".into(),
        scopes: scopes("openid profile"),
        state: Some("xyz".into()),
        nonce: None,
        code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
        code_challenge_method: Some("S256".into()),
        prompt: vec!["consent".into()],
        max_age: Some(300),
        created_at,
        expires_at: created_at + ttl,
        resources: vec!["https://api.example/".into(), "urn:example:ledger".into()],
        dpop_jkt: Some("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I".into()),
    }
}

async fn status_of<S: Store>(store: &S, hash: &TokenHash, at: OffsetDateTime) -> TokenStatus {
    store
        .find_token(hash, at)
        .await
        .expect("find_token")
        .expect("the token is stored")
        .status
}

/// Asserts that each of `tokens` is stored with `status` as of `at`.
async fn assert_status<'a, S: Store>(
    store: &S,
    tokens: impl IntoIterator<Item = &'a TokenRecord>,
    status: TokenStatus,
    at: OffsetDateTime,
) {
    for token in tokens {
        assert_eq!(
            status_of(store, &token.hash, at).await,
            status,
            "status of a {} token",
            token.kind
        );
    }
}

fn assert_conflict(result: Result<(), StoreError>, family: RecordFamily, what: &str) {
    match result {
        Err(StoreError::Conflict { family: got, .. }) if got == family => {}
        other => panic!("{what}: expected a {family} conflict, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// Clients

/// An inserted client reads back equal; an unknown id reads as `None`.
pub async fn client_round_trip<S: Store>(store: Arc<S>) {
    let client = new_client();
    store.insert_client(client.clone()).await.unwrap();
    assert_eq!(store.get_client(&client.id).await.unwrap(), Some(client));
    let unknown = ClientId::new(unique("absent")).unwrap();
    assert_eq!(store.get_client(&unknown).await.unwrap(), None);
}

/// A second insert under the same id is a conflict and leaves the first record unchanged.
pub async fn client_insert_conflict_writes_nothing<S: Store>(store: Arc<S>) {
    let client = new_client();
    store.insert_client(client.clone()).await.unwrap();
    let mut other = client.clone();
    other.name = "Impostor".into();
    assert_conflict(
        store.insert_client(other).await,
        RecordFamily::Client,
        "duplicate client id",
    );
    assert_eq!(store.get_client(&client.id).await.unwrap(), Some(client));
}

/// `update_client` replaces the whole record and refuses an unknown id.
pub async fn client_update_replaces_and_requires_existing<S: Store>(store: Arc<S>) {
    let mut client = new_client();
    store.insert_client(client.clone()).await.unwrap();
    client.name = "Renamed".into();
    client.description = "a new description".into();
    client.access_token_lifetime_secs = 900;
    store.update_client(client.clone()).await.unwrap();
    assert_eq!(
        store.get_client(&client.id).await.unwrap(),
        Some(client.clone())
    );

    let ghost = new_client();
    match store.update_client(ghost.clone()).await {
        Err(StoreError::NotFound {
            family: RecordFamily::Client,
            ..
        }) => {}
        other => panic!("updating an unknown client: expected NotFound, got {other:?}"),
    }
    assert_eq!(store.get_client(&ghost.id).await.unwrap(), None);
}

/// `delete_client` answers whether the client existed and removes it.
pub async fn client_delete<S: Store>(store: Arc<S>) {
    let client = new_client();
    store.insert_client(client.clone()).await.unwrap();
    assert!(store.delete_client(&client.id).await.unwrap());
    assert_eq!(store.get_client(&client.id).await.unwrap(), None);
    assert!(!store.delete_client(&client.id).await.unwrap());
}

/// Clients list in id order, page by page.
pub async fn client_list_ordered_and_paged<S: Store>(store: Arc<S>) {
    let run = unique("list");
    // Inserted out of order on purpose.
    for suffix in ["c", "a", "e", "b", "d"] {
        store
            .insert_client(client_with_id(&format!("{run}-{suffix}")))
            .await
            .unwrap();
    }
    let mut after = Some(ClientId::new(format!("{run}-")).unwrap());
    let mut seen = Vec::new();
    for _ in 0..3 {
        let page = store
            .list_clients(Page {
                after: after.clone(),
                limit: 2,
            })
            .await
            .unwrap();
        assert!(page.len() <= 2, "a page holds at most `limit` clients");
        let Some(last) = page.last() else { break };
        after = Some(last.id.clone());
        seen.extend(page.into_iter().map(|c| c.id.to_string()));
    }
    let ours: Vec<String> = seen.into_iter().filter(|id| id.starts_with(&run)).collect();
    let expected: Vec<String> = ["a", "b", "c", "d", "e"]
        .iter()
        .map(|s| format!("{run}-{s}"))
        .collect();
    assert_eq!(ours, expected);
}

/// Updating a client to `revoked` revokes every token it holds in the same operation, and
/// no other client's.
pub async fn client_revocation_cuts_off_its_tokens<S: Store>(store: Arc<S>) {
    let at = now();
    let mut client = new_client();
    let bystander = new_client();
    store.insert_client(client.clone()).await.unwrap();
    store.insert_client(bystander.clone()).await.unwrap();
    let fam = family();
    let mine = vec![access(&client.id, &fam, at), refresh(&client.id, &fam, at)];
    let theirs = access(&bystander.id, &family(), at);
    store.insert_tokens(mine.clone()).await.unwrap();
    store.insert_tokens(vec![theirs.clone()]).await.unwrap();

    client.revoked = true;
    store.update_client(client.clone()).await.unwrap();
    assert!(store.get_client(&client.id).await.unwrap().unwrap().revoked);
    assert_status(&*store, &mine, TokenStatus::Revoked, at).await;
    assert_status(&*store, [&theirs], TokenStatus::Active, at).await;
}

/// Deleting a client revokes every token it holds.
pub async fn client_deletion_revokes_its_tokens<S: Store>(store: Arc<S>) {
    let at = now();
    let client = new_client();
    store.insert_client(client.clone()).await.unwrap();
    let token = access(&client.id, &family(), at);
    store.insert_tokens(vec![token.clone()]).await.unwrap();
    assert!(store.delete_client(&client.id).await.unwrap());
    assert!(
        !store
            .find_token(&token.hash, at)
            .await
            .unwrap()
            .is_some_and(|t| t.is_active(at)),
        "a deleted client's token must not stay active"
    );
}

// ---------------------------------------------------------------------------------------
// Scopes

fn scope_definition(name: &str) -> ScopeDefinition {
    ScopeDefinition {
        name: Scope::new(name).unwrap(),
        description: format!("conformance scope {name}"),
    }
}

/// A scope reads back equal, a duplicate name is a conflict, delete removes it.
pub async fn scope_round_trip_and_conflict<S: Store>(store: Arc<S>) {
    let name = format!("view:{}", unique("scope"));
    let scope = scope_definition(&name);
    store.insert_scope(scope.clone()).await.unwrap();
    assert_eq!(store.get_scope(&name).await.unwrap(), Some(scope.clone()));
    let mut again = scope.clone();
    again.description = "other".into();
    assert_conflict(
        store.insert_scope(again).await,
        RecordFamily::Scope,
        "duplicate scope",
    );
    assert_eq!(store.get_scope(&name).await.unwrap(), Some(scope));
    assert!(store.delete_scope(&name).await.unwrap());
    assert_eq!(store.get_scope(&name).await.unwrap(), None);
    assert!(!store.delete_scope(&name).await.unwrap());
}

/// Scopes list in name order and make up the catalog.
pub async fn scope_list_ordered_and_catalog<S: Store>(store: Arc<S>) {
    let run = unique("cat");
    let names: Vec<String> = ["update", "create", "view", "delete"]
        .iter()
        .map(|verb| format!("{run}:{verb}"))
        .collect();
    for name in &names {
        store.insert_scope(scope_definition(name)).await.unwrap();
    }
    let listed: Vec<String> = store
        .list_scopes()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.name.as_str().to_owned())
        .filter(|n| n.starts_with(&run))
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(listed, sorted);
    let catalog = store.scope_catalog().await.unwrap();
    for name in &names {
        assert!(catalog.contains(name), "catalog lacks {name}");
    }
}

// ---------------------------------------------------------------------------------------
// Pending authorizations

/// A pending authorization reads back equal, can be taken once, and then is gone.
pub async fn pending_round_trip_and_single_take<S: Store>(store: Arc<S>) {
    let at = now();
    let record = pending(&new_client().id, at, Duration::minutes(10));
    store.insert_pending(record.clone()).await.unwrap();
    assert_conflict(
        store.insert_pending(record.clone()).await,
        RecordFamily::PendingAuthorization,
        "duplicate pending handle",
    );
    assert_eq!(
        store.get_pending(&record.handle, at).await.unwrap(),
        Some(record.clone())
    );
    assert_eq!(
        store.take_pending(&record.handle, at).await.unwrap(),
        Some(record.clone())
    );
    assert_eq!(store.take_pending(&record.handle, at).await.unwrap(), None);
    assert_eq!(store.get_pending(&record.handle, at).await.unwrap(), None);
}

/// At and after `expires_at` a pending authorization can neither be read nor taken.
pub async fn pending_expired_is_gone<S: Store>(store: Arc<S>) {
    let at = now();
    let record = pending(&new_client().id, at, Duration::minutes(10));
    store.insert_pending(record.clone()).await.unwrap();
    let later = record.expires_at;
    assert_eq!(
        store.get_pending(&record.handle, later).await.unwrap(),
        None
    );
    assert_eq!(
        store.take_pending(&record.handle, later).await.unwrap(),
        None
    );
    let unknown = TokenHash::of("pc_pa_unknown");
    assert_eq!(store.get_pending(&unknown, at).await.unwrap(), None);
}

/// Of 100 concurrent `take_pending` calls exactly one gets the record.
pub async fn pending_take_single_use_under_concurrency<S: Store>(store: Arc<S>) {
    let at = now();
    let record = pending(&new_client().id, at, Duration::minutes(10));
    store.insert_pending(record.clone()).await.unwrap();
    let barrier = Arc::new(Barrier::new(CONCURRENT_CALLERS));
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENT_CALLERS {
        let (store, barrier, handle) = (store.clone(), barrier.clone(), record.handle);
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            store.take_pending(&handle, at).await.unwrap()
        }));
    }
    let mut winners = 0;
    for task in tasks {
        if let Some(taken) = task.await.unwrap() {
            assert_eq!(taken, record);
            winners += 1;
        }
    }
    assert_eq!(
        winners, 1,
        "exactly one caller may take a pending authorization"
    );
}

// ---------------------------------------------------------------------------------------
// Authorization codes

/// Tokens issued for `code`, in its family.
fn code_tokens(code: &AuthorizationCode, at: OffsetDateTime) -> Vec<TokenRecord> {
    vec![
        access(&code.client_id, &code.family, at),
        refresh(&code.client_id, &code.family, at),
    ]
}

async fn assert_absent<S: Store>(store: &S, tokens: &[TokenRecord], at: OffsetDateTime) {
    for token in tokens {
        assert_eq!(
            store.find_token(&token.hash, at).await.unwrap(),
            None,
            "a {} token must not be stored",
            token.kind
        );
    }
}

/// RFC 6749 §4.1.2: a code is redeemed once, storing its tokens in the same step;
/// redeeming it again stores nothing and reports the reuse with the original record so its
/// family can be revoked.
pub async fn code_redeemed_once_then_reported_as_reused<S: Store>(store: Arc<S>) {
    let at = now();
    let record = code(&new_client().id, at, Duration::minutes(1));
    store.insert_code(record.clone()).await.unwrap();
    assert_eq!(
        store.find_code(&record.code, at).await.unwrap(),
        Some(record.clone())
    );
    let first = code_tokens(&record, at);
    assert_eq!(
        store
            .redeem_code(&record.code, first.clone(), at)
            .await
            .unwrap(),
        CodeRedemption::Redeemed(record.clone())
    );
    assert_status(&*store, &first, TokenStatus::Active, at).await;

    let later = at + Duration::seconds(5);
    let second = code_tokens(&record, later);
    assert_eq!(
        store
            .redeem_code(&record.code, second.clone(), later)
            .await
            .unwrap(),
        CodeRedemption::AlreadyRedeemed(record.clone())
    );
    assert_absent(&*store, &second, later).await;
    // Still readable after redemption, so a replay can be traced to its family.
    assert_eq!(
        store.find_code(&record.code, later).await.unwrap(),
        Some(record)
    );
}

/// An expired or unknown code is `NotFound` and stores nothing.
pub async fn code_expired_or_unknown_is_not_found<S: Store>(store: Arc<S>) {
    let at = now();
    let record = code(&new_client().id, at, Duration::minutes(1));
    store.insert_code(record.clone()).await.unwrap();
    let late = record.expires_at;
    assert_eq!(store.find_code(&record.code, late).await.unwrap(), None);
    let tokens = code_tokens(&record, at);
    assert_eq!(
        store
            .redeem_code(&record.code, tokens.clone(), late)
            .await
            .unwrap(),
        CodeRedemption::NotFound
    );
    assert_absent(&*store, &tokens, at).await;
    let unknown = TokenHash::of("pc_ac_unknown");
    assert_eq!(store.find_code(&unknown, at).await.unwrap(), None);
    assert_eq!(
        store.redeem_code(&unknown, vec![], at).await.unwrap(),
        CodeRedemption::NotFound
    );
}

/// A second code under the same hash is a conflict; tokens outside the code's family or
/// clashing with stored ones are refused without redeeming the code.
pub async fn code_insert_conflict_and_bad_tokens_change_nothing<S: Store>(store: Arc<S>) {
    let at = now();
    let record = code(&new_client().id, at, Duration::minutes(1));
    store.insert_code(record.clone()).await.unwrap();
    let mut clash = record.clone();
    clash.redirect_uri = Some("https://evil.example/cb".into());
    assert_conflict(
        store.insert_code(clash).await,
        RecordFamily::AuthorizationCode,
        "duplicate code",
    );

    let stray = vec![access(&record.client_id, &family(), at)];
    match store.redeem_code(&record.code, stray.clone(), at).await {
        Err(StoreError::InvalidRecord { .. }) => {}
        other => panic!("tokens of another family: expected InvalidRecord, got {other:?}"),
    }
    assert_absent(&*store, &stray, at).await;

    let existing = access(&record.client_id, &record.family, at);
    store.insert_tokens(vec![existing.clone()]).await.unwrap();
    let fresh = refresh(&record.client_id, &record.family, at);
    assert_conflict(
        store
            .redeem_code(&record.code, vec![fresh.clone(), existing], at)
            .await
            .map(|_| ()),
        RecordFamily::Token,
        "redeeming with a clashing token",
    );
    assert_absent(&*store, &[fresh], at).await;

    let tokens = code_tokens(&record, at);
    assert_eq!(
        store.redeem_code(&record.code, tokens, at).await.unwrap(),
        CodeRedemption::Redeemed(record),
        "a refused redemption must leave the code redeemable"
    );
}

/// Of 100 concurrent redemptions of one code exactly one succeeds and only its tokens are
/// stored; all others see the reuse.
pub async fn code_single_use_under_concurrency<S: Store>(store: Arc<S>) {
    let at = now();
    let record = code(&new_client().id, at, Duration::minutes(1));
    store.insert_code(record.clone()).await.unwrap();
    let barrier = Arc::new(Barrier::new(CONCURRENT_CALLERS));
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENT_CALLERS {
        let tokens = code_tokens(&record, at);
        let (store, barrier, hash) = (store.clone(), barrier.clone(), record.code);
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let outcome = store.redeem_code(&hash, tokens.clone(), at).await.unwrap();
            (outcome, tokens)
        }));
    }
    let (mut redeemed, mut reused) = (0, 0);
    for task in tasks {
        let (outcome, tokens) = task.await.unwrap();
        match outcome {
            CodeRedemption::Redeemed(got) => {
                assert_eq!(got, record);
                assert_status(&*store, &tokens, TokenStatus::Active, at).await;
                redeemed += 1;
            }
            CodeRedemption::AlreadyRedeemed(got) => {
                assert_eq!(got.family, record.family);
                assert_absent(&*store, &tokens, at).await;
                reused += 1;
            }
            CodeRedemption::NotFound => panic!("a live code must never be NotFound"),
        }
    }
    assert_eq!((redeemed, reused), (1, CONCURRENT_CALLERS - 1));
    assert_eq!(
        store.list_family(&record.family, at).await.unwrap().len(),
        2
    );
}

// ---------------------------------------------------------------------------------------
// Tokens

/// A token reads back equal and active; from `expires_at` on it is not returned.
pub async fn token_round_trip_and_expiry<S: Store>(store: Arc<S>) {
    let at = now();
    let client = new_client();
    let mut record = access(&client.id, &family(), at);
    record.subject = None; // client credentials
    store.insert_tokens(vec![record.clone()]).await.unwrap();
    let found = store.find_token(&record.hash, at).await.unwrap();
    assert_eq!(found, Some(record.clone()));
    assert!(found.is_some_and(|t| t.is_active(at)));
    assert_eq!(
        store
            .find_token(&record.hash, record.expires_at)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .find_token(&TokenHash::of("pc_at_unknown"), at)
            .await
            .unwrap(),
        None
    );
}

/// A batch with a clashing hash writes nothing, not even its other records.
pub async fn token_insert_is_all_or_nothing<S: Store>(store: Arc<S>) {
    let at = now();
    let client = new_client();
    let fam = family();
    let existing = access(&client.id, &fam, at);
    store.insert_tokens(vec![existing.clone()]).await.unwrap();

    let fresh = refresh(&client.id, &fam, at);
    let mut clash = access(&client.id, &fam, at);
    clash.hash = existing.hash;
    assert_conflict(
        store.insert_tokens(vec![fresh.clone(), clash]).await,
        RecordFamily::Token,
        "batch with an existing hash",
    );
    assert_eq!(store.find_token(&fresh.hash, at).await.unwrap(), None);

    let twin = refresh(&client.id, &fam, at);
    assert_conflict(
        store.insert_tokens(vec![twin.clone(), twin.clone()]).await,
        RecordFamily::Token,
        "batch with the same hash twice",
    );
    assert_eq!(store.find_token(&twin.hash, at).await.unwrap(), None);
    assert_eq!(
        store.find_token(&existing.hash, at).await.unwrap(),
        Some(existing)
    );
}

/// RFC 9700 §4.14.2: a refresh token rotates once; presenting the rotated token again
/// revokes the whole family, the newest tokens included.
pub async fn refresh_rotation_then_reuse_revokes_family<S: Store>(store: Arc<S>) {
    let at = now();
    let client = new_client();
    let fam = family();
    let first_access = access(&client.id, &fam, at);
    let first_refresh = refresh(&client.id, &fam, at);
    store
        .insert_tokens(vec![first_access.clone(), first_refresh.clone()])
        .await
        .unwrap();

    let later = at + Duration::minutes(5);
    let next_access = access(&client.id, &fam, later);
    let next_refresh = refresh(&client.id, &fam, later);
    let outcome = store
        .rotate_refresh_token(
            &first_refresh.hash,
            vec![next_access.clone(), next_refresh.clone()],
            later,
        )
        .await
        .unwrap();
    assert_eq!(
        outcome,
        Rotation::Rotated {
            previous: first_refresh.clone()
        }
    );
    assert_status(&*store, [&first_refresh], TokenStatus::Rotated, later).await;
    assert_status(&*store, [&next_refresh], TokenStatus::Active, later).await;

    let replay = store
        .rotate_refresh_token(
            &first_refresh.hash,
            vec![refresh(&client.id, &fam, later)],
            later,
        )
        .await
        .unwrap();
    match replay {
        Rotation::ReuseDetected { family, revoked } => {
            assert_eq!(family, fam);
            assert!(
                revoked >= 3,
                "revoked {revoked}, expected the family's tokens"
            );
        }
        other => panic!("reuse of a rotated refresh token: got {other:?}"),
    }
    assert_status(
        &*store,
        [&first_access, &next_access, &next_refresh],
        TokenStatus::Revoked,
        later,
    )
    .await;
    assert_eq!(
        store
            .rotate_refresh_token(
                &next_refresh.hash,
                vec![refresh(&client.id, &fam, later)],
                later
            )
            .await
            .unwrap(),
        Rotation::Invalid
    );
}

/// Of 100 concurrent rotations of one refresh token exactly one succeeds and only its
/// successors are stored.
pub async fn refresh_rotation_single_use_under_concurrency<S: Store>(store: Arc<S>) {
    let at = now();
    let client = new_client();
    let fam = family();
    let presented = refresh(&client.id, &fam, at);
    store.insert_tokens(vec![presented.clone()]).await.unwrap();
    let barrier = Arc::new(Barrier::new(CONCURRENT_CALLERS));
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENT_CALLERS {
        let successor = refresh(&client.id, &fam, at);
        let (store, barrier, hash) = (store.clone(), barrier.clone(), presented.hash);
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let outcome = store
                .rotate_refresh_token(&hash, vec![successor.clone()], at)
                .await
                .unwrap();
            (outcome, successor)
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        let (outcome, successor) = task.await.unwrap();
        match outcome {
            Rotation::Rotated { previous } => {
                assert_eq!(previous.hash, presented.hash);
                winners.push(successor);
            }
            Rotation::ReuseDetected { .. } | Rotation::Invalid => {
                assert_eq!(
                    store.find_token(&successor.hash, at).await.unwrap(),
                    None,
                    "a losing caller's successor must not be stored"
                );
            }
        }
    }
    assert_eq!(winners.len(), 1, "exactly one rotation may succeed");
    let family_tokens = store.list_family(&fam, at).await.unwrap();
    assert_eq!(
        family_tokens.len(),
        2,
        "the presented token and one successor"
    );
}

/// Rotation refuses unknown, expired, revoked and non-refresh tokens, and successors that
/// are empty or leave the family, without changing anything.
pub async fn refresh_rotation_refuses_what_it_must<S: Store>(store: Arc<S>) {
    let at = now();
    let client = new_client();
    let fam = family();
    let live = refresh(&client.id, &fam, at);
    let revoked = refresh(&client.id, &fam, at);
    let access_token = access(&client.id, &fam, at);
    store
        .insert_tokens(vec![live.clone(), revoked.clone(), access_token.clone()])
        .await
        .unwrap();
    store.revoke_token(&revoked.hash, at).await.unwrap();
    let successor = || vec![refresh(&client.id, &fam, at)];

    let cases: [(&str, TokenHash, OffsetDateTime); 4] = [
        ("unknown", TokenHash::of("pc_rt_unknown"), at),
        ("expired", live.hash, live.expires_at),
        ("revoked", revoked.hash, at),
        ("access_token", access_token.hash, at),
    ];
    for (name, hash, when) in cases {
        assert_eq!(
            store
                .rotate_refresh_token(&hash, successor(), when)
                .await
                .unwrap(),
            Rotation::Invalid,
            "case {name}"
        );
    }

    let stray = refresh(&client.id, &family(), at);
    for (name, successors) in [("empty", vec![]), ("other_family", vec![stray.clone()])] {
        match store.rotate_refresh_token(&live.hash, successors, at).await {
            Err(StoreError::InvalidRecord { .. }) => {}
            other => panic!("case {name}: expected InvalidRecord, got {other:?}"),
        }
    }
    assert_eq!(store.find_token(&stray.hash, at).await.unwrap(), None);
    assert_status(&*store, [&live], TokenStatus::Active, at).await;
}

/// RFC 7009 §2.1: revoking a token returns its record, marks it revoked, leaves its
/// siblings alone, and is harmless to repeat.
pub async fn revoke_single_token<S: Store>(store: Arc<S>) {
    let at = now();
    let client = new_client();
    let fam = family();
    let target = access(&client.id, &fam, at);
    let sibling = refresh(&client.id, &fam, at);
    store
        .insert_tokens(vec![target.clone(), sibling.clone()])
        .await
        .unwrap();
    assert_eq!(
        store.revoke_token(&target.hash, at).await.unwrap(),
        Some(target.clone())
    );
    assert_status(&*store, [&target], TokenStatus::Revoked, at).await;
    assert_status(&*store, [&sibling], TokenStatus::Active, at).await;
    let again = store.revoke_token(&target.hash, at).await.unwrap();
    assert_eq!(again.map(|t| t.status), Some(TokenStatus::Revoked));
    assert_eq!(
        store
            .revoke_token(&TokenHash::of("pc_at_unknown"), at)
            .await
            .unwrap(),
        None
    );
}

/// Revoking a family revokes its tokens only, and counts them.
pub async fn revoke_family_touches_only_that_family<S: Store>(store: Arc<S>) {
    let at = now();
    let client = new_client();
    let (fam, other) = (family(), family());
    let ours = vec![access(&client.id, &fam, at), refresh(&client.id, &fam, at)];
    let theirs = access(&client.id, &other, at);
    store.insert_tokens(ours.clone()).await.unwrap();
    store.insert_tokens(vec![theirs.clone()]).await.unwrap();
    assert_eq!(store.revoke_family(&fam, at).await.unwrap(), 2);
    assert_eq!(store.revoke_family(&fam, at).await.unwrap(), 0);
    assert_status(&*store, &ours, TokenStatus::Revoked, at).await;
    assert_status(&*store, [&theirs], TokenStatus::Active, at).await;
}

/// Revoking a client's tokens revokes every family it holds and no other client's.
pub async fn revoke_client_tokens_touches_only_that_client<S: Store>(store: Arc<S>) {
    let at = now();
    let (client, bystander) = (new_client(), new_client());
    let ours = vec![
        access(&client.id, &family(), at),
        refresh(&client.id, &family(), at),
        access(&client.id, &family(), at),
    ];
    let theirs = access(&bystander.id, &family(), at);
    store.insert_tokens(ours.clone()).await.unwrap();
    store.insert_tokens(vec![theirs.clone()]).await.unwrap();
    assert_eq!(store.revoke_client_tokens(&client.id, at).await.unwrap(), 3);
    assert_status(&*store, &ours, TokenStatus::Revoked, at).await;
    assert_status(&*store, [&theirs], TokenStatus::Active, at).await;
}

/// Listings by client and by family are ordered by issue time and skip expired tokens.
pub async fn listings_are_ordered_and_skip_expired<S: Store>(store: Arc<S>) {
    let at = now();
    let client = new_client();
    let fam = family();
    let third = access(&client.id, &fam, at + Duration::seconds(2));
    let first = refresh(&client.id, &fam, at);
    let second = access(&client.id, &fam, at + Duration::seconds(1));
    let short = token(
        TokenKind::AccessToken,
        &client.id,
        &fam,
        at,
        Duration::seconds(30),
    )
    .1;
    store
        .insert_tokens(vec![
            third.clone(),
            first.clone(),
            second.clone(),
            short.clone(),
        ])
        .await
        .unwrap();
    let when = at + Duration::minutes(1); // `short` has expired by then
    let hashes = |tokens: Vec<TokenRecord>| tokens.into_iter().map(|t| t.hash).collect::<Vec<_>>();
    let expected = vec![first.hash, second.hash, third.hash];
    assert_eq!(
        hashes(store.list_client_tokens(&client.id, when).await.unwrap()),
        expected
    );
    assert_eq!(
        hashes(store.list_family(&fam, when).await.unwrap()),
        expected
    );
    assert!(store.list_family(&family(), when).await.unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------
// Browser sessions

fn unique_subject() -> Subject {
    Subject::new(unique("user")).expect("valid subject")
}

fn session(subject: &Subject, created_at: OffsetDateTime, ttl: Duration) -> SessionRecord {
    SessionRecord {
        id: TokenHash::of(&unique("session-handle")),
        subject: subject.clone(),
        auth_time: created_at,
        amr: vec!["pwd".into(), "otp".into()],
        clients: BTreeSet::from([new_client().id]),
        created_at,
        expires_at: created_at + ttl,
    }
}

/// A session reads back equal; a second insert under the same id is a conflict and leaves
/// the first record unchanged; an unknown id reads as `None`.
pub async fn session_round_trip_and_conflict<S: Store>(store: Arc<S>) {
    let at = now();
    let record = session(&unique_subject(), at, Duration::hours(8));
    store.insert_session(record.clone()).await.unwrap();
    assert_eq!(
        store.get_session(&record.id, at).await.unwrap(),
        Some(record.clone())
    );
    let mut clash = record.clone();
    clash.subject = unique_subject();
    assert_conflict(
        store.insert_session(clash).await,
        RecordFamily::Session,
        "duplicate session id",
    );
    assert_eq!(
        store.get_session(&record.id, at).await.unwrap(),
        Some(record)
    );
    let unknown = TokenHash::of(&unique("no-such-session"));
    assert_eq!(store.get_session(&unknown, at).await.unwrap(), None);
}

/// From `expires_at` on a session is neither returned nor changed; ending it removes it
/// without returning it.
pub async fn session_expired_is_gone<S: Store>(store: Arc<S>) {
    let at = now();
    let record = session(&unique_subject(), at, Duration::hours(1));
    store.insert_session(record.clone()).await.unwrap();
    let late = record.expires_at;
    assert_eq!(store.get_session(&record.id, late).await.unwrap(), None);
    assert!(
        !store
            .add_session_client(&record.id, &new_client().id, late)
            .await
            .unwrap(),
        "an expired session takes no clients"
    );
    // Read "as of" before expiry: the record is still stored, unchanged.
    assert_eq!(
        store.get_session(&record.id, at).await.unwrap(),
        Some(record.clone())
    );
    assert_eq!(store.delete_session(&record.id, late).await.unwrap(), None);
    assert_eq!(store.get_session(&record.id, at).await.unwrap(), None);
}

/// `add_session_client` adds a client to a live session, is harmless to repeat, changes
/// nothing else, and answers `false` for an unknown session.
pub async fn session_add_client<S: Store>(store: Arc<S>) {
    let at = now();
    let record = session(&unique_subject(), at, Duration::hours(8));
    store.insert_session(record.clone()).await.unwrap();
    let client = new_client().id;
    let later = at + Duration::minutes(1);
    assert!(
        store
            .add_session_client(&record.id, &client, later)
            .await
            .unwrap()
    );
    assert!(
        store
            .add_session_client(&record.id, &client, later)
            .await
            .unwrap(),
        "adding a client twice still answers true"
    );
    let mut expected = record.clone();
    expected.clients.insert(client.clone());
    assert_eq!(
        store.get_session(&record.id, later).await.unwrap(),
        Some(expected)
    );
    let unknown = TokenHash::of(&unique("no-such-session"));
    assert!(
        !store
            .add_session_client(&unknown, &client, later)
            .await
            .unwrap()
    );
    assert_eq!(store.get_session(&unknown, later).await.unwrap(), None);
}

/// 100 concurrent `add_session_client` calls with different clients all land: adding is
/// one atomic step, not read-modify-write.
pub async fn session_add_client_keeps_concurrent_additions<S: Store>(store: Arc<S>) {
    let at = now();
    let record = session(&unique_subject(), at, Duration::hours(8));
    store.insert_session(record.clone()).await.unwrap();
    let barrier = Arc::new(Barrier::new(CONCURRENT_CALLERS));
    let mut tasks = Vec::new();
    let mut expected = record.clients.clone();
    for _ in 0..CONCURRENT_CALLERS {
        let client = new_client().id;
        expected.insert(client.clone());
        let (store, barrier, id) = (store.clone(), barrier.clone(), record.id);
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            store.add_session_client(&id, &client, at).await.unwrap()
        }));
    }
    for task in tasks {
        assert!(task.await.unwrap(), "the session is live");
    }
    let stored = store.get_session(&record.id, at).await.unwrap().unwrap();
    assert_eq!(
        stored.clients.len(),
        expected.len(),
        "a concurrent addition was lost"
    );
    assert_eq!(stored.clients, expected);
}

/// Of 100 concurrent `delete_session` calls exactly one gets the record; then it is gone.
pub async fn session_delete_single_use_under_concurrency<S: Store>(store: Arc<S>) {
    let at = now();
    let record = session(&unique_subject(), at, Duration::hours(8));
    store.insert_session(record.clone()).await.unwrap();
    let barrier = Arc::new(Barrier::new(CONCURRENT_CALLERS));
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENT_CALLERS {
        let (store, barrier, id) = (store.clone(), barrier.clone(), record.id);
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            store.delete_session(&id, at).await.unwrap()
        }));
    }
    let mut winners = 0;
    for task in tasks {
        if let Some(ended) = task.await.unwrap() {
            assert_eq!(ended, record);
            winners += 1;
        }
    }
    assert_eq!(winners, 1, "exactly one caller may end a session");
    assert_eq!(store.get_session(&record.id, at).await.unwrap(), None);
}

/// "Log out everywhere": every session of the subject ends, expired ones included but not
/// counted, and no other subject's.
pub async fn session_delete_subject_sessions_touches_only_that_subject<S: Store>(store: Arc<S>) {
    let at = now();
    let (user, bystander) = (unique_subject(), unique_subject());
    let live = [
        session(&user, at, Duration::hours(8)),
        session(&user, at - Duration::minutes(5), Duration::hours(8)),
    ];
    let expired = session(&user, at - Duration::hours(2), Duration::hours(1));
    let theirs = session(&bystander, at, Duration::hours(8));
    for record in live.iter().chain([&expired, &theirs]) {
        store.insert_session(record.clone()).await.unwrap();
    }
    assert_eq!(store.delete_subject_sessions(&user, at).await.unwrap(), 2);
    for record in &live {
        assert_eq!(store.get_session(&record.id, at).await.unwrap(), None);
    }
    assert_eq!(
        store
            .get_session(&expired.id, expired.created_at)
            .await
            .unwrap(),
        None,
        "the subject's expired session is removed as well"
    );
    assert_eq!(
        store.get_session(&theirs.id, at).await.unwrap(),
        Some(theirs)
    );
    assert_eq!(store.delete_subject_sessions(&user, at).await.unwrap(), 0);
}

// ---------------------------------------------------------------------------------------
// Signing keys

/// Taken by every case that activates keys: a store has one active key, so those cases
/// take turns (see the module documentation).
static KEY_ROTATION: Mutex<()> = Mutex::const_new(());

fn key(kid: &str, created_at: OffsetDateTime) -> KeyRecord {
    // Not a real key: the store keeps bytes, whatever they are, and must keep every byte.
    let mut private_pkcs8 = vec![0x30, 0x81, 0x00, 0xff, 0xfe];
    private_pkcs8.extend_from_slice(kid.as_bytes());
    KeyRecord {
        kid: kid.to_owned(),
        algorithm: "ES256".into(),
        private_pkcs8,
        created_at,
        activated_at: None,
        retired_at: None,
    }
}

fn new_key(created_at: OffsetDateTime) -> KeyRecord {
    key(&unique("kid"), created_at)
}

async fn stored_key<S: Store>(store: &S, kid: &str) -> Option<KeyRecord> {
    store
        .list_keys()
        .await
        .unwrap()
        .into_iter()
        .find(|key| key.kid == kid)
}

/// The kids of every active key in the store.
async fn active_kids<S: Store>(store: &S) -> Vec<String> {
    store
        .list_keys()
        .await
        .unwrap()
        .into_iter()
        .filter(KeyRecord::is_active)
        .map(|key| key.kid)
        .collect()
}

fn assert_invalid_key<T: std::fmt::Debug>(result: Result<T, StoreError>, what: &str) {
    match result {
        Err(StoreError::InvalidRecord {
            family: RecordFamily::SigningKey,
            ..
        }) => {}
        other => panic!("{what}: expected an invalid signing key write, got {other:?}"),
    }
}

/// Keys read back equal, listed by `created_at` then `kid`; inserting never activates
/// (an active record is refused); a duplicate kid is a conflict and changes nothing; a
/// retired key can be imported.
pub async fn key_insert_list_and_conflict<S: Store>(store: Arc<S>) {
    let at = now();
    let run = unique("kid");
    // Listed first for its `created_at`, although its kid sorts last.
    let first = key(&format!("{run}-4"), at - Duration::seconds(1));
    let third = key(&format!("{run}-3"), at);
    let second = key(&format!("{run}-2"), at);
    for record in [&third, &first, &second] {
        store.insert_key(record.clone()).await.unwrap();
    }
    let listed: Vec<KeyRecord> = store
        .list_keys()
        .await
        .unwrap()
        .into_iter()
        .filter(|key| key.kid.starts_with(&run))
        .collect();
    assert_eq!(listed, vec![first.clone(), second.clone(), third.clone()]);
    assert!(
        listed.iter().all(|key| !key.is_active()),
        "inserting never activates"
    );

    let mut clash = second.clone();
    clash.algorithm = "EdDSA".into();
    clash.private_pkcs8 = vec![1, 2, 3];
    assert_conflict(
        store.insert_key(clash).await,
        RecordFamily::SigningKey,
        "duplicate kid",
    );
    assert_eq!(stored_key(&*store, &second.kid).await, Some(second));

    let mut eager = new_key(at);
    eager.activated_at = Some(at);
    assert_invalid_key(
        store.insert_key(eager.clone()).await,
        "inserting an active key",
    );
    assert_eq!(stored_key(&*store, &eager.kid).await, None);

    let mut imported = new_key(at - Duration::days(60));
    imported.activated_at = Some(at - Duration::days(30));
    imported.retired_at = Some(at - Duration::days(1));
    store.insert_key(imported.clone()).await.unwrap();
    assert_eq!(stored_key(&*store, &imported.kid).await, Some(imported));
}

/// Activating a key makes it the only active one and retires the previous one with
/// `retired_at = now`; activating the active key again changes nothing; a retired key is
/// never activated again.
pub async fn key_activation_retires_the_previous<S: Store>(store: Arc<S>) {
    let _turn = KEY_ROTATION.lock().await;
    let t1 = now();
    let t2 = t1 + Duration::minutes(5);
    let (a, b) = (new_key(t1), new_key(t1));
    store.insert_key(a.clone()).await.unwrap();
    store.insert_key(b.clone()).await.unwrap();

    store.activate_key(&a.kid, t1).await.unwrap();
    let a_active = stored_key(&*store, &a.kid).await.unwrap();
    assert_eq!(a_active.activated_at, Some(t1));
    assert!(a_active.is_active());
    assert_eq!(active_kids(&*store).await, vec![a.kid.clone()]);

    store.activate_key(&a.kid, t2).await.unwrap();
    assert_eq!(
        stored_key(&*store, &a.kid).await,
        Some(a_active.clone()),
        "activating the active key changes nothing"
    );

    store.activate_key(&b.kid, t2).await.unwrap();
    let b_active = stored_key(&*store, &b.kid).await.unwrap();
    assert_eq!(b_active.activated_at, Some(t2));
    assert!(b_active.is_active());
    let a_retired = stored_key(&*store, &a.kid).await.unwrap();
    assert_eq!(a_retired.activated_at, Some(t1));
    assert_eq!(a_retired.retired_at, Some(t2));
    assert_eq!(active_kids(&*store).await, vec![b.kid.clone()]);
    assert_eq!(store.active_key().await.unwrap(), Some(b_active));

    assert_invalid_key(
        store.activate_key(&a.kid, t2 + Duration::minutes(1)).await,
        "activating a retired key",
    );
    assert_eq!(stored_key(&*store, &a.kid).await, Some(a_retired));
    assert_eq!(active_kids(&*store).await, vec![b.kid]);
}

/// Activating an unknown kid is `NotFound` and leaves the active key alone.
pub async fn key_activate_unknown_is_not_found<S: Store>(store: Arc<S>) {
    let _turn = KEY_ROTATION.lock().await;
    let at = now();
    let current = new_key(at);
    store.insert_key(current.clone()).await.unwrap();
    store.activate_key(&current.kid, at).await.unwrap();
    match store
        .activate_key(&unique("no-such-kid"), at + Duration::minutes(1))
        .await
    {
        Err(StoreError::NotFound {
            family: RecordFamily::SigningKey,
            ..
        }) => {}
        other => panic!("activating an unknown kid: expected NotFound, got {other:?}"),
    }
    assert_eq!(active_kids(&*store).await, vec![current.kid]);
}

/// The active key cannot be deleted; new and retired keys can, once.
pub async fn key_delete_refuses_the_active_key<S: Store>(store: Arc<S>) {
    let _turn = KEY_ROTATION.lock().await;
    let at = now();
    let (old, current, next) = (new_key(at), new_key(at), new_key(at));
    for record in [&old, &current, &next] {
        store.insert_key(record.clone()).await.unwrap();
    }
    store.activate_key(&old.kid, at).await.unwrap();
    store
        .activate_key(&current.kid, at + Duration::minutes(1))
        .await
        .unwrap();

    assert_invalid_key(
        store.delete_key(&current.kid).await,
        "deleting the active key",
    );
    assert!(
        stored_key(&*store, &current.kid)
            .await
            .is_some_and(|key| key.is_active())
    );

    assert!(store.delete_key(&old.kid).await.unwrap(), "a retired key");
    assert_eq!(stored_key(&*store, &old.kid).await, None);
    assert!(
        !store.delete_key(&old.kid).await.unwrap(),
        "already deleted"
    );
    assert!(store.delete_key(&next.kid).await.unwrap(), "a new key");
    assert_eq!(active_kids(&*store).await, vec![current.kid]);
}

/// 100 concurrent activations of different keys leave exactly one key active; every other
/// one was active for a moment and is retired.
pub async fn key_activation_single_active_under_concurrency<S: Store>(store: Arc<S>) {
    let _turn = KEY_ROTATION.lock().await;
    let at = now();
    let keys: Vec<KeyRecord> = (0..CONCURRENT_CALLERS).map(|_| new_key(at)).collect();
    for record in &keys {
        store.insert_key(record.clone()).await.unwrap();
    }
    let barrier = Arc::new(Barrier::new(CONCURRENT_CALLERS));
    let mut tasks = Vec::new();
    for record in &keys {
        let (store, barrier, kid) = (store.clone(), barrier.clone(), record.kid.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            store.activate_key(&kid, at).await.unwrap();
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }

    let active = active_kids(&*store).await;
    assert_eq!(active.len(), 1, "exactly one key may be active");
    let ours: HashSet<&str> = keys.iter().map(|key| key.kid.as_str()).collect();
    assert!(
        active.iter().all(|kid| ours.contains(kid.as_str())),
        "the active key is one of those just activated"
    );
    for record in &keys {
        let stored = stored_key(&*store, &record.kid).await.unwrap();
        assert_eq!(stored.activated_at, Some(at), "every key was activated");
        if !stored.is_active() {
            assert_eq!(stored.retired_at, Some(at), "a replaced key is retired");
            assert!(store.delete_key(&record.kid).await.unwrap());
        }
    }
}

// ---------------------------------------------------------------------------------------
// Sweeping

/// `sweep_expired` deletes expired pending authorizations, codes, tokens and sessions, and
/// nothing live; signing keys never expire and stay.
pub async fn sweep_removes_only_expired_records<S: Store>(store: Arc<S>) {
    let at = now();
    let past = at - Duration::hours(2);
    let client = new_client();
    let user = unique_subject();
    let old_pending = pending(&client.id, past, Duration::minutes(10));
    let old_code = code(&client.id, past, Duration::minutes(1));
    let old_token = access(&client.id, &family(), past);
    let old_session = session(&user, past, Duration::hours(1));
    let old_key = new_key(past - Duration::days(400));
    let live_pending = pending(&client.id, at, Duration::minutes(10));
    let live_code = code(&client.id, at, Duration::minutes(1));
    let live_token = access(&client.id, &family(), at);
    let live_session = session(&user, at, Duration::hours(1));
    for p in [&old_pending, &live_pending] {
        store.insert_pending(p.clone()).await.unwrap();
    }
    for c in [&old_code, &live_code] {
        store.insert_code(c.clone()).await.unwrap();
    }
    store
        .insert_tokens(vec![old_token.clone(), live_token.clone()])
        .await
        .unwrap();
    for s in [&old_session, &live_session] {
        store.insert_session(s.clone()).await.unwrap();
    }
    store.insert_key(old_key.clone()).await.unwrap();

    let mut swept = 0;
    loop {
        let n = store.sweep_expired(at, 1000).await.unwrap();
        swept += n;
        if n < 1000 {
            break;
        }
    }
    assert!(swept >= 4, "swept {swept}, expected at least our four");
    // Read "as of" before expiry: only a record that is really gone reads as absent.
    assert_eq!(
        store.get_pending(&old_pending.handle, past).await.unwrap(),
        None
    );
    assert_eq!(store.find_code(&old_code.code, past).await.unwrap(), None);
    assert_eq!(store.find_token(&old_token.hash, past).await.unwrap(), None);
    assert_eq!(
        store.get_session(&old_session.id, past).await.unwrap(),
        None
    );

    assert!(
        store
            .get_pending(&live_pending.handle, at)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        store.find_code(&live_code.code, at).await.unwrap(),
        Some(live_code)
    );
    assert!(
        store
            .find_token(&live_token.hash, at)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        store.get_session(&live_session.id, at).await.unwrap(),
        Some(live_session)
    );
    assert_eq!(stored_key(&*store, &old_key.kid).await, Some(old_key));
}
