//! What the conformance kit cannot see: the keys in Redis — their native expiry, their
//! prefix, single use under contention at the command level — and the claim protocol and
//! its compensation on a real server. Each test uses its own key prefix and deletes its
//! keys at the end; without Redis they are skipped (or fail, when `CI` is set).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use portcullis_registry::{ClientId, ScopeSet};
use portcullis_store::testing::{Failure, FaultyStore};
use portcullis_store::{
    AuthorizationCode, CodeClaim, CodeClaimStore, CodeRedemption, CodeStore, FamilyId, MemoryStore,
    PendingAuthorization, PendingAuthorizationStore, RecordFamily, RoutedStore, SessionRecord,
    SessionStore, StoreError, SweepExpired, TokenRecord, TokenStatus,
};
use portcullis_store_redis::{RedisStore, RedisStoreError};
use portcullis_tokens::{Subject, TokenHash, TokenKind, mint, random_identifier};
use redis::aio::MultiplexedConnection;
use time::{Duration, OffsetDateTime};
use tokio::sync::Barrier;

const CALLERS: usize = 100;

// ---------------------------------------------------------------------------------------
// Fixtures

fn client() -> ClientId {
    ClientId::new("redis-test").unwrap()
}

fn pending(created_at: OffsetDateTime, expires_at: OffsetDateTime) -> PendingAuthorization {
    PendingAuthorization {
        handle: mint(TokenKind::PendingAuthorization).unwrap().lookup_key(),
        client_id: client(),
        redirect_uri: "https://app.example/cb".into(),
        redirect_uri_in_request: true,
        response_type: "code".into(),
        response_mode: "query".into(),
        scopes: ScopeSet::parse("openid").unwrap(),
        state: Some("s".into()),
        nonce: None,
        code_challenge: None,
        code_challenge_method: None,
        prompt: Vec::new(),
        max_age: None,
        created_at,
        expires_at,
        resources: Vec::new(),
        dpop_jkt: None,
    }
}

fn code(issued_at: OffsetDateTime, expires_at: OffsetDateTime) -> AuthorizationCode {
    AuthorizationCode {
        code: mint(TokenKind::AuthorizationCode).unwrap().lookup_key(),
        client_id: client(),
        redirect_uri: None,
        subject: Subject::new("user-1").unwrap(),
        scopes: ScopeSet::parse("openid").unwrap(),
        nonce: None,
        code_challenge: None,
        code_challenge_method: None,
        auth_time: Some(issued_at),
        family: FamilyId::generate().unwrap(),
        issued_at,
        expires_at,
        resources: Vec::new(),
        dpop_jkt: None,
    }
}

fn subject() -> Subject {
    Subject::new(format!("user-{}", random_identifier().unwrap())).unwrap()
}

fn session(
    subject: &Subject,
    created_at: OffsetDateTime,
    expires_at: OffsetDateTime,
) -> SessionRecord {
    SessionRecord {
        id: TokenHash::of(&random_identifier().unwrap()),
        subject: subject.clone(),
        auth_time: created_at,
        amr: vec!["pwd".into()],
        clients: BTreeSet::from([client()]),
        created_at,
        expires_at,
    }
}

fn tokens_for(code: &AuthorizationCode, at: OffsetDateTime) -> Vec<TokenRecord> {
    vec![TokenRecord {
        hash: mint(TokenKind::AccessToken).unwrap().lookup_key(),
        kind: TokenKind::AccessToken,
        client_id: code.client_id.clone(),
        subject: Some(code.subject.clone()),
        scopes: code.scopes.clone(),
        roles: Vec::new(),
        family: code.family.clone(),
        issued_at: at,
        expires_at: at + Duration::hours(1),
        status: TokenStatus::Active,
        audience: Vec::new(),
        confirmation: None,
    }]
}

/// `expires_at` as the Unix millisecond Redis should expire the key at (rounded up).
fn millis(expires_at: OffsetDateTime) -> i64 {
    i64::try_from((expires_at.unix_timestamp_nanos() + 999_999).div_euclid(1_000_000)).unwrap()
}

async fn raw(url: &str) -> MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

async fn expire_time(connection: &mut MultiplexedConnection, key: &str) -> i64 {
    redis::cmd("PEXPIRETIME")
        .arg(key)
        .query_async(connection)
        .await
        .unwrap()
}

async fn exists(connection: &mut MultiplexedConnection, key: &str) -> bool {
    redis::cmd("EXISTS")
        .arg(key)
        .query_async(connection)
        .await
        .unwrap()
}

async fn value(connection: &mut MultiplexedConnection, key: &str) -> Option<String> {
    redis::cmd("GET")
        .arg(key)
        .query_async(connection)
        .await
        .unwrap()
}

async fn smembers(connection: &mut MultiplexedConnection, key: &str) -> BTreeSet<String> {
    redis::cmd("SMEMBERS")
        .arg(key)
        .query_async(connection)
        .await
        .unwrap()
}

/// Every key in the database that mentions `needle`.
async fn keys_with(connection: &mut MultiplexedConnection, needle: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("*{needle}*"))
            .arg("COUNT")
            .arg(1000)
            .query_async(connection)
            .await
            .unwrap();
        keys.extend(batch);
        if next == 0 {
            return keys;
        }
        cursor = next;
    }
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

// ---------------------------------------------------------------------------------------
// Native expiry

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_key_expires_natively_at_its_records_expires_at() {
    let Some((url, prefix, _cleanup)) = common::setup() else {
        return;
    };
    let store = common::connect(&url, &prefix).await;
    let mut redis = raw(&url).await;
    let at = now();
    // Not on a millisecond boundary: the key must not expire before the record.
    let expires = at + Duration::minutes(10) + Duration::nanoseconds(123_456);

    let p = pending(at, expires);
    store.insert_pending(p.clone()).await.unwrap();
    let key = format!("{prefix}pending:{}", p.handle);
    assert_eq!(expire_time(&mut redis, &key).await, millis(expires));

    let c = code(at, expires);
    store.insert_code(c.clone()).await.unwrap();
    let key = format!("{prefix}code:{}", c.code);
    assert_eq!(expire_time(&mut redis, &key).await, millis(expires));
    // Claiming and confirming keep the expiry: a redeemed code is remembered until then.
    store.claim_code(&c.code, at).await.unwrap();
    assert_eq!(expire_time(&mut redis, &key).await, millis(expires));
    store.confirm_code(&c.code).await.unwrap();
    assert_eq!(expire_time(&mut redis, &key).await, millis(expires));

    let user = subject();
    let s = session(&user, at, expires);
    store.insert_session(s.clone()).await.unwrap();
    let index = format!("{prefix}subject-sessions:{}", TokenHash::of(user.as_str()));
    for key in [
        format!("{prefix}session:{}", s.id),
        format!("{prefix}session-clients:{}", s.id),
        index.clone(),
    ] {
        assert_eq!(
            expire_time(&mut redis, &key).await,
            millis(expires),
            "{key}"
        );
    }

    // The subject's index lives as long as the subject's longest session.
    let later = expires + Duration::hours(1);
    let mut bare = session(&user, at, later);
    bare.clients.clear();
    store.insert_session(bare.clone()).await.unwrap();
    assert_eq!(expire_time(&mut redis, &index).await, millis(later));
    store
        .insert_session(session(&user, at, at + Duration::minutes(1)))
        .await
        .unwrap();
    assert_eq!(expire_time(&mut redis, &index).await, millis(later));
    // A client set created by the first addition expires with its session.
    assert!(
        store
            .add_session_client(&bare.id, &client(), at)
            .await
            .unwrap()
    );
    let clients = format!("{prefix}session-clients:{}", bare.id);
    assert_eq!(expire_time(&mut redis, &clients).await, millis(later));

    let score: f64 = redis::cmd("ZSCORE")
        .arg(format!("{prefix}expiries"))
        .arg(format!("pending:{}", p.handle))
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(score, millis(expires) as f64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_drops_a_record_when_it_expires() {
    let Some((url, prefix, _cleanup)) = common::setup() else {
        return;
    };
    let store = common::connect(&url, &prefix).await;
    let mut redis = raw(&url).await;
    let at = now();
    let p = pending(at, at + Duration::milliseconds(300));
    store.insert_pending(p.clone()).await.unwrap();
    assert_eq!(
        store.get_pending(&p.handle, at).await.unwrap(),
        Some(p.clone())
    );
    tokio::time::sleep(StdDuration::from_millis(600)).await;
    assert!(!exists(&mut redis, &format!("{prefix}pending:{}", p.handle)).await);
    // Asked as of before its expiry: gone from Redis, not merely hidden.
    assert_eq!(store.get_pending(&p.handle, at).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_record_expired_on_arrival_is_not_stored_yet_swept_and_counted() {
    let Some((url, prefix, _cleanup)) = common::setup() else {
        return;
    };
    let store = common::connect(&url, &prefix).await;
    let mut redis = raw(&url).await;
    let at = now();
    let past = at - Duration::hours(1);
    let old = pending(past, past + Duration::minutes(10));
    store.insert_pending(old.clone()).await.unwrap();
    assert!(!exists(&mut redis, &format!("{prefix}pending:{}", old.handle)).await);
    assert_eq!(store.get_pending(&old.handle, past).await.unwrap(), None);

    let old_session = session(&subject(), past, past + Duration::minutes(10));
    store.insert_session(old_session.clone()).await.unwrap();
    assert!(
        keys_with(&mut redis, &old_session.id.to_string())
            .await
            .is_empty()
    );

    let live = pending(at, at + Duration::minutes(10));
    store.insert_pending(live.clone()).await.unwrap();
    assert_eq!(store.sweep_expired(at, 1).await.unwrap(), 1);
    assert_eq!(store.sweep_expired(at, 100).await.unwrap(), 1);
    assert_eq!(store.sweep_expired(at, 100).await.unwrap(), 0);
    assert_eq!(
        store.get_pending(&live.handle, at).await.unwrap(),
        Some(live.clone())
    );

    // A `now` ahead of Redis's clock: the record has expired for the caller, so the sweep
    // deletes it although Redis would keep it a while longer. (The sweep works in whole
    // milliseconds and never early: from the millisecond after `expires_at`.)
    assert_eq!(
        store
            .sweep_expired(live.expires_at - Duration::milliseconds(1), 100)
            .await
            .unwrap(),
        0
    );
    let ahead = live.expires_at + Duration::milliseconds(1);
    assert_eq!(store.sweep_expired(ahead, 100).await.unwrap(), 1);
    assert!(!exists(&mut redis, &format!("{prefix}pending:{}", live.handle)).await);
    let expiries: u64 = redis::cmd("ZCARD")
        .arg(format!("{prefix}expiries"))
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(expiries, 0);
}

// ---------------------------------------------------------------------------------------
// Single use under contention

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn getdel_gives_a_record_to_one_of_100_concurrent_callers() {
    let Some((url, prefix, _cleanup)) = common::setup() else {
        return;
    };
    let store = Arc::new(common::connect(&url, &prefix).await);
    let at = now();
    let p = pending(at, at + Duration::minutes(10));
    store.insert_pending(p.clone()).await.unwrap();
    let s = session(&subject(), at, at + Duration::hours(1));
    store.insert_session(s.clone()).await.unwrap();

    let barrier = Arc::new(Barrier::new(CALLERS));
    let mut tasks = Vec::new();
    for _ in 0..CALLERS {
        let (store, barrier) = (store.clone(), barrier.clone());
        let (handle, id) = (p.handle, s.id);
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let taken = store.take_pending(&handle, at).await.unwrap();
            let ended = store.delete_session(&id, at).await.unwrap();
            (taken, ended)
        }));
    }
    let (mut taken, mut ended) = (Vec::new(), Vec::new());
    for task in tasks {
        let (t, e) = task.await.unwrap();
        taken.extend(t);
        ended.extend(e);
    }
    assert_eq!(taken, vec![p]);
    assert_eq!(ended, vec![s]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_of_100_concurrent_callers_claims_a_code() {
    let Some((url, prefix, _cleanup)) = common::setup() else {
        return;
    };
    // The winner never settles: the others wait 100 ms, then read the code as redeemed.
    let store = Arc::new(
        common::connect(&url, &prefix)
            .await
            .with_claim_wait(StdDuration::from_millis(100)),
    );
    let at = now();
    let c = code(at, at + Duration::minutes(1));
    store.insert_code(c.clone()).await.unwrap();
    let barrier = Arc::new(Barrier::new(CALLERS));
    let mut tasks = Vec::new();
    for _ in 0..CALLERS {
        let (store, barrier, hash) = (store.clone(), barrier.clone(), c.code);
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            store.claim_code(&hash, at).await.unwrap()
        }));
    }
    let (mut claimed, mut refused) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            CodeClaim::Claimed(record) => {
                assert_eq!(record, c);
                claimed += 1;
            }
            CodeClaim::AlreadyRedeemed(record) => {
                assert_eq!(record, c);
                refused += 1;
            }
            CodeClaim::NotFound => panic!("a live code is never NotFound"),
        }
    }
    assert_eq!((claimed, refused), (1, CALLERS - 1));
}

// ---------------------------------------------------------------------------------------
// Prefixes

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stores_with_different_prefixes_never_see_each_other() {
    let Some((url, prefix_a, _cleanup_a)) = common::setup() else {
        return;
    };
    let prefix_b = common::unique_prefix();
    let _cleanup_b = common::Cleanup {
        url: url.clone(),
        prefix: prefix_b.clone(),
    };
    let a = common::connect(&url, &prefix_a).await;
    let b = common::connect(&url, &prefix_b).await;
    let mut redis = raw(&url).await;
    let at = now();
    let user = subject();

    let p = pending(at, at + Duration::minutes(10));
    let c = code(at, at + Duration::minutes(1));
    let s = session(&user, at, at + Duration::hours(1));
    a.insert_pending(p.clone()).await.unwrap();
    a.insert_code(c.clone()).await.unwrap();
    a.insert_session(s.clone()).await.unwrap();

    assert_eq!(b.get_pending(&p.handle, at).await.unwrap(), None);
    assert_eq!(b.find_code(&c.code, at).await.unwrap(), None);
    assert_eq!(
        b.claim_code(&c.code, at).await.unwrap(),
        CodeClaim::NotFound
    );
    assert_eq!(b.get_session(&s.id, at).await.unwrap(), None);
    assert_eq!(b.delete_subject_sessions(&user, at).await.unwrap(), 0);
    // The same records again under b: no conflict.
    b.insert_pending(p.clone()).await.unwrap();
    b.insert_session(s.clone()).await.unwrap();
    assert_eq!(
        b.take_pending(&p.handle, at).await.unwrap(),
        Some(p.clone())
    );
    assert_eq!(
        b.sweep_expired(at + Duration::days(1), 100).await.unwrap(),
        1
    );

    assert_eq!(a.get_pending(&p.handle, at).await.unwrap(), Some(p.clone()));
    assert_eq!(a.get_session(&s.id, at).await.unwrap(), Some(s.clone()));
    b.insert_session(s.clone()).await.unwrap();
    assert_eq!(a.find_code(&c.code, at).await.unwrap(), Some(c.clone()));

    // Every key either store wrote starts with its prefix.
    for needle in [p.handle.to_string(), c.code.to_string(), s.id.to_string()] {
        let keys = keys_with(&mut redis, &needle).await;
        assert!(!keys.is_empty());
        for key in keys {
            assert!(
                key.starts_with(&prefix_a) || key.starts_with(&prefix_b),
                "{key} is outside both prefixes"
            );
        }
    }

    // Clearing a deletes a's keys only, and only those it writes.
    let foreign = format!("{prefix_a}not-ours");
    let () = redis::cmd("SET")
        .arg(&foreign)
        .arg("x")
        .query_async(&mut redis)
        .await
        .unwrap();
    assert!(a.clear().await.unwrap() >= 5);
    assert_eq!(a.get_session(&s.id, at).await.unwrap(), None);
    assert_eq!(a.find_code(&c.code, at).await.unwrap(), None);
    assert!(exists(&mut redis, &foreign).await);
    let () = redis::cmd("DEL")
        .arg(&foreign)
        .query_async(&mut redis)
        .await
        .unwrap();
    assert!(keys_with(&mut redis, &prefix_a).await.is_empty());
    assert_eq!(b.get_session(&s.id, at).await.unwrap(), Some(s));
}

// ---------------------------------------------------------------------------------------
// Codes: the claim protocol and its compensation

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_code_moves_from_unused_to_claimed_to_redeemed_or_back() {
    let Some((url, prefix, _cleanup)) = common::setup() else {
        return;
    };
    let store = common::connect(&url, &prefix).await;
    let mut redis = raw(&url).await;
    let at = now();
    let state = |value: Option<String>| value.and_then(|v| v.chars().next());

    let c = code(at, at + Duration::minutes(1));
    let key = format!("{prefix}code:{}", c.code);
    store.insert_code(c.clone()).await.unwrap();
    assert_eq!(state(value(&mut redis, &key).await), Some('U'));
    assert!(!store.confirm_code(&c.code).await.unwrap(), "not claimed");
    assert_eq!(
        store.claim_code(&c.code, at).await.unwrap(),
        CodeClaim::Claimed(c.clone())
    );
    assert_eq!(state(value(&mut redis, &key).await), Some('C'));
    assert!(store.release_code(&c.code).await.unwrap());
    assert_eq!(state(value(&mut redis, &key).await), Some('U'));
    assert_eq!(
        store.claim_code(&c.code, at).await.unwrap(),
        CodeClaim::Claimed(c.clone())
    );
    assert!(store.confirm_code(&c.code).await.unwrap());
    assert_eq!(state(value(&mut redis, &key).await), Some('R'));
    assert!(
        !store.release_code(&c.code).await.unwrap(),
        "a redeemed code stays redeemed"
    );
    assert_eq!(
        store.claim_code(&c.code, at).await.unwrap(),
        CodeClaim::AlreadyRedeemed(c.clone())
    );
    assert_eq!(store.find_code(&c.code, at).await.unwrap(), Some(c.clone()));
    assert_eq!(
        store.claim_code(&c.code, c.expires_at).await.unwrap(),
        CodeClaim::NotFound
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_claim_waits_for_the_holder_to_settle() {
    let Some((url, prefix, _cleanup)) = common::setup() else {
        return;
    };
    let store = Arc::new(
        common::connect(&url, &prefix)
            .await
            .with_claim_wait(StdDuration::from_secs(5)),
    );
    let at = now();

    // Released by its holder after 100 ms: the waiting caller claims it.
    let c = code(at, at + Duration::minutes(1));
    store.insert_code(c.clone()).await.unwrap();
    store.claim_code(&c.code, at).await.unwrap();
    let holder = {
        let (store, hash) = (store.clone(), c.code);
        tokio::spawn(async move {
            tokio::time::sleep(StdDuration::from_millis(100)).await;
            store.release_code(&hash).await.unwrap()
        })
    };
    let started = std::time::Instant::now();
    assert_eq!(
        store.claim_code(&c.code, at).await.unwrap(),
        CodeClaim::Claimed(c.clone())
    );
    assert!(started.elapsed() >= StdDuration::from_millis(90));
    assert!(started.elapsed() < StdDuration::from_secs(5));
    assert!(holder.await.unwrap());

    // Never settled: after the wait the code reads as redeemed.
    let short = common::connect(&url, &prefix)
        .await
        .with_claim_wait(StdDuration::from_millis(150));
    let started = std::time::Instant::now();
    assert_eq!(
        short.claim_code(&c.code, at).await.unwrap(),
        CodeClaim::AlreadyRedeemed(c)
    );
    assert!(started.elapsed() >= StdDuration::from_millis(140));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refused_token_write_releases_the_code_and_an_ambiguous_one_spends_it() {
    let Some((url, prefix, _cleanup)) = common::setup() else {
        return;
    };
    let redis_store = common::connect(&url, &prefix).await;
    let store =
        RoutedStore::with_short_lived_codes(FaultyStore::new(MemoryStore::new()), redis_store);
    let mut redis = raw(&url).await;
    let at = now();

    let c = code(at, at + Duration::minutes(1));
    store.insert_code(c.clone()).await.unwrap();
    let key = format!("{prefix}code:{}", c.code);
    store
        .long_lived()
        .fail(RecordFamily::Token, Failure::Unavailable);
    let refused = store.redeem_code(&c.code, tokens_for(&c, at), at).await;
    assert!(
        matches!(refused, Err(StoreError::Unavailable { .. })),
        "{refused:?}"
    );
    assert!(value(&mut redis, &key).await.unwrap().starts_with('U'));
    store.long_lived().heal(RecordFamily::Token);
    assert_eq!(
        store
            .redeem_code(&c.code, tokens_for(&c, at), at)
            .await
            .unwrap(),
        CodeRedemption::Redeemed(c.clone())
    );
    assert!(value(&mut redis, &key).await.unwrap().starts_with('R'));

    let d = code(at, at + Duration::minutes(1));
    store.insert_code(d.clone()).await.unwrap();
    store
        .long_lived()
        .fail(RecordFamily::Token, Failure::Backend);
    let failed = store.redeem_code(&d.code, tokens_for(&d, at), at).await;
    assert!(
        matches!(failed, Err(StoreError::Backend { .. })),
        "{failed:?}"
    );
    store.long_lived().heal(RecordFamily::Token);
    assert_eq!(
        store
            .redeem_code(&d.code, tokens_for(&d, at), at)
            .await
            .unwrap(),
        CodeRedemption::AlreadyRedeemed(d)
    );
}

// ---------------------------------------------------------------------------------------
// Sessions

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_subjects_index_forgets_sessions_that_ended() {
    let Some((url, prefix, _cleanup)) = common::setup() else {
        return;
    };
    let store = common::connect(&url, &prefix).await;
    let mut redis = raw(&url).await;
    let at = now();
    let user = subject();
    let index = format!("{prefix}subject-sessions:{}", TokenHash::of(user.as_str()));
    let first = session(&user, at, at + Duration::hours(1));
    store.insert_session(first.clone()).await.unwrap();
    // As if Redis had expired it.
    let () = redis::cmd("DEL")
        .arg(format!("{prefix}session:{}", first.id))
        .query_async(&mut redis)
        .await
        .unwrap();
    let second = session(&user, at, at + Duration::hours(1));
    store.insert_session(second.clone()).await.unwrap();
    assert_eq!(
        smembers(&mut redis, &index).await,
        BTreeSet::from([second.id.to_string()])
    );

    assert_eq!(
        store.delete_session(&second.id, at).await.unwrap(),
        Some(second)
    );
    assert!(smembers(&mut redis, &index).await.is_empty());
}

// ---------------------------------------------------------------------------------------
// Errors

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn connecting_fails_clearly() {
    match RedisStore::connect("redis://127.0.0.1:1").await {
        Err(RedisStoreError::Unreachable { source }) => assert!(source.is_transient()),
        other => panic!("nothing listens on port 1: {other:?}"),
    }
    match RedisStore::connect("not a redis url").await {
        Err(RedisStoreError::Config { .. } | RedisStoreError::Unreachable { .. }) => {}
        other => panic!("an invalid URL: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_foreign_value_under_a_records_key_is_a_backend_error() {
    let Some((url, prefix, _cleanup)) = common::setup() else {
        return;
    };
    let store = common::connect(&url, &prefix).await;
    let mut redis = raw(&url).await;
    let hash = TokenHash::of("pc_ac_garbage");
    for segment in ["pending:", "code:", "session:"] {
        let () = redis::cmd("SET")
            .arg(format!("{prefix}{segment}{hash}"))
            .arg("not a portcullis record")
            .query_async(&mut redis)
            .await
            .unwrap();
    }
    let at = now();
    assert!(matches!(
        store.get_pending(&hash, at).await,
        Err(StoreError::Backend { .. })
    ));
    assert!(matches!(
        store.find_code(&hash, at).await,
        Err(StoreError::Backend { .. })
    ));
    assert!(matches!(
        store.claim_code(&hash, at).await,
        Err(StoreError::Backend { .. })
    ));
    assert!(matches!(
        store.get_session(&hash, at).await,
        Err(StoreError::Backend { .. })
    ));
    assert!(matches!(
        store.add_session_client(&hash, &client(), at).await,
        Err(StoreError::Backend { .. })
    ));
}
