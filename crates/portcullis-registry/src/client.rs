//! The client record (RFC 6749 §2) and its protocol enums: client types (§2.1), grant types,
//! token endpoint authentication methods (RFC 7591 §2), and token lifetimes.

use std::collections::BTreeSet;
use std::fmt;
use std::ops::RangeInclusive;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::TryRng as _;
use serde::{Deserialize, Serialize};

use crate::error::RegistryError;
use crate::redirect::RedirectUri;
use crate::scope::{AllowedScopes, is_scope_byte};
use crate::secret::{ClientSecret, ClientSecretHash};

#[cfg(test)]
mod tests;

/// The access token lifetimes a client may have, in seconds: 5 minutes to 2 days.
pub const ACCESS_TOKEN_LIFETIME_SECS: RangeInclusive<u32> = 300..=172_800;

/// The access token lifetime of a client that does not choose one: 1 hour.
pub const DEFAULT_ACCESS_TOKEN_LIFETIME_SECS: u32 = 3600;

/// The refresh token lifetimes a client may have, in seconds: 5 minutes to 365 days. A
/// client's refresh token lifetime is also never shorter than its access token lifetime.
pub const REFRESH_TOKEN_LIFETIME_SECS: RangeInclusive<u32> = 300..=31_536_000;

/// The refresh token lifetime of a client that does not choose one: 14 days.
pub const DEFAULT_REFRESH_TOKEN_LIFETIME_SECS: u32 = 1_209_600;

/// The longest client id accepted, in bytes.
pub const CLIENT_ID_MAX_LEN: usize = 128;

/// The longest role or division name accepted, in bytes.
const ROLE_NAME_MAX_LEN: usize = 128;

/// Why a client id, role or division name was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentifierError {
    /// The identifier is empty.
    #[error("must not be empty")]
    Empty,
    /// The identifier is too long.
    #[error("must be at most {max} bytes")]
    TooLong {
        /// The limit.
        max: usize,
    },
    /// The identifier holds a character outside its alphabet.
    #[error("invalid character at byte {position}")]
    InvalidCharacter {
        /// Byte offset of the offending character.
        position: usize,
    },
}

/// Checks `value` is 1 to `max` bytes, each accepted by `allowed`.
fn validate_identifier(
    value: &str,
    max: usize,
    allowed: impl Fn(u8) -> bool,
) -> Result<(), IdentifierError> {
    if value.is_empty() {
        return Err(IdentifierError::Empty);
    }
    if let Some(position) = value.bytes().position(|b| !allowed(b)) {
        return Err(IdentifierError::InvalidCharacter { position });
    }
    if value.len() > max {
        return Err(IdentifierError::TooLong { max });
    }
    Ok(())
}

/// A role or division name: 1 to 128 bytes of the scope-token alphabet (RFC 6749 §3.3), so it
/// can travel in a space-delimited claim.
pub(crate) fn validate_role_name(value: &str) -> Result<(), IdentifierError> {
    validate_identifier(value, ROLE_NAME_MAX_LEN, is_scope_byte)
}

/// A client identifier (RFC 6749 §2.2): 1 to [`CLIENT_ID_MAX_LEN`] characters of
/// `[A-Za-z0-9._~-]`, the URL-safe unreserved set, so it needs no encoding anywhere.
///
/// Serializes as a plain string and is validated again when deserialized.
///
/// ```
/// use portcullis_registry::ClientId;
///
/// let id = ClientId::new("billing-dashboard")?;
/// assert_eq!(id.as_str(), "billing-dashboard");
/// assert!(ClientId::new("billing dashboard").is_err());
///
/// let generated = ClientId::generate()?;
/// assert_eq!(generated.as_str().len(), 22); // 128 bits, base64url without padding
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClientId(String);

impl ClientId {
    /// Validates `id` as a client id.
    ///
    /// # Errors
    ///
    /// An [`IdentifierError`] if `id` is empty, too long, or has a character outside
    /// `[A-Za-z0-9._~-]`.
    pub fn new(id: impl Into<String>) -> Result<Self, IdentifierError> {
        let id = id.into();
        validate_identifier(&id, CLIENT_ID_MAX_LEN, |b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'~' | b'-')
        })?;
        Ok(Self(id))
    }

    /// A fresh client id: 128 bits from the operating system's random number generator,
    /// base64url-encoded without padding (22 characters).
    ///
    /// # Errors
    ///
    /// [`RegistryError::Entropy`] if the system random number generator fails.
    pub fn generate() -> Result<Self, RegistryError> {
        Self::try_generate().map_err(RegistryError::Entropy)
    }

    /// [`ClientId::generate`] with the bare system error.
    pub(crate) fn try_generate() -> Result<Self, rand::rngs::SysError> {
        let mut bytes = [0_u8; 16];
        rand::rngs::SysRng.try_fill_bytes(&mut bytes)?;
        Ok(Self(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// The id as a string.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for ClientId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for ClientId {
    type Err = IdentifierError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl TryFrom<String> for ClientId {
    type Error = IdentifierError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<ClientId> for String {
    fn from(id: ClientId) -> Self {
        id.0
    }
}

/// A string that names none of an enum's wire values.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown {expected}")]
pub struct UnknownNameError {
    /// What was expected, such as `"grant type"`.
    pub expected: &'static str,
}

/// Generates `as_str`, `Display` and `FromStr` for a fieldless enum from one table of wire
/// names, so the three cannot drift apart (serde's names are checked against them in tests).
macro_rules! wire_names {
    ($ty:ident, $what:literal, { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// The wire name.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)+
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $ty {
            type Err = UnknownNameError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($name => Ok(Self::$variant),)+
                    _ => Err(UnknownNameError { expected: $what }),
                }
            }
        }
    };
}

/// What sort of application a client is; decides its defaults and what it may do.
///
/// Wire names follow the `application_type` field of the admin API (DESIGN §4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ClientKind {
    /// A server-side web application: confidential (RFC 6749 §2.1).
    #[serde(rename = "web")]
    Web,
    /// A browser single-page application: public.
    #[serde(rename = "spa")]
    Spa,
    /// A native or mobile application: public (RFC 8252).
    #[serde(rename = "native")]
    Native,
    /// A service acting on its own behalf with the client credentials grant: confidential.
    #[serde(rename = "m2m")]
    Machine,
    /// A trusted first-party application using the password grant: confidential.
    #[serde(rename = "resource_owner")]
    ResourceOwner,
}

wire_names!(ClientKind, "application type", {
    Web => "web",
    Spa => "spa",
    Native => "native",
    Machine => "m2m",
    ResourceOwner => "resource_owner",
});

impl ClientKind {
    /// Whether clients of this kind are public (RFC 6749 §2.1): they cannot keep a secret.
    /// True for [`ClientKind::Spa`] and [`ClientKind::Native`].
    #[must_use]
    pub fn is_public(self) -> bool {
        matches!(self, Self::Spa | Self::Native)
    }

    /// The grant types a client of this kind gets when it does not choose (DESIGN §4.1):
    /// web → authorization code + refresh token; spa, native → authorization code;
    /// m2m → client credentials; resource owner → password + refresh token.
    #[must_use]
    pub fn default_grant_types(self) -> BTreeSet<GrantType> {
        match self {
            Self::Web => [GrantType::AuthorizationCode, GrantType::RefreshToken].into(),
            Self::Spa | Self::Native => [GrantType::AuthorizationCode].into(),
            Self::Machine => [GrantType::ClientCredentials].into(),
            Self::ResourceOwner => [GrantType::Password, GrantType::RefreshToken].into(),
        }
    }

    /// Whether a client of this kind may have `grant` at all.
    ///
    /// Public clients may not use client credentials or password (RFC 6749 §4.3.2, §4.4.2:
    /// both need client authentication). Implicit is only for web, spa and native clients.
    /// The device grant (RFC 8628) suits input-constrained devices, public (native) or
    /// confidential (web). Machine clients have no user and no redirect URIs, so they may use
    /// client credentials and the grants that bring their own subject (token exchange, JWT
    /// and SAML 2.0 bearer assertions), and nothing that needs a redirect or a password.
    #[must_use]
    pub fn permits_grant(self, grant: GrantType) -> bool {
        use GrantType as G;
        match self {
            Self::Web => true,
            Self::Native => matches!(
                grant,
                G::AuthorizationCode | G::Implicit | G::RefreshToken | G::DeviceCode
            ),
            Self::Spa => {
                matches!(grant, G::AuthorizationCode | G::Implicit | G::RefreshToken)
            }
            Self::Machine => matches!(
                grant,
                G::ClientCredentials
                    | G::RefreshToken
                    | G::TokenExchange
                    | G::JwtBearer
                    | G::Saml2Bearer
            ),
            Self::ResourceOwner => matches!(
                grant,
                G::AuthorizationCode | G::RefreshToken | G::ClientCredentials | G::Password
            ),
        }
    }

    /// The token endpoint authentication method a client of this kind gets when it does not
    /// choose: `none` for public kinds, `client_secret_basic` otherwise (RFC 7591 §2).
    #[must_use]
    pub fn default_auth_method(self) -> TokenEndpointAuthMethod {
        if self.is_public() {
            TokenEndpointAuthMethod::None
        } else {
            TokenEndpointAuthMethod::ClientSecretBasic
        }
    }
}

/// An OAuth 2.0 grant type, by its `grant_type` wire name (RFC 6749 §4, RFC 7591 §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum GrantType {
    /// Authorization code (RFC 6749 §4.1), with PKCE.
    AuthorizationCode,
    /// Implicit (RFC 6749 §4.2): never a default, only when a client asks for it.
    Implicit,
    /// Refresh token (RFC 6749 §6).
    RefreshToken,
    /// Client credentials (RFC 6749 §4.4).
    ClientCredentials,
    /// Resource owner password credentials (RFC 6749 §4.3): never a default except for
    /// [`ClientKind::ResourceOwner`].
    Password,
    /// Device authorization (RFC 8628 §3.4): `urn:ietf:params:oauth:grant-type:device_code`.
    #[serde(rename = "urn:ietf:params:oauth:grant-type:device_code")]
    DeviceCode,
    /// Token exchange (RFC 8693 §2.1): `urn:ietf:params:oauth:grant-type:token-exchange`.
    #[serde(rename = "urn:ietf:params:oauth:grant-type:token-exchange")]
    TokenExchange,
    /// JWT bearer assertion (RFC 7523 §2.1): `urn:ietf:params:oauth:grant-type:jwt-bearer`.
    #[serde(rename = "urn:ietf:params:oauth:grant-type:jwt-bearer")]
    JwtBearer,
    /// SAML 2.0 bearer assertion (RFC 7522 §2.1):
    /// `urn:ietf:params:oauth:grant-type:saml2-bearer`.
    #[serde(rename = "urn:ietf:params:oauth:grant-type:saml2-bearer")]
    Saml2Bearer,
}

wire_names!(GrantType, "grant type", {
    AuthorizationCode => "authorization_code",
    Implicit => "implicit",
    RefreshToken => "refresh_token",
    ClientCredentials => "client_credentials",
    Password => "password",
    DeviceCode => "urn:ietf:params:oauth:grant-type:device_code",
    TokenExchange => "urn:ietf:params:oauth:grant-type:token-exchange",
    JwtBearer => "urn:ietf:params:oauth:grant-type:jwt-bearer",
    Saml2Bearer => "urn:ietf:params:oauth:grant-type:saml2-bearer",
});

impl GrantType {
    /// Every grant type, in the order consoles list them.
    pub const ALL: [GrantType; 9] = [
        GrantType::AuthorizationCode,
        GrantType::RefreshToken,
        GrantType::ClientCredentials,
        GrantType::Password,
        GrantType::Implicit,
        GrantType::DeviceCode,
        GrantType::TokenExchange,
        GrantType::JwtBearer,
        GrantType::Saml2Bearer,
    ];
}

impl GrantType {
    /// Whether the grant sends the user agent back to a redirect URI (authorization code and
    /// implicit), so a client using it needs at least one.
    #[must_use]
    pub fn uses_redirect_uri(self) -> bool {
        matches!(self, Self::AuthorizationCode | Self::Implicit)
    }
}

/// How a client authenticates at the token endpoint, by its `token_endpoint_auth_method`
/// wire name (RFC 7591 §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenEndpointAuthMethod {
    /// HTTP Basic with the client id and secret (RFC 6749 §2.3.1).
    ClientSecretBasic,
    /// Client id and secret in the request body (RFC 6749 §2.3.1).
    ClientSecretPost,
    /// No client authentication: a public client.
    None,
    /// A JWT signed with one of the client's registered private keys (RFC 7523 §2.2,
    /// OpenID Connect Core §9). The client has no secret; its public keys are registered as
    /// `jwks` or `jwks_uri`.
    PrivateKeyJwt,
    /// A JWT MACed with the client secret (OpenID Connect Core §9). The provider keeps a
    /// sealed copy of the secret for these clients only (`Client::sealed_secret`).
    ClientSecretJwt,
}

wire_names!(TokenEndpointAuthMethod, "token endpoint auth method", {
    ClientSecretBasic => "client_secret_basic",
    ClientSecretPost => "client_secret_post",
    None => "none",
    PrivateKeyJwt => "private_key_jwt",
    ClientSecretJwt => "client_secret_jwt",
});

impl TokenEndpointAuthMethod {
    /// Whether the method authenticates with a client secret (so the client gets one).
    ///
    /// ```
    /// use portcullis_registry::TokenEndpointAuthMethod as M;
    /// assert!(M::ClientSecretBasic.uses_secret());
    /// assert!(M::ClientSecretJwt.uses_secret());
    /// assert!(!M::PrivateKeyJwt.uses_secret());
    /// assert!(!M::None.uses_secret());
    /// ```
    #[must_use]
    pub fn uses_secret(self) -> bool {
        matches!(
            self,
            Self::ClientSecretBasic | Self::ClientSecretPost | Self::ClientSecretJwt
        )
    }

    /// Whether the method authenticates the client at all: every method but `none`. Only
    /// confidential clients (RFC 6749 §2.1) use one.
    ///
    /// ```
    /// use portcullis_registry::TokenEndpointAuthMethod as M;
    /// assert!(M::PrivateKeyJwt.is_confidential());
    /// assert!(!M::None.is_confidential());
    /// ```
    #[must_use]
    pub fn is_confidential(self) -> bool {
        !matches!(self, Self::None)
    }
}

/// How the provider tells the client who the user is (OpenID Connect Core §8).
///
/// ```
/// use portcullis_registry::SubjectType;
/// assert_eq!(SubjectType::default(), SubjectType::Public);
/// assert_eq!(serde_json::to_string(&SubjectType::Pairwise).expect("json"), r#""pairwise""#);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectType {
    /// Every client sees the same `sub` for a user.
    #[default]
    Public,
    /// Each sector (the host of the client's redirect URIs, or of its
    /// `sector_identifier_uri`) sees its own `sub`, so clients of different sectors cannot
    /// correlate users (OpenID Connect Core §8.1).
    Pairwise,
}

/// A role the client holds, within a division of the provider's organisation.
///
/// ```
/// use portcullis_registry::RoleAssignment;
///
/// let home = RoleAssignment::new("auditor", None);
/// let emea = RoleAssignment::new("auditor", Some("emea"));
/// assert_ne!(home, emea);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RoleAssignment {
    /// The role's name.
    pub role: String,
    /// The division the role applies in; `None` means the provider's home division.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub division: Option<String>,
}

impl RoleAssignment {
    /// `role` in `division` (`None` for the home division).
    ///
    /// `division` is an `Option<&str>` so that a bare `None` needs no type annotation.
    #[must_use]
    pub fn new(role: impl Into<String>, division: Option<&str>) -> Self {
        Self {
            role: role.into(),
            division: division.map(str::to_owned),
        }
    }
}

/// The form of the access tokens a client receives.
///
/// ```
/// use portcullis_registry::AccessTokenFormat;
/// assert_eq!(AccessTokenFormat::default(), AccessTokenFormat::Opaque);
/// assert_eq!(serde_json::to_string(&AccessTokenFormat::Jwt).expect("json"), r#""jwt""#);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessTokenFormat {
    /// A random handle the provider looks up (introspection or store lookup); the default.
    #[default]
    Opaque,
    /// A signed JWT (RFC 9068) that resource servers can verify through JWKS.
    Jwt,
}

/// A registered client.
///
/// Build one with [`NewClient`](crate::NewClient), which checks every rule; the fields are
/// public so stores and admin tools can read them freely, but a client edited field by field
/// is not re-validated: to change a client, reopen it with
/// [`NewClient::from_client`](crate::NewClient::from_client).
///
/// Serde field names are the wire names of the admin API (DESIGN §4.1): `client_id`,
/// `application_type`, `scopes`, `token_endpoint_auth_method`. The record includes
/// `secret_hash` for stores; an API response must leave it out.
///
/// ```
/// use portcullis_registry::{ClientKind, GrantType, NewClient, ScopeCatalog};
///
/// let catalog = ScopeCatalog::with_oidc_scopes();
/// let client = NewClient::new("Nightly export", ClientKind::Machine)
///     .build(&catalog)?
///     .client;
/// assert!(!client.is_public());
/// assert!(client.allows_grant(GrantType::ClientCredentials));
/// assert!(!client.allows_grant(GrantType::AuthorizationCode));
/// assert!(client.redirect_uris.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Client {
    /// The client identifier.
    #[serde(rename = "client_id")]
    pub id: ClientId,
    /// A display name, shown on the consent page.
    pub name: String,
    /// A longer description for administrators.
    #[serde(default)]
    pub description: String,
    /// What sort of application the client is.
    #[serde(rename = "application_type")]
    pub kind: ClientKind,
    /// The grant types the client may use.
    pub grant_types: BTreeSet<GrantType>,
    /// The registered redirect URIs.
    #[serde(default)]
    pub redirect_uris: Vec<RedirectUri>,
    /// The scopes the client may request.
    #[serde(rename = "scopes")]
    pub allowed_scopes: AllowedScopes,
    /// How the client authenticates at the token endpoint.
    #[serde(rename = "token_endpoint_auth_method")]
    pub auth_method: TokenEndpointAuthMethod,
    /// Lifetime of the access tokens issued to the client, in seconds.
    pub access_token_lifetime_secs: u32,
    /// Lifetime of the refresh tokens issued to the client, in seconds.
    pub refresh_token_lifetime_secs: u32,
    /// Whether the client has been disabled. A revoked client gets no tokens, and the tokens
    /// it holds are invalid.
    #[serde(default)]
    pub revoked: bool,
    /// The roles the client holds (machine clients only).
    #[serde(default)]
    pub roles: Vec<RoleAssignment>,
    /// Whether the client may introspect any token, not only its own (a resource server).
    #[serde(default)]
    pub introspect_any: bool,
    /// Where the client may ask to be sent after logout (OpenID Connect RP-Initiated Logout
    /// 1.0 §3), matched exactly like redirect URIs.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<RedirectUri>,
    /// The form of the access tokens issued to the client.
    #[serde(default)]
    pub access_token_format: AccessTokenFormat,
    /// SHA-256 of the client secret; `None` for public clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_hash: Option<ClientSecretHash>,
    /// The client's public keys as a JWK Set (`{"keys": [...]}`), for `private_key_jwt`
    /// (RFC 7591 §2). At most one of `jwks` and `jwks_uri` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<serde_json::Value>,
    /// Where the client publishes its JWK Set (an `https` URL), for `private_key_jwt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// Public or pairwise subject identifiers (OpenID Connect Core §8).
    #[serde(default)]
    pub subject_type: SubjectType,
    /// The `https` URL whose host names the client's sector for pairwise subjects
    /// (OpenID Connect Core §8.1); without it, the host of the redirect URIs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sector_identifier_uri: Option<String>,
    /// Whether the client must use pushed authorization requests (RFC 9126 §6).
    #[serde(default)]
    pub require_pushed_authorization_requests: bool,
    /// Whether the client's access tokens must be DPoP-bound (RFC 9449 §5.2).
    #[serde(default)]
    pub dpop_bound_access_tokens: bool,
    /// For `client_secret_jwt` clients only: the secret sealed with the provider's sealing
    /// key, because a MAC cannot be checked against a hash. Never sent in an API response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_secret: Option<String>,
}

/// The host of `uri`, if it is a URL with one: what names a pairwise sector.
pub(crate) fn host_of(uri: &str) -> Option<String> {
    url::Url::parse(uri)
        .ok()
        .and_then(|url| url.host_str().map(str::to_owned))
}

impl Client {
    /// The registered post-logout redirect URI equal to `requested`, if any (exact match).
    #[must_use]
    pub fn match_post_logout_redirect_uri(&self, requested: &str) -> Option<&RedirectUri> {
        self.post_logout_redirect_uris
            .iter()
            .find(|uri| uri.matches(requested))
    }

    /// Whether the client is public (RFC 6749 §2.1): its kind cannot keep a secret.
    #[must_use]
    pub fn is_public(&self) -> bool {
        self.kind.is_public()
    }

    /// Whether the client may use `grant`.
    #[must_use]
    pub fn allows_grant(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    /// The registered redirect URI that `requested` matches, if any
    /// (see [`RedirectUri::matches`]).
    #[must_use]
    pub fn match_redirect_uri(&self, requested: &str) -> Option<&RedirectUri> {
        self.redirect_uris.iter().find(|uri| uri.matches(requested))
    }

    /// The redirect URI to use when a request names none: the only registered one, if exactly
    /// one is registered (RFC 6749 §3.1.2.3) and it matches exactly. A loopback URI with any
    /// port needs the port from the request, so it is never used implicitly.
    #[must_use]
    pub fn default_redirect_uri(&self) -> Option<&RedirectUri> {
        match self.redirect_uris.as_slice() {
            [only] if only.rule() == crate::redirect::MatchRule::Exact => Some(only),
            _ => None,
        }
    }

    /// Whether `presented` is the client's secret, compared in constant time. False when the
    /// client has no secret.
    ///
    /// This checks the secret only: whether the client is revoked, and whether its
    /// authentication method allows a secret, is the caller's business.
    #[must_use]
    pub fn verify_secret(&self, presented: &str) -> bool {
        self.secret_hash
            .as_ref()
            .is_some_and(|hash| hash.verify(presented))
    }

    /// Replaces the client's secret with a fresh one and returns it; the old secret stops
    /// working. The new secret is shown this once: only its hash is kept.
    ///
    /// # Errors
    ///
    /// [`RegistryError::PublicClientHasNoSecret`] for a public client or one whose auth
    /// method is `none`; [`RegistryError::Entropy`] if the system random number generator
    /// fails. On error the client is unchanged.
    pub fn rotate_secret(&mut self) -> Result<ClientSecret, RegistryError> {
        if self.is_public() || !self.auth_method.uses_secret() {
            return Err(RegistryError::PublicClientHasNoSecret);
        }
        let secret = ClientSecret::generate()?;
        self.secret_hash = Some(secret.hash());
        // A sealed copy of the old secret must not outlive it; the caller seals the new one.
        self.sealed_secret = None;
        Ok(secret)
    }

    /// The client's sector for pairwise subject identifiers (OpenID Connect Core §8.1): the
    /// host of `sector_identifier_uri` when registered, otherwise the host shared by its
    /// redirect URIs. `None` when neither gives one host.
    ///
    /// ```
    /// use portcullis_registry::{ClientKind, NewClient, ScopeCatalog, SubjectType};
    ///
    /// let client = NewClient::new("Reports", ClientKind::Web)
    ///     .redirect_uri("https://reports.example/callback")
    ///     .subject_type(SubjectType::Pairwise)
    ///     .build(&ScopeCatalog::with_oidc_scopes())?
    ///     .client;
    /// assert_eq!(client.sector_identifier().as_deref(), Some("reports.example"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn sector_identifier(&self) -> Option<String> {
        if let Some(uri) = &self.sector_identifier_uri {
            return host_of(uri);
        }
        let mut hosts = self.redirect_uris.iter().map(|uri| host_of(uri.as_str()));
        let first = hosts.next()??;
        hosts
            .all(|host| host.as_deref() == Some(first.as_str()))
            .then_some(first)
    }
}
