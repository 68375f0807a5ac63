//! A background task that deletes expired records on a timer.

use std::sync::Arc;
use std::time::Duration;

use portcullis_store::SweepExpired;
use time::OffsetDateTime;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

/// The most batches one tick deletes; whatever is left waits for the next tick, so a huge
/// backlog never keeps the sweeper busy for long.
const MAX_BATCHES_PER_TICK: usize = 1_000;

/// Starts a task that calls [`SweepExpired::sweep_expired`] every `every`, deleting up to
/// `batch` records per call and calling again while whole batches come back.
///
/// Works with any store ([`SqliteStore`](crate::SqliteStore),
/// [`PostgresStore`](crate::PostgresStore), [`SqlStore`](crate::SqlStore), a
/// [`MemoryStore`](portcullis_store::MemoryStore), an `Arc<dyn Store>`). Failures are
/// logged with `tracing` and retried at the next tick; the task never ends on its own, not
/// even when a store panics. Stop it with [`JoinHandle::abort`].
///
/// Sweeping only frees space: stores never return expired records anyway. With several
/// provider instances on one PostgreSQL database, running a sweeper in each is harmless
/// (batches skip rows another sweeper is deleting).
///
/// ```
/// use std::{sync::Arc, time::Duration};
/// use portcullis_store_sql::{spawn_sweeper, SqliteStore};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime").block_on(async {
/// let store = Arc::new(SqliteStore::connect("sqlite::memory:").await?);
/// store.migrate().await?;
/// let sweeper = spawn_sweeper(store.clone(), Duration::from_secs(60), 1_000);
/// // … serve requests …
/// sweeper.abort();
/// # Ok::<(), portcullis_store_sql::SqlStoreError>(())
/// # }).expect("demo");
/// ```
///
/// `every` is at least one millisecond and `batch` at least one; smaller values are raised.
///
/// # Panics
///
/// When called outside a tokio runtime, like [`tokio::spawn`].
pub fn spawn_sweeper<S>(store: Arc<S>, every: Duration, batch: usize) -> JoinHandle<()>
where
    S: SweepExpired + ?Sized + 'static,
{
    let every = every.max(Duration::from_millis(1));
    let batch = batch.max(1);
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            // Each round in a task of its own, so a panicking store costs one round, not
            // the sweeper; aborting the sweeper aborts the round too.
            let mut round = AbortOnDrop(tokio::spawn(sweep_round(Arc::clone(&store), batch)));
            if let Err(err) = (&mut round.0).await {
                tracing::error!(error = %err, "the expired-record sweeper's round panicked");
            }
        }
    })
}

/// A task that is aborted when its handle is dropped.
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Sweeps until a batch comes back short, an error occurs, or [`MAX_BATCHES_PER_TICK`]
/// batches were deleted; answers how many records went.
async fn sweep_round<S>(store: Arc<S>, batch: usize) -> usize
where
    S: SweepExpired + ?Sized,
{
    let mut swept: usize = 0;
    for _ in 0..MAX_BATCHES_PER_TICK {
        match store.sweep_expired(OffsetDateTime::now_utc(), batch).await {
            Ok(deleted) => {
                swept = swept.saturating_add(deleted);
                if deleted < batch {
                    break;
                }
            }
            Err(err) => {
                tracing::warn!(
                    error = %err,
                    transient = err.is_transient(),
                    "sweeping expired records failed; retrying at the next tick"
                );
                break;
            }
        }
    }
    if swept > 0 {
        tracing::debug!(swept, "swept expired records");
    }
    swept
}

#[cfg(test)]
mod tests;
