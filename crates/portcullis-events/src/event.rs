//! The events and their wire form.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Something the provider did that operators or other systems may want to know.
///
/// The serde form is `{"type": "<dotted name>", "data": {...}}` inside an [`Envelope`];
/// names are stable wire identifiers. Events never carry secrets or tokens: clients,
/// subjects, scopes and reasons only.
///
/// ```
/// use portcullis_events::Event;
/// let event = Event::LoginFailed { username: "alice".into(), reason: "wrong password".into() };
/// assert_eq!(event.name(), "login.failed");
/// let json = serde_json::to_value(&event).expect("json");
/// assert_eq!(json["type"], "login.failed");
/// assert_eq!(json["data"]["username"], "alice");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
#[non_exhaustive]
pub enum Event {
    /// A client was registered.
    #[serde(rename = "client.created")]
    ClientCreated {
        /// The new client's id.
        client_id: String,
    },
    /// A client's settings changed.
    #[serde(rename = "client.updated")]
    ClientUpdated {
        /// The client's id.
        client_id: String,
    },
    /// A client was revoked (cut off with its tokens) or restored.
    #[serde(rename = "client.revoked")]
    ClientRevoked {
        /// The client's id.
        client_id: String,
        /// `true` when revoked, `false` when restored.
        revoked: bool,
    },
    /// A client was deleted.
    #[serde(rename = "client.deleted")]
    ClientDeleted {
        /// The client's id.
        client_id: String,
    },
    /// A client's secret was replaced.
    #[serde(rename = "client.secret_rotated")]
    ClientSecretRotated {
        /// The client's id.
        client_id: String,
    },
    /// The token endpoint issued tokens.
    #[serde(rename = "token.issued")]
    TokenIssued {
        /// The client.
        client_id: String,
        /// The user, if any.
        subject: Option<String>,
        /// The grant type used.
        grant_type: String,
        /// The granted scopes, space-separated.
        scope: String,
    },
    /// A refresh token was exchanged for new tokens.
    #[serde(rename = "token.refreshed")]
    TokenRefreshed {
        /// The client.
        client_id: String,
        /// The user, if any.
        subject: Option<String>,
    },
    /// A token was revoked through the revocation endpoint.
    #[serde(rename = "token.revoked")]
    TokenRevoked {
        /// The client that revoked it.
        client_id: String,
    },
    /// A rotated refresh token was presented again: its family was revoked (RFC 9700
    /// §4.14.2).
    #[serde(rename = "token.refresh_reuse_detected")]
    RefreshReuseDetected {
        /// The client that presented it.
        client_id: String,
    },
    /// A user signed in.
    #[serde(rename = "login.succeeded")]
    LoginSucceeded {
        /// The subject.
        subject: String,
    },
    /// A sign-in failed.
    #[serde(rename = "login.failed")]
    LoginFailed {
        /// The username typed (never the password).
        username: String,
        /// Why, for operators.
        reason: String,
    },
    /// A user allowed a client.
    #[serde(rename = "consent.granted")]
    ConsentGranted {
        /// The user.
        subject: String,
        /// The client.
        client_id: String,
        /// The granted scopes, space-separated.
        scope: String,
    },
    /// A user refused a client.
    #[serde(rename = "consent.denied")]
    ConsentDenied {
        /// The user.
        subject: String,
        /// The client.
        client_id: String,
    },
}

impl Event {
    /// The event's wire name, such as `token.issued`.
    ///
    /// ```
    /// use portcullis_events::Event;
    /// assert_eq!(Event::ClientCreated { client_id: "c".into() }.name(), "client.created");
    /// ```
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Event::ClientCreated { .. } => "client.created",
            Event::ClientUpdated { .. } => "client.updated",
            Event::ClientRevoked { .. } => "client.revoked",
            Event::ClientDeleted { .. } => "client.deleted",
            Event::ClientSecretRotated { .. } => "client.secret_rotated",
            Event::TokenIssued { .. } => "token.issued",
            Event::TokenRefreshed { .. } => "token.refreshed",
            Event::TokenRevoked { .. } => "token.revoked",
            Event::RefreshReuseDetected { .. } => "token.refresh_reuse_detected",
            Event::LoginSucceeded { .. } => "login.succeeded",
            Event::LoginFailed { .. } => "login.failed",
            Event::ConsentGranted { .. } => "consent.granted",
            Event::ConsentDenied { .. } => "consent.denied",
        }
    }
}

impl Event {
    /// The client the event is about, if any: for filtering an audit log.
    ///
    /// ```
    /// use portcullis_events::Event;
    /// assert_eq!(Event::TokenRevoked { client_id: "c".into() }.client_id(), Some("c"));
    /// assert_eq!(Event::LoginSucceeded { subject: "u".into() }.client_id(), None);
    /// ```
    #[must_use]
    pub fn client_id(&self) -> Option<&str> {
        match self {
            Event::ClientCreated { client_id }
            | Event::ClientUpdated { client_id }
            | Event::ClientRevoked { client_id, .. }
            | Event::ClientDeleted { client_id }
            | Event::ClientSecretRotated { client_id }
            | Event::TokenIssued { client_id, .. }
            | Event::TokenRefreshed { client_id, .. }
            | Event::TokenRevoked { client_id }
            | Event::RefreshReuseDetected { client_id }
            | Event::ConsentGranted { client_id, .. }
            | Event::ConsentDenied { client_id, .. } => Some(client_id),
            Event::LoginSucceeded { .. } | Event::LoginFailed { .. } => None,
        }
    }

    /// The user the event is about, if any (for a failed login, the username typed).
    ///
    /// ```
    /// use portcullis_events::Event;
    /// assert_eq!(Event::LoginSucceeded { subject: "u".into() }.subject(), Some("u"));
    /// ```
    #[must_use]
    pub fn subject(&self) -> Option<&str> {
        match self {
            Event::TokenIssued { subject, .. } | Event::TokenRefreshed { subject, .. } => {
                subject.as_deref()
            }
            Event::LoginSucceeded { subject }
            | Event::ConsentGranted { subject, .. }
            | Event::ConsentDenied { subject, .. } => Some(subject),
            Event::LoginFailed { username, .. } => Some(username),
            _ => None,
        }
    }
}

/// One event as delivered: a unique id (the Standard Webhooks `webhook-id`), when it
/// happened, and the event.
///
/// ```
/// use portcullis_events::{Envelope, Event};
/// let envelope = Envelope::new(Event::TokenRevoked { client_id: "c".into() });
/// let json = serde_json::to_value(&envelope).expect("json");
/// assert_eq!(json["type"], "token.revoked");
/// assert!(json["id"].as_str().expect("id").starts_with("evt_"));
/// let back: Envelope = serde_json::from_value(json).expect("parses");
/// assert_eq!(back.id, envelope.id);
/// assert_eq!(back.event, envelope.event);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// Unique per event: `evt_` and 32 hex digits.
    pub id: String,
    /// When the event happened (Unix seconds on the wire).
    #[serde(with = "time::serde::timestamp")]
    pub timestamp: OffsetDateTime,
    /// The event.
    #[serde(flatten)]
    pub event: Event,
}

impl Envelope {
    /// Wraps `event` with a fresh id and the current time.
    #[must_use]
    pub fn new(event: Event) -> Envelope {
        Envelope {
            id: fresh_id(),
            timestamp: OffsetDateTime::now_utc(),
            event,
        }
    }
}

/// `evt_` and 128 bits: time-ordered high bits from the clock, low bits from a process
/// counter and the address of a stack value, enough to be unique without a random source.
fn fresh_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let local = 0_u8;
    let salt = std::ptr::addr_of!(local) as usize as u64;
    // Truncation keeps the low 64 bits of the nanosecond clock: ordered for ~584 years.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let high = nanos as u64;
    format!("evt_{high:016x}{:016x}", count ^ salt.rotate_left(32))
}
