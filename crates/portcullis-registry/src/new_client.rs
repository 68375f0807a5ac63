//! Client registration: the [`NewClient`] builder, which applies the defaults of DESIGN §4.1
//! and checks every rule before a [`Client`] exists (RFC 6749 §2, RFC 7591 §2, RFC 8252).

use std::collections::{BTreeSet, HashSet};

use crate::client::{
    ACCESS_TOKEN_LIFETIME_SECS, AccessTokenFormat, Client, ClientId, ClientKind,
    DEFAULT_ACCESS_TOKEN_LIFETIME_SECS, DEFAULT_REFRESH_TOKEN_LIFETIME_SECS, GrantType,
    REFRESH_TOKEN_LIFETIME_SECS, RoleAssignment, SubjectType, TokenEndpointAuthMethod,
    validate_role_name,
};
use crate::redirect::RedirectUri;
use crate::scope::{AllowedScopes, Scope, ScopeCatalog, ScopeError, ScopeSet};
use crate::secret::{ClientSecret, ClientSecretHash};
use crate::validation::{Field, FieldError, FieldErrorReason, ValidationErrors};

#[cfg(test)]
mod tests;

/// The longest client name accepted, in characters (after trimming).
pub const CLIENT_NAME_MAX_CHARS: usize = 100;

/// The longest client description accepted, in characters (after trimming).
pub const CLIENT_DESCRIPTION_MAX_CHARS: usize = 1000;

/// The scopes a [`NewClient`] asks for, before validation.
#[derive(Clone, Debug, PartialEq, Eq)]
enum RequestedScopes {
    All,
    List(Vec<String>),
}

/// A client that was just built, with its secret in the clear if it has a new one.
#[derive(Debug)]
pub struct IssuedClient {
    /// The validated client, ready to store.
    pub client: Client,
    /// The new secret of a confidential client, to show its owner this once; `None` for
    /// public clients and for edited clients that keep their secret.
    pub secret: Option<ClientSecret>,
}

/// A client to register, or an existing one being edited; [`NewClient::build`] turns it into
/// a [`Client`] after checking every rule.
///
/// Defaults, by [`ClientKind`] (DESIGN §4.1): grant types from
/// [`ClientKind::default_grant_types`]; auth method `none` for public kinds and
/// `client_secret_basic` otherwise; lifetimes [`DEFAULT_ACCESS_TOKEN_LIFETIME_SECS`] and
/// [`DEFAULT_REFRESH_TOKEN_LIFETIME_SECS`]; no scopes; no redirect URIs; no roles; a
/// generated client id.
///
/// ```
/// use portcullis_registry::{ClientKind, GrantType, NewClient, ScopeCatalog, TokenEndpointAuthMethod};
///
/// let catalog = ScopeCatalog::with_oidc_scopes();
/// let issued = NewClient::new("Field app", ClientKind::Native)
///     .client_id("field-app")
///     .redirect_uri("http://127.0.0.1/callback")
///     .redirect_uri("com.example.field:/callback")
///     .scopes(["openid", "offline_access"])
///     .grant_types([GrantType::AuthorizationCode, GrantType::RefreshToken])
///     .build(&catalog)?;
///
/// // Native clients are public: no secret, no client authentication.
/// assert!(issued.secret.is_none());
/// assert_eq!(issued.client.auth_method, TokenEndpointAuthMethod::None);
/// assert_eq!(issued.client.id.as_str(), "field-app");
///
/// // Editing goes through the same rules.
/// let errors = NewClient::from_client(&issued.client)
///     .redirect_uri("https://*.example/cb")
///     .build(&catalog)
///     .unwrap_err();
/// assert_eq!(errors.errors()[0].field.to_string(), "redirect_uris[2]");
/// # Ok::<(), portcullis_registry::ValidationErrors>(())
/// ```
#[derive(Clone, Debug)]
#[must_use = "a NewClient does nothing until `build` is called"]
pub struct NewClient {
    client_id: Option<String>,
    name: String,
    description: String,
    kind: ClientKind,
    grant_types: Option<Vec<GrantType>>,
    redirect_uris: Vec<String>,
    post_logout_redirect_uris: Vec<String>,
    access_token_format: AccessTokenFormat,
    scopes: RequestedScopes,
    auth_method: Option<TokenEndpointAuthMethod>,
    access_token_lifetime_secs: u32,
    refresh_token_lifetime_secs: u32,
    roles: Vec<RoleAssignment>,
    introspect_any: bool,
    revoked: bool,
    secret_hash: Option<ClientSecretHash>,
    jwks: Option<serde_json::Value>,
    jwks_uri: Option<String>,
    subject_type: SubjectType,
    sector_identifier_uri: Option<String>,
    require_pushed_authorization_requests: bool,
    dpop_bound_access_tokens: bool,
    sealed_secret: Option<String>,
}

impl NewClient {
    /// A new client called `name`, of `kind`, with the defaults for that kind.
    pub fn new(name: impl Into<String>, kind: ClientKind) -> Self {
        Self {
            client_id: None,
            name: name.into(),
            description: String::new(),
            kind,
            grant_types: None,
            redirect_uris: Vec::new(),
            post_logout_redirect_uris: Vec::new(),
            access_token_format: AccessTokenFormat::Opaque,
            scopes: RequestedScopes::List(Vec::new()),
            auth_method: None,
            access_token_lifetime_secs: DEFAULT_ACCESS_TOKEN_LIFETIME_SECS,
            refresh_token_lifetime_secs: DEFAULT_REFRESH_TOKEN_LIFETIME_SECS,
            roles: Vec::new(),
            introspect_any: false,
            revoked: false,
            secret_hash: None,
            jwks: None,
            jwks_uri: None,
            subject_type: SubjectType::Public,
            sector_identifier_uri: None,
            require_pushed_authorization_requests: false,
            dpop_bound_access_tokens: false,
            sealed_secret: None,
        }
    }

    /// Reopens `client` for editing: every field as it is, the id and secret hash kept. Its
    /// [`build`](Self::build) issues no new secret unless the client has none and now needs
    /// one (it became confidential).
    pub fn from_client(client: &Client) -> Self {
        Self {
            client_id: Some(client.id.as_str().to_owned()),
            name: client.name.clone(),
            description: client.description.clone(),
            kind: client.kind,
            grant_types: Some(client.grant_types.iter().copied().collect()),
            redirect_uris: client
                .redirect_uris
                .iter()
                .map(|uri| uri.as_str().to_owned())
                .collect(),
            post_logout_redirect_uris: client
                .post_logout_redirect_uris
                .iter()
                .map(|uri| uri.as_str().to_owned())
                .collect(),
            access_token_format: client.access_token_format,
            scopes: match &client.allowed_scopes {
                AllowedScopes::All => RequestedScopes::All,
                AllowedScopes::List(list) => {
                    RequestedScopes::List(list.iter().map(|s| s.as_str().to_owned()).collect())
                }
            },
            auth_method: Some(client.auth_method),
            access_token_lifetime_secs: client.access_token_lifetime_secs,
            refresh_token_lifetime_secs: client.refresh_token_lifetime_secs,
            roles: client.roles.clone(),
            introspect_any: client.introspect_any,
            revoked: client.revoked,
            secret_hash: client.secret_hash,
            jwks: client.jwks.clone(),
            jwks_uri: client.jwks_uri.clone(),
            subject_type: client.subject_type,
            sector_identifier_uri: client.sector_identifier_uri.clone(),
            require_pushed_authorization_requests: client.require_pushed_authorization_requests,
            dpop_bound_access_tokens: client.dpop_bound_access_tokens,
            sealed_secret: client.sealed_secret.clone(),
        }
    }

    /// Uses `id` as the client id instead of generating one. Validated by `build`.
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self
    }

    /// Renames the client. Trimmed, then required, at most [`CLIENT_NAME_MAX_CHARS`]
    /// characters, no control characters.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Sets the description. Trimmed, then at most [`CLIENT_DESCRIPTION_MAX_CHARS`]
    /// characters; no control characters except line breaks and tabs. Default: empty.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// Changes the client's kind. Grant types and auth method left at their defaults follow
    /// the new kind; ones set explicitly (or reopened by [`from_client`](Self::from_client))
    /// stay and must suit it.
    pub fn kind(mut self, kind: ClientKind) -> Self {
        self.kind = kind;
        self
    }

    /// Sets the grant types, replacing the kind's defaults. Duplicates collapse.
    pub fn grant_types(mut self, grant_types: impl IntoIterator<Item = GrantType>) -> Self {
        self.grant_types = Some(grant_types.into_iter().collect());
        self
    }

    /// Adds a redirect URI.
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uris.push(uri.into());
        self
    }

    /// Replaces the redirect URIs.
    pub fn redirect_uris(mut self, uris: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.redirect_uris = uris.into_iter().map(Into::into).collect();
        self
    }

    /// Adds a post-logout redirect URI (OpenID Connect RP-Initiated Logout 1.0 §3),
    /// checked with the same rules as redirect URIs.
    ///
    /// ```
    /// use portcullis_registry::{ClientKind, NewClient, ScopeCatalog};
    /// let client = NewClient::new("Web", ClientKind::Web)
    ///     .redirect_uri("https://app.example/cb")
    ///     .post_logout_redirect_uri("https://app.example/signed-out")
    ///     .build(&ScopeCatalog::with_oidc_scopes())
    ///     .expect("valid")
    ///     .client;
    /// assert!(client.match_post_logout_redirect_uri("https://app.example/signed-out").is_some());
    /// ```
    pub fn post_logout_redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.post_logout_redirect_uris.push(uri.into());
        self
    }

    /// Replaces the post-logout redirect URIs.
    pub fn post_logout_redirect_uris(
        mut self,
        uris: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        self.post_logout_redirect_uris = uris.into_iter().map(Into::into).collect();
        self
    }

    /// The form of the client's access tokens. Default [`AccessTokenFormat::Opaque`].
    pub fn access_token_format(mut self, format: AccessTokenFormat) -> Self {
        self.access_token_format = format;
        self
    }

    /// Allows exactly these scopes, replacing any earlier choice; each must be in the catalog.
    /// Duplicates collapse. Default: no scopes.
    pub fn scopes(mut self, scopes: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.scopes = RequestedScopes::List(scopes.into_iter().map(Into::into).collect());
        self
    }

    /// Allows every scope in the catalog, including scopes added later
    /// ([`AllowedScopes::All`]).
    pub fn all_scopes(mut self) -> Self {
        self.scopes = RequestedScopes::All;
        self
    }

    /// Sets the token endpoint authentication method. Default: `none` for public kinds,
    /// `client_secret_basic` otherwise.
    pub fn auth_method(mut self, method: TokenEndpointAuthMethod) -> Self {
        self.auth_method = Some(method);
        self
    }

    /// Sets the access token lifetime, within [`ACCESS_TOKEN_LIFETIME_SECS`].
    /// Default: [`DEFAULT_ACCESS_TOKEN_LIFETIME_SECS`].
    pub fn access_token_lifetime_secs(mut self, secs: u32) -> Self {
        self.access_token_lifetime_secs = secs;
        self
    }

    /// Sets the refresh token lifetime, within [`REFRESH_TOKEN_LIFETIME_SECS`] and not shorter
    /// than the access token lifetime. Default: [`DEFAULT_REFRESH_TOKEN_LIFETIME_SECS`].
    pub fn refresh_token_lifetime_secs(mut self, secs: u32) -> Self {
        self.refresh_token_lifetime_secs = secs;
        self
    }

    /// Adds a role assignment; `division` `None` means the home division. Machine clients
    /// only.
    pub fn role(mut self, role: impl Into<String>, division: Option<&str>) -> Self {
        self.roles.push(RoleAssignment::new(role, division));
        self
    }

    /// Replaces the role assignments.
    pub fn roles(mut self, roles: impl IntoIterator<Item = RoleAssignment>) -> Self {
        self.roles = roles.into_iter().collect();
        self
    }

    /// Lets the client introspect any token, not only its own (for resource servers).
    /// Default: false.
    pub fn introspect_any(mut self, introspect_any: bool) -> Self {
        self.introspect_any = introspect_any;
        self
    }

    /// Marks the client revoked (or not). Default: false.
    pub fn revoked(mut self, revoked: bool) -> Self {
        self.revoked = revoked;
        self
    }

    /// The client's public keys as a JWK Set (`{"keys": [...]}`), for `private_key_jwt`
    /// (RFC 7591 §2). Checked by `build`: public keys only, not together with `jwks_uri`.
    ///
    /// ```
    /// use portcullis_registry::{ClientKind, NewClient, ScopeCatalog, TokenEndpointAuthMethod};
    /// let jwks = serde_json::json!({"keys": [{"kty": "OKP", "crv": "Ed25519",
    ///     "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]});
    /// let issued = NewClient::new("Signer", ClientKind::Machine)
    ///     .auth_method(TokenEndpointAuthMethod::PrivateKeyJwt)
    ///     .jwks(jwks)
    ///     .build(&ScopeCatalog::with_oidc_scopes())?;
    /// assert!(issued.secret.is_none()); // keys, not a secret
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn jwks(mut self, jwks: serde_json::Value) -> Self {
        self.jwks = Some(jwks);
        self
    }

    /// Where the client publishes its JWK Set: an absolute `https` URL, checked by `build`.
    pub fn jwks_uri(mut self, uri: impl Into<String>) -> Self {
        self.jwks_uri = Some(uri.into());
        self
    }

    /// Public (the default) or pairwise subject identifiers (OpenID Connect Core §8).
    pub fn subject_type(mut self, subject_type: SubjectType) -> Self {
        self.subject_type = subject_type;
        self
    }

    /// The `https` URL whose host is the client's sector for pairwise subjects.
    pub fn sector_identifier_uri(mut self, uri: impl Into<String>) -> Self {
        self.sector_identifier_uri = Some(uri.into());
        self
    }

    /// Whether the client must use pushed authorization requests (RFC 9126 §6).
    pub fn require_pushed_authorization_requests(mut self, required: bool) -> Self {
        self.require_pushed_authorization_requests = required;
        self
    }

    /// Whether the client's access tokens must be DPoP-bound (RFC 9449 §5.2).
    pub fn dpop_bound_access_tokens(mut self, bound: bool) -> Self {
        self.dpop_bound_access_tokens = bound;
        self
    }

    /// The client secret sealed by the provider, for `client_secret_jwt` clients. Dropped
    /// by `build` for every other method.
    pub fn sealed_secret(mut self, sealed: impl Into<String>) -> Self {
        self.sealed_secret = Some(sealed.into());
        self
    }

    /// Checks every rule and builds the client; a confidential client without a secret gets
    /// a new one.
    ///
    /// # Errors
    ///
    /// [`ValidationErrors`] listing every problem at once, each naming its field. The only
    /// error not caused by the input is [`FieldErrorReason::EntropyUnavailable`], when the
    /// system random number generator fails.
    pub fn build(self, catalog: &ScopeCatalog) -> Result<IssuedClient, ValidationErrors> {
        let mut errors = Vec::new();
        let mut report = |field: Field, reason: FieldErrorReason| {
            errors.push(FieldError::new(field, reason));
        };
        let kind = self.kind;

        let client_id = match &self.client_id {
            Some(id) => match ClientId::new(id.as_str()) {
                Ok(id) => Some(id),
                Err(error) => {
                    report(Field::ClientId, FieldErrorReason::InvalidClientId(error));
                    None
                }
            },
            None => None,
        };

        let name = self.name.trim();
        check_text(name, CLIENT_NAME_MAX_CHARS, true, |c| c.is_control())
            .err()
            .into_iter()
            .for_each(|reason| report(Field::Name, reason));

        let description = self.description.trim();
        check_text(description, CLIENT_DESCRIPTION_MAX_CHARS, false, |c| {
            c.is_control() && !matches!(c, '\n' | '\r' | '\t')
        })
        .err()
        .into_iter()
        .for_each(|reason| report(Field::Description, reason));

        // Grant types (DESIGN §4.1 defaults; RFC 6749 §4.3.2, §4.4.2 need a confidential
        // client; RFC 6749 §6: a refresh token is only issued with a code or password grant).
        let grant_types: BTreeSet<GrantType> = match &self.grant_types {
            Some(explicit) => explicit.iter().copied().collect(),
            None => kind.default_grant_types(),
        };
        if grant_types.is_empty() {
            report(Field::GrantTypes, FieldErrorReason::Required);
        }
        for &grant in &grant_types {
            if !kind.permits_grant(grant) {
                report(
                    Field::GrantTypes,
                    FieldErrorReason::GrantNotAllowed { grant, kind },
                );
            }
        }
        if grant_types.contains(&GrantType::RefreshToken)
            && !grant_types.contains(&GrantType::AuthorizationCode)
            && !grant_types.contains(&GrantType::Password)
            && !grant_types.contains(&GrantType::DeviceCode)
        {
            report(
                Field::GrantTypes,
                FieldErrorReason::RefreshWithoutIssuingGrant,
            );
        }

        // Redirect URIs (RFC 6749 §3.1.2; RFC 8252 §7; RFC 9700 §2.1).
        let uses_redirect = grant_types.iter().any(|grant| grant.uses_redirect_uri());
        let mut redirect_uris = Vec::new();
        if uses_redirect {
            if self.redirect_uris.is_empty() {
                report(Field::RedirectUris, FieldErrorReason::RedirectUriRequired);
            }
            let mut seen = HashSet::new();
            for (index, raw) in self.redirect_uris.iter().enumerate() {
                match RedirectUri::parse(raw, kind) {
                    Ok(uri) => {
                        if seen.insert(raw.as_str()) {
                            redirect_uris.push(uri);
                        } else {
                            report(
                                Field::RedirectUri(index),
                                FieldErrorReason::DuplicateRedirectUri,
                            );
                        }
                    }
                    Err(error) => report(
                        Field::RedirectUri(index),
                        FieldErrorReason::InvalidRedirectUri(error),
                    ),
                }
            }
        } else if !self.redirect_uris.is_empty() {
            report(
                Field::RedirectUris,
                FieldErrorReason::RedirectUrisNotAllowed,
            );
        }

        // Post-logout redirect URIs: the same rules as redirect URIs, for any client that
        // signs users in.
        let mut post_logout_redirect_uris = Vec::new();
        let mut seen_logout = HashSet::new();
        for (index, raw) in self.post_logout_redirect_uris.iter().enumerate() {
            match RedirectUri::parse(raw, kind) {
                Ok(uri) if seen_logout.insert(raw.as_str()) => post_logout_redirect_uris.push(uri),
                Ok(_) => report(
                    Field::PostLogoutRedirectUri(index),
                    FieldErrorReason::DuplicateRedirectUri,
                ),
                Err(error) => report(
                    Field::PostLogoutRedirectUri(index),
                    FieldErrorReason::InvalidRedirectUri(error),
                ),
            }
        }

        // Scopes: each must be well-formed and in the catalog; never silently dropped.
        let allowed_scopes = match &self.scopes {
            RequestedScopes::All => AllowedScopes::All,
            RequestedScopes::List(list) => {
                let mut set = ScopeSet::new();
                for raw in list {
                    match Scope::new(raw.as_str()) {
                        Ok(scope) if catalog.contains(scope.as_str()) => {
                            set.insert(scope);
                        }
                        Ok(scope) => report(
                            Field::Scopes,
                            FieldErrorReason::InvalidScope(ScopeError::Unknown { scope }),
                        ),
                        Err(error) => report(Field::Scopes, FieldErrorReason::InvalidScope(error)),
                    }
                }
                AllowedScopes::List(set)
            }
        };

        // Token endpoint authentication (RFC 6749 §2.1, §2.3; RFC 7591 §2).
        let auth_method = self
            .auth_method
            .unwrap_or_else(|| kind.default_auth_method());
        if auth_method.is_confidential() == kind.is_public() {
            report(
                Field::TokenEndpointAuthMethod,
                FieldErrorReason::AuthMethodNotAllowed {
                    method: auth_method,
                    kind,
                },
            );
        }

        // Client keys (RFC 7591 §2: jwks and jwks_uri "MUST NOT both be present").
        if let Some(jwks) = &self.jwks {
            if !is_public_jwk_set(jwks) {
                report(Field::Jwks, FieldErrorReason::InvalidJwks);
            }
            if self.jwks_uri.is_some() {
                report(Field::Jwks, FieldErrorReason::KeysTwice);
            }
        }
        if let Some(uri) = &self.jwks_uri
            && !is_https_url(uri)
        {
            report(Field::JwksUri, FieldErrorReason::NotHttpsUrl);
        }
        if auth_method == TokenEndpointAuthMethod::PrivateKeyJwt
            && self.jwks.is_none()
            && self.jwks_uri.is_none()
        {
            report(Field::Jwks, FieldErrorReason::KeysRequired);
        }

        // Pairwise subjects need one sector (OpenID Connect Core §8.1).
        if let Some(uri) = &self.sector_identifier_uri
            && !is_https_url(uri)
        {
            report(Field::SectorIdentifierUri, FieldErrorReason::NotHttpsUrl);
        } else if self.subject_type == SubjectType::Pairwise && self.sector_identifier_uri.is_none()
        {
            let hosts: HashSet<Option<String>> = redirect_uris
                .iter()
                .map(|uri: &RedirectUri| crate::client::host_of(uri.as_str()))
                .collect();
            if hosts.len() > 1 {
                report(Field::SectorIdentifierUri, FieldErrorReason::SectorRequired);
            }
        }

        // Lifetimes.
        let access = self.access_token_lifetime_secs;
        let refresh = self.refresh_token_lifetime_secs;
        let access_ok = ACCESS_TOKEN_LIFETIME_SECS.contains(&access);
        if !access_ok {
            report(
                Field::AccessTokenLifetimeSecs,
                out_of_range(&ACCESS_TOKEN_LIFETIME_SECS),
            );
        }
        if !REFRESH_TOKEN_LIFETIME_SECS.contains(&refresh) {
            report(
                Field::RefreshTokenLifetimeSecs,
                out_of_range(&REFRESH_TOKEN_LIFETIME_SECS),
            );
        } else if access_ok && refresh < access {
            report(
                Field::RefreshTokenLifetimeSecs,
                FieldErrorReason::RefreshShorterThanAccess { access },
            );
        }

        // Roles: machine clients only; names in the scope-token alphabet; no duplicates.
        if !self.roles.is_empty() && kind != ClientKind::Machine {
            report(Field::Roles, FieldErrorReason::RolesNotAllowed { kind });
        } else {
            let mut seen = HashSet::new();
            for (index, assignment) in self.roles.iter().enumerate() {
                let mut valid = true;
                if let Err(error) = validate_role_name(&assignment.role) {
                    report(Field::Role(index), FieldErrorReason::InvalidRole(error));
                    valid = false;
                }
                if let Some(Err(error)) = assignment.division.as_deref().map(validate_role_name) {
                    report(Field::Role(index), FieldErrorReason::InvalidDivision(error));
                    valid = false;
                }
                if valid && !seen.insert((&assignment.role, &assignment.division)) {
                    report(Field::Role(index), FieldErrorReason::DuplicateRole);
                }
            }
        }

        if let Some(errors) = ValidationErrors::from_errors(errors) {
            return Err(errors);
        }

        // Valid: only now spend entropy on an id and a secret.
        let id = match client_id {
            Some(id) => id,
            None => {
                ClientId::try_generate().map_err(|error| entropy_error(Field::ClientId, error))?
            }
        };
        let (secret_hash, secret) = if kind.is_public() || !auth_method.uses_secret() {
            (None, None)
        } else if let Some(hash) = self.secret_hash {
            (Some(hash), None)
        } else {
            let secret = ClientSecret::try_generate()
                .map_err(|error| entropy_error(Field::ClientSecret, error))?;
            (Some(secret.hash()), Some(secret))
        };

        let client = Client {
            id,
            name: name.to_owned(),
            description: description.to_owned(),
            kind,
            grant_types,
            redirect_uris,
            allowed_scopes,
            auth_method,
            access_token_lifetime_secs: access,
            refresh_token_lifetime_secs: refresh,
            revoked: self.revoked,
            roles: self.roles,
            introspect_any: self.introspect_any,
            post_logout_redirect_uris,
            access_token_format: self.access_token_format,
            secret_hash,
            jwks: self.jwks,
            jwks_uri: self.jwks_uri,
            subject_type: self.subject_type,
            sector_identifier_uri: self.sector_identifier_uri,
            require_pushed_authorization_requests: self.require_pushed_authorization_requests,
            dpop_bound_access_tokens: self.dpop_bound_access_tokens,
            sealed_secret: if auth_method == TokenEndpointAuthMethod::ClientSecretJwt {
                self.sealed_secret
            } else {
                None
            },
        };
        Ok(IssuedClient { client, secret })
    }
}

/// Checks trimmed text: present if `required`, at most `max` characters, no character for
/// which `forbidden` holds.
fn check_text(
    text: &str,
    max: usize,
    required: bool,
    forbidden: impl Fn(char) -> bool,
) -> Result<(), FieldErrorReason> {
    if required && text.is_empty() {
        return Err(FieldErrorReason::Required);
    }
    if text.chars().any(forbidden) {
        return Err(FieldErrorReason::ControlCharacter);
    }
    if text.chars().count() > max {
        return Err(FieldErrorReason::TooLong { max });
    }
    Ok(())
}

/// Whether `value` is a JWK Set of public keys: an object with a non-empty `keys` array of
/// objects, each with a `kty` and none of the private members of RFC 7518 §6.
fn is_public_jwk_set(value: &serde_json::Value) -> bool {
    const PRIVATE: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "k"];
    value
        .get("keys")
        .and_then(serde_json::Value::as_array)
        .is_some_and(|keys| {
            !keys.is_empty()
                && keys.iter().all(|key| {
                    key.get("kty").is_some_and(serde_json::Value::is_string)
                        && PRIVATE.iter().all(|member| key.get(member).is_none())
                })
        })
}

/// Whether `uri` is an absolute `https` URL with a host and no fragment.
fn is_https_url(uri: &str) -> bool {
    url::Url::parse(uri).is_ok_and(|url| {
        url.scheme() == "https" && url.host_str().is_some() && url.fragment().is_none()
    })
}

fn out_of_range(range: &std::ops::RangeInclusive<u32>) -> FieldErrorReason {
    FieldErrorReason::LifetimeOutOfRange {
        min: *range.start(),
        max: *range.end(),
    }
}

/// The one [`ValidationErrors`] that is not the input's fault.
fn entropy_error(field: Field, error: rand::rngs::SysError) -> ValidationErrors {
    ValidationErrors::single(FieldError::new(
        field,
        FieldErrorReason::EntropyUnavailable(error),
    ))
}
