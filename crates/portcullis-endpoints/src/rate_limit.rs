//! Rate limiting and failed-login lockout ([`ProviderBuilder::rate_limits`]), all off
//! unless configured: see [`RateLimits`] for what is limited, how, and how it answers.

use std::net::{IpAddr, Ipv6Addr};

use bytes::Bytes;
use http::Request;
use portcullis_grants::Params;
use sha2::{Digest, Sha256};
use time::Duration;

use crate::{ConfigError, OAuthError, Provider, ProviderBuilder};

mod gcra;
mod lockout;
mod table;

#[cfg(test)]
mod tests;

use gcra::Gcra;
use lockout::Lockouts;

/// The client's IP address, as a request extension the adapters insert (see [`RateLimits`]): the per-IP limits key on it.
///
/// ```
/// use portcullis_endpoints::ClientIp;
/// use std::net::{IpAddr, Ipv4Addr};
///
/// let mut request = http::Request::new(bytes::Bytes::new());
/// request.extensions_mut().insert(ClientIp(IpAddr::V4(Ipv4Addr::LOCALHOST)));
/// assert_eq!(ClientIp::of(&request), Some(IpAddr::V4(Ipv4Addr::LOCALHOST)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientIp(pub IpAddr);

impl ClientIp {
    /// The address in `request`'s extensions, if an adapter (or middleware) put one there.
    ///
    /// ```
    /// let request = http::Request::new(());
    /// assert_eq!(portcullis_endpoints::ClientIp::of(&request), None);
    /// ```
    pub fn of<B>(request: &Request<B>) -> Option<IpAddr> {
        request.extensions().get::<ClientIp>().map(|ip| ip.0)
    }
}

/// A rate: `count` requests per `period`, all of which may come at once; after that they
/// are admitted one every `period / count` (a token bucket of `count` tokens).
///
/// ```
/// use portcullis_endpoints::Rate;
/// let rate = Rate::per_minute(30);
/// assert_eq!((rate.count(), rate.period()), (30, time::Duration::minutes(1)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    count: u32,
    period: Duration,
}

impl Rate {
    /// `count` per `period`; [`ProviderBuilder::build`] refuses a zero count and a period
    /// under one second or over one day.
    ///
    /// ```
    /// let rate = portcullis_endpoints::Rate::new(100, time::Duration::minutes(10));
    /// assert_eq!(rate.count(), 100);
    /// ```
    pub fn new(count: u32, period: Duration) -> Rate {
        Rate { count, period }
    }

    /// `count` per second.
    ///
    /// ```
    /// assert_eq!(portcullis_endpoints::Rate::per_second(5).period(), time::Duration::SECOND);
    /// ```
    pub fn per_second(count: u32) -> Rate {
        Rate::new(count, Duration::SECOND)
    }

    /// `count` per minute.
    ///
    /// ```
    /// assert_eq!(portcullis_endpoints::Rate::per_minute(5).period(), time::Duration::MINUTE);
    /// ```
    pub fn per_minute(count: u32) -> Rate {
        Rate::new(count, Duration::MINUTE)
    }

    /// `count` per hour.
    ///
    /// ```
    /// assert_eq!(portcullis_endpoints::Rate::per_hour(5).period(), time::Duration::HOUR);
    /// ```
    pub fn per_hour(count: u32) -> Rate {
        Rate::new(count, Duration::HOUR)
    }

    /// How many requests per period.
    ///
    /// ```
    /// assert_eq!(portcullis_endpoints::Rate::per_hour(5).count(), 5);
    /// ```
    pub fn count(&self) -> u32 {
        self.count
    }

    /// The period.
    ///
    /// ```
    /// assert_eq!(portcullis_endpoints::Rate::per_hour(5).period(), time::Duration::HOUR);
    /// ```
    pub fn period(&self) -> Duration {
        self.period
    }

    /// The spacing of requests once the burst is spent.
    pub(crate) fn interval(&self) -> Duration {
        self.period / self.count.max(1)
    }

    fn check(&self, setting: &'static str) -> Result<(), ConfigError> {
        if self.count == 0 {
            return Err(ConfigError::RateLimit {
                setting,
                reason: "the count must be at least 1",
            });
        }
        if self.period < Duration::SECOND || self.period > Duration::DAY {
            return Err(ConfigError::RateLimit {
                setting,
                reason: "the period must be between 1 second and 1 day",
            });
        }
        Ok(())
    }
}

/// Failed-login backoff: after [`threshold`](LoginLockout::threshold) failures in a row
/// for one username and IP, a lock of [`first`](LoginLockout::first), doubling with every
/// further failure up to [`max`](LoginLockout::max). Default: 5 failures, 1 second, 15
/// minutes, forgotten after an hour without failures.
///
/// ```
/// use portcullis_endpoints::LoginLockout;
/// use time::Duration;
///
/// let lockout = LoginLockout::after(3).first(Duration::seconds(2)).max(Duration::minutes(5));
/// assert_eq!(lockout.threshold, 3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoginLockout {
    /// The failure in a row that starts the first lock (at least 1).
    pub threshold: u32,
    /// The first lock (at least 1 second).
    pub first: Duration,
    /// The longest lock (at least `first`, at most 1 day).
    pub max: Duration,
    /// Failures are forgotten once this long passed after the last one and no lock is in
    /// force (at least `max`, at most 30 days).
    pub reset_after: Duration,
}

impl Default for LoginLockout {
    fn default() -> Self {
        LoginLockout {
            threshold: 5,
            first: Duration::SECOND,
            max: Duration::minutes(15),
            reset_after: Duration::HOUR,
        }
    }
}

impl LoginLockout {
    /// The default backoff, starting after `threshold` failures in a row.
    ///
    /// ```
    /// assert_eq!(portcullis_endpoints::LoginLockout::after(10).threshold, 10);
    /// ```
    pub fn after(threshold: u32) -> LoginLockout {
        LoginLockout {
            threshold,
            ..LoginLockout::default()
        }
    }

    /// Sets the first lock.
    ///
    /// ```
    /// let lockout = portcullis_endpoints::LoginLockout::default().first(time::Duration::seconds(30));
    /// assert_eq!(lockout.first, time::Duration::seconds(30));
    /// ```
    pub fn first(mut self, first: Duration) -> LoginLockout {
        self.first = first;
        self
    }

    /// Sets the longest lock.
    ///
    /// ```
    /// let lockout = portcullis_endpoints::LoginLockout::default().max(time::Duration::hours(1));
    /// assert_eq!(lockout.max, time::Duration::hours(1));
    /// ```
    pub fn max(mut self, max: Duration) -> LoginLockout {
        self.max = max;
        self
    }

    /// Sets how long failures are remembered after the last one.
    ///
    /// ```
    /// let lockout = portcullis_endpoints::LoginLockout::default().reset_after(time::Duration::days(1));
    /// assert_eq!(lockout.reset_after, time::Duration::days(1));
    /// ```
    pub fn reset_after(mut self, reset_after: Duration) -> LoginLockout {
        self.reset_after = reset_after;
        self
    }

    fn check(&self) -> Result<(), ConfigError> {
        let fail = |reason| {
            Err(ConfigError::RateLimit {
                setting: "login_lockout",
                reason,
            })
        };
        if self.threshold == 0 {
            return fail("the threshold must be at least 1");
        }
        if self.first < Duration::SECOND || self.max < self.first || self.max > Duration::DAY {
            return fail("locks must be between 1 second and 1 day, the first no longer than max");
        }
        if self.reset_after < self.max || self.reset_after > Duration::days(30) {
            return fail("reset_after must be at least max and at most 30 days");
        }
        Ok(())
    }
}

/// Which limits the provider enforces ([`ProviderBuilder::rate_limits`]). The default is
/// none at all; [`RateLimits::recommended`] turns them all on.
///
/// - **Token endpoint**: a limit per client IP ([`RateLimits::token_per_ip`], checked
///   before anything else, so it also slows the guessing of client secrets) and a limit per
///   client ([`RateLimits::token_per_client`], checked once the client has authenticated,
///   keyed by its `client_id`).
/// - **Login** — the default login page's POST (feature `ui`), the password grant, and an
///   application's own login form through [`Provider::check_login`],
///   [`Provider::login_failed`] and [`Provider::login_succeeded`]: a limit per client IP
///   ([`RateLimits::login_per_ip`]), a limit per typed username and IP
///   ([`RateLimits::login_per_user_ip`]), and a backoff after failures
///   ([`RateLimits::login_lockout`]): once a username and IP failed
///   [`LoginLockout::threshold`] times in a row, each further failure locks them out for
///   twice as long as the previous one ([`LoginLockout::first`], doubling, at most
///   [`LoginLockout::max`]). A successful login resets the count.
///
/// # Never revealing whether a user exists
///
/// Login limits and lockouts key on the username *as typed* (trimmed and lowercased, so
/// case variants share a count), never on whether it names a user: an unknown username
/// is counted, locked out and answered exactly like a known one with a wrong password —
/// same status, same page or JSON, same `Retry-After`. The username is kept only as its
/// SHA-256, so the tables never hold what users typed (sometimes a password).
///
/// # Answers
///
/// A refused request gets `429 Too Many Requests` (RFC 6585 §4) with `Retry-After` in
/// whole seconds (RFC 9110 §10.2.3, rounded up) and `Cache-Control: no-store`:
/// - at the token endpoint, the JSON error of RFC 6749 §5.2 with `error` =
///   `temporarily_unavailable`. RFC 6749 defines that code for the authorization endpoint
///   (§4.1.2.1: "unable to handle the request due to a temporary overloading"), and none
///   of the §5.2 codes fit a request that was well formed and will succeed later; client
///   libraries treat it as retryable, and the status and `Retry-After` say when.
///   (`slow_down` is RFC 8628's code for device polling only.)
/// - on the login page, the login form again (no redirect), saying to try later.
///
/// # Client IP
///
/// `http::Request` carries no peer address: the adapters insert a [`ClientIp`] extension
/// (actix-web from the connection's peer address; axum from `ConnectInfo<SocketAddr>`,
/// present when the app is served with `into_make_service_with_connect_info`). Neither
/// reads `X-Forwarded-For` or `Forwarded`, which any client can forge; behind a reverse
/// proxy, a middleware that knows the proxy inserts its own `ClientIp`, and the adapters
/// keep it. IPv6 addresses are limited per /64 (one subscriber's usual allocation), and
/// IPv4-mapped IPv6 addresses as IPv4. **Without a `ClientIp`, the per-IP limits do not
/// apply**; the per-client limit still does, and the per-user limit and lockout key on the
/// username alone.
///
/// # Scope
///
/// The state is in memory, per provider instance, each table holding at most
/// [`RateLimits::max_keys`] keys (DESIGN §5): several instances behind a load balancer each
/// enforce their own limits. When a table is full, expired entries go first, then the one
/// that expires soonest (the key least limited), so a flood of new keys cannot lock
/// everyone else out. Time comes from the provider's [`Clock`](portcullis_grants::Clock).
///
/// ```
/// use portcullis_endpoints::{LoginLockout, Rate, RateLimits};
///
/// let limits = RateLimits::default()
///     .token_per_client(Rate::per_minute(600))
///     .login_per_user_ip(Rate::per_minute(10))
///     .login_lockout(LoginLockout::after(5));
/// assert_eq!(limits.token_per_ip, None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimits {
    /// Token requests per authenticated client (keyed by `client_id`).
    pub token_per_client: Option<Rate>,
    /// Token requests per client IP, authenticated or not.
    pub token_per_ip: Option<Rate>,
    /// Login attempts per typed username and client IP.
    pub login_per_user_ip: Option<Rate>,
    /// Login attempts per client IP, whatever the username.
    pub login_per_ip: Option<Rate>,
    /// Backoff after failed logins, per typed username and client IP.
    pub login_lockout: Option<LoginLockout>,
    /// The most keys each limiter remembers (default 10 000; at least 16).
    pub max_keys: usize,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            token_per_client: None,
            token_per_ip: None,
            login_per_user_ip: None,
            login_per_ip: None,
            login_lockout: None,
            max_keys: RateLimits::DEFAULT_MAX_KEYS,
        }
    }
}

impl RateLimits {
    /// The default of [`RateLimits::max_keys`].
    pub const DEFAULT_MAX_KEYS: usize = 10_000;

    /// Every limit on: 600 token requests a minute per client and 1200 per IP; 10 login
    /// attempts a minute per username and IP and 60 per IP; the default [`LoginLockout`]
    /// (after 5 failures, 1 second doubling to 15 minutes).
    ///
    /// ```
    /// let limits = portcullis_endpoints::RateLimits::recommended();
    /// assert!(limits.login_lockout.is_some());
    /// ```
    pub fn recommended() -> RateLimits {
        RateLimits {
            token_per_client: Some(Rate::per_minute(600)),
            token_per_ip: Some(Rate::per_minute(1200)),
            login_per_user_ip: Some(Rate::per_minute(10)),
            login_per_ip: Some(Rate::per_minute(60)),
            login_lockout: Some(LoginLockout::default()),
            max_keys: RateLimits::DEFAULT_MAX_KEYS,
        }
    }

    /// Sets [`RateLimits::token_per_client`].
    ///
    /// ```
    /// use portcullis_endpoints::{Rate, RateLimits};
    /// assert!(RateLimits::default().token_per_client(Rate::per_second(10)).token_per_client.is_some());
    /// ```
    pub fn token_per_client(mut self, rate: Rate) -> RateLimits {
        self.token_per_client = Some(rate);
        self
    }

    /// Sets [`RateLimits::token_per_ip`].
    ///
    /// ```
    /// use portcullis_endpoints::{Rate, RateLimits};
    /// assert!(RateLimits::default().token_per_ip(Rate::per_second(10)).token_per_ip.is_some());
    /// ```
    pub fn token_per_ip(mut self, rate: Rate) -> RateLimits {
        self.token_per_ip = Some(rate);
        self
    }

    /// Sets [`RateLimits::login_per_user_ip`].
    ///
    /// ```
    /// use portcullis_endpoints::{Rate, RateLimits};
    /// assert!(RateLimits::default().login_per_user_ip(Rate::per_minute(10)).login_per_user_ip.is_some());
    /// ```
    pub fn login_per_user_ip(mut self, rate: Rate) -> RateLimits {
        self.login_per_user_ip = Some(rate);
        self
    }

    /// Sets [`RateLimits::login_per_ip`].
    ///
    /// ```
    /// use portcullis_endpoints::{Rate, RateLimits};
    /// assert!(RateLimits::default().login_per_ip(Rate::per_minute(60)).login_per_ip.is_some());
    /// ```
    pub fn login_per_ip(mut self, rate: Rate) -> RateLimits {
        self.login_per_ip = Some(rate);
        self
    }

    /// Sets [`RateLimits::login_lockout`].
    ///
    /// ```
    /// use portcullis_endpoints::{LoginLockout, RateLimits};
    /// assert!(RateLimits::default().login_lockout(LoginLockout::after(3)).login_lockout.is_some());
    /// ```
    pub fn login_lockout(mut self, lockout: LoginLockout) -> RateLimits {
        self.login_lockout = Some(lockout);
        self
    }

    /// Sets [`RateLimits::max_keys`].
    ///
    /// ```
    /// assert_eq!(portcullis_endpoints::RateLimits::default().max_keys(100).max_keys, 100);
    /// ```
    pub fn max_keys(mut self, max_keys: usize) -> RateLimits {
        self.max_keys = max_keys;
        self
    }

    /// Checks every setting ([`ProviderBuilder::build`]).
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        let rates = [
            ("token_per_client", self.token_per_client),
            ("token_per_ip", self.token_per_ip),
            ("login_per_user_ip", self.login_per_user_ip),
            ("login_per_ip", self.login_per_ip),
        ];
        for (setting, rate) in rates {
            if let Some(rate) = rate {
                rate.check(setting)?;
            }
        }
        if let Some(lockout) = &self.login_lockout {
            lockout.check()?;
        }
        if self.max_keys < 16 {
            return Err(ConfigError::RateLimit {
                setting: "max_keys",
                reason: "keep at least 16 keys",
            });
        }
        Ok(())
    }

    /// The limiters these settings describe.
    pub(crate) fn limiter(&self) -> RateLimiter {
        let cap = self.max_keys;
        RateLimiter {
            token_client: self.token_per_client.map(|rate| Gcra::new(rate, cap)),
            token_ip: self.token_per_ip.map(|rate| Gcra::new(rate, cap)),
            login_user_ip: self.login_per_user_ip.map(|rate| Gcra::new(rate, cap)),
            login_ip: self.login_per_ip.map(|rate| Gcra::new(rate, cap)),
            lockout: self.login_lockout.map(|policy| Lockouts::new(policy, cap)),
        }
    }
}

/// A request refused by a limit or a lockout: retry after this long.
///
/// ```
/// # use portcullis_endpoints::Provider;
/// # use std::sync::Arc;
/// use portcullis_endpoints::{LoginLockout, RateLimits};
///
/// let provider = Provider::builder("https://id.example", Arc::new(portcullis_store::MemoryStore::new()))
///     .rate_limits(RateLimits::default().login_lockout(LoginLockout::after(1)))
///     .build()?;
/// provider.login_failed("mallory", None);
/// let throttled = provider.check_login("mallory", None).unwrap_err();
/// assert_eq!(throttled.retry_after_secs(), 1);
/// assert_eq!(throttled.to_string(), "too many attempts; retry after 1 s");
/// # Ok::<(), portcullis_endpoints::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many attempts; retry after {} s", self.retry_after_secs())]
pub struct Throttled {
    retry_after: Duration,
}

impl Throttled {
    /// How long to wait.
    ///
    /// ```
    /// # use portcullis_endpoints::{LoginLockout, Provider, RateLimits};
    /// # use std::sync::Arc;
    /// # let provider = Provider::builder("https://id.example", Arc::new(portcullis_store::MemoryStore::new()))
    /// #     .rate_limits(RateLimits::default().login_lockout(LoginLockout::after(1))).build().expect("ok");
    /// # provider.login_failed("mallory", None);
    /// let throttled = provider.check_login("mallory", None).unwrap_err();
    /// assert!(throttled.retry_after() <= time::Duration::SECOND); // less the time since
    /// ```
    pub fn retry_after(&self) -> Duration {
        self.retry_after
    }

    /// The wait in whole seconds, rounded up and at least 1: the `Retry-After` value.
    ///
    /// ```
    /// # use portcullis_endpoints::{LoginLockout, Provider, RateLimits};
    /// # use std::sync::Arc;
    /// # let provider = Provider::builder("https://id.example", Arc::new(portcullis_store::MemoryStore::new()))
    /// #     .rate_limits(RateLimits::default().login_lockout(LoginLockout::after(1))).build().expect("ok");
    /// # provider.login_failed("mallory", None);
    /// assert_eq!(provider.check_login("mallory", None).unwrap_err().retry_after_secs(), 1);
    /// ```
    pub fn retry_after_secs(&self) -> u64 {
        let nanos = u128::try_from(self.retry_after.whole_nanoseconds()).unwrap_or(0);
        let seconds = nanos.div_ceil(1_000_000_000).max(1);
        u64::try_from(seconds).unwrap_or(u64::MAX)
    }

    /// The token endpoint's answer: 429 `temporarily_unavailable`.
    pub(crate) fn oauth_error(self) -> OAuthError {
        OAuthError::too_many_requests(self.retry_after_secs())
    }
}

impl From<Duration> for Throttled {
    fn from(retry_after: Duration) -> Self {
        Throttled { retry_after }
    }
}

/// A login key: the SHA-256 of the normalized username and the client's network.
type LoginKey = ([u8; 32], Option<IpAddr>);

/// The limiters in force: each `None` when its limit is off.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    token_client: Option<Gcra<String>>,
    token_ip: Option<Gcra<IpAddr>>,
    login_user_ip: Option<Gcra<LoginKey>>,
    login_ip: Option<Gcra<IpAddr>>,
    lockout: Option<Lockouts<LoginKey>>,
}

/// What a per-IP limiter keys on: IPv4 addresses as they are (IPv4-mapped IPv6 included),
/// IPv6 addresses by their /64.
fn network(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(
                u128::from(v6) & 0xffff_ffff_ffff_ffff_0000_0000_0000_0000,
            )),
        },
    }
}

/// The key of a typed username from `ip`.
fn login_key(username: &str, ip: Option<IpAddr>) -> LoginKey {
    let normalized = username.trim().to_lowercase();
    (
        Sha256::digest(normalized.as_bytes()).into(),
        ip.map(network),
    )
}

impl ProviderBuilder {
    /// Rate limits and failed-login lockout (see [`RateLimits`]). Default:
    /// [`RateLimits::default`], every limit off.
    ///
    /// ```
    /// use portcullis_endpoints::{Provider, RateLimits};
    /// use portcullis_store::MemoryStore;
    /// use std::sync::Arc;
    ///
    /// let provider = Provider::builder("https://id.example", Arc::new(MemoryStore::new()))
    ///     .rate_limits(RateLimits::recommended())
    ///     .build()?;
    /// # Ok::<(), portcullis_endpoints::ConfigError>(())
    /// ```
    pub fn rate_limits(mut self, limits: RateLimits) -> Self {
        self.rate_limits = limits;
        self
    }
}

impl Provider {
    /// Whether a login attempt for `username` from `ip` may go ahead, for an application's
    /// own login form or API (the default login page and the password grant call it
    /// themselves): refused while the username and IP are locked out, or when an attempt
    /// now would exceed [`RateLimits::login_per_ip`] or [`RateLimits::login_per_user_ip`]
    /// (an admitted attempt counts against both). After checking the password, report the
    /// outcome with [`Provider::login_failed`] or [`Provider::login_succeeded`]. Whether the
    /// user exists plays no part; answer a refusal the same way for every username.
    ///
    /// ```
    /// use portcullis_endpoints::{Provider, Rate, RateLimits};
    /// use std::net::{IpAddr, Ipv4Addr};
    /// use std::sync::Arc;
    ///
    /// let provider = Provider::builder("https://id.example", Arc::new(portcullis_store::MemoryStore::new()))
    ///     .rate_limits(RateLimits::default().login_per_ip(Rate::per_minute(1)))
    ///     .build()?;
    /// let ip = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)));
    /// assert!(provider.check_login("alice", ip).is_ok());
    /// assert_eq!(provider.check_login("bob", ip).unwrap_err().retry_after_secs(), 60);
    /// # Ok::<(), portcullis_endpoints::ConfigError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Throttled`] with the time to wait.
    pub fn check_login(&self, username: &str, ip: Option<IpAddr>) -> Result<(), Throttled> {
        let limits = &self.0.rate_limits;
        let now = self.now();
        let key = login_key(username, ip);
        if let Some(lockout) = &limits.lockout {
            lockout.check(key, now)?;
        }
        if let (Some(limiter), Some(ip)) = (&limits.login_ip, ip) {
            limiter.check(network(ip), now)?;
        }
        if let Some(limiter) = &limits.login_user_ip {
            limiter.check(key, now)?;
        }
        Ok(())
    }

    /// Counts a failed login for `username` from `ip` towards its lockout
    /// ([`RateLimits::login_lockout`]); nothing when the lockout is off.
    ///
    /// ```
    /// # use portcullis_endpoints::{LoginLockout, Provider, RateLimits};
    /// # use std::sync::Arc;
    /// let provider = Provider::builder("https://id.example", Arc::new(portcullis_store::MemoryStore::new()))
    ///     .rate_limits(RateLimits::default().login_lockout(LoginLockout::after(2)))
    ///     .build()?;
    /// provider.login_failed("alice", None);
    /// assert!(provider.check_login("alice", None).is_ok());
    /// provider.login_failed("alice", None);
    /// assert!(provider.check_login("alice", None).is_err());
    /// # Ok::<(), portcullis_endpoints::ConfigError>(())
    /// ```
    pub fn login_failed(&self, username: &str, ip: Option<IpAddr>) {
        if let Some(lockout) = &self.0.rate_limits.lockout
            && let Some(lock) = lockout.failed(login_key(username, ip), self.now())
        {
            tracing::info!(
                lock_secs = Throttled::from(lock).retry_after_secs(),
                "sign-in locked after repeated failures"
            );
        }
    }

    /// Forgets the failed logins of `username` from `ip` (it just signed in).
    ///
    /// ```
    /// # use portcullis_endpoints::{LoginLockout, Provider, RateLimits};
    /// # use std::sync::Arc;
    /// let provider = Provider::builder("https://id.example", Arc::new(portcullis_store::MemoryStore::new()))
    ///     .rate_limits(RateLimits::default().login_lockout(LoginLockout::after(2)))
    ///     .build()?;
    /// provider.login_failed("alice", None);
    /// provider.login_succeeded("alice", None);
    /// provider.login_failed("alice", None);
    /// assert!(provider.check_login("alice", None).is_ok());
    /// # Ok::<(), portcullis_endpoints::ConfigError>(())
    /// ```
    pub fn login_succeeded(&self, username: &str, ip: Option<IpAddr>) {
        if let Some(lockout) = &self.0.rate_limits.lockout {
            lockout.succeeded(login_key(username, ip), self.now());
        }
    }

    /// The token endpoint's per-IP limit, before anything else is read.
    pub(crate) fn limit_token_ip(&self, request: &Request<Bytes>) -> Result<(), OAuthError> {
        if let (Some(limiter), Some(ip)) = (&self.0.rate_limits.token_ip, ClientIp::of(request)) {
            limiter
                .check(network(ip), self.now())
                .map_err(|wait| Throttled::from(wait).oauth_error())?;
        }
        Ok(())
    }

    /// The token endpoint's per-client limit, once the client authenticated.
    pub(crate) fn limit_token_client(&self, client_id: &str) -> Result<(), OAuthError> {
        if let Some(limiter) = &self.0.rate_limits.token_client {
            limiter
                .check(client_id.to_owned(), self.now())
                .map_err(|wait| Throttled::from(wait).oauth_error())?;
        }
        Ok(())
    }

    /// For a password grant request, the login checks of [`Provider::check_login`]; answers
    /// the attempt to report with [`PasswordAttempt::finish`], or `None` for other grants
    /// (and a password request without a username, which the grant refuses).
    pub(crate) fn password_attempt(
        &self,
        request: &Request<Bytes>,
        grant_type: &str,
        params: &Params,
    ) -> Result<Option<PasswordAttempt>, OAuthError> {
        if grant_type != "password" {
            return Ok(None);
        }
        let Some(username) = params.get("username").filter(|name| !name.is_empty()) else {
            return Ok(None);
        };
        let ip = ClientIp::of(request);
        self.check_login(username, ip)
            .map_err(Throttled::oauth_error)?;
        Ok(Some(PasswordAttempt {
            username: username.to_owned(),
            ip,
        }))
    }
}

/// A password grant request admitted by the login limits, whose outcome counts towards
/// the lockout.
#[derive(Debug)]
pub(crate) struct PasswordAttempt {
    username: String,
    ip: Option<IpAddr>,
}

impl PasswordAttempt {
    /// Reports the grant's outcome: `invalid_grant` is what the password grant answers for
    /// wrong credentials (RFC 6749 §5.2), for a known and an unknown user alike.
    pub(crate) fn finish<T>(
        self,
        provider: &Provider,
        outcome: &Result<T, portcullis_grants::GrantError>,
    ) {
        match outcome {
            Ok(_) => provider.login_succeeded(&self.username, self.ip),
            Err(err) if err.code() == "invalid_grant" => {
                provider.login_failed(&self.username, self.ip);
            }
            Err(_) => {}
        }
    }
}
