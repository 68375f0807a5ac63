//! The authorization endpoint as a browser meets it (RFC 6749 §3.1 through a user agent):
//! the provider's session cookie for single sign-on (OpenID Connect Core §3.1.2.3),
//! interactions answered with a 303 to the login or consent page, and, with the `ui`
//! feature, default login and consent pages (DESIGN §4.1).
//!
//! # The session cookie
//!
//! [`Provider::SESSION_COOKIE`] holds who signed in and when, signed with HMAC-SHA256
//! under the provider's session key (`ProviderBuilder::session_key`):
//! `v1.<subject, base64url>.<auth_time>.<expires>.<tag, base64url>`, the instants in Unix
//! seconds. It is `HttpOnly`, `SameSite=Lax` (so it arrives on the top-level navigation
//! from a client to the authorization endpoint), `Path=/`, `Secure` when the issuer is
//! https, and lasts [`Provider::SESSION_LIFETIME`]. A forged, tampered, expired or
//! malformed cookie is the same as none: the user is asked to sign in.
//!
//! The session is stateless: it ends when it expires, when the browser drops the cookie
//! ([`Provider::session_cookie_removal`]), or for everyone at once when the key changes.

use std::sync::OnceLock;

use bytes::Bytes;
use http::header::{HeaderValue, REFERRER_POLICY};
use http::{HeaderMap, Request, Response};
use portcullis_tokens::TokenError;
use time::Duration;

use crate::response::see_other;
use crate::{AuthenticatedUser, Authorization, Provider};

#[cfg(feature = "ui")]
mod pages;
mod session;

#[cfg(test)]
mod tests;

impl Provider {
    /// The name of the provider's session cookie.
    pub const SESSION_COOKIE: &'static str = "portcullis_session";

    /// The name of the cookie that carries the login and consent pages' CSRF token
    /// (double submit: the page's form repeats its value).
    pub const CSRF_COOKIE: &'static str = "portcullis_csrf";

    /// How long a session lasts after sign-in: 12 hours.
    pub const SESSION_LIFETIME: Duration = Duration::hours(12);

    /// The authorization endpoint for adapters: [`Provider::authorize`] with the user of
    /// the session cookie, if it is valid.
    ///
    /// An answer is returned as it is (a redirect to the client, a form post page, or an
    /// error page). An [`Interaction`](crate::Interaction) becomes a 303 to
    /// [`Paths::login`](crate::Paths::login) when the user must sign in, else to
    /// [`Paths::consent`](crate::Paths::consent), with the interaction's id in the
    /// `interaction` query parameter. Whoever serves those paths (the `ui` feature's
    /// [`login_page`](Provider::login_page) and [`consent_page`](Provider::consent_page),
    /// or the application's own pages) finishes with [`Provider::complete`]. Every answer
    /// carries `Referrer-Policy: no-referrer`, so the request's parameters do not leak to
    /// the next site.
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
        let user = self.session_user(request.headers());
        let mut response = match self.authorize(request, user.as_ref()).await {
            Authorization::Respond(response) => response,
            Authorization::Interaction(interaction) => {
                let path = if interaction.login_required {
                    &self.paths().login
                } else {
                    &self.paths().consent
                };
                see_other(&interaction_url(path, &interaction.id))
            }
        };
        response
            .headers_mut()
            .insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        response
    }

    /// The user named by a valid [`SESSION_COOKIE`](Provider::SESSION_COOKIE) in these
    /// request headers, or `None` when there is none, or it is forged, tampered with,
    /// expired or malformed (the reason is logged at debug level).
    ///
    /// ```
    /// # use portcullis_endpoints::{AuthenticatedUser, Provider};
    /// # use portcullis_tokens::Subject;
    /// # use std::sync::Arc;
    /// # let provider = Provider::builder("https://id.example", Arc::new(portcullis_store::MemoryStore::new())).build()?;
    /// let user = AuthenticatedUser { subject: Subject::new("user-1")?, auth_time: provider.now() };
    /// let set_cookie = provider.session_cookie(&user)?;
    /// let (pair, _attributes) = set_cookie.split_once(';').expect("attributes");
    ///
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert("cookie", pair.parse()?);
    /// assert_eq!(provider.session_user(&headers).map(|u| u.subject), Some(user.subject));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn session_user(&self, headers: &HeaderMap) -> Option<AuthenticatedUser> {
        let key = self.0.session_key.get()?;
        let now = self.now();
        let mut rejected = None;
        for value in session::cookies(headers, Self::SESSION_COOKIE) {
            match session::verify(key, value, now) {
                Ok(user) => return Some(user),
                Err(reason) => rejected = Some(reason),
            }
        }
        if let Some(reason) = rejected {
            tracing::debug!(?reason, "session cookie ignored");
        }
        None
    }

    /// A `Set-Cookie` header value that signs `user` in for
    /// [`SESSION_LIFETIME`](Provider::SESSION_LIFETIME) from now, for applications that
    /// serve their own login page behind [`Paths::login`](crate::Paths::login): set it when
    /// the user has signed in, and [`Provider::authorize_http`] will recognize them.
    /// `auth_time` is kept to the second.
    ///
    /// # Errors
    ///
    /// [`TokenError::Entropy`] when no session key is configured and the operating system
    /// has provided no random bytes for one, neither at build time nor now.
    pub fn session_cookie(&self, user: &AuthenticatedUser) -> Result<String, TokenError> {
        let key = self.session_key()?;
        let value = session::sign(key, user, self.now() + Self::SESSION_LIFETIME);
        Ok(session::set_cookie(
            Self::SESSION_COOKIE,
            &value,
            Some(Self::SESSION_LIFETIME.whole_seconds()),
            "Lax",
            self.secure_cookies(),
        ))
    }

    /// A `Set-Cookie` header value that ends the browser's session (signing out).
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

    /// The session key, drawn now if the operating system failed to provide one at build.
    fn session_key(&self) -> Result<&[u8; 32], TokenError> {
        if let Some(key) = self.0.session_key.get() {
            return Ok(key);
        }
        let fresh = session::random_bytes()?;
        // If another request won the race, both use its key.
        Ok(self.0.session_key.get_or_init(|| fresh))
    }

    /// Cookies get `Secure` when the provider is served over https.
    fn secure_cookies(&self) -> bool {
        self.issuer().starts_with("https://")
    }
}

/// The provider's session key: the configured one, or 32 random bytes from the operating
/// system. If the generator fails, the key is left empty and drawn at the first sign-in.
pub(crate) fn session_key(configured: Option<[u8; 32]>) -> OnceLock<[u8; 32]> {
    let key = OnceLock::new();
    match configured.map_or_else(session::random_bytes, Ok) {
        Ok(bytes) => {
            let _ = key.set(bytes);
        }
        Err(err) => tracing::warn!("no session key yet: {err}"),
    }
    key
}

/// `path` with the interaction's id in the `interaction` query parameter.
fn interaction_url(path: &str, id: &str) -> String {
    let separator = if path.contains('?') { '&' } else { '?' };
    let id: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
    format!("{path}{separator}interaction={id}")
}
