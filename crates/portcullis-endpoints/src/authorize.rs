//! Authorization endpoint: RFC 6749 §3.1, §4.1.1-4.1.2 (code) and §4.2.1-4.2.2 (implicit);
//! `iss` in every response per RFC 9207; `prompt` and `max_age` per OpenID Connect Core
//! §3.1.2.1 and §3.1.2.6; ID tokens from the authorization endpoint per Core §3.2.2.5
//! (`id_token`, `id_token token`) and §3.3.2.5 (`code id_token`).
//!
//! The provider owns the protocol, the application owns people (DESIGN §2):
//! [`Provider::authorize`] validates the request and either answers it at once (an error, or
//! an approval when the user is signed in and has consented before) or hands the application
//! an [`Interaction`] to show its login and consent pages for. The application then calls
//! [`Provider::complete`] with the user's [`Decision`], which yields the redirect back to the
//! client.

use bytes::Bytes;
use http::header::{ALLOW, HeaderValue};
use http::{Request, Response, StatusCode};
use portcullis_grants::authorization_request::{
    AuthorizationRequest, AuthorizationRequestError, Prompt, ResponseMode, ResponseTarget,
    ResponseType, requested_client_id,
};
use portcullis_grants::{GrantError, ID_TOKEN, IdToken, Issuance, Signing, mint_tokens};
use portcullis_registry::{Client, ClientId, Scope, ScopeSet};
use portcullis_store::{
    AuthorizationCode, FamilyId, PendingAuthorization, RecordFamily, StoreError,
};
use portcullis_tokens::{RawToken, Subject, TokenError, TokenKind, mint};
use time::{Duration, OffsetDateTime};

use crate::response::{PAGE_CSP, escape_html, html};
use crate::{AuthorizeErrorCode, OAuthError, Provider, request};

mod deliver;
#[cfg(feature = "ui")]
pub(crate) use deliver::form_action_source;

#[cfg(test)]
mod tests;

/// The user the application says is signed in, if anyone: passed to
/// [`Provider::authorize`] so that a returning user is not asked to sign in again.
///
/// ```
/// use portcullis_endpoints::AuthenticatedUser;
/// use portcullis_tokens::Subject;
///
/// let user = AuthenticatedUser {
///     subject: Subject::new("user-42")?,
///     auth_time: time::OffsetDateTime::now_utc(),
/// };
/// # let _ = user;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatedUser {
    /// Who the user is: the `sub` the provider asserts.
    pub subject: Subject,
    /// When the user last actively authenticated (OpenID Connect `auth_time`), compared
    /// with `max_age`.
    pub auth_time: OffsetDateTime,
}

/// What [`Provider::authorize`] decided.
#[derive(Debug)]
#[must_use = "an Authorization is either a response to send or an interaction to show"]
pub enum Authorization {
    /// The user must sign in or consent: show the application's pages, then call
    /// [`Provider::complete`] with the interaction's id.
    Interaction(Interaction),
    /// Send this response as it is: a redirect to the client (code, token or error), a form
    /// post page, or an error page for a request that must not be redirected.
    Respond(Response<Bytes>),
}

/// An authorization request waiting for the user: what the login and consent pages need.
///
/// The `id` is a bearer handle (`pc_pa_…`): whoever holds it can complete the request, so
/// keep it in a form field or the URL of the application's own pages, never in logs (its
/// `Debug` output leaves it out).
#[derive(Clone, PartialEq, Eq)]
pub struct Interaction {
    /// The handle to pass to [`Provider::complete`] and [`Provider::interaction`].
    pub id: String,
    /// The client that asks.
    pub client_id: ClientId,
    /// Its display name, for the consent page.
    pub client_name: String,
    /// The scopes it asks for (each exists and is allowed for the client).
    pub scopes: ScopeSet,
    /// Whether the user must sign in (again): nobody is signed in, the request said
    /// `prompt=login` or `prompt=select_account`, or the sign-in is older than `max_age`.
    pub login_required: bool,
    /// Whether the user must be asked for consent: the request said `prompt=consent`, or
    /// the [`ConsentSource`](portcullis_grants::ConsentSource) does not remember the user
    /// granting all the requested scopes (or anything at all) to this client. While the user
    /// is not known yet (`login_required`), this is always true; the application may skip
    /// its consent page if it knows the user who signed in has consented.
    pub consent_required: bool,
    /// After this instant the interaction is gone and [`Provider::complete`] fails.
    pub expires_at: OffsetDateTime,
    /// Where the answer goes: the validated redirect URI. A page whose form leads there
    /// (consent answers `303` to it) must allow its origin in its CSP `form-action`,
    /// which browsers also apply to redirects after a submission.
    pub redirect_uri: String,
}

impl std::fmt::Debug for Interaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interaction")
            .field("id", &"<redacted>")
            .field("client_id", &self.client_id)
            .field("client_name", &self.client_name)
            .field("scopes", &self.scopes)
            .field("login_required", &self.login_required)
            .field("consent_required", &self.consent_required)
            .field("expires_at", &self.expires_at)
            .field("redirect_uri", &self.redirect_uri)
            .finish()
    }
}

/// The user's answer to an [`Interaction`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The user signed in and approved.
    Allow {
        /// Who the user is.
        subject: Subject,
        /// The scopes granted: the requested ones, or fewer if the user unticked some.
        scopes: ScopeSet,
        /// When the user authenticated.
        auth_time: OffsetDateTime,
    },
    /// The user refused: the client gets `access_denied`.
    Deny,
}

/// Why [`Provider::complete`] or [`Provider::interaction`] failed. None of these is sent to
/// the client; the application shows its own error page.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CompleteError {
    /// No such interaction: the id is wrong, it expired, or it was completed already
    /// (interactions are single use).
    #[error("the interaction is unknown, expired or already completed")]
    UnknownInteraction,
    /// [`Decision::Allow`] granted a scope the request did not ask for.
    #[error("scope {scope} was not requested")]
    ScopeNotRequested {
        /// The first such scope.
        scope: Scope,
    },
    /// The store failed.
    #[error("storage failed")]
    Store(#[from] StoreError),
    /// Minting or issuing a code or token failed.
    #[error("issuing failed")]
    Token(#[source] GrantError),
}

impl From<TokenError> for CompleteError {
    fn from(err: TokenError) -> Self {
        CompleteError::Token(GrantError::Token(err))
    }
}

impl From<GrantError> for CompleteError {
    fn from(err: GrantError) -> Self {
        match err {
            GrantError::Store(err) => CompleteError::Store(err),
            other => CompleteError::Token(other),
        }
    }
}

/// The page text for a client that is unknown, disabled, or no longer registered for the
/// redirect URI of an interaction.
const CLIENT_GONE: &str = "the client is unknown or not allowed to make authorization requests";

impl Provider {
    /// The authorization endpoint (RFC 6749 §3.1): reads a GET query or a POST form,
    /// validates it, and decides.
    ///
    /// - A request whose client or redirect URI cannot be trusted gets an HTML error page
    ///   (400), never a redirect (RFC 6749 §4.1.2.1).
    /// - Any other error is redirected to the client with `error`, `error_description`,
    ///   `state` and `iss` (RFC 9207), in the query, the fragment or a form post.
    /// - If the user must sign in (no `user`, `prompt=login` or `prompt=select_account`,
    ///   or `max_age` exceeded; `max_age=0` always) or consent (`prompt=consent`, or scopes
    ///   the consent source does not remember being granted), the answer is an
    ///   [`Interaction`]; with `prompt=none` it is a `login_required` or `consent_required`
    ///   redirect instead.
    /// - Otherwise the request is approved at once, as [`Provider::complete`] would with
    ///   [`Decision::Allow`] of the requested scopes.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use portcullis_endpoints::{Authorization, Decision, Provider};
    /// use portcullis_registry::{ClientKind, NewClient, ScopeCatalog, ScopeSet};
    /// use portcullis_store::{ClientStore, MemoryStore};
    /// use portcullis_tokens::Subject;
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
    /// let request = http::Request::get("/oauth/authorize?response_type=code&client_id=web-app&scope=openid&state=xyz")
    ///     .body(Bytes::new())?;
    /// // Nobody is signed in: the application must show its login page.
    /// let Authorization::Interaction(interaction) = provider.authorize(request, None).await else {
    ///     panic!("expected an interaction");
    /// };
    /// assert!(interaction.login_required);
    ///
    /// // … the user signs in and approves …
    /// let response = provider
    ///     .complete(&interaction.id, Decision::Allow {
    ///         subject: Subject::new("user-1")?,
    ///         scopes: ScopeSet::parse("openid")?,
    ///         auth_time: provider.now(),
    ///     })
    ///     .await?;
    /// assert_eq!(response.status(), 303);
    /// let location = response.headers()["location"].to_str()?;
    /// assert!(location.starts_with("https://app.example/cb?code=pc_ac_"));
    /// assert!(location.contains("&state=xyz&iss=https%3A%2F%2Fid.example"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })
    /// # }
    /// ```
    pub async fn authorize(
        &self,
        request: Request<Bytes>,
        user: Option<&AuthenticatedUser>,
    ) -> Authorization {
        let params = match request::authorization(&request, self.max_body_bytes()) {
            Ok(params) => params,
            Err(err) => return Authorization::Respond(request_error_page(&err)),
        };
        // RFC 9126 §4: a pushed request's parameters replace the request's.
        let (params, pushed) = match self.pushed_params(params).await {
            Ok(found) => found,
            Err(response) => return Authorization::Respond(response),
        };
        let client = match requested_client_id(&params) {
            Ok(id) => match self.store().get_client(&id).await {
                Ok(client) => client,
                Err(err) => return Authorization::Respond(store_failure_page(&err)),
            },
            Err(err) => return Authorization::Respond(self.rejected(&err)),
        };
        let catalog = match self.scope_catalog().await {
            Ok(catalog) => catalog,
            Err(err) => {
                return Authorization::Respond(
                    match ResponseTarget::resolve(&params, client.as_ref()) {
                        Ok(target) => self.store_failure_redirect(&target, &err),
                        Err(rejected) => self.rejected(&rejected),
                    },
                );
            }
        };
        let validated =
            match AuthorizationRequest::validate(&params, client.as_ref(), &catalog, self.policy())
            {
                Ok(validated) => validated,
                Err(err) => return Authorization::Respond(self.rejected(&err)),
            };
        match client {
            // RFC 9126 §4: where PAR is required, a request that was not pushed is refused.
            Some(client) if !pushed && self.requires_pushed_request(&client) => {
                Authorization::Respond(self.error_redirect(
                    &validated.target(),
                    AuthorizeErrorCode::InvalidRequest,
                    "this client must push its authorization requests (RFC 9126): send request_uri from the pushed authorization request endpoint",
                ))
            }
            Some(client) => self.decide(validated, &client, user).await,
            // Validation succeeded, so the client exists; keep the compiler's word for it.
            None => Authorization::Respond(error_page(
                StatusCode::BAD_REQUEST,
                AuthorizeErrorCode::InvalidRequest.as_str(),
                CLIENT_GONE,
            )),
        }
    }

    /// Completes an [`Interaction`] with the user's decision and answers the redirect back
    /// to the client (or, for [`ResponseMode::FormPost`], the form post page).
    ///
    /// The interaction is single use: a second call fails with
    /// [`CompleteError::UnknownInteraction`]. [`Decision::Deny`] answers `access_denied`.
    /// [`Decision::Allow`] issues what the response type asks for:
    ///
    /// - `code`: an authorization code, stored for the token endpoint and valid for the
    ///   provider's code TTL;
    /// - `token`: an access token (opaque, or an RFC 9068 JWT for clients that get them),
    ///   never a refresh token (RFC 6749 §4.2.2);
    /// - `id_token`: an ID token carrying the user's claims for the granted scopes (OpenID
    ///   Connect Core §3.2.2.5, §5.4);
    /// - `id_token token`: both, the ID token with `at_hash` (Core §3.2.2.10);
    /// - `code id_token`: a code and an ID token with `c_hash` (Core §3.3.2.11).
    ///
    /// Every ID token has the request's `nonce`, and `auth_time` when the request had
    /// `max_age` or the provider always includes it. Anything with a token in it goes in the
    /// fragment (or a form post), never the query.
    ///
    /// If the client was disabled, or its redirect URI unregistered, since the request
    /// arrived, the answer is an HTML error page instead of a redirect.
    ///
    /// The decision is reported to [`Provider::events`]: `consent.granted` once the grant
    /// is issued, `consent.denied` with an empty subject (`Deny` names no user; the default
    /// consent page reports who refused).
    ///
    /// ```
    /// # use portcullis_endpoints::{CompleteError, Decision, Provider};
    /// # use std::sync::Arc;
    /// # tokio::runtime::Builder::new_current_thread().build().expect("rt").block_on(async {
    /// # let provider = Provider::builder("https://id.example", Arc::new(portcullis_store::MemoryStore::new())).build().expect("ok");
    /// let err = provider.complete("pc_pa_not-a-real-handle", Decision::Deny).await.unwrap_err();
    /// assert!(matches!(err, CompleteError::UnknownInteraction));
    /// # });
    /// ```
    ///
    /// # Errors
    ///
    /// [`CompleteError::UnknownInteraction`] for an unknown, expired or completed
    /// interaction; [`CompleteError::ScopeNotRequested`] when `Allow` grants more than was
    /// requested (the interaction is left as it was); store and minting failures.
    pub async fn complete(
        &self,
        interaction_id: &str,
        decision: Decision,
    ) -> Result<Response<Bytes>, CompleteError> {
        self.complete_by(interaction_id, decision, None).await
    }

    /// [`Provider::complete`], naming the user who decided: [`Decision::Deny`] carries no
    /// subject, so the `consent.denied` event has the empty subject unless the caller (the
    /// default consent page) knows it.
    pub(crate) async fn complete_by(
        &self,
        interaction_id: &str,
        decision: Decision,
        user: Option<&Subject>,
    ) -> Result<Response<Bytes>, CompleteError> {
        let handle = RawToken::parse(interaction_id, TokenKind::PendingAuthorization)
            .map_err(|_| CompleteError::UnknownInteraction)?
            .lookup_key();
        let now = self.now();
        if let Decision::Allow { scopes, .. } = &decision {
            // Check before taking, so an application bug does not use the interaction up.
            let pending = self
                .store()
                .get_pending(&handle, now)
                .await?
                .ok_or(CompleteError::UnknownInteraction)?;
            check_granted(scopes, &pending.scopes)?;
        }
        let pending = self
            .store()
            .take_pending(&handle, now)
            .await?
            .ok_or(CompleteError::UnknownInteraction)?;
        let approval = Approval::from_pending(&pending)?;
        let client = self
            .store()
            .get_client(&pending.client_id)
            .await?
            .filter(|client| {
                !client.revoked && client.match_redirect_uri(&pending.redirect_uri).is_some()
            });
        let Some(client) = client else {
            return Ok(error_page(
                StatusCode::BAD_REQUEST,
                AuthorizeErrorCode::InvalidRequest.as_str(),
                CLIENT_GONE,
            ));
        };
        match decision {
            Decision::Deny => {
                self.events().emit(portcullis_events::Event::ConsentDenied {
                    subject: user
                        .map(|user| user.as_str().to_owned())
                        .unwrap_or_default(),
                    client_id: client.id.to_string(),
                });
                Ok(self.error_redirect(
                    &approval.target,
                    AuthorizeErrorCode::AccessDenied,
                    "the user denied the request",
                ))
            }
            Decision::Allow {
                subject,
                scopes,
                auth_time,
            } => {
                check_granted(&scopes, &pending.scopes)?;
                let granted = portcullis_events::Event::ConsentGranted {
                    subject: subject.as_str().to_owned(),
                    client_id: client.id.to_string(),
                    scope: scopes.to_string(),
                };
                let response = self
                    .issue(&approval, &client, subject, scopes, auth_time, now)
                    .await?;
                self.events().emit(granted);
                Ok(response)
            }
        }
    }

    /// The interaction with this id, if it is still waiting: for the application's pages to
    /// show the client's name and the scopes. Reading it does not use it up.
    ///
    /// ```
    /// # use portcullis_endpoints::Provider;
    /// # use std::sync::Arc;
    /// # tokio::runtime::Builder::new_current_thread().build().expect("rt").block_on(async {
    /// # let provider = Provider::builder("https://id.example", Arc::new(portcullis_store::MemoryStore::new())).build().expect("ok");
    /// assert!(provider.interaction("pc_pa_unknown").await.expect("store works").is_none());
    /// # });
    /// ```
    ///
    /// # Errors
    ///
    /// [`CompleteError::Store`] when the store fails. Unknown, expired and completed
    /// interactions, and those of a client disabled since, are `Ok(None)`.
    pub async fn interaction(
        &self,
        interaction_id: &str,
    ) -> Result<Option<Interaction>, CompleteError> {
        let Ok(handle) = RawToken::parse(interaction_id, TokenKind::PendingAuthorization) else {
            return Ok(None);
        };
        let Some(pending) = self
            .store()
            .get_pending(&handle.lookup_key(), self.now())
            .await?
        else {
            return Ok(None);
        };
        let Some(client) = self
            .store()
            .get_client(&pending.client_id)
            .await?
            .filter(|client| !client.revoked)
        else {
            return Ok(None);
        };
        let has = |prompt: Prompt| pending.prompt.iter().any(|p| p == prompt.as_str());
        Ok(Some(Interaction {
            id: interaction_id.to_owned(),
            client_id: pending.client_id,
            client_name: client.name,
            scopes: pending.scopes,
            login_required: has(Prompt::Login) || has(Prompt::SelectAccount),
            consent_required: has(Prompt::Consent),
            expires_at: pending.expires_at,
            redirect_uri: pending.redirect_uri,
        }))
    }

    /// Login, then consent, then approval (OpenID Connect Core §3.1.2.3-3.1.2.4).
    async fn decide(
        &self,
        request: AuthorizationRequest,
        client: &Client,
        user: Option<&AuthenticatedUser>,
    ) -> Authorization {
        let now = self.now();
        let target = request.target();
        let silent = request.prompt.contains(Prompt::None);
        let signed_in = user.filter(|user| {
            !request.prompt.contains(Prompt::Login)
                && !request.prompt.contains(Prompt::SelectAccount)
                && !max_age_exceeded(request.max_age, user.auth_time, now)
        });
        let Some(user) = signed_in else {
            if silent {
                return Authorization::Respond(self.error_redirect(
                    &target,
                    AuthorizeErrorCode::LoginRequired,
                    "the user must sign in, and prompt=none forbids asking",
                ));
            }
            // Who it is, and so what they granted before, is not known yet.
            return self.interact(request, client, now, true, true).await;
        };

        let granted = match self
            .0
            .consent
            .granted_scopes(&user.subject, &client.id)
            .await
        {
            Ok(granted) => granted,
            Err(err) => {
                tracing::error!(client_id = %client.id, "the consent source failed: {err}");
                return Authorization::Respond(self.error_redirect(
                    &target,
                    AuthorizeErrorCode::ServerError,
                    "the authorization server failed to process the request",
                ));
            }
        };
        // A user who never granted this client anything is asked even when no scope is
        // requested: a client does not learn who the user is without their say.
        if request.prompt.contains(Prompt::Consent)
            || granted.is_empty()
            || !request.scopes.is_subset(&granted)
        {
            if silent {
                return Authorization::Respond(self.error_redirect(
                    &target,
                    AuthorizeErrorCode::ConsentRequired,
                    "the user must consent, and prompt=none forbids asking",
                ));
            }
            return self.interact(request, client, now, false, true).await;
        }

        let approval = Approval::from_request(&request);
        match self
            .issue(
                &approval,
                client,
                user.subject.clone(),
                request.scopes,
                user.auth_time,
                now,
            )
            .await
        {
            Ok(response) => Authorization::Respond(response),
            Err(err) => Authorization::Respond(self.issue_failure_redirect(&target, &err)),
        }
    }

    /// Stores the request as a pending authorization and hands it to the application.
    async fn interact(
        &self,
        request: AuthorizationRequest,
        client: &Client,
        now: OffsetDateTime,
        login_required: bool,
        consent_required: bool,
    ) -> Authorization {
        let target = request.target();
        let handle = match mint(TokenKind::PendingAuthorization) {
            Ok(handle) => handle,
            Err(err) => {
                let err = CompleteError::from(err);
                return Authorization::Respond(self.issue_failure_redirect(&target, &err));
            }
        };
        let expires_at = now + self.policy().interaction_ttl;
        // The record has no fields for what the user must do, so it keeps the request's
        // prompt values plus `login` / `consent` for what the provider decided.
        let mut prompt = request.prompt.clone();
        if login_required {
            prompt.insert(Prompt::Login);
        }
        if consent_required {
            prompt.insert(Prompt::Consent);
        }
        let redirect_uri = request.redirect_uri.clone();
        let pending = PendingAuthorization {
            handle: handle.lookup_key(),
            client_id: request.client_id.clone(),
            redirect_uri: request.redirect_uri,
            redirect_uri_in_request: request.redirect_uri_in_request,
            response_type: request.response_type.as_str().to_owned(),
            response_mode: request.response_mode.as_str().to_owned(),
            scopes: request.scopes.clone(),
            state: request.state,
            nonce: request.nonce,
            code_challenge: request
                .code_challenge
                .as_ref()
                .map(|pkce| pkce.challenge.clone()),
            code_challenge_method: request
                .code_challenge
                .as_ref()
                .map(|pkce| pkce.method.as_str().to_owned()),
            prompt: prompt.iter().map(|p| p.as_str().to_owned()).collect(),
            max_age: request.max_age,
            created_at: now,
            expires_at,
            resources: request.resources,
            dpop_jkt: request.dpop_jkt,
        };
        if let Err(err) = self.store().insert_pending(pending).await {
            return Authorization::Respond(self.store_failure_redirect(&target, &err));
        }
        Authorization::Interaction(Interaction {
            id: handle.expose_secret().to_owned(),
            client_id: request.client_id,
            client_name: client.name.clone(),
            scopes: request.scopes,
            login_required,
            consent_required,
            expires_at,
            redirect_uri,
        })
    }

    /// Issues what the response type asks for and answers the redirect (RFC 6749 §4.1.2,
    /// §4.2.2; OpenID Connect Core §3.2.2.5, §3.3.2.5), with `iss` (RFC 9207).
    ///
    /// Everything is minted and the ID token signed before anything is stored, so a failure
    /// leaves nothing behind. At most one store write happens: the code, or the access token.
    async fn issue(
        &self,
        approval: &Approval,
        client: &Client,
        subject: Subject,
        scopes: ScopeSet,
        auth_time: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Response<Bytes>, CompleteError> {
        let target = &approval.target;
        let response_type = approval.response_type;
        let keys = self.signing_keys();
        let settings = self.issuer_settings();
        let signing = Signing {
            settings,
            keys: &keys,
            claims: self.0.claims.as_ref(),
        };
        // Core §2: `auth_time` when `max_age` was requested (or the provider always sends
        // it). The code record keeps it only then, so the token endpoint follows the same
        // rule from the record alone.
        let id_token_auth_time = settings
            .auth_time_in_id_token(approval.max_age.is_some())
            .then_some(auth_time);
        // OpenID Connect Core §8: a pairwise client sees its own `sub` for the user.
        let client_sub = if response_type.has_id_token() {
            Some(settings.subject_for_client(client, &subject)?)
        } else {
            None
        };
        let mut id_token = client_sub.map(|sub| {
            IdToken::new(sub, client.id.clone(), now)
                .auth_time(id_token_auth_time)
                .nonce(approval.nonce.as_deref())
        });
        let mut params: Vec<(&'static str, String)> = Vec::new();

        let code = if response_type.has_code() {
            let code = mint(TokenKind::AuthorizationCode)?;
            params.push(("code", code.expose_secret().to_owned()));
            id_token = id_token.map(|id_token| id_token.code(code.expose_secret()));
            Some(AuthorizationCode {
                code: code.lookup_key(),
                client_id: client.id.clone(),
                redirect_uri: target
                    .redirect_uri_in_request
                    .then(|| target.redirect_uri.clone()),
                subject: subject.clone(),
                scopes: scopes.clone(),
                nonce: approval.nonce.clone(),
                code_challenge: approval.code_challenge.clone(),
                code_challenge_method: approval.code_challenge_method.clone(),
                auth_time: id_token_auth_time,
                family: FamilyId::generate()?,
                issued_at: now,
                expires_at: now + self.policy().code_ttl,
                resources: approval.resources.clone(),
                dpop_jkt: approval.dpop_jkt.clone(),
            })
        } else {
            None
        };

        let records = if response_type.has_token() {
            // RFC 6749 §4.2.2: never a refresh token from the authorization endpoint.
            let minted = mint_tokens(Issuance {
                audience: portcullis_grants::Audience::requested(approval.resources.clone()),
                confirmation: None,
                client,
                subject: Some(subject.clone()),
                scopes: scopes.clone(),
                family: FamilyId::generate()?,
                now,
                refresh_scopes: None,
                auth_time: Some(auth_time),
                signing,
            })?;
            let response = minted.response;
            params.push((
                "access_token",
                response.access_token.expose_secret().to_owned(),
            ));
            params.push(("token_type", response.token_type.to_owned()));
            params.push(("expires_in", response.expires_in.to_string()));
            if !response.scope.is_empty() {
                params.push(("scope", response.scope.to_string()));
            }
            id_token = id_token
                .map(|id_token| id_token.access_token(response.access_token.expose_secret()));
            Some(minted.records)
        } else {
            None
        };

        if let Some(mut id_token) = id_token {
            if response_type == ResponseType::IdToken {
                // Core §5.4: with no access token for UserInfo, the claims of the granted
                // scopes travel in the ID token.
                let claims = self
                    .0
                    .claims
                    .claims(&subject, &scopes)
                    .await
                    .map_err(GrantError::Application)?;
                id_token = id_token.claims(claims);
            }
            params.push((ID_TOKEN, id_token.sign(settings, &keys)?));
        }

        if let Some(code) = code {
            self.store().insert_code(code).await?;
        }
        if let Some(records) = records {
            self.store().insert_tokens(records).await?;
        }
        let mut pairs: Vec<(&str, &str)> = params
            .iter()
            .map(|(name, value)| (*name, value.as_str()))
            .collect();
        self.finish_params(&mut pairs, target);
        Ok(deliver::deliver(
            &target.redirect_uri,
            target.response_mode,
            &pairs,
        ))
    }

    /// Adds `state` (when the request had one) and `iss` (RFC 9207 §2).
    fn finish_params<'a>(
        &'a self,
        params: &mut Vec<(&'a str, &'a str)>,
        target: &'a ResponseTarget,
    ) {
        if let Some(state) = &target.state {
            params.push(("state", state));
        }
        params.push(("iss", self.issuer()));
    }

    /// An error sent to the client's redirect URI (RFC 6749 §4.1.2.1, §4.2.2.1) with
    /// `state` and `iss`.
    fn error_redirect(
        &self,
        target: &ResponseTarget,
        code: AuthorizeErrorCode,
        description: &str,
    ) -> Response<Bytes> {
        let description = deliver::description_chars(description);
        let mut params = vec![
            ("error", code.as_str()),
            ("error_description", description.as_str()),
        ];
        self.finish_params(&mut params, target);
        deliver::deliver(&target.redirect_uri, target.response_mode, &params)
    }

    /// A refused request: a page when it must not be redirected, else a redirect.
    fn rejected(&self, err: &AuthorizationRequestError) -> Response<Bytes> {
        tracing::debug!(
            code = err.code(),
            redirectable = err.is_redirectable(),
            "authorization request refused: {}",
            err.description()
        );
        match err.redirect() {
            Some(redirect) => self.error_redirect(
                &redirect.target,
                AuthorizeErrorCode::for_validation(&redirect.error),
                redirect.error.description(),
            ),
            None => error_page(StatusCode::BAD_REQUEST, err.code(), err.description()),
        }
    }

    /// `server_error` or `temporarily_unavailable` at the redirect URI.
    fn store_failure_redirect(&self, target: &ResponseTarget, err: &StoreError) -> Response<Bytes> {
        tracing::error!("authorization request failed: storage: {err}");
        let code = AuthorizeErrorCode::for_store(err);
        self.error_redirect(target, code, code.store_failure_description())
    }

    /// A failure while issuing, at the redirect URI.
    fn issue_failure_redirect(
        &self,
        target: &ResponseTarget,
        err: &CompleteError,
    ) -> Response<Bytes> {
        match err {
            CompleteError::Store(err) => self.store_failure_redirect(target, err),
            other => {
                tracing::error!(
                    "authorization request failed: {other}: {:?}",
                    std::error::Error::source(other)
                );
                self.error_redirect(
                    target,
                    AuthorizeErrorCode::ServerError,
                    AuthorizeErrorCode::ServerError.store_failure_description(),
                )
            }
        }
    }
}

/// What issuing needs to know about the request, whether it comes straight from validation
/// or back from the store.
#[derive(Debug)]
struct Approval {
    response_type: ResponseType,
    target: ResponseTarget,
    nonce: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    max_age: Option<u32>,
    resources: Vec<String>,
    dpop_jkt: Option<String>,
}

impl Approval {
    fn from_request(request: &AuthorizationRequest) -> Approval {
        Approval {
            response_type: request.response_type,
            target: request.target(),
            nonce: request.nonce.clone(),
            code_challenge: request
                .code_challenge
                .as_ref()
                .map(|pkce| pkce.challenge.clone()),
            code_challenge_method: request
                .code_challenge
                .as_ref()
                .map(|pkce| pkce.method.as_str().to_owned()),
            max_age: request.max_age,
            resources: request.resources.clone(),
            dpop_jkt: request.dpop_jkt.clone(),
        }
    }

    fn from_pending(pending: &PendingAuthorization) -> Result<Approval, StoreError> {
        let corrupt = |reason| StoreError::InvalidRecord {
            family: RecordFamily::PendingAuthorization,
            reason,
        };
        let response_type: ResponseType = pending
            .response_type
            .parse()
            .map_err(|_| corrupt("unknown response_type in a pending authorization"))?;
        let response_mode = match pending.response_mode.parse::<ResponseMode>() {
            Ok(mode) if response_type.allows_response_mode(mode) => mode,
            Ok(_) | Err(_) => response_type.default_response_mode(),
        };
        Ok(Approval {
            response_type,
            target: ResponseTarget {
                redirect_uri: pending.redirect_uri.clone(),
                redirect_uri_in_request: pending.redirect_uri_in_request,
                response_mode,
                state: pending.state.clone(),
            },
            nonce: pending.nonce.clone(),
            code_challenge: pending.code_challenge.clone(),
            code_challenge_method: pending.code_challenge_method.clone(),
            max_age: pending.max_age,
            resources: pending.resources.clone(),
            dpop_jkt: pending.dpop_jkt.clone(),
        })
    }
}

/// Whether the last sign-in is too old for `max_age` (OpenID Connect Core §3.1.2.1;
/// `max_age=0` is equivalent to `prompt=login`).
fn max_age_exceeded(max_age: Option<u32>, auth_time: OffsetDateTime, now: OffsetDateTime) -> bool {
    match max_age {
        None => false,
        Some(0) => true,
        Some(max_age) => now - auth_time > Duration::seconds(i64::from(max_age)),
    }
}

/// Fails unless every granted scope was requested.
fn check_granted(granted: &ScopeSet, requested: &ScopeSet) -> Result<(), CompleteError> {
    match granted
        .iter()
        .find(|scope| !requested.contains(scope.as_str()))
    {
        Some(scope) => Err(CompleteError::ScopeNotRequested {
            scope: scope.clone(),
        }),
        None => Ok(()),
    }
}

/// The page for a request that must not be redirected: names the problem, escapes
/// everything, cannot be framed or cached.
pub(crate) fn error_page(status: StatusCode, code: &str, description: &str) -> Response<Bytes> {
    let body = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">\
         <title>Authorization error</title></head>\n<body>\n\
         <h1>This sign-in request cannot be completed</h1>\n\
         <p>{description}</p>\n<p>Error code: <code>{code}</code></p>\n\
         <p>The application that sent you here may be misconfigured. Go back and try again, \
         or contact its developers.</p>\n</body>\n</html>\n",
        description = escape_html(description),
        code = escape_html(code),
    );
    html(status, body, PAGE_CSP)
}

/// A request that could not even be read (method, media type, size): a page with the
/// status the problem deserves, and `Allow` for a 405.
fn request_error_page(err: &OAuthError) -> Response<Bytes> {
    tracing::debug!(
        code = err.code(),
        "authorization request refused: {}",
        err.description()
    );
    let mut response = error_page(err.status(), err.code(), err.description());
    if let Some(allow) = err.allow() {
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static(allow));
    }
    response
}

/// The store failed before the redirect URI could be trusted: a page, 503 or 500.
pub(crate) fn store_failure_page(err: &StoreError) -> Response<Bytes> {
    tracing::error!("authorization request failed: storage: {err}");
    let code = AuthorizeErrorCode::for_store(err);
    let status = if code == AuthorizeErrorCode::TemporarilyUnavailable {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    };
    error_page(status, code.as_str(), code.store_failure_description())
}
