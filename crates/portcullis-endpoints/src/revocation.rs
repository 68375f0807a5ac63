//! Token revocation: RFC 7009. A client revokes an access or refresh token it holds;
//! revoking a refresh token revokes every token of its grant (§2.1).

use std::fmt;
use std::str::FromStr;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, HeaderValue, PRAGMA};
use http::{Request, Response};
use portcullis_grants::AT_JWT_TYP;
use portcullis_registry::ClientId;
use portcullis_store::TokenRecord;
use portcullis_tokens::{JwtExpectations, RawToken, TokenHash, TokenKind};
use serde::Deserialize;

use crate::{OAuthError, Provider, client_auth, request, response};

/// A `token_type_hint` value (RFC 7009 §2.1 and its registry, §4.1.2; RFC 7662 §2.1).
///
/// A hint never narrows the search: tokens are looked up by their hash, which finds them
/// whatever their type, so a wrong hint costs nothing (RFC 7009 §2.1: "If the server is
/// unable to locate the token using the given hint, it MUST extend its search").
///
/// ```
/// use portcullis_endpoints::TokenTypeHint;
///
/// let hint: TokenTypeHint = "refresh_token".parse()?;
/// assert_eq!(hint, TokenTypeHint::RefreshToken);
/// assert_eq!(hint.as_str(), "refresh_token");
/// assert!("authorization_code".parse::<TokenTypeHint>().is_err());
/// # Ok::<(), portcullis_endpoints::UnknownTokenTypeHint>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenTypeHint {
    /// `access_token` (RFC 6749 §1.4).
    AccessToken,
    /// `refresh_token` (RFC 6749 §1.5).
    RefreshToken,
}

impl TokenTypeHint {
    /// The wire value.
    ///
    /// ```
    /// assert_eq!(portcullis_endpoints::TokenTypeHint::AccessToken.as_str(), "access_token");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            TokenTypeHint::AccessToken => "access_token",
            TokenTypeHint::RefreshToken => "refresh_token",
        }
    }

    /// The kind of token the hint names.
    ///
    /// ```
    /// use portcullis_endpoints::TokenTypeHint;
    /// use portcullis_tokens::TokenKind;
    /// assert_eq!(TokenTypeHint::RefreshToken.token_kind(), TokenKind::RefreshToken);
    /// ```
    pub fn token_kind(self) -> TokenKind {
        match self {
            TokenTypeHint::AccessToken => TokenKind::AccessToken,
            TokenTypeHint::RefreshToken => TokenKind::RefreshToken,
        }
    }
}

impl fmt::Display for TokenTypeHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `token_type_hint` naming no token type this server knows; the revocation endpoint
/// answers it with `unsupported_token_type` (RFC 7009 §2.2.1).
///
/// ```
/// use portcullis_endpoints::{TokenTypeHint, UnknownTokenTypeHint};
/// assert_eq!("id_token".parse::<TokenTypeHint>(), Err(UnknownTokenTypeHint));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("token_type_hint must be access_token or refresh_token")]
pub struct UnknownTokenTypeHint;

impl FromStr for TokenTypeHint {
    type Err = UnknownTokenTypeHint;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "access_token" => Ok(TokenTypeHint::AccessToken),
            "refresh_token" => Ok(TokenTypeHint::RefreshToken),
            _ => Err(UnknownTokenTypeHint),
        }
    }
}

impl Provider {
    /// The revocation endpoint (RFC 7009): a client revokes a token it holds.
    ///
    /// - The request is a form POST with client authentication (§2.1); public clients
    ///   identify themselves with `client_id`. Failures answer 401 `invalid_client`.
    /// - `token` is required (`invalid_request` otherwise). `token_type_hint` is only a
    ///   hint: the token is found whatever its type, but a value naming no known type is
    ///   `unsupported_token_type` (§2.2.1).
    /// - Revoking a refresh token revokes its whole grant family, access tokens included
    ///   (§2.1); revoking an access token revokes only that token. An RFC 9068 JWT access
    ///   token is revoked like an opaque one (its record is found by its `jti`), and is
    ///   then refused wherever the store is consulted (DESIGN §4.1), although its signature
    ///   stays valid until it expires.
    /// - An unknown, malformed, expired or already revoked token, or one issued to another
    ///   client, is answered exactly like a revoked one — 200 with an empty body (§2.2:
    ///   "invalid tokens do not cause an error") — and another client's token is left alone,
    ///   so the answer never tells whether a token exists.
    /// - A token of this client that was live (or rotated) is reported as
    ///   [`Event::TokenRevoked`](portcullis_events::Event::TokenRevoked) to
    ///   [`Provider::events`]; the other 200s report nothing.
    ///
    /// Every answer carries `Cache-Control: no-store`. A store failure answers 503
    /// `temporarily_unavailable` or 500 `server_error`, and the client may retry (§2.2.1).
    ///
    /// ```
    /// use bytes::Bytes;
    /// use portcullis_endpoints::Provider;
    /// use portcullis_grants::{Issuance, NoClaims, Signing, mint_tokens};
    /// use portcullis_registry::{ClientKind, NewClient, ScopeCatalog, ScopeSet};
    /// use portcullis_store::{ClientStore, FamilyId, MemoryStore, TokenStore};
    /// use std::sync::Arc;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let store = Arc::new(MemoryStore::new());
    /// let provider = Provider::builder("https://id.example", store.clone()).build()?;
    ///
    /// // A public client holding an access token.
    /// let client = NewClient::new("Notes", ClientKind::Spa)
    ///     .redirect_uri("https://notes.example/callback")
    ///     .build(&ScopeCatalog::with_oidc_scopes())?
    ///     .client;
    /// store.insert_client(client.clone()).await?;
    /// let keys = provider.signing_keys();
    /// let minted = mint_tokens(Issuance {
    ///     audience: portcullis_grants::Audience::unrestricted(),
    ///     confirmation: None,
    ///     client: &client,
    ///     subject: None,
    ///     scopes: ScopeSet::new(),
    ///     family: FamilyId::generate()?,
    ///     now: provider.now(),
    ///     refresh_scopes: None,
    ///     auth_time: None,
    ///     signing: Signing { settings: provider.issuer_settings(), keys: &keys, claims: &NoClaims },
    /// })?;
    /// store.insert_tokens(minted.records).await?;
    ///
    /// let body = format!(
    ///     "client_id={}&token={}&token_type_hint=access_token",
    ///     client.id,
    ///     minted.response.access_token.expose_secret(),
    /// );
    /// let request = http::Request::post("/oauth/revoke")
    ///     .header("content-type", "application/x-www-form-urlencoded")
    ///     .body(Bytes::from(body))?;
    /// let response = provider.revoke(request).await;
    /// assert_eq!(response.status(), 200);
    /// assert!(response.body().is_empty());
    /// assert_eq!(response.headers()["cache-control"], "no-store");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn revoke(&self, request: Request<Bytes>) -> Response<Bytes> {
        match self.revocation(&request).await {
            Ok(()) => revoked(),
            Err(err) => response::oauth_error(&err),
        }
    }

    async fn revocation(&self, request: &Request<Bytes>) -> Result<(), OAuthError> {
        let params = request::form(request, self.max_body_bytes())?;
        let client = client_auth::authenticate(self, request, &params).await?;
        let presented = params
            .get("token")
            .ok_or_else(|| OAuthError::invalid_request("token is required"))?;
        if let Some(hint) = params.get("token_type_hint") {
            hint.parse::<TokenTypeHint>()
                .map_err(|err| OAuthError::unsupported_token_type(err.to_string()))?;
        }
        let Some(record) = find_presented_token(self, presented).await? else {
            return Ok(());
        };
        if record.client_id != client.id {
            // §2.1: the server verifies the token was issued to this client. Telling the
            // caller it was not would confirm that the token exists, so the answer is the
            // same 200 and nothing changes.
            tracing::debug!(
                client = %client.id,
                holder = %record.client_id,
                "revocation of another client's token ignored"
            );
            return Ok(());
        }
        let now = self.now();
        let store = self.store();
        match record.kind {
            // §2.1: "SHOULD also invalidate all access tokens based on the same
            // authorization grant". A rotated refresh token still names its grant, so it
            // ends the family too; revoking twice is harmless.
            TokenKind::RefreshToken => {
                store
                    .revoke_family(&record.family, now)
                    .await
                    .map_err(|err| OAuthError::store(&err))?;
            }
            _ => {
                store
                    .revoke_token(&record.hash, now)
                    .await
                    .map_err(|err| OAuthError::store(&err))?;
            }
        }
        // Only when this call revoked something: the 200 for an unknown, foreign or
        // already revoked token is not an event (the answer hides it; so does the feed).
        if record.status != portcullis_store::TokenStatus::Revoked {
            self.events().emit(portcullis_events::Event::TokenRevoked {
                client_id: client.id.to_string(),
            });
        }
        Ok(())
    }
}

/// The record of a presented access or refresh token, if it is one and the store knows it
/// (and it has not expired; revoked and rotated records are returned with their status).
///
/// Two shapes are looked up:
/// - a well-formed opaque access or refresh token (`pc_at_…`, `pc_rt_…`), by its hash;
/// - an RFC 9068 JWT access token: a compact JWS that verifies with the provider's keys
///   (`iss` the provider, header `typ` `at+jwt`, not expired; any audience, since the
///   provider accepts its own tokens whatever they were issued for), by the hash of its
///   `jti`, and only if the record names the same client as the token's `client_id`.
///
/// Anything else — an authorization code, a pending-authorization handle, an ID token, a
/// JWT that does not verify, garbage — is never looked up, so no other kind of secret can
/// be revoked or introspected through these endpoints. Nothing about the value is logged.
pub(crate) async fn find_presented_token(
    provider: &Provider,
    presented: &str,
) -> Result<Option<TokenRecord>, OAuthError> {
    let (key, kind, client) = if let Some(token) = TokenKind::of(presented)
        .filter(|kind| matches!(kind, TokenKind::AccessToken | TokenKind::RefreshToken))
        .and_then(|kind| RawToken::parse(presented, kind).ok())
    {
        (token.lookup_key(), token.kind(), None)
    } else if let Some(claims) = verified_access_token(provider, presented) {
        (
            TokenHash::of(&claims.jti),
            TokenKind::AccessToken,
            Some(claims.client_id),
        )
    } else {
        return Ok(None);
    };
    let record = provider
        .store()
        .find_token(&key, provider.now())
        .await
        .map_err(|err| OAuthError::store(&err))?;
    Ok(record.filter(|record| {
        record.kind == kind
            && client
                .as_ref()
                .is_none_or(|client| *client == record.client_id)
    }))
}

/// The claims of an RFC 9068 access token that this provider signed, that a lookup needs.
#[derive(Deserialize)]
struct JwtAccessTokenClaims {
    jti: String,
    client_id: ClientId,
}

/// `presented`, if it is a JWT access token that verifies with the provider's keys now
/// (RFC 9068 §4, without the audience check); `None` for anything else.
fn verified_access_token(provider: &Provider, presented: &str) -> Option<JwtAccessTokenClaims> {
    // A compact JWS has exactly two dots (RFC 7515 §7.1); skip the work for anything else.
    if presented.bytes().filter(|b| *b == b'.').count() != 2 {
        return None;
    }
    let expect = JwtExpectations::new(provider.issuer(), provider.now()).with_typ(AT_JWT_TYP);
    match provider.signing_keys().verify(presented, &expect) {
        Ok(claims) => Some(claims),
        Err(err) => {
            tracing::debug!("presented JWT refused: {err}");
            None
        }
    }
}

/// RFC 7009 §2.2: "The authorization server responds with HTTP status code 200 if the token
/// has been revoked successfully or if the client submitted an invalid token"; the body is
/// empty, and like every answer about tokens it may not be cached.
fn revoked() -> Response<Bytes> {
    let mut response = Response::new(Bytes::new());
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    response
}
