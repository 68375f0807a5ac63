//! What a portcullis provider did, as typed events, and how they leave the process.
//!
//! The provider calls [`EventSink::emit`] at each event; emitting never waits. The usual
//! sink is an [`EventQueue`]: a bounded queue drained by a background task that hands each
//! [`Envelope`] to an [`EventHandler`] (a webhook sender, an audit log, a test's
//! collector). When the queue is full the event is dropped and counted
//! ([`EventQueue::dropped`]) so a slow handler never slows a token response.
//!
//! [`webhook`] delivers events as signed Standard Webhooks ([`webhook::WebhookSender`])
//! and verifies them on the receiving side ([`webhook::verify`]).
//!
//! ```
//! use portcullis_events::{Event, EventQueue, EventSink, Collector};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt").block_on(async {
//! let collector = Collector::default();
//! let queue = EventQueue::spawn(collector.clone(), 1024);
//! queue.emit(Event::TokenRevoked { client_id: "billing".into() });
//! queue.flush().await;
//! assert_eq!(collector.events().len(), 1);
//! assert_eq!(queue.dropped(), 0);
//! # });
//! ```

mod event;
mod queue;
pub mod webhook;

pub use event::{Envelope, Event};
pub use queue::{Collector, EventHandler, EventQueue, EventSink, Fanout, NoEvents};
