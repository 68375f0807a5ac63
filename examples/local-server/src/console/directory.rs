//! The console's Scopes and Users pages: each lists what exists and has a form to add one.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::Console;
use super::form::{self, FieldErrors, Form};
use super::pages::{self, Chrome, ScopesPage, UsersPage};
use crate::admin::AdminError;

/// `GET /admin/console/scopes`.
pub(crate) async fn scopes(State(console): State<Console>, headers: HeaderMap) -> Response {
    match console.signed_in(&headers) {
        Ok(session) => {
            scopes_page(
                &console,
                &session.csrf,
                StatusCode::OK,
                Form::default(),
                FieldErrors::default(),
            )
            .await
        }
        Err(answer) => *answer,
    }
}

async fn scopes_page(
    console: &Console,
    csrf: &str,
    status: StatusCode,
    typed: Form,
    errors: FieldErrors,
) -> Response {
    match console.admin.list_scopes().await {
        Ok(scopes) => pages::render(
            status,
            &ScopesPage {
                chrome: Chrome::signed_in("Scopes", "scopes", csrf),
                csrf: csrf.to_owned(),
                scopes,
                name: typed.get("name").to_owned(),
                description: typed.get("description").to_owned(),
                errors,
            },
        ),
        Err(err) => pages::failure(&err, csrf),
    }
}

/// `POST /admin/console/scopes`: adds a scope, or shows the form again with its messages.
pub(crate) async fn add_scope(
    State(console): State<Console>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (typed, session) = match console.submitted(&headers, &body) {
        Ok(submitted) => submitted,
        Err(answer) => return *answer,
    };
    match console.admin.create_scope(form::scope_input(&typed)).await {
        Ok(_) => pages::see_other("/admin/console/scopes", &[]),
        Err(err) => {
            on_form_error(err, &session.csrf, |status, errors| {
                scopes_page(&console, &session.csrf, status, typed, errors)
            })
            .await
        }
    }
}

/// `GET /admin/console/users`.
pub(crate) async fn users(State(console): State<Console>, headers: HeaderMap) -> Response {
    match console.signed_in(&headers) {
        Ok(session) => {
            users_page(
                &console,
                &session.csrf,
                StatusCode::OK,
                Form::default(),
                FieldErrors::default(),
            )
            .await
        }
        Err(answer) => *answer,
    }
}

async fn users_page(
    console: &Console,
    csrf: &str,
    status: StatusCode,
    typed: Form,
    errors: FieldErrors,
) -> Response {
    match console.admin.list_users().await {
        Ok(users) => pages::render(
            status,
            &UsersPage {
                chrome: Chrome::signed_in("Users", "users", csrf),
                csrf: csrf.to_owned(),
                users,
                username: typed.get("username").to_owned(),
                name: typed.get("name").to_owned(),
                email: typed.get("email").to_owned(),
                errors,
            },
        ),
        Err(err) => pages::failure(&err, csrf),
    }
}

/// `POST /admin/console/users`: adds a user (argon2id password hash), or shows the form
/// again with its messages. The password is never sent back to the page.
pub(crate) async fn add_user(
    State(console): State<Console>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (typed, session) = match console.submitted(&headers, &body) {
        Ok(submitted) => submitted,
        Err(answer) => return *answer,
    };
    match console.admin.create_user(form::new_user(&typed)).await {
        Ok(_) => pages::see_other("/admin/console/users", &[]),
        Err(err) => {
            on_form_error(err, &session.csrf, |status, errors| {
                users_page(&console, &session.csrf, status, typed, errors)
            })
            .await
        }
    }
}

/// Shows a form again for field problems (`400`, `409`), or a failure page otherwise.
async fn on_form_error<F, Fut>(err: AdminError, csrf: &str, again: F) -> Response
where
    F: FnOnce(StatusCode, FieldErrors) -> Fut,
    Fut: std::future::Future<Output = Response>,
{
    let fields = err.fields();
    if fields.is_empty() {
        pages::failure(&err, csrf)
    } else {
        again(err.status(), FieldErrors::new(&fields)).await
    }
}
