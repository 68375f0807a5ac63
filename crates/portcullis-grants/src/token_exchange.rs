//! Token exchange: RFC 8693 §2 (request §2.1, response §2.2.1, errors §2.2.2), with the
//! `act` claim of §4.1 for delegation.
//!
//! A client presents a `subject_token` (and optionally an `actor_token`) and gets a new
//! access token for the same subject, possibly narrower in scope and for another audience.
//! Whether a client may do this at all, and whether as impersonation or delegation, is the
//! application's decision through a [`TokenExchangePolicy`]; the default,
//! [`DenyTokenExchange`], refuses everything.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use portcullis_registry::{AccessTokenFormat, Client, ClientId, GrantType, ScopeSet};
use portcullis_store::{FamilyId, TokenStatus};
use portcullis_tokens::{JwtExpectations, RawToken, Subject, TokenHash, TokenKind, UnverifiedJwt};
use serde_json::{Map, Value};

use crate::Audience;
use crate::client_credentials::OIDC_USER_SCOPES;
use crate::jwt_bearer::audience_contains;
use crate::trusted_issuer::ForeignJwtError;
use crate::{
    AT_JWT_TYP, BoxError, Grant, GrantContext, GrantError, Issuance, IssuedAccessToken, Minted,
    TokenResponse, TrustedIssuer, issues_jwt_access_tokens, mint_tokens,
};

/// The `grant_type` of this grant (RFC 8693 §2.1).
pub const TOKEN_EXCHANGE_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

/// A token type identifier (RFC 8693 §3) this provider understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenType {
    /// `urn:ietf:params:oauth:token-type:access_token`: an access token this provider
    /// issued (opaque or RFC 9068 JWT).
    AccessToken,
    /// `urn:ietf:params:oauth:token-type:refresh_token`: a refresh token this provider
    /// issued to the requesting client.
    RefreshToken,
    /// `urn:ietf:params:oauth:token-type:id_token`: an ID token this provider issued to the
    /// requesting client.
    IdToken,
    /// `urn:ietf:params:oauth:token-type:jwt`: a JWT signed by this provider or by a
    /// [`TrustedIssuer`] of the grant.
    Jwt,
}

impl TokenType {
    /// Every type, for lookups.
    pub const ALL: [TokenType; 4] = [
        TokenType::AccessToken,
        TokenType::RefreshToken,
        TokenType::IdToken,
        TokenType::Jwt,
    ];

    /// The URI (RFC 8693 §3).
    ///
    /// ```
    /// use portcullis_grants::TokenType;
    /// assert_eq!(TokenType::Jwt.as_uri(), "urn:ietf:params:oauth:token-type:jwt");
    /// assert_eq!(TokenType::parse(TokenType::IdToken.as_uri()), Some(TokenType::IdToken));
    /// assert_eq!(TokenType::parse("urn:ietf:params:oauth:token-type:saml2"), None);
    /// ```
    pub fn as_uri(self) -> &'static str {
        match self {
            TokenType::AccessToken => "urn:ietf:params:oauth:token-type:access_token",
            TokenType::RefreshToken => "urn:ietf:params:oauth:token-type:refresh_token",
            TokenType::IdToken => "urn:ietf:params:oauth:token-type:id_token",
            TokenType::Jwt => "urn:ietf:params:oauth:token-type:jwt",
        }
    }

    /// The type a URI names, if this provider understands it.
    pub fn parse(uri: &str) -> Option<TokenType> {
        TokenType::ALL.into_iter().find(|t| t.as_uri() == uri)
    }
}

/// A `subject_token` or `actor_token` after validation: who it is about and what it allows.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ExchangedToken {
    /// The type the client declared (and that the token was validated as).
    pub token_type: TokenType,
    /// Who issued it: this provider's issuer, or a trusted issuer's identifier.
    pub issuer: String,
    /// The subject (`sub`); `None` for a client-credentials access token.
    pub subject: Option<Subject>,
    /// The client it was issued to, when this provider issued it.
    pub client_id: Option<ClientId>,
    /// Its scopes, when this provider issued it as an access or refresh token.
    pub scopes: Option<ScopeSet>,
    /// Its claims, when it is a JWT (an earlier `act`, `may_act`, …).
    pub claims: Option<Map<String, Value>>,
}

impl ExchangedToken {
    /// The identity the token stands for: its subject, or the client it was issued to.
    fn party(&self) -> Option<&str> {
        self.subject
            .as_ref()
            .map(Subject::as_str)
            .or(self.client_id.as_ref().map(ClientId::as_str))
    }
}

/// What a client asks for in a token exchange, validated, for the policy to decide on.
#[derive(Debug)]
#[non_exhaustive]
pub struct TokenExchangeRequest<'a> {
    /// The authenticated client making the request.
    pub client: &'a Client,
    /// The validated `subject_token`.
    pub subject: &'a ExchangedToken,
    /// The validated `actor_token`, if one was sent.
    pub actor: Option<&'a ExchangedToken>,
    /// The scope the new token would get (requested, or the default), already checked
    /// against the client and the subject token.
    pub scopes: &'a ScopeSet,
    /// The `audience` parameter (RFC 8693 §2.1), if sent.
    pub audience: Option<&'a str>,
    /// The `resource` parameter (RFC 8693 §2.1, RFC 8707), if sent.
    pub resource: Option<&'a str>,
}

/// The policy's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenExchangeDecision {
    /// Refuse (`invalid_request`, RFC 8693 §2.2.2: "unacceptable based on policy"); the
    /// reason is shown to the client.
    Deny(Cow<'static, str>),
    /// Issue a token for the subject with no trace of the client acting (RFC 8693 §1.1,
    /// impersonation).
    Impersonate(Narrowing),
    /// Issue a token for the subject whose `act` claim names the actor (the actor token's
    /// subject, or the client when there is none), nesting any earlier `act` (RFC 8693
    /// §4.1, delegation). Needs JWT access tokens.
    Delegate(Narrowing),
}

/// How the policy narrows what is issued; the default changes nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Narrowing {
    /// Issue only these of the requested scopes (intersected, never widened).
    pub scopes: Option<ScopeSet>,
    /// The `aud` of the new token instead of the requested `audience` / `resource`.
    pub audience: Option<String>,
}

impl Narrowing {
    /// No narrowing.
    pub fn none() -> Narrowing {
        Narrowing::default()
    }

    /// Issue at most `scopes`.
    #[must_use]
    pub fn scopes(mut self, scopes: ScopeSet) -> Narrowing {
        self.scopes = Some(scopes);
        self
    }

    /// Issue for `audience`.
    #[must_use]
    pub fn audience(mut self, audience: impl Into<String>) -> Narrowing {
        self.audience = Some(audience.into());
        self
    }
}

/// Decides whether a token exchange is allowed, and as impersonation or delegation.
///
/// The grant has already checked the tokens (signature, expiry, revocation), the client's
/// registration and the scope; the policy decides the rest, typically from the client id,
/// the subject token's client and the requested audience.
///
/// ```
/// use async_trait::async_trait;
/// use portcullis_grants::{
///     BoxError, Narrowing, TokenExchangeDecision, TokenExchangePolicy, TokenExchangeRequest,
/// };
///
/// /// The orders API may call the billing API on a user's behalf, visibly (delegation).
/// struct OrdersToBilling;
///
/// #[async_trait]
/// impl TokenExchangePolicy for OrdersToBilling {
///     async fn decide(&self, request: &TokenExchangeRequest<'_>) -> Result<TokenExchangeDecision, BoxError> {
///         Ok(match request.audience {
///             Some("https://billing.example") if request.client.name == "Orders API" => {
///                 TokenExchangeDecision::Delegate(Narrowing::none())
///             }
///             _ => TokenExchangeDecision::Deny("this exchange is not allowed".into()),
///         })
///     }
/// }
/// ```
#[async_trait]
pub trait TokenExchangePolicy: Send + Sync + 'static {
    /// The decision for `request`.
    ///
    /// # Errors
    ///
    /// When the application cannot decide; the grant answers `server_error`.
    async fn decide(
        &self,
        request: &TokenExchangeRequest<'_>,
    ) -> Result<TokenExchangeDecision, BoxError>;
}

/// The default policy: every exchange is refused.
#[derive(Debug, Clone, Copy, Default)]
pub struct DenyTokenExchange;

#[async_trait]
impl TokenExchangePolicy for DenyTokenExchange {
    async fn decide(
        &self,
        _request: &TokenExchangeRequest<'_>,
    ) -> Result<TokenExchangeDecision, BoxError> {
        Ok(TokenExchangeDecision::Deny(
            "token exchange is not allowed for this client".into(),
        ))
    }
}

/// The `urn:ietf:params:oauth:grant-type:token-exchange` grant (RFC 8693).
///
/// - The client must be registered for the grant (`unauthorized_client`).
/// - `subject_token` and `subject_token_type` are required; `actor_token_type` is required
///   with `actor_token` and forbidden without it (§2.1; `invalid_request`).
/// - Accepted token types (§3): `access_token` (this provider's, opaque or JWT, active and
///   not revoked), `refresh_token` (this provider's, issued to the requesting client),
///   `id_token` (this provider's, with the requesting client in `aud`), and `jwt` (signed by
///   this provider, or by a [`TrustedIssuer`] with this provider's issuer in `aud`). A
///   token that fails any check, or whose declared type does not match, is `invalid_request`
///   (§2.2.2), described without echoing it.
/// - `requested_token_type` may be `access_token` (the default) or, for clients that get JWT
///   access tokens, `jwt`; anything else is `invalid_request`. The response carries
///   `issued_token_type` (§2.2.1) and never a refresh token.
/// - `scope`, when sent, must be allowed for the client and, when the subject token is one
///   of this provider's access or refresh tokens, within its scope (`invalid_scope`); when
///   absent it is the subject token's scope limited to what the client may request, or for
///   other subject tokens the client's default (as for client credentials).
/// - `audience` and `resource` (one value each; the token endpoint refuses repeated
///   parameters) become the `aud` of a JWT access token. **Opaque access tokens carry no
///   audience and no `act`**: for clients that get them, `audience`/`resource` answer
///   `invalid_target` and a delegation decision answers `invalid_request`.
/// - The [`TokenExchangePolicy`] decides; the default ([`DenyTokenExchange`]) refuses.
///   Impersonation issues a token for the subject token's subject; delegation adds
///   `act: {"sub": <actor>}` (§4.1), where the actor is the actor token's subject or the
///   client, and an earlier `act` of the subject token is nested inside. A subject token's
///   `may_act` (§4.4), when present, must name the actor.
/// - The new token belongs to the requesting client, starts a new grant family, and is not
///   revoked when the subject token is.
///
/// ```
/// use portcullis_grants::{DenyTokenExchange, Grant, TokenExchangeGrant};
/// let grant = TokenExchangeGrant::new(DenyTokenExchange);
/// assert_eq!(grant.grant_type(), "urn:ietf:params:oauth:grant-type:token-exchange");
/// ```
#[derive(Clone)]
pub struct TokenExchangeGrant {
    policy: Arc<dyn TokenExchangePolicy>,
    issuers: BTreeMap<String, TrustedIssuer>,
}

/// One answer for a token that is not acceptable, whatever the reason.
const INVALID_TOKEN: &str = "is invalid, expired, revoked, or not of the declared type";

impl TokenExchangeGrant {
    /// The grant deciding with `policy`.
    pub fn new(policy: impl TokenExchangePolicy) -> TokenExchangeGrant {
        TokenExchangeGrant {
            policy: Arc::new(policy),
            issuers: BTreeMap::new(),
        }
    }

    /// Also accepts `jwt` subject and actor tokens signed by `issuer`.
    #[must_use]
    pub fn trust(mut self, issuer: TrustedIssuer) -> Self {
        self.issuers.insert(issuer.issuer().to_owned(), issuer);
        self
    }

    /// Validates a presented token of the declared type. `which` is `subject_token` or
    /// `actor_token`, for descriptions.
    async fn validate(
        &self,
        cx: &GrantContext<'_>,
        which: &'static str,
        token: &str,
        declared: &str,
    ) -> Result<ExchangedToken, GrantError> {
        let token_type = TokenType::parse(declared).ok_or_else(|| {
            GrantError::invalid_request(format!("{which}_type is not a supported token type"))
        })?;
        let invalid = || GrantError::invalid_request(format!("the {which} {INVALID_TOKEN}"));
        let issuer = cx.settings.issuer.as_str();
        let mut validated = match token_type {
            TokenType::AccessToken => own_token(cx, token, TokenKind::AccessToken).await?,
            TokenType::RefreshToken => own_token(cx, token, TokenKind::RefreshToken).await?,
            TokenType::IdToken => own_id_token(cx, token)?,
            TokenType::Jwt => {
                let peeked = UnverifiedJwt::peek(token).map_err(|_| invalid())?;
                if peeked.issuer() == Some(issuer) {
                    // One of ours: an access token (whose record must still be active), or
                    // else an ID token issued to this client.
                    match own_token(cx, token, TokenKind::AccessToken).await? {
                        Some(token) => Some(token),
                        None => own_id_token(cx, token)?,
                    }
                } else {
                    self.foreign_jwt(cx, token, &peeked).await?
                }
            }
        }
        .ok_or_else(invalid)?;
        validated.token_type = token_type;
        if validated.party().is_none() {
            return Err(invalid());
        }
        Ok(validated)
    }

    /// A JWT from a trusted issuer, with this provider's issuer in `aud`.
    async fn foreign_jwt(
        &self,
        cx: &GrantContext<'_>,
        token: &str,
        peeked: &UnverifiedJwt,
    ) -> Result<Option<ExchangedToken>, GrantError> {
        let Some(trusted) = peeked.issuer().and_then(|iss| self.issuers.get(iss)) else {
            return Ok(None);
        };
        let expect = JwtExpectations::new(trusted.issuer(), cx.now);
        let claims: Map<String, Value> = match trusted.verify(token, peeked, &expect).await {
            Ok(claims) => claims,
            Err(ForeignJwtError::Rejected(_)) => return Ok(None),
            Err(ForeignJwtError::Keys(err)) => return Err(GrantError::Application(err)),
        };
        if !audience_contains(&claims, |aud| aud == cx.settings.issuer) {
            return Ok(None);
        }
        Ok(Some(ExchangedToken {
            token_type: TokenType::Jwt,
            issuer: trusted.issuer().to_owned(),
            subject: subject_claim(&claims),
            client_id: None,
            scopes: None,
            claims: Some(claims),
        }))
    }

    /// The scope of the new token (before the policy narrows it).
    fn scope(cx: &GrantContext<'_>, subject: &ExchangedToken) -> Result<ScopeSet, GrantError> {
        let allowed = cx.client.allowed_scopes.resolve(cx.catalog);
        match (cx.requested_scope()?, &subject.scopes) {
            (Some(requested), within) => {
                cx.client
                    .allowed_scopes
                    .check(&requested, cx.catalog)
                    .map_err(|err| GrantError::invalid_scope(err.to_string()))?;
                if let Some(within) = within
                    && let Some(extra) = requested.iter().find(|s| !within.contains(s.as_str()))
                {
                    return Err(GrantError::invalid_scope(format!(
                        "scope {extra} is not in the subject token's scope"
                    )));
                }
                Ok(requested)
            }
            (None, Some(within)) => Ok(within.intersection(&allowed)),
            (None, None) => {
                let mut scopes = allowed;
                for scope in OIDC_USER_SCOPES {
                    scopes.remove(scope);
                }
                Ok(scopes)
            }
        }
    }
}

/// A single-valued optional parameter, never empty.
fn optional<'a>(cx: &GrantContext<'a>, name: &str) -> Option<&'a str> {
    cx.params.get(name)
}

#[async_trait]
impl Grant for TokenExchangeGrant {
    fn grant_type(&self) -> &str {
        TOKEN_EXCHANGE_GRANT_TYPE
    }

    async fn exchange(&self, cx: &GrantContext<'_>) -> Result<TokenResponse, GrantError> {
        cx.require_grant(GrantType::TokenExchange)?;
        // RFC 8693 §2.1: the request parameters.
        let subject_token = cx.required("subject_token")?;
        let subject_token_type = cx.required("subject_token_type")?;
        let actor = match (
            optional(cx, "actor_token"),
            optional(cx, "actor_token_type"),
        ) {
            (Some(token), Some(declared)) => Some((token, declared)),
            (None, None) => None,
            (Some(_), None) => {
                return Err(GrantError::invalid_request(
                    "actor_token_type is required with actor_token",
                ));
            }
            (None, Some(_)) => {
                return Err(GrantError::invalid_request(
                    "actor_token_type must not be sent without actor_token",
                ));
            }
        };
        let jwt_tokens = issues_jwt_access_tokens(cx.client, cx.signing());
        let issued_type = match optional(cx, "requested_token_type").map(TokenType::parse) {
            None | Some(Some(TokenType::AccessToken)) => TokenType::AccessToken,
            Some(Some(TokenType::Jwt)) if jwt_tokens => TokenType::Jwt,
            Some(_) => {
                return Err(GrantError::invalid_request(
                    "requested_token_type is not a type this server issues to this client",
                ));
            }
        };
        let audience = optional(cx, "audience");
        let resource = optional(cx, "resource");
        if resource.is_some_and(|r| url::Url::parse(r).is_err()) {
            return Err(GrantError::invalid_request(
                "resource must be an absolute URI (RFC 8707 §2)",
            ));
        }
        if !jwt_tokens && (audience.is_some() || resource.is_some()) {
            return Err(invalid_target(
                "this client's opaque access tokens cannot carry an audience; \
                 send no audience or resource",
            ));
        }

        let subject = self
            .validate(cx, "subject_token", subject_token, subject_token_type)
            .await?;
        let actor = match actor {
            Some((token, declared)) => {
                Some(self.validate(cx, "actor_token", token, declared).await?)
            }
            None => None,
        };
        let scopes = Self::scope(cx, &subject)?;
        let decision = self
            .policy
            .decide(&TokenExchangeRequest {
                client: cx.client,
                subject: &subject,
                actor: actor.as_ref(),
                scopes: &scopes,
                audience,
                resource,
            })
            .await
            .map_err(GrantError::Application)?;
        let (narrowing, delegate) = match decision {
            TokenExchangeDecision::Deny(reason) => return Err(GrantError::invalid_request(reason)),
            TokenExchangeDecision::Impersonate(narrowing) => (narrowing, false),
            TokenExchangeDecision::Delegate(narrowing) => (narrowing, true),
        };
        let scopes = match narrowing.scopes {
            Some(narrower) => scopes.intersection(&narrower),
            None => scopes,
        };
        let target = narrowing
            .audience
            .or(audience.map(str::to_owned))
            .or(resource.map(str::to_owned));
        let act = if delegate {
            if !jwt_tokens {
                return Err(GrantError::invalid_request(
                    "delegation needs JWT access tokens (to carry act); this client gets \
                     opaque ones",
                ));
            }
            let actor_id = match &actor {
                Some(actor) => actor
                    .party()
                    .ok_or_else(|| GrantError::invalid_request("the actor_token names no actor"))?,
                None => cx.client.id.as_str(),
            };
            check_may_act(&subject, actor_id)?;
            let mut act = Map::new();
            act.insert("sub".into(), actor_id.into());
            if let Some(earlier) = subject.claims.as_ref().and_then(|c| c.get("act")) {
                act.insert("act".into(), earlier.clone());
            }
            Some(act)
        } else {
            None
        };
        if target.is_some() && !jwt_tokens {
            return Err(invalid_target(
                "this client's opaque access tokens cannot carry an audience",
            ));
        }

        let Minted {
            mut response,
            records,
        } = mint_tokens(Issuance {
            client: cx.client,
            subject: subject.subject.clone(),
            scopes,
            family: FamilyId::generate()?,
            now: cx.now,
            refresh_scopes: None,
            auth_time: None,
            signing: cx.signing(),
            // RFC 8693 §2.1 resource/audience shape the JWT `aud`; the record is unrestricted.
            audience: Audience::unrestricted(),
            confirmation: cx.dpop_jkt.clone(),
        })?;
        if response.access_token.format() == AccessTokenFormat::Jwt
            && (act.is_some() || target.is_some())
        {
            response.access_token =
                with_claims(cx, &response.access_token, target.as_deref(), act)?;
        }
        response
            .extra
            .insert("issued_token_type".into(), issued_type.as_uri().into());
        cx.store.insert_tokens(records).await?;
        Ok(response)
    }
}

/// The `sub` claim, when it is a valid subject.
fn subject_claim(claims: &Map<String, Value>) -> Option<Subject> {
    claims
        .get("sub")
        .and_then(Value::as_str)
        .and_then(|sub| Subject::new(sub).ok())
}

/// One of this provider's access tokens (opaque or RFC 9068 JWT) or refresh tokens, whose
/// record is active; refresh tokens only when issued to the requesting client (RFC 6749
/// §10.4: they are bound to it). `None` when it is not acceptable.
async fn own_token(
    cx: &GrantContext<'_>,
    token: &str,
    kind: TokenKind,
) -> Result<Option<ExchangedToken>, GrantError> {
    let (key, claims) = match RawToken::parse(token, kind) {
        Ok(raw) => (raw.lookup_key(), None),
        Err(_) if kind == TokenKind::AccessToken => {
            let expect =
                JwtExpectations::new(cx.settings.issuer.as_str(), cx.now).with_typ(AT_JWT_TYP);
            let Ok(claims) = cx.keys.verify::<Map<String, Value>>(token, &expect) else {
                return Ok(None);
            };
            let Some(jti) = claims.get("jti").and_then(Value::as_str) else {
                return Ok(None);
            };
            (TokenHash::of(jti), Some(claims))
        }
        Err(_) => return Ok(None),
    };
    let record = cx
        .store
        .find_token(&key, cx.now)
        .await?
        .filter(|r| r.kind == kind && r.status == TokenStatus::Active)
        .filter(|r| kind == TokenKind::AccessToken || r.client_id == cx.client.id);
    Ok(record.map(|record| ExchangedToken {
        token_type: TokenType::AccessToken,
        issuer: cx.settings.issuer.clone(),
        subject: record.subject,
        client_id: Some(record.client_id),
        scopes: Some(record.scopes),
        claims,
    }))
}

/// One of this provider's ID tokens, issued to the requesting client (its id in `aud`).
/// An RFC 9068 access token (`typ` `at+jwt`) is never taken for one, even when its `aud`
/// names the client (RFC 8725 §3.11: distinct `typ`s keep token kinds apart).
fn own_id_token(cx: &GrantContext<'_>, token: &str) -> Result<Option<ExchangedToken>, GrantError> {
    if UnverifiedJwt::peek(token).map_or(true, |peeked| peeked.has_typ(AT_JWT_TYP)) {
        return Ok(None);
    }
    let expect = JwtExpectations::new(cx.settings.issuer.as_str(), cx.now)
        .with_audience(cx.client.id.as_str());
    let Ok(claims) = cx.keys.verify::<Map<String, Value>>(token, &expect) else {
        return Ok(None);
    };
    let Some(subject) = subject_claim(&claims) else {
        return Ok(None);
    };
    Ok(Some(ExchangedToken {
        token_type: TokenType::IdToken,
        issuer: cx.settings.issuer.clone(),
        subject: Some(subject),
        client_id: None,
        scopes: None,
        claims: Some(claims),
    }))
}

/// RFC 8693 §2.2.2's `invalid_target`.
fn invalid_target(description: &'static str) -> GrantError {
    GrantError::Extension {
        code: "invalid_target",
        description: description.into(),
    }
}

/// RFC 8693 §4.4: when the subject token says who may act for it, the actor must be that
/// party.
fn check_may_act(subject: &ExchangedToken, actor: &str) -> Result<(), GrantError> {
    let Some(may_act) = subject.claims.as_ref().and_then(|c| c.get("may_act")) else {
        return Ok(());
    };
    if may_act.get("sub").and_then(Value::as_str) == Some(actor) {
        Ok(())
    } else {
        Err(GrantError::invalid_request(
            "the subject token's may_act does not name this actor",
        ))
    }
}

/// Re-signs a JWT access token this grant has just minted with `aud` and `act` set, under
/// the same `jti` (so its stored record still matches).
fn with_claims(
    cx: &GrantContext<'_>,
    token: &IssuedAccessToken,
    audience: Option<&str>,
    act: Option<Map<String, Value>>,
) -> Result<IssuedAccessToken, GrantError> {
    let minted = UnverifiedJwt::peek(token.expose_secret())?;
    let mut claims = minted.claims().clone();
    if let Some(audience) = audience {
        claims.insert("aud".into(), audience.into());
    }
    if let Some(act) = act {
        claims.insert("act".into(), Value::Object(act));
    }
    let jti = claims
        .get("jti")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or(portcullis_tokens::TokenError::Jwt {
            reason: "minted access token has no jti",
        })?;
    let jwt = cx.keys.active().sign(Some(AT_JWT_TYP), &claims)?;
    Ok(IssuedAccessToken::jwt(jwt, &jti))
}

impl fmt::Debug for TokenExchangeGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenExchangeGrant")
            .field("issuers", &self.issuers.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
