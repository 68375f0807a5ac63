//! The conformance kit: the storage contract as async test functions.
//!
//! Every store implementation runs all of them against itself; a store is correct when they
//! pass. Each function takes a fresh `Arc` of the store and panics (as a test assertion) on
//! the first broken clause. They create records with random ids and never assume the store
//! is empty, so one database can serve all of them at once. Times are whole seconds: a
//! store must keep at least one-second precision.
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

use std::future::Future;
use std::sync::Arc;

use portcullis_registry::{
    Client, ClientId, ClientKind, NewClient, Scope, ScopeCatalog, ScopeDefinition, ScopeSet,
};
use portcullis_tokens::{RawToken, Subject, TokenHash, TokenKind, mint, random_identifier};
use time::{Duration, OffsetDateTime};
use tokio::sync::Barrier;

use crate::{
    AuthorizationCode, CodeRedemption, FamilyId, Page, PendingAuthorization, RecordFamily,
    Rotation, Store, StoreError, TokenRecord, TokenStatus,
};

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

/// Generates one `#[test]` per conformance case for the store that `$make` builds.
///
/// `$make` is an expression callable as `FnOnce() -> impl Future<Output = S>` where
/// `S: portcullis_store::Store`; it is evaluated once per test.
///
/// ```
/// mod memory {
///     portcullis_store::conformance_tests!(|| async { portcullis_store::MemoryStore::new() });
/// }
/// ```
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@cases $make;
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
            sweep_removes_only_expired_records,
        );
    };
    (@cases $make:expr; $($case:ident),+ $(,)?) => {
        $(
            #[test]
            fn $case() {
                $crate::conformance::run($make, $crate::conformance::$case);
            }
        )+
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

/// `sweep_expired` deletes expired pending authorizations, codes and tokens, and nothing
/// live.
pub async fn sweep_removes_only_expired_records<S: Store>(store: Arc<S>) {
    let at = now();
    let past = at - Duration::hours(2);
    let client = new_client();
    let old_pending = pending(&client.id, past, Duration::minutes(10));
    let old_code = code(&client.id, past, Duration::minutes(1));
    let old_token = access(&client.id, &family(), past);
    let live_pending = pending(&client.id, at, Duration::minutes(10));
    let live_code = code(&client.id, at, Duration::minutes(1));
    let live_token = access(&client.id, &family(), at);
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

    let mut swept = 0;
    loop {
        let n = store.sweep_expired(at, 1000).await.unwrap();
        swept += n;
        if n < 1000 {
            break;
        }
    }
    assert!(swept >= 3, "swept {swept}, expected at least our three");
    // Read "as of" before expiry: only a record that is really gone reads as absent.
    assert_eq!(
        store.get_pending(&old_pending.handle, past).await.unwrap(),
        None
    );
    assert_eq!(store.find_code(&old_code.code, past).await.unwrap(), None);
    assert_eq!(store.find_token(&old_token.hash, past).await.unwrap(), None);

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
}
