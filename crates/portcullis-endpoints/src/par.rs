//! Pushed authorization requests: RFC 9126.
//!
//! A client POSTs its authorization request parameters to the PAR endpoint
//! ([`Provider::pushed_authorization_request`], [`Paths::pushed_authorization_request`],
//! default `/oauth/par`), authenticating as at the token endpoint (§2). The provider
//! validates them exactly as the authorization endpoint would, stores the validated request
//! as a [`PendingAuthorization`] keyed by the SHA-256 of a fresh
//! `urn:ietf:params:oauth:request_uri:…` (256 random bits), and answers `201` with the
//! `request_uri` and its `expires_in` (§2.2). The client then sends the user to the
//! authorization endpoint with only `client_id` and `request_uri` (§4): the pushed request
//! is taken from the store once, and the authorization continues as if its parameters had
//! been in the URL; any other parameter in the URL is ignored.
//!
//! With [`ProviderBuilder::require_pushed_authorization_requests`], or for a client
//! registered with `require_pushed_authorization_requests`, an authorization request
//! without a pushed `request_uri` is refused with `invalid_request` (§4, §5, §6).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use portcullis_grants::Params;
use portcullis_grants::authorization_request::{AuthorizationRequest, requested_client_id};
use portcullis_registry::Client;
use portcullis_store::PendingAuthorization;
use portcullis_tokens::{TokenError, TokenHash};
use serde_json::json;
use time::Duration;

use crate::authorize::{error_page, store_failure_page};
use crate::{ConfigError, OAuthError, Provider, ProviderBuilder, client_auth, request, response};

#[cfg(doc)]
use crate::Paths;

/// The prefix of every `request_uri` the PAR endpoint issues (RFC 9126 §2.2).
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// Random bytes in a `request_uri`: 32 (256 bits; RFC 9126 §2.2 and RFC 6749 §10.10 ask
/// that it cannot be guessed).
const REQUEST_URI_RANDOM_BYTES: usize = 32;

/// The error code of an unusable `request_uri` at the authorization endpoint (RFC 9101 §7).
const INVALID_REQUEST_URI: &str = "invalid_request_uri";

/// The one answer for a `request_uri` that is unknown, expired, used already or pushed by
/// another client, so it does not tell which.
const UNUSABLE_REQUEST_URI: &str =
    "the request_uri is unknown, expired or already used, or was not pushed by this client";

/// Parameters of a pushed request that authenticate the client and are not part of the
/// authorization request (RFC 9126 §2.1).
const CLIENT_AUTH_PARAMS: [&str; 3] =
    ["client_secret", "client_assertion", "client_assertion_type"];

/// How the provider handles pushed authorization requests.
pub(crate) struct ParSettings {
    enabled: bool,
    required: bool,
    lifetime: Duration,
}

impl Default for ParSettings {
    fn default() -> Self {
        ParSettings {
            enabled: true,
            required: false,
            lifetime: Provider::DEFAULT_REQUEST_URI_LIFETIME,
        }
    }
}

impl ParSettings {
    /// Checks the settings at `build()`.
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        if self.lifetime < Duration::seconds(5) || self.lifetime > Duration::seconds(600) {
            return Err(ConfigError::Lifetime {
                setting: "pushed_authorization_request_lifetime",
                min: 5,
                max: 600,
            });
        }
        Ok(())
    }
}

impl fmt::Debug for ParSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParSettings")
            .field("enabled", &self.enabled)
            .field("required", &self.required)
            .field("lifetime", &self.lifetime)
            .finish()
    }
}

impl ProviderBuilder {
    /// Whether the pushed authorization request endpoint (RFC 9126) is offered: mounted at
    /// [`Paths::pushed_authorization_request`], advertised in discovery as
    /// `pushed_authorization_request_endpoint`, and `request_uri` accepted at the
    /// authorization endpoint. Default: on.
    ///
    /// ```
    /// use portcullis_endpoints::{Endpoint, Provider};
    /// use portcullis_store::MemoryStore;
    /// use std::sync::Arc;
    ///
    /// let provider = Provider::builder("https://id.example", Arc::new(MemoryStore::new()))
    ///     .pushed_authorization_requests(false)
    ///     .build()?;
    /// assert!(!provider.routes().iter().any(|(_, e)| *e == Endpoint::PushedAuthorizationRequest));
    /// # Ok::<(), portcullis_endpoints::ConfigError>(())
    /// ```
    pub fn pushed_authorization_requests(mut self, enabled: bool) -> Self {
        self.par.enabled = enabled;
        if !enabled {
            self.par.required = false;
        }
        self
    }

    /// Requires every client to push its authorization requests (RFC 9126 §4, §5): the
    /// authorization endpoint refuses a request without a pushed `request_uri` with
    /// `invalid_request`, and discovery says `require_pushed_authorization_requests: true`.
    /// Turns the PAR endpoint on. Default: off; a client registered with
    /// `require_pushed_authorization_requests` (RFC 9126 §6) is held to it either way.
    ///
    /// ```
    /// use portcullis_endpoints::Provider;
    /// use portcullis_store::MemoryStore;
    /// use std::sync::Arc;
    ///
    /// let provider = Provider::builder("https://id.example", Arc::new(MemoryStore::new()))
    ///     .require_pushed_authorization_requests(true)
    ///     .build()?;
    /// # Ok::<(), portcullis_endpoints::ConfigError>(())
    /// ```
    pub fn require_pushed_authorization_requests(mut self, required: bool) -> Self {
        self.par.required = required;
        if required {
            self.par.enabled = true;
        }
        self
    }

    /// How long a pushed request waits for the authorization request that uses it: the
    /// `expires_in` of RFC 9126 §2.2. Default
    /// [`Provider::DEFAULT_REQUEST_URI_LIFETIME`] (60 s); between 5 and 600 seconds.
    ///
    /// ```
    /// use portcullis_endpoints::{ConfigError, Provider};
    /// use portcullis_store::MemoryStore;
    /// use std::sync::Arc;
    ///
    /// let err = Provider::builder("https://id.example", Arc::new(MemoryStore::new()))
    ///     .pushed_authorization_request_lifetime(time::Duration::hours(1))
    ///     .build()
    ///     .unwrap_err();
    /// assert!(matches!(err, ConfigError::Lifetime { .. }));
    /// ```
    pub fn pushed_authorization_request_lifetime(mut self, lifetime: Duration) -> Self {
        self.par.lifetime = lifetime;
        self
    }
}

impl Provider {
    /// How long a pushed request lives unless
    /// [`ProviderBuilder::pushed_authorization_request_lifetime`] says otherwise: 60 s.
    pub const DEFAULT_REQUEST_URI_LIFETIME: Duration = Duration::seconds(60);

    /// Whether the PAR endpoint is offered ([`ProviderBuilder::pushed_authorization_requests`]).
    ///
    /// ```
    /// # use portcullis_endpoints::Provider;
    /// # use std::sync::Arc;
    /// let provider = Provider::builder("https://id.example", Arc::new(portcullis_store::MemoryStore::new())).build()?;
    /// assert!(provider.pushed_authorization_requests_enabled());
    /// # Ok::<(), portcullis_endpoints::ConfigError>(())
    /// ```
    pub fn pushed_authorization_requests_enabled(&self) -> bool {
        self.0.par.enabled
    }

    /// Whether every client must push its authorization requests
    /// ([`ProviderBuilder::require_pushed_authorization_requests`]).
    ///
    /// ```
    /// # use portcullis_endpoints::Provider;
    /// # use std::sync::Arc;
    /// let provider = Provider::builder("https://id.example", Arc::new(portcullis_store::MemoryStore::new())).build()?;
    /// assert!(!provider.pushed_authorization_requests_required());
    /// # Ok::<(), portcullis_endpoints::ConfigError>(())
    /// ```
    pub fn pushed_authorization_requests_required(&self) -> bool {
        self.0.par.required
    }

    /// The pushed authorization request endpoint (RFC 9126 §2).
    ///
    /// - Only `POST` (405 with `Allow: POST` otherwise, §2.3), a form body within the body
    ///   limit (413), no repeated parameter.
    /// - The client authenticates as at the token endpoint (§2); a public client sends its
    ///   `client_id`. Failures are `invalid_client` (401).
    /// - A `request_uri` parameter is refused (§2.1: it "MUST NOT be provided").
    /// - The parameters are validated exactly as at the authorization endpoint, and any
    ///   problem is answered here as JSON (§2.3: the token endpoint's error format with the
    ///   authorization endpoint's codes; a bad `redirect_uri` is `invalid_request`), never
    ///   redirected.
    /// - Success is `201` with `{"request_uri", "expires_in"}` and `Cache-Control:
    ///   no-store` (§2.2). The `request_uri` is bound to the client and usable once.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use portcullis_endpoints::Provider;
    /// use portcullis_registry::{ClientKind, NewClient, ScopeCatalog, TokenEndpointAuthMethod};
    /// use portcullis_store::{ClientStore, MemoryStore};
    /// use std::sync::Arc;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let store = Arc::new(MemoryStore::new());
    /// let issued = NewClient::new("Web", ClientKind::Web)
    ///     .client_id("web-app")
    ///     .auth_method(TokenEndpointAuthMethod::ClientSecretPost)
    ///     .redirect_uri("https://app.example/cb")
    ///     .scopes(["openid"])
    ///     .build(&ScopeCatalog::with_oidc_scopes())?;
    /// let secret = issued.secret.expect("a confidential client").expose_secret().to_owned();
    /// store.insert_client(issued.client).await?;
    /// let provider = Provider::builder("https://id.example", store).build()?;
    ///
    /// let body = format!("client_id=web-app&client_secret={secret}&response_type=code&scope=openid&state=xyz");
    /// let request = http::Request::post("/oauth/par")
    ///     .header("content-type", "application/x-www-form-urlencoded")
    ///     .body(Bytes::from(body))?;
    /// let response = provider.pushed_authorization_request(request).await;
    /// assert_eq!(response.status(), 201);
    /// let answer: serde_json::Value = serde_json::from_slice(response.body())?;
    /// let request_uri = answer["request_uri"].as_str().expect("a request_uri");
    /// assert!(request_uri.starts_with("urn:ietf:params:oauth:request_uri:"));
    /// assert_eq!(answer["expires_in"], 60);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn pushed_authorization_request(&self, request: Request<Bytes>) -> Response<Bytes> {
        match self.push(&request).await {
            Ok((request_uri, expires_in)) => response::json(
                StatusCode::CREATED,
                &json!({"request_uri": request_uri, "expires_in": expires_in}),
            ),
            Err(err) => response::oauth_error(&err),
        }
    }

    async fn push(&self, request: &Request<Bytes>) -> Result<(String, i64), OAuthError> {
        if !self.pushed_authorization_requests_enabled() {
            return Err(OAuthError::invalid_request(
                "pushed authorization requests are not enabled",
            ));
        }
        let params = request::form(request, self.max_body_bytes())?;
        let client = client_auth::authenticate(self, request, &params).await?;
        if params.contains("request_uri") {
            return Err(OAuthError::invalid_request(
                "request_uri must not be sent to the pushed authorization request endpoint",
            ));
        }
        // §2.1: client_id is required as at the authorization endpoint; a client that
        // authenticated with the Authorization header may leave it out of the body, and
        // client authentication has already checked that a body client_id is its own.
        let client_id = client.id.to_string();
        // Every value, so a parameter that may repeat (RFC 8707 `resource`) keeps them all.
        let mut pairs: Vec<(&str, &str)> = params
            .iter()
            .filter(|(name, _)| !CLIENT_AUTH_PARAMS.contains(name) && *name != "client_id")
            .flat_map(|(name, _)| params.get_all(name).map(move |value| (name, value)))
            .collect();
        pairs.push(("client_id", client_id.as_str()));
        let authorization = Params::from_pairs(pairs);
        let catalog = self
            .scope_catalog()
            .await
            .map_err(|err| OAuthError::store(&err))?;
        let validated =
            AuthorizationRequest::validate(&authorization, Some(&client), &catalog, self.policy())
                .map_err(|err| OAuthError::bad_request(err.code(), err.description().to_owned()))?;
        let request_uri = new_request_uri()?;
        let now = self.now();
        let lifetime = self.0.par.lifetime;
        let pending = PendingAuthorization {
            handle: TokenHash::of(&request_uri),
            client_id: validated.client_id.clone(),
            redirect_uri: validated.redirect_uri.clone(),
            redirect_uri_in_request: validated.redirect_uri_in_request,
            response_type: validated.response_type.as_str().to_owned(),
            response_mode: validated.response_mode.as_str().to_owned(),
            scopes: validated.scopes.clone(),
            state: validated.state.clone(),
            nonce: validated.nonce.clone(),
            code_challenge: validated
                .code_challenge
                .as_ref()
                .map(|pkce| pkce.challenge.clone()),
            code_challenge_method: validated
                .code_challenge
                .as_ref()
                .map(|pkce| pkce.method.as_str().to_owned()),
            prompt: validated
                .prompt
                .iter()
                .map(|p| p.as_str().to_owned())
                .collect(),
            max_age: validated.max_age,
            created_at: now,
            expires_at: now + lifetime,
            resources: validated.resources.clone(),
            dpop_jkt: validated.dpop_jkt.clone(),
        };
        self.store()
            .insert_pending(pending)
            .await
            .map_err(|err| OAuthError::store(&err))?;
        tracing::debug!(client_id = %client.id, "authorization request pushed");
        Ok((request_uri, lifetime.whole_seconds()))
    }

    /// The authorization endpoint's side of RFC 9126 §4: when the request carries a
    /// `request_uri` (and PAR is on), the pushed request's parameters replace the
    /// request's, and `true` says they were pushed. Without one, the parameters are
    /// returned as they are, with `false`.
    ///
    /// A `request_uri` of ours (`urn:ietf:params:oauth:request_uri:…`) that is unknown,
    /// expired, used already, or pushed by another client is answered with an
    /// `invalid_request_uri` page (RFC 9101 §7), never a redirect: the only redirect URI
    /// that could be trusted is in the pushed request that cannot be had (RFC 6749
    /// §4.1.2.1). Any other `request_uri` is left to validation, which answers
    /// `request_uri_not_supported`.
    pub(crate) async fn pushed_params(
        &self,
        params: Params,
    ) -> Result<(Params, bool), Response<Bytes>> {
        // Only our own request URIs are pushed requests; any other `request_uri` is a
        // request object by reference (OpenID Connect Core §6.2), which validation refuses
        // as `request_uri_not_supported`.
        let ours = params
            .get("request_uri")
            .is_some_and(|uri| uri.starts_with(REQUEST_URI_PREFIX));
        if !self.pushed_authorization_requests_enabled() || !ours {
            return Ok((params, false));
        }
        let unusable = || {
            error_page(
                StatusCode::BAD_REQUEST,
                INVALID_REQUEST_URI,
                UNUSABLE_REQUEST_URI,
            )
        };
        // RFC 9101 §5: client_id is required beside request_uri; RFC 6749 §3.1: no repeats.
        let client_id = requested_client_id(&params)
            .map_err(|err| error_page(StatusCode::BAD_REQUEST, err.code(), err.description()))?;
        if params.duplicates().contains("request_uri") {
            return Err(error_page(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "parameter request_uri is repeated",
            ));
        }
        let Some(request_uri) = params.get("request_uri") else {
            return Err(unusable());
        };
        let handle = TokenHash::of(request_uri);
        let now = self.now();
        // Checked before taking, so another client presenting the request_uri cannot use
        // it up (§2.2: "MUST be bound to the client").
        match self.store().get_pending(&handle, now).await {
            Ok(Some(pending)) if pending.client_id == client_id => {}
            Ok(_) => return Err(unusable()),
            Err(err) => return Err(store_failure_page(&err)),
        }
        // §4: one-time use; of concurrent uses exactly one gets it.
        let pending = match self.store().take_pending(&handle, now).await {
            Ok(Some(pending)) if pending.client_id == client_id => pending,
            Ok(_) => return Err(unusable()),
            Err(err) => return Err(store_failure_page(&err)),
        };
        Ok((pushed_request_params(&pending), true))
    }

    /// Whether `client` may only use pushed authorization requests: provider-wide, or as
    /// registered (RFC 9126 §5, §6).
    pub(crate) fn requires_pushed_request(&self, client: &Client) -> bool {
        self.0.par.required || client.require_pushed_authorization_requests
    }
}

/// A fresh `request_uri`: the RFC 9126 §2.2 URN with 256 random bits, base64url.
fn new_request_uri() -> Result<String, OAuthError> {
    let mut random = [0u8; REQUEST_URI_RANDOM_BYTES];
    aws_lc_rs::rand::fill(&mut random).map_err(|_| {
        OAuthError::from(portcullis_grants::GrantError::Token(TokenError::Entropy(
            "the random generator failed".into(),
        )))
    })?;
    Ok(format!(
        "{REQUEST_URI_PREFIX}{}",
        URL_SAFE_NO_PAD.encode(random)
    ))
}

/// The authorization request parameters of a pushed request, as the authorization endpoint
/// validates them again (§4: "as it would any other authorization request").
fn pushed_request_params(pending: &PendingAuthorization) -> Params {
    let mut pairs: Vec<(&str, String)> = vec![
        ("client_id", pending.client_id.to_string()),
        ("response_type", pending.response_type.clone()),
        ("response_mode", pending.response_mode.clone()),
    ];
    if pending.redirect_uri_in_request {
        pairs.push(("redirect_uri", pending.redirect_uri.clone()));
    }
    if !pending.scopes.is_empty() {
        pairs.push(("scope", pending.scopes.to_string()));
    }
    let optional = [
        ("state", &pending.state),
        ("nonce", &pending.nonce),
        ("code_challenge", &pending.code_challenge),
        ("code_challenge_method", &pending.code_challenge_method),
        ("dpop_jkt", &pending.dpop_jkt),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            pairs.push((name, value.clone()));
        }
    }
    if !pending.prompt.is_empty() {
        pairs.push(("prompt", pending.prompt.join(" ")));
    }
    if let Some(max_age) = pending.max_age {
        pairs.push(("max_age", max_age.to_string()));
    }
    for resource in &pending.resources {
        pairs.push(("resource", resource.clone()));
    }
    Params::from_pairs(pairs.iter().map(|(name, value)| (*name, value.as_str())))
}

#[cfg(test)]
mod tests;
