//! A small protected API, so a token can be tried on something (RFC 6750 bearer tokens,
//! checked against the provider's own store):
//!
//! - `GET /api/me`: who the token speaks for (any valid access token).
//! - `GET /api/users`: the users, for tokens with the scope `view:users`.

use axum::routing::get;
use axum::{Extension, Json, Router};
use portcullis_axum::{Bearer, Provider, RequireScope, Resource};
use portcullis_registry::Scope;
use portcullis_resource::StoreValidator;
use serde_json::{Value, json};

use crate::admin::AdminError;
use crate::users::{User, Users};

/// The scope `GET /api/users` needs.
pub(crate) const VIEW_USERS: &str = "view:users";

/// The protected routes, validating bearer tokens (opaque or JWT) against `provider`'s store.
pub(crate) fn router<S>(provider: &Provider, users: Users) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let keys = provider.clone();
    let validator = StoreValidator::new(provider.store().clone())
        .with_keys(move || keys.signing_keys(), provider.issuer());
    let resource = Resource::new(validator).realm("local-server");
    let users_route = Router::new()
        .route("/api/users", get(list_users))
        .route_layer(RequireScope::new(VIEW_USERS));
    Router::new()
        .route("/api/me", get(me))
        .merge(users_route)
        .layer(Extension(resource))
        .layer(Extension(users))
}

async fn me(Bearer(token): Bearer) -> Json<Value> {
    Json(json!({
        "subject": token.subject.map(String::from),
        "client_id": token.client_id.to_string(),
        "scopes": token.scopes.iter().map(Scope::as_str).collect::<Vec<_>>(),
        "roles": token.roles,
        "expires_at": token.expires_at.unix_timestamp(),
    }))
}

async fn list_users(Extension(users): Extension<Users>) -> Result<Json<Vec<User>>, AdminError> {
    Ok(Json(users.list().await?))
}
