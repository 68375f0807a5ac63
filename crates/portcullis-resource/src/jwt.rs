//! JWT access tokens: validation by a resource server per RFC 9068 §4, with the provider's
//! signing keys fetched from its JWKS endpoint (RFC 7517 §5) and cached.
//!
//! [`JwtValidator`] is the [`TokenValidator`] for a resource server that validates tokens
//! locally, without asking the provider about each one: only the JWK Set is fetched, once
//! per cache lifetime and when a token names a key not yet seen (a key rotation).

use crate::remote::is_loopback;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use portcullis_grants::{Clock, SystemClock};
use portcullis_tokens::{JwtExpectations, TokenHash};
use serde_json::{Map, Value};
use time::{Duration, OffsetDateTime};

use crate::{AccessToken, BearerError, TokenValidator};

mod claims;
mod header;
mod jwks;
#[cfg(test)]
mod tests;
mod verified;

use jwks::{Fetcher, KeyCache, Policy};

/// The longest token considered, in bytes; longer ones are refused as `invalid_token`
/// without being parsed. A portcullis access token is well under 2 KiB.
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// What a refused token is told: never why, which the logs say instead.
const INVALID: &str = "the access token is invalid or expired";

#[doc = include_str!("jwt/validator.md")]
pub struct JwtValidator {
    issuer: String,
    audience: String,
    leeway: Duration,
    clock: Arc<dyn Clock>,
    keys: KeyCache,
    verified: verified::Verified,
}

impl JwtValidator {
    /// The clock skew tolerated by default on `exp`, `nbf` and `iat`: 30 seconds. A token
    /// is accepted up to this long after its `exp`, and one whose `iat` is up to this far in
    /// the future (a provider whose clock runs a little ahead).
    ///
    /// ```
    /// use portcullis_resource::JwtValidator;
    /// assert_eq!(JwtValidator::DEFAULT_LEEWAY, time::Duration::seconds(30));
    /// ```
    pub const DEFAULT_LEEWAY: Duration = Duration::seconds(30);

    /// How long fetched keys are used by default before the JWKS is fetched again: 5
    /// minutes. A key the provider stops publishing (say, after a compromise) is refused
    /// here within that time.
    ///
    /// ```
    /// use portcullis_resource::JwtValidator;
    /// assert_eq!(JwtValidator::DEFAULT_JWKS_MAX_AGE, time::Duration::minutes(5));
    /// ```
    pub const DEFAULT_JWKS_MAX_AGE: Duration = Duration::minutes(5);

    /// The shortest time between two JWKS fetches by default: 30 seconds. Tokens naming
    /// unknown keys cannot make this validator ask the provider more often than that.
    ///
    /// ```
    /// use portcullis_resource::JwtValidator;
    /// assert_eq!(JwtValidator::DEFAULT_MIN_REFETCH_INTERVAL, time::Duration::seconds(30));
    /// ```
    pub const DEFAULT_MIN_REFETCH_INTERVAL: Duration = Duration::seconds(30);

    /// How long one JWKS request may take by default, from connecting to the end of the
    /// answer: 5 seconds.
    ///
    /// ```
    /// use portcullis_resource::JwtValidator;
    /// assert_eq!(JwtValidator::DEFAULT_TIMEOUT, time::Duration::seconds(5));
    /// ```
    pub const DEFAULT_TIMEOUT: Duration = Duration::seconds(5);

    /// Starts configuring a validator for tokens issued by `issuer` (compared exactly with
    /// `iss`, DESIGN §4.1: no trailing slash) for `audience` (which `aud` must contain),
    /// verified with the keys published at `jwks_uri` (the provider's `/oauth/jwks`, or the
    /// `jwks_uri` of its discovery document).
    ///
    /// ```
    /// use portcullis_resource::JwtValidator;
    ///
    /// let validator = JwtValidator::builder(
    ///     "https://id.example",
    ///     "https://api.example",
    ///     "https://id.example/oauth/jwks",
    /// )
    /// .build()?;
    /// assert_eq!(validator.issuer(), "https://id.example");
    /// # Ok::<(), portcullis_resource::JwtConfigError>(())
    /// ```
    pub fn builder(
        issuer: impl Into<String>,
        audience: impl Into<String>,
        jwks_uri: impl Into<String>,
    ) -> JwtValidatorBuilder {
        JwtValidatorBuilder {
            issuer: issuer.into(),
            audience: audience.into(),
            jwks_uri: jwks_uri.into(),
            http: None,
            clock: Arc::new(SystemClock),
            leeway: JwtValidator::DEFAULT_LEEWAY,
            jwks_max_age: JwtValidator::DEFAULT_JWKS_MAX_AGE,
            min_refetch_interval: JwtValidator::DEFAULT_MIN_REFETCH_INTERVAL,
            timeout: JwtValidator::DEFAULT_TIMEOUT,
            allow_http: false,
        }
    }

    /// The `iss` required.
    ///
    /// ```
    /// use portcullis_resource::JwtValidator;
    /// let validator =
    ///     JwtValidator::builder("https://id.example", "api", "https://id.example/oauth/jwks")
    ///         .build()?;
    /// assert_eq!(validator.issuer(), "https://id.example");
    /// # Ok::<(), portcullis_resource::JwtConfigError>(())
    /// ```
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The audience `aud` must contain.
    ///
    /// ```
    /// use portcullis_resource::JwtValidator;
    /// let validator =
    ///     JwtValidator::builder("https://id.example", "api", "https://id.example/oauth/jwks")
    ///         .build()?;
    /// assert_eq!(validator.audience(), "api");
    /// # Ok::<(), portcullis_resource::JwtConfigError>(())
    /// ```
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// The URL the JWK Set is fetched from.
    ///
    /// ```
    /// use portcullis_resource::JwtValidator;
    /// let validator =
    ///     JwtValidator::builder("http://127.0.0.1:8080", "api", "http://127.0.0.1:8080/oauth/jwks")
    ///         .build()?;
    /// assert_eq!(validator.jwks_uri(), "http://127.0.0.1:8080/oauth/jwks");
    /// # Ok::<(), portcullis_resource::JwtConfigError>(())
    /// ```
    pub fn jwks_uri(&self) -> &str {
        self.keys.jwks_uri()
    }

    /// Fetches the JWK Set now, whatever the refetch interval (but never while another fetch
    /// is in flight, whose result it then shares), and returns how many usable keys it
    /// holds. Optional: validation fetches on its own. Call it at startup to fail fast on a
    /// wrong `jwks_uri`, or from a readiness check.
    ///
    /// # Errors
    ///
    /// [`BearerError::Unavailable`] with the reason: no answer, a status other than 200, a
    /// body that is not a JWK Set, or one without a usable key. The keys cached before, if
    /// any, are kept until their own expiry.
    ///
    /// ```no_run
    /// use portcullis_resource::JwtValidator;
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let validator =
    ///     JwtValidator::builder("https://id.example", "api", "https://id.example/oauth/jwks")
    ///         .build()?;
    /// let keys = validator.refresh_keys().await?;
    /// assert!(keys > 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn refresh_keys(&self) -> Result<usize, BearerError> {
        self.keys.refresh_now().await
    }
}

impl fmt::Debug for JwtValidator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtValidator")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("leeway", &self.leeway)
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

/// Logs why a token was refused and makes the 401 error.
fn refuse(why: impl fmt::Display) -> BearerError {
    tracing::debug!("JWT access token refused: {why}");
    BearerError::InvalidToken(INVALID.into())
}

#[async_trait]
impl TokenValidator for JwtValidator {
    /// Validates a JWT access token as RFC 9068 §4 asks, then reads its claims.
    ///
    /// Before any key is looked up: a compact JWS of at most 16 KiB whose header has `typ`
    /// `at+jwt` (or `application/at+jwt`), `alg` ES256, EdDSA or RS256 (never `none` or an
    /// HMAC), and a `kid`. Then the key with that `kid` (fetching the JWKS if needed), of
    /// exactly that algorithm; the signature; `iss`, `aud`, `exp`, `nbf`, `iat` within the
    /// leeway; and `sub`, `client_id`, `iat` present. See the type's documentation for how
    /// each claim maps to the [`AccessToken`].
    async fn validate(&self, token: &str) -> Result<AccessToken, BearerError> {
        if token.is_empty() || token.len() > MAX_TOKEN_BYTES {
            return Err(refuse("empty or oversized token"));
        }
        let header = header::read(token).map_err(refuse)?;
        let key = self
            .keys
            .key(&header.kid)
            .await
            .inspect_err(|err| match err {
                // The failed fetch itself was logged as a warning, once.
                BearerError::Unavailable(reason) => {
                    tracing::debug!("JWT validation unavailable: {reason}");
                }
                _ => tracing::debug!("JWT access token refused: unknown kid"),
            })?;
        let now = self.clock.now();
        let hash = TokenHash::of(token);
        if let Some(hit) = self.verified.get(&hash, &key) {
            return self.still_valid(hit, now);
        }
        let expect = JwtExpectations::new(self.issuer.as_str(), now)
            .with_audience(self.audience.as_str())
            .with_typ(header::AT_JWT)
            .with_leeway(self.leeway);
        let claims: Map<String, Value> = key.verify(token, &expect).map_err(refuse)?;
        let access = claims::read(&claims).map_err(refuse)?;
        // `verify` accepted `nbf`, so it is absent or a valid date.
        let not_before = claims::numeric_date(&claims, "nbf", "invalid nbf")
            .ok()
            .flatten();
        let leeway = self.leeway.max(Duration::ZERO);
        self.verified.insert(
            hash,
            key,
            access.clone(),
            not_before,
            now.saturating_sub(leeway),
        );
        Ok(access)
    }
}

impl JwtValidator {
    /// The time checks of `portcullis_tokens`' JWT verification (`exp`, `nbf`, `iat` within
    /// the leeway), for a token whose signature and other claims were verified before.
    fn still_valid(
        &self,
        hit: verified::Hit,
        now: OffsetDateTime,
    ) -> Result<AccessToken, BearerError> {
        let leeway = self.leeway.max(Duration::ZERO);
        let earliest = now.saturating_sub(leeway);
        let latest = now.saturating_add(leeway);
        if hit.token.expires_at <= earliest {
            return Err(refuse("expired"));
        }
        if hit.not_before.is_some_and(|nbf| nbf > latest) {
            return Err(refuse("not yet valid"));
        }
        if hit.token.issued_at > latest {
            return Err(refuse("issued in the future"));
        }
        Ok(hit.token)
    }
}

/// Configures a [`JwtValidator`]; made by [`JwtValidator::builder`].
///
/// Every option has a default, named on its method; [`build`](Self::build) checks the whole
/// configuration.
///
/// ```
/// use portcullis_grants::ManualClock;
/// use portcullis_resource::JwtValidator;
/// use time::Duration;
///
/// let validator = JwtValidator::builder("https://id.example", "api", "https://id.example/oauth/jwks")
///     .leeway(Duration::seconds(10))
///     .jwks_max_age(Duration::minutes(15))
///     .min_refetch_interval(Duration::seconds(60))
///     .timeout(Duration::seconds(2))
///     .clock(ManualClock::starting_now())
///     .build()?;
/// # Ok::<(), portcullis_resource::JwtConfigError>(())
/// ```
#[must_use = "a JwtValidatorBuilder does nothing until `build` is called"]
pub struct JwtValidatorBuilder {
    issuer: String,
    audience: String,
    jwks_uri: String,
    http: Option<reqwest::Client>,
    clock: Arc<dyn Clock>,
    leeway: Duration,
    jwks_max_age: Duration,
    min_refetch_interval: Duration,
    timeout: Duration,
    allow_http: bool,
}

impl fmt::Debug for JwtValidatorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtValidatorBuilder")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("jwks_uri", &self.jwks_uri)
            .field("leeway", &self.leeway)
            .field("jwks_max_age", &self.jwks_max_age)
            .field("min_refetch_interval", &self.min_refetch_interval)
            .field("timeout", &self.timeout)
            .field("allow_http", &self.allow_http)
            .finish_non_exhaustive()
    }
}

impl JwtValidatorBuilder {
    /// Fetches the JWKS with `client` (to share a connection pool, or to add a TLS
    /// configuration). Its redirect policy applies; the [`timeout`](Self::timeout) is still
    /// set on each request.
    ///
    /// Default: a client of its own that follows no redirects (a JWKS URL that redirects is
    /// misconfigured, and following it would let whoever controls the target choose the keys).
    ///
    /// ```
    /// use portcullis_resource::JwtValidator;
    /// let shared = reqwest::Client::new();
    /// let validator = JwtValidator::builder("https://id.example", "api", "https://id.example/oauth/jwks")
    ///     .http_client(shared.clone())
    ///     .build()?;
    /// # Ok::<(), portcullis_resource::JwtConfigError>(())
    /// ```
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Reads the time from `clock` (`exp`, `nbf` and `iat` checks, key expiry, refetch
    /// interval). Default: the system clock. Tests pass a
    /// [`ManualClock`](portcullis_grants::ManualClock).
    ///
    /// ```
    /// use portcullis_grants::ManualClock;
    /// use portcullis_resource::JwtValidator;
    /// let validator = JwtValidator::builder("https://id.example", "api", "https://id.example/oauth/jwks")
    ///     .clock(ManualClock::starting_now())
    ///     .build()?;
    /// # Ok::<(), portcullis_resource::JwtConfigError>(())
    /// ```
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The clock skew tolerated between the provider and this server, on `exp` (a token
    /// is accepted until `exp + leeway`), `nbf` and `iat` (refused only past
    /// `now + leeway`). Default: [`JwtValidator::DEFAULT_LEEWAY`] (30 s). Negative: a
    /// `build` error.
    ///
    /// ```
    /// use portcullis_resource::JwtValidator;
    /// let strict = JwtValidator::builder("https://id.example", "api", "https://id.example/oauth/jwks")
    ///     .leeway(time::Duration::ZERO)
    ///     .build()?;
    /// # Ok::<(), portcullis_resource::JwtConfigError>(())
    /// ```
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// How long fetched keys are used before the JWKS must be fetched again. Past it they
    /// are never used: if the provider cannot be reached then, tokens are answered with 503
    /// until it can. A longer age rides out longer provider outages; a shorter one drops a
    /// key the provider withdrew sooner. Default: [`JwtValidator::DEFAULT_JWKS_MAX_AGE`]
    /// (5 min). Zero or negative, or shorter than the
    /// [`min_refetch_interval`](Self::min_refetch_interval): a `build` error.
    ///
    /// ```
    /// use portcullis_resource::JwtValidator;
    /// let validator = JwtValidator::builder("https://id.example", "api", "https://id.example/oauth/jwks")
    ///     .jwks_max_age(time::Duration::hours(1))
    ///     .build()?;
    /// # Ok::<(), portcullis_resource::JwtConfigError>(())
    /// ```
    pub fn jwks_max_age(mut self, max_age: Duration) -> Self {
        self.jwks_max_age = max_age;
        self
    }

    /// The shortest time between the starts of two JWKS fetches, successful or not. A token
    /// naming a key the cache does not know is answered from the last fetch within it: as
    /// `invalid_token` if that fetch succeeded, 503 if it failed. Bounds how hard tokens with
    /// made-up key ids, or a provider outage, can make this server ask the provider.
    /// Default: [`JwtValidator::DEFAULT_MIN_REFETCH_INTERVAL`] (30 s). [`Duration::ZERO`]
    /// removes the limit. Negative: a `build` error.
    ///
    /// ```
    /// use portcullis_resource::JwtValidator;
    /// let validator = JwtValidator::builder("https://id.example", "api", "https://id.example/oauth/jwks")
    ///     .min_refetch_interval(time::Duration::seconds(10))
    ///     .build()?;
    /// # Ok::<(), portcullis_resource::JwtConfigError>(())
    /// ```
    pub fn min_refetch_interval(mut self, interval: Duration) -> Self {
        self.min_refetch_interval = interval;
        self
    }

    /// How long one JWKS request may take, connection to last byte. Default:
    /// [`JwtValidator::DEFAULT_TIMEOUT`] (5 s). Zero or negative: a `build` error.
    ///
    /// ```
    /// use portcullis_resource::JwtValidator;
    /// let patient = JwtValidator::builder("https://id.example", "api", "https://id.example/oauth/jwks")
    ///     .timeout(time::Duration::seconds(15))
    ///     .build()?;
    /// # Ok::<(), portcullis_resource::JwtConfigError>(())
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Allows a plain `http://` JWKS URL on a host that is not loopback.
    ///
    /// # Security
    ///
    /// The JWK Set decides which signatures this server trusts: whoever can alter it in
    /// transit can sign tokens of their own that it accepts. RFC 7515 §4.1.2, for a JWK Set
    /// fetched by URL: "an HTTP GET request to retrieve the JWK Set MUST use Transport Layer
    /// Security (TLS)". Use this only when the network path itself is trusted (the
    /// same host, a private link, a service mesh that encrypts). Loopback hosts (`localhost`,
    /// `127.0.0.0/8`, `::1`) are allowed over `http` without it.
    ///
    /// ```
    /// use portcullis_resource::{JwtConfigError, JwtValidator};
    /// let jwks = "http://provider.internal:8080/oauth/jwks";
    /// assert_eq!(
    ///     JwtValidator::builder("http://provider.internal:8080", "api", jwks).build().unwrap_err(),
    ///     JwtConfigError::InsecureJwksUri,
    /// );
    /// let validator = JwtValidator::builder("http://provider.internal:8080", "api", jwks)
    ///     .insecure_allow_http()
    ///     .build()?;
    /// # Ok::<(), JwtConfigError>(())
    /// ```
    pub fn insecure_allow_http(mut self) -> Self {
        self.allow_http = true;
        self
    }

    /// Checks the configuration and makes the validator. Nothing is fetched yet: the first
    /// request that needs a key does (or [`JwtValidator::refresh_keys`]).
    ///
    /// # Errors
    ///
    /// [`JwtConfigError`]: the issuer or audience is empty; the JWKS URL is not an absolute
    /// `http`/`https` URL, or carries credentials, or is `http` on a host that is not
    /// loopback without [`insecure_allow_http`](Self::insecure_allow_http); the leeway or
    /// refetch interval is negative; the max-age is not positive or is shorter than the
    /// refetch interval; the timeout is not positive; the default HTTP client could not be
    /// created.
    ///
    /// ```
    /// use portcullis_resource::{JwtConfigError, JwtValidator};
    /// let err = JwtValidator::builder("https://id.example", "", "https://id.example/oauth/jwks")
    ///     .build()
    ///     .unwrap_err();
    /// assert_eq!(err, JwtConfigError::EmptyAudience);
    /// ```
    pub fn build(self) -> Result<JwtValidator, JwtConfigError> {
        if self.issuer.is_empty() {
            return Err(JwtConfigError::EmptyIssuer);
        }
        if self.audience.is_empty() {
            return Err(JwtConfigError::EmptyAudience);
        }
        let url =
            reqwest::Url::parse(&self.jwks_uri).map_err(|err| JwtConfigError::InvalidJwksUri {
                reason: err.to_string(),
            })?;
        let invalid = |reason: &str| JwtConfigError::InvalidJwksUri {
            reason: reason.to_owned(),
        };
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http || is_loopback(&url) => {}
            "http" => return Err(JwtConfigError::InsecureJwksUri),
            _ => return Err(invalid("the scheme must be https (or http)")),
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(invalid("the URL has no host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("the URL carries credentials"));
        }
        if self.leeway < Duration::ZERO {
            return Err(JwtConfigError::NegativeLeeway);
        }
        if self.min_refetch_interval < Duration::ZERO {
            return Err(JwtConfigError::NegativeRefetchInterval);
        }
        if self.jwks_max_age <= Duration::ZERO || self.jwks_max_age < self.min_refetch_interval {
            return Err(JwtConfigError::InvalidJwksMaxAge);
        }
        let timeout = std::time::Duration::try_from(self.timeout)
            .ok()
            .filter(|timeout| !timeout.is_zero())
            .ok_or(JwtConfigError::InvalidTimeout)?;
        let http = match self.http {
            Some(http) => http,
            None => reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|err| JwtConfigError::HttpClient {
                    reason: err.to_string(),
                })?,
        };
        let policy = Policy {
            max_age: self.jwks_max_age,
            min_interval: self.min_refetch_interval,
        };
        let fetcher = Fetcher { url, http, timeout };
        Ok(JwtValidator {
            issuer: self.issuer,
            audience: self.audience,
            leeway: self.leeway,
            keys: KeyCache::new(fetcher, policy, Arc::clone(&self.clock)),
            verified: verified::Verified::default(),
            clock: self.clock,
        })
    }
}

/// Why a [`JwtValidatorBuilder`] could not build.
///
/// ```
/// use portcullis_resource::{JwtConfigError, JwtValidator};
/// let err = JwtValidator::builder("https://id.example", "api", "id.example/oauth/jwks")
///     .build()
///     .unwrap_err();
/// assert!(matches!(err, JwtConfigError::InvalidJwksUri { .. }));
/// assert!(err.to_string().starts_with("invalid jwks uri"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwtConfigError {
    /// The expected issuer is empty.
    #[error("the issuer is empty")]
    EmptyIssuer,
    /// The expected audience is empty.
    #[error("the audience is empty")]
    EmptyAudience,
    /// The JWKS URL is not an absolute `http`/`https` URL with a host and no credentials.
    #[error("invalid jwks uri: {reason}")]
    InvalidJwksUri {
        /// What is wrong with it.
        reason: String,
    },
    /// The JWKS URL is plain `http` on a host that is not loopback (RFC 7515 §4.1.2); see
    /// [`JwtValidatorBuilder::insecure_allow_http`].
    #[error("the jwks uri must use https unless it is on a loopback host")]
    InsecureJwksUri,
    /// The leeway is negative.
    #[error("the leeway is negative")]
    NegativeLeeway,
    /// The minimum refetch interval is negative.
    #[error("the minimum jwks refetch interval is negative")]
    NegativeRefetchInterval,
    /// The JWKS max-age is zero, negative, or shorter than the minimum refetch interval
    /// (keys would expire with no fetch allowed to replace them).
    #[error("the jwks max-age must be positive and at least the minimum refetch interval")]
    InvalidJwksMaxAge,
    /// The request timeout is zero or negative.
    #[error("the jwks timeout must be positive")]
    InvalidTimeout,
    /// The default HTTP client could not be created (e.g. the TLS backend failed to load).
    #[error("cannot create the http client: {reason}")]
    HttpClient {
        /// The underlying error.
        reason: String,
    },
}
