//! The admin console (DESIGN §4.1): server-rendered HTML at `/admin`, signed in with the
//! admin token, over the same [`Admin`] operations and rules as the JSON admin API, so a
//! form shows the messages the API sends, next to the field they concern.
//!
//! | page | what it does |
//! |---|---|
//! | `GET /admin`, `POST /admin/sign-in`, `POST /admin/sign-out` | sign in with the admin token; sign out |
//! | `GET /admin/console/clients` | every client, with a **Revoked** toggle each |
//! | `GET /admin/console/clients/new`, `POST /admin/console/clients` | the new-client form; after **Create**, the id and the secret, shown once |
//! | `GET /admin/console/clients/{id}` | the client's settings; **Revoke**/**Restore**, **Rotate secret** |
//! | `GET /admin/console/clients/{id}/endpoints` | the URLs to configure the client with, with copy buttons |
//! | `GET`, `POST /admin/console/scopes` | the scope catalog; add a scope |
//! | `GET`, `POST /admin/console/users` | the users; add a user |
//! | `GET /admin/console/audit` | the audit log, filtered by client, user, type and time |
//!
//! Every page works without JavaScript; the one script only powers copy buttons. Every form
//! carries a CSRF token; pages are never cached and never framed.

mod audit;
mod clients;
mod directory;
mod form;
mod pages;
mod session;
mod sign_in;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::admin::{Admin, AdminToken};

/// The largest form body the console accepts.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// What every console handler works with. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Console {
    admin: Admin,
    token: AdminToken,
    sessions: session::Sessions,
    /// Whether cookies get `Secure` (the issuer is `https`).
    secure_cookies: bool,
}

/// The console's routes.
pub(crate) fn router<S>(admin: Admin, token: AdminToken) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let secure_cookies = admin.provider().issuer().starts_with("https://");
    let console = Console {
        admin,
        token,
        sessions: session::Sessions::default(),
        secure_cookies,
    };
    Router::new()
        .route("/admin", get(sign_in::page))
        .route("/admin/sign-in", post(sign_in::submit))
        .route("/admin/sign-out", post(sign_in::sign_out))
        .route("/admin/assets/console.css", get(pages::stylesheet))
        .route("/admin/assets/console.js", get(pages::script))
        .route(
            "/admin/console/clients",
            get(clients::list).post(clients::create),
        )
        .route("/admin/console/clients/new", get(clients::new_form))
        .route("/admin/console/clients/{id}", get(clients::settings))
        .route(
            "/admin/console/clients/{id}/endpoints",
            get(clients::endpoints),
        )
        .route(
            "/admin/console/clients/{id}/revoked",
            post(clients::set_revoked),
        )
        .route(
            "/admin/console/clients/{id}/secret",
            post(clients::rotate_secret),
        )
        .route(
            "/admin/console/scopes",
            get(directory::scopes).post(directory::add_scope),
        )
        .route(
            "/admin/console/users",
            get(directory::users).post(directory::add_user),
        )
        .route("/admin/console/audit", get(audit::page))
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
        .with_state(console)
}
