//! The [`Provider`]: one authorization server, configured once and shared by every request.

use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError, RwLock};

use portcullis_events::{EventSink, NoEvents};
use portcullis_grants::{
    Authenticator, AuthorizationCodeGrant, ClaimsSource, ClientCredentialsGrant, Clock,
    ConsentSource, DeviceFlow, Grant, IssuerSettings, MAX_CODE_TTL, NoClaims, NoRememberedConsent,
    PasswordGrant, PkcePolicy, Policy, RefreshTokenGrant, SystemClock,
};
use portcullis_registry::{GrantType, ScopeCatalog};
use portcullis_store::{DeviceAuthorizationStore, Store, StoreError};
use portcullis_tokens::{KeySet, SigningAlgorithm, SigningKey, TokenError};
use time::{Duration, OffsetDateTime};

/// Default limit on request bodies: 64 KiB, far above any legitimate OAuth request.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

/// Where the adapters mount each endpoint (DESIGN §4.1 defaults).
///
/// ```
/// let paths = portcullis_endpoints::Paths::default();
/// assert_eq!(paths.token, "/oauth/token");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Paths {
    /// Authorization endpoint, default `/oauth/authorize`.
    pub authorize: String,
    /// Token endpoint, default `/oauth/token`.
    pub token: String,
    /// Revocation endpoint, default `/oauth/revoke`.
    pub revoke: String,
    /// Introspection endpoint, default `/oauth/introspect`.
    pub introspect: String,
    /// Where [`Provider::authorize_http`] sends a user who must sign in, default
    /// `/oauth/login` (the `ui` feature's page, or the application's own).
    pub login: String,
    /// Where it sends a signed-in user who must consent, default `/oauth/consent`.
    pub consent: String,
    /// JWKS (RFC 7517), default `/oauth/jwks`.
    pub jwks: String,
    /// UserInfo (OpenID Connect Core §5.3), default `/oauth/userinfo`.
    pub userinfo: String,
    /// End-session endpoint (OpenID Connect RP-Initiated Logout 1.0), default `/oauth/logout`.
    pub end_session: String,
    /// Device authorization endpoint (RFC 8628 §3.1), default `/oauth/device_authorization`;
    /// mounted only with [`ProviderBuilder::device_flow`].
    pub device_authorization: String,
    /// Where users enter a device's user code (RFC 8628 §3.2 `verification_uri`), default
    /// `/oauth/device`: the `ui` feature's page, or the application's own.
    pub device_verification: String,
    /// Dynamic client registration (RFC 7591 §3) and client configuration (RFC 7592 §2)
    /// endpoint, default `/oauth/register`; mounted only with
    /// [`ProviderBuilder::registration`].
    pub registration: String,
    /// Pushed authorization request endpoint (RFC 9126 §2), default `/oauth/par`; mounted
    /// unless [`ProviderBuilder::pushed_authorization_requests`] turns it off.
    pub pushed_authorization_request: String,
}

impl Default for Paths {
    fn default() -> Self {
        Paths {
            authorize: "/oauth/authorize".into(),
            token: "/oauth/token".into(),
            revoke: "/oauth/revoke".into(),
            introspect: "/oauth/introspect".into(),
            login: "/oauth/login".into(),
            consent: "/oauth/consent".into(),
            jwks: "/oauth/jwks".into(),
            userinfo: "/oauth/userinfo".into(),
            end_session: "/oauth/logout".into(),
            device_authorization: "/oauth/device_authorization".into(),
            device_verification: "/oauth/device".into(),
            registration: "/oauth/register".into(),
            pushed_authorization_request: "/oauth/par".into(),
        }
    }
}

/// A configuration the builder refuses.
///
/// ```
/// use portcullis_endpoints::{ConfigError, Provider};
/// use portcullis_store::MemoryStore;
/// use std::sync::Arc;
///
/// let err = Provider::builder("http://id.example", Arc::new(MemoryStore::new())).build().unwrap_err();
/// assert!(matches!(err, ConfigError::Issuer { .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The issuer is not an `https` URL (or `http` on loopback) without query, fragment or
    /// trailing slash (RFC 8414 §2).
    #[error("invalid issuer {issuer:?}: {reason}")]
    Issuer {
        /// The rejected value.
        issuer: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A lifetime outside its allowed range.
    #[error("{setting} must be between {min} and {max} seconds")]
    Lifetime {
        /// The setting's name.
        setting: &'static str,
        /// Smallest allowed value.
        min: i64,
        /// Largest allowed value.
        max: i64,
    },
    /// The body limit is too small for any OAuth request.
    #[error("the body limit must be at least 1024 bytes")]
    BodyLimit,
    /// Two grants claim the same `grant_type`.
    #[error("grant type {0} is registered twice")]
    DuplicateGrant(String),
    /// No signing key was given and none could be generated (the reason, from
    /// [`TokenError`]'s display).
    #[error("no signing key: {0}")]
    SigningKey(String),
    /// Inconsistent DPoP settings ([`ProviderBuilder::dpop`]).
    #[error("invalid DPoP settings: {reason}")]
    Dpop {
        /// What is wrong.
        reason: &'static str,
    },
    /// An invalid rate limit or lockout setting ([`ProviderBuilder::rate_limits`]).
    #[error("invalid rate limit {setting}: {reason}")]
    RateLimit {
        /// The setting's name.
        setting: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
}

pub(crate) struct Inner {
    pub(crate) issuer: String,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) policy: Policy,
    pub(crate) authenticator: Option<Arc<dyn Authenticator>>,
    pub(crate) consent: Arc<dyn ConsentSource>,
    pub(crate) claims: Arc<dyn ClaimsSource>,
    pub(crate) settings: IssuerSettings,
    /// The signing keys: replaced whole on rotation or reload, read as a cheap `Arc`.
    pub(crate) keys: RwLock<Arc<KeySet>>,
    pub(crate) grants: BTreeMap<String, Arc<dyn Grant>>,
    pub(crate) max_body_bytes: usize,
    pub(crate) paths: Paths,
    /// How long a browser session lasts after sign-in.
    pub(crate) session_lifetime: Duration,
    /// How long a retired signing key stays published after it was replaced.
    pub(crate) retired_key_grace: Duration,
    /// The device flow (RFC 8628), when enabled.
    pub(crate) device: Option<crate::device::DeviceState>,
    /// Dynamic client registration (RFC 7591, RFC 7592), when enabled.
    pub(crate) registration: Option<crate::RegistrationPolicy>,
    /// JWT client authentication (RFC 7523 §2.2, OpenID Connect Core §9).
    pub(crate) assertions: crate::client_auth::AssertionSettings,
    /// Pushed authorization requests (RFC 9126).
    pub(crate) par: crate::par::ParSettings,
    /// DPoP (RFC 9449), when enabled.
    pub(crate) dpop: Option<crate::dpop::DpopState>,
    /// Where events go ([`ProviderBuilder::events`]).
    pub(crate) events: Arc<dyn EventSink>,
    /// Rate limits and login lockout ([`ProviderBuilder::rate_limits`]).
    pub(crate) rate_limits: crate::rate_limit::RateLimiter,
}

/// An OAuth 2.0 authorization server: endpoints that take `http::Request<Bytes>` and answer
/// `http::Response<Bytes>`, over a store. Cheap to clone (an `Arc` inside); share one per app.
///
/// ```
/// use portcullis_endpoints::Provider;
/// use portcullis_store::MemoryStore;
/// use std::sync::Arc;
///
/// let provider = Provider::builder("https://id.example", Arc::new(MemoryStore::new()))
///     .build()
///     .expect("valid configuration");
/// assert_eq!(provider.issuer(), "https://id.example");
/// ```
#[derive(Clone)]
pub struct Provider(pub(crate) Arc<Inner>);

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("issuer", &self.0.issuer)
            .field("grants", &self.0.grants.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Provider {
    /// Starts configuring a provider for `issuer` (exactly the `iss` it will assert) over
    /// `store`.
    ///
    /// ```
    /// # use portcullis_endpoints::Provider;
    /// # use std::sync::Arc;
    /// let builder = Provider::builder("http://127.0.0.1:8080", Arc::new(portcullis_store::MemoryStore::new()));
    /// ```
    pub fn builder(issuer: impl Into<String>, store: Arc<dyn Store>) -> ProviderBuilder {
        ProviderBuilder {
            issuer: issuer.into(),
            store,
            clock: Arc::new(SystemClock),
            policy: Policy::default(),
            authenticator: None,
            consent: Arc::new(NoRememberedConsent),
            claims: Arc::new(NoClaims),
            keys: None,
            settings: IssuerSettings::new(""),
            extensions: Vec::new(),
            disabled: Vec::new(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            paths: Paths::default(),
            session_lifetime: Provider::DEFAULT_SESSION_LIFETIME,
            retired_key_grace: crate::DEFAULT_RETIRED_KEY_GRACE,
            device_store: None,
            device_lifetime: DeviceFlow::DEFAULT_LIFETIME,
            device_interval_secs: DeviceFlow::DEFAULT_INTERVAL_SECS,
            registration: None,
            assertions: crate::client_auth::AssertionSettings::default(),
            par: crate::par::ParSettings::default(),
            dpop: None,
            events: Arc::new(NoEvents),
            rate_limits: crate::RateLimits::default(),
        }
    }

    /// The issuer identifier.
    ///
    /// ```
    /// # use portcullis_endpoints::Provider;
    /// # use std::sync::Arc;
    /// # let provider = Provider::builder("https://id.example", Arc::new(portcullis_store::MemoryStore::new())).build().expect("ok");
    /// assert_eq!(provider.issuer(), "https://id.example");
    /// ```
    pub fn issuer(&self) -> &str {
        &self.0.issuer
    }

    /// Where the provider reports events ([`ProviderBuilder::events`]); an application
    /// reports its own (admin actions, logins it checks itself) through the same sink.
    /// Emitting never waits.
    ///
    /// ```
    /// # use portcullis_endpoints::Provider;
    /// # use std::sync::Arc;
    /// # let provider = Provider::builder("https://id.example", Arc::new(portcullis_store::MemoryStore::new())).build().expect("ok");
    /// provider.events().emit(portcullis_events::Event::ClientCreated { client_id: "billing".into() });
    /// ```
    pub fn events(&self) -> &Arc<dyn EventSink> {
        &self.0.events
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.0.store
    }

    /// The current time from the provider's clock.
    pub fn now(&self) -> OffsetDateTime {
        self.0.clock.now()
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.0.policy
    }

    /// Where the adapters mount the endpoints.
    pub fn paths(&self) -> &Paths {
        &self.0.paths
    }

    /// How long a browser session lasts after sign-in
    /// ([`ProviderBuilder::session_lifetime`]).
    pub fn session_lifetime(&self) -> Duration {
        self.0.session_lifetime
    }

    /// How long a retired signing key stays published
    /// ([`ProviderBuilder::retired_key_grace`]).
    pub fn retired_key_grace(&self) -> Duration {
        self.0.retired_key_grace
    }

    /// The most bytes a request body may have; adapters stop reading past it.
    pub fn max_body_bytes(&self) -> usize {
        self.0.max_body_bytes
    }

    /// The `grant_type` values the token endpoint accepts.
    ///
    /// ```
    /// # use portcullis_endpoints::Provider;
    /// # use std::sync::Arc;
    /// # let provider = Provider::builder("https://id.example", Arc::new(portcullis_store::MemoryStore::new())).build().expect("ok");
    /// // No Authenticator configured, so no password grant.
    /// assert!(!provider.grant_types().any(|g| g == "password"));
    /// ```
    pub fn grant_types(&self) -> impl Iterator<Item = &str> {
        self.0.grants.keys().map(String::as_str)
    }

    /// The signing keys in force (the active one signs; all are published in the JWKS).
    pub fn signing_keys(&self) -> Arc<KeySet> {
        self.0
            .keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the signing keys in force (after a rotation or a reload from the store).
    pub fn set_signing_keys(&self, keys: KeySet) {
        *self.0.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(keys);
    }

    /// Settings for ID tokens and JWT access tokens.
    pub fn issuer_settings(&self) -> &IssuerSettings {
        &self.0.settings
    }

    pub(crate) fn grant(&self, grant_type: &str) -> Option<&Arc<dyn Grant>> {
        self.0.grants.get(grant_type)
    }

    /// The scopes that exist: OpenID Connect's plus the store's catalog.
    ///
    /// # Errors
    ///
    /// The store's error when the catalog cannot be read.
    pub async fn scope_catalog(&self) -> Result<ScopeCatalog, StoreError> {
        let mut catalog = ScopeCatalog::with_oidc_scopes();
        for scope in self.0.store.list_scopes().await? {
            // The store's own definition of an OIDC scope does not replace ours.
            let _ = catalog.insert(scope);
        }
        Ok(catalog)
    }
}

/// Configures a [`Provider`]; every setting has a secure default, documented on its method.
///
/// ```
/// use portcullis_endpoints::Provider;
/// use portcullis_store::MemoryStore;
/// use std::sync::Arc;
///
/// let provider = Provider::builder("https://id.example", Arc::new(MemoryStore::new()))
///     .code_ttl(time::Duration::minutes(2))
///     .require_pkce_for_confidential_clients()
///     .build()?;
/// # Ok::<(), portcullis_endpoints::ConfigError>(())
/// ```
#[must_use]
pub struct ProviderBuilder {
    issuer: String,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    policy: Policy,
    authenticator: Option<Arc<dyn Authenticator>>,
    consent: Arc<dyn ConsentSource>,
    claims: Arc<dyn ClaimsSource>,
    keys: Option<KeySet>,
    settings: IssuerSettings,
    extensions: Vec<Arc<dyn Grant>>,
    disabled: Vec<GrantType>,
    max_body_bytes: usize,
    paths: Paths,
    session_lifetime: Duration,
    retired_key_grace: Duration,
    device_store: Option<Arc<dyn DeviceAuthorizationStore>>,
    device_lifetime: Duration,
    device_interval_secs: u32,
    registration: Option<crate::RegistrationPolicy>,
    /// JWT client authentication settings (`client_auth::assertion`).
    pub(crate) assertions: crate::client_auth::AssertionSettings,
    /// Pushed authorization request settings (`par`).
    pub(crate) par: crate::par::ParSettings,
    /// DPoP settings (`dpop`).
    pub(crate) dpop: Option<crate::dpop::DpopSettings>,
    events: Arc<dyn EventSink>,
    /// Rate limits and login lockout (`rate_limit`).
    pub(crate) rate_limits: crate::RateLimits,
}

impl ProviderBuilder {
    /// Where the provider reports events: tokens issued, refreshed and revoked,
    /// refresh-token reuse, logins on the default login page, consent decisions. Usually a
    /// [`portcullis_events::EventQueue`], so a slow receiver never slows a response.
    /// Default: [`NoEvents`].
    ///
    /// ```
    /// use portcullis_endpoints::Provider;
    /// use portcullis_events::{Collector, EventQueue};
    /// use std::sync::Arc;
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt").block_on(async {
    /// let queue = EventQueue::spawn(Collector::default(), 1024);
    /// let provider = Provider::builder("https://id.example", Arc::new(portcullis_store::MemoryStore::new()))
    ///     .events(Arc::new(queue))
    ///     .build()
    ///     .expect("valid configuration");
    /// # });
    /// ```
    pub fn events(mut self, sink: Arc<dyn EventSink>) -> Self {
        self.events = sink;
        self
    }

    /// The application's password check; enables the password grant (RFC 6749 §4.3) for
    /// clients registered for it. Default: none, and no password grant.
    pub fn authenticator(mut self, authenticator: impl Authenticator) -> Self {
        self.authenticator = Some(Arc::new(authenticator));
        self
    }

    /// Where remembered consent comes from. Default: [`NoRememberedConsent`] (always ask).
    pub fn consent(mut self, consent: impl ConsentSource) -> Self {
        self.consent = Arc::new(consent);
        self
    }

    /// Where user claims come from (ID tokens, UserInfo). Default: [`NoClaims`].
    pub fn claims(mut self, claims: impl ClaimsSource) -> Self {
        self.claims = Arc::new(claims);
        self
    }

    /// The signing keys for ID tokens and JWT access tokens. Default: one ES256 key
    /// generated at `build()` and kept in memory only — fine for tests and a single
    /// process; a deployment loads its keys from the store so they survive restarts and
    /// are shared by every instance.
    pub fn signing_keys(mut self, keys: KeySet) -> Self {
        self.keys = Some(keys);
        self
    }

    /// ID token lifetime. Default one hour.
    pub fn id_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.settings.id_token_lifetime = lifetime;
        self
    }

    /// Always put `auth_time` in ID tokens. Default: only when `max_age` was requested.
    pub fn always_include_auth_time(mut self) -> Self {
        self.settings.always_include_auth_time = true;
        self
    }

    /// Issue RFC 9068 JWT access tokens to every client. Default: only to clients
    /// registered with `AccessTokenFormat::Jwt`.
    pub fn jwt_access_tokens(mut self) -> Self {
        self.settings.jwt_access_tokens = true;
        self
    }

    /// `aud` of JWT access tokens. Default: the issuer.
    pub fn access_token_audience(mut self, audience: impl Into<String>) -> Self {
        self.settings.access_token_audience = audience.into();
        self
    }

    /// Which RFC 8707 resource indicators clients may name, at the authorization and token
    /// endpoints. Default: any absolute URI without a fragment.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// use portcullis_grants::ResourcePolicy;
    /// let provider = portcullis_endpoints::Provider::builder(
    ///     "https://id.example",
    ///     Arc::new(portcullis_store::MemoryStore::new()),
    /// )
    /// .resources(ResourcePolicy::only(["https://api.example/"]))
    /// .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn resources(mut self, policy: portcullis_grants::ResourcePolicy) -> Self {
        self.policy.resources = policy.clone();
        self.settings.resources = policy;
        self
    }

    /// The secret salt of pairwise subject identifiers (OpenID Connect Core §8.1). With it
    /// discovery lists `pairwise` in `subject_types_supported` and pairwise clients are
    /// served; keep it stable, or every pairwise `sub` changes.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// use portcullis_grants::PairwiseSalt;
    /// let salt = PairwiseSalt::new(b"a stable secret of 16+ bytes".to_vec()).expect("long enough");
    /// let provider = portcullis_endpoints::Provider::builder(
    ///     "https://id.example",
    ///     Arc::new(portcullis_store::MemoryStore::new()),
    /// )
    /// .pairwise_salt(salt)
    /// .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn pairwise_salt(mut self, salt: portcullis_grants::PairwiseSalt) -> Self {
        self.settings.pairwise_salt = Some(salt);
        self
    }

    /// Adds an extension grant (RFC 6749 §4.5), keyed by its `grant_type`.
    pub fn grant(mut self, grant: impl Grant) -> Self {
        self.extensions.push(Arc::new(grant));
        self
    }

    /// Turns a built-in grant off provider-wide, whatever clients are registered for.
    pub fn disable_grant(mut self, grant: GrantType) -> Self {
        self.disabled.push(grant);
        self
    }

    /// Authorization code lifetime. Default and maximum 10 minutes (RFC 6749 §4.1.2).
    pub fn code_ttl(mut self, ttl: Duration) -> Self {
        self.policy.code_ttl = ttl;
        self
    }

    /// How long a pending authorization waits for login and consent. Default 10 minutes.
    pub fn interaction_ttl(mut self, ttl: Duration) -> Self {
        self.policy.interaction_ttl = ttl;
        self
    }

    /// Requires PKCE from confidential clients too (RFC 9700 §2.1.1). Default: only public
    /// clients must use it.
    pub fn require_pkce_for_confidential_clients(mut self) -> Self {
        self.policy.pkce.required_for_confidential_clients = true;
        self
    }

    /// Accepts `code_challenge_method=plain`. Default: S256 only.
    ///
    /// # Security
    ///
    /// `plain` does not protect a code whose authorization request leaked (RFC 7636 §7.2).
    pub fn insecure_allow_plain_pkce(mut self) -> Self {
        self.policy.pkce = PkcePolicy {
            allow_plain: true,
            ..self.policy.pkce
        };
        self
    }

    /// The time source. Default: the system clock.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Largest accepted request body. Default [`DEFAULT_MAX_BODY_BYTES`]; at least 1024.
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// Where adapters mount the endpoints. Default [`Paths::default`].
    pub fn paths(mut self, paths: Paths) -> Self {
        self.paths = paths;
        self
    }

    /// How long a browser session (the [`SESSION_COOKIE`](Provider::SESSION_COOKIE) and
    /// its record in the store) lasts after sign-in. Default
    /// [`Provider::DEFAULT_SESSION_LIFETIME`] (12 hours); between 1 minute and 30 days.
    pub fn session_lifetime(mut self, lifetime: Duration) -> Self {
        self.session_lifetime = lifetime;
        self
    }

    /// How long a retired signing key stays published in the JWKS (and accepted) after
    /// another key replaced it, when keys are loaded from the store
    /// ([`Provider::reload_signing_keys`], [`Provider::rotate_signing_key`]). Default
    /// [`DEFAULT_RETIRED_KEY_GRACE`](crate::DEFAULT_RETIRED_KEY_GRACE) (7 days); at most
    /// 365 days. Make it at least the longest lifetime of a token signed by the key.
    pub fn retired_key_grace(mut self, grace: Duration) -> Self {
        self.retired_key_grace = grace;
        self
    }

    /// Enables the device authorization grant (RFC 8628) over `store`: the device
    /// authorization endpoint at [`Paths::device_authorization`], the
    /// `urn:ietf:params:oauth:grant-type:device_code` grant at the token endpoint (for
    /// clients registered for it), the verification page at
    /// [`Paths::device_verification`] (feature `ui`), and the discovery member
    /// `device_authorization_endpoint`. Default: off, and none of these exist.
    ///
    /// ```
    /// use portcullis_endpoints::Provider;
    /// use portcullis_store::MemoryStore;
    /// use std::sync::Arc;
    ///
    /// let store = Arc::new(MemoryStore::new());
    /// let provider = Provider::builder("https://id.example", store.clone())
    ///     .device_flow(store)
    ///     .build()?;
    /// assert!(provider.grant_types().any(|g| g == "urn:ietf:params:oauth:grant-type:device_code"));
    /// # Ok::<(), portcullis_endpoints::ConfigError>(())
    /// ```
    pub fn device_flow(mut self, store: Arc<dyn DeviceAuthorizationStore>) -> Self {
        self.device_store = Some(store);
        self
    }

    /// How long a device authorization (its device code and user code) lives, the
    /// `expires_in` of RFC 8628 §3.2. Default 10 minutes; between 1 and 30 minutes.
    pub fn device_code_lifetime(mut self, lifetime: Duration) -> Self {
        self.device_lifetime = lifetime;
        self
    }

    /// The minimum seconds a device waits between polls, the `interval` of RFC 8628
    /// §3.2. Default 5; between 1 and 60.
    pub fn device_poll_interval(mut self, seconds: u32) -> Self {
        self.device_interval_secs = seconds;
        self
    }

    /// Enables dynamic client registration (RFC 7591) and its management protocol
    /// (RFC 7592) under `policy`: the endpoint at [`Paths::registration`] and the discovery
    /// member `registration_endpoint`. Default: off, and neither exists.
    ///
    /// ```
    /// use portcullis_endpoints::{Provider, RegistrationPolicy};
    /// use portcullis_store::MemoryStore;
    /// use std::sync::Arc;
    ///
    /// let provider = Provider::builder("https://id.example", Arc::new(MemoryStore::new()))
    ///     .registration(RegistrationPolicy::initial_access_tokens(["onboarding-token"]))
    ///     .build()?;
    /// assert!(provider.routes().iter().any(|(path, _)| path == "/oauth/register"));
    /// # Ok::<(), portcullis_endpoints::ConfigError>(())
    /// ```
    pub fn registration(mut self, policy: crate::RegistrationPolicy) -> Self {
        self.registration = Some(policy);
        self
    }

    /// Checks the configuration and builds the provider.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] naming the first inconsistent setting.
    pub fn build(self) -> Result<Provider, ConfigError> {
        check_issuer(&self.issuer)?;
        if self.policy.code_ttl <= Duration::ZERO || self.policy.code_ttl > MAX_CODE_TTL {
            return Err(ConfigError::Lifetime {
                setting: "code_ttl",
                min: 1,
                max: MAX_CODE_TTL.whole_seconds(),
            });
        }
        if self.policy.interaction_ttl < Duration::minutes(1)
            || self.policy.interaction_ttl > Duration::hours(1)
        {
            return Err(ConfigError::Lifetime {
                setting: "interaction_ttl",
                min: 60,
                max: 3600,
            });
        }
        if self.max_body_bytes < 1024 {
            return Err(ConfigError::BodyLimit);
        }
        if self.settings.id_token_lifetime < Duration::minutes(1)
            || self.settings.id_token_lifetime > Duration::days(1)
        {
            return Err(ConfigError::Lifetime {
                setting: "id_token_lifetime",
                min: 60,
                max: 86_400,
            });
        }
        if self.session_lifetime < Duration::minutes(1)
            || self.session_lifetime > Duration::days(30)
        {
            return Err(ConfigError::Lifetime {
                setting: "session_lifetime",
                min: 60,
                max: 30 * 86_400,
            });
        }
        if self.retired_key_grace < Duration::ZERO || self.retired_key_grace > Duration::days(365) {
            return Err(ConfigError::Lifetime {
                setting: "retired_key_grace",
                min: 0,
                max: 365 * 86_400,
            });
        }
        if self.device_lifetime < Duration::minutes(1)
            || self.device_lifetime > Duration::minutes(30)
        {
            return Err(ConfigError::Lifetime {
                setting: "device_code_lifetime",
                min: 60,
                max: 1800,
            });
        }
        if !(1..=60).contains(&self.device_interval_secs) {
            return Err(ConfigError::Lifetime {
                setting: "device_poll_interval",
                min: 1,
                max: 60,
            });
        }
        self.par.check()?;
        self.assertions.check()?;
        self.rate_limits.check()?;
        let dpop = self.dpop.map(crate::dpop::DpopState::new).transpose()?;
        let keys = match self.keys {
            Some(keys) => keys,
            None => KeySet::new(
                SigningKey::generate(SigningAlgorithm::ES256)
                    .map_err(|err: TokenError| ConfigError::SigningKey(err.to_string()))?,
            ),
        };
        let mut settings = self.settings;
        settings.issuer = self.issuer.clone();
        if settings.access_token_audience.is_empty() {
            settings.access_token_audience = self.issuer.clone();
        }
        let mut builtin: Vec<(GrantType, Arc<dyn Grant>)> = vec![
            (
                GrantType::AuthorizationCode,
                Arc::new(AuthorizationCodeGrant),
            ),
            (GrantType::RefreshToken, Arc::new(RefreshTokenGrant)),
            (
                GrantType::ClientCredentials,
                Arc::new(ClientCredentialsGrant),
            ),
        ];
        if self.authenticator.is_some() {
            builtin.push((GrantType::Password, Arc::new(PasswordGrant)));
        }
        let device = self
            .device_store
            .filter(|_| !self.disabled.contains(&GrantType::DeviceCode))
            .map(|store| {
                crate::device::DeviceState::new(
                    DeviceFlow::new(store)
                        .with_lifetime(self.device_lifetime)
                        .with_interval_secs(self.device_interval_secs),
                )
            });
        if let Some(device) = &device {
            builtin.push((GrantType::DeviceCode, Arc::new(device.flow.grant())));
        }
        let mut grants = BTreeMap::new();
        let enabled = builtin
            .into_iter()
            .filter(|(kind, _)| !self.disabled.contains(kind))
            .map(|(_, grant)| grant);
        for grant in enabled.chain(self.extensions) {
            let name = grant.grant_type().to_owned();
            if grants.insert(name.clone(), grant).is_some() {
                return Err(ConfigError::DuplicateGrant(name));
            }
        }
        Ok(Provider(Arc::new(Inner {
            issuer: self.issuer,
            store: self.store,
            clock: self.clock,
            policy: self.policy,
            authenticator: self.authenticator,
            consent: self.consent,
            claims: self.claims,
            settings,
            keys: RwLock::new(Arc::new(keys)),
            grants,
            max_body_bytes: self.max_body_bytes,
            paths: self.paths,
            session_lifetime: self.session_lifetime,
            retired_key_grace: self.retired_key_grace,
            device,
            registration: self.registration,
            assertions: self.assertions,
            par: self.par,
            dpop,
            events: Arc::new(crate::telemetry::Metered(self.events)),
            rate_limits: self.rate_limits.limiter(),
        })))
    }
}

/// RFC 8414 §2: the issuer is an `https` URL with no query or fragment; `http` is accepted
/// on loopback for local development. No trailing slash, so `iss` compares exactly.
fn check_issuer(issuer: &str) -> Result<(), ConfigError> {
    let fail = |reason| {
        Err(ConfigError::Issuer {
            issuer: issuer.to_owned(),
            reason,
        })
    };
    let Ok(url) = url::Url::parse(issuer) else {
        return fail("not an absolute URL");
    };
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "[::1]" | "localhost"));
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => return fail("http is only allowed on loopback; use https"),
        _ => return fail("the scheme must be https"),
    }
    if url.query().is_some() || url.fragment().is_some() {
        return fail("no query or fragment allowed");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return fail("no userinfo allowed");
    }
    if issuer.ends_with('/') {
        return fail("no trailing slash");
    }
    Ok(())
}

#[cfg(test)]
mod tests;
