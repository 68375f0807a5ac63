//! Delivering events to webhook endpoints (spec "Deliverability and reliability",
//! "Delivery success and failure", "Request timeouts").

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use reqwest::Url;
use time::OffsetDateTime;

use super::{HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, WebhookSecret, sign};
use crate::{Envelope, EventHandler};

/// Where events are delivered: a URL and the secret shared with its owner (one secret per
/// endpoint, as the spec advises).
///
/// ```
/// use portcullis_events::webhook::{WebhookEndpoint, WebhookSecret};
/// let endpoint = WebhookEndpoint {
///     url: "http://127.0.0.1:9000/hooks".parse()?,
///     secret: WebhookSecret::generate()?,
/// };
/// assert_eq!(endpoint.url.path(), "/hooks");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct WebhookEndpoint {
    /// The URL to POST to. Redirects are not followed (spec: 3xx is a failure).
    pub url: Url,
    /// The signing secret.
    pub secret: WebhookSecret,
}

/// How hard to try: `attempts` in all, waiting `base_delay` after the first failure and
/// doubling up to `max_delay`, each request cut off after `timeout`.
///
/// ```
/// use std::time::Duration;
/// use portcullis_events::webhook::RetryPolicy;
/// let policy = RetryPolicy::default();
/// assert_eq!(policy.attempts, 5);
/// assert_eq!(policy.delay_after(1), Duration::from_millis(500));
/// assert_eq!(policy.delay_after(3), Duration::from_secs(2));
/// assert_eq!(policy.delay_after(40), policy.max_delay);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per endpoint and event, the first included (at least 1 is made).
    pub attempts: u32,
    /// The wait after the first failed attempt.
    pub base_delay: Duration,
    /// The longest wait between attempts.
    pub max_delay: Duration,
    /// The timeout of each request (the spec recommends 15 to 30 s).
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    /// Five attempts, 500 ms doubling up to 30 s, 15 s per request.
    fn default() -> RetryPolicy {
        RetryPolicy {
            attempts: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            timeout: Duration::from_secs(15),
        }
    }
}

impl RetryPolicy {
    /// The wait after failed attempt number `attempt` (1-based).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use portcullis_events::webhook::RetryPolicy;
    /// let policy = RetryPolicy { base_delay: Duration::from_millis(10), ..RetryPolicy::default() };
    /// assert_eq!(policy.delay_after(2), Duration::from_millis(20));
    /// ```
    #[must_use]
    pub fn delay_after(&self, attempt: u32) -> Duration {
        let factor = 2_u32
            .checked_pow(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.base_delay
            .checked_mul(factor)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }
}

/// An event that could not be delivered to an endpoint after every attempt.
///
/// ```
/// # use portcullis_events::webhook::DeadLetters;
/// let dead = DeadLetters::new(10);
/// for letter in dead.list() {
///     println!("{} to {}: {}", letter.event, letter.endpoint, letter.last_error);
/// }
/// ```
#[derive(Debug, Clone)]
pub struct DeadLetter {
    /// The endpoint's URL.
    pub endpoint: Url,
    /// The envelope's id (the `webhook-id`).
    pub envelope_id: String,
    /// The event's name, such as `token.issued`.
    pub event: &'static str,
    /// How many attempts were made.
    pub attempts: u32,
    /// Why the last attempt failed.
    pub last_error: String,
    /// When it was given up.
    pub at: OffsetDateTime,
    /// The envelope itself, to send again by hand.
    pub envelope: Envelope,
}

/// One delivery attempt, as shown on a console page.
///
/// ```
/// # use portcullis_events::webhook::Deliveries;
/// let recent = Deliveries::new(100);
/// assert!(recent.list().iter().all(|attempt| attempt.attempt >= 1));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryAttempt {
    /// The endpoint's URL.
    pub endpoint: Url,
    /// The envelope's id.
    pub envelope_id: String,
    /// The event's name.
    pub event: &'static str,
    /// Which attempt this was (1-based).
    pub attempt: u32,
    /// The response status, when a response came.
    pub status: Option<u16>,
    /// Whether it counted as delivered (a 2xx response).
    pub delivered: bool,
    /// Why it failed, when it did.
    pub error: Option<String>,
    /// When the attempt ended.
    pub at: OffsetDateTime,
}

/// A bounded, shared, newest-last list: the oldest entries leave first.
#[derive(Debug)]
struct Ring<T> {
    capacity: usize,
    items: Mutex<VecDeque<T>>,
}

impl<T: Clone> Ring<T> {
    fn new(capacity: usize) -> Ring<T> {
        Ring {
            capacity: capacity.max(1),
            items: Mutex::new(VecDeque::new()),
        }
    }

    fn push(&self, item: T) {
        if let Ok(mut items) = self.items.lock() {
            while items.len() >= self.capacity {
                items.pop_front();
            }
            items.push_back(item);
        }
    }

    fn list(&self) -> Vec<T> {
        self.items
            .lock()
            .map(|items| items.iter().cloned().collect())
            .unwrap_or_default()
    }
}

/// The most recent [`DeadLetter`]s, oldest first, bounded. Cloning shares the list.
///
/// ```
/// use portcullis_events::webhook::DeadLetters;
/// let dead = DeadLetters::new(100);
/// assert!(dead.list().is_empty());
/// ```
#[derive(Debug, Clone)]
pub struct DeadLetters(Arc<Ring<DeadLetter>>);

impl DeadLetters {
    /// Keeps at most `capacity` letters (at least 1).
    ///
    /// ```
    /// # use portcullis_events::webhook::DeadLetters;
    /// assert!(DeadLetters::new(0).list().is_empty());
    /// ```
    #[must_use]
    pub fn new(capacity: usize) -> DeadLetters {
        DeadLetters(Arc::new(Ring::new(capacity)))
    }

    /// The letters kept, oldest first.
    ///
    /// ```
    /// # use portcullis_events::webhook::DeadLetters;
    /// assert_eq!(DeadLetters::new(5).list().len(), 0);
    /// ```
    #[must_use]
    pub fn list(&self) -> Vec<DeadLetter> {
        self.0.list()
    }
}

/// The most recent [`DeliveryAttempt`]s, oldest first, bounded. Cloning shares the list.
///
/// ```
/// use portcullis_events::webhook::Deliveries;
/// assert!(Deliveries::new(100).list().is_empty());
/// ```
#[derive(Debug, Clone)]
pub struct Deliveries(Arc<Ring<DeliveryAttempt>>);

impl Deliveries {
    /// Keeps at most `capacity` attempts (at least 1).
    ///
    /// ```
    /// # use portcullis_events::webhook::Deliveries;
    /// assert!(Deliveries::new(1).list().is_empty());
    /// ```
    #[must_use]
    pub fn new(capacity: usize) -> Deliveries {
        Deliveries(Arc::new(Ring::new(capacity)))
    }

    /// The attempts kept, oldest first.
    ///
    /// ```
    /// # use portcullis_events::webhook::Deliveries;
    /// assert_eq!(Deliveries::new(5).list().len(), 0);
    /// ```
    #[must_use]
    pub fn list(&self) -> Vec<DeliveryAttempt> {
        self.0.list()
    }
}

/// Why a [`WebhookSender`] could not be built.
///
/// ```
/// # use portcullis_events::webhook::SenderError;
/// fn report(error: SenderError) -> String { error.to_string() }
/// ```
#[derive(Debug, thiserror::Error)]
#[error("could not build the webhook HTTP client")]
pub struct SenderError(#[source] reqwest::Error);

/// An [`EventHandler`] that delivers every envelope to every endpoint as a signed POST
/// (spec "Webhook headers"), in order.
///
/// For each endpoint in turn: the envelope as JSON with `content-type: application/json`
/// and `webhook-id` (the envelope id, the same on every retry), `webhook-timestamp` (the
/// attempt's time) and `webhook-signature`. A 2xx answer is success; anything else, a
/// timeout or a network error is retried per the [`RetryPolicy`] (spec "Delivery success
/// and failure"), then recorded as a [`DeadLetter`]. Every attempt is recorded in
/// [`WebhookSender::deliveries`]. Plain `http` URLs only unless the application enables a
/// reqwest TLS feature.
///
/// ```
/// use portcullis_events::webhook::{RetryPolicy, WebhookEndpoint, WebhookSecret, WebhookSender};
/// use portcullis_events::{Event, EventQueue, EventSink};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let endpoint = WebhookEndpoint {
///     url: "http://127.0.0.1:9/hooks".parse()?, // nothing listens on the discard port
///     secret: WebhookSecret::generate()?,
/// };
/// let policy = RetryPolicy { attempts: 1, ..RetryPolicy::default() };
/// let sender = WebhookSender::new(vec![endpoint], policy)?;
/// let dead = sender.dead_letters();
/// let queue = EventQueue::spawn(sender, 1024);
/// queue.emit(Event::ClientCreated { client_id: "billing".into() });
/// queue.flush().await;
/// assert_eq!(dead.list().len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct WebhookSender {
    client: reqwest::Client,
    endpoints: Arc<[WebhookEndpoint]>,
    policy: RetryPolicy,
    dead_letters: DeadLetters,
    deliveries: Deliveries,
}

impl WebhookSender {
    /// A sender to `endpoints`, keeping the last 1,000 dead letters and delivery attempts.
    ///
    /// # Errors
    ///
    /// [`SenderError`] if the HTTP client cannot be built.
    ///
    /// ```
    /// # use portcullis_events::webhook::{RetryPolicy, WebhookSender};
    /// let sender = WebhookSender::new(Vec::new(), RetryPolicy::default())?;
    /// assert!(sender.deliveries().list().is_empty());
    /// # Ok::<(), portcullis_events::webhook::SenderError>(())
    /// ```
    pub fn new(
        endpoints: Vec<WebhookEndpoint>,
        policy: RetryPolicy,
    ) -> Result<WebhookSender, SenderError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(policy.timeout)
            .build()
            .map_err(SenderError)?;
        Ok(WebhookSender {
            client,
            endpoints: endpoints.into(),
            policy,
            dead_letters: DeadLetters::new(1000),
            deliveries: Deliveries::new(1000),
        })
    }

    /// The dead letters, shared: keep a clone to read them after the sender moved into
    /// an [`EventQueue`](crate::EventQueue).
    ///
    /// ```
    /// # use portcullis_events::webhook::{RetryPolicy, WebhookSender};
    /// let sender = WebhookSender::new(Vec::new(), RetryPolicy::default())?;
    /// assert!(sender.dead_letters().list().is_empty());
    /// # Ok::<(), portcullis_events::webhook::SenderError>(())
    /// ```
    #[must_use]
    pub fn dead_letters(&self) -> DeadLetters {
        self.dead_letters.clone()
    }

    /// The recent delivery attempts, shared like [`WebhookSender::dead_letters`].
    ///
    /// ```
    /// # use portcullis_events::webhook::{RetryPolicy, WebhookSender};
    /// let sender = WebhookSender::new(Vec::new(), RetryPolicy::default())?;
    /// assert!(sender.deliveries().list().is_empty());
    /// # Ok::<(), portcullis_events::webhook::SenderError>(())
    /// ```
    #[must_use]
    pub fn deliveries(&self) -> Deliveries {
        self.deliveries.clone()
    }

    /// Delivers `envelope` to one endpoint, retrying; records a dead letter on failure.
    async fn deliver(&self, endpoint: &WebhookEndpoint, envelope: &Envelope, body: &[u8]) {
        let attempts = self.policy.attempts.max(1);
        let mut last_error = String::new();
        for attempt in 1..=attempts {
            let (status, error) = self.attempt(endpoint, envelope, body).await;
            let delivered = error.is_none();
            self.deliveries.0.push(DeliveryAttempt {
                endpoint: endpoint.url.clone(),
                envelope_id: envelope.id.clone(),
                event: envelope.event.name(),
                attempt,
                status,
                delivered,
                error: error.clone(),
                at: OffsetDateTime::now_utc(),
            });
            match error {
                None => return,
                Some(error) => last_error = error,
            }
            if attempt < attempts {
                tokio::time::sleep(self.policy.delay_after(attempt)).await;
            }
        }
        tracing::warn!(
            endpoint = %endpoint.url,
            event = envelope.event.name(),
            id = %envelope.id,
            attempts,
            error = %last_error,
            "webhook undeliverable: dead letter recorded"
        );
        self.dead_letters.0.push(DeadLetter {
            endpoint: endpoint.url.clone(),
            envelope_id: envelope.id.clone(),
            event: envelope.event.name(),
            attempts,
            last_error,
            at: OffsetDateTime::now_utc(),
            envelope: envelope.clone(),
        });
    }

    /// One signed POST: the status, if any, and the error, if it failed.
    async fn attempt(
        &self,
        endpoint: &WebhookEndpoint,
        envelope: &Envelope,
        body: &[u8],
    ) -> (Option<u16>, Option<String>) {
        let timestamp = OffsetDateTime::now_utc().unix_timestamp();
        let signature = sign(&endpoint.secret, &envelope.id, timestamp, body);
        let sent = self
            .client
            .post(endpoint.url.clone())
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(HEADER_ID, envelope.id.as_str())
            .header(HEADER_TIMESTAMP, timestamp.to_string())
            .header(HEADER_SIGNATURE, signature)
            .body(body.to_vec())
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => {
                (Some(response.status().as_u16()), None)
            }
            Ok(response) => (
                Some(response.status().as_u16()),
                Some(format!("HTTP {}", response.status())),
            ),
            // Without the URL: it is recorded beside the error already.
            Err(error) => (None, Some(error.without_url().to_string())),
        }
    }
}

#[async_trait]
impl EventHandler for WebhookSender {
    async fn handle(&self, envelope: Envelope) {
        let body = match serde_json::to_vec(&envelope) {
            Ok(body) => body,
            Err(error) => {
                tracing::error!(id = %envelope.id, %error, "event could not be serialized");
                return;
            }
        };
        for endpoint in self.endpoints.iter() {
            self.deliver(endpoint, &envelope, &body).await;
        }
    }
}
