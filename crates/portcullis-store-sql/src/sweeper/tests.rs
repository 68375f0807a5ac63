#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use portcullis_store::{StoreError, SweepExpired};
use time::OffsetDateTime;

use super::spawn_sweeper;

/// Has `backlog` expired records; panics on its first call and fails on its second.
struct Flaky {
    calls: AtomicUsize,
    backlog: AtomicUsize,
}

#[async_trait]
impl SweepExpired for Flaky {
    async fn sweep_expired(&self, _now: OffsetDateTime, batch: usize) -> Result<usize, StoreError> {
        match self.calls.fetch_add(1, Ordering::SeqCst) {
            0 => panic!("a broken store"),
            1 => Err(StoreError::Unavailable {
                message: "pool timed out".into(),
                source: None,
            }),
            _ => {
                let left = self.backlog.load(Ordering::SeqCst);
                let deleted = left.min(batch);
                self.backlog.store(left - deleted, Ordering::SeqCst);
                Ok(deleted)
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sweeper_survives_panics_and_errors_and_drains_the_backlog_in_batches() {
    let store = Arc::new(Flaky {
        calls: AtomicUsize::new(0),
        backlog: AtomicUsize::new(25),
    });
    let sweeper = spawn_sweeper(store.clone(), Duration::from_millis(5), 10);
    for _ in 0..400 {
        if store.backlog.load(Ordering::SeqCst) == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(
        store.backlog.load(Ordering::SeqCst),
        0,
        "the backlog is swept"
    );
    assert!(!sweeper.is_finished(), "the sweeper keeps running");
    // Two failing calls, then 10 + 10 + 5 in one round.
    assert!(store.calls.load(Ordering::SeqCst) >= 5);
    sweeper.abort();
}

#[tokio::test]
async fn a_zero_interval_and_batch_are_raised_instead_of_panicking() {
    let store = Arc::new(portcullis_store::MemoryStore::new());
    let sweeper = spawn_sweeper(store, Duration::ZERO, 0);
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(!sweeper.is_finished());
    sweeper.abort();
}

#[tokio::test]
async fn takes_a_dyn_store() {
    let store: Arc<dyn portcullis_store::Store> = Arc::new(portcullis_store::MemoryStore::new());
    spawn_sweeper(store, Duration::from_secs(60), 100).abort();
}
