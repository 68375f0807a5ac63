//! Scope and role guards for protected routes, as tower layers for
//! [`Router::route_layer`](axum::Router::route_layer).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::response::{IntoResponse, Response};
use portcullis_resource::{AccessToken, BearerError, require_role, require_scope};
use tower::{Layer, Service};

use crate::bearer::{BearerRejection, Validated, authenticate};

/// Lets a request through only with a valid bearer token granted `scope`; otherwise answers
/// 401 (no or invalid token) or 403 `insufficient_scope` naming the scope (RFC 6750 §3.1).
///
/// Needs a [`Resource`](portcullis_resource::Resource) in the request extensions. The
/// validated token is kept for [`Bearer`](crate::Bearer) and for further guards, so the
/// token is looked up once per request.
///
/// ```
/// use portcullis_axum::{Bearer, RequireScope};
///
/// let api: axum::Router = axum::Router::new()
///     .route("/users", axum::routing::get(|Bearer(token): Bearer| async move { token.client_id.to_string() }))
///     .route_layer(RequireScope::new("view:users"));
/// ```
#[derive(Debug, Clone)]
pub struct RequireScope {
    scope: Arc<str>,
}

impl RequireScope {
    /// A guard requiring `scope`.
    pub fn new(scope: impl Into<String>) -> RequireScope {
        RequireScope {
            scope: Arc::from(scope.into()),
        }
    }
}

/// Lets a request through only with a valid bearer token whose client holds `role` in
/// `division` (`None`: the provider's home division); otherwise answers 401, or 403
/// `insufficient_scope` naming the role.
///
/// Like [`RequireScope`], needs a [`Resource`](portcullis_resource::Resource) in the
/// request extensions and keeps the validated token for [`Bearer`](crate::Bearer).
///
/// ```
/// use portcullis_axum::RequireRole;
///
/// let reports: axum::Router = axum::Router::new()
///     .route("/reports", axum::routing::get(|| async { "reports" }))
///     .route_layer(RequireRole::new("auditor", Some("emea")));
/// ```
#[derive(Debug, Clone)]
pub struct RequireRole {
    role: Arc<str>,
    division: Option<Arc<str>>,
}

impl RequireRole {
    /// A guard requiring `role` in `division` (`None`: the home division).
    pub fn new(role: impl Into<String>, division: Option<&str>) -> RequireRole {
        RequireRole {
            role: Arc::from(role.into()),
            division: division.map(Arc::from),
        }
    }
}

/// What a [`Guard`] checks.
#[derive(Debug, Clone)]
enum Check {
    Scope(Arc<str>),
    Role(Arc<str>, Option<Arc<str>>),
}

impl Check {
    fn run(&self, token: &AccessToken) -> Result<(), BearerError> {
        match self {
            Check::Scope(scope) => require_scope(token, scope),
            Check::Role(role, division) => require_role(token, role, division.as_deref()),
        }
    }
}

impl<S> Layer<S> for RequireScope {
    type Service = Guard<S>;

    fn layer(&self, inner: S) -> Guard<S> {
        Guard {
            inner,
            check: Check::Scope(self.scope.clone()),
        }
    }
}

impl<S> Layer<S> for RequireRole {
    type Service = Guard<S>;

    fn layer(&self, inner: S) -> Guard<S> {
        Guard {
            inner,
            check: Check::Role(self.role.clone(), self.division.clone()),
        }
    }
}

/// The service a [`RequireScope`] or [`RequireRole`] layer wraps around a route: checks the
/// request's token, then calls the route with the token stored in the request extensions.
#[derive(Debug, Clone)]
pub struct Guard<S> {
    inner: S,
    check: Check,
}

impl<S, B> Service<http::Request<B>> for Guard<S>
where
    S: Service<http::Request<B>, Error = Infallible> + Clone + Send + 'static,
    S::Response: IntoResponse,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        // Call the instance that was polled ready; leave a fresh clone in its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let check = self.check.clone();
        Box::pin(async move {
            let checked = match authenticate(
                request.extensions(),
                request.method(),
                request.uri(),
                request.headers(),
            )
            .await
            {
                Ok((resource, token)) => match check.run(&token) {
                    Ok(()) => Ok(token),
                    Err(error) => Err(BearerRejection::Refused { error, resource }),
                },
                Err(rejection) => Err(rejection),
            };
            match checked {
                Ok(token) => {
                    request.extensions_mut().insert(Validated(token));
                    inner.call(request).await.map(IntoResponse::into_response)
                }
                Err(rejection) => Ok(rejection.into_response()),
            }
        })
    }
}
