//! Signing in to the console with the admin token, and out.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::Console;
use super::form::{FieldErrors, Form};
use super::pages::{self, Chrome, SignInPage};
use super::session::{self, SESSION_COOKIE, SIGN_IN_COOKIE, Session};
use crate::validation::FieldMessage;

/// Where the console starts once signed in.
pub(crate) const HOME: &str = "/admin/console/clients";

impl Console {
    /// The session of a signed-in administrator, or a redirect to the sign-in page.
    pub(crate) fn signed_in(&self, headers: &HeaderMap) -> Result<Session, Box<Response>> {
        self.sessions
            .find(headers)
            .ok_or_else(|| Box::new(pages::see_other("/admin", &[])))
    }

    /// The session, when the submitted `form` carries its CSRF token; else the answer to
    /// send (sign in first, or a `403` page for a forged or stale form).
    pub(crate) fn checked(
        &self,
        headers: &HeaderMap,
        form: &Form,
    ) -> Result<Session, Box<Response>> {
        let session = self.signed_in(headers)?;
        if session.csrf_matches(form.get("csrf")) {
            Ok(session)
        } else {
            Err(Box::new(pages::message(
                StatusCode::FORBIDDEN,
                "Form expired",
                "This form is from an older page or another site. Reload the page and try again.",
                Some(&session.csrf),
            )))
        }
    }
}

impl Console {
    /// A submitted form with the session whose CSRF token it carries (see [`Console::checked`]).
    pub(crate) fn submitted(
        &self,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(Form, Session), Box<Response>> {
        let form = Form::parse(body);
        let session = self.checked(headers, &form)?;
        Ok((form, session))
    }
}

/// `GET /admin`: the sign-in form, or the clients when signed in already.
pub(crate) async fn page(State(console): State<Console>, headers: HeaderMap) -> Response {
    if console.sessions.find(&headers).is_some() {
        return pages::see_other(HOME, &[]);
    }
    sign_in_form(&console, StatusCode::OK, FieldErrors::default())
}

/// The sign-in form with a fresh double-submit token.
fn sign_in_form(console: &Console, status: StatusCode, errors: FieldErrors) -> Response {
    let csrf = match session::fresh() {
        Ok(csrf) => csrf,
        Err(err) => {
            tracing::error!(error = %err, "no randomness for a sign-in form");
            return pages::message(
                StatusCode::SERVICE_UNAVAILABLE,
                "Try again",
                "The server could not draw random numbers; try again.",
                None,
            );
        }
    };
    let page = SignInPage {
        chrome: Chrome {
            title: "Sign in".to_owned(),
            active: "",
            csrf: None,
        },
        csrf: csrf.clone(),
        errors,
    };
    pages::with_cookie(
        pages::render(status, &page),
        &session::set_cookie(SIGN_IN_COOKIE, &csrf, console.secure_cookies, None),
    )
}

/// `POST /admin/sign-in`: opens a session when the token is the admin token.
pub(crate) async fn submit(
    State(console): State<Console>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = Form::parse(&body);
    let expected = session::cookie(&headers, SIGN_IN_COOKIE).unwrap_or_default();
    if !session::same(expected, form.get("csrf")) {
        return sign_in_form(
            &console,
            StatusCode::FORBIDDEN,
            FieldErrors::new(&[FieldMessage::new(
                "token",
                "the sign-in form expired; enter the token again",
            )]),
        );
    }
    if !console.token.matches(form.get("token").trim()) {
        tracing::warn!("console sign-in with a wrong admin token");
        return sign_in_form(
            &console,
            StatusCode::UNAUTHORIZED,
            FieldErrors::new(&[FieldMessage::new("token", "this is not the admin token")]),
        );
    }
    match console.sessions.open() {
        Ok(id) => {
            tracing::info!("console sign-in");
            pages::see_other(
                HOME,
                &[
                    session::set_cookie(
                        SESSION_COOKIE,
                        &id,
                        console.secure_cookies,
                        Some(session::session_max_age()),
                    ),
                    session::set_cookie(SIGN_IN_COOKIE, "", console.secure_cookies, Some(0)),
                ],
            )
        }
        Err(err) => {
            tracing::error!(error = %err, "no randomness for a console session");
            pages::message(
                StatusCode::SERVICE_UNAVAILABLE,
                "Try again",
                "The server could not draw random numbers; try again.",
                None,
            )
        }
    }
}

/// `POST /admin/sign-out`: ends the session.
pub(crate) async fn sign_out(
    State(console): State<Console>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = Form::parse(&body);
    if let Err(answer) = console.checked(&headers, &form) {
        return *answer;
    }
    console.sessions.close(&headers);
    pages::see_other(
        "/admin",
        &[session::set_cookie(
            SESSION_COOKIE,
            "",
            console.secure_cookies,
            Some(0),
        )],
    )
}
