//! Standard Webhooks (spec v1.0.0, www.standardwebhooks.com) end to end: a real loopback
//! receiver verifies every delivery from `WebhookSender` with the shipped `verify`; a table
//! of tampered and malformed webhooks each refused with its error; retries and dead
//! letters; the reference library's signature test vector.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use portcullis_events::webhook::{
    ReplayGuard, RetryPolicy, SecretError, WebhookEndpoint, WebhookError, WebhookReceiver,
    WebhookSecret, WebhookSender, sign, verify,
};
use portcullis_events::{Envelope, Event, EventQueue, EventSink};
use time::OffsetDateTime;

const TOLERANCE: Duration = Duration::from_secs(300);

/// What the loopback receiver saw.
#[derive(Clone)]
struct Receiver {
    settings: WebhookReceiver,
    /// Answer 500 to this many requests first.
    fail_first: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
    /// `webhook-id` of every request, verified or not.
    ids: Arc<Mutex<Vec<String>>>,
    accepted: Arc<Mutex<Vec<Envelope>>>,
    refused: Arc<Mutex<Vec<WebhookError>>>,
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    receiver.requests.fetch_add(1, Ordering::SeqCst);
    if let Some(id) = headers.get("webhook-id") {
        receiver
            .ids
            .lock()
            .unwrap()
            .push(id.to_str().unwrap().to_owned());
    }
    let failing = receiver
        .fail_first
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
            left.checked_sub(1)
        })
        .is_ok();
    if failing {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    assert_eq!(headers["content-type"], "application/json");
    match receiver
        .settings
        .verify(&headers, &body, OffsetDateTime::now_utc())
    {
        Ok(envelope) => {
            receiver.accepted.lock().unwrap().push(envelope);
            StatusCode::NO_CONTENT
        }
        Err(error) => {
            receiver.refused.lock().unwrap().push(error);
            StatusCode::UNAUTHORIZED
        }
    }
}

/// Starts a receiver on 127.0.0.1 that fails the first `fail_first` requests; returns it
/// and the endpoint to configure in a sender.
async fn start_receiver(fail_first: usize) -> (Receiver, WebhookEndpoint) {
    let secret = WebhookSecret::generate().unwrap();
    let receiver = Receiver {
        settings: WebhookReceiver::new(secret.clone()),
        fail_first: Arc::new(AtomicUsize::new(fail_first)),
        requests: Arc::default(),
        ids: Arc::default(),
        accepted: Arc::default(),
        refused: Arc::default(),
    };
    let app = Router::new()
        .route("/hooks", post(receive))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let endpoint = WebhookEndpoint {
        url: format!("http://{address}/hooks").parse().unwrap(),
        secret,
    };
    (receiver, endpoint)
}

/// Tiny waits so retry tests take milliseconds.
fn quick(attempts: u32) -> RetryPolicy {
    RetryPolicy {
        attempts,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(4),
        timeout: Duration::from_secs(10),
    }
}

fn client_created(i: usize) -> Event {
    Event::ClientCreated {
        client_id: format!("client-{i}"),
    }
}

/// Spec "Webhook headers" and "Verifying signatures": every delivery carries the three
/// headers and a signature the receiver's `verify` accepts; nothing is lost while the queue
/// has room, and events arrive in the order emitted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_arrives_verified_and_in_order() {
    const N: usize = 50;
    let (receiver, endpoint) = start_receiver(0).await;
    let sender = WebhookSender::new(vec![endpoint], quick(3)).unwrap();
    let (dead, deliveries) = (sender.dead_letters(), sender.deliveries());
    let queue = EventQueue::spawn(sender, 1024);
    for i in 0..N {
        queue.emit(client_created(i));
    }
    queue.flush().await;

    assert_eq!(queue.dropped(), 0);
    assert!(receiver.refused.lock().unwrap().is_empty());
    let accepted = receiver.accepted.lock().unwrap().clone();
    let events: Vec<Event> = accepted.iter().map(|e| e.event.clone()).collect();
    let expected: Vec<Event> = (0..N).map(client_created).collect();
    assert_eq!(events, expected, "all {N}, in order");
    assert!(dead.list().is_empty());
    let attempts = deliveries.list();
    assert_eq!(attempts.len(), N);
    assert!(
        attempts
            .iter()
            .all(|a| a.delivered && a.status == Some(204))
    );
    assert_eq!(receiver.settings.replay.len(), N, "each id recorded once");
}

/// Spec "Deliverability and reliability": failed deliveries are retried; spec "Webhook
/// metadata": the id stays the same on every retry. Delivered once, after two failures.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_failing_twice_gets_the_event_once_after_retries() {
    let (receiver, endpoint) = start_receiver(2).await;
    let sender = WebhookSender::new(vec![endpoint], quick(5)).unwrap();
    let (dead, deliveries) = (sender.dead_letters(), sender.deliveries());
    let queue = EventQueue::spawn(sender, 16);
    queue.emit(client_created(7));
    queue.flush().await;

    assert_eq!(receiver.requests.load(Ordering::SeqCst), 3);
    let accepted = receiver.accepted.lock().unwrap().clone();
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0].event, client_created(7));
    let ids = receiver.ids.lock().unwrap().clone();
    assert_eq!(
        ids,
        vec![accepted[0].id.clone(); 3],
        "same webhook-id on each retry"
    );
    assert!(dead.list().is_empty());
    let outcomes: Vec<(u32, Option<u16>, bool)> = deliveries
        .list()
        .iter()
        .map(|a| (a.attempt, a.status, a.delivered))
        .collect();
    assert_eq!(
        outcomes,
        vec![
            (1, Some(500), false),
            (2, Some(500), false),
            (3, Some(204), true)
        ]
    );
}

/// Spec "Delivery success and failure": a non-2xx answer is a failure; after the last
/// attempt the event becomes a dead letter the application can read and resend.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_always_failing_produces_a_dead_letter() {
    let (receiver, endpoint) = start_receiver(usize::MAX).await;
    let url = endpoint.url.clone();
    let sender = WebhookSender::new(vec![endpoint], quick(3)).unwrap();
    let dead = sender.dead_letters();
    let queue = EventQueue::spawn(sender, 16);
    queue.emit(client_created(1));
    queue.flush().await;

    assert_eq!(receiver.requests.load(Ordering::SeqCst), 3);
    let letters = dead.list();
    assert_eq!(letters.len(), 1);
    let letter = &letters[0];
    assert_eq!(letter.endpoint, url);
    assert_eq!(letter.event, "client.created");
    assert_eq!(letter.attempts, 3);
    assert_eq!(letter.envelope_id, letter.envelope.id);
    assert_eq!(letter.envelope.event, client_created(1));
    assert!(letter.last_error.contains("500"), "{}", letter.last_error);
}

/// Spec "Delivery success and failure": connection failures count as failures too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_endpoint_produces_a_dead_letter() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener); // nothing listens there now
    let endpoint = WebhookEndpoint {
        url: format!("http://{address}/hooks").parse().unwrap(),
        secret: WebhookSecret::generate().unwrap(),
    };
    let sender = WebhookSender::new(vec![endpoint], quick(2)).unwrap();
    let (dead, deliveries) = (sender.dead_letters(), sender.deliveries());
    let queue = EventQueue::spawn(sender, 16);
    queue.emit(client_created(1));
    queue.flush().await;

    let letters = dead.list();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].attempts, 2);
    assert!(
        deliveries
            .list()
            .iter()
            .all(|a| a.status.is_none() && !a.delivered)
    );
}

/// Spec "Multiple endpoints (fanout)": every endpoint gets every event, each verified with
/// its own secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_endpoint_gets_every_event_under_its_own_secret() {
    let (first, first_endpoint) = start_receiver(0).await;
    let (second, second_endpoint) = start_receiver(0).await;
    let sender = WebhookSender::new(vec![first_endpoint, second_endpoint], quick(1)).unwrap();
    let queue = EventQueue::spawn(sender, 16);
    for i in 0..3 {
        queue.emit(client_created(i));
    }
    queue.flush().await;
    for receiver in [first, second] {
        assert_eq!(receiver.accepted.lock().unwrap().len(), 3);
        assert!(receiver.refused.lock().unwrap().is_empty());
    }
}

/// The test vector of the Standard Webhooks reference libraries (libraries/rust, test_sign):
/// spec "Signature scheme" computed over `{msg_id}.{timestamp}.{payload}`.
#[test]
fn the_reference_test_vector_signs_and_verifies() {
    let secret = WebhookSecret::parse("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
    let (id, timestamp) = ("msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", 1_649_367_553);
    let body = br#"{"email":"test@example.com","username":"test_user"}"#;
    let signature = sign(&secret, id, timestamp, body);
    assert_eq!(signature, "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=");

    // The body is not one of our envelopes, so `verify` gets past the signature and stops
    // at the payload.
    let mut headers = HeaderMap::new();
    headers.insert("webhook-id", id.parse().unwrap());
    headers.insert("webhook-timestamp", timestamp.to_string().parse().unwrap());
    headers.insert("webhook-signature", signature.parse().unwrap());
    let now = OffsetDateTime::from_unix_timestamp(timestamp).unwrap();
    let result = verify(
        &headers,
        body,
        &secret,
        TOLERANCE,
        now,
        &ReplayGuard::new(8),
    );
    assert_eq!(result, Err(WebhookError::BadPayload));
}

/// A well-formed, correctly signed webhook, to be spoiled by one table row.
struct Case {
    headers: HeaderMap,
    body: Vec<u8>,
    secret: WebhookSecret,
    now: OffsetDateTime,
}

const NOW: i64 = 1_700_000_000;

fn signed(envelope: &Envelope, header_id: &str, timestamp: i64, secret: &WebhookSecret) -> Case {
    let body = serde_json::to_vec(envelope).unwrap();
    let mut headers = HeaderMap::new();
    headers.insert("webhook-id", header_id.parse().unwrap());
    headers.insert("webhook-timestamp", timestamp.to_string().parse().unwrap());
    let signature = sign(secret, header_id, timestamp, &body);
    headers.insert("webhook-signature", signature.parse().unwrap());
    Case {
        headers,
        body,
        secret: secret.clone(),
        now: OffsetDateTime::from_unix_timestamp(NOW).unwrap(),
    }
}

fn envelope() -> Envelope {
    let mut envelope = Envelope::new(Event::TokenRevoked {
        client_id: "billing".into(),
    });
    envelope.id = "evt_0123456789abcdef0123456789abcdef".into();
    // Whole seconds: the wire form carries Unix seconds.
    envelope.timestamp = OffsetDateTime::from_unix_timestamp(NOW - 1).unwrap();
    envelope
}

fn case() -> Case {
    let secret = WebhookSecret::parse("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
    let envelope = envelope();
    signed(&envelope, &envelope.id, NOW, &secret)
}

fn set(case: &mut Case, name: &'static str, value: &str) {
    case.headers.insert(name, value.parse().unwrap());
}

fn run(case: &Case, replay: &ReplayGuard) -> Result<Envelope, WebhookError> {
    verify(
        &case.headers,
        &case.body,
        &case.secret,
        TOLERANCE,
        case.now,
        replay,
    )
}

/// The untouched case is accepted (the table's baseline).
#[test]
fn a_correctly_signed_webhook_is_accepted() {
    assert_eq!(run(&case(), &ReplayGuard::new(8)), Ok(envelope()));
}

/// Every row spoils one thing; `verify` must refuse with the row's error.
#[test]
fn tampered_stale_replayed_and_malformed_webhooks_are_refused() {
    type Spoil = fn(&mut Case);
    let rows: Vec<(&str, &str, Spoil, WebhookError)> = vec![
        (
            "tampered body",
            "Signature scheme: the payload is signed",
            |c| c.body = c.body.replace_bytes("billing", "billinG"),
            WebhookError::BadSignature,
        ),
        (
            "wrong secret",
            "Signature scheme: HMAC-SHA256 under the endpoint's secret",
            |c| c.secret = WebhookSecret::generate().unwrap(),
            WebhookError::BadSignature,
        ),
        (
            "timestamp changed after signing",
            "Webhook metadata: the timestamp is signed",
            |c| set(c, "webhook-timestamp", &(NOW - 1).to_string()),
            WebhookError::BadSignature,
        ),
        (
            "id changed after signing",
            "Webhook metadata: the id is signed",
            |c| set(c, "webhook-id", "evt_ffffffffffffffffffffffffffffffff"),
            WebhookError::BadSignature,
        ),
        (
            "stale: signed longer ago than the tolerance",
            "Verifying signatures: timestamp within tolerance",
            |c| c.now += time::Duration::seconds(301),
            WebhookError::Stale,
        ),
        (
            "stale: signed further ahead than the tolerance",
            "Verifying signatures: timestamp within tolerance",
            |c| c.now -= time::Duration::seconds(301),
            WebhookError::Stale,
        ),
        (
            "missing webhook-id",
            "Webhook headers",
            |c| drop(c.headers.remove("webhook-id")),
            WebhookError::MissingHeader("webhook-id"),
        ),
        (
            "missing webhook-timestamp",
            "Webhook headers",
            |c| drop(c.headers.remove("webhook-timestamp")),
            WebhookError::MissingHeader("webhook-timestamp"),
        ),
        (
            "missing webhook-signature",
            "Webhook headers",
            |c| drop(c.headers.remove("webhook-signature")),
            WebhookError::MissingHeader("webhook-signature"),
        ),
        (
            "timestamp not an integer",
            "Webhook headers: integer unix timestamp",
            |c| set(c, "webhook-timestamp", "2023-11-14T22:13:20Z"),
            WebhookError::BadTimestamp,
        ),
        (
            "signature not base64",
            "Signature scheme: v1, then the base64 signature",
            |c| set(c, "webhook-signature", "v1,%%%not-base64%%%"),
            WebhookError::BadSignature,
        ),
        (
            "signature without its version",
            "Signature scheme: v1, then the base64 signature",
            |c| {
                let value = c.headers["webhook-signature"].to_str().unwrap().to_owned();
                set(c, "webhook-signature", value.trim_start_matches("v1,"));
            },
            WebhookError::BadSignature,
        ),
        (
            "right signature under another version identifier",
            "Signature scheme: symmetric signatures are v1 (v1a is ed25519)",
            |c| {
                let value = c.headers["webhook-signature"].to_str().unwrap().to_owned();
                set(c, "webhook-signature", &value.replacen("v1,", "v1a,", 1));
            },
            WebhookError::BadSignature,
        ),
        (
            "truncated signature",
            "Verifying signatures: compare the whole signature",
            |c| {
                let value = c.headers["webhook-signature"].to_str().unwrap().to_owned();
                set(
                    c,
                    "webhook-signature",
                    &format!("{}=", &value[..value.len() - 5]),
                );
            },
            WebhookError::BadSignature,
        ),
        (
            "empty signature list",
            "Webhook headers: the signature list",
            |c| set(c, "webhook-signature", ""),
            WebhookError::BadSignature,
        ),
        (
            "body id differs from webhook-id (validly signed)",
            "Webhook metadata: the id identifies the event",
            |c| {
                let envelope = envelope();
                *c = signed(&envelope, "evt_other", NOW, &c.secret);
            },
            WebhookError::BadPayload,
        ),
        (
            "body not an event envelope (validly signed)",
            "Payload structure: type, timestamp, data",
            |c| {
                let body = br#"{"type":"nope"}"#.to_vec();
                let id = c.headers["webhook-id"].to_str().unwrap().to_owned();
                let signature = sign(&c.secret, &id, NOW, &body);
                set(c, "webhook-signature", &signature);
                c.body = body;
            },
            WebhookError::BadPayload,
        ),
    ];
    for (name, section, spoil, expected) in rows {
        let mut case = case();
        spoil(&mut case);
        let replay = ReplayGuard::new(8);
        assert_eq!(
            run(&case, &replay),
            Err(expected),
            "{name} (spec: {section})"
        );
        assert!(
            replay.is_empty(),
            "{name}: a refused webhook is not recorded"
        );
    }
}

/// Spec "Verifying signatures": `webhook-id` is an idempotency key; the same message
/// again, inside the tolerance, is refused as a replay.
#[test]
fn a_replayed_webhook_is_refused() {
    let case = case();
    let replay = ReplayGuard::new(8);
    assert!(run(&case, &replay).is_ok());
    assert_eq!(run(&case, &replay), Err(WebhookError::Replayed));
    // Later, still within tolerance, still refused.
    let mut later = case;
    later.now += time::Duration::seconds(299);
    assert_eq!(run(&later, &replay), Err(WebhookError::Replayed));
}

/// The edges of the tolerance are inclusive: exactly ±tolerance is accepted.
#[test]
fn timestamps_at_the_tolerance_edges_are_accepted() {
    for shift in [-300, 300] {
        let mut case = case();
        case.now += time::Duration::seconds(shift);
        assert!(run(&case, &ReplayGuard::new(8)).is_ok(), "shift {shift}");
    }
}

/// Spec "Webhook headers": several space-separated signatures support zero-downtime secret
/// rotation; any one matching is enough, and none matching is refused.
#[test]
fn any_one_of_several_signatures_may_match() {
    let old = WebhookSecret::generate().unwrap();
    let mut case = case();
    let id = case.headers["webhook-id"].to_str().unwrap().to_owned();
    let current = case.headers["webhook-signature"]
        .to_str()
        .unwrap()
        .to_owned();
    let stale = sign(&old, &id, NOW, &case.body);
    set(
        &mut case,
        "webhook-signature",
        &format!("{stale} v1a,AAAA {current}"),
    );
    assert!(run(&case, &ReplayGuard::new(8)).is_ok());

    set(&mut case, "webhook-signature", &format!("{stale} v1a,AAAA"));
    assert_eq!(
        run(&case, &ReplayGuard::new(8)),
        Err(WebhookError::BadSignature)
    );
}

/// The guard stays within its capacity, forgetting the oldest ids first.
#[test]
fn the_replay_guard_is_bounded() {
    let secret = WebhookSecret::generate().unwrap();
    let replay = ReplayGuard::new(3);
    let mut first = None;
    for i in 0..10 {
        let mut envelope = envelope();
        envelope.id = format!("evt_{i}");
        let case = signed(&envelope, &envelope.id, NOW, &secret);
        assert!(run(&case, &replay).is_ok());
        assert!(replay.len() <= 3);
        first.get_or_insert(case);
    }
    assert_eq!(replay.len(), 3);
    // The first id was evicted: sizing the guard is the operator's part (documented).
    assert!(run(&first.unwrap(), &replay).is_ok());
}

/// Spec "Signature scheme" secret serialization: `whsec_` and base64 of 24 to 64 bytes.
#[test]
fn malformed_secrets_are_refused() {
    use base64::Engine as _;
    let b64 = |n: usize| base64::engine::general_purpose::STANDARD.encode(vec![7_u8; n]);
    let rows = [
        ("no prefix", b64(32)),
        ("other prefix", format!("whsk_{}", b64(32))),
        ("not base64", "whsec_!!!!".to_owned()),
        ("23 bytes: under 192 bits", format!("whsec_{}", b64(23))),
        ("65 bytes: over 512 bits", format!("whsec_{}", b64(65))),
        ("empty", "whsec_".to_owned()),
    ];
    for (name, text) in rows {
        assert!(
            matches!(WebhookSecret::parse(&text), Err(SecretError::Malformed(_))),
            "{name}"
        );
    }
    for n in [24, 64] {
        let text = format!("whsec_{}", b64(n));
        assert_eq!(
            WebhookSecret::parse(&text).unwrap().expose(),
            text,
            "{n} bytes"
        );
    }
}

/// Secrets never appear in debug output.
#[test]
fn secrets_are_redacted_in_debug_output() {
    let secret = WebhookSecret::generate().unwrap();
    let endpoint = WebhookEndpoint {
        url: "http://127.0.0.1:1/hooks".parse().unwrap(),
        secret: secret.clone(),
    };
    let exposed = secret.expose();
    let encoded = exposed.trim_start_matches("whsec_");
    for shown in [
        format!("{secret:?}"),
        format!("{endpoint:?}"),
        format!("{:?}", WebhookReceiver::new(secret.clone())),
    ] {
        assert!(!shown.contains(encoded), "{shown}");
    }
}

trait ReplaceBytes {
    fn replace_bytes(&self, from: &str, to: &str) -> Vec<u8>;
}

impl ReplaceBytes for Vec<u8> {
    fn replace_bytes(&self, from: &str, to: &str) -> Vec<u8> {
        String::from_utf8(self.clone())
            .unwrap()
            .replace(from, to)
            .into_bytes()
    }
}
