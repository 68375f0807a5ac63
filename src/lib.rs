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

pub use portcullis_registry as registry;
pub use portcullis_store as store;
pub use portcullis_tokens as tokens;
