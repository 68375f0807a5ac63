//! RFC 6750 §3 errors: status, `WWW-Authenticate: Bearer …` challenge and JSON body.

use std::borrow::Cow;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue, WWW_AUTHENTICATE};
use http::{Response, StatusCode};

/// Why a protected request was refused.
///
/// ```
/// use portcullis_resource::BearerError;
/// let err = BearerError::InsufficientScope { scope: "view:users".into() };
/// assert_eq!(err.status(), 403);
/// assert_eq!(
///     err.challenge("api"),
///     r#"Bearer realm="api", error="insufficient_scope", error_description="the token lacks scope view:users", scope="view:users""#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BearerError {
    /// No bearer token in the `Authorization` header: 401 with a bare challenge
    /// (RFC 6750 §3.1: no error code when the request carries no authentication).
    #[error("no bearer token")]
    Missing,
    /// A malformed `Authorization` header (repeated, empty token, bad characters):
    /// 400 `invalid_request`.
    #[error("invalid_request: {0}")]
    InvalidRequest(Cow<'static, str>),
    /// Unknown, expired, revoked or malformed token, or its client was revoked:
    /// 401 `invalid_token`.
    #[error("invalid_token: {0}")]
    InvalidToken(Cow<'static, str>),
    /// The token lacks a scope: 403 `insufficient_scope` with the `scope` it needs.
    #[error("insufficient_scope: {scope}")]
    InsufficientScope {
        /// The scope required.
        scope: String,
    },
    /// The token's client lacks a role: 403 `insufficient_scope`, naming the role.
    #[error("insufficient_scope: role {role}")]
    MissingRole {
        /// The role required.
        role: String,
        /// In which division (`None`: home).
        division: Option<String>,
    },
    /// The validator could not decide (store or provider unreachable): 503.
    #[error("token validation unavailable: {0}")]
    Unavailable(String),
    /// A DPoP failure (RFC 9449 §7.1): 401 with a `WWW-Authenticate: DPoP` challenge.
    /// `code` is `invalid_token` for a DPoP-bound token presented as a bearer token (§7.2)
    /// or a bearer token presented with the DPoP scheme, `invalid_dpop_proof` for a
    /// missing, invalid or replayed proof.
    #[error("{code}: {description}")]
    Dpop {
        /// `invalid_token` or `invalid_dpop_proof`.
        code: &'static str,
        /// Why (no token, no proof).
        description: Cow<'static, str>,
        /// The accepted proof algorithms, space-separated (the challenge's `algs`).
        algs: String,
    },
}

impl BearerError {
    /// The HTTP status (RFC 6750 §3.1).
    pub fn status(&self) -> StatusCode {
        match self {
            BearerError::Missing | BearerError::InvalidToken(_) | BearerError::Dpop { .. } => {
                StatusCode::UNAUTHORIZED
            }
            BearerError::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            BearerError::InsufficientScope { .. } | BearerError::MissingRole { .. } => {
                StatusCode::FORBIDDEN
            }
            BearerError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The RFC 6750 error code, if the answer carries one.
    pub fn code(&self) -> Option<&'static str> {
        match self {
            BearerError::Missing | BearerError::Unavailable(_) => None,
            BearerError::InvalidRequest(_) => Some("invalid_request"),
            BearerError::InvalidToken(_) => Some("invalid_token"),
            BearerError::Dpop { code, .. } => Some(code),
            BearerError::InsufficientScope { .. } | BearerError::MissingRole { .. } => {
                Some("insufficient_scope")
            }
        }
    }

    /// A human description (no token, no secret).
    pub fn description(&self) -> String {
        match self {
            BearerError::Missing => "a bearer token is required".into(),
            BearerError::InvalidRequest(d) | BearerError::InvalidToken(d) => d.to_string(),
            BearerError::InsufficientScope { scope } => format!("the token lacks scope {scope}"),
            BearerError::MissingRole { role, division } => match division {
                Some(division) => format!("the client lacks role {role} in division {division}"),
                None => format!("the client lacks role {role} in the home division"),
            },
            BearerError::Unavailable(_) => "token validation is temporarily unavailable".into(),
            BearerError::Dpop { description, .. } => description.to_string(),
        }
    }

    /// The `WWW-Authenticate` value (RFC 6750 §3); `realm` names the protected space.
    pub fn challenge(&self, realm: &str) -> String {
        if let BearerError::Dpop {
            code,
            description,
            algs,
        } = self
        {
            // RFC 9449 §7.1.
            return format!(
                "DPoP realm=\"{}\", algs=\"{}\", error=\"{code}\", error_description=\"{}\"",
                quotable(realm),
                quotable(algs),
                quotable(description)
            );
        }
        let mut challenge = format!("Bearer realm=\"{}\"", quotable(realm));
        if let Some(code) = self.code() {
            challenge.push_str(&format!(
                ", error=\"{code}\", error_description=\"{}\"",
                quotable(&self.description())
            ));
        }
        if let BearerError::InsufficientScope { scope } = self {
            challenge.push_str(&format!(", scope=\"{}\"", quotable(scope)));
        }
        challenge
    }

    /// The whole answer: status, challenge (not for 503), `Cache-Control: no-store` and a
    /// JSON body `{"error", "error_description"}`.
    pub fn to_response(&self, realm: &str) -> Response<Bytes> {
        let body = serde_json::json!({
            "error": self.code().unwrap_or(if self.status() == StatusCode::SERVICE_UNAVAILABLE {
                "temporarily_unavailable"
            } else {
                "unauthorized"
            }),
            "error_description": self.description(),
        });
        let mut response = Response::new(Bytes::from(body.to_string()));
        *response.status_mut() = self.status();
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if self.status() != StatusCode::SERVICE_UNAVAILABLE
            && let Ok(value) = HeaderValue::from_str(&self.challenge(realm))
        {
            headers.insert(WWW_AUTHENTICATE, value);
        }
        response
    }
}

/// RFC 6750 §3: attribute values use `%x20-21 / %x23-5B / %x5D-7E`; anything else is dropped.
fn quotable(text: &str) -> String {
    text.chars()
        .filter(|c| matches!(*c as u32, 0x20..=0x21 | 0x23..=0x5B | 0x5D..=0x7E))
        .collect()
}
