//! What the conformance kit leaves to each store, for the extension grants' families on
//! SQLite and PostgreSQL: which code a refused insert names, expired holders giving way,
//! concurrent decisions and pending polls taking turns, and two SQLite stores (two
//! processes) sharing one file.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::BTreeSet;
use std::sync::Arc;

use portcullis_registry::{ClientId, ScopeSet};
use portcullis_store::{
    DeviceAuthorization, DeviceAuthorizationStore, DevicePoll, DeviceStatus, RecordFamily,
    ReplayStore, StoreError,
};
use portcullis_store_sql::SqliteStore;
use portcullis_tokens::{TokenHash, random_identifier};
use time::{Duration, OffsetDateTime};
use tokio::sync::Barrier;

const CALLERS: usize = 40;

fn random_hash() -> TokenHash {
    TokenHash::of(&random_identifier().unwrap())
}

/// Now, to the microsecond (what the stores keep).
fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(now.nanosecond() / 1_000 * 1_000)
        .unwrap()
}

fn device(at: OffsetDateTime, ttl: Duration) -> DeviceAuthorization {
    DeviceAuthorization {
        device_code: random_hash(),
        user_code: random_hash(),
        client_id: ClientId::new("tv-app").unwrap(),
        scopes: ScopeSet::parse("openid profile offline_access").unwrap(),
        status: DeviceStatus::Pending,
        interval_secs: 5,
        last_polled_at: None,
        created_at: at,
        expires_at: at + ttl,
    }
}

fn approved(at: OffsetDateTime) -> DeviceStatus {
    DeviceStatus::Approved {
        subject: "user-42".into(),
        auth_time: at - Duration::microseconds(1_234_567),
        scopes: ScopeSet::parse("openid profile").unwrap(),
    }
}

/// Runs `CALLERS` concurrent calls released together by a barrier.
async fn race<T, F, Fut>(call: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let barrier = Arc::new(Barrier::new(CALLERS));
    let mut tasks = Vec::new();
    for i in 0..CALLERS {
        let (barrier, call) = (barrier.clone(), call(i));
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

async fn conflicts_name_the_clashing_code<S: DeviceAuthorizationStore>(store: S) {
    let at = now();
    let first = device(at, Duration::minutes(10));
    store.insert_device(first.clone()).await.unwrap();
    let same_user_code = DeviceAuthorization {
        user_code: first.user_code,
        ..device(at, Duration::minutes(10))
    };
    match store.insert_device(same_user_code).await {
        Err(StoreError::Conflict {
            family: RecordFamily::DeviceAuthorization,
            key,
        }) => assert_eq!(key, first.user_code.to_string()),
        other => panic!("expected a conflict on the user code, got {other:?}"),
    }
    let same_device_code = DeviceAuthorization {
        device_code: first.device_code,
        ..device(at, Duration::minutes(10))
    };
    match store.insert_device(same_device_code).await {
        Err(StoreError::Conflict {
            family: RecordFamily::DeviceAuthorization,
            key,
        }) => assert_eq!(key, first.device_code.to_string()),
        other => panic!("expected a conflict on the device code, got {other:?}"),
    }
}

/// An expired request holding a device code gives way to a new one, and takes its user
/// code with it; the approved status round-trips to the microsecond.
async fn expired_holders_give_way<S: DeviceAuthorizationStore>(store: S) {
    let at = now();
    let old = device(at - Duration::hours(1), Duration::minutes(10));
    store.insert_device(old.clone()).await.unwrap();
    let new = DeviceAuthorization {
        device_code: old.device_code,
        ..device(at, Duration::minutes(10))
    };
    store.insert_device(new.clone()).await.unwrap();
    assert_eq!(
        store.device_by_user_code(&new.user_code, at).await.unwrap(),
        Some(new.clone())
    );
    assert_eq!(
        store
            .device_by_user_code(&old.user_code, at - Duration::hours(1))
            .await
            .unwrap(),
        None,
        "the expired holder was deleted, not merely hidden"
    );
    assert!(
        store
            .decide_device(&new.user_code, approved(at), at)
            .await
            .unwrap()
    );
    let stored = store
        .device_by_user_code(&new.user_code, at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, approved(at));
    assert_eq!(
        store.poll_device(&new.device_code, at).await.unwrap(),
        DevicePoll::Approved(stored)
    );
}

/// Of concurrent decisions on one request, exactly one is recorded, and the poll answers
/// that one.
async fn concurrent_decisions_record_one<S: DeviceAuthorizationStore + 'static>(store: S) {
    let store = Arc::new(store);
    let at = now();
    let record = device(at, Duration::minutes(10));
    store.insert_device(record.clone()).await.unwrap();
    let results = race(|i| {
        let store = store.clone();
        let user_code = record.user_code;
        let decision = if i % 2 == 0 {
            approved(at)
        } else {
            DeviceStatus::Denied
        };
        async move {
            let recorded = store
                .decide_device(&user_code, decision.clone(), at)
                .await
                .unwrap();
            recorded.then_some(decision)
        }
    })
    .await;
    let winners: Vec<DeviceStatus> = results.into_iter().flatten().collect();
    let [winner] = winners.as_slice() else {
        panic!("exactly one decision must be recorded: {winners:?}");
    };
    let polled = store.poll_device(&record.device_code, at).await.unwrap();
    match (winner, polled) {
        (DeviceStatus::Denied, DevicePoll::Denied(device))
        | (DeviceStatus::Approved { .. }, DevicePoll::Approved(device)) => {
            assert_eq!(&device.status, winner);
        }
        (winner, polled) => panic!("{winner:?} was decided, the poll answered {polled:?}"),
    }
}

/// Concurrent polls of a pending request take turns: after a first poll, each of them is
/// too soon and sees the interval the previous one set, so no slow-down is lost.
async fn concurrent_pending_polls_take_turns<S: DeviceAuthorizationStore + 'static>(store: S) {
    let store = Arc::new(store);
    let at = now();
    let record = device(at, Duration::minutes(10));
    store.insert_device(record.clone()).await.unwrap();
    assert_eq!(
        store.poll_device(&record.device_code, at).await.unwrap(),
        DevicePoll::Pending
    );
    let later = at + Duration::seconds(1);
    let results = race(|_| {
        let store = store.clone();
        let code = record.device_code;
        async move { store.poll_device(&code, later).await.unwrap() }
    })
    .await;
    let intervals: BTreeSet<u32> = results
        .iter()
        .map(|poll| match poll {
            DevicePoll::SlowDown { interval_secs } => *interval_secs,
            other => panic!("expected slow_down, got {other:?}"),
        })
        .collect();
    let callers = u32::try_from(CALLERS).unwrap();
    let expected: BTreeSet<u32> = (1..=callers).map(|n| 5 + 5 * n).collect();
    assert_eq!(intervals, expected);
    let stored = store
        .device_by_user_code(&record.user_code, later)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.interval_secs, 5 + 5 * callers);
    assert_eq!(stored.last_polled_at, Some(later));
}

macro_rules! on_each_backend {
    ($($case:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    super::$case(super::support::sqlite_store().await).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let Some(store) = super::support::postgres_store().await else {
                        return;
                    };
                    super::$case(store).await;
                }
            )+
        }
    };
}

on_each_backend!(
    conflicts_name_the_clashing_code,
    expired_holders_give_way,
    concurrent_decisions_record_one,
    concurrent_pending_polls_take_turns,
);

/// Two stores on one SQLite file, as two processes: each has its own in-process write turn,
/// so only `BEGIN IMMEDIATE` and the conditional statements keep polls and first uses
/// single-use.
async fn two_sqlite_stores() -> (tempfile::TempDir, Arc<SqliteStore>, Arc<SqliteStore>) {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_sqlite_stores_answer_an_approval_once() {
    let (_dir, a, b) = two_sqlite_stores().await;
    let at = now();
    let record = device(at, Duration::minutes(10));
    a.insert_device(record.clone()).await.unwrap();
    assert!(
        b.decide_device(&record.user_code, approved(at), at)
            .await
            .unwrap()
    );
    let results = race(|i| {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        let code = record.device_code;
        async move { store.poll_device(&code, at).await.unwrap() }
    })
    .await;
    let approvals = results
        .iter()
        .filter(|poll| matches!(poll, DevicePoll::Approved(_)))
        .count();
    assert_eq!(approvals, 1, "{results:?}");
    assert!(
        results
            .iter()
            .all(|poll| matches!(poll, DevicePoll::Approved(_) | DevicePoll::Gone))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_sqlite_stores_accept_an_assertion_once() {
    let (_dir, a, b) = two_sqlite_stores().await;
    let at = now();
    let key = random_hash();
    let results = race(|i| {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        async move {
            store
                .first_use(key, at + Duration::minutes(5), at)
                .await
                .unwrap()
        }
    })
    .await;
    assert_eq!(results.iter().filter(|first| **first).count(), 1);
}
