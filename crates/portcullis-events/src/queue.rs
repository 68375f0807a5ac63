//! Emitting without waiting: a bounded queue and the task that drains it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot};

use crate::{Envelope, Event};

/// Where the provider reports events. `emit` must return at once: it runs on the path of a
/// token response.
///
/// ```
/// use portcullis_events::{Event, EventSink, NoEvents};
/// NoEvents.emit(Event::ClientCreated { client_id: "c".into() }); // goes nowhere
/// ```
pub trait EventSink: Send + Sync {
    /// Reports `event`, never waiting.
    fn emit(&self, event: Event);
}

/// The sink that drops everything: the provider's default.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoEvents;

impl EventSink for NoEvents {
    fn emit(&self, _event: Event) {}
}

/// What receives events from an [`EventQueue`], one at a time, in order. It may take as
/// long as it likes (retries, network): the queue absorbs the wait, up to its capacity.
#[async_trait]
pub trait EventHandler: Send + Sync + 'static {
    /// Handles one event.
    async fn handle(&self, envelope: Envelope);
}

/// A handler that keeps every event in memory: for tests and examples.
///
/// ```
/// use portcullis_events::{Collector, Envelope, Event, EventHandler};
/// # tokio::runtime::Builder::new_current_thread().build().expect("rt").block_on(async {
/// let collector = Collector::default();
/// collector.handle(Envelope::new(Event::ClientCreated { client_id: "c".into() })).await;
/// assert_eq!(collector.events()[0].event.name(), "client.created");
/// # });
/// ```
#[derive(Debug, Clone, Default)]
pub struct Collector(Arc<Mutex<Vec<Envelope>>>);

impl Collector {
    /// Every event handled so far, in order.
    #[must_use]
    pub fn events(&self) -> Vec<Envelope> {
        self.0
            .lock()
            .map(|events| events.clone())
            .unwrap_or_default()
    }
}

#[async_trait]
impl EventHandler for Collector {
    async fn handle(&self, envelope: Envelope) {
        if let Ok(mut events) = self.0.lock() {
            events.push(envelope);
        }
    }
}

/// Several handlers behind one queue, each given every event in turn (an audit log and
/// a webhook sender, say). A slow one delays the others, never the provider.
///
/// ```
/// use std::sync::Arc;
/// use portcullis_events::{Collector, Envelope, Event, EventHandler, Fanout};
/// # tokio::runtime::Builder::new_current_thread().build().expect("rt").block_on(async {
/// let (a, b) = (Collector::default(), Collector::default());
/// let both = Fanout::new(vec![Arc::new(a.clone()), Arc::new(b.clone())]);
/// both.handle(Envelope::new(Event::ClientCreated { client_id: "c".into() })).await;
/// assert_eq!((a.events().len(), b.events().len()), (1, 1));
/// # });
/// ```
#[derive(Clone, Default)]
pub struct Fanout(Vec<Arc<dyn EventHandler>>);

impl Fanout {
    /// Gives every event to each of `handlers`, in this order.
    #[must_use]
    pub fn new(handlers: Vec<Arc<dyn EventHandler>>) -> Fanout {
        Fanout(handlers)
    }
}

#[async_trait]
impl EventHandler for Fanout {
    async fn handle(&self, envelope: Envelope) {
        for handler in &self.0 {
            handler.handle(envelope.clone()).await;
        }
    }
}

enum Item {
    Event(Envelope),
    Flush(oneshot::Sender<()>),
}

/// A bounded queue in front of an [`EventHandler`], drained by a background task.
///
/// `emit` never waits: when the queue is full the event is dropped and counted. Nothing is
/// lost while the queue has room. Cloning shares the queue.
#[derive(Clone)]
pub struct EventQueue {
    sender: mpsc::Sender<Item>,
    dropped: Arc<AtomicU64>,
}

impl std::fmt::Debug for EventQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventQueue")
            .field("capacity", &self.sender.max_capacity())
            .field("dropped", &self.dropped())
            .finish()
    }
}

impl EventQueue {
    /// Starts the task that feeds `handler`, with room for `capacity` waiting events (at
    /// least 1). Must be called inside a Tokio runtime.
    #[must_use]
    pub fn spawn(handler: impl EventHandler, capacity: usize) -> EventQueue {
        let (sender, mut receiver) = mpsc::channel::<Item>(capacity.max(1));
        tokio::spawn(async move {
            while let Some(item) = receiver.recv().await {
                match item {
                    Item::Event(envelope) => handler.handle(envelope).await,
                    Item::Flush(done) => {
                        let _ = done.send(());
                    }
                }
            }
        });
        EventQueue {
            sender,
            dropped: Arc::new(AtomicU64::new(0)),
        }
    }

    /// How many events were dropped because the queue was full.
    #[must_use]
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// How many events wait in the queue now.
    #[must_use]
    pub fn pending(&self) -> usize {
        self.sender.max_capacity() - self.sender.capacity()
    }

    /// Waits until every event emitted before this call has been handled.
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.sender.send(Item::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

impl EventSink for EventQueue {
    fn emit(&self, event: Event) {
        let name = event.name();
        if self
            .sender
            .try_send(Item::Event(Envelope::new(event)))
            .is_err()
        {
            let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            // The 1st, 2nd, 4th, 8th… drop: a stalled handler must not flood the log too.
            if dropped.is_power_of_two() {
                tracing::warn!(
                    event = name,
                    dropped_total = dropped,
                    "event queue full: events dropped"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    /// A handler that waits until told to go on: a stalled receiver.
    struct Stalled(tokio::sync::Semaphore);

    #[async_trait]
    impl EventHandler for Arc<Stalled> {
        async fn handle(&self, _envelope: Envelope) {
            let _permit = self.0.acquire().await;
        }
    }

    #[tokio::test]
    async fn a_full_queue_drops_and_counts_without_waiting() {
        let stalled = Arc::new(Stalled(tokio::sync::Semaphore::new(0)));
        let queue = EventQueue::spawn(stalled.clone(), 4);
        for _ in 0..20 {
            queue.emit(Event::TokenRevoked {
                client_id: "c".into(),
            });
        }
        // One is being handled (stalled), four wait, the rest were dropped.
        assert!(queue.dropped() >= 15, "dropped {}", queue.dropped());
        assert!(queue.dropped() <= 16, "dropped {}", queue.dropped());
        stalled.0.add_permits(100);
        queue.flush().await;
    }

    #[tokio::test]
    async fn nothing_is_lost_while_the_queue_has_room() {
        let collector = Collector::default();
        let queue = EventQueue::spawn(collector.clone(), 1000);
        for i in 0..1000 {
            queue.emit(Event::ClientCreated {
                client_id: format!("c{i}"),
            });
        }
        queue.flush().await;
        assert_eq!(queue.dropped(), 0);
        let ids: Vec<String> = collector
            .events()
            .into_iter()
            .map(|e| match e.event {
                Event::ClientCreated { client_id } => client_id,
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        let expected: Vec<String> = (0..1000).map(|i| format!("c{i}")).collect();
        assert_eq!(ids, expected, "in order, none missing");
    }
}
