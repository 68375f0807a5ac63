//! The crate's error type.

use crate::client::IdentifierError;
use crate::redirect::RedirectUriError;
use crate::scope::ScopeError;
use crate::validation::ValidationErrors;

#[cfg(test)]
mod tests;

/// Everything that can go wrong in the registry.
///
/// Operations with a narrower failure return the narrower type ([`ScopeError`],
/// [`RedirectUriError`], [`IdentifierError`], [`ValidationErrors`]); each converts into this
/// one with `?`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The operating system's random number generator failed, so no client id or secret
    /// could be generated.
    #[error("system randomness unavailable")]
    Entropy(#[source] rand::rngs::SysError),
    /// A secret was asked of a public client (RFC 6749 §2.1), which cannot keep one.
    #[error("public clients have no secret")]
    PublicClientHasNoSecret,
    /// A scope, scope list or scope definition was rejected.
    #[error(transparent)]
    Scope(#[from] ScopeError),
    /// A redirect URI was rejected.
    #[error(transparent)]
    RedirectUri(#[from] RedirectUriError),
    /// A client id was rejected.
    #[error("invalid client id: {0}")]
    ClientId(IdentifierError),
    /// A client failed validation.
    #[error(transparent)]
    Validation(#[from] ValidationErrors),
}

impl From<IdentifierError> for RegistryError {
    fn from(error: IdentifierError) -> Self {
        Self::ClientId(error)
    }
}
