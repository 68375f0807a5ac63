//! The authorization endpoint as a browser meets it (RFC 6749 §3.1 through a user agent):
//! the provider's browser session for single sign-on (OpenID Connect Core §3.1.2.3),
//! interactions answered with a 303 to the login or consent page, and, with the `ui`
//! feature, default login and consent pages (DESIGN §4.1).
//!
//! # The browser session
//!
//! Signing in creates a [`SessionRecord`] in the store — who signed in, when (`auth_time`),
//! how (`amr`), the clients that received a grant since, and when the session ends — keyed
//! by the SHA-256 of a fresh random handle (`pc_se_…`, 256 bits). The browser holds only
//! the handle, in the [`Provider::SESSION_COOKIE`]: `HttpOnly`, `SameSite=Lax` (so it
//! arrives on the top-level navigation from a client to the authorization endpoint),
//! `Path=/`, `Secure` unless the issuer is `http` on loopback, with a `Max-Age` of the
//! session lifetime ([`ProviderBuilder::session_lifetime`](crate::ProviderBuilder::session_lifetime),
//! 12 hours by default).
//!
//! A cookie naming no live record — unknown, forged, malformed, expired, or ended by logout
//! ([`Provider::end_session`], [`Provider::sign_out`]) — is the same as none: the user is
//! asked to sign in. Because the record is the truth, a session ends everywhere at once when
//! it is deleted, every instance sharing the store sees the same sessions, and no key has
//! to be shared or kept secret.

use std::collections::BTreeSet;

use bytes::Bytes;
use http::header::{HeaderValue, REFERRER_POLICY};
use http::{HeaderMap, Request, Response};
use portcullis_grants::authorization_request::requested_client_id;
use portcullis_registry::ClientId;
use portcullis_store::{SessionRecord, StoreError};
use portcullis_tokens::{TokenError, TokenKind, mint};
use time::Duration;

use crate::response::see_other;
use crate::{AuthenticatedUser, Authorization, Provider, request};

mod layout;
#[cfg(feature = "ui")]
mod pages;
mod session;

pub(crate) use layout::{message_page, store_failure};

#[cfg(test)]
mod tests;

/// Why a browser session could not be started.
///
/// ```
/// use portcullis_endpoints::SessionError;
/// use portcullis_store::StoreError;
///
/// let err = SessionError::from(StoreError::Unavailable { message: "pool timed out".into(), source: None });
/// assert_eq!(err.to_string(), "storing the session failed");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The operating system's random generator failed to provide a session handle.
    #[error("minting the session handle failed")]
    Token(#[from] TokenError),
    /// The store failed; no session was created.
    #[error("storing the session failed")]
    Store(#[from] StoreError),
}

impl From<&SessionRecord> for AuthenticatedUser {
    fn from(session: &SessionRecord) -> Self {
        AuthenticatedUser {
            subject: session.subject.clone(),
            auth_time: session.auth_time,
        }
    }
}

impl Provider {
    /// The name of the provider's session cookie.
    pub const SESSION_COOKIE: &'static str = "portcullis_session";

    /// The name of the cookie that carries the login and consent pages' CSRF token
    /// (double submit: the page's form repeats its value).
    pub const CSRF_COOKIE: &'static str = "portcullis_csrf";

    /// How long a session lasts after sign-in unless
    /// [`ProviderBuilder::session_lifetime`](crate::ProviderBuilder::session_lifetime) says
    /// otherwise: 12 hours.
    pub const DEFAULT_SESSION_LIFETIME: Duration = Duration::hours(12);

    /// The authorization endpoint for adapters: [`Provider::authorize`] with the user of
    /// the browser session, if the request carries a live one.
    ///
    /// An answer is returned as it is (a redirect to the client, a form post page, or an
    /// error page). An [`Interaction`](crate::Interaction) becomes a 303 to
    /// [`Paths::login`](crate::Paths::login) when the user must sign in, else to
    /// [`Paths::consent`](crate::Paths::consent), with the interaction's id in the
    /// `interaction` query parameter. Whoever serves those paths (the `ui` feature's
    /// [`login_page`](Provider::login_page) and [`consent_page`](Provider::consent_page),
    /// or the application's own pages) finishes with [`Provider::complete`]. A request
    /// approved at once (single sign-on) records its client in the session. Every answer
    /// carries `Referrer-Policy: no-referrer`, so the request's parameters do not leak to
    /// the next site. If the store cannot be read, the answer is a 503 or 500 page.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use portcullis_endpoints::Provider;
    /// use portcullis_registry::{ClientKind, NewClient, ScopeCatalog};
    /// use portcullis_store::{ClientStore, MemoryStore};
    /// use std::sync::Arc;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let store = Arc::new(MemoryStore::new());
    /// let client = NewClient::new("Web", ClientKind::Web)
    ///     .client_id("web-app")
    ///     .redirect_uri("https://app.example/cb")
    ///     .scopes(["openid"])
    ///     .build(&ScopeCatalog::with_oidc_scopes())?
    ///     .client;
    /// store.insert_client(client).await?;
    /// let provider = Provider::builder("https://id.example", store).build()?;
    ///
    /// let request = http::Request::get("/oauth/authorize?response_type=code&client_id=web-app&scope=openid")
    ///     .body(Bytes::new())?;
    /// let response = provider.authorize_http(request).await;
    /// // No session cookie: off to the login page.
    /// assert_eq!(response.status(), 303);
    /// assert!(response.headers()["location"].to_str()?.starts_with("/oauth/login?interaction=pc_pa_"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })
    /// # }
    /// ```
    pub async fn authorize_http(&self, request: Request<Bytes>) -> Response<Bytes> {
        let mut response = match self.session(request.headers()).await {
            Ok(session) => self.authorize_in_session(request, session).await,
            Err(err) => store_failure(&err),
        };
        response
            .headers_mut()
            .insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        response
    }

    async fn authorize_in_session(
        &self,
        request: Request<Bytes>,
        session: Option<SessionRecord>,
    ) -> Response<Bytes> {
        let user = session.as_ref().map(AuthenticatedUser::from);
        // Read before the request is handed over, to record the client if it is approved.
        let client_id = session
            .as_ref()
            .and_then(|_| request::authorization(&request, self.max_body_bytes()).ok())
            .and_then(|params| requested_client_id(&params).ok());
        match self.authorize(request, user.as_ref()).await {
            Authorization::Respond(response) => {
                if let (Some(session), Some(client_id)) = (&session, &client_id)
                    && session::delivers_grant(&response)
                {
                    self.record_client(session, client_id).await;
                }
                response
            }
            Authorization::Interaction(interaction) => {
                let path = if interaction.login_required {
                    &self.paths().login
                } else {
                    &self.paths().consent
                };
                see_other(&interaction_url(path, &interaction.id))
            }
        }
    }

    /// The live browser session named by the [`SESSION_COOKIE`](Provider::SESSION_COOKIE)
    /// in these request headers, or `None` when there is none, or its handle is malformed,
    /// unknown, expired or ended.
    ///
    /// # Errors
    ///
    /// The store's error when the session cannot be read.
    pub async fn session(&self, headers: &HeaderMap) -> Result<Option<SessionRecord>, StoreError> {
        let now = self.now();
        for id in session::handles(headers, Self::SESSION_COOKIE) {
            if let Some(record) = self.store().get_session(&id, now).await? {
                return Ok(Some(record));
            }
        }
        Ok(None)
    }

    /// The user of the live browser session in these request headers (see
    /// [`Provider::session`]).
    ///
    /// ```
    /// # use portcullis_endpoints::{AuthenticatedUser, Provider};
    /// # use portcullis_tokens::Subject;
    /// # use std::sync::Arc;
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// # let provider = Provider::builder("https://id.example", Arc::new(portcullis_store::MemoryStore::new())).build()?;
    /// let user = AuthenticatedUser { subject: Subject::new("user-1")?, auth_time: provider.now() };
    /// let set_cookie = provider.start_session(&user, &["pwd"]).await?;
    /// let (pair, _attributes) = set_cookie.split_once(';').expect("attributes");
    ///
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert("cookie", pair.parse()?);
    /// assert_eq!(provider.session_user(&headers).await?.map(|u| u.subject), Some(user.subject));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// The store's error when the session cannot be read.
    pub async fn session_user(
        &self,
        headers: &HeaderMap,
    ) -> Result<Option<AuthenticatedUser>, StoreError> {
        Ok(self
            .session(headers)
            .await?
            .as_ref()
            .map(AuthenticatedUser::from))
    }

    /// Signs `user` in: stores a new session for them, authenticated at `user.auth_time`
    /// (kept to the second) by the methods in `amr` (RFC 8176 §2 values such as `"pwd"`),
    /// lasting the [session lifetime](Provider::session_lifetime) from now, and answers the
    /// `Set-Cookie` header value that gives the browser its handle.
    ///
    /// For applications that serve their own login page behind
    /// [`Paths::login`](crate::Paths::login): set the cookie when the user has signed in, and
    /// [`Provider::authorize_http`] will recognize them. To replace a session the browser
    /// already has, [`sign_out`](Provider::sign_out) first.
    ///
    /// The sign-in is reported to [`Provider::events`] as
    /// [`Event::LoginSucceeded`](portcullis_events::Event::LoginSucceeded); an application
    /// that refuses a password reports `Event::LoginFailed` itself (without the password).
    ///
    /// # Errors
    ///
    /// [`SessionError`] when no handle can be minted or the store fails; no session exists
    /// then.
    pub async fn start_session(
        &self,
        user: &AuthenticatedUser,
        amr: &[&str],
    ) -> Result<String, SessionError> {
        let amr = amr.iter().map(|method| (*method).to_owned()).collect();
        let (_, cookie) = self.open_session(user, amr, BTreeSet::new()).await?;
        Ok(cookie)
    }

    /// Ends the browser session named by these request headers: deletes its record from
    /// the store (so the cookie is worthless everywhere) and returns it, with the clients
    /// that received grants in it; `None` if there was no live session. Send
    /// [`session_cookie_removal`](Provider::session_cookie_removal) too, so the browser
    /// forgets the handle.
    ///
    /// # Errors
    ///
    /// The store's error; the session may or may not have ended then.
    pub async fn sign_out(&self, headers: &HeaderMap) -> Result<Option<SessionRecord>, StoreError> {
        let now = self.now();
        let mut ended = None;
        for id in session::handles(headers, Self::SESSION_COOKIE) {
            if let Some(record) = self.store().delete_session(&id, now).await? {
                ended.get_or_insert(record);
            }
        }
        if let Some(record) = &ended {
            tracing::info!(subject = %record.subject, "browser session ended");
        }
        Ok(ended)
    }

    /// Records that `client` received a grant in the browser session named by these
    /// headers, for applications that complete interactions themselves
    /// ([`Provider::complete`]); [`authorize_http`](Provider::authorize_http) and the `ui`
    /// pages do it already. Answers whether there was a live session.
    ///
    /// # Errors
    ///
    /// The store's error.
    pub async fn add_session_client(
        &self,
        headers: &HeaderMap,
        client: &ClientId,
    ) -> Result<bool, StoreError> {
        let now = self.now();
        for id in session::handles(headers, Self::SESSION_COOKIE) {
            if self.store().add_session_client(&id, client, now).await? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// A `Set-Cookie` header value that makes the browser drop its session handle.
    ///
    /// ```
    /// # use portcullis_endpoints::Provider;
    /// # use std::sync::Arc;
    /// # let provider = Provider::builder("https://id.example", Arc::new(portcullis_store::MemoryStore::new())).build()?;
    /// assert!(provider.session_cookie_removal().starts_with("portcullis_session=; Path=/; Max-Age=0"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn session_cookie_removal(&self) -> String {
        session::set_cookie(
            Self::SESSION_COOKIE,
            "",
            Some(0),
            "Lax",
            self.secure_cookies(),
        )
    }

    /// Stores a new session for `user` and answers it with its `Set-Cookie` value.
    pub(crate) async fn open_session(
        &self,
        user: &AuthenticatedUser,
        amr: Vec<String>,
        clients: BTreeSet<ClientId>,
    ) -> Result<(SessionRecord, String), SessionError> {
        let handle = mint(TokenKind::Session)?;
        let now = self.now();
        let lifetime = self.session_lifetime();
        let record = SessionRecord {
            id: handle.lookup_key(),
            subject: user.subject.clone(),
            auth_time: user
                .auth_time
                .replace_nanosecond(0)
                .unwrap_or(user.auth_time),
            amr,
            clients,
            created_at: now,
            expires_at: now + lifetime,
        };
        self.store().insert_session(record.clone()).await?;
        // Every sign-in, the default login page's and an application's own
        // (`start_session`), is reported once the session exists.
        self.events()
            .emit(portcullis_events::Event::LoginSucceeded {
                subject: user.subject.as_str().to_owned(),
            });
        let cookie = session::set_cookie(
            Self::SESSION_COOKIE,
            handle.expose_secret(),
            Some(lifetime.whole_seconds()),
            "Lax",
            self.secure_cookies(),
        );
        Ok((record, cookie))
    }

    /// Adds `client` to `session`; a failure is logged, not answered: the grant has been
    /// issued already, and only a later logout notice would miss the client.
    pub(crate) async fn record_client(&self, session: &SessionRecord, client: &ClientId) {
        match self
            .store()
            .add_session_client(&session.id, client, self.now())
            .await
        {
            Ok(_) => {}
            Err(err) => {
                tracing::warn!(client_id = %client, "recording the client in the session failed: {err}");
            }
        }
    }

    /// Cookies get `Secure` unless the provider is served over `http` (which the builder
    /// allows only on loopback).
    pub(crate) fn secure_cookies(&self) -> bool {
        !self.issuer().starts_with("http://")
    }
}

/// `path` with the interaction's id in the `interaction` query parameter.
fn interaction_url(path: &str, id: &str) -> String {
    let separator = if path.contains('?') { '&' } else { '?' };
    let id: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
    format!("{path}{separator}interaction={id}")
}
