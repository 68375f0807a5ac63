//! What the provider asks of the embedding application (DESIGN §2: the app owns people).

use async_trait::async_trait;
use portcullis_registry::{ClientId, ScopeSet};
use portcullis_tokens::Subject;
use serde_json::{Map, Value};

use crate::BoxError;

/// Checks a username and password for the resource owner password grant (RFC 6749 §4.3).
///
/// Return `Ok(None)` for wrong credentials (the client gets `invalid_grant`, and is never
/// told whether the user exists) and `Err` only when the check itself failed. The error is
/// logged with its causes: never put the password in it.
///
/// ```
/// use async_trait::async_trait;
/// use portcullis_grants::{Authenticator, BoxError};
/// use portcullis_tokens::Subject;
///
/// struct OneUser;
///
/// #[async_trait]
/// impl Authenticator for OneUser {
///     async fn authenticate(&self, username: &str, password: &str) -> Result<Option<Subject>, BoxError> {
///         // A real app looks the user up and verifies an argon2 hash.
///         Ok((username == "alice" && password == "correct horse")
///             .then(|| Subject::new("user-1"))
///             .transpose()?)
///     }
/// }
/// ```
#[async_trait]
pub trait Authenticator: Send + Sync + 'static {
    /// The subject for these credentials, or `None` if they are wrong.
    async fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<Subject>, BoxError>;
}

/// Supplies the user's claims (OpenID Connect Core §5.4) for the scopes granted.
///
/// ```
/// use async_trait::async_trait;
/// use portcullis_grants::{BoxError, ClaimsSource};
/// use portcullis_registry::ScopeSet;
/// use portcullis_tokens::Subject;
/// use serde_json::{json, Map, Value};
///
/// struct Directory;
///
/// #[async_trait]
/// impl ClaimsSource for Directory {
///     async fn claims(&self, subject: &Subject, scopes: &ScopeSet) -> Result<Map<String, Value>, BoxError> {
///         let mut claims = Map::new();
///         if scopes.contains("email") {
///             claims.insert("email".into(), json!(format!("{subject}@example.com")));
///         }
///         Ok(claims)
///     }
/// }
/// ```
#[async_trait]
pub trait ClaimsSource: Send + Sync + 'static {
    /// Claims about `subject` that `scopes` allow to be released.
    async fn claims(
        &self,
        subject: &Subject,
        scopes: &ScopeSet,
    ) -> Result<Map<String, Value>, BoxError>;
}

/// Remembers which scopes a user has already granted a client, so that a returning user
/// is not asked again and `prompt=none` can succeed (OpenID Connect Core §3.1.2.1).
///
/// The default, [`NoRememberedConsent`], remembers nothing: every authorization asks.
///
/// ```
/// use async_trait::async_trait;
/// use portcullis_grants::{BoxError, ConsentSource};
/// use portcullis_registry::{ClientId, ScopeSet};
/// use portcullis_tokens::Subject;
///
/// struct FirstPartyApps;
///
/// #[async_trait]
/// impl ConsentSource for FirstPartyApps {
///     async fn granted_scopes(&self, _subject: &Subject, client: &ClientId) -> Result<ScopeSet, BoxError> {
///         // Our own dashboard needs no consent screen.
///         Ok(if client.as_str() == "dashboard" { ScopeSet::parse("openid profile")? } else { ScopeSet::new() })
///     }
/// }
/// ```
#[async_trait]
pub trait ConsentSource: Send + Sync + 'static {
    /// The scopes `subject` has already granted `client`.
    async fn granted_scopes(
        &self,
        subject: &Subject,
        client: &ClientId,
    ) -> Result<ScopeSet, BoxError>;
}

/// Remembers no consent: the default [`ConsentSource`].
///
/// ```
/// use portcullis_grants::{ConsentSource, NoRememberedConsent};
/// # tokio::runtime::Builder::new_current_thread().build().expect("rt").block_on(async {
/// let subject = portcullis_tokens::Subject::new("u").expect("subject");
/// let client = portcullis_registry::ClientId::new("c").expect("client id");
/// assert!(NoRememberedConsent.granted_scopes(&subject, &client).await.expect("ok").is_empty());
/// # });
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct NoRememberedConsent;

#[async_trait]
impl ConsentSource for NoRememberedConsent {
    async fn granted_scopes(&self, _: &Subject, _: &ClientId) -> Result<ScopeSet, BoxError> {
        Ok(ScopeSet::new())
    }
}

/// Releases no claims beyond `sub`: the default [`ClaimsSource`].
///
/// ```
/// use portcullis_grants::{ClaimsSource, NoClaims};
/// # tokio::runtime::Builder::new_current_thread().build().expect("rt").block_on(async {
/// let subject = portcullis_tokens::Subject::new("u").expect("subject");
/// let scopes = portcullis_registry::ScopeSet::parse("openid email").expect("scopes");
/// assert!(NoClaims.claims(&subject, &scopes).await.expect("ok").is_empty());
/// # });
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct NoClaims;

#[async_trait]
impl ClaimsSource for NoClaims {
    async fn claims(&self, _: &Subject, _: &ScopeSet) -> Result<Map<String, Value>, BoxError> {
        Ok(Map::new())
    }
}
