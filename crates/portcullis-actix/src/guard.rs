//! Scope and role guards as actix-web middleware, for `.wrap(...)` on a scope or resource.

use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;

use actix_web::body::EitherBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::{HttpMessage, ResponseError};
use portcullis_resource::{AccessToken, BearerError, require_role, require_scope};

use crate::bearer::{BearerRejection, Validated, authenticate};

/// What a guard demands of the token.
#[derive(Debug)]
enum Requirement {
    Scope(String),
    Role {
        role: String,
        division: Option<String>,
    },
}

impl Requirement {
    fn check(&self, token: &AccessToken) -> Result<(), BearerError> {
        match self {
            Requirement::Scope(scope) => require_scope(token, scope),
            Requirement::Role { role, division } => require_role(token, role, division.as_deref()),
        }
    }
}

/// Lets a request through only if its bearer token was granted a scope; otherwise 401
/// (no or bad token) or 403 `insufficient_scope` with a `WWW-Authenticate: Bearer`
/// challenge (RFC 6750 §3.1).
///
/// Needs a [`Resource`](portcullis_resource::Resource) in the app data, like
/// [`Bearer`](crate::Bearer). The validated token is kept in the request extensions for
/// [`Bearer`](crate::Bearer) and for further guards, so it is looked up once per request.
///
/// ```
/// use actix_web::{HttpResponse, web};
/// use portcullis_actix::RequireScope;
///
/// let users = web::scope("/users")
///     .wrap(RequireScope::new("view:users"))
///     .route("", web::get().to(HttpResponse::Ok));
/// ```
#[derive(Debug, Clone)]
pub struct RequireScope(Arc<Requirement>);

impl RequireScope {
    /// Requires `scope`.
    pub fn new(scope: impl Into<String>) -> RequireScope {
        RequireScope(Arc::new(Requirement::Scope(scope.into())))
    }
}

/// Lets a request through only if its token's client holds a role in a division;
/// otherwise 401 (no or bad token) or 403 `insufficient_scope` naming the role.
///
/// Like [`RequireScope`], needs a [`Resource`](portcullis_resource::Resource) in the app
/// data and keeps the validated token for [`Bearer`](crate::Bearer).
///
/// ```
/// use actix_web::{HttpResponse, web};
/// use portcullis_actix::RequireRole;
///
/// let audit = web::resource("/audit")
///     .wrap(RequireRole::new("auditor", Some("emea")))
///     .route(web::get().to(HttpResponse::Ok));
/// ```
#[derive(Debug, Clone)]
pub struct RequireRole(Arc<Requirement>);

impl RequireRole {
    /// Requires `role` in `division` (`None`: the provider's home division).
    pub fn new(role: impl Into<String>, division: Option<&str>) -> RequireRole {
        RequireRole(Arc::new(Requirement::Role {
            role: role.into(),
            division: division.map(str::to_owned),
        }))
    }
}

/// The service a [`RequireScope`] or [`RequireRole`] wraps around a route: checks the
/// request's token, then calls the route with the token stored in the request extensions.
pub struct Guard<S> {
    service: Rc<S>,
    requirement: Arc<Requirement>,
}

impl<S> std::fmt::Debug for Guard<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("requirement", &self.requirement)
            .finish_non_exhaustive()
    }
}

macro_rules! guard_transform {
    ($guard:ty) => {
        impl<S, B> Transform<S, ServiceRequest> for $guard
        where
            S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>
                + 'static,
            B: 'static,
        {
            type Response = ServiceResponse<EitherBody<B>>;
            type Error = actix_web::Error;
            type Transform = Guard<S>;
            type InitError = ();
            type Future = Ready<Result<Guard<S>, ()>>;

            fn new_transform(&self, service: S) -> Self::Future {
                ready(Ok(Guard {
                    service: Rc::new(service),
                    requirement: Arc::clone(&self.0),
                }))
            }
        }
    };
}

guard_transform!(RequireScope);
guard_transform!(RequireRole);

impl<S, B> Service<ServiceRequest> for Guard<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>>>>;

    forward_ready!(service);

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let service = Rc::clone(&self.service);
        let requirement = Arc::clone(&self.requirement);
        let authenticated = authenticate(request.request());
        Box::pin(async move {
            let checked = match authenticated.await {
                Ok((resource, token)) => match requirement.check(&token) {
                    Ok(()) => Ok(token),
                    Err(error) => Err(BearerRejection::Refused { error, resource }),
                },
                Err(rejection) => Err(rejection),
            };
            match checked {
                Ok(token) => {
                    request.extensions_mut().insert(Validated(token));
                    let response = service.call(request).await?;
                    Ok(response.map_into_left_body())
                }
                Err(rejection) => Ok(request
                    .into_response(rejection.error_response())
                    .map_into_right_body()),
            }
        })
    }
}
