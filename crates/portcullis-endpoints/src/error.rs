//! The one place where failures become OAuth error responses: code, HTTP status,
//! `WWW-Authenticate`, and (for the authorization endpoint) whether to redirect.

use std::borrow::Cow;

use http::StatusCode;
use portcullis_grants::GrantError;
use portcullis_grants::authorization_request::AuthorizationError;
use portcullis_store::StoreError;

/// Error codes of the authorization endpoint (RFC 6749 §4.1.2.1, §4.2.2.1; OpenID Connect
/// Core §3.1.2.6).
///
/// ```
/// use portcullis_endpoints::AuthorizeErrorCode;
/// assert_eq!(AuthorizeErrorCode::LoginRequired.as_str(), "login_required");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthorizeErrorCode {
    /// `invalid_request`
    InvalidRequest,
    /// `unauthorized_client`
    UnauthorizedClient,
    /// `access_denied`
    AccessDenied,
    /// `unsupported_response_type`
    UnsupportedResponseType,
    /// `invalid_scope`
    InvalidScope,
    /// `server_error`
    ServerError,
    /// `temporarily_unavailable`
    TemporarilyUnavailable,
    /// `interaction_required` (OpenID Connect)
    InteractionRequired,
    /// `login_required` (OpenID Connect)
    LoginRequired,
    /// `consent_required` (OpenID Connect)
    ConsentRequired,
    /// `request_not_supported` (OpenID Connect)
    RequestNotSupported,
    /// `request_uri_not_supported` (OpenID Connect)
    RequestUriNotSupported,
    /// `invalid_target` (RFC 8707 §2)
    InvalidTarget,
}

impl AuthorizeErrorCode {
    /// The wire name.
    ///
    /// ```
    /// assert_eq!(portcullis_endpoints::AuthorizeErrorCode::AccessDenied.as_str(), "access_denied");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            AuthorizeErrorCode::InvalidRequest => "invalid_request",
            AuthorizeErrorCode::UnauthorizedClient => "unauthorized_client",
            AuthorizeErrorCode::AccessDenied => "access_denied",
            AuthorizeErrorCode::UnsupportedResponseType => "unsupported_response_type",
            AuthorizeErrorCode::InvalidScope => "invalid_scope",
            AuthorizeErrorCode::ServerError => "server_error",
            AuthorizeErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
            AuthorizeErrorCode::InteractionRequired => "interaction_required",
            AuthorizeErrorCode::LoginRequired => "login_required",
            AuthorizeErrorCode::ConsentRequired => "consent_required",
            AuthorizeErrorCode::RequestNotSupported => "request_not_supported",
            AuthorizeErrorCode::RequestUriNotSupported => "request_uri_not_supported",
            AuthorizeErrorCode::InvalidTarget => "invalid_target",
        }
    }

    /// The code for a store failure.
    pub(crate) fn for_store(err: &StoreError) -> AuthorizeErrorCode {
        if err.is_transient() {
            AuthorizeErrorCode::TemporarilyUnavailable
        } else {
            AuthorizeErrorCode::ServerError
        }
    }

    /// The code for a validation error that is redirected to the client.
    pub(crate) fn for_validation(err: &AuthorizationError) -> AuthorizeErrorCode {
        match err {
            AuthorizationError::UnauthorizedClient(_) => AuthorizeErrorCode::UnauthorizedClient,
            AuthorizationError::UnsupportedResponseType(_) => {
                AuthorizeErrorCode::UnsupportedResponseType
            }
            AuthorizationError::InvalidScope(_) => AuthorizeErrorCode::InvalidScope,
            AuthorizationError::RequestNotSupported(_) => AuthorizeErrorCode::RequestNotSupported,
            AuthorizationError::RequestUriNotSupported(_) => {
                AuthorizeErrorCode::RequestUriNotSupported
            }
            AuthorizationError::InvalidTarget(_) => AuthorizeErrorCode::InvalidTarget,
            // `InvalidRequest`, and whatever later versions add.
            _ => AuthorizeErrorCode::InvalidRequest,
        }
    }

    /// The description sent with a store failure: no internal detail.
    pub(crate) fn store_failure_description(self) -> &'static str {
        if self == AuthorizeErrorCode::TemporarilyUnavailable {
            "the authorization server is temporarily unavailable; retry later"
        } else {
            "the authorization server failed to process the request"
        }
    }
}

/// An error answered with a JSON body `{"error", "error_description"}` (RFC 6749 §5.2,
/// RFC 7009 §2.2.1, RFC 7662 §2.3): token, revocation and introspection endpoints.
///
/// ```
/// use portcullis_endpoints::OAuthError;
/// let err = OAuthError::invalid_request("grant_type is required");
/// assert_eq!(err.code(), "invalid_request");
/// assert_eq!(err.status(), http::StatusCode::BAD_REQUEST);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {description}")]
pub struct OAuthError {
    code: &'static str,
    description: Cow<'static, str>,
    status: StatusCode,
    www_authenticate: Option<String>,
    allow: Option<&'static str>,
    retry_after: Option<u64>,
}

impl OAuthError {
    fn new(code: &'static str, status: StatusCode, description: Cow<'static, str>) -> OAuthError {
        OAuthError {
            code,
            description,
            status,
            www_authenticate: None,
            allow: None,
            retry_after: None,
        }
    }

    /// `invalid_request`, 400 (RFC 6749 §5.2).
    ///
    /// ```
    /// assert_eq!(portcullis_endpoints::OAuthError::invalid_request("x").status(), 400);
    /// ```
    pub fn invalid_request(description: impl Into<Cow<'static, str>>) -> OAuthError {
        OAuthError::new(
            "invalid_request",
            StatusCode::BAD_REQUEST,
            description.into(),
        )
    }

    /// `invalid_client`, 401 (RFC 6749 §5.2). With `basic_realm`, adds
    /// `WWW-Authenticate: Basic realm="…"` — required when the client tried the
    /// `Authorization` header.
    ///
    /// ```
    /// let err = portcullis_endpoints::OAuthError::invalid_client("client authentication failed", Some("https://id.example"));
    /// assert_eq!(err.www_authenticate(), Some(r#"Basic realm="https://id.example""#));
    /// ```
    pub fn invalid_client(
        description: impl Into<Cow<'static, str>>,
        basic_realm: Option<&str>,
    ) -> OAuthError {
        let mut err = OAuthError::new(
            "invalid_client",
            StatusCode::UNAUTHORIZED,
            description.into(),
        );
        err.www_authenticate = basic_realm.map(|realm| {
            let realm = realm.replace(['"', '\\'], "");
            format!("Basic realm=\"{realm}\"")
        });
        err
    }

    /// `invalid_request` answered with 413 Payload Too Large.
    ///
    /// ```
    /// assert_eq!(portcullis_endpoints::OAuthError::body_too_large(1024).status(), 413);
    /// ```
    pub fn body_too_large(limit: usize) -> OAuthError {
        OAuthError::new(
            "invalid_request",
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body exceeds {limit} bytes").into(),
        )
    }

    /// `invalid_request` answered with 405 Method Not Allowed and an `Allow` header
    /// listing `allowed` (comma-separated methods).
    ///
    /// ```
    /// let err = portcullis_endpoints::OAuthError::method_not_allowed("POST");
    /// assert_eq!((err.status().as_u16(), err.allow()), (405, Some("POST")));
    /// ```
    pub fn method_not_allowed(allowed: &'static str) -> OAuthError {
        let mut err = OAuthError::new(
            "invalid_request",
            StatusCode::METHOD_NOT_ALLOWED,
            format!("use {allowed}").into(),
        );
        err.allow = Some(allowed);
        err
    }

    /// `temporarily_unavailable` answered with 429 Too Many Requests (RFC 6585 §4) and
    /// `Retry-After: <retry_after_secs>` (RFC 9110 §10.2.3): a rate limit or lockout
    /// ([`ProviderBuilder::rate_limits`](crate::ProviderBuilder::rate_limits)).
    ///
    /// ```
    /// let err = portcullis_endpoints::OAuthError::too_many_requests(30);
    /// assert_eq!((err.status().as_u16(), err.code(), err.retry_after()), (429, "temporarily_unavailable", Some(30)));
    /// ```
    pub fn too_many_requests(retry_after_secs: u64) -> OAuthError {
        let mut err = OAuthError::new(
            "temporarily_unavailable",
            StatusCode::TOO_MANY_REQUESTS,
            format!("too many requests; retry after {retry_after_secs} seconds").into(),
        );
        err.retry_after = Some(retry_after_secs);
        err
    }

    /// Any other protocol error `code` answered with 400: the authorization endpoint's
    /// codes in JSON, as the pushed authorization request endpoint answers them (RFC 9126
    /// §2.3).
    pub(crate) fn bad_request(
        code: &'static str,
        description: impl Into<Cow<'static, str>>,
    ) -> OAuthError {
        OAuthError::new(code, StatusCode::BAD_REQUEST, description.into())
    }

    /// `unsupported_token_type`, 400 (RFC 7009 §2.2.1).
    ///
    /// ```
    /// assert_eq!(portcullis_endpoints::OAuthError::unsupported_token_type("x").code(), "unsupported_token_type");
    /// ```
    pub fn unsupported_token_type(description: impl Into<Cow<'static, str>>) -> OAuthError {
        OAuthError::new(
            "unsupported_token_type",
            StatusCode::BAD_REQUEST,
            description.into(),
        )
    }

    /// The failure of a store: `temporarily_unavailable` (503) when a retry may help,
    /// `server_error` (500) otherwise. The cause goes to the log, not to the client.
    ///
    /// ```
    /// use portcullis_store::StoreError;
    /// let err = StoreError::Unavailable { message: "pool timed out".into(), source: None };
    /// assert_eq!(portcullis_endpoints::OAuthError::store(&err).status(), 503);
    /// ```
    pub fn store(err: &StoreError) -> OAuthError {
        OAuthError::from(GrantError::Store(clone_store_error(err)))
    }

    /// The wire error code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The human description sent as `error_description`.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The `WWW-Authenticate` header value, if any.
    pub fn www_authenticate(&self) -> Option<&str> {
        self.www_authenticate.as_deref()
    }

    /// The `Allow` header value of a 405, if any.
    pub fn allow(&self) -> Option<&'static str> {
        self.allow
    }

    /// The `Retry-After` seconds of a 429, if any.
    pub fn retry_after(&self) -> Option<u64> {
        self.retry_after
    }
}

fn clone_store_error(err: &StoreError) -> StoreError {
    if err.is_transient() {
        StoreError::Unavailable {
            message: err.to_string(),
            source: None,
        }
    } else {
        StoreError::Backend {
            message: err.to_string(),
            source: None,
        }
    }
}

impl From<GrantError> for OAuthError {
    /// RFC 6749 §5.2 statuses: 400 for every protocol error except `invalid_client` (401);
    /// 503 for `temporarily_unavailable` and 500 for `server_error`.
    fn from(err: GrantError) -> OAuthError {
        let status = match &err {
            GrantError::InvalidClient(_) => StatusCode::UNAUTHORIZED,
            GrantError::Store(store) if store.is_transient() => StatusCode::SERVICE_UNAVAILABLE,
            GrantError::Store(_) | GrantError::Token(_) | GrantError::Application(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            _ => StatusCode::BAD_REQUEST,
        };
        if status.is_server_error() {
            tracing_error(&err);
        }
        OAuthError::new(err.code(), status, err.description().to_owned().into())
    }
}

/// Server-side failures are logged with their cause; client errors are not worth a line.
fn tracing_error(err: &GrantError) {
    let mut cause = String::new();
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        cause.push_str(": ");
        cause.push_str(&inner.to_string());
        source = inner.source();
    }
    tracing::error!(code = err.code(), "request failed: {err}{cause}");
}
