//! Token introspection client: RFC 7662 §2, asking a remote provider whether a bearer token
//! is active, with a bounded cache that never serves an answer past the token's `exp`.
//!
//! [`IntrospectionValidator`] is the [`TokenValidator`] for a resource server that does not
//! share the provider's store: it authenticates to the introspection endpoint as a client
//! of its own (`client_secret_basic`, RFC 6749 §2.3.1) and turns each active answer into an
//! [`AccessToken`].

use crate::remote::is_loopback;
use std::fmt;
use std::fmt::Write as _;
use std::sync::Arc;

use async_trait::async_trait;
use http::StatusCode;
use http::header::ACCEPT;
use portcullis_grants::{Clock, SystemClock};
use portcullis_tokens::TokenHash;
use time::Duration;

use crate::{AccessToken, BearerError, TokenValidator};

mod answer;
mod cache;
#[cfg(test)]
mod tests;

use answer::Refusal;
use cache::Cache;

/// The longest token sent to the provider, in bytes. Longer ones are refused locally as
/// `invalid_token`: they are no token portcullis issues, and would exceed the provider's
/// request-body limit, turning a bad token into a 503.
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// The largest introspection answer read, in bytes; a larger one is a provider fault.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// What a refused token is told: never why, which the logs say instead.
const INVALID: &str = "the access token is invalid, expired or revoked";

#[doc = include_str!("introspection/validator.md")]
pub struct IntrospectionValidator {
    endpoint: reqwest::Url,
    /// The client id, already form-urlencoded for the Basic credentials.
    basic_user: String,
    /// The client secret, already form-urlencoded for the Basic credentials.
    basic_password: String,
    http: reqwest::Client,
    timeout: std::time::Duration,
    clock: Arc<dyn Clock>,
    cache: Cache,
}

impl IntrospectionValidator {
    /// How long a positive answer is served from the cache by default: 60 seconds, so a
    /// token revoked at the provider stops working here within a minute.
    ///
    /// ```
    /// use portcullis_resource::IntrospectionValidator;
    /// assert_eq!(IntrospectionValidator::DEFAULT_CACHE_TTL, time::Duration::seconds(60));
    /// ```
    pub const DEFAULT_CACHE_TTL: Duration = Duration::seconds(60);

    /// How many answers the cache holds at most by default: 10 000 (a few MB).
    ///
    /// ```
    /// use portcullis_resource::IntrospectionValidator;
    /// assert_eq!(IntrospectionValidator::DEFAULT_CACHE_CAPACITY, 10_000);
    /// ```
    pub const DEFAULT_CACHE_CAPACITY: usize = 10_000;

    /// How long one introspection request may take by default, from connecting to the
    /// end of the answer: 5 seconds, after which the protected request answers 503.
    ///
    /// ```
    /// use portcullis_resource::IntrospectionValidator;
    /// assert_eq!(IntrospectionValidator::DEFAULT_TIMEOUT, time::Duration::seconds(5));
    /// ```
    pub const DEFAULT_TIMEOUT: Duration = Duration::seconds(5);

    /// Starts configuring a validator that asks `endpoint` (the provider's introspection
    /// URL, e.g. `https://id.example/oauth/introspect`), authenticating as `client_id`
    /// with `client_secret`. The client should be registered with `introspect_any` so it
    /// may ask about tokens issued to other clients (DESIGN §4.1).
    ///
    /// ```
    /// use portcullis_resource::IntrospectionValidator;
    ///
    /// let validator = IntrospectionValidator::builder(
    ///     "https://id.example/oauth/introspect",
    ///     "orders-api",
    ///     "the-resource-server-secret",
    /// )
    /// .build()?;
    /// assert_eq!(validator.endpoint(), "https://id.example/oauth/introspect");
    /// # Ok::<(), portcullis_resource::IntrospectionConfigError>(())
    /// ```
    pub fn builder(
        endpoint: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> IntrospectionValidatorBuilder {
        IntrospectionValidatorBuilder {
            endpoint: endpoint.into(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            http: None,
            clock: Arc::new(SystemClock),
            cache_ttl: IntrospectionValidator::DEFAULT_CACHE_TTL,
            cache_capacity: IntrospectionValidator::DEFAULT_CACHE_CAPACITY,
            timeout: IntrospectionValidator::DEFAULT_TIMEOUT,
            allow_http: false,
        }
    }

    /// The introspection endpoint asked.
    ///
    /// ```
    /// use portcullis_resource::IntrospectionValidator;
    /// let validator =
    ///     IntrospectionValidator::builder("http://127.0.0.1:8080/oauth/introspect", "api", "s")
    ///         .build()?;
    /// assert_eq!(validator.endpoint(), "http://127.0.0.1:8080/oauth/introspect");
    /// # Ok::<(), portcullis_resource::IntrospectionConfigError>(())
    /// ```
    pub fn endpoint(&self) -> &str {
        self.endpoint.as_str()
    }

    /// How many answers the cache holds now, including stale ones not yet dropped (they
    /// are never served). For metrics; never more than the configured capacity.
    ///
    /// ```
    /// use portcullis_resource::IntrospectionValidator;
    /// let validator =
    ///     IntrospectionValidator::builder("https://id.example/oauth/introspect", "api", "s")
    ///         .build()?;
    /// assert_eq!(validator.cache_len(), 0);
    /// # Ok::<(), portcullis_resource::IntrospectionConfigError>(())
    /// ```
    pub fn cache_len(&self) -> usize {
        self.cache.len()
    }

    /// POSTs `token` to the introspection endpoint and returns the body of a 200 answer.
    async fn ask(&self, token: &str) -> Result<Vec<u8>, BearerError> {
        // RFC 7662 §2.1: `token` and the optional `token_type_hint`, form-encoded, with
        // client authentication (RFC 6749 §2.3.1: Basic over the form-urlencoded id and
        // secret).
        let mut response = self
            .http
            .post(self.endpoint.clone())
            .basic_auth(&self.basic_user, Some(&self.basic_password))
            .header(ACCEPT, "application/json")
            .form(&[("token", token), ("token_type_hint", "access_token")])
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|err| unavailable(format!("introspection request failed: {err}")))?;
        let status = response.status();
        if status == StatusCode::UNAUTHORIZED {
            // The provider refused *our* credentials: a configuration error on this side,
            // not a verdict on the caller's token, so it must not log anyone out.
            tracing::error!(
                endpoint = %self.endpoint,
                "the introspection endpoint refused this resource server's client \
                 credentials (401): check its client id and secret, and that the client \
                 uses client_secret_basic"
            );
            return Err(BearerError::Unavailable(
                "the introspection endpoint refused the resource server's credentials".into(),
            ));
        }
        if status != StatusCode::OK {
            return Err(unavailable(format!(
                "the introspection endpoint answered {status}"
            )));
        }
        if response
            .content_length()
            .is_some_and(|length| length > MAX_ANSWER_BYTES as u64)
        {
            return Err(unavailable("the introspection answer is too large".into()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|err| unavailable(format!("reading the introspection answer: {err}")))?
        {
            if body.len().saturating_add(chunk.len()) > MAX_ANSWER_BYTES {
                return Err(unavailable("the introspection answer is too large".into()));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

impl fmt::Debug for IntrospectionValidator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntrospectionValidator")
            .field("endpoint", &self.endpoint.as_str())
            .field("client_id", &self.basic_user)
            .field("client_secret", &"<redacted>")
            .field("timeout", &self.timeout)
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

/// Logs why introspection could not decide and makes the 503 error.
fn unavailable(reason: String) -> BearerError {
    tracing::warn!("token introspection unavailable: {reason}");
    BearerError::Unavailable(reason)
}

#[async_trait]
impl TokenValidator for IntrospectionValidator {
    /// Serves a cached answer when one may still be served; otherwise asks the provider.
    ///
    /// - `active: true` with `exp` after now, a `client_id`, and `token_type` absent or
    ///   `Bearer`: the [`AccessToken`], cached.
    /// - `active: false`, or an active answer failing those checks:
    ///   [`BearerError::InvalidToken`], not cached.
    /// - No answer (transport error, timeout), any status but 200 (a 401 means this
    ///   resource server's own credentials are wrong), or a body that is not an
    ///   introspection answer: [`BearerError::Unavailable`], so an outage is a 503 and
    ///   never a logout.
    async fn validate(&self, token: &str) -> Result<AccessToken, BearerError> {
        if token.is_empty() || token.len() > MAX_TOKEN_BYTES {
            return Err(BearerError::InvalidToken(INVALID.into()));
        }
        let key = TokenHash::of(token);
        // Taken before asking, so that an entry's `fetched_at + ttl` is never later than
        // `ttl` after the moment the provider looked at the token.
        let fetched_at = self.clock.now();
        if let Some(cached) = self.cache.get(&key, fetched_at) {
            return Ok(cached);
        }
        let body = self.ask(token).await?;
        let now = self.clock.now();
        match answer::read(&body, now) {
            Ok(access) => {
                self.cache.insert(key, &access, fetched_at, now);
                Ok(access)
            }
            Err(Refusal::Invalid(why)) => {
                self.cache.remove(&key);
                tracing::debug!(token = %key, "token refused by introspection: {why}");
                Err(BearerError::InvalidToken(INVALID.into()))
            }
            Err(Refusal::Malformed(why)) => Err(unavailable(why)),
        }
    }
}

/// Configures an [`IntrospectionValidator`]; made by [`IntrospectionValidator::builder`].
///
/// Every option has a default, named on its method; [`build`](Self::build) checks the
/// whole configuration.
///
/// ```
/// use portcullis_grants::ManualClock;
/// use portcullis_resource::IntrospectionValidator;
/// use std::sync::Arc;
///
/// let clock = Arc::new(ManualClock::starting_now());
/// let validator = IntrospectionValidator::builder("https://id.example/oauth/introspect", "api", "s")
///     .cache_ttl(time::Duration::seconds(30))
///     .cache_capacity(1_000)
///     .timeout(time::Duration::seconds(2))
///     .clock(clock.clone())
///     .build()?;
/// # Ok::<(), portcullis_resource::IntrospectionConfigError>(())
/// ```
#[must_use = "an IntrospectionValidatorBuilder does nothing until `build` is called"]
pub struct IntrospectionValidatorBuilder {
    endpoint: String,
    client_id: String,
    client_secret: String,
    http: Option<reqwest::Client>,
    clock: Arc<dyn Clock>,
    cache_ttl: Duration,
    cache_capacity: usize,
    timeout: Duration,
    allow_http: bool,
}

impl fmt::Debug for IntrospectionValidatorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntrospectionValidatorBuilder")
            .field("endpoint", &self.endpoint)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("cache_ttl", &self.cache_ttl)
            .field("cache_capacity", &self.cache_capacity)
            .field("timeout", &self.timeout)
            .field("allow_http", &self.allow_http)
            .finish_non_exhaustive()
    }
}

impl IntrospectionValidatorBuilder {
    /// Sends requests with `client` (to share a connection pool, or to add a TLS
    /// configuration). Its redirect policy applies; the [`timeout`](Self::timeout) is
    /// still set on each request.
    ///
    /// Default: a client of its own that follows no redirects (an introspection endpoint
    /// that redirects is misconfigured, and following it would resend the credentials).
    ///
    /// ```
    /// use portcullis_resource::IntrospectionValidator;
    /// let shared = reqwest::Client::new();
    /// let validator = IntrospectionValidator::builder("https://id.example/oauth/introspect", "api", "s")
    ///     .http_client(shared.clone())
    ///     .build()?;
    /// # Ok::<(), portcullis_resource::IntrospectionConfigError>(())
    /// ```
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Reads the time from `clock` (cache expiry and `exp` checks). Default: the system
    /// clock. Tests pass a [`ManualClock`](portcullis_grants::ManualClock), often the one
    /// the provider uses.
    ///
    /// ```
    /// use portcullis_grants::ManualClock;
    /// use portcullis_resource::IntrospectionValidator;
    /// let validator = IntrospectionValidator::builder("https://id.example/oauth/introspect", "api", "s")
    ///     .clock(ManualClock::starting_now())
    ///     .build()?;
    /// # Ok::<(), portcullis_resource::IntrospectionConfigError>(())
    /// ```
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// How long a positive answer may be served from the cache: a token revoked at the
    /// provider is still accepted here for at most this long. An answer is never served at
    /// or past the token's own `exp`, whatever the TTL. [`Duration::ZERO`] disables the
    /// cache (every request asks the provider). Default:
    /// [`IntrospectionValidator::DEFAULT_CACHE_TTL`] (60 s). Negative: a `build` error.
    ///
    /// ```
    /// use portcullis_resource::IntrospectionValidator;
    /// let uncached = IntrospectionValidator::builder("https://id.example/oauth/introspect", "api", "s")
    ///     .cache_ttl(time::Duration::ZERO)
    ///     .build()?;
    /// # Ok::<(), portcullis_resource::IntrospectionConfigError>(())
    /// ```
    pub fn cache_ttl(mut self, ttl: Duration) -> Self {
        self.cache_ttl = ttl;
        self
    }

    /// The most answers the cache holds; when full it drops stale entries first, then the
    /// ones that would expire soonest. `0` disables the cache. Default:
    /// [`IntrospectionValidator::DEFAULT_CACHE_CAPACITY`] (10 000).
    ///
    /// ```
    /// use portcullis_resource::IntrospectionValidator;
    /// let small = IntrospectionValidator::builder("https://id.example/oauth/introspect", "api", "s")
    ///     .cache_capacity(100)
    ///     .build()?;
    /// # Ok::<(), portcullis_resource::IntrospectionConfigError>(())
    /// ```
    pub fn cache_capacity(mut self, capacity: usize) -> Self {
        self.cache_capacity = capacity;
        self
    }

    /// How long one introspection request may take, connection to last byte; past it the
    /// protected request answers 503. Default: [`IntrospectionValidator::DEFAULT_TIMEOUT`]
    /// (5 s). Zero or negative: a `build` error.
    ///
    /// ```
    /// use portcullis_resource::IntrospectionValidator;
    /// let patient = IntrospectionValidator::builder("https://id.example/oauth/introspect", "api", "s")
    ///     .timeout(time::Duration::seconds(15))
    ///     .build()?;
    /// # Ok::<(), portcullis_resource::IntrospectionConfigError>(())
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Allows a plain `http://` endpoint on a host that is not loopback.
    ///
    /// # Security
    ///
    /// Every introspection request carries a bearer token and this resource server's client
    /// secret; over plain HTTP anyone on the path can read and replay both. RFC 7662 §4:
    /// the endpoint "MUST be protected by a transport-layer security mechanism". Use this
    /// only when the network path itself is trusted (the same host, a private link, a
    /// service mesh that encrypts). Loopback hosts (`localhost`, `127.0.0.0/8`, `::1`) are
    /// allowed over `http` without it.
    ///
    /// ```
    /// use portcullis_resource::{IntrospectionConfigError, IntrospectionValidator};
    /// let endpoint = "http://provider.internal:8080/oauth/introspect";
    /// assert_eq!(
    ///     IntrospectionValidator::builder(endpoint, "api", "s").build().unwrap_err(),
    ///     IntrospectionConfigError::InsecureEndpoint,
    /// );
    /// let validator = IntrospectionValidator::builder(endpoint, "api", "s")
    ///     .insecure_allow_http()
    ///     .build()?;
    /// # Ok::<(), IntrospectionConfigError>(())
    /// ```
    pub fn insecure_allow_http(mut self) -> Self {
        self.allow_http = true;
        self
    }

    /// Checks the configuration and makes the validator.
    ///
    /// # Errors
    ///
    /// [`IntrospectionConfigError`]: the endpoint is not an absolute `http`/`https` URL, or
    /// carries credentials, or is `http` on a host that is not loopback without
    /// [`insecure_allow_http`](Self::insecure_allow_http); the client id is empty; the
    /// cache TTL is negative; the timeout is not positive; the default HTTP client could
    /// not be created.
    ///
    /// ```
    /// use portcullis_resource::{IntrospectionConfigError, IntrospectionValidator};
    /// let err = IntrospectionValidator::builder("https://id.example/oauth/introspect", "", "s")
    ///     .build()
    ///     .unwrap_err();
    /// assert_eq!(err, IntrospectionConfigError::EmptyClientId);
    /// ```
    pub fn build(self) -> Result<IntrospectionValidator, IntrospectionConfigError> {
        let endpoint = reqwest::Url::parse(&self.endpoint).map_err(|err| {
            IntrospectionConfigError::InvalidEndpoint {
                reason: err.to_string(),
            }
        })?;
        let invalid = |reason: &str| IntrospectionConfigError::InvalidEndpoint {
            reason: reason.to_owned(),
        };
        match endpoint.scheme() {
            "https" => {}
            "http" if self.allow_http || is_loopback(&endpoint) => {}
            "http" => return Err(IntrospectionConfigError::InsecureEndpoint),
            _ => return Err(invalid("the scheme must be https (or http)")),
        }
        if endpoint.host_str().is_none_or(str::is_empty) {
            return Err(invalid("the URL has no host"));
        }
        if !endpoint.username().is_empty() || endpoint.password().is_some() {
            return Err(invalid(
                "the URL carries credentials; pass them as client id and secret",
            ));
        }
        if self.client_id.is_empty() {
            return Err(IntrospectionConfigError::EmptyClientId);
        }
        if self.cache_ttl < Duration::ZERO {
            return Err(IntrospectionConfigError::NegativeCacheTtl);
        }
        let timeout = std::time::Duration::try_from(self.timeout)
            .ok()
            .filter(|timeout| !timeout.is_zero())
            .ok_or(IntrospectionConfigError::InvalidTimeout)?;
        let http = match self.http {
            Some(http) => http,
            None => reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|err| IntrospectionConfigError::HttpClient {
                    reason: err.to_string(),
                })?,
        };
        Ok(IntrospectionValidator {
            endpoint,
            basic_user: form_urlencode(&self.client_id),
            basic_password: form_urlencode(&self.client_secret),
            http,
            timeout,
            clock: self.clock,
            cache: Cache::new(self.cache_ttl, self.cache_capacity),
        })
    }
}

/// Why an [`IntrospectionValidatorBuilder`] could not build.
///
/// ```
/// use portcullis_resource::{IntrospectionConfigError, IntrospectionValidator};
/// let err = IntrospectionValidator::builder("id.example/introspect", "api", "s")
///     .build()
///     .unwrap_err();
/// assert!(matches!(err, IntrospectionConfigError::InvalidEndpoint { .. }));
/// assert!(err.to_string().starts_with("invalid introspection endpoint"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IntrospectionConfigError {
    /// The endpoint is not an absolute `http`/`https` URL with a host and no credentials.
    #[error("invalid introspection endpoint: {reason}")]
    InvalidEndpoint {
        /// What is wrong with it.
        reason: String,
    },
    /// The endpoint is plain `http` on a host that is not loopback (RFC 7662 §4); see
    /// [`IntrospectionValidatorBuilder::insecure_allow_http`].
    #[error("the introspection endpoint must use https unless it is on a loopback host")]
    InsecureEndpoint,
    /// The resource server's client id is empty.
    #[error("the client id is empty")]
    EmptyClientId,
    /// The cache TTL is negative.
    #[error("the cache ttl is negative")]
    NegativeCacheTtl,
    /// The request timeout is zero or negative.
    #[error("the introspection timeout must be positive")]
    InvalidTimeout,
    /// The default HTTP client could not be created (e.g. the TLS backend failed to load).
    #[error("cannot create the http client: {reason}")]
    HttpClient {
        /// The underlying error.
        reason: String,
    },
}

/// `application/x-www-form-urlencoded` encoding of one value, as RFC 6749 §2.3.1 requires
/// for the client id and secret inside Basic credentials (WHATWG URL byte serializer:
/// `*-._` and alphanumerics stay, space becomes `+`, every other byte `%XX`).
fn form_urlencode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                encoded.push(char::from(byte));
            }
            b' ' => encoded.push('+'),
            _ => {
                // Writing to a String cannot fail.
                let _ = write!(encoded, "%{byte:02X}");
            }
        }
    }
    encoded
}
