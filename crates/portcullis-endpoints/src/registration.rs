//! Dynamic client registration (RFC 7591) and its management protocol (RFC 7592).
//!
//! The endpoint is [`Provider::client_registration`]; who may register is a
//! [`RegistrationPolicy`].

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;

use bytes::Bytes;
use http::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, HeaderValue, PRAGMA};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use portcullis_registry::{
    Client, ClientId, ClientKind, ClientSecret, Field, FieldErrorReason, GrantType, ScopeCatalog,
    TokenEndpointAuthMethod, ValidationErrors,
};
use portcullis_store::{FamilyId, StoreError, TokenRecord, TokenStatus};
use portcullis_tokens::{RawToken, TokenHash, TokenKind, mint};
use serde_json::{Map, Value, json};
use time::{Duration, OffsetDateTime};

use crate::{OAuthError, Provider, response};

mod metadata;

use metadata::{Metadata, client_metadata};

#[cfg(test)]
mod tests;

/// How long a registration access token lasts: 10 years. RFC 7592 gives it no expiry; the
/// store needs one, and the token dies with its client long before that in practice.
///
/// ```
/// assert_eq!(portcullis_endpoints::REGISTRATION_ACCESS_TOKEN_LIFETIME.whole_days(), 3650);
/// ```
pub const REGISTRATION_ACCESS_TOKEN_LIFETIME: Duration = Duration::days(3650);

/// Who may register clients, and which scopes they may register.
///
/// - [`RegistrationPolicy::open`]: anyone may register (RFC 7591 §3: "open registration").
///   By default such clients may only register the OpenID Connect scopes (`openid`,
///   `profile`, `email`, `address`, `phone`, `offline_access`): the application's own
///   scopes are for clients someone vouched for. Widen with
///   [`registrable_scopes`](Self::registrable_scopes) or [`any_scope`](Self::any_scope).
/// - [`RegistrationPolicy::initial_access_tokens`]: only callers presenting one of the
///   given initial access tokens as a bearer token (RFC 7591 §3: "protected by an initial
///   access token"). The tokens are kept only as SHA-256 hashes and compared in constant
///   time. Such clients may register any scope in the catalog unless
///   [`registrable_scopes`](Self::registrable_scopes) narrows it.
///
/// ```
/// use portcullis_endpoints::RegistrationPolicy;
///
/// let open = RegistrationPolicy::open();
/// assert!(open.is_open());
/// assert!(open.may_register("openid"));
/// assert!(!open.may_register("delete:users"));
///
/// let partners = RegistrationPolicy::initial_access_tokens(["s3cr3t-onboarding-token"])
///     .registrable_scopes(["openid", "view:users"]);
/// assert!(!partners.is_open());
/// assert!(partners.may_register("view:users"));
/// assert!(!format!("{partners:?}").contains("s3cr3t")); // never printed
/// ```
#[derive(Clone)]
pub struct RegistrationPolicy {
    access: Access,
    scopes: RegistrableScopes,
}

#[derive(Clone)]
enum Access {
    Open,
    InitialAccessTokens(Vec<TokenHash>),
}

#[derive(Clone, Debug)]
enum RegistrableScopes {
    /// The OpenID Connect scopes only.
    OpenIdConnect,
    /// Any scope in the catalog.
    Any,
    /// These scopes only.
    Only(BTreeSet<String>),
}

/// The scopes OpenID Connect defines (Core §5.4, §11), registrable under an open policy.
const OIDC_SCOPES: [&str; 6] = [
    "openid",
    "profile",
    "email",
    "address",
    "phone",
    "offline_access",
];

impl RegistrationPolicy {
    /// Open registration: anyone may register a client, with the OpenID Connect scopes.
    ///
    /// # Security
    ///
    /// Anyone includes attackers: an openly registered confidential client can get tokens
    /// with the client credentials grant, without any user. Keep application scopes off the
    /// registrable list, and do not let resource servers accept any valid token regardless
    /// of its scope.
    ///
    /// ```
    /// assert!(portcullis_endpoints::RegistrationPolicy::open().is_open());
    /// ```
    pub fn open() -> RegistrationPolicy {
        RegistrationPolicy {
            access: Access::Open,
            scopes: RegistrableScopes::OpenIdConnect,
        }
    }

    /// Registration protected by initial access tokens (RFC 7591 §3): a caller must send
    /// one of `tokens` as `Authorization: Bearer <token>`. Only their SHA-256 hashes are
    /// kept. With no tokens, nobody can register.
    ///
    /// ```
    /// use portcullis_endpoints::RegistrationPolicy;
    /// let policy = RegistrationPolicy::initial_access_tokens(["token-for-partner-a", "token-for-partner-b"]);
    /// assert!(!policy.is_open());
    /// ```
    pub fn initial_access_tokens<I, S>(tokens: I) -> RegistrationPolicy
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        RegistrationPolicy {
            access: Access::InitialAccessTokens(
                tokens
                    .into_iter()
                    .map(|token| TokenHash::of(token.as_ref()))
                    .collect(),
            ),
            scopes: RegistrableScopes::Any,
        }
    }

    /// Only these scopes may be registered (each must also be in the catalog); a request
    /// for another is `invalid_client_metadata`.
    ///
    /// ```
    /// use portcullis_endpoints::RegistrationPolicy;
    /// let policy = RegistrationPolicy::open().registrable_scopes(["openid", "view:users"]);
    /// assert!(policy.may_register("view:users"));
    /// assert!(!policy.may_register("profile"));
    /// ```
    pub fn registrable_scopes<I, S>(mut self, scopes: I) -> RegistrationPolicy
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = RegistrableScopes::Only(scopes.into_iter().map(Into::into).collect());
        self
    }

    /// Any scope in the catalog may be registered.
    ///
    /// ```
    /// use portcullis_endpoints::RegistrationPolicy;
    /// assert!(RegistrationPolicy::open().any_scope().may_register("delete:users"));
    /// ```
    pub fn any_scope(mut self) -> RegistrationPolicy {
        self.scopes = RegistrableScopes::Any;
        self
    }

    /// Whether anyone may register, without an initial access token.
    ///
    /// ```
    /// use portcullis_endpoints::RegistrationPolicy;
    /// assert!(!RegistrationPolicy::initial_access_tokens(["t"]).is_open());
    /// ```
    pub fn is_open(&self) -> bool {
        matches!(self.access, Access::Open)
    }

    /// Whether the policy lets a client register `scope` (the catalog decides separately
    /// whether the scope exists).
    ///
    /// ```
    /// use portcullis_endpoints::RegistrationPolicy;
    /// assert!(RegistrationPolicy::open().may_register("email"));
    /// ```
    pub fn may_register(&self, scope: &str) -> bool {
        match &self.scopes {
            RegistrableScopes::OpenIdConnect => OIDC_SCOPES.contains(&scope),
            RegistrableScopes::Any => true,
            RegistrableScopes::Only(scopes) => scopes.contains(scope),
        }
    }

    /// Whether `presented` (the bearer token of the request, if any) lets the caller
    /// register. Every configured hash is compared, in constant time, whatever matches.
    fn admits(&self, presented: Option<&str>) -> bool {
        match &self.access {
            Access::Open => true,
            Access::InitialAccessTokens(hashes) => {
                let Some(presented) = presented else {
                    return false;
                };
                let presented = TokenHash::of(presented);
                hashes
                    .iter()
                    .fold(false, |found, hash| hash.ct_eq(&presented) | found)
            }
        }
    }

    /// The scopes a client gets when it registers none: the OpenID Connect scopes the
    /// policy allows and the catalog has, for clients that sign users in; none for machine
    /// clients, which have no user.
    fn default_scopes(&self, kind: ClientKind, catalog: &ScopeCatalog) -> Vec<String> {
        if kind == ClientKind::Machine {
            return Vec::new();
        }
        OIDC_SCOPES
            .into_iter()
            .filter(|scope| catalog.contains(scope) && self.may_register(scope))
            .map(str::to_owned)
            .collect()
    }
}

impl fmt::Debug for RegistrationPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let access = match &self.access {
            Access::Open => "open".to_owned(),
            Access::InitialAccessTokens(hashes) => {
                format!("{} initial access token(s), <redacted>", hashes.len())
            }
        };
        f.debug_struct("RegistrationPolicy")
            .field("access", &access)
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// Why a registration or management request is refused.
#[derive(Debug)]
pub(crate) enum RegistrationError {
    /// `invalid_redirect_uri`, 400 (RFC 7591 §3.2.2).
    InvalidRedirectUri(String),
    /// `invalid_client_metadata`, 400 (RFC 7591 §3.2.2).
    InvalidClientMetadata(String),
    /// `invalid_request`, 400: the body is not JSON.
    InvalidRequest(&'static str),
    /// `invalid_token`, 401 (RFC 6750 §3.1): a bad initial or registration access token.
    /// Without a presented token the challenge carries no error code (RFC 6750 §3.1).
    InvalidToken {
        /// Whether the request carried a bearer token.
        presented: bool,
    },
    /// Anything else: 405, 413, a store failure…
    Failed(OAuthError),
}

impl From<OAuthError> for RegistrationError {
    fn from(err: OAuthError) -> Self {
        RegistrationError::Failed(err)
    }
}

impl RegistrationError {
    fn store(err: &StoreError) -> RegistrationError {
        RegistrationError::Failed(OAuthError::store(err))
    }

    /// The registry's verdict as RFC 7591 §3.2.2 codes: `invalid_redirect_uri` when a
    /// redirect URI is at fault, `invalid_client_metadata` otherwise, every problem named by
    /// its metadata field.
    fn from_validation(errors: &ValidationErrors) -> RegistrationError {
        if errors
            .iter()
            .any(|error| matches!(error.reason, FieldErrorReason::EntropyUnavailable(_)))
        {
            tracing::error!("client registration failed: {errors}");
            return RegistrationError::Failed(OAuthError::from(
                portcullis_grants::GrantError::Application("system randomness unavailable".into()),
            ));
        }
        let redirect = errors
            .iter()
            .any(|error| matches!(error.field, Field::RedirectUris | Field::RedirectUri(_)));
        let description = errors
            .iter()
            .map(|error| format!("{}: {}", metadata_name(error.field), error.reason))
            .collect::<Vec<_>>()
            .join("; ");
        if redirect {
            RegistrationError::InvalidRedirectUri(description)
        } else {
            RegistrationError::InvalidClientMetadata(description)
        }
    }

    fn into_response(self, realm: &str) -> Response<Bytes> {
        let (status, code, description): (StatusCode, &str, Cow<'_, str>) = match &self {
            RegistrationError::InvalidRedirectUri(description) => (
                StatusCode::BAD_REQUEST,
                "invalid_redirect_uri",
                Cow::Borrowed(description),
            ),
            RegistrationError::InvalidClientMetadata(description) => (
                StatusCode::BAD_REQUEST,
                "invalid_client_metadata",
                Cow::Borrowed(description),
            ),
            RegistrationError::InvalidRequest(description) => (
                StatusCode::BAD_REQUEST,
                "invalid_request",
                Cow::Borrowed(*description),
            ),
            RegistrationError::InvalidToken { .. } => (
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                Cow::Borrowed("the access token is missing, invalid, expired or revoked"),
            ),
            RegistrationError::Failed(err) => return response::oauth_error(err),
        };
        let description = printable(&description);
        let mut answer = response::json(
            status,
            &json!({"error": code, "error_description": description}),
        );
        if let RegistrationError::InvalidToken { presented } = self {
            let realm = printable(realm).replace('"', "");
            let challenge = if presented {
                format!("Bearer realm=\"{realm}\", error=\"invalid_token\"")
            } else {
                format!("Bearer realm=\"{realm}\"")
            };
            if let Ok(value) = HeaderValue::from_str(&challenge) {
                answer
                    .headers_mut()
                    .insert(http::header::WWW_AUTHENTICATE, value);
            }
        }
        answer
    }
}

/// RFC 6749 §5.2: `error_description` uses `%x20-21 / %x23-5B / %x5D-7E`.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '"' => '\'',
            '\\' => '/',
            c if (' '..='~').contains(&c) => c,
            _ => '?',
        })
        .collect()
}

/// A registry field by its client-metadata name (RFC 7591 §2).
fn metadata_name(field: Field) -> String {
    match field {
        Field::Name => "client_name".into(),
        Field::Scopes => "scope".into(),
        other => other.to_string(),
    }
}

/// The bearer token of the `Authorization` header (RFC 6750 §2.1), if it has one; a
/// repeated header counts as none that works.
fn bearer(headers: &HeaderMap) -> Result<Option<&str>, RegistrationError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(RegistrationError::InvalidToken { presented: true });
    }
    let value = value
        .to_str()
        .map_err(|_| RegistrationError::InvalidToken { presented: true })?;
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Ok(None);
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(RegistrationError::InvalidToken { presented: true });
    }
    Ok(Some(token))
}

/// RFC 7591 §3.1: the body is `application/json` (parameters such as `charset` allowed).
fn json_body(request: &Request<Bytes>, limit: usize) -> Result<Metadata, RegistrationError> {
    if request.body().len() > limit {
        return Err(OAuthError::body_too_large(limit).into());
    }
    let is_json = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(RegistrationError::InvalidRequest(
            "the body must be application/json client metadata (RFC 7591 §3.1)",
        ));
    }
    Metadata::from_json(request.body())
}

/// The `client_id` of the client configuration endpoint's query, if exactly one is given.
fn configured_client(request: &Request<Bytes>) -> Option<String> {
    let query = request.uri().query()?;
    let mut ids = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(name, _)| name == "client_id")
        .map(|(_, value)| value.into_owned());
    let id = ids.next()?;
    ids.next().is_none().then_some(id)
}

/// A client and the registration access token that authorized a management request.
struct Managed {
    client: Client,
    record: TokenRecord,
    token: String,
}

impl Provider {
    /// The registration policy, when dynamic client registration is enabled.
    ///
    /// ```
    /// # use portcullis_endpoints::Provider;
    /// # use std::sync::Arc;
    /// let provider = Provider::builder("https://id.example", Arc::new(portcullis_store::MemoryStore::new())).build()?;
    /// assert!(provider.registration_policy().is_none()); // off by default
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn registration_policy(&self) -> Option<&RegistrationPolicy> {
        self.0.registration.as_ref()
    }

    /// The registration endpoint's URL (RFC 7591 §3), when registration is enabled.
    ///
    /// ```
    /// # use portcullis_endpoints::{Provider, RegistrationPolicy};
    /// # use std::sync::Arc;
    /// let provider = Provider::builder("https://id.example", Arc::new(portcullis_store::MemoryStore::new()))
    ///     .registration(RegistrationPolicy::open())
    ///     .build()?;
    /// assert_eq!(provider.registration_endpoint().as_deref(), Some("https://id.example/oauth/register"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn registration_endpoint(&self) -> Option<String> {
        self.registration_policy()
            .map(|_| self.url(&self.paths().registration))
    }

    /// The client configuration endpoint of `client` (RFC 7592 §2): the registration
    /// endpoint with the client id as its query, the form RFC 7592 §2 gives as an example.
    /// Client ids need no percent-encoding.
    ///
    /// ```
    /// # use portcullis_endpoints::Provider;
    /// # use std::sync::Arc;
    /// # let provider = Provider::builder("https://id.example", Arc::new(portcullis_store::MemoryStore::new())).build()?;
    /// let id = portcullis_registry::ClientId::new("s6BhdRkqt3")?;
    /// assert_eq!(
    ///     provider.registration_client_uri(&id),
    ///     "https://id.example/oauth/register?client_id=s6BhdRkqt3",
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn registration_client_uri(&self, client: &ClientId) -> String {
        format!(
            "{}?client_id={}",
            self.url(&self.paths().registration),
            client.as_str()
        )
    }

    /// The registration endpoint (RFC 7591 §3) and client configuration endpoint
    /// (RFC 7592 §2), told apart by method: `POST` registers; `GET`, `PUT` and `DELETE`
    /// with `?client_id=` read, replace and delete a registration. Other methods get 405.
    /// Without [`registration`](crate::ProviderBuilder::registration) every request is
    /// answered 400 `invalid_request`.
    ///
    /// Off unless [`ProviderBuilder::registration`](crate::ProviderBuilder::registration) is
    /// given a [`RegistrationPolicy`]. Then one endpoint, at
    /// [`Paths::registration`](crate::Paths::registration) (default `/oauth/register`), answers:
    ///
    /// | request | what it does | spec |
    /// |---|---|---|
    /// | `POST` JSON client metadata | registers a client: `201` with its metadata, credentials, `registration_access_token` and `registration_client_uri` | RFC 7591 §3.1, §3.2.1; RFC 7592 §3 |
    /// | `GET ?client_id=…` | reads the client's current metadata | RFC 7592 §2.1 |
    /// | `PUT ?client_id=…` JSON | replaces the client's metadata; omitted fields return to their defaults | RFC 7592 §2.2 |
    /// | `DELETE ?client_id=…` | deletes the client and revokes every token it holds: `204` | RFC 7592 §2.3 |
    ///
    /// The client configuration endpoint is the registration endpoint with the client id as a
    /// query parameter, `<issuer>/oauth/register?client_id=<id>`: RFC 7592 §2 leaves the URL to
    /// the server and names this form ("the latter as either a path parameter or a query
    /// parameter"), and it lets the provider serve every client from one exactly-mounted path.
    ///
    /// Metadata is mapped onto [`NewClient`](portcullis_registry::NewClient) and validated by
    /// the registry, so a registered client obeys the same rules as one an administrator creates
    /// (the mapping and the [`ClientKind`] chosen are below). Members the server does not know
    /// are ignored (RFC 7591 §2).
    ///
    /// # Registration access tokens
    ///
    /// Each registration gets a registration access token: an opaque `pc_rat_…` token of 256
    /// random bits, stored only as its SHA-256 in the token store as a
    /// [`TokenRecord`] of kind [`TokenKind::RegistrationAccessToken`], issued to the new client,
    /// with [`REGISTRATION_ACCESS_TOKEN_LIFETIME`]. Keeping it in the token store means it dies
    /// with its client: deleting or revoking a client revokes its tokens, this one included.
    /// Every endpoint that accepts access tokens parses them as `pc_at_…` and checks the
    /// record's kind, so it is never taken for an access token. The token is not rotated: a
    /// read or update answers with the token that authorized it.
    ///
    /// # Errors
    ///
    /// RFC 7591 §3.2.2: `400` with `invalid_redirect_uri` or `invalid_client_metadata` (the
    /// description names the field, as the registry reports it); `invalid_request` for a body
    /// that is not `application/json`. A missing or wrong initial access token, and any
    /// registration access token that is not valid for the client named in the URL, are `401`
    /// `invalid_token` with `WWW-Authenticate: Bearer` (RFC 6750 §3.1, RFC 7592 §2), whether
    /// or not the client exists.
    ///
    /// # Client metadata
    ///
    /// Understood members (RFC 7591 §2; OpenID Connect Dynamic Client Registration 1.0 §2;
    /// RP-Initiated Logout §3.1; RFC 9126 §6; RFC 9449 §5.2): `redirect_uris`,
    /// `token_endpoint_auth_method` (`none`, `client_secret_basic` — the default —,
    /// `client_secret_post`, `private_key_jwt`, `client_secret_jwt`), `grant_types` (default
    /// `authorization_code`; `password` is refused, RFC 9700 §2.4), `response_types` (must
    /// agree with `grant_types`, RFC 7591 §2.1; answered as every response type the grants
    /// allow), `client_name`, `description`, `scope` (space-separated; each must exist and be
    /// registrable under the policy; default: the policy's OpenID Connect scopes, none for
    /// machine clients), `jwks` or `jwks_uri` (not both), `application_type` (`web`, the
    /// default, or `native`, whose auth method defaults to `none`), `post_logout_redirect_uris`,
    /// `subject_type`, `sector_identifier_uri`, `dpop_bound_access_tokens`,
    /// `require_pushed_authorization_requests`. `null` counts as absent.
    ///
    /// The registry's [`ClientKind`] comes from `application_type` and the auth method: `none`
    /// makes a public client ([`ClientKind::Spa`] for `web`, [`ClientKind::Native`] for
    /// `native`); any other method makes a [`ClientKind::Machine`] when every grant is one a
    /// machine client may use and `client_credentials` is among them, a [`ClientKind::Web`]
    /// otherwise; `native` with a confidential method is refused. `client_secret_jwt` needs the
    /// provider's secret sealing key (the secret is sealed with [`Provider::seal_client_secret`]).
    /// Registry-only settings (lifetimes, token format, `introspect_any`, roles) are never set by
    /// registration and survive updates.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use portcullis_endpoints::{Provider, RegistrationPolicy};
    /// use portcullis_store::MemoryStore;
    /// use std::sync::Arc;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let provider = Provider::builder("https://id.example", Arc::new(MemoryStore::new()))
    ///     .registration(RegistrationPolicy::open())
    ///     .build()?;
    /// let request = http::Request::post("/oauth/register")
    ///     .header("content-type", "application/json")
    ///     .body(Bytes::from_static(br#"{"client_name": "Reports", "redirect_uris": ["https://reports.example/cb"]}"#))?;
    /// let response = provider.client_registration(request).await;
    /// assert_eq!(response.status(), 201);
    /// let client: serde_json::Value = serde_json::from_slice(response.body())?;
    /// assert_eq!(client["token_endpoint_auth_method"], "client_secret_basic");
    /// assert!(client["client_secret"].is_string()); // shown this once
    /// assert!(client["registration_access_token"].as_str().is_some_and(|t| t.starts_with("pc_rat_")));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn client_registration(&self, request: Request<Bytes>) -> Response<Bytes> {
        let Some(policy) = self.registration_policy() else {
            return response::oauth_error(&OAuthError::invalid_request(
                "dynamic client registration is not enabled",
            ));
        };
        let answer = match *request.method() {
            Method::POST => self.register(policy, &request).await,
            Method::GET => self.read_registration(&request).await,
            Method::PUT => self.update_registration(policy, &request).await,
            Method::DELETE => self.delete_registration(&request).await,
            _ => Err(OAuthError::method_not_allowed("GET, POST, PUT, DELETE").into()),
        };
        answer.unwrap_or_else(|err| {
            if let RegistrationError::InvalidClientMetadata(description)
            | RegistrationError::InvalidRedirectUri(description) = &err
            {
                tracing::debug!("client registration refused: {description}");
            }
            err.into_response(self.issuer())
        })
    }

    /// RFC 7591 §3.1–3.2: registers a client.
    async fn register(
        &self,
        policy: &RegistrationPolicy,
        request: &Request<Bytes>,
    ) -> Result<Response<Bytes>, RegistrationError> {
        let presented = bearer(request.headers())?;
        if !policy.admits(presented) {
            return Err(RegistrationError::InvalidToken {
                presented: presented.is_some(),
            });
        }
        let metadata = json_body(request, self.max_body_bytes())?;
        let catalog = self
            .scope_catalog()
            .await
            .map_err(|err| RegistrationError::store(&err))?;
        let (issued, secret) = self.validate(policy, &metadata, &catalog, None)?;
        let mut client = issued;
        self.seal_if_needed(&mut client, secret.as_ref())?;
        let (token, record) = self.registration_access_token(&client.id)?;
        let store = self.store();
        store
            .insert_client(client.clone())
            .await
            .map_err(|err| RegistrationError::store(&err))?;
        if let Err(err) = store.insert_tokens(vec![record.clone()]).await {
            // Without its registration access token nobody could manage the client.
            if let Err(cleanup) = store.delete_client(&client.id).await {
                tracing::error!(client = %client.id, "registration rollback failed: {cleanup}");
            }
            return Err(RegistrationError::store(&err));
        }
        tracing::info!(client = %client.id, kind = %client.kind, "client registered dynamically");
        let body = self.information(
            &client,
            &catalog,
            secret.as_ref(),
            token.expose_secret(),
            record.issued_at,
        );
        Ok(response::json(StatusCode::CREATED, &Value::Object(body)))
    }

    /// RFC 7592 §2.1: the client's current metadata.
    async fn read_registration(
        &self,
        request: &Request<Bytes>,
    ) -> Result<Response<Bytes>, RegistrationError> {
        let managed = self.managed(request).await?;
        let catalog = self
            .scope_catalog()
            .await
            .map_err(|err| RegistrationError::store(&err))?;
        let body = self.information(
            &managed.client,
            &catalog,
            None,
            &managed.token,
            managed.record.issued_at,
        );
        Ok(response::json(StatusCode::OK, &Value::Object(body)))
    }

    /// RFC 7592 §2.2: replaces the client's metadata. The body must name the client
    /// (`client_id`) and may repeat its secret, which must then be the current one; fields
    /// it omits return to their defaults. What the registry keeps beyond metadata (access
    /// token format and lifetimes, `introspect_any`, roles of a machine client) and the
    /// secret itself stay as they are.
    async fn update_registration(
        &self,
        policy: &RegistrationPolicy,
        request: &Request<Bytes>,
    ) -> Result<Response<Bytes>, RegistrationError> {
        let managed = self.managed(request).await?;
        let metadata = json_body(request, self.max_body_bytes())?;
        let current = &managed.client;
        // §2.2: "The client MUST include its "client_id" field in the request, and it MUST
        // be the same as its currently issued client identifier."
        if metadata.client_id.as_deref() != Some(current.id.as_str()) {
            return Err(RegistrationError::InvalidClientMetadata(
                "client_id: must be present and equal the client's identifier (RFC 7592 §2.2)"
                    .into(),
            ));
        }
        // §2.2: "If the client includes the "client_secret" field in the request, the value
        // of this field MUST match the currently issued client secret for that client."
        if let Some(secret) = &metadata.client_secret
            && !current.verify_secret(secret)
        {
            return Err(RegistrationError::InvalidClientMetadata(
                "client_secret: does not match the current client secret (RFC 7592 §2.2)".into(),
            ));
        }
        let catalog = self
            .scope_catalog()
            .await
            .map_err(|err| RegistrationError::store(&err))?;
        let (mut client, mut secret) = self.validate(policy, &metadata, &catalog, Some(current))?;
        // The secret is the server's, never the client's choice (§2.2): keep the current
        // one when the client still authenticates with it.
        let keeps_secret = client.auth_method.uses_secret()
            && current.secret_hash.is_some()
            && (client.auth_method != TokenEndpointAuthMethod::ClientSecretJwt
                || current.sealed_secret.is_some());
        if keeps_secret {
            client.secret_hash = current.secret_hash;
            client.sealed_secret = current.sealed_secret.clone();
            secret = None;
        } else {
            self.seal_if_needed(&mut client, secret.as_ref())?;
        }
        match self.store().update_client(client.clone()).await {
            Ok(()) => {}
            // Deleted meanwhile: §2.2 answers 401 for a client that does not exist.
            Err(StoreError::NotFound { .. }) => {
                return Err(RegistrationError::InvalidToken { presented: true });
            }
            Err(err) => return Err(RegistrationError::store(&err)),
        }
        let body = self.information(
            &client,
            &catalog,
            secret.as_ref(),
            &managed.token,
            managed.record.issued_at,
        );
        Ok(response::json(StatusCode::OK, &Value::Object(body)))
    }

    /// RFC 7592 §2.3: deletes the client; the store revokes every token it holds (its
    /// registration access token included) in the same operation.
    async fn delete_registration(
        &self,
        request: &Request<Bytes>,
    ) -> Result<Response<Bytes>, RegistrationError> {
        let managed = self.managed(request).await?;
        self.store()
            .delete_client(&managed.client.id)
            .await
            .map_err(|err| RegistrationError::store(&err))?;
        tracing::info!(client = %managed.client.id, "client deleted through RFC 7592");
        let mut answer = Response::new(Bytes::new());
        *answer.status_mut() = StatusCode::NO_CONTENT;
        answer
            .headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        answer
            .headers_mut()
            .insert(PRAGMA, HeaderValue::from_static("no-cache"));
        Ok(answer)
    }

    /// RFC 7592 §2: the request's registration access token must be active and issued to
    /// the client named in the URL, which must exist. Every failure is the same 401, so the
    /// answer never tells whether a client exists.
    async fn managed(&self, request: &Request<Bytes>) -> Result<Managed, RegistrationError> {
        let presented = bearer(request.headers())?;
        let Some(token) = presented else {
            return Err(RegistrationError::InvalidToken { presented: false });
        };
        let invalid = || RegistrationError::InvalidToken { presented: true };
        let Some(client_id) = configured_client(request) else {
            return Err(invalid());
        };
        let Ok(raw) = RawToken::parse(token, TokenKind::RegistrationAccessToken) else {
            return Err(invalid());
        };
        let now = self.now();
        let store = self.store();
        let record = store
            .find_token(&raw.lookup_key(), now)
            .await
            .map_err(|err| RegistrationError::store(&err))?
            .filter(|record| {
                record.kind == TokenKind::RegistrationAccessToken
                    && record.is_active(now)
                    && record.client_id.as_str() == client_id
            })
            .ok_or_else(invalid)?;
        let client = store
            .get_client(&record.client_id)
            .await
            .map_err(|err| RegistrationError::store(&err))?;
        let Some(client) = client.filter(|client| !client.revoked) else {
            // §2.1: for a client that does not exist, "the registration access token used
            // to make this request SHOULD be immediately revoked".
            store
                .revoke_token(&record.hash, now)
                .await
                .map_err(|err| RegistrationError::store(&err))?;
            return Err(invalid());
        };
        Ok(Managed {
            client,
            record,
            token: raw.expose_secret().to_owned(),
        })
    }

    /// Checks `metadata` against the RFC 7591 rules this module owns and the policy, then
    /// has the registry build the client. `current` is the client being replaced
    /// (RFC 7592 §2.2), whose id and registry-only settings carry over.
    fn validate(
        &self,
        policy: &RegistrationPolicy,
        metadata: &Metadata,
        catalog: &ScopeCatalog,
        current: Option<&Client>,
    ) -> Result<(Client, Option<ClientSecret>), RegistrationError> {
        metadata.check_consistency()?;
        let kind = metadata.kind()?;
        // RFC 9700 §2.4: "The resource owner password credentials grant MUST NOT be used."
        // An administrator may still create such a client; nobody may register one.
        if metadata.grant_types().contains(&GrantType::Password) {
            return Err(RegistrationError::InvalidClientMetadata(
                "grant_types: password cannot be registered dynamically (RFC 9700 §2.4)".into(),
            ));
        }
        if metadata.auth_method() == TokenEndpointAuthMethod::ClientSecretJwt
            && !self.can_seal_client_secrets()
        {
            return Err(RegistrationError::InvalidClientMetadata(
                "token_endpoint_auth_method: client_secret_jwt is not available on this server"
                    .into(),
            ));
        }
        let scopes = match &metadata.scope {
            Some(scopes) => {
                if let Some(refused) = scopes
                    .iter()
                    .find(|scope| catalog.contains(scope) && !policy.may_register(scope))
                {
                    return Err(RegistrationError::InvalidClientMetadata(format!(
                        "scope: {refused} cannot be registered dynamically"
                    )));
                }
                scopes.clone()
            }
            None => policy.default_scopes(kind, catalog),
        };
        let mut new = metadata.new_client(kind, scopes);
        if let Some(current) = current {
            new = new
                .client_id(current.id.as_str())
                .access_token_format(current.access_token_format)
                .access_token_lifetime_secs(current.access_token_lifetime_secs)
                .refresh_token_lifetime_secs(current.refresh_token_lifetime_secs)
                .introspect_any(current.introspect_any)
                .revoked(current.revoked);
            if kind == ClientKind::Machine && current.kind == ClientKind::Machine {
                new = new.roles(current.roles.iter().cloned());
            }
        }
        let issued = new
            .build(catalog)
            .map_err(|errors| RegistrationError::from_validation(&errors))?;
        Ok((issued.client, issued.secret))
    }

    /// Whether `client_secret_jwt` clients can be served: the provider has a secret
    /// sealing key and a replay store
    /// ([`ProviderBuilder::secret_sealing_key`](crate::ProviderBuilder::secret_sealing_key)).
    /// Without them `client_secret_jwt` cannot be registered.
    fn can_seal_client_secrets(&self) -> bool {
        self.0.assertions.client_secret_jwt()
    }

    /// Keeps a sealed copy of a new `client_secret_jwt` client's secret (a MAC key cannot
    /// be checked against a hash) with [`Provider::seal_client_secret`].
    fn seal_if_needed(
        &self,
        client: &mut Client,
        secret: Option<&ClientSecret>,
    ) -> Result<(), RegistrationError> {
        if client.auth_method != TokenEndpointAuthMethod::ClientSecretJwt {
            return Ok(());
        }
        let unavailable = || {
            RegistrationError::InvalidClientMetadata(
                "token_endpoint_auth_method: client_secret_jwt is not available on this server"
                    .into(),
            )
        };
        let Some(secret) = secret.filter(|_| self.can_seal_client_secrets()) else {
            return Err(unavailable());
        };
        match self.seal_client_secret(client, secret) {
            Ok(()) => Ok(()),
            Err(crate::SealClientSecretError::NoSealingKey) => Err(unavailable()),
            Err(err) => {
                tracing::error!(client = %client.id, "sealing a client secret failed: {err}");
                Err(RegistrationError::Failed(OAuthError::from(
                    portcullis_grants::GrantError::Application(err.into()),
                )))
            }
        }
    }

    /// Mints a registration access token for `client` and its record.
    fn registration_access_token(
        &self,
        client: &ClientId,
    ) -> Result<(RawToken, TokenRecord), RegistrationError> {
        let entropy = |err: portcullis_tokens::TokenError| {
            RegistrationError::Failed(OAuthError::from(portcullis_grants::GrantError::Token(err)))
        };
        let token = mint(TokenKind::RegistrationAccessToken).map_err(entropy)?;
        let now = self.now();
        let record = TokenRecord {
            hash: token.lookup_key(),
            kind: TokenKind::RegistrationAccessToken,
            client_id: client.clone(),
            subject: None,
            scopes: portcullis_registry::ScopeSet::new(),
            roles: Vec::new(),
            family: FamilyId::generate().map_err(entropy)?,
            issued_at: now,
            expires_at: now + REGISTRATION_ACCESS_TOKEN_LIFETIME,
            status: TokenStatus::Active,
            audience: Vec::new(),
            confirmation: None,
        };
        Ok((token, record))
    }

    /// The client information response (RFC 7591 §3.2.1, RFC 7592 §3): the metadata, the
    /// secret when it is new (shown this once), and the management credentials.
    fn information(
        &self,
        client: &Client,
        catalog: &ScopeCatalog,
        secret: Option<&ClientSecret>,
        token: &str,
        issued_at: OffsetDateTime,
    ) -> Map<String, Value> {
        let mut body = client_metadata(client, catalog);
        body.insert(
            "client_id_issued_at".into(),
            json!(issued_at.unix_timestamp()),
        );
        if let Some(secret) = secret {
            body.insert("client_secret".into(), json!(secret.expose_secret()));
        }
        if client.secret_hash.is_some() {
            // §3.2.1: REQUIRED with a secret; 0 means it does not expire.
            body.insert("client_secret_expires_at".into(), json!(0));
        }
        body.insert("registration_access_token".into(), json!(token));
        body.insert(
            "registration_client_uri".into(),
            json!(self.registration_client_uri(&client.id)),
        );
        body
    }
}
