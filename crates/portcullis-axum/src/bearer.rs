//! Bearer tokens on protected routes (RFC 6750): the [`Bearer`] extractor and its
//! [`BearerRejection`].

use std::fmt;

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{Extensions, HeaderMap, Method, StatusCode, Uri};
use portcullis_resource::{AccessToken, BearerError, Resource};

/// The validated access token of the request.
///
/// Needs a [`Resource`] in the request extensions (`.layer(Extension(resource))`). Reuses
/// the token a guard ([`RequireScope`](crate::RequireScope),
/// [`RequireRole`](crate::RequireRole)) already validated for this request; otherwise reads
/// the `Authorization` header (only there, RFC 6750 §2.1) and validates it with
/// [`Resource::authenticate_request`]: a bearer token as such, a DPoP-bound token only as
/// `Authorization: DPoP` with a `DPoP` proof for this request's method and URL (RFC 9449
/// §7). A missing or refused token rejects the request with 401, 400 or 403 and a
/// `WWW-Authenticate: Bearer …` (or `DPoP …`) challenge (RFC 6750 §3, RFC 9449 §7.1).
///
/// ```
/// use portcullis_axum::Bearer;
///
/// async fn me(Bearer(token): Bearer) -> String {
///     format!("hello, {}", token.client_id)
/// }
/// # let _: axum::Router = axum::Router::new().route("/me", axum::routing::get(me));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bearer(pub AccessToken);

impl<S> FromRequestParts<S> for Bearer
where
    S: Send + Sync,
{
    type Rejection = BearerRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let (_, token) =
            authenticate(&parts.extensions, &parts.method, &parts.uri, &parts.headers).await?;
        Ok(Bearer(token))
    }
}

/// A token a guard validated for this request. Private, so that nothing but this crate's
/// guards can vouch for a token.
#[derive(Clone)]
pub(crate) struct Validated(pub(crate) AccessToken);

/// The [`Resource`] of the request and its access token: the one a guard validated, or the
/// `Authorization` header's, validated now.
pub(crate) async fn authenticate(
    extensions: &Extensions,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<(Resource, AccessToken), BearerRejection> {
    let resource = extensions
        .get::<Resource>()
        .cloned()
        .ok_or(BearerRejection::MissingResource)?;
    if let Some(Validated(token)) = extensions.get::<Validated>() {
        return Ok((resource, token.clone()));
    }
    match resource.authenticate_request(method, uri, headers).await {
        Ok(token) => Ok((resource, token)),
        Err(error) => Err(BearerRejection::Refused { error, resource }),
    }
}

/// Why [`Bearer`] (or a guard) refused a request; answers as its own response.
#[derive(Debug)]
#[non_exhaustive]
pub enum BearerRejection {
    /// The token is missing, malformed, invalid, or lacks a scope or role: the
    /// [`Resource::error_response`] for `error` (401, 400, 403 or 503, with
    /// `WWW-Authenticate: Bearer …` except on 503).
    Refused {
        /// Why.
        error: BearerError,
        /// The resource whose realm the challenge names.
        resource: Resource,
    },
    /// No [`Resource`] in the request extensions: a setup mistake, answered with 500 and a
    /// message saying to add `.layer(Extension(resource))`.
    MissingResource,
}

const MISSING_RESOURCE: &str = "portcullis-axum: no Resource in the request extensions; \
    add `.layer(axum::Extension(resource))` to the router that serves protected routes";

impl BearerRejection {
    /// The HTTP status this rejection answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            BearerRejection::Refused { error, .. } => error.status(),
            BearerRejection::MissingResource => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The [`BearerError`], unless the setup is at fault.
    pub fn error(&self) -> Option<&BearerError> {
        match self {
            BearerRejection::Refused { error, .. } => Some(error),
            BearerRejection::MissingResource => None,
        }
    }
}

impl fmt::Display for BearerRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BearerRejection::Refused { error, .. } => write!(f, "bearer token refused: {error}"),
            BearerRejection::MissingResource => f.write_str(MISSING_RESOURCE),
        }
    }
}

impl std::error::Error for BearerRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BearerRejection::Refused { error, .. } => Some(error),
            BearerRejection::MissingResource => None,
        }
    }
}

impl IntoResponse for BearerRejection {
    fn into_response(self) -> Response {
        match self {
            BearerRejection::Refused { error, resource } => {
                resource.error_response(&error).map(Body::from)
            }
            BearerRejection::MissingResource => {
                (StatusCode::INTERNAL_SERVER_ERROR, MISSING_RESOURCE).into_response()
            }
        }
    }
}
