//! Client and scope registry for portcullis.
//!
//! This crate holds the data model an OAuth 2.0 / OpenID Connect authorization server keeps
//! about its clients, and the rules that keep that data sound. It does no I/O and nothing
//! async: storage lives in `portcullis-store`, protocol flows in `portcullis-grants`.
//!
//! - [`scope`]: scope tokens and sets (RFC 6749 §3.3), the [`ScopeCatalog`] of scopes a
//!   provider knows, and [`AllowedScopes`], what one client may ask for.
//! - [`redirect`]: registered redirect URIs with their match rule: exact string comparison
//!   (RFC 9700 §4.1.3), or any loopback port for native clients (RFC 8252 §7.3).
//! - [`client`]: the [`Client`] record and its protocol enums ([`ClientKind`], [`GrantType`],
//!   [`TokenEndpointAuthMethod`]).
//! - [`new_client`]: the [`NewClient`] builder, the only road from user input to a [`Client`];
//!   it checks every rule and reports every problem at once as [`ValidationErrors`]
//!   (see [`validation`]).
//! - [`secret`]: client secrets, shown once and stored only as a SHA-256 hash that is
//!   compared in constant time.
//!
//! # Example
//!
//! Register a confidential web client and check what the authorization server will later
//! check on each request:
//!
//! ```
//! use portcullis_registry::{ClientKind, GrantType, NewClient, ScopeCatalog, ScopeSet};
//!
//! let catalog = ScopeCatalog::with_oidc_scopes();
//! let issued = NewClient::new("Billing dashboard", ClientKind::Web)
//!     .redirect_uri("https://billing.example/callback")
//!     .scopes(["openid", "profile"])
//!     .build(&catalog)?;
//!
//! // Confidential clients get a secret, shown this once; only its hash is kept.
//! let secret = issued.secret.ok_or("a web client gets a secret")?;
//! let client = issued.client;
//! assert!(client.verify_secret(secret.expose_secret()));
//!
//! // Web clients default to the authorization code and refresh token grants.
//! assert!(client.allows_grant(GrantType::AuthorizationCode));
//! assert!(client.allows_grant(GrantType::RefreshToken));
//!
//! // Redirect URIs match as exact strings.
//! assert!(client.match_redirect_uri("https://billing.example/callback").is_some());
//! assert!(client.match_redirect_uri("https://billing.example/callback/").is_none());
//!
//! // Requested scopes must exist and be allowed; nothing is silently dropped.
//! client.allowed_scopes.check(&ScopeSet::parse("openid profile")?, &catalog)?;
//! assert!(client.allowed_scopes.check(&ScopeSet::parse("openid email")?, &catalog).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod client;
pub mod error;
pub mod new_client;
pub mod redirect;
pub mod scope;
pub mod secret;
pub mod validation;

pub use client::{
    ACCESS_TOKEN_LIFETIME_SECS, AccessTokenFormat, CLIENT_ID_MAX_LEN, Client, ClientId, ClientKind,
    DEFAULT_ACCESS_TOKEN_LIFETIME_SECS, DEFAULT_REFRESH_TOKEN_LIFETIME_SECS, GrantType,
    IdentifierError, REFRESH_TOKEN_LIFETIME_SECS, RoleAssignment, SubjectType,
    TokenEndpointAuthMethod, UnknownNameError,
};
pub use error::RegistryError;
pub use new_client::{
    CLIENT_DESCRIPTION_MAX_CHARS, CLIENT_NAME_MAX_CHARS, IssuedClient, NewClient,
};
pub use redirect::{MatchRule, REDIRECT_URI_MAX_LEN, RedirectUri, RedirectUriError};
pub use scope::{
    AllowedScopes, OFFLINE_ACCESS_SCOPE, OPENID_SCOPE, SCOPE_MAX_LEN, SCOPE_SET_MAX_LEN, Scope,
    ScopeCatalog, ScopeDefinition, ScopeError, ScopeSet,
};
pub use secret::{ClientSecret, ClientSecretHash, InvalidSecretHash};
pub use validation::{Field, FieldError, FieldErrorReason, ValidationErrors};
