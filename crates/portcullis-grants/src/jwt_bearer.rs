//! JWT bearer authorization grant: RFC 7523 §2.1, assertion checks per §3, errors per §3.1.
//!
//! The client presents a JWT signed by an issuer the provider trusts (`assertion`, with
//! `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`); its `sub` becomes the subject
//! of the access token. Every use of an assertion is recorded in a [`ReplayStore`] under
//! the SHA-256 of its issuer and `jti` until it expires, so it is accepted once.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use portcullis_registry::GrantType;
use portcullis_store::{FamilyId, ReplayStore};
use portcullis_tokens::{JwtExpectations, Subject, TokenHash, UnverifiedJwt};
use serde_json::{Map, Value};
use time::{Duration, OffsetDateTime};

use crate::Audience;
use crate::client_credentials::{DefaultScope, direct_grant_scope};
use crate::trusted_issuer::ForeignJwtError;
use crate::{
    BoxError, Grant, GrantContext, GrantError, Issuance, TokenResponse, TrustedIssuer, mint_tokens,
};

/// The `grant_type` of this grant (RFC 7523 §2.1).
pub const JWT_BEARER_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Turns an assertion's `iss` and `sub` into the subject of the tokens issued for it.
///
/// The default ([`JwtBearerGrant`] without a mapper) takes `sub` as it is. Implement this
/// to map another issuer's subjects onto the application's users, or to refuse subjects it
/// does not know (`Ok(None)` answers `invalid_grant`).
///
/// ```
/// use async_trait::async_trait;
/// use portcullis_grants::{AssertionSubjectMapper, BoxError};
/// use portcullis_tokens::Subject;
///
/// /// Prefix each partner's subjects so two issuers can never name the same user.
/// struct Namespaced;
///
/// #[async_trait]
/// impl AssertionSubjectMapper for Namespaced {
///     async fn subject(&self, issuer: &str, sub: &str) -> Result<Option<Subject>, BoxError> {
///         let partner = if issuer == "https://partner.example" { "partner" } else { return Ok(None) };
///         Ok(Subject::new(format!("{partner}:{sub}")).ok())
///     }
/// }
/// ```
#[async_trait]
pub trait AssertionSubjectMapper: Send + Sync + 'static {
    /// The subject for `sub` asserted by `issuer`, or `None` to refuse it.
    ///
    /// # Errors
    ///
    /// When the application cannot answer; the grant answers `server_error`.
    async fn subject(&self, issuer: &str, sub: &str) -> Result<Option<Subject>, BoxError>;
}

/// The `urn:ietf:params:oauth:grant-type:jwt-bearer` grant (RFC 7523 §2.1).
///
/// - The client must be registered for the grant (`unauthorized_client`); `assertion` is
///   required (`invalid_request`, RFC 7521 §4.1).
/// - The assertion must be a JWS signed by a [`TrustedIssuer`] whose identifier is exactly
///   its `iss` (§3 items 1 and 9); any other failure below answers `invalid_grant` (§3.1).
/// - `sub` is required (§3 item 2) and becomes the token's subject, through an
///   [`AssertionSubjectMapper`] when one is set.
/// - `aud` must contain the provider's issuer identifier or one of the
///   [`audience`](JwtBearerGrant::audience)s added, normally the token endpoint URL (§3
///   item 3; [`token_endpoint_path`](JwtBearerGrant::token_endpoint_path) names it by path).
/// - `exp` is required and must not have passed (§3 item 4), nor lie more than
///   [`max_assertion_lifetime`](JwtBearerGrant::max_assertion_lifetime) (default 10
///   minutes) in the future; `nbf` must have passed (item 5); `iat`, when present, must not
///   be in the future nor older than the maximum lifetime (item 6). Each time check allows
///   [`leeway`](JwtBearerGrant::leeway) (default 60 s).
/// - `jti` is **required** (item 7 makes it optional; without it replay cannot be
///   detected). The first use is recorded under `SHA-256(iss || 0x00 || jti)` until `exp`
///   plus the leeway; a second use answers `invalid_grant`. The replay check is the last
///   one, so a refused request does not burn the assertion.
/// - `scope`, when sent, must be allowed for the client (`invalid_scope`, never silently
///   narrowed); when absent the token gets every scope the client may request except the
///   OpenID Connect user scopes, as for client credentials.
/// - No refresh token and no ID token: the client can present a fresh assertion, and the
///   user did not authenticate here. The access token starts a new grant family.
///
/// ```
/// use std::sync::Arc;
/// use portcullis_grants::{Grant, JwtBearerGrant, StaticJwks, TrustedIssuer};
/// use portcullis_store::MemoryStore;
/// use portcullis_tokens::{SigningAlgorithm, SigningKey};
///
/// let partner = SigningKey::generate(SigningAlgorithm::ES256)?;
/// let jwks = serde_json::json!({"keys": [partner.public_key().jwk()]});
/// let grant = JwtBearerGrant::new(Arc::new(MemoryStore::new()))
///     .trust(TrustedIssuer::new("https://partner.example", StaticJwks::from_jwks(&jwks)?))
///     .audience("https://id.example/oauth/token");
/// assert_eq!(grant.grant_type(), "urn:ietf:params:oauth:grant-type:jwt-bearer");
/// # Ok::<(), portcullis_tokens::TokenError>(())
/// ```
#[derive(Clone)]
pub struct JwtBearerGrant {
    issuers: BTreeMap<String, TrustedIssuer>,
    replay: Arc<dyn ReplayStore>,
    audiences: Vec<String>,
    audience_paths: Vec<String>,
    max_assertion_lifetime: Duration,
    leeway: Duration,
    subjects: Option<Arc<dyn AssertionSubjectMapper>>,
}

/// One answer for an assertion that is not a JWT, or from an issuer that is not trusted.
const UNTRUSTED: &str = "the assertion is not a JWT from a trusted issuer";

impl JwtBearerGrant {
    /// The grant with no trusted issuer yet (so it refuses every assertion), recording used
    /// assertions in `replay`.
    pub fn new(replay: Arc<dyn ReplayStore>) -> JwtBearerGrant {
        JwtBearerGrant {
            issuers: BTreeMap::new(),
            replay,
            audiences: Vec::new(),
            audience_paths: Vec::new(),
            max_assertion_lifetime: Duration::minutes(10),
            leeway: Duration::seconds(60),
            subjects: None,
        }
    }

    /// Trusts assertions signed by `issuer`. A second issuer with the same identifier
    /// replaces the first.
    #[must_use]
    pub fn trust(mut self, issuer: TrustedIssuer) -> Self {
        self.issuers.insert(issuer.issuer().to_owned(), issuer);
        self
    }

    /// Also accepts `audience` in `aud` besides the provider's issuer identifier: the token
    /// endpoint URL, such as `https://id.example/oauth/token` (RFC 7523 §3 item 3).
    #[must_use]
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Also accepts the provider's issuer followed by `path` in `aud`: the token endpoint
    /// given by its path (`"/oauth/token"`, the provider's `Paths::token`), for when the
    /// issuer is only known at run time.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// use portcullis_grants::JwtBearerGrant;
    /// let grant = JwtBearerGrant::new(Arc::new(portcullis_store::MemoryStore::new()))
    ///     .token_endpoint_path("/oauth/token");
    /// ```
    #[must_use]
    pub fn token_endpoint_path(mut self, path: impl Into<String>) -> Self {
        self.audience_paths.push(path.into());
        self
    }

    /// The longest an assertion may be valid from now: `exp` later than this is refused.
    /// Default 10 minutes; it also bounds how long a `jti` is remembered.
    #[must_use]
    pub fn max_assertion_lifetime(mut self, lifetime: Duration) -> Self {
        self.max_assertion_lifetime = lifetime;
        self
    }

    /// Tolerated clock skew with the issuer for `exp`, `nbf` and `iat`. Default 60 s.
    #[must_use]
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway.max(Duration::ZERO);
        self
    }

    /// Maps asserted subjects; default: `sub` unchanged.
    #[must_use]
    pub fn subject_mapper(mut self, mapper: impl AssertionSubjectMapper) -> Self {
        self.subjects = Some(Arc::new(mapper));
        self
    }

    /// Verifies the assertion and returns its issuer, subject, `jti` and expiry.
    async fn check_assertion(
        &self,
        assertion: &str,
        provider_issuer: &str,
        now: OffsetDateTime,
    ) -> Result<Checked, GrantError> {
        let peeked = UnverifiedJwt::peek(assertion)
            .map_err(|_| GrantError::invalid_grant("the assertion is not a JWT"))?;
        let issuer = peeked
            .issuer()
            .and_then(|iss| self.issuers.get(iss))
            .ok_or_else(|| GrantError::invalid_grant(UNTRUSTED))?;
        let expect = JwtExpectations::new(issuer.issuer(), now).with_leeway(self.leeway);
        let claims: Map<String, Value> =
            issuer
                .verify(assertion, &peeked, &expect)
                .await
                .map_err(|err| match err {
                    ForeignJwtError::Rejected(err) => {
                        GrantError::invalid_grant(format!("the assertion was refused: {err}"))
                    }
                    ForeignJwtError::Keys(err) => GrantError::Application(err),
                })?;
        let sub = claims
            .get("sub")
            .and_then(Value::as_str)
            .filter(|sub| !sub.is_empty())
            .ok_or_else(|| GrantError::invalid_grant("the assertion has no sub"))?;
        if !audience_contains(&claims, |aud| {
            aud == provider_issuer
                || self.audiences.iter().any(|a| a == aud)
                || aud
                    .strip_prefix(provider_issuer)
                    .is_some_and(|path| self.audience_paths.iter().any(|p| p == path))
        }) {
            return Err(GrantError::invalid_grant(
                "the assertion's aud does not name this authorization server",
            ));
        }
        let exp = timestamp(&claims, "exp")
            .ok_or_else(|| GrantError::invalid_grant("the assertion has no valid exp"))?;
        let latest = now + self.max_assertion_lifetime + self.leeway;
        if exp > latest {
            return Err(GrantError::invalid_grant(
                "the assertion's exp is too far in the future",
            ));
        }
        if let Some(iat) = timestamp(&claims, "iat")
            && iat < now - self.max_assertion_lifetime - self.leeway
        {
            return Err(GrantError::invalid_grant("the assertion's iat is too old"));
        }
        let jti = claims
            .get("jti")
            .and_then(Value::as_str)
            .filter(|jti| !jti.is_empty())
            .ok_or_else(|| GrantError::invalid_grant("the assertion has no jti"))?;
        Ok(Checked {
            issuer: issuer.issuer().to_owned(),
            sub: sub.to_owned(),
            jti: jti.to_owned(),
            exp,
        })
    }
}

/// What a verified assertion says.
struct Checked {
    issuer: String,
    sub: String,
    jti: String,
    exp: OffsetDateTime,
}

/// Whether `aud` (a string or an array of strings, RFC 7519 §4.1.3) has a value `accept`s.
pub(crate) fn audience_contains(
    claims: &Map<String, Value>,
    accept: impl Fn(&str) -> bool,
) -> bool {
    match claims.get("aud") {
        Some(Value::String(aud)) => accept(aud),
        Some(Value::Array(auds)) => auds.iter().filter_map(Value::as_str).any(accept),
        _ => false,
    }
}

/// A NumericDate claim in whole seconds (fractions are dropped); `None` when absent or
/// not a number. Verification has already refused malformed ones.
pub(crate) fn timestamp(claims: &Map<String, Value>, name: &str) -> Option<OffsetDateTime> {
    let value = claims.get(name)?;
    #[allow(clippy::cast_possible_truncation)] // checked finite and bounded by verification
    let seconds = value
        .as_i64()
        .or_else(|| value.as_f64().filter(|s| s.is_finite()).map(|s| s as i64))?;
    OffsetDateTime::from_unix_timestamp(seconds).ok()
}

/// The replay key: SHA-256 of the issuer, a NUL (which an issuer URL cannot contain) and the
/// `jti` (RFC 7523 §3 item 7: "a unique identifier for the token").
pub(crate) fn replay_key(issuer: &str, jti: &str) -> TokenHash {
    TokenHash::of(&format!("{issuer}\u{0}{jti}"))
}

#[async_trait]
impl Grant for JwtBearerGrant {
    fn grant_type(&self) -> &str {
        JWT_BEARER_GRANT_TYPE
    }

    async fn exchange(&self, cx: &GrantContext<'_>) -> Result<TokenResponse, GrantError> {
        cx.require_grant(GrantType::JwtBearer)?;
        let audience = Audience::requested(cx.resources()?);
        let assertion = cx.required("assertion")?;
        let checked = self
            .check_assertion(assertion, &cx.settings.issuer, cx.now)
            .await?;
        let scopes = direct_grant_scope(cx, DefaultScope::AllAllowedExceptUserScopes)?;
        let subject = match &self.subjects {
            Some(mapper) => mapper
                .subject(&checked.issuer, &checked.sub)
                .await
                .map_err(GrantError::Application)?,
            None => Subject::new(checked.sub.as_str()).ok(),
        }
        .ok_or_else(|| GrantError::invalid_grant("the assertion's subject is not accepted"))?;
        // RFC 7523 §3 item 7: remember the jti for as long as the assertion would be valid.
        let first = self
            .replay
            .first_use(
                replay_key(&checked.issuer, &checked.jti),
                checked.exp + self.leeway,
                cx.now,
            )
            .await?;
        if !first {
            return Err(GrantError::invalid_grant("the assertion was already used"));
        }
        let minted = mint_tokens(Issuance {
            client: cx.client,
            subject: Some(subject),
            scopes,
            family: FamilyId::generate()?,
            now: cx.now,
            refresh_scopes: None,
            auth_time: None,
            signing: cx.signing(),
            audience,
            confirmation: cx.dpop_jkt.clone(),
        })?;
        cx.store.insert_tokens(minted.records).await?;
        Ok(minted.response)
    }
}

impl fmt::Debug for JwtBearerGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtBearerGrant")
            .field("issuers", &self.issuers.keys().collect::<Vec<_>>())
            .field("audiences", &self.audiences)
            .field("audience_paths", &self.audience_paths)
            .field("max_assertion_lifetime", &self.max_assertion_lifetime)
            .field("leeway", &self.leeway)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
