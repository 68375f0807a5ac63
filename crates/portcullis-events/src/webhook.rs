//! Signed webhooks following the [Standard Webhooks] specification, both sides.
//!
//! - Sending: [`WebhookSender`] is an [`EventHandler`](crate::EventHandler) that POSTs each
//!   [`Envelope`](crate::Envelope) as JSON to every [`WebhookEndpoint`], signed with the
//!   endpoint's [`WebhookSecret`], retried with exponential backoff, and recorded as a
//!   [`DeadLetter`] when every attempt failed.
//! - Receiving: [`verify`] (or a [`WebhookReceiver`] holding its settings) checks the three
//!   headers, the signature in constant time, the timestamp's age and the id against replays,
//!   and returns the typed envelope.
//!
//! The headers (spec "Webhook headers"): `webhook-id` (the envelope's id, unchanged across
//! retries), `webhook-timestamp` (Unix seconds of the attempt) and `webhook-signature`
//! (space-separated `v1,<base64>` signatures over `{id}.{timestamp}.{body}`).
//!
//! ```
//! use std::time::Duration;
//! use portcullis_events::{Envelope, Event};
//! use portcullis_events::webhook::{sign, verify, ReplayGuard, WebhookSecret};
//!
//! let secret = WebhookSecret::generate()?;
//! let envelope = Envelope::new(Event::ClientCreated { client_id: "billing".into() });
//! let body = serde_json::to_vec(&envelope)?;
//! let now = time::OffsetDateTime::now_utc();
//!
//! let mut headers = http::HeaderMap::new();
//! headers.insert("webhook-id", envelope.id.parse()?);
//! headers.insert("webhook-timestamp", now.unix_timestamp().to_string().parse()?);
//! let signature = sign(&secret, &envelope.id, now.unix_timestamp(), &body);
//! headers.insert("webhook-signature", signature.parse()?);
//!
//! let replay = ReplayGuard::new(1000);
//! let received = verify(&headers, &body, &secret, Duration::from_secs(300), now, &replay)?;
//! assert_eq!(received.id, envelope.id);
//! assert_eq!(received.event, envelope.event);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [Standard Webhooks]: https://www.standardwebhooks.com

mod secret;
mod sender;
mod verify;

pub use secret::{SecretError, WebhookSecret};
pub use sender::{
    DeadLetter, DeadLetters, Deliveries, DeliveryAttempt, RetryPolicy, SenderError,
    WebhookEndpoint, WebhookSender,
};
pub use verify::{ReplayGuard, WebhookError, WebhookReceiver, sign, verify};

/// The header carrying the message id (spec "Webhook headers").
///
/// ```
/// assert_eq!(portcullis_events::webhook::HEADER_ID, "webhook-id");
/// ```
pub const HEADER_ID: &str = "webhook-id";
/// The header carrying the attempt's Unix timestamp in seconds (spec "Webhook headers").
///
/// ```
/// assert_eq!(portcullis_events::webhook::HEADER_TIMESTAMP, "webhook-timestamp");
/// ```
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
/// The header carrying the space-separated signatures (spec "Webhook headers").
///
/// ```
/// assert_eq!(portcullis_events::webhook::HEADER_SIGNATURE, "webhook-signature");
/// ```
pub const HEADER_SIGNATURE: &str = "webhook-signature";
