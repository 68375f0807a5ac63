//! The console's templates (askama, under `templates/console/`) and how a page becomes a
//! response: HTML that is never cached or framed, with a content security policy that
//! allows only the console's own stylesheet and script.

use askama::Template;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, SET_COOKIE,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use portcullis_registry::{
    AccessTokenFormat, AllowedScopes, Client, ClientKind, GrantType, ScopeDefinition,
    TokenEndpointAuthMethod,
};

use super::form::{ClientForm, FieldErrors};
use crate::admin::AdminError;
use crate::users::User;

/// The console pages' content security policy: nothing from elsewhere, no inline code.
const CONSOLE_CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; \
     img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The application types, by wire name, with the names administrators know them by.
pub(crate) const KINDS: &[(&str, &str)] = &[
    ("web", "Regular Web Application"),
    ("spa", "Single Page Application"),
    ("native", "Native"),
    ("m2m", "Machine to Machine"),
    ("resource_owner", "Resource Owner"),
];

/// What every page shares: its title, the highlighted section, and (when signed in) the
/// session's CSRF token for the sign-out form.
pub(crate) struct Chrome {
    pub(crate) title: String,
    pub(crate) active: &'static str,
    pub(crate) csrf: Option<String>,
}

impl Chrome {
    /// A signed-in page.
    pub(crate) fn signed_in(title: impl Into<String>, active: &'static str, csrf: &str) -> Chrome {
        Chrome {
            title: title.into(),
            active,
            csrf: Some(csrf.to_owned()),
        }
    }
}

#[derive(Template)]
#[template(path = "console/sign_in.html")]
pub(crate) struct SignInPage {
    pub(crate) chrome: Chrome,
    pub(crate) csrf: String,
    pub(crate) errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "console/message.html")]
pub(crate) struct MessagePage {
    pub(crate) chrome: Chrome,
    pub(crate) text: String,
}

/// A client as a row of the list and as the settings tab show it.
pub(crate) struct ClientView {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) kind: &'static str,
    pub(crate) grants: String,
    pub(crate) redirect_uris: Vec<String>,
    pub(crate) post_logout_redirect_uris: Vec<String>,
    pub(crate) scopes: String,
    pub(crate) auth_method: &'static str,
    pub(crate) lifetime: u32,
    pub(crate) format: &'static str,
    pub(crate) roles: Vec<String>,
    pub(crate) introspect_any: bool,
    pub(crate) revoked: bool,
    pub(crate) has_secret: bool,
}

impl ClientView {
    pub(crate) fn new(client: &Client) -> ClientView {
        ClientView {
            id: client.id.to_string(),
            name: client.name.clone(),
            description: client.description.clone(),
            kind: kind_label(client.kind),
            grants: client
                .grant_types
                .iter()
                .map(|grant| grant.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            redirect_uris: client
                .redirect_uris
                .iter()
                .map(|uri| uri.as_str().to_owned())
                .collect(),
            post_logout_redirect_uris: client
                .post_logout_redirect_uris
                .iter()
                .map(|uri| uri.as_str().to_owned())
                .collect(),
            scopes: match &client.allowed_scopes {
                AllowedScopes::All => "All scopes".to_owned(),
                AllowedScopes::List(scopes) => scopes.to_string(),
            },
            auth_method: client.auth_method.as_str(),
            lifetime: client.access_token_lifetime_secs,
            format: match client.access_token_format {
                AccessTokenFormat::Opaque => "opaque",
                AccessTokenFormat::Jwt => "JWT",
            },
            roles: client
                .roles
                .iter()
                .map(|role| match &role.division {
                    Some(division) => format!("{} in {division}", role.role),
                    None => format!("{} (home division)", role.role),
                })
                .collect(),
            introspect_any: client.introspect_any,
            revoked: client.revoked,
            has_secret: client.secret_hash.is_some(),
        }
    }
}

/// The name administrators know an application type by.
pub(crate) fn kind_label(kind: ClientKind) -> &'static str {
    KINDS
        .iter()
        .find(|(wire, _)| *wire == kind.as_str())
        .map_or("Unknown", |(_, label)| label)
}

#[derive(Template)]
#[template(path = "console/clients.html")]
pub(crate) struct ClientsPage {
    pub(crate) chrome: Chrome,
    pub(crate) csrf: String,
    pub(crate) clients: Vec<ClientView>,
}

#[derive(Template)]
#[template(path = "console/client_form.html")]
pub(crate) struct ClientFormPage {
    pub(crate) chrome: Chrome,
    pub(crate) csrf: String,
    pub(crate) form: ClientForm,
    pub(crate) errors: FieldErrors,
    pub(crate) others: Vec<String>,
    pub(crate) scopes: Vec<ScopeDefinition>,
    pub(crate) kinds: &'static [(&'static str, &'static str)],
    pub(crate) grants: Vec<&'static str>,
    pub(crate) methods: Vec<&'static str>,
}

/// The fields the client form shows (messages for any other go above the form).
pub(crate) const CLIENT_FORM_FIELDS: &[&str] = &[
    "name",
    "application_type",
    "redirect_uris",
    "post_logout_redirect_uris",
    "description",
    "scopes",
    "access_token_lifetime_secs",
    "access_token_format",
    "grant_types",
    "token_endpoint_auth_method",
    "roles",
    "introspect_any",
];

impl ClientFormPage {
    pub(crate) fn new(
        csrf: &str,
        form: ClientForm,
        errors: FieldErrors,
        scopes: Vec<ScopeDefinition>,
    ) -> ClientFormPage {
        ClientFormPage {
            chrome: Chrome::signed_in("New client", "clients", csrf),
            csrf: csrf.to_owned(),
            form,
            others: errors.others(CLIENT_FORM_FIELDS),
            errors,
            scopes,
            kinds: KINDS,
            grants: GrantType::ALL.iter().map(|grant| grant.as_str()).collect(),
            methods: [
                TokenEndpointAuthMethod::ClientSecretBasic,
                TokenEndpointAuthMethod::ClientSecretPost,
                TokenEndpointAuthMethod::None,
            ]
            .iter()
            .map(|method| method.as_str())
            .collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "console/client_secret.html")]
pub(crate) struct ClientSecretPage {
    pub(crate) chrome: Chrome,
    pub(crate) intro: String,
    pub(crate) client_id: String,
    pub(crate) secret: Option<String>,
}

#[derive(Template)]
#[template(path = "console/client.html")]
pub(crate) struct ClientPage {
    pub(crate) chrome: Chrome,
    pub(crate) csrf: String,
    pub(crate) client: ClientView,
    pub(crate) tab: &'static str,
    /// `(input id, label, URL)`.
    pub(crate) endpoints: Vec<(&'static str, &'static str, String)>,
}

#[derive(Template)]
#[template(path = "console/scopes.html")]
pub(crate) struct ScopesPage {
    pub(crate) chrome: Chrome,
    pub(crate) csrf: String,
    pub(crate) scopes: Vec<ScopeDefinition>,
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
pub(crate) struct AuditPage {
    pub(crate) chrome: Chrome,
    /// Whether the server records events at all.
    pub(crate) enabled: bool,
    pub(crate) rows: Vec<AuditRow>,
    pub(crate) client: String,
    pub(crate) user: String,
    pub(crate) event_type: String,
    pub(crate) since: String,
    pub(crate) until: String,
    pub(crate) problems: Vec<String>,
}

/// One event as the Audit page shows it.
pub(crate) struct AuditRow {
    pub(crate) at: String,
    pub(crate) event_type: &'static str,
    pub(crate) client: String,
    pub(crate) user: String,
    /// The event's fields as JSON (events carry no secrets).
    pub(crate) details: String,
}

impl From<portcullis_events::Envelope> for AuditRow {
    fn from(envelope: portcullis_events::Envelope) -> AuditRow {
        let event = &envelope.event;
        let details = serde_json::to_value(event)
            .ok()
            .and_then(|value| value.get("data").map(ToString::to_string))
            .unwrap_or_default();
        let ts = envelope.timestamp;
        AuditRow {
            at: format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                ts.year(),
                u8::from(ts.month()),
                ts.day(),
                ts.hour(),
                ts.minute(),
                ts.second()
            ),
            event_type: event.name(),
            client: event.client_id().unwrap_or_default().to_owned(),
            user: event.subject().unwrap_or_default().to_owned(),
            details,
        }
    }
}

#[derive(Template)]
#[template(path = "console/users.html")]
pub(crate) struct UsersPage {
    pub(crate) chrome: Chrome,
    pub(crate) csrf: String,
    pub(crate) users: Vec<User>,
    pub(crate) username: String,
    pub(crate) name: String,
    pub(crate) email: String,
    pub(crate) errors: FieldErrors,
}

/// `template` as an HTML response with `status`.
pub(crate) fn render(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(body) => {
            let mut response = (status, body).into_response();
            let headers = response.headers_mut();
            headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(
                CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CONSOLE_CSP),
            );
            headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
            headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
            headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
            response
        }
        Err(err) => {
            tracing::error!(error = %err, "a console page failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page failed to render",
            )
                .into_response()
        }
    }
}

/// A page with one message (errors, expired forms).
pub(crate) fn message(status: StatusCode, title: &str, text: &str, csrf: Option<&str>) -> Response {
    render(
        status,
        &MessagePage {
            chrome: Chrome {
                title: title.to_owned(),
                active: "",
                csrf: csrf.map(str::to_owned),
            },
            text: text.to_owned(),
        },
    )
}

/// An admin operation's failure that is not about a form field, as a page.
pub(crate) fn failure(err: &AdminError, csrf: &str) -> Response {
    let status = err.status();
    let text = if status.is_server_error() {
        tracing::error!(error = %err, "console request failed");
        "The server failed; see its log, then try again.".to_owned()
    } else {
        err.to_string()
    };
    message(status, "Something went wrong", &text, Some(csrf))
}

/// `303 See Other` to `path`, optionally setting cookies.
pub(crate) fn see_other(path: &str, cookies: &[String]) -> Response {
    let mut response = Redirect::to(path).into_response();
    for cookie in cookies {
        if let Ok(value) = HeaderValue::from_str(cookie) {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
    response
}

/// Adds a `Set-Cookie` header.
pub(crate) fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(SET_COOKIE, value);
    }
    response
}

/// `GET /admin/assets/console.css`.
pub(crate) async fn stylesheet() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("../../assets/console.css"),
    )
}

/// `GET /admin/assets/console.js`.
pub(crate) async fn script() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../../assets/console.js"),
    )
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (CONTENT_TYPE, content_type),
            (CACHE_CONTROL, "public, max-age=300"),
            (X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}
