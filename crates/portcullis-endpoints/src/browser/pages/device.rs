//! The device verification page (feature `ui`): RFC 8628 §3.3, user interaction. A
//! signed-in user enters (or, from `verification_uri_complete`, confirms) the user code a
//! device shows, sees which client asks for which scopes, and approves or denies. Wrong
//! codes are rate limited per user (§5.1); the forms carry the pages' CSRF token.

use bytes::Bytes;
use http::header::{HeaderValue, RETRY_AFTER};
use http::{Method, Request, Response, StatusCode};
use portcullis_grants::{Params, UserCode};
use portcullis_registry::Client;
use portcullis_store::{DeviceAuthorization, SessionRecord};

use super::{
    checked_csrf, csrf_failure, entropy_failure, method_not_allowed, page_token, query_param,
    unreadable_form,
};
use crate::browser::layout::{layout, message_page, store_failure};
use crate::device::{DeviceState, Limited};
use crate::response::{PAGE_CSP, escape_html, html, see_other};
use crate::{Provider, request};

/// What a wrong code shows; it never says whether the code exists for another state.
const WRONG_CODE: &str =
    "That code is not valid. Check the code on your device; it may have expired.";

/// What a malformed code shows.
const MALFORMED_CODE: &str = "Enter the 8-letter code shown on your device, such as BCDF-GHJK.";

/// A device authorization a user may decide on, with its client.
struct Found {
    code: UserCode,
    client: Client,
    device: DeviceAuthorization,
}

impl Provider {
    /// The device verification page, for [`Paths::device_verification`](crate::Paths::device_verification)
    /// (feature `ui`, mounted only with [`ProviderBuilder::device_flow`](crate::ProviderBuilder::device_flow)).
    ///
    /// - Without a browser session, both methods answer 303 to the login page, which signs
    ///   the user in and comes back here (with the user code, if one was given).
    /// - `GET` shows a form for the user code; `GET ?user_code=…` (the
    ///   `verification_uri_complete` of RFC 8628 §3.3.1) looks the code up at once.
    /// - `POST` (`csrf`, `user_code`) looks the code up; a live, undecided code shows the
    ///   client's name, the code to compare with the device's (§5.4), the scopes with their
    ///   descriptions, and two buttons `decision=allow` / `decision=deny`; `POST` with a
    ///   `decision` records it (approving every requested scope for the signed-in user)
    ///   and shows that the user may return to the device.
    /// - A CSRF token that is missing or does not match the cookie is a 403 page.
    /// - A wrong code is a 400 page counted against the user; after
    ///   [`USER_CODE_ATTEMPTS_PER_USER`](crate::USER_CODE_ATTEMPTS_PER_USER) wrong codes in
    ///   [`USER_CODE_ATTEMPT_WINDOW`](crate::USER_CODE_ATTEMPT_WINDOW) (or
    ///   [`USER_CODE_ATTEMPTS_GLOBAL`](crate::USER_CODE_ATTEMPTS_GLOBAL) from everyone) every
    ///   lookup is a 429 page with `Retry-After` until the window ends.
    pub async fn device_verification_page(&self, request: Request<Bytes>) -> Response<Bytes> {
        let Some(device) = self.device_state() else {
            return message_page(
                StatusCode::NOT_FOUND,
                "Not found",
                "Device sign-in is not enabled on this server.",
            );
        };
        match *request.method() {
            Method::GET => self.show_device(&request, device).await,
            Method::POST => self.submit_device(&request, device).await,
            _ => method_not_allowed(),
        }
    }

    /// The path the login page may return to, rebuilt from `raw` when it is the device
    /// verification path with at most a well-formed `user_code`; `None` otherwise.
    pub(super) fn device_return_path(&self, raw: &str) -> Option<String> {
        self.device_state()?;
        let path = &self.paths().device_verification;
        let (raw_path, query) = match raw.split_once('?') {
            Some((raw_path, query)) => (raw_path, Some(query)),
            None => (raw, None),
        };
        if raw_path != path {
            return None;
        }
        let Some(query) = query else {
            return Some(path.clone());
        };
        let params = Params::parse(query.as_bytes()).ok()?;
        if params.iter().count() != 1 || !params.duplicates().is_empty() {
            return None;
        }
        let code = UserCode::parse(params.get("user_code")?).ok()?;
        Some(self.device_page_url(Some(&code)))
    }

    /// The verification path, with a user code when given.
    fn device_page_url(&self, code: Option<&UserCode>) -> String {
        let path = &self.paths().device_verification;
        match code {
            Some(code) => crate::device::verification_uri_complete(path, code),
            None => path.clone(),
        }
    }

    /// A 303 to the login page, coming back here (with the typed code when well formed).
    fn device_to_login(&self, typed: Option<&str>) -> Response<Bytes> {
        let code = typed.and_then(|typed| UserCode::parse(typed).ok());
        let back = self.device_page_url(code.as_ref());
        let back: String = url::form_urlencoded::byte_serialize(back.as_bytes()).collect();
        let login = &self.paths().login;
        let separator = if login.contains('?') { '&' } else { '?' };
        see_other(&format!("{login}{separator}return_to={back}"))
    }

    async fn show_device(&self, request: &Request<Bytes>, device: &DeviceState) -> Response<Bytes> {
        let typed = query_param(request, "user_code");
        let session = match self.session(request.headers()).await {
            Ok(Some(session)) => session,
            Ok(None) => return self.device_to_login(typed.as_deref()),
            Err(err) => return store_failure(&err),
        };
        let csrf = match page_token(request.headers()) {
            Ok(csrf) => csrf,
            Err(err) => return entropy_failure(&err),
        };
        let page = match typed {
            None => html(
                StatusCode::OK,
                entry_form(&session, &csrf.value, None, ""),
                PAGE_CSP,
            ),
            Some(typed) => {
                self.device_confirmation(device, &session, &typed, &csrf.value)
                    .await
            }
        };
        self.with_csrf_cookie(page, &csrf)
    }

    async fn submit_device(
        &self,
        request: &Request<Bytes>,
        device: &DeviceState,
    ) -> Response<Bytes> {
        let form = match request::form(request, self.max_body_bytes()) {
            Ok(form) => form,
            Err(err) => return unreadable_form(&err),
        };
        let Some(csrf) = checked_csrf(request.headers(), &form) else {
            return csrf_failure();
        };
        let typed = form.get("user_code").unwrap_or_default();
        let session = match self.session(request.headers()).await {
            Ok(Some(session)) => session,
            Ok(None) => return self.device_to_login(Some(typed)),
            Err(err) => return store_failure(&err),
        };
        let approve = match form.get("decision") {
            None => {
                return self
                    .device_confirmation(device, &session, typed, csrf)
                    .await;
            }
            Some("allow") => true,
            Some("deny") => false,
            Some(_) => {
                return message_page(
                    StatusCode::BAD_REQUEST,
                    "No decision",
                    "Choose Allow or Deny.",
                );
            }
        };
        let found = match self.find_device(device, &session, typed, csrf).await {
            Ok(found) => found,
            Err(page) => return page,
        };
        let approved_by = approve.then_some((&session.subject, session.auth_time));
        match device
            .flow
            .decide(&found.code, approved_by, self.now())
            .await
        {
            Ok(true) if approve => {
                self.record_client(&session, &found.client.id).await;
                tracing::info!(client_id = %found.client.id, "device authorization approved");
                message_page(
                    StatusCode::OK,
                    "Device connected",
                    &format!(
                        "{} can now access your account. Return to your device to continue.",
                        found.client.name
                    ),
                )
            }
            Ok(true) => {
                tracing::info!(client_id = %found.client.id, "device authorization denied");
                message_page(
                    StatusCode::OK,
                    "Request denied",
                    "The device was not given access. You can close this page.",
                )
            }
            Ok(false) => message_page(
                StatusCode::BAD_REQUEST,
                "This code is no longer valid",
                "It has expired or was already used. Start again on your device.",
            ),
            Err(err) => store_failure(&err),
        }
    }

    /// The confirmation page for a typed code, or the page to show instead.
    async fn device_confirmation(
        &self,
        device: &DeviceState,
        session: &SessionRecord,
        typed: &str,
        csrf: &str,
    ) -> Response<Bytes> {
        match self.find_device(device, session, typed, csrf).await {
            Ok(found) => {
                let scopes = self.describe(&found.device.scopes).await;
                html(
                    StatusCode::OK,
                    confirm_form(&found, session, csrf, &scopes),
                    PAGE_CSP,
                )
            }
            Err(page) => page,
        }
    }

    /// The live, undecided device authorization with the typed code, its client known and
    /// not revoked — rate limited per signed-in user: a wrong code counts as a failure.
    async fn find_device(
        &self,
        device: &DeviceState,
        session: &SessionRecord,
        typed: &str,
        csrf: &str,
    ) -> Result<Found, Response<Bytes>> {
        let now = self.now();
        let key = session.subject.as_str();
        if let Err(limited) = device.limiter.check(key, now) {
            tracing::warn!(subject = %session.subject, "user code attempts rate limited");
            return Err(too_many_attempts(limited));
        }
        let Ok(code) = UserCode::parse(typed) else {
            let body = entry_form(session, csrf, Some(MALFORMED_CODE), typed);
            return Err(html(StatusCode::BAD_REQUEST, body, PAGE_CSP));
        };
        let pending = device
            .flow
            .pending(&code, now)
            .await
            .map_err(|err| store_failure(&err))?;
        let client = match &pending {
            Some(found) => self
                .store()
                .get_client(&found.client_id)
                .await
                .map_err(|err| store_failure(&err))?
                .filter(|client| !client.revoked),
            None => None,
        };
        match (pending, client) {
            (Some(device), Some(client)) => Ok(Found {
                code,
                client,
                device,
            }),
            _ => {
                device.limiter.record_failure(key, now);
                tracing::info!(subject = %session.subject, "a wrong user code was entered");
                let body = entry_form(session, csrf, Some(WRONG_CODE), typed);
                Err(html(StatusCode::BAD_REQUEST, body, PAGE_CSP))
            }
        }
    }
}

/// 429 with `Retry-After` in whole seconds (RFC 9110 §10.2.3).
fn too_many_attempts(limited: Limited) -> Response<Bytes> {
    let seconds = limited.retry_after.whole_seconds().max(1);
    let minutes = (seconds + 59) / 60;
    let mut page = message_page(
        StatusCode::TOO_MANY_REQUESTS,
        "Too many attempts",
        &format!("Too many wrong codes were entered. Try again in {minutes} minute(s)."),
    );
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        page.headers_mut().insert(RETRY_AFTER, value);
    }
    page
}

/// "Signed in as …".
fn signed_in_as(session: &SessionRecord) -> String {
    format!(
        "<p class=\"muted\">Signed in as <strong>{}</strong>.</p>\n",
        escape_html(session.subject.as_str())
    )
}

/// The form for a user code.
fn entry_form(session: &SessionRecord, csrf: &str, error: Option<&str>, typed: &str) -> String {
    let mut main =
        String::from("<h1>Connect a device</h1>\n<p>Enter the code shown on your device.</p>\n");
    if let Some(error) = error {
        main.push_str(&format!(
            "<p class=\"error\" role=\"alert\">{}</p>\n",
            escape_html(error)
        ));
    }
    main.push_str(&format!(
        "<form method=\"post\">\n\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\">\n\
         <label for=\"user_code\">Code</label>\n\
         <input type=\"text\" id=\"user_code\" name=\"user_code\" value=\"{}\" \
         autocomplete=\"off\" autocapitalize=\"characters\" spellcheck=\"false\" \
         maxlength=\"64\" placeholder=\"BCDF-GHJK\" required autofocus>\n\
         <button type=\"submit\">Continue</button>\n</form>\n",
        escape_html(csrf),
        escape_html(typed.get(..64).unwrap_or(typed)),
    ));
    main.push_str(&signed_in_as(session));
    layout("Connect a device", &main)
}

/// The approve-or-deny form for a found device authorization.
fn confirm_form(
    found: &Found,
    session: &SessionRecord,
    csrf: &str,
    scopes: &[(String, Option<String>)],
) -> String {
    let client = escape_html(&found.client.name);
    let code = found.code.formatted();
    let mut main = String::from("<h1>Connect a device?</h1>\n");
    main.push_str(&format!(
        "<p><strong>{client}</strong> asks for access to your account.</p>\n\
         <p>Check that your device shows the code <strong>{code}</strong>. \
         If it does not, or you did not start this, choose Deny.</p>\n"
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
    main.push_str(&format!(
        "<form method=\"post\">\n\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\">\n\
         <input type=\"hidden\" name=\"user_code\" value=\"{code}\">\n\
         <button type=\"submit\" name=\"decision\" value=\"allow\">Allow</button>\n\
         <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button>\n</form>\n",
        escape_html(csrf),
    ));
    main.push_str(&signed_in_as(session));
    layout("Connect a device?", &main)
}
