//! Default login and consent pages (feature `ui`, DESIGN §4.1): plain HTML forms that
//! work without JavaScript, protected against cross-site request forgery by a
//! double-submit cookie, against framing (RFC 6749 §10.13) and against caching.

use std::collections::BTreeSet;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http::header::{ALLOW, HeaderValue, SET_COOKIE};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use portcullis_grants::Params;
use portcullis_registry::ScopeSet;
use portcullis_store::SessionRecord;
use portcullis_tokens::{RawToken, TokenError, TokenKind, mint};

use super::layout::{layout, message_page, store_failure};
use super::{SessionError, interaction_url, session};
use crate::response::{PAGE_CSP, escape_html, html, see_other};
use crate::{
    AuthenticatedUser, CompleteError, Decision, Interaction, OAuthError, Provider, request,
};

mod device;

/// How the default login page authenticates users (RFC 8176 §2: a password).
const PASSWORD_AMR: &str = "pwd";

/// The one message for wrong credentials: it never tells whether the user exists.
const WRONG_CREDENTIALS: &str = "The username or password is incorrect.";

impl Provider {
    /// The default login page, for [`Paths::login`](crate::Paths::login) (feature `ui`).
    ///
    /// - `GET ?interaction=<id>` shows a form (`username`, `password`) naming the client
    ///   and the scopes it asks for, and sets the [`CSRF_COOKIE`](Provider::CSRF_COOKIE)
    ///   that the form repeats. An unknown or expired interaction gets a 400 page.
    ///   With the device flow, `GET ?return_to=<path>` instead signs the user in for the
    ///   device verification page and goes back there: `path` must be
    ///   [`Paths::device_verification`](crate::Paths::device_verification), optionally with
    ///   a well-formed `user_code` (anything else is a 400 page, so it is no open redirect).
    /// - `POST` (a form with `interaction`, `csrf`, `username`, `password`) checks the CSRF
    ///   token (403 if it is missing or does not match the cookie, and nothing else
    ///   happens), then the [`Authenticator`](portcullis_grants::Authenticator): wrong
    ///   credentials show the form again with a 401 and a message that does not say
    ///   whether the user exists; right ones start a new browser session (`amr` `pwd`)
    ///   replacing any the browser had — keeping its clients when the same user signs in
    ///   again — set the [`SESSION_COOKIE`](Provider::SESSION_COOKIE) and answer 303 to the
    ///   consent page for the same interaction. With
    ///   [`ProviderBuilder::rate_limits`](crate::ProviderBuilder::rate_limits), an attempt
    ///   over the login limits or while the typed username and IP are locked out after
    ///   failures shows the form again with a 429 and `Retry-After`, for an unknown
    ///   username exactly as for a known one; a successful sign-in resets the failures.
    ///
    /// Without an authenticator the page is a 500 saying so. Other methods get 405. Every
    /// page is HTML that cannot be framed or cached and sends no referrer.
    pub async fn login_page(&self, request: Request<Bytes>) -> Response<Bytes> {
        match *request.method() {
            Method::GET => self.show_login(&request).await,
            Method::POST => self.submit_login(&request).await,
            _ => method_not_allowed(),
        }
    }

    /// The default consent page, for [`Paths::consent`](crate::Paths::consent) (feature
    /// `ui`).
    ///
    /// Both methods need a valid session, signed in after the interaction began if it
    /// required a sign-in (as with `prompt=login`); without one the answer is a 303 to the
    /// login page for the interaction.
    ///
    /// - `GET ?interaction=<id>` shows the client's name, the scopes it asks for with their
    ///   descriptions, and a form with two buttons, `decision=allow` and `decision=deny`.
    /// - `POST` checks the CSRF token as the login page does, then completes the
    ///   interaction with [`Decision::Allow`] of the requested scopes (and the session's
    ///   subject and `auth_time`) or [`Decision::Deny`], answering what
    ///   [`Provider::complete`] answers: a 303 to the client's redirect URI.
    pub async fn consent_page(&self, request: Request<Bytes>) -> Response<Bytes> {
        match *request.method() {
            Method::GET => self.show_consent(&request).await,
            Method::POST => self.submit_consent(&request).await,
            _ => method_not_allowed(),
        }
    }

    async fn show_login(&self, request: &Request<Bytes>) -> Response<Bytes> {
        let target = match self
            .login_target(
                query_param(request, "interaction").as_deref(),
                query_param(request, "return_to").as_deref(),
            )
            .await
        {
            Ok(target) => target,
            Err(page) => return page,
        };
        if self.0.authenticator.is_none() {
            return no_authenticator();
        }
        let csrf = match page_token(request.headers()) {
            Ok(csrf) => csrf,
            Err(err) => return entropy_failure(&err),
        };
        let page = html(
            StatusCode::OK,
            login_form(&target, &csrf.value, None, ""),
            PAGE_CSP,
        );
        self.with_csrf_cookie(page, &csrf)
    }

    async fn submit_login(&self, request: &Request<Bytes>) -> Response<Bytes> {
        let form = match request::form(request, self.max_body_bytes()) {
            Ok(form) => form,
            Err(err) => return unreadable_form(&err),
        };
        let Some(csrf) = checked_csrf(request.headers(), &form) else {
            return csrf_failure();
        };
        let target = match self
            .login_target(form.get("interaction"), form.get("return_to"))
            .await
        {
            Ok(target) => target,
            Err(page) => return page,
        };
        let Some(authenticator) = &self.0.authenticator else {
            return no_authenticator();
        };
        let username = form.get("username").unwrap_or_default();
        let password = form.get("password").unwrap_or_default();
        if username.is_empty() || password.is_empty() {
            let body = login_form(
                &target,
                csrf,
                Some("Enter your username and password."),
                username,
            );
            return html(StatusCode::BAD_REQUEST, body, PAGE_CSP);
        }
        // Rate limits and lockout (`rate_limit`): keyed on the typed username, whether or
        // not it names a user, so the answer never tells.
        let ip = crate::ClientIp::of(request);
        if let Err(throttled) = self.check_login(username, ip) {
            return too_many_attempts(&target, csrf, username, throttled);
        }
        match authenticator.authenticate(username, password).await {
            Ok(Some(subject)) => {
                self.login_succeeded(username, ip);
                let user = AuthenticatedUser {
                    subject,
                    auth_time: self.now(),
                };
                let cookie = match self.replace_session(request.headers(), &user).await {
                    Ok(cookie) => cookie,
                    Err(SessionError::Store(err)) => return store_failure(&err),
                    Err(SessionError::Token(err)) => return entropy_failure(&err),
                };
                tracing::info!(client_id = ?target.client_id(), "user signed in");
                let next = match &target {
                    LoginTarget::Interaction(interaction) => {
                        interaction_url(&self.paths().consent, &interaction.id)
                    }
                    LoginTarget::Return(path) => path.clone(),
                };
                with_cookie(see_other(&next), &cookie)
            }
            Ok(None) => {
                tracing::info!(client_id = ?target.client_id(), "sign-in refused: wrong credentials");
                self.login_failed(username, ip);
                self.events().emit(portcullis_events::Event::LoginFailed {
                    username: username.to_owned(),
                    reason: "wrong credentials".into(),
                });
                let body = login_form(&target, csrf, Some(WRONG_CREDENTIALS), username);
                html(StatusCode::UNAUTHORIZED, body, PAGE_CSP)
            }
            Err(err) => {
                tracing::error!("the authenticator failed: {err}");
                self.events().emit(portcullis_events::Event::LoginFailed {
                    username: username.to_owned(),
                    reason: "the credentials could not be checked".into(),
                });
                message_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Sign-in failed",
                    "Your credentials could not be checked. Try again later.",
                )
            }
        }
    }

    async fn show_consent(&self, request: &Request<Bytes>) -> Response<Bytes> {
        let interaction = match self
            .waiting(query_param(request, "interaction").as_deref())
            .await
        {
            Ok(interaction) => interaction,
            Err(page) => return page,
        };
        let user = match self.signed_in_for(&interaction, request.headers()).await {
            Ok(Some(session)) => AuthenticatedUser::from(&session),
            Ok(None) => return self.to_login(&interaction),
            Err(page) => return page,
        };
        let csrf = match page_token(request.headers()) {
            Ok(csrf) => csrf,
            Err(err) => return entropy_failure(&err),
        };
        let scopes = self.describe(&interaction.scopes).await;
        let switch_user = interaction_url(&self.paths().login, &interaction.id);
        let body = consent_form(&interaction, &user, &csrf.value, &scopes, &switch_user);
        let csp = consent_csp(&interaction.redirect_uri);
        self.with_csrf_cookie(html(StatusCode::OK, body, &csp), &csrf)
    }

    async fn submit_consent(&self, request: &Request<Bytes>) -> Response<Bytes> {
        let form = match request::form(request, self.max_body_bytes()) {
            Ok(form) => form,
            Err(err) => return unreadable_form(&err),
        };
        if checked_csrf(request.headers(), &form).is_none() {
            return csrf_failure();
        }
        let interaction = match self.waiting(form.get("interaction")).await {
            Ok(interaction) => interaction,
            Err(page) => return page,
        };
        let session = match self.signed_in_for(&interaction, request.headers()).await {
            Ok(Some(session)) => session,
            Ok(None) => return self.to_login(&interaction),
            Err(page) => return page,
        };
        let decision = match form.get("decision") {
            Some("allow") => Decision::Allow {
                subject: session.subject.clone(),
                scopes: interaction.scopes.clone(),
                auth_time: session.auth_time,
            },
            Some("deny") => Decision::Deny,
            _ => {
                return message_page(
                    StatusCode::BAD_REQUEST,
                    "No decision",
                    "Choose Allow or Deny.",
                );
            }
        };
        // `Decision::Deny` names no user; this page knows who refused, for the event.
        match self
            .complete_by(&interaction.id, decision, Some(&session.subject))
            .await
        {
            Ok(response) => {
                if session::delivers_grant(&response) {
                    self.record_client(&session, &interaction.client_id).await;
                }
                response
            }
            Err(CompleteError::UnknownInteraction) => unknown_interaction(),
            Err(CompleteError::Store(err)) => store_failure(&err),
            Err(err) => {
                tracing::error!(
                    "completing an interaction failed: {err}: {:?}",
                    std::error::Error::source(&err)
                );
                message_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "The request could not be completed. Go back to the application and try again.",
                )
            }
        }
    }

    /// What a sign-in is for: the interaction with this id or, without one, a return to
    /// the device verification page; or the page to show instead.
    async fn login_target(
        &self,
        interaction: Option<&str>,
        return_to: Option<&str>,
    ) -> Result<LoginTarget, Response<Bytes>> {
        if let (None, Some(return_to)) = (interaction, return_to) {
            return self
                .device_return_path(return_to)
                .map(LoginTarget::Return)
                .ok_or_else(unknown_interaction);
        }
        self.waiting(interaction)
            .await
            .map(LoginTarget::Interaction)
    }

    /// The interaction with this id, or the page to show instead.
    async fn waiting(&self, id: Option<&str>) -> Result<Interaction, Response<Bytes>> {
        let Some(id) = id.filter(|id| !id.is_empty()) else {
            return Err(unknown_interaction());
        };
        match self.interaction(id).await {
            Ok(Some(interaction)) => Ok(interaction),
            Ok(None) => Err(unknown_interaction()),
            Err(CompleteError::Store(err)) => Err(store_failure(&err)),
            Err(err) => {
                tracing::error!("reading an interaction failed: {err}");
                Err(message_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "The request could not be read. Try again later.",
                ))
            }
        }
    }

    /// The browser session, if there is one fit for this interaction: when the interaction
    /// required a sign-in, only one made after it began counts (to the second, the
    /// precision of `auth_time`).
    async fn signed_in_for(
        &self,
        interaction: &Interaction,
        headers: &HeaderMap,
    ) -> Result<Option<SessionRecord>, Response<Bytes>> {
        let user = match self.session(headers).await {
            Ok(Some(session)) => session,
            Ok(None) => return Ok(None),
            Err(err) => return Err(store_failure(&err)),
        };
        if !interaction.login_required {
            return Ok(Some(user));
        }
        let Ok(handle) = RawToken::parse(&interaction.id, TokenKind::PendingAuthorization) else {
            return Err(unknown_interaction());
        };
        match self
            .store()
            .get_pending(&handle.lookup_key(), self.now())
            .await
        {
            Ok(Some(pending)) => Ok((user.auth_time.unix_timestamp()
                >= pending.created_at.unix_timestamp())
            .then_some(user)),
            Ok(None) => Err(unknown_interaction()),
            Err(err) => Err(store_failure(&err)),
        }
    }

    /// Ends the browser's current session, if any, and starts one for `user`; answers the
    /// new session's `Set-Cookie`. A new handle on every sign-in means a handle planted in
    /// the browser before (session fixation) never becomes a signed-in session. When the same
    /// user signs in again (`prompt=login`, `max_age`), the clients of the old session carry
    /// over, so logout still knows them.
    async fn replace_session(
        &self,
        headers: &HeaderMap,
        user: &AuthenticatedUser,
    ) -> Result<String, SessionError> {
        let clients = match self.sign_out(headers).await? {
            Some(previous) if previous.subject == user.subject => previous.clients,
            _ => BTreeSet::new(),
        };
        let (_, cookie) = self
            .open_session(user, vec![PASSWORD_AMR.to_owned()], clients)
            .await?;
        Ok(cookie)
    }

    /// Each requested scope with its description from the catalog (just the name if the
    /// catalog cannot be read or lacks it).
    async fn describe(&self, scopes: &ScopeSet) -> Vec<(String, Option<String>)> {
        let catalog = match self.scope_catalog().await {
            Ok(catalog) => Some(catalog),
            Err(err) => {
                tracing::warn!("the consent page shows scopes without descriptions: {err}");
                None
            }
        };
        scopes
            .iter()
            .map(|scope| {
                let description = catalog
                    .as_ref()
                    .and_then(|catalog| catalog.get(scope.as_str()))
                    .map(|definition| definition.description.clone());
                (scope.as_str().to_owned(), description)
            })
            .collect()
    }

    /// A 303 to the login page for this interaction.
    fn to_login(&self, interaction: &Interaction) -> Response<Bytes> {
        see_other(&interaction_url(&self.paths().login, &interaction.id))
    }

    /// Sets the CSRF cookie on `page` if the token is new.
    fn with_csrf_cookie(&self, page: Response<Bytes>, csrf: &CsrfToken) -> Response<Bytes> {
        if !csrf.fresh {
            return page;
        }
        let cookie = session::set_cookie(
            Provider::CSRF_COOKIE,
            &csrf.value,
            None,
            "Strict",
            self.secure_cookies(),
        );
        with_cookie(page, &cookie)
    }
}

/// What the login page signs a user in for.
enum LoginTarget {
    /// An authorization request waiting for login and consent.
    Interaction(Interaction),
    /// The device verification page (a validated local path).
    Return(String),
}

impl LoginTarget {
    /// The client of the interaction, for the log.
    fn client_id(&self) -> Option<&str> {
        match self {
            LoginTarget::Interaction(interaction) => Some(interaction.client_id.as_str()),
            LoginTarget::Return(_) => None,
        }
    }
}

/// The CSRF token a page's form carries.
#[derive(Debug)]
struct CsrfToken {
    /// 256 random bits in base64url.
    value: String,
    /// Whether the browser does not have it yet (so the page must set the cookie).
    fresh: bool,
}

/// The browser's CSRF cookie if it has a well-formed one, else a new random token.
/// The consent page's policy: [`PAGE_CSP`], except that its form may also lead to the
/// redirect URI's origin, since the answer is a `303` there and browsers apply
/// `form-action` to redirects that follow a submission.
pub(super) fn consent_csp(redirect_uri: &str) -> String {
    PAGE_CSP.replace(
        "form-action 'self'",
        &format!(
            "form-action 'self' {}",
            crate::authorize::form_action_source(redirect_uri)
        ),
    )
}

fn page_token(headers: &HeaderMap) -> Result<CsrfToken, TokenError> {
    if let Some(existing) =
        session::cookies(headers, Provider::CSRF_COOKIE).find(|value| well_formed(value))
    {
        return Ok(CsrfToken {
            value: existing.to_owned(),
            fresh: false,
        });
    }
    Ok(CsrfToken {
        value: URL_SAFE_NO_PAD.encode(random_bytes()?),
        fresh: true,
    })
}

/// The form's CSRF token if it is well formed and equal, compared in constant time, to a
/// CSRF cookie the request carries (double submit: a cross-site form can send the cookie
/// but cannot read it to repeat it).
fn checked_csrf<'a>(headers: &HeaderMap, form: &'a Params) -> Option<&'a str> {
    let submitted = form.get("csrf").filter(|token| well_formed(token))?;
    let matched = session::cookies(headers, Provider::CSRF_COOKIE)
        .filter(|cookie| well_formed(cookie))
        .fold(false, |matched, cookie| {
            matched | constant_time_eq(cookie.as_bytes(), submitted.as_bytes())
        });
    matched.then_some(submitted)
}

/// Whether `token` is 32 bytes in unpadded base64url, as every CSRF token this module makes.
fn well_formed(token: &str) -> bool {
    token.len() == 43
        && URL_SAFE_NO_PAD
            .decode(token)
            .is_ok_and(|bytes| bytes.len() == 32)
}

/// 32 bytes from the operating system's random generator (for the pages' CSRF tokens).
///
/// This crate reaches the generator through `portcullis_tokens::mint`, whose 43-character
/// body is exactly 32 random bytes in base64url.
pub(super) fn random_bytes() -> Result<[u8; 32], TokenError> {
    let token = mint(TokenKind::PendingAuthorization)?;
    let unexpected =
        |reason: &str| TokenError::Entropy(format!("unexpected token shape: {reason}"));
    let body = token
        .expose_secret()
        .strip_prefix(TokenKind::PendingAuthorization.prefix())
        .ok_or_else(|| unexpected("prefix"))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(body)
        .map_err(|_| unexpected("encoding"))?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| unexpected("length"))
}

/// Equality whose time depends only on the lengths.
pub(super) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let difference = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(difference) == 0
}

/// The query parameter `name`, if it is there exactly once.
fn query_param(request: &Request<Bytes>, name: &str) -> Option<String> {
    let query = request.uri().query().unwrap_or_default();
    let params = Params::parse(query.as_bytes()).ok()?;
    if params.duplicates().contains(name) {
        return None;
    }
    params.get(name).map(str::to_owned)
}

/// The page for a POST whose form cannot be read (413 when it is too large).
fn unreadable_form(err: &OAuthError) -> Response<Bytes> {
    tracing::debug!(
        code = err.code(),
        "page form refused: {}",
        err.description()
    );
    message_page(err.status(), "This form cannot be read", err.description())
}

/// Adds a `Set-Cookie` header.
fn with_cookie(mut response: Response<Bytes>, cookie: &str) -> Response<Bytes> {
    match HeaderValue::from_str(cookie) {
        Ok(value) => {
            response.headers_mut().append(SET_COOKIE, value);
            response
        }
        // Cookies are built from base64url, digits and fixed attributes only.
        Err(_) => message_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "The sign-in cookie could not be built.",
        ),
    }
}

fn method_not_allowed() -> Response<Bytes> {
    let mut page = message_page(
        StatusCode::METHOD_NOT_ALLOWED,
        "Method not allowed",
        "This page answers only GET and POST.",
    );
    page.headers_mut()
        .insert(ALLOW, HeaderValue::from_static("GET, POST"));
    page
}

fn unknown_interaction() -> Response<Bytes> {
    message_page(
        StatusCode::BAD_REQUEST,
        "This sign-in request is no longer valid",
        "It has expired, was already completed, or the link is wrong. \
         Go back to the application and start again.",
    )
}

fn csrf_failure() -> Response<Bytes> {
    message_page(
        StatusCode::FORBIDDEN,
        "This form could not be verified",
        "Its security token is missing or does not match this browser. \
         Reload the page and try again.",
    )
}

/// The login form again, 429 with `Retry-After` (RFC 6585 §4, no redirect): the same for
/// every username, existing or not.
fn too_many_attempts(
    target: &LoginTarget,
    csrf: &str,
    username: &str,
    throttled: crate::Throttled,
) -> Response<Bytes> {
    let seconds = throttled.retry_after_secs();
    let unit = if seconds == 1 { "second" } else { "seconds" };
    let message = format!("Too many sign-in attempts. Try again in {seconds} {unit}.");
    let body = login_form(target, csrf, Some(&message), username);
    let mut page = html(StatusCode::TOO_MANY_REQUESTS, body, PAGE_CSP);
    page.headers_mut()
        .insert(http::header::RETRY_AFTER, HeaderValue::from(seconds));
    page
}

fn no_authenticator() -> Response<Bytes> {
    tracing::error!(
        "the login page needs an Authenticator: configure one with ProviderBuilder::authenticator"
    );
    message_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Sign-in is not available",
        "The provider has no authenticator configured, so it cannot check passwords.",
    )
}

fn entropy_failure(err: &TokenError) -> Response<Bytes> {
    tracing::error!("a browser page failed: {err}");
    message_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "The page could not be prepared. Try again later.",
    )
}

/// The hidden fields both forms carry.
fn hidden_fields(interaction: &Interaction, csrf: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"interaction\" value=\"{}\">\n\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\">\n",
        escape_html(&interaction.id),
        escape_html(csrf),
    )
}

fn login_form(target: &LoginTarget, csrf: &str, error: Option<&str>, username: &str) -> String {
    let mut main = String::from("<h1>Sign in</h1>\n");
    let hidden = match target {
        LoginTarget::Interaction(interaction) => {
            main.push_str(&login_intro(interaction));
            hidden_fields(interaction, csrf)
        }
        LoginTarget::Return(path) => {
            main.push_str("<p>Sign in to connect a device to your account.</p>\n");
            format!(
                "<input type=\"hidden\" name=\"return_to\" value=\"{}\">\n\
                 <input type=\"hidden\" name=\"csrf\" value=\"{}\">\n",
                escape_html(path),
                escape_html(csrf),
            )
        }
    };
    if let Some(error) = error {
        main.push_str(&format!(
            "<p class=\"error\" role=\"alert\">{}</p>\n",
            escape_html(error)
        ));
    }
    main.push_str("<form method=\"post\">\n");
    main.push_str(&hidden);
    main.push_str(&format!(
        "<label for=\"username\">Username</label>\n\
         <input type=\"text\" id=\"username\" name=\"username\" value=\"{}\" \
         autocomplete=\"username\" autocapitalize=\"none\" spellcheck=\"false\" required autofocus>\n\
         <label for=\"password\">Password</label>\n\
         <input type=\"password\" id=\"password\" name=\"password\" \
         autocomplete=\"current-password\" required>\n\
         <button type=\"submit\">Sign in</button>\n</form>\n",
        escape_html(username)
    ));
    layout("Sign in", &main)
}

/// Who asks the user to sign in, and for what.
fn login_intro(interaction: &Interaction) -> String {
    let client = escape_html(&interaction.client_name);
    let mut main = String::new();
    if interaction.scopes.is_empty() {
        main.push_str(&format!(
            "<p><strong>{client}</strong> asks you to sign in.</p>\n"
        ));
    } else {
        main.push_str(&format!(
            "<p><strong>{client}</strong> asks you to sign in and for access to:</p>\n<ul>\n"
        ));
        for scope in interaction.scopes.iter() {
            main.push_str(&format!("<li>{}</li>\n", escape_html(scope.as_str())));
        }
        main.push_str("</ul>\n");
    }
    main
}

fn consent_form(
    interaction: &Interaction,
    user: &AuthenticatedUser,
    csrf: &str,
    scopes: &[(String, Option<String>)],
    switch_user: &str,
) -> String {
    let client = escape_html(&interaction.client_name);
    let mut main = String::from("<h1>Allow access?</h1>\n");
    main.push_str(&format!(
        "<p><strong>{client}</strong> asks for access to your account.</p>\n"
    ));
    if scopes.is_empty() {
        main.push_str("<p>It asks for no specific permissions.</p>\n");
    } else {
        main.push_str("<p>It will be able to:</p>\n<ul>\n");
        for (name, description) in scopes {
            match description {
                Some(description) => main.push_str(&format!(
                    "<li><strong>{}</strong>: {}</li>\n",
                    escape_html(name),
                    escape_html(description)
                )),
                None => main.push_str(&format!(
                    "<li><strong>{}</strong></li>\n",
                    escape_html(name)
                )),
            }
        }
        main.push_str("</ul>\n");
    }
    main.push_str("<form method=\"post\">\n");
    main.push_str(&hidden_fields(interaction, csrf));
    main.push_str(
        "<button type=\"submit\" name=\"decision\" value=\"allow\">Allow</button>\n\
         <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button>\n</form>\n",
    );
    main.push_str(&format!(
        "<p class=\"muted\">Signed in as <strong>{}</strong>. \
         <a href=\"{}\">Not you? Sign in as someone else.</a></p>\n",
        escape_html(user.subject.as_str()),
        escape_html(switch_user)
    ));
    layout("Allow access?", &main)
}
