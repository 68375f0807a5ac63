//! End-session endpoint: OpenID Connect RP-Initiated Logout 1.0 §2–3. A client sends the
//! user's browser here to sign out of the provider, and may ask to have it sent back.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http::header::{ALLOW, HeaderValue, SET_COOKIE};
use http::{Request, Response, StatusCode};
use portcullis_grants::Params;
use portcullis_registry::{Client, ClientId};
use portcullis_tokens::JwtExpectations;
use serde::Deserialize;
use serde_json::Value;
use time::Duration;

pub use crate::browser::SessionError;
use crate::browser::{message_page, store_failure};
use crate::response::see_other;
use crate::{Provider, request};

/// The claims of an `id_token_hint` that logout looks at.
#[derive(Debug, Deserialize)]
struct IdTokenHint {
    /// `aud`: the client or clients the ID token was issued to.
    aud: Audience,
    /// `azp`: the client it was issued to when `aud` names several.
    #[serde(default)]
    azp: Option<String>,
}

/// `aud`, a string or an array of strings (RFC 7519 §4.1.3).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

impl IdTokenHint {
    fn audiences(&self) -> &[String] {
        match &self.aud {
            Audience::One(aud) => std::slice::from_ref(aud),
            Audience::Many(auds) => auds,
        }
    }

    /// The client the ID token was issued to: its only audience, or `azp` when it is one of
    /// several.
    fn client(&self) -> Option<&str> {
        match self.audiences() {
            [only] => Some(only),
            audiences => self
                .azp
                .as_deref()
                .filter(|azp| audiences.iter().any(|aud| aud == azp)),
        }
    }
}

/// A logout request the endpoint refuses: shown as a 400 page, and the session lives on.
#[derive(Debug)]
struct Refused(&'static str);

impl Provider {
    /// The end-session endpoint (OpenID Connect RP-Initiated Logout 1.0), for
    /// [`Paths::end_session`](crate::Paths::end_session): `GET` with a query or `POST` with a
    /// form (§2), ending the browser's session at the provider.
    ///
    /// - `id_token_hint`, if present, must be an ID token this provider signed: a valid
    ///   signature by a published key and `iss` equal to the issuer. An expired one is
    ///   accepted (§2: the OP "SHOULD accept ID Tokens … even when the exp time has
    ///   passed"); a JWT access token (`typ` `at+jwt`) is not an ID token. Its `aud` names
    ///   the client.
    /// - `client_id`, if present, must be one of the hint's audiences; without a hint it
    ///   names the client on its own.
    /// - `post_logout_redirect_uri` is followed only when a client is known (from the hint
    ///   or `client_id`), exists, is not revoked, and has registered exactly that URI (§3);
    ///   the 303 carries `state` if the request had one. Otherwise — no URI, no client, an
    ///   unregistered URI — the answer is a "signed out" page: never a redirect to a URI
    ///   nobody registered.
    /// - The session named by the [`SESSION_COOKIE`](Provider::SESSION_COOKIE) is deleted
    ///   from the store, and the cookie cleared (`Max-Age=0`), whether or not there was
    ///   one.
    ///
    /// A hint that fails verification, a `client_id` that does not match it, or a malformed
    /// request gets a 400 page, and the session is **not** ended (a client that cannot prove
    /// itself does not get to choose where the user goes). The provider asks for no
    /// confirmation: any page can sign a user out by sending them here, as with most
    /// providers. Pages carry the same security headers as the login page; other methods
    /// get 405; a store failure 503 or 500.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use portcullis_endpoints::Provider;
    /// use std::sync::Arc;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let provider = Provider::builder("https://id.example", Arc::new(portcullis_store::MemoryStore::new())).build()?;
    /// // No client known: the redirect URI is not followed.
    /// let request = http::Request::get("/oauth/logout?post_logout_redirect_uri=https%3A%2F%2Fevil.example")
    ///     .body(Bytes::new())?;
    /// let response = provider.end_session(request).await;
    /// assert_eq!(response.status(), 200);
    /// assert!(response.headers().get("location").is_none());
    /// assert!(response.headers()["set-cookie"].to_str()?.contains("Max-Age=0"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn end_session(&self, request: Request<Bytes>) -> Response<Bytes> {
        let params = match request::authorization(&request, self.max_body_bytes())
            .and_then(|params| request::reject_duplicates(&params).map(|()| params))
        {
            Ok(params) => params,
            Err(err) => {
                tracing::debug!(code = err.code(), "logout refused: {}", err.description());
                let mut page = message_page(
                    err.status(),
                    "This sign-out request cannot be read",
                    err.description(),
                );
                if let Some(allow) = err.allow() {
                    page.headers_mut()
                        .insert(ALLOW, HeaderValue::from_static(allow));
                }
                return page;
            }
        };
        let client_id = match self.logout_client(&params) {
            Ok(client_id) => client_id,
            Err(Refused(reason)) => {
                tracing::info!("logout refused: {reason}");
                return message_page(
                    StatusCode::BAD_REQUEST,
                    "This sign-out request could not be verified",
                    "You are still signed in. Go back to the application and try again, \
                     or sign out from its own menu.",
                );
            }
        };
        let client = match &client_id {
            Some(id) => match self.store().get_client(id).await {
                Ok(client) => client.filter(|client| !client.revoked),
                Err(err) => return store_failure(&err),
            },
            None => None,
        };
        if let Err(err) = self.sign_out(request.headers()).await {
            return self.clearing_cookie(store_failure(&err));
        }
        let answer = match redirect_target(&params, client.as_ref()) {
            Some(target) => see_other(&target),
            None => message_page(
                StatusCode::OK,
                "You are signed out",
                "You have signed out. You can close this window.",
            ),
        };
        self.clearing_cookie(answer)
    }

    /// The client the logout names, after checking the hint: `Ok(None)` when none is named.
    fn logout_client(&self, params: &Params) -> Result<Option<ClientId>, Refused> {
        let requested = params
            .get("client_id")
            .map(|id| ClientId::new(id).map_err(|_| Refused("client_id is malformed")))
            .transpose()?;
        let Some(hint) = params.get("id_token_hint") else {
            return Ok(requested);
        };
        let hint = self.verify_hint(hint)?;
        match requested {
            Some(id) if hint.audiences().iter().any(|aud| aud == id.as_str()) => Ok(Some(id)),
            Some(_) => Err(Refused("client_id is not an audience of id_token_hint")),
            None => Ok(hint.client().and_then(|id| ClientId::new(id).ok())),
        }
    }

    /// Checks that `hint` is an ID token signed by one of the published keys for this
    /// issuer, expired or not.
    fn verify_hint(&self, hint: &str) -> Result<IdTokenHint, Refused> {
        // §2: an expired hint is still the provider's word on who the client is; the
        // signature and the issuer are what matter, so any age is accepted (a hint signed
        // by a key no longer published fails anyway).
        let expect = JwtExpectations::new(self.issuer(), self.now()).with_leeway(Duration::MAX);
        let claims: IdTokenHint = self.signing_keys().verify(hint, &expect).map_err(|err| {
            tracing::debug!("id_token_hint refused: {err}");
            Refused("id_token_hint does not verify")
        })?;
        if is_access_token(hint) {
            return Err(Refused("id_token_hint is an access token"));
        }
        Ok(claims)
    }

    /// Adds the `Set-Cookie` that makes the browser forget its session handle.
    fn clearing_cookie(&self, mut response: Response<Bytes>) -> Response<Bytes> {
        if let Ok(value) = HeaderValue::from_str(&self.session_cookie_removal()) {
            response.headers_mut().append(SET_COOKIE, value);
        }
        response
    }
}

/// RFC 9068 §2.1: JWT access tokens have the header `typ` `at+jwt` (also spelled
/// `application/at+jwt`); the same keys sign them, so the type is what tells them apart.
fn is_access_token(jwt: &str) -> bool {
    let header = jwt
        .split('.')
        .next()
        .and_then(|header| URL_SAFE_NO_PAD.decode(header).ok())
        .and_then(|json| serde_json::from_slice::<Value>(&json).ok());
    header
        .as_ref()
        .and_then(|header| header.get("typ"))
        .and_then(Value::as_str)
        .is_some_and(|typ| {
            let typ = typ.to_ascii_lowercase();
            typ == "at+jwt" || typ == "application/at+jwt"
        })
}

/// Where to send the browser after logout (§3): the `post_logout_redirect_uri` if `client`
/// registered it, with `state` added to its query; `None` otherwise.
fn redirect_target(params: &Params, client: Option<&Client>) -> Option<String> {
    let requested = params.get("post_logout_redirect_uri")?;
    if client
        .and_then(|client| client.match_post_logout_redirect_uri(requested))
        .is_none()
    {
        tracing::info!("post_logout_redirect_uri not followed: no known client registered it");
        return None;
    }
    let mut target = requested.to_owned();
    if let Some(state) = params.get("state") {
        let state: String = url::form_urlencoded::byte_serialize(state.as_bytes()).collect();
        let separator = match target.split_once('?') {
            None => "?",
            Some((_, "")) => "",
            Some((_, query)) if query.ends_with('&') => "",
            Some(_) => "&",
        };
        target = format!("{target}{separator}state={state}");
    }
    Some(target)
}
