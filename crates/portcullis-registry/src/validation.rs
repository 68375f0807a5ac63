//! Client validation errors: every problem with a client, each tied to the field it concerns
//! by that field's wire name (DESIGN §4.1), so an admin API can answer `400` naming it.

use std::fmt;

use crate::client::{ClientKind, GrantType, IdentifierError, TokenEndpointAuthMethod};
use crate::redirect::RedirectUriError;
use crate::scope::ScopeError;

#[cfg(test)]
mod tests;

/// A client field, displayed as its wire name and, for list items, the index:
/// `name`, `redirect_uris[2]`, `roles[0]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Field {
    /// `client_id`.
    ClientId,
    /// `name`.
    Name,
    /// `description`.
    Description,
    /// `application_type`. The builder never reports it (a [`ClientKind`] is always valid);
    /// it is here for callers that parse the kind from text.
    ApplicationType,
    /// `grant_types`.
    GrantTypes,
    /// `redirect_uris`, the list as a whole.
    RedirectUris,
    /// `redirect_uris[i]`, one URI.
    RedirectUri(usize),
    /// `scopes`.
    Scopes,
    /// `token_endpoint_auth_method`.
    TokenEndpointAuthMethod,
    /// `access_token_lifetime_secs`.
    AccessTokenLifetimeSecs,
    /// `refresh_token_lifetime_secs`.
    RefreshTokenLifetimeSecs,
    /// `roles`, the list as a whole.
    Roles,
    /// `roles[i]`, one assignment.
    Role(usize),
    /// `client_secret`: only for a secret that could not be generated.
    ClientSecret,
    /// `post_logout_redirect_uris[i]`, one URI.
    PostLogoutRedirectUri(usize),
    /// `jwks`, the client's public keys.
    Jwks,
    /// `jwks_uri`.
    JwksUri,
    /// `sector_identifier_uri`, or the redirect URIs when they name no single sector.
    SectorIdentifierUri,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ClientId => f.write_str("client_id"),
            Self::Name => f.write_str("name"),
            Self::Description => f.write_str("description"),
            Self::ApplicationType => f.write_str("application_type"),
            Self::GrantTypes => f.write_str("grant_types"),
            Self::RedirectUris => f.write_str("redirect_uris"),
            Self::RedirectUri(index) => write!(f, "redirect_uris[{index}]"),
            Self::Scopes => f.write_str("scopes"),
            Self::TokenEndpointAuthMethod => f.write_str("token_endpoint_auth_method"),
            Self::AccessTokenLifetimeSecs => f.write_str("access_token_lifetime_secs"),
            Self::RefreshTokenLifetimeSecs => f.write_str("refresh_token_lifetime_secs"),
            Self::Roles => f.write_str("roles"),
            Self::Role(index) => write!(f, "roles[{index}]"),
            Self::ClientSecret => f.write_str("client_secret"),
            Self::PostLogoutRedirectUri(index) => {
                write!(f, "post_logout_redirect_uris[{index}]")
            }
            Self::Jwks => f.write_str("jwks"),
            Self::JwksUri => f.write_str("jwks_uri"),
            Self::SectorIdentifierUri => f.write_str("sector_identifier_uri"),
        }
    }
}

/// What is wrong with a field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FieldErrorReason {
    /// The field is empty (after trimming whitespace, for text) but must not be.
    #[error("must not be empty")]
    Required,
    /// Text longer than allowed.
    #[error("must be at most {max} characters")]
    TooLong {
        /// The limit, in characters.
        max: usize,
    },
    /// Text holding a control character.
    #[error("must not contain control characters")]
    ControlCharacter,
    /// A client id that is not one.
    #[error("invalid client id: {0}")]
    InvalidClientId(IdentifierError),
    /// A grant type the client's kind may not use.
    #[error("{grant} is not allowed for {kind} clients")]
    GrantNotAllowed {
        /// The grant type.
        grant: GrantType,
        /// The client's kind.
        kind: ClientKind,
    },
    /// `refresh_token` without a grant that issues refresh tokens.
    #[error("refresh_token requires authorization_code, password or the device code grant")]
    RefreshWithoutIssuingGrant,
    /// No redirect URI although a grant needs one.
    #[error("at least one redirect uri is required for authorization_code and implicit")]
    RedirectUriRequired,
    /// Redirect URIs on a client without a grant that uses them.
    #[error("redirect uris are only allowed with authorization_code or implicit")]
    RedirectUrisNotAllowed,
    /// A redirect URI that breaks a registration rule.
    #[error(transparent)]
    InvalidRedirectUri(RedirectUriError),
    /// The same redirect URI twice.
    #[error("duplicate redirect uri")]
    DuplicateRedirectUri,
    /// A scope that is malformed or not in the catalog.
    #[error(transparent)]
    InvalidScope(ScopeError),
    /// An authentication method that does not fit the client's kind: a secret method for a
    /// public client, or `none` for a confidential one.
    #[error("{method} is not allowed for {kind} clients")]
    AuthMethodNotAllowed {
        /// The method.
        method: TokenEndpointAuthMethod,
        /// The client's kind.
        kind: ClientKind,
    },
    /// A lifetime outside its range.
    #[error("must be between {min} and {max} seconds")]
    LifetimeOutOfRange {
        /// The shortest allowed lifetime.
        min: u32,
        /// The longest allowed lifetime.
        max: u32,
    },
    /// A refresh token lifetime shorter than the access token lifetime.
    #[error("must not be shorter than access_token_lifetime_secs ({access})")]
    RefreshShorterThanAccess {
        /// The access token lifetime, in seconds.
        access: u32,
    },
    /// Roles on a client that is not a machine client.
    #[error("roles are only allowed for m2m clients, not {kind}")]
    RolesNotAllowed {
        /// The client's kind.
        kind: ClientKind,
    },
    /// A role name that is not a valid name.
    #[error("invalid role: {0}")]
    InvalidRole(IdentifierError),
    /// A division name that is not a valid name.
    #[error("invalid division: {0}")]
    InvalidDivision(IdentifierError),
    /// The same role in the same division twice.
    #[error("duplicate role assignment")]
    DuplicateRole,
    /// `private_key_jwt` without `jwks` or `jwks_uri`.
    #[error("private_key_jwt needs the client's public keys: jwks or jwks_uri")]
    KeysRequired,
    /// Both `jwks` and `jwks_uri` (RFC 7591 §2: "MUST NOT both be present").
    #[error("give jwks or jwks_uri, not both")]
    KeysTwice,
    /// A `jwks` value that is not a JWK Set of public keys.
    #[error("must be a JWK Set: an object with a non-empty \"keys\" array of public keys")]
    InvalidJwks,
    /// A URL that is not an absolute `https` URL without a fragment.
    #[error("must be an absolute https URL without a fragment")]
    NotHttpsUrl,
    /// Pairwise subjects without a sector: no `sector_identifier_uri`, and the redirect
    /// URIs have more than one host (OpenID Connect Core §8.1).
    #[error(
        "pairwise subjects need a sector_identifier_uri when the redirect uris have several hosts"
    )]
    SectorRequired,
    /// The system random number generator failed, so an id or secret could not be generated.
    /// The only reason not caused by the input.
    #[error("system randomness unavailable")]
    EntropyUnavailable(#[source] rand::rngs::SysError),
}

/// One problem with one field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    /// The field.
    pub field: Field,
    /// What is wrong with it.
    pub reason: FieldErrorReason,
}

impl FieldError {
    /// A problem `reason` with `field`.
    #[must_use]
    pub fn new(field: Field, reason: FieldErrorReason) -> Self {
        Self { field, reason }
    }

    /// The field's path, such as `redirect_uris[2]`.
    #[must_use]
    pub fn path(&self) -> String {
        self.field.to_string()
    }
}

/// Every problem found with a client, in field order; never empty.
///
/// ```
/// use portcullis_registry::{ClientKind, NewClient, ScopeCatalog};
///
/// let catalog = ScopeCatalog::with_oidc_scopes();
/// let errors = NewClient::new(" ", ClientKind::Web)
///     .redirect_uri("http://app.example/cb")
///     .build(&catalog)
///     .unwrap_err();
/// let fields: Vec<String> = errors.iter().map(|e| e.field.to_string()).collect();
/// assert_eq!(fields, ["name", "redirect_uris[0]"]);
/// assert_eq!(
///     errors.to_string(),
///     "invalid client: name: must not be empty; \
///      redirect_uris[0]: http redirect uris must use a loopback host",
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidationErrors(Vec<FieldError>);

impl ValidationErrors {
    /// Wraps `errors`; `None` if there are none.
    #[must_use]
    pub fn from_errors(errors: Vec<FieldError>) -> Option<Self> {
        if errors.is_empty() {
            None
        } else {
            Some(Self(errors))
        }
    }

    /// Just `error`.
    #[must_use]
    pub fn single(error: FieldError) -> Self {
        Self(vec![error])
    }

    /// The problems, in field order.
    #[must_use]
    pub fn errors(&self) -> &[FieldError] {
        &self.0
    }

    /// The problems, in field order.
    pub fn iter(&self) -> std::slice::Iter<'_, FieldError> {
        self.0.iter()
    }

    /// The problems, owned.
    #[must_use]
    pub fn into_errors(self) -> Vec<FieldError> {
        self.0
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid client: ")?;
        for (index, error) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

impl<'a> IntoIterator for &'a ValidationErrors {
    type Item = &'a FieldError;
    type IntoIter = std::slice::Iter<'a, FieldError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl IntoIterator for ValidationErrors {
    type Item = FieldError;
    type IntoIter = std::vec::IntoIter<FieldError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}
