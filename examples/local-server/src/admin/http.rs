//! The admin API's routes: each handler reads JSON, calls an [`Admin`] operation and writes
//! JSON; nothing is decided here.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;

use super::auth::require_admin;
use super::clients::{ClientInput, InputMode, client_json};
use super::scopes::ScopeInput;
use super::users::new_user_from_json;
use super::{Admin, AdminError, AdminToken};

/// The largest admin request body: far above any client description.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// The admin API of DESIGN §4.1, every route behind the admin token.
pub(crate) fn router<S>(admin: Admin, token: AdminToken) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/admin/clients", get(list_clients).post(create_client))
        .route(
            "/admin/clients/{id}",
            get(get_client).patch(update_client).delete(delete_client),
        )
        .route("/admin/clients/{id}/secret", post(rotate_secret))
        .route("/admin/clients/{id}/endpoints", get(client_endpoints))
        .route("/admin/scopes", get(list_scopes).post(create_scope))
        .route("/admin/users", get(list_users).post(create_user))
        .route("/admin/metrics", get(metrics))
        .route_layer(middleware::from_fn_with_state(token, require_admin))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(admin)
}

/// The body as JSON, or a `400` naming the body.
fn json_body(body: &Bytes) -> Result<Value, AdminError> {
    serde_json::from_slice(body)
        .map_err(|err| AdminError::field("body", format!("invalid JSON: {err}")))
}

async fn create_client(State(admin): State<Admin>, body: Bytes) -> Result<Response, AdminError> {
    let input = ClientInput::from_json(json_body(&body)?, InputMode::Create)?;
    let issued = admin.create_client(input).await?;
    let location = format!("/admin/clients/{}", issued.client.id);
    Ok((
        StatusCode::CREATED,
        [(LOCATION, location)],
        Json(client_json(&issued.client, issued.secret.as_ref())),
    )
        .into_response())
}

async fn list_clients(State(admin): State<Admin>) -> Result<Json<Vec<Value>>, AdminError> {
    let clients = admin.list_clients().await?;
    Ok(Json(
        clients
            .iter()
            .map(|client| client_json(client, None))
            .collect(),
    ))
}

async fn get_client(
    State(admin): State<Admin>,
    Path(id): Path<String>,
) -> Result<Json<Value>, AdminError> {
    let client = admin.get_client(&id).await?;
    Ok(Json(client_json(&client, None)))
}

async fn update_client(
    State(admin): State<Admin>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, AdminError> {
    let input = ClientInput::from_json(json_body(&body)?, InputMode::Update)?;
    let issued = admin.update_client(&id, input).await?;
    Ok(Json(client_json(&issued.client, issued.secret.as_ref())))
}

async fn delete_client(
    State(admin): State<Admin>,
    Path(id): Path<String>,
) -> Result<StatusCode, AdminError> {
    admin.delete_client(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn rotate_secret(
    State(admin): State<Admin>,
    Path(id): Path<String>,
) -> Result<Json<Value>, AdminError> {
    let issued = admin.rotate_secret(&id).await?;
    Ok(Json(client_json(&issued.client, issued.secret.as_ref())))
}

async fn client_endpoints(
    State(admin): State<Admin>,
    Path(id): Path<String>,
) -> Result<Response, AdminError> {
    Ok(Json(admin.client_endpoints(&id).await?).into_response())
}

async fn create_scope(State(admin): State<Admin>, body: Bytes) -> Result<Response, AdminError> {
    let scope = admin
        .create_scope(ScopeInput::from_json(json_body(&body)?)?)
        .await?;
    Ok((StatusCode::CREATED, Json(scope)).into_response())
}

/// `GET /admin/metrics`: the Prometheus text exposition of the provider's metrics
/// (`portcullis_endpoints::telemetry`), behind the admin token like the rest of the API.
async fn metrics(State(admin): State<Admin>) -> Response {
    let body = admin.metrics().unwrap_or_default();
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

async fn list_scopes(State(admin): State<Admin>) -> Result<Response, AdminError> {
    Ok(Json(admin.list_scopes().await?).into_response())
}

async fn create_user(State(admin): State<Admin>, body: Bytes) -> Result<Response, AdminError> {
    let user = admin
        .create_user(new_user_from_json(json_body(&body)?)?)
        .await?;
    Ok((StatusCode::CREATED, Json(user)).into_response())
}

async fn list_users(State(admin): State<Admin>) -> Result<Response, AdminError> {
    Ok(Json(admin.list_users().await?).into_response())
}
