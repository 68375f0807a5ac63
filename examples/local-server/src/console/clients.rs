//! The console's client pages: the list with a **Revoked** toggle per client, the new-client
//! form, the secret shown once, and each client's Settings and Endpoints tabs.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::Console;
use super::form::{ClientForm, FieldErrors};
use super::pages::{
    self, Chrome, ClientFormPage, ClientPage, ClientSecretPage, ClientView, ClientsPage,
};
use portcullis_registry::IssuedClient;

use crate::admin::AdminError;

/// `GET /admin/console/clients`.
pub(crate) async fn list(State(console): State<Console>, headers: HeaderMap) -> Response {
    let session = match console.signed_in(&headers) {
        Ok(session) => session,
        Err(answer) => return *answer,
    };
    match console.admin.list_clients().await {
        Ok(clients) => pages::render(
            StatusCode::OK,
            &ClientsPage {
                chrome: Chrome::signed_in("Clients", "clients", &session.csrf),
                csrf: session.csrf.clone(),
                clients: clients.iter().map(ClientView::new).collect(),
            },
        ),
        Err(err) => pages::failure(&err, &session.csrf),
    }
}

/// `GET /admin/console/clients/new`.
pub(crate) async fn new_form(State(console): State<Console>, headers: HeaderMap) -> Response {
    let session = match console.signed_in(&headers) {
        Ok(session) => session,
        Err(answer) => return *answer,
    };
    form_page(
        &console,
        &session.csrf,
        StatusCode::OK,
        ClientForm::default(),
        FieldErrors::default(),
    )
    .await
}

async fn form_page(
    console: &Console,
    csrf: &str,
    status: StatusCode,
    form: ClientForm,
    errors: FieldErrors,
) -> Response {
    match console.admin.list_scopes().await {
        Ok(scopes) => pages::render(status, &ClientFormPage::new(csrf, form, errors, scopes)),
        Err(err) => pages::failure(&err, csrf),
    }
}

/// `POST /admin/console/clients`: creates the client and shows its secret once; or the form
/// again, each message next to its field.
pub(crate) async fn create(
    State(console): State<Console>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (form, session) = match console.submitted(&headers, &body) {
        Ok(submitted) => submitted,
        Err(answer) => return *answer,
    };
    let typed = ClientForm::from_form(&form);
    let input = match typed.to_input() {
        Ok(input) => input,
        Err(problems) => {
            return form_page(
                &console,
                &session.csrf,
                StatusCode::BAD_REQUEST,
                typed,
                FieldErrors::new(&problems),
            )
            .await;
        }
    };
    match console.admin.create_client(input).await {
        Ok(issued) => secret_page(
            StatusCode::CREATED,
            "Client created",
            format!("{} is registered.", issued.client.name),
            &issued,
            &session.csrf,
        ),
        Err(err @ (AdminError::Invalid(_) | AdminError::Conflict { .. })) => {
            form_page(
                &console,
                &session.csrf,
                err.status(),
                typed,
                FieldErrors::new(&err.fields()),
            )
            .await
        }
        Err(err) => pages::failure(&err, &session.csrf),
    }
}

/// `GET /admin/console/clients/{id}`: the Settings tab.
pub(crate) async fn settings(
    State(console): State<Console>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    client_page(&console, &headers, &id, "settings").await
}

/// `GET /admin/console/clients/{id}/endpoints`: the Endpoints tab.
pub(crate) async fn endpoints(
    State(console): State<Console>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    client_page(&console, &headers, &id, "endpoints").await
}

async fn client_page(
    console: &Console,
    headers: &HeaderMap,
    id: &str,
    tab: &'static str,
) -> Response {
    let session = match console.signed_in(headers) {
        Ok(session) => session,
        Err(answer) => return *answer,
    };
    let (client, urls) = match (
        console.admin.get_client(id).await,
        console.admin.client_endpoints(id).await,
    ) {
        (Ok(client), Ok(urls)) => (client, urls),
        (Err(err), _) | (_, Err(err)) => return pages::failure(&err, &session.csrf),
    };
    let endpoints = vec![
        ("issuer", "Issuer", urls.issuer),
        ("discovery_url", "Discovery", urls.discovery_url),
        ("authorization_url", "Authorization", urls.authorization_url),
        ("token_url", "Token", urls.token_url),
        ("userinfo_url", "UserInfo", urls.userinfo_url),
        ("logout_url", "Logout", urls.logout_url),
        ("jwks_url", "JWKS", urls.jwks_url),
        ("introspection_url", "Introspection", urls.introspection_url),
        ("revocation_url", "Revocation", urls.revocation_url),
    ];
    pages::render(
        StatusCode::OK,
        &ClientPage {
            chrome: Chrome::signed_in(client.name.clone(), "clients", &session.csrf),
            csrf: session.csrf.clone(),
            client: ClientView::new(&client),
            tab,
            endpoints,
        },
    )
}

/// `POST /admin/console/clients/{id}/revoked` with `revoked=true|false`: the toggle. Revoking
/// invalidates every token the client holds at once.
pub(crate) async fn set_revoked(
    State(console): State<Console>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (form, session) = match console.submitted(&headers, &body) {
        Ok(submitted) => submitted,
        Err(answer) => return *answer,
    };
    let revoked = match form.get("revoked") {
        "true" => true,
        "false" => false,
        _ => {
            return pages::message(
                StatusCode::BAD_REQUEST,
                "Bad request",
                "revoked: must be true or false",
                Some(&session.csrf),
            );
        }
    };
    match console.admin.set_revoked(&id, revoked).await {
        Ok(_) => pages::see_other(super::sign_in::HOME, &[]),
        Err(err) => pages::failure(&err, &session.csrf),
    }
}

/// `POST /admin/console/clients/{id}/secret`: a new secret, shown once.
pub(crate) async fn rotate_secret(
    State(console): State<Console>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (_, session) = match console.submitted(&headers, &body) {
        Ok(submitted) => submitted,
        Err(answer) => return *answer,
    };
    match console.admin.rotate_secret(&id).await {
        Ok(issued) => secret_page(
            StatusCode::OK,
            "New secret",
            format!(
                "{} has a new secret; the old one no longer works.",
                issued.client.name
            ),
            &issued,
            &session.csrf,
        ),
        Err(err) => pages::failure(&err, &session.csrf),
    }
}

/// The page that shows a client's id and its just-issued secret, once.
fn secret_page(
    status: StatusCode,
    title: &str,
    intro: String,
    issued: &IssuedClient,
    csrf: &str,
) -> Response {
    pages::render(
        status,
        &ClientSecretPage {
            chrome: Chrome::signed_in(title, "clients", csrf),
            intro,
            client_id: issued.client.id.to_string(),
            secret: issued
                .secret
                .as_ref()
                .map(|secret| secret.expose_secret().to_owned()),
        },
    )
}
