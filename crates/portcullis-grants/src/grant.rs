//! The token-endpoint side of a grant (RFC 6749 §4, §6): the [`Grant`] trait every grant
//! type implements, built-in or extension, and what it answers with.

use async_trait::async_trait;
use std::fmt;

use portcullis_registry::{AccessTokenFormat, Client, GrantType, ScopeCatalog, ScopeSet};
use portcullis_store::Store;
use portcullis_tokens::{KeySet, RawToken, TokenHash};
use serde_json::{Map, Value};
use subtle::ConstantTimeEq as _;
use time::OffsetDateTime;

use crate::{Authenticator, ClaimsSource, GrantError, IssuerSettings, Params, Policy};

/// Everything a grant may use to answer one token request.
///
/// The client has already been authenticated (or identified, for public clients) by the
/// token endpoint, and the parameters have been checked for duplicates.
#[non_exhaustive]
pub struct GrantContext<'a> {
    /// The store.
    pub store: &'a dyn Store,
    /// The authenticated client (never revoked).
    pub client: &'a Client,
    /// The token request's parameters.
    pub params: &'a Params,
    /// The current time, from the provider's clock.
    pub now: OffsetDateTime,
    /// Provider-wide policy.
    pub policy: &'a Policy,
    /// The scopes that exist: the store's catalog plus the OpenID Connect scopes.
    pub catalog: &'a ScopeCatalog,
    /// The application's password check, if the provider has one.
    pub authenticator: Option<&'a dyn Authenticator>,
    /// How signed tokens are issued.
    pub settings: &'a IssuerSettings,
    /// The provider's signing keys (the active one signs).
    pub keys: &'a KeySet,
    /// Where user claims for ID tokens come from.
    pub claims: &'a dyn ClaimsSource,
    /// The SHA-256 thumbprint of the key of a verified DPoP proof that came with the
    /// request (RFC 9449 §4.3), set by the token endpoint; `None` for a bearer request.
    pub dpop_jkt: Option<String>,
    /// Where the grant reports what the token response cannot show (refresh-token reuse,
    /// RFC 9700 §4.14.2). [`NoEvents`](portcullis_events::NoEvents) unless the token
    /// endpoint sets the provider's sink; emitting never waits.
    pub events: &'a dyn portcullis_events::EventSink,
}

impl<'a> GrantContext<'a> {
    /// Assembles a context; the token endpoint does this for every request.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: &'a dyn Store,
        client: &'a Client,
        params: &'a Params,
        now: OffsetDateTime,
        policy: &'a Policy,
        catalog: &'a ScopeCatalog,
        authenticator: Option<&'a dyn Authenticator>,
        signing: Signing<'a>,
    ) -> GrantContext<'a> {
        GrantContext {
            store,
            client,
            params,
            now,
            policy,
            catalog,
            authenticator,
            settings: signing.settings,
            keys: signing.keys,
            claims: signing.claims,
            dpop_jkt: None,
            events: &portcullis_events::NoEvents,
        }
    }

    /// The request's RFC 8707 `resource` values, checked against the provider's
    /// [`ResourcePolicy`](crate::ResourcePolicy); empty when there are none.
    ///
    /// # Errors
    ///
    /// `invalid_target` for a value that is not an absolute URI without a fragment, or one
    /// the provider does not accept.
    pub fn resources(&self) -> Result<Vec<String>, GrantError> {
        self.settings
            .resources
            .check(self.params.get_all("resource"))
    }

    /// The `sub` the client sees for `subject`: the subject itself, or its pairwise
    /// identifier for a pairwise client (OpenID Connect Core §8.1).
    ///
    /// # Errors
    ///
    /// [`GrantError::Application`] when the client is pairwise but the provider has no
    /// pairwise salt or the client no sector.
    pub fn subject_for_client(
        &self,
        subject: &portcullis_tokens::Subject,
    ) -> Result<portcullis_tokens::Subject, GrantError> {
        self.settings.subject_for_client(self.client, subject)
    }

    /// Fails with `unauthorized_client` unless the client is registered for `grant`
    /// (RFC 6749 §5.2).
    ///
    /// # Errors
    ///
    /// [`GrantError::UnauthorizedClient`].
    pub fn require_grant(&self, grant: GrantType) -> Result<(), GrantError> {
        if self.client.allows_grant(grant) {
            Ok(())
        } else {
            Err(GrantError::unauthorized_client(format!(
                "this client is not allowed to use the {} grant",
                grant.as_str()
            )))
        }
    }

    /// The value of a required parameter, or `invalid_request` naming it.
    ///
    /// # Errors
    ///
    /// [`GrantError::InvalidRequest`] when the parameter is absent or empty.
    pub fn required(&self, name: &'static str) -> Result<&'a str, GrantError> {
        self.params
            .get(name)
            .ok_or_else(|| GrantError::invalid_request(format!("{name} is required")))
    }

    /// What issuing signed tokens needs (settings, keys, claims), for [`Issuance::signing`](crate::Issuance::signing).
    pub fn signing(&self) -> Signing<'a> {
        Signing {
            settings: self.settings,
            keys: self.keys,
            claims: self.claims,
        }
    }

    /// The `scope` parameter, parsed (RFC 6749 §3.3); `None` when absent.
    ///
    /// # Errors
    ///
    /// [`GrantError::InvalidScope`] when it does not parse.
    pub fn requested_scope(&self) -> Result<Option<ScopeSet>, GrantError> {
        self.params
            .get("scope")
            .map(|raw| {
                ScopeSet::parse(raw)
                    .map_err(|err| GrantError::invalid_scope(format!("scope is malformed: {err}")))
            })
            .transpose()
    }
}

/// What signing needs, borrowed from the provider for one request.
#[derive(Clone, Copy)]
pub struct Signing<'a> {
    /// Provider-wide settings for signed tokens.
    pub settings: &'a IssuerSettings,
    /// The signing keys.
    pub keys: &'a KeySet,
    /// Where user claims come from.
    pub claims: &'a dyn ClaimsSource,
}

impl fmt::Debug for Signing<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signing")
            .field("settings", self.settings)
            .field("active_key", &self.keys.active().kid())
            .finish_non_exhaustive()
    }
}

/// An access token as issued: an opaque `pc_at_…` token, or an RFC 9068 JWT.
///
/// Either way the store keeps only a [`TokenHash`] of it: of the whole token when opaque, of
/// its `jti` when a JWT ([`lookup_key`](IssuedAccessToken::lookup_key)). `Debug` never shows
/// the value, and equality is constant-time.
///
/// ```
/// use portcullis_grants::IssuedAccessToken;
/// use portcullis_registry::AccessTokenFormat;
/// use portcullis_tokens::{mint, TokenKind};
///
/// let raw = mint(TokenKind::AccessToken)?;
/// let token = IssuedAccessToken::from(raw.clone());
/// assert_eq!(token.format(), AccessTokenFormat::Opaque);
/// assert_eq!(token.lookup_key(), raw.lookup_key());
/// assert!(!format!("{token:?}").contains(raw.expose_secret()));
/// # Ok::<(), portcullis_tokens::TokenError>(())
/// ```
#[derive(Clone)]
pub struct IssuedAccessToken {
    value: String,
    format: AccessTokenFormat,
    lookup_key: TokenHash,
}

impl IssuedAccessToken {
    /// A signed RFC 9068 access token whose record is stored under `TokenHash::of(jti)`.
    ///
    /// ```
    /// use portcullis_grants::IssuedAccessToken;
    /// use portcullis_tokens::TokenHash;
    /// let token = IssuedAccessToken::jwt("eyJ.eyJ.sig".into(), "jti-1");
    /// assert_eq!(token.lookup_key(), TokenHash::of("jti-1"));
    /// ```
    pub fn jwt(compact: String, jti: &str) -> IssuedAccessToken {
        IssuedAccessToken {
            value: compact,
            format: AccessTokenFormat::Jwt,
            lookup_key: TokenHash::of(jti),
        }
    }

    /// The token to hand to the client.
    ///
    /// # Security
    ///
    /// This is a bearer credential: send it to the client once, never log it.
    pub fn expose_secret(&self) -> &str {
        &self.value
    }

    /// Opaque or JWT.
    pub fn format(&self) -> AccessTokenFormat {
        self.format
    }

    /// The key its record is stored under: the hash of the token when opaque, the hash of
    /// its `jti` when a JWT.
    pub fn lookup_key(&self) -> TokenHash {
        self.lookup_key
    }
}

impl From<RawToken> for IssuedAccessToken {
    fn from(raw: RawToken) -> Self {
        IssuedAccessToken {
            lookup_key: raw.lookup_key(),
            value: raw.expose_secret().to_owned(),
            format: AccessTokenFormat::Opaque,
        }
    }
}

impl fmt::Debug for IssuedAccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IssuedAccessToken({:?}, <redacted>)", self.format)
    }
}

impl PartialEq for IssuedAccessToken {
    fn eq(&self, other: &Self) -> bool {
        self.value.as_bytes().ct_eq(other.value.as_bytes()).into()
    }
}

impl Eq for IssuedAccessToken {}

/// A successful token response (RFC 6749 §5.1), before serialization.
///
/// ```
/// use portcullis_grants::TokenResponse;
/// use portcullis_tokens::{mint, TokenKind};
///
/// let response = TokenResponse::bearer(mint(TokenKind::AccessToken)?, 3600, Default::default());
/// assert_eq!(response.token_type, "Bearer");
/// # Ok::<(), portcullis_tokens::TokenError>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct TokenResponse {
    /// The access token, opaque or a JWT.
    pub access_token: IssuedAccessToken,
    /// `Bearer` (RFC 6750).
    pub token_type: &'static str,
    /// Lifetime of the access token in seconds: the client's configured lifetime.
    pub expires_in: u32,
    /// A refresh token, when one is issued.
    pub refresh_token: Option<RawToken>,
    /// The scopes granted (RFC 6749 §5.1: always sent, so clients need not guess).
    pub scope: ScopeSet,
    /// Further members, for extensions (`id_token`, `issued_token_type`, …).
    pub extra: Map<String, Value>,
    /// The user the tokens were issued for, when the grant reports one (every grant that
    /// mints through [`mint_tokens`](crate::mint_tokens)); never serialized, it is for
    /// events and logs.
    pub subject: Option<String>,
}

impl TokenResponse {
    /// A bearer response with no refresh token; `access_token` is an [`IssuedAccessToken`]
    /// or an opaque [`RawToken`].
    ///
    /// ```
    /// # use portcullis_grants::TokenResponse;
    /// # use portcullis_tokens::{mint, TokenKind};
    /// let response = TokenResponse::bearer(mint(TokenKind::AccessToken)?, 300, Default::default());
    /// assert!(response.refresh_token.is_none());
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    pub fn bearer(
        access_token: impl Into<IssuedAccessToken>,
        expires_in: u32,
        scope: ScopeSet,
    ) -> TokenResponse {
        TokenResponse {
            access_token: access_token.into(),
            token_type: "Bearer",
            expires_in,
            refresh_token: None,
            scope,
            extra: Map::new(),
            subject: None,
        }
    }
}

/// One grant type at the token endpoint.
///
/// The endpoint picks the grant whose [`grant_type`](Grant::grant_type) equals the request's
/// `grant_type` parameter. Built-in grants are registered by the provider; extension grants
/// (RFC 6749 §4.5) are added with the provider builder and keyed by their URI.
///
/// A grant must check that the client may use it ([`GrantContext::require_grant`]), must
/// store everything it issues in one all-or-nothing store call, and must not issue anything
/// when it returns an error.
///
/// ```
/// use async_trait::async_trait;
/// use portcullis_grants::{Grant, GrantContext, GrantError, TokenResponse};
///
/// /// Refuses everything: the least grant that compiles.
/// struct Closed;
///
/// #[async_trait]
/// impl Grant for Closed {
///     fn grant_type(&self) -> &str {
///         "urn:example:params:oauth:grant-type:closed"
///     }
///     async fn exchange(&self, _cx: &GrantContext<'_>) -> Result<TokenResponse, GrantError> {
///         Err(GrantError::invalid_grant("this grant never succeeds"))
///     }
/// }
/// ```
#[async_trait]
pub trait Grant: Send + Sync + 'static {
    /// The `grant_type` value this grant answers (`authorization_code`, or an absolute URI
    /// for extension grants).
    fn grant_type(&self) -> &str;

    /// Answers a token request.
    async fn exchange(&self, cx: &GrantContext<'_>) -> Result<TokenResponse, GrantError>;
}
