//! What a resource server needs from portcullis, free of any web framework.
//!
//! - [`TokenValidator`] turns the bearer token of a request into an [`AccessToken`]:
//!   [`StoreValidator`] looks it up in the provider's store (same process or shared
//!   database); `IntrospectionValidator` (feature `introspection`) asks a remote provider by
//!   RFC 7662 and caches the answer no longer than the token lives.
//! - [`Resource`] reads the token from the `Authorization` header only (RFC 6750 §2.1) and
//!   validates it; [`require_scope`] and [`require_role`] are the guards; every failure is a
//!   [`BearerError`] that knows its status and `WWW-Authenticate` challenge (RFC 6750 §3).
//! - DPoP (RFC 9449 §7): [`Resource::authenticate_request`] also accepts `Authorization:
//!   DPoP <token>` with a `DPoP` proof for the request's method and URL, and refuses a
//!   DPoP-bound token presented as a bearer token; [`DpopPolicy`] sets the accepted
//!   algorithms, the `iat` window, the public base URL and the replay store.
//! - [`SubjectMapper`] maps a token's subject (and client) to the application's own user id.
//!
//! The axum and actix-web adapters wrap these in extractors and guards.
//!
//! ```
//! use portcullis_resource::{Resource, StoreValidator, require_scope};
//! use portcullis_store::MemoryStore;
//! use std::sync::Arc;
//!
//! # tokio::runtime::Builder::new_current_thread().build().expect("rt").block_on(async {
//! let resource = Resource::new(StoreValidator::new(Arc::new(MemoryStore::new()))).realm("api");
//! let mut headers = http::HeaderMap::new();
//! headers.insert("authorization", "Bearer pc_at_unknown".parse().expect("header"));
//! let err = resource.authenticate(&headers).await.unwrap_err();
//! assert_eq!(err.status(), 401);
//! assert!(resource.challenge(&err).contains(r#"error="invalid_token""#));
//! # });
//! ```

mod access_token;
mod bearer;
mod dpop;
mod error;
mod guard;
#[cfg(feature = "introspection")]
mod introspection;
#[cfg(feature = "jwt")]
mod jwks_fetch;
#[cfg(feature = "jwt")]
mod jwt;
#[cfg(any(feature = "introspection", feature = "jwt"))]
mod remote;
mod resource;
mod store_validator;
mod subject;

pub use access_token::AccessToken;
pub use bearer::{TokenScheme, authorization_token, bearer_token};
pub use dpop::DpopPolicy;
pub use error::BearerError;
pub use guard::{require_role, require_scope};
#[cfg(feature = "introspection")]
pub use introspection::*;
#[cfg(feature = "jwt")]
pub use jwks_fetch::HttpJwksFetcher;
#[cfg(feature = "jwt")]
pub use jwt::{JwtConfigError, JwtValidator, JwtValidatorBuilder};
pub use resource::{Resource, TokenValidator};
pub use store_validator::StoreValidator;
pub use subject::{SubjectAsUserId, SubjectMapper};
