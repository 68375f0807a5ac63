//! Group commit for token insertions on SQLite.
//!
//! SQLite commits one write transaction at a time, and with `synchronous = FULL` every commit
//! waits for the disk. Under concurrent load the token endpoint is then bound by fsyncs, not
//! by work. Insertions that arrive while a commit is in progress are queued and committed
//! together by the next caller to get the lead: one transaction and one fsync for all of
//! them. Nobody is answered before the transaction holding their tokens has committed, so
//! durability is unchanged; see `insert_tokens_grouped` in `store_impl.rs` for how a failed
//! group falls back to one transaction per caller.

use std::sync::{Mutex, MutexGuard, PoisonError};

use portcullis_store::{StoreError, TokenRecord};
use tokio::sync::oneshot;

/// One caller's insertion, waiting in the queue.
pub(crate) struct Queued {
    /// The tokens to insert, atomically.
    pub(crate) tokens: Vec<TokenRecord>,
    /// Where the caller waits for its answer.
    pub(crate) done: oneshot::Sender<Result<(), StoreError>>,
}

/// The queue and the leads.
pub(crate) struct GroupCommit {
    queue: Mutex<Vec<Queued>>,
    leads: tokio::sync::Semaphore,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").finish_non_exhaustive()
    }
}

// Nothing in a critical section can panic: a poisoned lock still guards a consistent queue.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl GroupCommit {
    /// A queue committed by at most `leaders` transactions at a time: one for SQLite (one
    /// writer at a time anyway), a few for PostgreSQL, so that a group forms and commits
    /// while the previous one waits for its WAL flush.
    pub(crate) fn new(leaders: usize) -> GroupCommit {
        GroupCommit {
            queue: Mutex::new(Vec::new()),
            leads: tokio::sync::Semaphore::new(leaders.max(1)),
        }
    }

    /// Queues `tokens`; the receiver gets the answer once they are committed (or refused).
    pub(crate) fn enqueue(
        &self,
        tokens: Vec<TokenRecord>,
    ) -> oneshot::Receiver<Result<(), StoreError>> {
        let (done, answer) = oneshot::channel();
        lock(&self.queue).push(Queued { tokens, done });
        answer
    }

    /// Waits for a lead (`None` if the semaphore was closed, which it never is).
    pub(crate) async fn lead(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        self.leads.acquire().await.ok()
    }

    /// Everything queued so far, in arrival order.
    pub(crate) fn take(&self) -> Vec<Queued> {
        std::mem::take(&mut *lock(&self.queue))
    }
}

/// The caller's answer; a leader that was cancelled mid-commit dropped the sender, and its
/// transaction rolled back with it.
pub(crate) fn answer(
    received: Result<Result<(), StoreError>, oneshot::error::RecvError>,
) -> Result<(), StoreError> {
    received.unwrap_or_else(|_| {
        Err(StoreError::Unavailable {
            message: "insert_tokens: the transaction that held these tokens was cancelled".into(),
            source: None,
        })
    })
}
