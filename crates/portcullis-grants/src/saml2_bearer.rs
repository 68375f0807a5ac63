//! SAML 2.0 bearer assertion grant: RFC 7522 §2.1 and §3, over the assertion framework of
//! RFC 7521 §4.1.
//!
//! The client sends `grant_type=urn:ietf:params:oauth:grant-type:saml2-bearer` and
//! `assertion`, one SAML 2.0 assertion encoded with base64url (RFC 7522 §2.1). A
//! [`SamlAssertionVerifier`] checks its signature against the identity provider's keys and
//! returns only what the signature covers ([`VerifiedAssertion`]); [`Saml2BearerGrant`] then
//! applies the rules of RFC 7522 §3 itself, so every verifier gets the same ones. The
//! built-in verifier, `XmlSecVerifier` (feature `saml`), uses samael over xmlsec1.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_registry::GrantType;
use portcullis_store::{FamilyId, ReplayStore};
use portcullis_tokens::{Subject, TokenHash};
use time::{Duration, OffsetDateTime};

use crate::Audience;
use crate::client_credentials::{DefaultScope, direct_grant_scope};
use crate::{
    AssertionSubjectMapper, Grant, GrantContext, GrantError, Issuance, TokenResponse, mint_tokens,
};

mod assertion;
#[cfg(feature = "saml")]
mod xmlsec;

pub use assertion::{
    BEARER_CONFIRMATION, Conditions, NameId, SAML_ASSERTION_NAMESPACE, SubjectConfirmation,
    SubjectConfirmationData, VerifiedAssertion,
};
#[cfg(feature = "saml")]
pub use xmlsec::{InvalidIdpCertificate, XmlSecVerifier};

/// Checks the signature of a SAML 2.0 assertion (RFC 7522 §3, item 9) and returns what it
/// vouches for.
///
/// An implementation verifies the XML-DSig signature (or MAC) against the keys it trusts
/// for the identity provider and hands **only the signed content** to
/// [`VerifiedAssertion::from_signed_xml`]: the XML as received may wrap the signed element
/// in forged content (signature wrapping). Issuer, audience, recipient, time, subject
/// confirmation and replay are checked afterwards by [`Saml2BearerGrant`].
///
/// ```
/// use async_trait::async_trait;
/// use portcullis_grants::{GrantError, SamlAssertionVerifier, VerifiedAssertion};
///
/// /// Trusts nothing: the least verifier that compiles.
/// struct Closed;
///
/// #[async_trait]
/// impl SamlAssertionVerifier for Closed {
///     async fn verify(&self, _xml: &str) -> Result<VerifiedAssertion, GrantError> {
///         Err(GrantError::invalid_grant("no identity provider is trusted"))
///     }
/// }
/// ```
#[async_trait]
pub trait SamlAssertionVerifier: Send + Sync + 'static {
    /// Verifies `xml`, the decoded `assertion` parameter.
    ///
    /// # Errors
    ///
    /// [`GrantError::InvalidGrant`] when the assertion is unsigned, its signature does not
    /// verify with a trusted key, or it is malformed; another variant when the verifier
    /// itself failed.
    async fn verify(&self, xml: &str) -> Result<VerifiedAssertion, GrantError>;
}

/// Default allowance for clock differences with the identity provider: 60 s.
pub const DEFAULT_LEEWAY: Duration = Duration::seconds(60);

/// Default longest accepted remaining validity of an assertion (RFC 7522 §3, item 6: the
/// server "may reject Assertions with a NotOnOrAfter instant that is unreasonably far in
/// the future"): 10 minutes, as for JWT bearer assertions.
pub const DEFAULT_MAX_ASSERTION_LIFETIME: Duration = Duration::minutes(10);

/// The `urn:ietf:params:oauth:grant-type:saml2-bearer` grant (RFC 7522 §2.1).
///
/// One identity provider per grant: its entity id (the assertion's `Issuer`) and a
/// [`SamlAssertionVerifier`] holding its signing certificate. Checks, in order, each
/// failure answering `invalid_grant` (§3.1) unless noted:
///
/// - the client is registered for the grant (`unauthorized_client`); `assertion` is present
///   (`invalid_request`) and is base64url of UTF-8 (§2.1);
/// - the signature (item 9), through the verifier;
/// - `Issuer` is the configured identity provider (item 1);
/// - `Conditions` has an `AudienceRestriction`, and every one names this server: its issuer,
///   its token endpoint URL, or a configured alias (item 2);
/// - `Conditions` holds no unknown condition, its `NotBefore` has come and its `NotOnOrAfter`
///   has not passed, with [`DEFAULT_LEEWAY`] (items 6, 11);
/// - a `SubjectConfirmation` with method bearer whose `SubjectConfirmationData` has a
///   `Recipient` equal to the token endpoint URL (or an alias) and an unexpired
///   `NotOnOrAfter` (item 5); `Address` is not checked (left to the server by item 5);
/// - the assertion expires (item 4), no later than [`DEFAULT_MAX_ASSERTION_LIFETIME`] from
///   now (item 6);
/// - the `Subject` has a `NameID` usable as a token subject (item 3);
/// - `scope`, when sent, is allowed for the client (`invalid_scope`); when absent, every
///   scope the client may request except the OpenID Connect user scopes;
/// - the assertion's `ID` has not been used before (item 6: replay), remembered in the
///   [`ReplayStore`] until the assertion expires; checked last, so a refused request does
///   not burn the assertion.
///
/// The access token's subject is the `NameID` (through an
/// [`AssertionSubjectMapper`] when one is set), `auth_time` (JWT access tokens) the
/// `AuthnInstant`. No refresh token is issued (the client presents a fresh assertion
/// instead) and no ID token.
///
/// ```
/// use std::sync::Arc;
/// use portcullis_grants::{Grant, GrantError, Saml2BearerGrant, SamlAssertionVerifier, VerifiedAssertion};
/// use portcullis_store::MemoryStore;
///
/// struct Closed;
/// #[async_trait::async_trait]
/// impl SamlAssertionVerifier for Closed {
///     async fn verify(&self, _xml: &str) -> Result<VerifiedAssertion, GrantError> {
///         Err(GrantError::invalid_grant("no identity provider is trusted"))
///     }
/// }
///
/// let grant = Saml2BearerGrant::new(
///     "https://idp.example/saml",
///     "https://id.example/oauth/token",
///     Closed,
///     Arc::new(MemoryStore::new()),
/// );
/// assert_eq!(grant.grant_type(), "urn:ietf:params:oauth:grant-type:saml2-bearer");
/// ```
pub struct Saml2BearerGrant {
    idp_entity_id: String,
    token_endpoint: String,
    verifier: Arc<dyn SamlAssertionVerifier>,
    replay: Arc<dyn ReplayStore>,
    audiences: Vec<String>,
    recipients: Vec<String>,
    leeway: Duration,
    max_lifetime: Duration,
    subjects: Option<Arc<dyn AssertionSubjectMapper>>,
}

impl fmt::Debug for Saml2BearerGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Saml2BearerGrant")
            .field("idp_entity_id", &self.idp_entity_id)
            .field("token_endpoint", &self.token_endpoint)
            .field("audiences", &self.audiences)
            .field("recipients", &self.recipients)
            .field("leeway", &self.leeway)
            .field("max_lifetime", &self.max_lifetime)
            .finish_non_exhaustive()
    }
}

impl Saml2BearerGrant {
    /// A grant trusting assertions issued by `idp_entity_id` and verified by `verifier`,
    /// delivered to `token_endpoint` (this server's token endpoint URL, the expected
    /// `Recipient` and an accepted `Audience`), remembering used assertion ids in `replay`.
    pub fn new(
        idp_entity_id: impl Into<String>,
        token_endpoint: impl Into<String>,
        verifier: impl SamlAssertionVerifier,
        replay: Arc<dyn ReplayStore>,
    ) -> Saml2BearerGrant {
        Saml2BearerGrant {
            idp_entity_id: idp_entity_id.into(),
            token_endpoint: token_endpoint.into(),
            verifier: Arc::new(verifier),
            replay,
            audiences: Vec::new(),
            recipients: Vec::new(),
            leeway: DEFAULT_LEEWAY,
            max_lifetime: DEFAULT_MAX_ASSERTION_LIFETIME,
            subjects: None,
        }
    }

    /// Accepts `audience` as this server's identity in `Audience` (RFC 7522 §3, item 2),
    /// besides the provider's issuer and the token endpoint URL, which are always accepted.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Accepts `recipient` as an alias of the token endpoint URL in `Recipient` (RFC 7522
    /// §3, item 5). Default: the token endpoint URL only.
    pub fn recipient(mut self, recipient: impl Into<String>) -> Self {
        self.recipients.push(recipient.into());
        self
    }

    /// Allowance for clock differences with the identity provider, on every time check.
    /// Default [`DEFAULT_LEEWAY`] (60 s); at most 5 minutes.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway.clamp(Duration::ZERO, Duration::minutes(5));
        self
    }

    /// Maps the `NameID` onto the application's users, or refuses it (`Ok(None)` answers
    /// `invalid_grant`); it is called with the assertion's `Issuer` and the `NameID` value.
    /// Default: the `NameID` is the token's subject as it is.
    pub fn subject_mapper(mut self, mapper: impl AssertionSubjectMapper) -> Self {
        self.subjects = Some(Arc::new(mapper));
        self
    }

    /// Longest remaining validity accepted. Default [`DEFAULT_MAX_ASSERTION_LIFETIME`]
    /// (10 minutes).
    pub fn max_assertion_lifetime(mut self, lifetime: Duration) -> Self {
        self.max_lifetime = lifetime.max(Duration::ZERO);
        self
    }

    /// The configured identity provider's entity id.
    pub fn idp_entity_id(&self) -> &str {
        &self.idp_entity_id
    }

    /// Decodes the `assertion` parameter (RFC 7522 §2.1: base64url, padding optional).
    fn decode(raw: &str) -> Result<String, GrantError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(raw.trim_end_matches('='))
            .map_err(|_| GrantError::invalid_grant("assertion is not base64url-encoded"))?;
        String::from_utf8(bytes)
            .map_err(|_| GrantError::invalid_grant("assertion is not UTF-8 encoded XML"))
    }

    /// RFC 7522 §3 on a verified assertion: everything but replay. Returns the subject
    /// and the instant until which the assertion's id must be remembered.
    fn check(
        &self,
        assertion: &VerifiedAssertion,
        issuer: &str,
        now: OffsetDateTime,
    ) -> Result<(String, OffsetDateTime), GrantError> {
        let skew = self.leeway;
        // Item 1: the issuer is the identity provider this grant trusts.
        if assertion.issuer != self.idp_entity_id {
            return Err(GrantError::invalid_grant(
                "the assertion's Issuer is not a trusted identity provider",
            ));
        }
        // Item 2: Conditions/AudienceRestriction names this server, in every restriction.
        let conditions = assertion.conditions.as_ref().ok_or_else(|| {
            GrantError::invalid_grant("the assertion has no Conditions with an AudienceRestriction")
        })?;
        let is_us = |audience: &String| {
            audience == issuer
                || *audience == self.token_endpoint
                || self.audiences.contains(audience)
        };
        if conditions.audience_restrictions.is_empty()
            || !conditions
                .audience_restrictions
                .iter()
                .all(|restriction| restriction.iter().any(is_us))
        {
            return Err(GrantError::invalid_grant(
                "the assertion's Audience does not name this authorization server",
            ));
        }
        // Item 11: valid in all other respects per SAML Core, unknown conditions rejected.
        if !conditions.unknown.is_empty() {
            return Err(GrantError::invalid_grant(
                "the assertion has a condition this server does not understand",
            ));
        }
        if conditions.not_before.is_some_and(|t| now + skew < t) {
            return Err(GrantError::invalid_grant("the assertion is not yet valid"));
        }
        // Item 6: the whole assertion is rejected once Conditions/NotOnOrAfter has passed.
        if conditions.not_on_or_after.is_some_and(|t| now - skew >= t) {
            return Err(GrantError::invalid_grant("the assertion has expired"));
        }
        // Item 5: a usable bearer SubjectConfirmation.
        let confirmation_expiry = self.bearer_confirmation(assertion, conditions, now)?;
        // Item 4: the assertion expires, and not unreasonably far ahead (item 6).
        let expires_at = match (conditions.not_on_or_after, confirmation_expiry) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => {
                return Err(GrantError::invalid_grant(
                    "the assertion has no NotOnOrAfter",
                ));
            }
        };
        if expires_at - now > self.max_lifetime + skew {
            return Err(GrantError::invalid_grant(
                "the assertion is valid for longer than this server accepts",
            ));
        }
        // Item 3: the subject identifies the authorized accessor.
        let subject = assertion
            .subject
            .as_ref()
            .map(|name| name.value.clone())
            .filter(|value| !value.is_empty())
            .ok_or_else(|| GrantError::invalid_grant("the assertion's Subject has no NameID"))?;
        Ok((subject, expires_at + skew))
    }

    /// RFC 7522 §3, item 5: at least one bearer `SubjectConfirmation` whose data, when
    /// present, names the token endpoint as `Recipient` and has not expired; the data is
    /// required when `Conditions` has no `NotOnOrAfter`. Returns the expiry of the
    /// confirmation used, if it has one.
    fn bearer_confirmation(
        &self,
        assertion: &VerifiedAssertion,
        conditions: &Conditions,
        now: OffsetDateTime,
    ) -> Result<Option<OffsetDateTime>, GrantError> {
        let skew = self.leeway;
        let mut reason = "the assertion has no bearer SubjectConfirmation";
        let bearer = assertion
            .subject_confirmations
            .iter()
            .filter(|c| c.method == BEARER_CONFIRMATION);
        for confirmation in bearer {
            let Some(data) = &confirmation.data else {
                if conditions.not_on_or_after.is_some() {
                    return Ok(None);
                }
                reason = "the bearer SubjectConfirmation has no SubjectConfirmationData";
                continue;
            };
            let recipient_ok = data.recipient.as_ref().is_some_and(|recipient| {
                *recipient == self.token_endpoint || self.recipients.contains(recipient)
            });
            if !recipient_ok {
                reason = "the bearer SubjectConfirmation's Recipient is not this token endpoint";
                continue;
            }
            let Some(not_on_or_after) = data.not_on_or_after else {
                reason = "the bearer SubjectConfirmationData has no NotOnOrAfter";
                continue;
            };
            if now - skew >= not_on_or_after {
                reason = "the bearer SubjectConfirmation has expired";
                continue;
            }
            if data.not_before.is_some_and(|t| now + skew < t) {
                reason = "the bearer SubjectConfirmation is not yet valid";
                continue;
            }
            return Ok(Some(not_on_or_after));
        }
        Err(GrantError::invalid_grant(reason))
    }
}

/// The replay-store key of an assertion: SHA-256 of its issuer and `ID` (RFC 7522 §3,
/// item 6), joined by a NUL, which neither may contain.
fn replay_key(assertion: &VerifiedAssertion) -> TokenHash {
    TokenHash::of(&format!(
        "saml2\u{0}{}\u{0}{}",
        assertion.issuer, assertion.id
    ))
}

#[async_trait]
impl Grant for Saml2BearerGrant {
    fn grant_type(&self) -> &str {
        GrantType::Saml2Bearer.as_str()
    }

    async fn exchange(&self, cx: &GrantContext<'_>) -> Result<TokenResponse, GrantError> {
        cx.require_grant(GrantType::Saml2Bearer)?;
        let audience = Audience::requested(cx.resources()?);
        let xml = Self::decode(cx.required("assertion")?)?;
        let assertion = self.verifier.verify(&xml).await?;
        let (name_id, remember_until) = self.check(&assertion, &cx.settings.issuer, cx.now)?;
        let subject = match &self.subjects {
            None => Subject::new(name_id).ok(),
            Some(mapper) => mapper
                .subject(&assertion.issuer, &name_id)
                .await
                .map_err(GrantError::Application)?,
        }
        .ok_or_else(|| GrantError::invalid_grant("the assertion's subject is not accepted"))?;
        let scopes = direct_grant_scope(cx, DefaultScope::AllAllowedExceptUserScopes)?;
        let first_use = self
            .replay
            .first_use(replay_key(&assertion), remember_until, cx.now)
            .await?;
        if !first_use {
            return Err(GrantError::invalid_grant(
                "the assertion has already been used",
            ));
        }
        let minted = mint_tokens(Issuance {
            client: cx.client,
            subject: Some(subject),
            scopes,
            family: FamilyId::generate()?,
            now: cx.now,
            refresh_scopes: None,
            auth_time: assertion.authn_instant,
            signing: cx.signing(),
            audience,
            confirmation: cx.dpop_jkt.clone(),
        })?;
        cx.store.insert_tokens(minted.records).await?;
        Ok(minted.response)
    }
}

#[cfg(test)]
mod tests;
