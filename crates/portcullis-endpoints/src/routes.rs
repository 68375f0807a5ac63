//! Which endpoint answers at which path: the single table the framework adapters mount, so
//! a new endpoint reaches every adapter without touching them.

use bytes::Bytes;
use http::{Request, Response};

use crate::Provider;

/// One of the provider's endpoints.
///
/// ```
/// # use std::sync::Arc;
/// # let provider = portcullis_endpoints::Provider::builder("https://id.example", Arc::new(portcullis_store::MemoryStore::new())).build().expect("config");
/// let routes = provider.routes();
/// assert!(routes.iter().any(|(path, _)| path == "/.well-known/openid-configuration"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Endpoint {
    /// [`Provider::authorize_http`]
    Authorize,
    /// [`Provider::token`]
    Token,
    /// [`Provider::revoke`]
    Revoke,
    /// [`Provider::introspect`]
    Introspect,
    /// [`Provider::jwks`]
    Jwks,
    /// [`Provider::userinfo`]
    UserInfo,
    /// [`Provider::end_session`]
    EndSession,
    /// [`Provider::openid_configuration`]
    OpenIdConfiguration,
    /// [`Provider::authorization_server_metadata`]
    AuthorizationServerMetadata,
    /// `Provider::login_page` (feature `ui`)
    #[cfg(feature = "ui")]
    Login,
    /// `Provider::consent_page` (feature `ui`)
    #[cfg(feature = "ui")]
    Consent,
    /// [`Provider::device_authorization`] (only with a device flow)
    DeviceAuthorization,
    /// `Provider::device_verification_page` (feature `ui`, only with a device flow)
    #[cfg(feature = "ui")]
    DeviceVerification,
    /// [`Provider::client_registration`] (only with dynamic client registration)
    Registration,
    /// [`Provider::pushed_authorization_request`] (unless pushed authorization requests
    /// are turned off)
    PushedAuthorizationRequest,
}

impl Endpoint {
    /// A short stable name, for metrics labels and logs.
    ///
    /// ```
    /// assert_eq!(portcullis_endpoints::Endpoint::Token.name(), "token");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Authorize => "authorize",
            Endpoint::Token => "token",
            Endpoint::Revoke => "revoke",
            Endpoint::Introspect => "introspect",
            Endpoint::Jwks => "jwks",
            Endpoint::UserInfo => "userinfo",
            Endpoint::EndSession => "end_session",
            Endpoint::OpenIdConfiguration => "openid_configuration",
            Endpoint::AuthorizationServerMetadata => "authorization_server_metadata",
            #[cfg(feature = "ui")]
            Endpoint::Login => "login",
            #[cfg(feature = "ui")]
            Endpoint::Consent => "consent",
            Endpoint::DeviceAuthorization => "device_authorization",
            #[cfg(feature = "ui")]
            Endpoint::DeviceVerification => "device_verification",
            Endpoint::Registration => "registration",
            Endpoint::PushedAuthorizationRequest => "pushed_authorization_request",
        }
    }
}

impl Provider {
    /// Every endpoint with the path it is served at: what an adapter mounts. Each route
    /// takes every method; the endpoint answers a wrong one itself (405 with `Allow`).
    pub fn routes(&self) -> Vec<(String, Endpoint)> {
        let paths = self.paths();
        let mut routes = vec![
            (paths.authorize.clone(), Endpoint::Authorize),
            (paths.token.clone(), Endpoint::Token),
            (paths.revoke.clone(), Endpoint::Revoke),
            (paths.introspect.clone(), Endpoint::Introspect),
            (paths.jwks.clone(), Endpoint::Jwks),
            (paths.userinfo.clone(), Endpoint::UserInfo),
            (paths.end_session.clone(), Endpoint::EndSession),
            (
                self.openid_configuration_path(),
                Endpoint::OpenIdConfiguration,
            ),
            (
                self.authorization_server_metadata_path(),
                Endpoint::AuthorizationServerMetadata,
            ),
            #[cfg(feature = "ui")]
            (paths.login.clone(), Endpoint::Login),
            #[cfg(feature = "ui")]
            (paths.consent.clone(), Endpoint::Consent),
        ];
        if self.pushed_authorization_requests_enabled() {
            routes.push((
                paths.pushed_authorization_request.clone(),
                Endpoint::PushedAuthorizationRequest,
            ));
        }
        if self.device_flow().is_some() {
            routes.push((
                paths.device_authorization.clone(),
                Endpoint::DeviceAuthorization,
            ));
            #[cfg(feature = "ui")]
            routes.push((
                paths.device_verification.clone(),
                Endpoint::DeviceVerification,
            ));
        }
        if self.registration_policy().is_some() {
            routes.push((paths.registration.clone(), Endpoint::Registration));
        }
        routes
    }

    /// Answers `request` with `endpoint`, counting the request and its latency
    /// ([`telemetry`](crate::telemetry)).
    pub async fn handle(&self, endpoint: Endpoint, request: Request<Bytes>) -> Response<Bytes> {
        let started = std::time::Instant::now();
        let response = self.dispatch(endpoint, request).await;
        crate::telemetry::request(endpoint, response.status().as_u16(), started.elapsed());
        response
    }

    async fn dispatch(&self, endpoint: Endpoint, request: Request<Bytes>) -> Response<Bytes> {
        match endpoint {
            Endpoint::Authorize => self.authorize_http(request).await,
            Endpoint::Token => self.token(request).await,
            Endpoint::Revoke => self.revoke(request).await,
            Endpoint::Introspect => self.introspect(request).await,
            Endpoint::Jwks => self.jwks(request).await,
            Endpoint::UserInfo => self.userinfo(request).await,
            Endpoint::EndSession => self.end_session(request).await,
            Endpoint::OpenIdConfiguration => self.openid_configuration(request).await,
            Endpoint::AuthorizationServerMetadata => {
                self.authorization_server_metadata(request).await
            }
            #[cfg(feature = "ui")]
            Endpoint::Login => self.login_page(request).await,
            #[cfg(feature = "ui")]
            Endpoint::Consent => self.consent_page(request).await,
            Endpoint::DeviceAuthorization => self.device_authorization(request).await,
            #[cfg(feature = "ui")]
            Endpoint::DeviceVerification => self.device_verification_page(request).await,
            Endpoint::Registration => self.client_registration(request).await,
            Endpoint::PushedAuthorizationRequest => {
                self.pushed_authorization_request(request).await
            }
        }
    }
}
