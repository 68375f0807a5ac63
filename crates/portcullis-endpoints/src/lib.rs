//! HTTP-agnostic OAuth 2.0 endpoints for portcullis.
//!
//! Every endpoint is a method of [`Provider`] that takes an `http::Request<Bytes>` and
//! answers an `http::Response<Bytes>`, so a framework adapter only converts types:
//!
//! | endpoint | method | spec |
//! |---|---|---|
//! | authorization | [`Provider::authorize`], then [`Provider::complete`] | RFC 6749 §4.1, §4.2; RFC 9207 |
//! | authorization, as a browser meets it | [`Provider::authorize_http`] (session cookie for SSO, redirects to the login or consent page) | DESIGN §2 |
//! | default login and consent pages (feature `ui`) | `Provider::login_page`, `Provider::consent_page` | DESIGN §4.1 |
//! | discovery | [`Provider::openid_configuration`], [`Provider::authorization_server_metadata`] | OpenID Connect Discovery 1.0; RFC 8414 |
//! | JWKS | [`Provider::jwks`] | RFC 7517 |
//! | UserInfo | [`Provider::userinfo`] | OpenID Connect Core §5.3 |
//! | end session | [`Provider::end_session`] | OpenID Connect RP-Initiated Logout 1.0 |
//! | device authorization (with [`ProviderBuilder::device_flow`]) | [`Provider::device_authorization`] | RFC 8628 §3.1 |
//! | device verification page (feature `ui`) | `Provider::device_verification_page` | RFC 8628 §3.3 |
//! | dynamic client registration and management (with [`ProviderBuilder::registration`]) | [`Provider::client_registration`] | RFC 7591 §3; RFC 7592 §2 |
//! | pushed authorization request (unless turned off) | [`Provider::pushed_authorization_request`] | RFC 9126 |
//!
//! [`Provider::routes`] lists every endpoint with its path and [`Provider::handle`] answers
//! a request for one: an adapter mounts the first and calls the second.
//! | token | [`Provider::token`] | RFC 6749 §3.2, §5 |
//! | revocation | [`Provider::revoke`] | RFC 7009 |
//! | introspection | [`Provider::introspect`] | RFC 7662 |
//!
//! Clients authenticate at the token, revocation, introspection, device authorization and
//! pushed authorization request endpoints with a client secret (Basic or in the body), as
//! public clients by `client_id`, or with a JWT (`private_key_jwt`, `client_secret_jwt`:
//! RFC 7523 §2.2, OpenID Connect Core §9) once
//! [`ProviderBuilder::client_assertion_replay_store`] is set.
//!
//! With [`ProviderBuilder::dpop`], tokens are sender-constrained by DPoP (RFC 9449): a
//! token request with a `DPoP` proof gets `token_type: "DPoP"` and tokens bound to the
//! proof's key, UserInfo accepts `Authorization: DPoP`, and server nonces are available.
//!
//! With [`ProviderBuilder::rate_limits`], the token endpoint and logins are rate limited
//! per client, per IP ([`ClientIp`]) and per username, and failed logins back off
//! exponentially ([`RateLimits`]); all off by default.
//!
//! Failures become RFC error codes in one place (the `error` module): [`OAuthError`] for
//! the JSON endpoints, [`AuthorizeErrorCode`] for the authorization endpoint.

mod authorize;
mod browser;
mod client_auth;
mod device;
mod discovery;
mod dpop;
mod end_session;
mod error;
mod introspection;
mod jwks;
mod par;
mod provider;
mod rate_limit;
mod registration;
mod request;
mod response;
mod revocation;
mod routes;
mod signing_keys;
pub mod telemetry;
mod token;
mod userinfo;

pub use authorize::*;
pub use client_auth::{CLIENT_ASSERTION_TYPE_JWT_BEARER, SealClientSecretError};
pub use device::{
    USER_CODE_ATTEMPT_WINDOW, USER_CODE_ATTEMPTS_GLOBAL, USER_CODE_ATTEMPTS_PER_USER,
    USER_CODE_LIMITER_CAPACITY,
};
pub use discovery::*;
pub use dpop::{Confirmation, DPOP_HEADER, DPOP_NONCE_HEADER, DPOP_TOKEN_TYPE, DpopSettings};
pub use end_session::*;
pub use error::{AuthorizeErrorCode, OAuthError};
pub use introspection::*;
pub use jwks::*;
pub use par::REQUEST_URI_PREFIX;
pub use provider::{ConfigError, DEFAULT_MAX_BODY_BYTES, Paths, Provider, ProviderBuilder};
pub use rate_limit::{ClientIp, LoginLockout, Rate, RateLimits, Throttled};
pub use registration::{REGISTRATION_ACCESS_TOKEN_LIFETIME, RegistrationPolicy};
pub use revocation::*;
pub use routes::Endpoint;
pub use signing_keys::*;
pub use userinfo::*;
