//! Device authorization endpoint: RFC 8628 §3.1–3.2, errors per RFC 6749 §5.2.
//!
//! Enabled by [`ProviderBuilder::device_flow`](crate::ProviderBuilder::device_flow), which
//! also registers the `urn:ietf:params:oauth:grant-type:device_code` grant at the token
//! endpoint, the verification page (feature `ui`) and the discovery member
//! `device_authorization_endpoint`.

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use portcullis_grants::{DeviceAuthorizationIssued, DeviceFlow, UserCode};
use serde_json::{Map, Value};
use time::Duration;

use crate::{OAuthError, Provider, client_auth, request, response};

#[cfg(feature = "ui")]
mod limiter;

#[cfg(feature = "ui")]
pub(crate) use limiter::{AttemptLimiter, Limited};

/// Wrong user codes one signed-in user may enter per window on the verification page.
pub const USER_CODE_ATTEMPTS_PER_USER: u32 = 10;

/// Wrong user codes all users together may enter per window (on one instance).
pub const USER_CODE_ATTEMPTS_GLOBAL: u32 = 5_000;

/// The window of both user-code limits: 10 minutes.
pub const USER_CODE_ATTEMPT_WINDOW: Duration = Duration::minutes(10);

/// How many users the user-code limiter tracks at once (10 000); past that, new users are
/// refused until a window ends.
pub const USER_CODE_LIMITER_CAPACITY: usize = 10_000;

/// The device flow as the provider runs it.
pub(crate) struct DeviceState {
    pub(crate) flow: DeviceFlow,
    /// Wrong user-code entries, keyed by the signed-in user's subject.
    #[cfg(feature = "ui")]
    pub(crate) limiter: AttemptLimiter,
}

impl DeviceState {
    pub(crate) fn new(flow: DeviceFlow) -> DeviceState {
        DeviceState {
            flow,
            #[cfg(feature = "ui")]
            limiter: AttemptLimiter::new(
                USER_CODE_ATTEMPTS_PER_USER,
                USER_CODE_ATTEMPTS_GLOBAL,
                USER_CODE_ATTEMPT_WINDOW,
                USER_CODE_LIMITER_CAPACITY,
            ),
        }
    }
}

impl Provider {
    /// The device flow, when enabled.
    pub fn device_flow(&self) -> Option<&DeviceFlow> {
        self.0.device.as_ref().map(|device| &device.flow)
    }

    #[cfg(feature = "ui")]
    pub(crate) fn device_state(&self) -> Option<&DeviceState> {
        self.0.device.as_ref()
    }

    /// The verification URI shown to users (RFC 8628 §3.2 `verification_uri`): the
    /// issuer followed by [`Paths::device_verification`](crate::Paths::device_verification).
    ///
    /// ```
    /// # use portcullis_endpoints::Provider;
    /// # use std::sync::Arc;
    /// let provider = Provider::builder("https://id.example", Arc::new(portcullis_store::MemoryStore::new())).build()?;
    /// assert_eq!(provider.verification_uri(), "https://id.example/oauth/device");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn verification_uri(&self) -> String {
        self.url(&self.paths().device_verification)
    }

    /// The issuer followed by `path`.
    pub(crate) fn url(&self, path: &str) -> String {
        if path.starts_with('/') {
            format!("{}{path}", self.issuer())
        } else {
            format!("{}/{path}", self.issuer())
        }
    }

    /// The device authorization endpoint (RFC 8628 §3.1–3.2): a `POST` form from an
    /// authenticated client (public clients send `client_id`), as at the token endpoint.
    ///
    /// The client must be registered for the device grant (`unauthorized_client`) and may
    /// send `scope` (`invalid_scope` when malformed, unknown or not allowed; when absent,
    /// every scope it may request). The answer (200, `Cache-Control: no-store`) carries
    /// `device_code`, `user_code` (`XXXX-XXXX`), `verification_uri`,
    /// `verification_uri_complete` (with the user code), `expires_in` and `interval`.
    /// Errors are RFC 6749 §5.2 JSON with the token endpoint's statuses (`invalid_client`
    /// is 401). Without [`device_flow`](crate::ProviderBuilder::device_flow) every request
    /// is answered 400 `invalid_request`.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use portcullis_endpoints::Provider;
    /// use portcullis_store::MemoryStore;
    /// use std::sync::Arc;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let provider = Provider::builder("https://id.example", Arc::new(MemoryStore::new()))
    ///     .device_flow(Arc::new(MemoryStore::new()))
    ///     .build()?;
    /// let request = http::Request::post("/oauth/device_authorization")
    ///     .header("content-type", "application/x-www-form-urlencoded")
    ///     .body(Bytes::from_static(b"client_id=unknown-tv"))?;
    /// let response = provider.device_authorization(request).await;
    /// assert_eq!(response.status(), 401); // no such client
    /// assert_eq!(response.headers()["cache-control"], "no-store");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn device_authorization(&self, request: Request<Bytes>) -> Response<Bytes> {
        match self.start_device_authorization(&request).await {
            Ok(issued) => response::json(StatusCode::OK, &Value::Object(self.device_body(issued))),
            Err(err) => response::oauth_error(&err),
        }
    }

    async fn start_device_authorization(
        &self,
        request: &Request<Bytes>,
    ) -> Result<DeviceAuthorizationIssued, OAuthError> {
        let Some(flow) = self.device_flow() else {
            return Err(OAuthError::invalid_request(
                "the device authorization grant is not enabled",
            ));
        };
        let params = request::form(request, self.max_body_bytes())?;
        let client = client_auth::authenticate(self, request, &params).await?;
        let catalog = self
            .scope_catalog()
            .await
            .map_err(|err| OAuthError::store(&err))?;
        let issued = flow
            .authorize(&client, &params, &catalog, self.now())
            .await
            .map_err(OAuthError::from)?;
        tracing::info!(client_id = %client.id, "device authorization started");
        Ok(issued)
    }

    /// RFC 8628 §3.2 members.
    fn device_body(&self, issued: DeviceAuthorizationIssued) -> Map<String, Value> {
        let verification_uri = self.verification_uri();
        let mut body = Map::new();
        body.insert(
            "device_code".into(),
            issued.device_code.expose_secret().into(),
        );
        body.insert("user_code".into(), issued.user_code.formatted().into());
        body.insert(
            "verification_uri_complete".into(),
            verification_uri_complete(&verification_uri, &issued.user_code).into(),
        );
        body.insert("verification_uri".into(), verification_uri.into());
        body.insert("expires_in".into(), issued.expires_in.into());
        body.insert("interval".into(), issued.interval.into());
        body
    }
}

/// `verification_uri` with the user code in the `user_code` query parameter (RFC 8628
/// §3.3.1).
pub(crate) fn verification_uri_complete(verification_uri: &str, user_code: &UserCode) -> String {
    let separator = if verification_uri.contains('?') {
        '&'
    } else {
        '?'
    };
    format!(
        "{verification_uri}{separator}user_code={}",
        user_code.formatted()
    )
}
