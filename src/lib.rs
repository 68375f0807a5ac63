//! # portcullis
//!
//! Embed a real OAuth 2.0 and OpenID Connect authorization server in your Rust application.
//!
//! This umbrella crate re-exports the workspace's crates so an application depends on one
//! crate; later layers (grants, endpoints, framework adapters, persistent stores) join behind
//! features as they land.
//!
//! | module | crate | holds |
//! |---|---|---|
//! | [`registry`] | `portcullis-registry` | clients, scopes, redirect-URI matching, client secrets |
//! | [`tokens`] | `portcullis-tokens` | opaque token minting and hashing |
//! | [`store`] | `portcullis-store` | storage traits, the in-memory store, the conformance kit |
//! | [`grants`] | `portcullis-grants` | grant logic, the `Grant` trait, the app's callback traits |
//! | [`endpoints`] | `portcullis-endpoints` | `Provider` and its HTTP-agnostic endpoints |
//! | [`resource`] | `portcullis-resource` | bearer-token validation and guards for resource servers |
//! | `axum` (feature `axum`) | `portcullis-axum` | the axum adapter |
//! | `actix` (feature `actix`) | `portcullis-actix` | the actix-web adapter |
//!
//! ```
//! use portcullis::registry::{ClientKind, NewClient, ScopeCatalog};
//!
//! let catalog = ScopeCatalog::with_oidc_scopes();
//! let issued = NewClient::new("Dashboard", ClientKind::Web)
//!     .redirect_uri("https://dashboard.example/callback")
//!     .scopes(["openid", "profile"])
//!     .build(&catalog)
//!     .expect("a valid client");
//! // A confidential client gets its secret exactly once.
//! assert!(issued.secret.is_some());
//! ```

#[cfg(feature = "actix")]
pub use portcullis_actix as actix;
#[cfg(feature = "axum")]
pub use portcullis_axum as axum;
pub use portcullis_endpoints as endpoints;
pub use portcullis_grants as grants;
pub use portcullis_registry as registry;
pub use portcullis_resource as resource;
pub use portcullis_store as store;
pub use portcullis_tokens as tokens;
