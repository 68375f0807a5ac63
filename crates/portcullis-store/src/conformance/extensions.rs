//! Conformance cases for the extension grants' families: device authorizations (RFC 8628)
//! and used assertion identifiers (RFC 7522 §3, RFC 7523 §3). Run them with
//! [`extension_conformance_tests!`](crate::extension_conformance_tests).

use std::sync::Arc;

use portcullis_tokens::{TokenHash, random_identifier};
use time::{Duration, OffsetDateTime};
use tokio::sync::Barrier;

use super::{CONCURRENT_CALLERS, new_client, now, scopes};
use crate::{
    DeviceAuthorization, DeviceAuthorizationStore, DevicePoll, DeviceStatus, RecordFamily,
    ReplayStore, Store, StoreError,
};

/// What a store needs for the extension cases.
pub trait ExtensionStore: Store + DeviceAuthorizationStore + ReplayStore {}
impl<T: Store + DeviceAuthorizationStore + ReplayStore> ExtensionStore for T {}

fn random_hash() -> TokenHash {
    TokenHash::of(&random_identifier().expect("entropy"))
}

fn device(at: OffsetDateTime, ttl: Duration) -> DeviceAuthorization {
    DeviceAuthorization {
        device_code: random_hash(),
        user_code: random_hash(),
        client_id: new_client().id,
        scopes: scopes("openid profile"),
        status: DeviceStatus::Pending,
        interval_secs: 5,
        last_polled_at: None,
        created_at: at,
        expires_at: at + ttl,
    }
}

fn approved(at: OffsetDateTime) -> DeviceStatus {
    DeviceStatus::Approved {
        subject: "conformance-user".into(),
        auth_time: at,
        scopes: scopes("openid"),
    }
}

/// RFC 8628 §3.2–3.3: a request is found by its user code; device and user codes are unique
/// among live requests.
pub async fn device_round_trip_and_conflicts<S: ExtensionStore>(store: Arc<S>) {
    let at = now();
    let record = device(at, Duration::minutes(10));
    store.insert_device(record.clone()).await.unwrap();
    assert_eq!(
        store
            .device_by_user_code(&record.user_code, at)
            .await
            .unwrap(),
        Some(record.clone())
    );
    assert_eq!(
        store.device_by_user_code(&random_hash(), at).await.unwrap(),
        None
    );
    let same_user_code = DeviceAuthorization {
        device_code: random_hash(),
        ..device(at, Duration::minutes(10))
    };
    let same_user_code = DeviceAuthorization {
        user_code: record.user_code,
        ..same_user_code
    };
    assert!(matches!(
        store.insert_device(same_user_code).await,
        Err(StoreError::Conflict {
            family: RecordFamily::DeviceAuthorization,
            ..
        })
    ));
    let same_device_code = DeviceAuthorization {
        device_code: record.device_code,
        ..device(at, Duration::minutes(10))
    };
    assert!(matches!(
        store.insert_device(same_device_code).await,
        Err(StoreError::Conflict {
            family: RecordFamily::DeviceAuthorization,
            ..
        })
    ));
    assert_eq!(
        store
            .device_by_user_code(&record.user_code, at)
            .await
            .unwrap(),
        Some(record),
        "a refused insert changes nothing"
    );
}

/// RFC 8628 §3.5: polling sooner than the interval answers `slow_down` and the interval
/// grows by 5 seconds for this and every later poll; polling at the interval is
/// `authorization_pending`.
pub async fn device_poll_pending_and_slow_down<S: ExtensionStore>(store: Arc<S>) {
    let at = now();
    let record = device(at, Duration::minutes(10));
    store.insert_device(record.clone()).await.unwrap();
    let poll = |when: OffsetDateTime| {
        let store = store.clone();
        async move { store.poll_device(&record.device_code, when).await.unwrap() }
    };
    assert_eq!(poll(at).await, DevicePoll::Pending, "the first poll");
    assert_eq!(
        poll(at + Duration::seconds(1)).await,
        DevicePoll::SlowDown { interval_secs: 10 }
    );
    assert_eq!(
        poll(at + Duration::seconds(8)).await,
        DevicePoll::SlowDown { interval_secs: 15 },
        "7 s after a poll is too soon once the interval is 10 s"
    );
    assert_eq!(poll(at + Duration::seconds(23)).await, DevicePoll::Pending);
    let stored = store
        .device_by_user_code(&record.user_code, at + Duration::seconds(23))
        .await
        .unwrap()
        .expect("still there");
    assert_eq!(stored.interval_secs, 15);
    assert_eq!(stored.last_polled_at, Some(at + Duration::seconds(23)));
}

/// RFC 8628 §3.4–3.5: the first decision wins; an approved request is answered once (tokens
/// are issued once) and is gone after.
pub async fn device_decided_once_and_answered_once<S: ExtensionStore>(store: Arc<S>) {
    let at = now();
    let record = device(at, Duration::minutes(10));
    store.insert_device(record.clone()).await.unwrap();
    assert!(
        store
            .decide_device(&record.user_code, approved(at), at)
            .await
            .unwrap()
    );
    assert!(
        !store
            .decide_device(&record.user_code, DeviceStatus::Denied, at)
            .await
            .unwrap(),
        "a second decision is refused"
    );
    assert!(
        !store
            .decide_device(&random_hash(), DeviceStatus::Denied, at)
            .await
            .unwrap()
    );
    match store.poll_device(&record.device_code, at).await.unwrap() {
        DevicePoll::Approved(answered) => {
            assert_eq!(answered.status, approved(at));
            assert_eq!(answered.client_id, record.client_id);
        }
        other => panic!("expected Approved, got {other:?}"),
    }
    assert_eq!(
        store.poll_device(&record.device_code, at).await.unwrap(),
        DevicePoll::Gone
    );
    assert_eq!(
        store
            .device_by_user_code(&record.user_code, at)
            .await
            .unwrap(),
        None
    );

    let denied = device(at, Duration::minutes(10));
    store.insert_device(denied.clone()).await.unwrap();
    assert!(
        store
            .decide_device(&denied.user_code, DeviceStatus::Denied, at)
            .await
            .unwrap()
    );
    assert!(matches!(
        store.poll_device(&denied.device_code, at).await.unwrap(),
        DevicePoll::Denied(_)
    ));
    assert_eq!(
        store.poll_device(&denied.device_code, at).await.unwrap(),
        DevicePoll::Gone
    );
}

/// RFC 8628 §3.5 `expired_token`: at `expires_at` the request is gone for every operation.
pub async fn device_expired_is_gone<S: ExtensionStore>(store: Arc<S>) {
    let at = now();
    let record = device(at, Duration::minutes(1));
    store.insert_device(record.clone()).await.unwrap();
    let later = at + Duration::minutes(1);
    assert_eq!(
        store
            .device_by_user_code(&record.user_code, later)
            .await
            .unwrap(),
        None
    );
    assert!(
        !store
            .decide_device(&record.user_code, approved(later), later)
            .await
            .unwrap()
    );
    assert_eq!(
        store.poll_device(&record.device_code, later).await.unwrap(),
        DevicePoll::Gone
    );
    // Its user code may be reused by a new request.
    let again = DeviceAuthorization {
        user_code: record.user_code,
        ..device(later, Duration::minutes(10))
    };
    store.insert_device(again).await.unwrap();
}

/// An approved request is answered `Approved` to exactly one of many concurrent polls.
pub async fn device_approval_single_use_under_concurrency<S: ExtensionStore>(store: Arc<S>) {
    let at = now();
    let record = device(at, Duration::minutes(10));
    store.insert_device(record.clone()).await.unwrap();
    assert!(
        store
            .decide_device(&record.user_code, approved(at), at)
            .await
            .unwrap()
    );
    let barrier = Arc::new(Barrier::new(CONCURRENT_CALLERS));
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENT_CALLERS {
        let (store, barrier, code) = (store.clone(), barrier.clone(), record.device_code);
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            store.poll_device(&code, at).await.unwrap()
        }));
    }
    let mut winners = 0;
    for task in tasks {
        match task.await.unwrap() {
            DevicePoll::Approved(_) => winners += 1,
            DevicePoll::Gone => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(winners, 1, "tokens for a device are issued once");
}

/// RFC 7523 §3 (7), RFC 7522 §3 (8): an assertion id is accepted once until it expires.
pub async fn replay_first_use_once_until_expiry<S: ExtensionStore>(store: Arc<S>) {
    let at = now();
    let key = random_hash();
    let expires = at + Duration::minutes(5);
    assert!(store.first_use(key, expires, at).await.unwrap());
    assert!(!store.first_use(key, expires, at).await.unwrap());
    assert!(
        !store
            .first_use(key, expires, at + Duration::seconds(299))
            .await
            .unwrap()
    );
    assert!(
        store
            .first_use(key, expires + Duration::minutes(5), expires)
            .await
            .unwrap(),
        "an expired record counts as absent"
    );
    assert!(store.first_use(random_hash(), expires, at).await.unwrap());
}

/// Of many concurrent presentations of one assertion, exactly one is accepted.
pub async fn replay_single_use_under_concurrency<S: ExtensionStore>(store: Arc<S>) {
    let at = now();
    let key = random_hash();
    let barrier = Arc::new(Barrier::new(CONCURRENT_CALLERS));
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENT_CALLERS {
        let (store, barrier) = (store.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            store
                .first_use(key, at + Duration::minutes(5), at)
                .await
                .unwrap()
        }));
    }
    let mut accepted = 0;
    for task in tasks {
        if task.await.unwrap() {
            accepted += 1;
        }
    }
    assert_eq!(accepted, 1, "an assertion is accepted once");
}

/// `sweep_expired` removes expired device authorizations and assertion ids, and only those.
pub async fn extension_sweep_removes_only_expired<S: ExtensionStore>(store: Arc<S>) {
    let at = now() - Duration::hours(1);
    let old = device(at, Duration::minutes(1));
    let live = device(now(), Duration::minutes(10));
    store.insert_device(old).await.unwrap();
    store.insert_device(live.clone()).await.unwrap();
    let old_key = random_hash();
    let live_key = random_hash();
    assert!(
        store
            .first_use(old_key, at + Duration::minutes(1), at)
            .await
            .unwrap()
    );
    assert!(
        store
            .first_use(live_key, now() + Duration::minutes(10), now())
            .await
            .unwrap()
    );
    let swept = store.sweep_expired(now(), usize::MAX).await.unwrap();
    assert!(swept >= 2, "swept {swept}");
    assert!(
        store
            .device_by_user_code(&live.user_code, now())
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        !store
            .first_use(live_key, now() + Duration::minutes(10), now())
            .await
            .unwrap(),
        "a live assertion id survives the sweep"
    );
}
