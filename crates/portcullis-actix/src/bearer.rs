//! Bearer tokens on protected routes (RFC 6750): the [`Bearer`] extractor and its
//! [`BearerRejection`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError, web};
use portcullis_resource::{AccessToken, BearerError, Resource};

use crate::convert;

/// The validated access token of the request.
///
/// Needs a [`Resource`] in the app data, registered as is (`.app_data(resource)`) or as
/// `web::Data<Resource>` (`.app_data(web::Data::new(resource))`). Reuses the token a guard
/// ([`RequireScope`](crate::RequireScope), [`RequireRole`](crate::RequireRole)) already
/// validated for this request; otherwise reads the `Authorization` header (only there, RFC
/// 6750 §2.1) and validates it with [`Resource::authenticate_request`]: a bearer token as
/// such, a DPoP-bound token only as `Authorization: DPoP` with a `DPoP` proof for this
/// request's method and URL (RFC 9449 §7). A missing or refused token rejects the request
/// with 401, 400 or 403 and a `WWW-Authenticate: Bearer …` (or `DPoP …`) challenge (RFC
/// 6750 §3, RFC 9449 §7.1).
///
/// ```
/// use actix_web::{HttpResponse, web};
/// use portcullis_actix::Bearer;
///
/// async fn me(Bearer(token): Bearer) -> HttpResponse {
///     HttpResponse::Ok().body(format!("hello, {}", token.client_id))
/// }
/// let route = web::get().to(me);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bearer(pub AccessToken);

impl FromRequest for Bearer {
    type Error = BearerRejection;
    type Future = Pin<Box<dyn Future<Output = Result<Bearer, BearerRejection>>>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let authenticated = authenticate(request);
        Box::pin(async move { authenticated.await.map(|(_, token)| Bearer(token)) })
    }
}

/// A token a guard validated for this request. Private, so that nothing but this crate's
/// guards can vouch for a token.
#[derive(Clone)]
pub(crate) struct Validated(pub(crate) AccessToken);

/// The [`Resource`] of the request and its access token: the one a guard validated, or the
/// `Authorization` header's, validated now. Everything needed is taken from `request`
/// before the future starts, so the future borrows nothing.
pub(crate) fn authenticate(
    request: &HttpRequest,
) -> impl Future<Output = Result<(Resource, AccessToken), BearerRejection>> + 'static {
    let resource = request
        .app_data::<Resource>()
        .or_else(|| {
            request
                .app_data::<web::Data<Resource>>()
                .map(|data| data.get_ref())
        })
        .cloned();
    let validated = request.extensions().get::<Validated>().cloned();
    let headers = convert::headers(request.headers());
    let method = http::Method::from_bytes(request.method().as_str().as_bytes());
    let uri = http::Uri::try_from(request.uri().to_string());
    async move {
        let resource = resource.ok_or(BearerRejection::MissingResource)?;
        if let Some(Validated(token)) = validated {
            return Ok((resource, token));
        }
        let outcome = match (headers, method, uri) {
            (Ok(headers), Ok(method), Ok(uri)) => {
                resource.authenticate_request(&method, &uri, &headers).await
            }
            // Unreachable in practice: both `http` crates accept the same header grammar.
            _ => Err(BearerError::InvalidRequest(
                "the request headers are malformed".into(),
            )),
        };
        match outcome {
            Ok(token) => Ok((resource, token)),
            Err(error) => Err(BearerRejection::Refused { error, resource }),
        }
    }
}

/// Why [`Bearer`] (or a guard) refused a request; as an actix-web error it answers with its
/// own response.
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
    /// No [`Resource`] in the app data: a setup mistake, answered with 500 and a message
    /// saying what to register.
    MissingResource,
}

const MISSING_RESOURCE: &str = "portcullis-actix: no Resource in the app data; register it \
    with `.app_data(resource)` or `.app_data(web::Data::new(resource))` on the App or scope \
    that serves protected routes";

impl BearerRejection {
    /// The HTTP status this rejection answers with.
    pub fn status(&self) -> http::StatusCode {
        match self {
            BearerRejection::Refused { error, .. } => error.status(),
            BearerRejection::MissingResource => http::StatusCode::INTERNAL_SERVER_ERROR,
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

impl ResponseError for BearerRejection {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status().as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            BearerRejection::Refused { error, resource } => {
                convert::response(resource.error_response(error))
            }
            BearerRejection::MissingResource => HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body(MISSING_RESOURCE),
        }
    }
}
