//! Authorization request validation: RFC 6749 §4.1.1 (code), §4.2.1 (implicit), §3.1.2
//! (redirection endpoint) and §4.1.2.1 (which errors may be redirected); PKCE per RFC 7636
//! §4.3; `prompt`, `max_age`, `nonce`, `request` and `request_uri` per OpenID Connect Core
//! §3.1.2.1; the implicit and hybrid flows' `id_token` response types per Core §3.2.2.1
//! and §3.3.2.1; `response_mode` per OAuth 2.0 Multiple Response Type Encoding Practices
//! and Form Post Response Mode.
//!
//! Validation is pure: the caller looks the client up and fetches the scope catalog, then
//! [`AuthorizationRequest::validate`] checks everything in the order RFC 6749 §4.1.2.1
//! requires. Until both the client and the redirect URI are known to be good, an error must
//! be shown to the user and never redirected ([`AuthorizationRequestError::InvalidClient`],
//! [`AuthorizationRequestError::InvalidRedirectUri`]); after that, every error goes back to
//! the client at its redirect URI ([`AuthorizationRequestError::Redirect`]).
//!
//! ```
//! use portcullis_grants::authorization_request::{
//!     AuthorizationRequest, AuthorizationRequestError, ResponseMode, ResponseType,
//!     requested_client_id,
//! };
//! use portcullis_grants::{Params, Policy};
//! use portcullis_registry::{ClientKind, NewClient, ScopeCatalog};
//!
//! let catalog = ScopeCatalog::with_oidc_scopes();
//! let client = NewClient::new("Web", ClientKind::Web)
//!     .client_id("web-app")
//!     .redirect_uri("https://app.example/cb")
//!     .scopes(["openid", "profile"])
//!     .build(&catalog)?
//!     .client;
//!
//! let params = Params::from_pairs([
//!     ("client_id", "web-app"),
//!     ("response_type", "code"),
//!     ("scope", "openid profile"),
//!     ("state", "xyz"),
//! ]);
//! // The endpoint looks the client up by this id (unknown → `None`).
//! let id = requested_client_id(&params)?;
//! assert_eq!(id, client.id);
//!
//! let request = AuthorizationRequest::validate(&params, Some(&client), &catalog, &Policy::default())?;
//! assert_eq!(request.response_type, ResponseType::Code);
//! assert_eq!(request.response_mode, ResponseMode::Query);
//! assert_eq!(request.redirect_uri, "https://app.example/cb"); // the only registered one
//! assert!(!request.redirect_uri_in_request);
//!
//! // A scope the client may not have is refused, at the client's redirect URI.
//! let params = Params::from_pairs([
//!     ("client_id", "web-app"),
//!     ("response_type", "code"),
//!     ("scope", "openid email"),
//! ]);
//! let err = AuthorizationRequest::validate(&params, Some(&client), &catalog, &Policy::default())
//!     .unwrap_err();
//! assert_eq!(err.code(), "invalid_scope");
//! assert!(err.is_redirectable());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use portcullis_registry::{
    Client, ClientId, GrantType, OPENID_SCOPE, ScopeCatalog, ScopeError, ScopeSet,
};

use crate::pkce::{self, CodeChallengeMethod};
use crate::{Params, Policy};

#[cfg(test)]
mod tests;

/// What the client asks the authorization endpoint to return (RFC 6749 §3.1.1; OAuth 2.0
/// Multiple Response Type Encoding Practices §3, §5).
///
/// A multi-valued response type is a space-separated set: the order of its values does not
/// matter (`"id_token token"` and `"token id_token"` are the same), but no value may repeat.
///
/// ```
/// use portcullis_grants::authorization_request::ResponseType;
/// assert_eq!("code".parse(), Ok(ResponseType::Code));
/// assert_eq!("token id_token".parse(), Ok(ResponseType::IdTokenToken));
/// assert_eq!(ResponseType::CodeIdToken.as_str(), "code id_token");
/// assert!("code token".parse::<ResponseType>().is_err());
/// assert!("code code".parse::<ResponseType>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ResponseType {
    /// `code`: an authorization code (RFC 6749 §4.1).
    Code,
    /// `token`: an access token straight from the authorization endpoint, the implicit
    /// grant (RFC 6749 §4.2). Only for clients registered for [`GrantType::Implicit`].
    Token,
    /// `id_token`: an ID token only, carrying the user's claims (OpenID Connect Core §3.2,
    /// §5.4). Implicit grant, `openid` scope and `nonce` required.
    IdToken,
    /// `id_token token`: an ID token with `at_hash` and an access token (Core §3.2).
    /// Implicit grant, `openid` scope and `nonce` required.
    IdTokenToken,
    /// `code id_token`: an authorization code and an ID token with `c_hash`, the hybrid
    /// flow (Core §3.3). Both the authorization code and the implicit grant, `openid` scope
    /// and `nonce` required.
    CodeIdToken,
}

impl ResponseType {
    /// Every supported response type.
    pub const ALL: [ResponseType; 5] = [
        ResponseType::Code,
        ResponseType::Token,
        ResponseType::IdToken,
        ResponseType::IdTokenToken,
        ResponseType::CodeIdToken,
    ];

    /// The wire name, values in the order OpenID Connect Discovery lists them.
    ///
    /// ```
    /// assert_eq!(portcullis_grants::authorization_request::ResponseType::Code.as_str(), "code");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseType::Code => "code",
            ResponseType::Token => "token",
            ResponseType::IdToken => "id_token",
            ResponseType::IdTokenToken => "id_token token",
            ResponseType::CodeIdToken => "code id_token",
        }
    }

    /// Whether an authorization code is issued.
    pub fn has_code(self) -> bool {
        matches!(self, ResponseType::Code | ResponseType::CodeIdToken)
    }

    /// Whether an access token is issued at the authorization endpoint.
    pub fn has_token(self) -> bool {
        matches!(self, ResponseType::Token | ResponseType::IdTokenToken)
    }

    /// Whether an ID token is issued at the authorization endpoint.
    pub fn has_id_token(self) -> bool {
        matches!(
            self,
            ResponseType::IdToken | ResponseType::IdTokenToken | ResponseType::CodeIdToken
        )
    }

    /// The grants a client must be registered for to use this response type: the
    /// authorization code grant for `code`, the implicit grant for anything issued at the
    /// authorization endpoint (`token`, `id_token`), both for `code id_token`.
    ///
    /// ```
    /// use portcullis_grants::authorization_request::ResponseType;
    /// use portcullis_registry::GrantType;
    /// assert_eq!(ResponseType::Token.grant_types(), [GrantType::Implicit]);
    /// assert_eq!(
    ///     ResponseType::CodeIdToken.grant_types(),
    ///     [GrantType::AuthorizationCode, GrantType::Implicit],
    /// );
    /// ```
    pub fn grant_types(self) -> &'static [GrantType] {
        match self {
            ResponseType::Code => &[GrantType::AuthorizationCode],
            ResponseType::Token | ResponseType::IdToken | ResponseType::IdTokenToken => {
                &[GrantType::Implicit]
            }
            ResponseType::CodeIdToken => &[GrantType::AuthorizationCode, GrantType::Implicit],
        }
    }

    /// How the response is delivered when the request names no `response_mode`: `query`
    /// for `code`, `fragment` for anything that returns a token (OAuth 2.0 Multiple
    /// Response Type Encoding Practices §2.1, §5).
    ///
    /// ```
    /// use portcullis_grants::authorization_request::{ResponseMode, ResponseType};
    /// assert_eq!(ResponseType::Token.default_response_mode(), ResponseMode::Fragment);
    /// assert_eq!(ResponseType::CodeIdToken.default_response_mode(), ResponseMode::Fragment);
    /// ```
    pub fn default_response_mode(self) -> ResponseMode {
        if self == ResponseType::Code {
            ResponseMode::Query
        } else {
            ResponseMode::Fragment
        }
    }

    /// Whether `mode` may carry this response: never `query` for a response with a token
    /// in it (Multiple Response Type Encoding Practices §2.1: "MUST NOT use the query
    /// encoding").
    ///
    /// ```
    /// use portcullis_grants::authorization_request::{ResponseMode, ResponseType};
    /// assert!(!ResponseType::IdToken.allows_response_mode(ResponseMode::Query));
    /// assert!(ResponseType::Code.allows_response_mode(ResponseMode::Query));
    /// ```
    pub fn allows_response_mode(self, mode: ResponseMode) -> bool {
        mode != ResponseMode::Query || self == ResponseType::Code
    }
}

impl fmt::Display for ResponseType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of the values this module knows.
///
/// ```
/// use portcullis_grants::authorization_request::ResponseMode;
/// let err = "web_message".parse::<ResponseMode>().unwrap_err();
/// assert_eq!(err.to_string(), "unknown response_mode");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {0}")]
pub struct UnknownValue(&'static str);

impl FromStr for ResponseType {
    type Err = UnknownValue;

    /// A space-separated set of values, in any order, none repeated (Multiple Response Type
    /// Encoding Practices §5).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let unknown = UnknownValue("response_type");
        let (mut code, mut token, mut id_token) = (false, false, false);
        for value in s.split(' ') {
            let seen = match value {
                "code" => &mut code,
                "token" => &mut token,
                "id_token" => &mut id_token,
                _ => return Err(unknown),
            };
            if std::mem::replace(seen, true) {
                return Err(unknown);
            }
        }
        match (code, token, id_token) {
            (true, false, false) => Ok(ResponseType::Code),
            (false, true, false) => Ok(ResponseType::Token),
            (false, false, true) => Ok(ResponseType::IdToken),
            (false, true, true) => Ok(ResponseType::IdTokenToken),
            (true, false, true) => Ok(ResponseType::CodeIdToken),
            _ => Err(unknown),
        }
    }
}

/// How the authorization response travels back to the client.
///
/// ```
/// use portcullis_grants::authorization_request::ResponseMode;
/// assert_eq!("form_post".parse(), Ok(ResponseMode::FormPost));
/// assert_eq!(ResponseMode::Fragment.as_str(), "fragment");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResponseMode {
    /// Parameters in the redirect URI's query (RFC 6749 §4.1.2). Never for tokens.
    Query,
    /// Parameters in the redirect URI's fragment (RFC 6749 §4.2.2).
    Fragment,
    /// Parameters POSTed by an auto-submitting HTML form (OAuth 2.0 Form Post Response Mode).
    FormPost,
}

impl ResponseMode {
    /// The wire name.
    ///
    /// ```
    /// assert_eq!(portcullis_grants::authorization_request::ResponseMode::Query.as_str(), "query");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseMode::Query => "query",
            ResponseMode::Fragment => "fragment",
            ResponseMode::FormPost => "form_post",
        }
    }
}

impl fmt::Display for ResponseMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ResponseMode {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "query" => Ok(ResponseMode::Query),
            "fragment" => Ok(ResponseMode::Fragment),
            "form_post" => Ok(ResponseMode::FormPost),
            _ => Err(UnknownValue("response_mode")),
        }
    }
}

/// One value of the OpenID Connect `prompt` parameter (OIDC Core §3.1.2.1).
///
/// ```
/// use portcullis_grants::authorization_request::Prompt;
/// assert_eq!("select_account".parse(), Ok(Prompt::SelectAccount));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Prompt {
    /// `none`: show no page at all; fail with `login_required` or `consent_required` instead.
    None,
    /// `login`: authenticate the user again, even with a live session.
    Login,
    /// `consent`: ask for consent again, even if it was given before.
    Consent,
    /// `select_account`: let the user choose among their accounts.
    SelectAccount,
}

impl Prompt {
    /// The wire name.
    ///
    /// ```
    /// assert_eq!(portcullis_grants::authorization_request::Prompt::Login.as_str(), "login");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Prompt::None => "none",
            Prompt::Login => "login",
            Prompt::Consent => "consent",
            Prompt::SelectAccount => "select_account",
        }
    }
}

impl fmt::Display for Prompt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Prompt {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" => Ok(Prompt::None),
            "login" => Ok(Prompt::Login),
            "consent" => Ok(Prompt::Consent),
            "select_account" => Ok(Prompt::SelectAccount),
            _ => Err(UnknownValue("prompt")),
        }
    }
}

/// The set of `prompt` values of a request: space-separated, unknown values ignored.
///
/// ```
/// use portcullis_grants::authorization_request::{Prompt, PromptSet};
/// let prompts = PromptSet::parse("login consent unheard_of");
/// assert!(prompts.contains(Prompt::Login) && prompts.contains(Prompt::Consent));
/// assert_eq!(prompts.len(), 2);
/// assert_eq!(prompts.to_string(), "login consent");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct PromptSet(BTreeSet<Prompt>);

impl PromptSet {
    /// Parses a space-separated list, ignoring values this server does not know
    /// (OIDC Core §3.1.2.1 lists the defined ones).
    ///
    /// ```
    /// assert!(portcullis_grants::authorization_request::PromptSet::parse("").is_empty());
    /// ```
    pub fn parse(input: &str) -> PromptSet {
        PromptSet(
            input
                .split_ascii_whitespace()
                .filter_map(|value| value.parse().ok())
                .collect(),
        )
    }

    /// Whether `prompt` was asked for.
    ///
    /// ```
    /// use portcullis_grants::authorization_request::{Prompt, PromptSet};
    /// assert!(PromptSet::parse("none").contains(Prompt::None));
    /// ```
    pub fn contains(&self, prompt: Prompt) -> bool {
        self.0.contains(&prompt)
    }

    /// Adds `prompt`; returns whether it was new.
    ///
    /// ```
    /// use portcullis_grants::authorization_request::{Prompt, PromptSet};
    /// let mut prompts = PromptSet::default();
    /// assert!(prompts.insert(Prompt::Login));
    /// ```
    pub fn insert(&mut self, prompt: Prompt) -> bool {
        self.0.insert(prompt)
    }

    /// The values, in a fixed order.
    ///
    /// ```
    /// use portcullis_grants::authorization_request::{Prompt, PromptSet};
    /// let values: Vec<Prompt> = PromptSet::parse("consent login").iter().collect();
    /// assert_eq!(values, [Prompt::Login, Prompt::Consent]);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = Prompt> + '_ {
        self.0.iter().copied()
    }

    /// How many values.
    ///
    /// ```
    /// assert_eq!(portcullis_grants::authorization_request::PromptSet::parse("login").len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no (known) value was sent.
    ///
    /// ```
    /// assert!(portcullis_grants::authorization_request::PromptSet::parse("nonsense").is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for PromptSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for prompt in self.iter() {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(prompt.as_str())?;
            first = false;
        }
        Ok(())
    }
}

impl FromIterator<Prompt> for PromptSet {
    fn from_iter<I: IntoIterator<Item = Prompt>>(iter: I) -> Self {
        PromptSet(iter.into_iter().collect())
    }
}

/// A PKCE code challenge and its method (RFC 7636 §4.3), checked for form.
///
/// ```
/// use portcullis_grants::authorization_request::CodeChallenge;
/// use portcullis_grants::CodeChallengeMethod;
/// let challenge = CodeChallenge {
///     challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
///     method: CodeChallengeMethod::S256,
/// };
/// assert_eq!(challenge.method.as_str(), "S256");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CodeChallenge {
    /// `code_challenge`.
    pub challenge: String,
    /// `code_challenge_method`; `plain` when the request sent a challenge without a method
    /// (RFC 7636 §4.3) and the policy allows it.
    pub method: CodeChallengeMethod,
}

/// Where an authorization response, or an error, goes once the client and the redirect URI
/// are trusted.
///
/// ```
/// use portcullis_grants::authorization_request::{ResponseMode, ResponseTarget};
/// use portcullis_grants::Params;
/// use portcullis_registry::{ClientKind, NewClient, ScopeCatalog};
///
/// let client = NewClient::new("Native", ClientKind::Native)
///     .client_id("cli")
///     .redirect_uri("http://127.0.0.1/cb")
///     .build(&ScopeCatalog::new())?
///     .client;
/// // RFC 8252 §7.3: any loopback port; the response goes to the port the request named.
/// let params = Params::from_pairs([
///     ("client_id", "cli"),
///     ("redirect_uri", "http://127.0.0.1:49152/cb"),
///     ("response_type", "token"),
///     ("state", "s1"),
/// ]);
/// let target = ResponseTarget::resolve(&params, Some(&client))?;
/// assert_eq!(target.redirect_uri, "http://127.0.0.1:49152/cb");
/// assert_eq!(target.response_mode, ResponseMode::Fragment);
/// assert_eq!(target.state.as_deref(), Some("s1"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseTarget {
    /// The redirect URI to answer at: the request's `redirect_uri` (it matched a registered
    /// one), or the client's only registered one (RFC 6749 §3.1.2.3).
    pub redirect_uri: String,
    /// Whether the request carried `redirect_uri` (then the token request must repeat it,
    /// RFC 6749 §4.1.3).
    pub redirect_uri_in_request: bool,
    /// How to deliver the response: the requested `response_mode` when it is valid, else
    /// the default of the requested `response_type` (`query` when that is unknown too).
    pub response_mode: ResponseMode,
    /// The request's `state`, echoed back; `None` when absent or repeated.
    pub state: Option<String>,
}

impl ResponseTarget {
    /// Steps 1 and 2 of validation (RFC 6749 §4.1.2.1, §3.1.2.4): the client must be known
    /// and active, and the redirect URI one of its registered ones. `client` is the client
    /// the caller looked up by [`requested_client_id`], `None` if there is none.
    ///
    /// # Errors
    ///
    /// [`AuthorizationRequestError::InvalidClient`] or
    /// [`AuthorizationRequestError::InvalidRedirectUri`]: never redirect these.
    pub fn resolve(
        params: &Params,
        client: Option<&Client>,
    ) -> Result<ResponseTarget, AuthorizationRequestError> {
        resolve(params, client).map(|(_, target)| target)
    }
}

/// Why an authorization request was refused.
///
/// ```
/// use portcullis_grants::authorization_request::{AuthorizationRequest, AuthorizationRequestError};
/// use portcullis_grants::{Params, Policy};
/// use portcullis_registry::ScopeCatalog;
///
/// let params = Params::from_pairs([("client_id", "nobody"), ("response_type", "code")]);
/// let err = AuthorizationRequest::validate(&params, None, &ScopeCatalog::new(), &Policy::default())
///     .unwrap_err();
/// assert!(matches!(err, AuthorizationRequestError::InvalidClient(_)));
/// assert!(!err.is_redirectable());
/// assert!(err.redirect().is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthorizationRequestError {
    /// `client_id` is missing, repeated, malformed, unknown or revoked. Show the user;
    /// never redirect (RFC 6749 §4.1.2.1). Unknown, malformed and revoked ids get the same
    /// description, so the answer does not tell which.
    #[error("invalid client: {0}")]
    InvalidClient(Cow<'static, str>),
    /// `redirect_uri` is repeated, matches no registered URI, or is absent while the client
    /// has no single default. Show the user; never redirect (RFC 6749 §3.1.2.4).
    #[error("invalid redirect_uri: {0}")]
    InvalidRedirectUri(Cow<'static, str>),
    /// Any later problem: answered at the client's redirect URI.
    #[error("{}", .0.error)]
    Redirect(Box<ErrorRedirect>),
}

impl AuthorizationRequestError {
    /// Whether the error may be sent to the client's redirect URI.
    ///
    /// ```
    /// use portcullis_grants::authorization_request::AuthorizationRequestError;
    /// assert!(!AuthorizationRequestError::InvalidRedirectUri("x".into()).is_redirectable());
    /// ```
    pub fn is_redirectable(&self) -> bool {
        matches!(self, AuthorizationRequestError::Redirect(_))
    }

    /// Where to redirect the error, for redirectable errors.
    ///
    /// ```
    /// use portcullis_grants::authorization_request::AuthorizationRequestError;
    /// assert!(AuthorizationRequestError::InvalidClient("x".into()).redirect().is_none());
    /// ```
    pub fn redirect(&self) -> Option<&ErrorRedirect> {
        match self {
            AuthorizationRequestError::Redirect(redirect) => Some(redirect),
            _ => None,
        }
    }

    /// The wire error code: `invalid_request` for the errors shown to the user (RFC 6749
    /// defines no code for them), the redirected error's code otherwise.
    ///
    /// ```
    /// use portcullis_grants::authorization_request::AuthorizationRequestError;
    /// assert_eq!(AuthorizationRequestError::InvalidClient("x".into()).code(), "invalid_request");
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            AuthorizationRequestError::InvalidClient(_)
            | AuthorizationRequestError::InvalidRedirectUri(_) => "invalid_request",
            AuthorizationRequestError::Redirect(redirect) => redirect.error.code(),
        }
    }

    /// The human description: names the offending parameter, never echoes a secret.
    ///
    /// ```
    /// use portcullis_grants::authorization_request::AuthorizationRequestError;
    /// let err = AuthorizationRequestError::InvalidRedirectUri("redirect_uri is repeated".into());
    /// assert_eq!(err.description(), "redirect_uri is repeated");
    /// ```
    pub fn description(&self) -> &str {
        match self {
            AuthorizationRequestError::InvalidClient(d)
            | AuthorizationRequestError::InvalidRedirectUri(d) => d,
            AuthorizationRequestError::Redirect(redirect) => redirect.error.description(),
        }
    }
}

/// A refused request whose error goes back to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorRedirect {
    /// What went wrong.
    pub error: AuthorizationError,
    /// Where and how to deliver it (with the request's `state`).
    pub target: ResponseTarget,
}

/// The errors of RFC 6749 §4.1.2.1 / §4.2.2.1 and OIDC Core §3.1.2.6 that a request can
/// earn once its client and redirect URI are trusted.
///
/// ```
/// use portcullis_grants::authorization_request::AuthorizationError;
/// let err = AuthorizationError::InvalidScope("scope admin is not allowed".into());
/// assert_eq!(err.code(), "invalid_scope");
/// assert_eq!(err.to_string(), "invalid_scope: scope admin is not allowed");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthorizationError {
    /// `invalid_request`: a parameter is repeated, missing, malformed or contradictory.
    #[error("invalid_request: {0}")]
    InvalidRequest(Cow<'static, str>),
    /// `unauthorized_client`: the client is not registered for the grant this response
    /// type belongs to.
    #[error("unauthorized_client: {0}")]
    UnauthorizedClient(Cow<'static, str>),
    /// `unsupported_response_type`.
    #[error("unsupported_response_type: {0}")]
    UnsupportedResponseType(Cow<'static, str>),
    /// `invalid_scope`: a scope is malformed, unknown, or not allowed for the client.
    #[error("invalid_scope: {0}")]
    InvalidScope(Cow<'static, str>),
    /// `request_not_supported` (OIDC Core §3.1.2.6): request objects are not supported.
    #[error("request_not_supported: {0}")]
    RequestNotSupported(Cow<'static, str>),
    /// `request_uri_not_supported` (OIDC Core §3.1.2.6).
    #[error("request_uri_not_supported: {0}")]
    RequestUriNotSupported(Cow<'static, str>),
    /// `invalid_target` (RFC 8707 §2): a `resource` is not an absolute URI without a
    /// fragment, or not one the provider accepts.
    #[error("invalid_target: {0}")]
    InvalidTarget(Cow<'static, str>),
}

impl AuthorizationError {
    /// The wire error code.
    ///
    /// ```
    /// use portcullis_grants::authorization_request::AuthorizationError;
    /// assert_eq!(AuthorizationError::RequestNotSupported("x".into()).code(), "request_not_supported");
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            AuthorizationError::InvalidRequest(_) => "invalid_request",
            AuthorizationError::UnauthorizedClient(_) => "unauthorized_client",
            AuthorizationError::UnsupportedResponseType(_) => "unsupported_response_type",
            AuthorizationError::InvalidScope(_) => "invalid_scope",
            AuthorizationError::RequestNotSupported(_) => "request_not_supported",
            AuthorizationError::RequestUriNotSupported(_) => "request_uri_not_supported",
            AuthorizationError::InvalidTarget(_) => "invalid_target",
        }
    }

    /// The human description.
    ///
    /// ```
    /// use portcullis_grants::authorization_request::AuthorizationError;
    /// assert_eq!(AuthorizationError::InvalidRequest("state is repeated".into()).description(), "state is repeated");
    /// ```
    pub fn description(&self) -> &str {
        match self {
            AuthorizationError::InvalidRequest(d)
            | AuthorizationError::UnauthorizedClient(d)
            | AuthorizationError::UnsupportedResponseType(d)
            | AuthorizationError::InvalidScope(d)
            | AuthorizationError::RequestNotSupported(d)
            | AuthorizationError::RequestUriNotSupported(d)
            | AuthorizationError::InvalidTarget(d) => d,
        }
    }
}

/// A validated authorization request (RFC 6749 §4.1.1, §4.2.1; OIDC Core §3.1.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthorizationRequest {
    /// The client, known and not revoked.
    pub client_id: ClientId,
    /// What to return; the client is registered for its grants, and a response type with
    /// an ID token comes with the `openid` scope and a `nonce`.
    pub response_type: ResponseType,
    /// Where the response goes (see [`ResponseTarget::redirect_uri`]).
    pub redirect_uri: String,
    /// Whether the request carried `redirect_uri`.
    pub redirect_uri_in_request: bool,
    /// How the response is delivered; `query` only for `code`.
    pub response_mode: ResponseMode,
    /// The scopes requested: each exists and is allowed for the client. Empty when the
    /// request had no `scope`.
    pub scopes: ScopeSet,
    /// `state`, echoed as given.
    pub state: Option<String>,
    /// OpenID Connect `nonce`, as given; always present for response types with an ID
    /// token.
    pub nonce: Option<String>,
    /// The PKCE challenge, if one was sent (always, for `code` from public clients).
    pub code_challenge: Option<CodeChallenge>,
    /// The known `prompt` values; `none` never comes with another.
    pub prompt: PromptSet,
    /// OpenID Connect `max_age` in seconds (values past `u32::MAX` saturate).
    pub max_age: Option<u32>,
    /// RFC 8707 `resource` values: the resource servers the client wants tokens for.
    pub resources: Vec<String>,
    /// RFC 9449 §10 `dpop_jkt`: the thumbprint of the DPoP key the code is bound to.
    pub dpop_jkt: Option<String>,
}

impl AuthorizationRequest {
    /// The response target of this request, for answering it.
    ///
    /// ```
    /// # use portcullis_grants::authorization_request::AuthorizationRequest;
    /// # use portcullis_grants::{Params, Policy};
    /// # use portcullis_registry::{ClientKind, NewClient, ScopeCatalog};
    /// # let client = NewClient::new("Web", ClientKind::Web).client_id("w")
    /// #     .redirect_uri("https://app.example/cb").build(&ScopeCatalog::new())?.client;
    /// let params = Params::from_pairs([("client_id", "w"), ("response_type", "code"), ("state", "s")]);
    /// let request = AuthorizationRequest::validate(&params, Some(&client), &ScopeCatalog::new(), &Policy::default())?;
    /// assert_eq!(request.target().state.as_deref(), Some("s"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn target(&self) -> ResponseTarget {
        ResponseTarget {
            redirect_uri: self.redirect_uri.clone(),
            redirect_uri_in_request: self.redirect_uri_in_request,
            response_mode: self.response_mode,
            state: self.state.clone(),
        }
    }

    /// Validates an authorization request.
    ///
    /// `client` is the client the caller looked up by [`requested_client_id`] (`None` when
    /// there is no such client); `catalog` the scopes that exist; `policy` the PKCE rules.
    ///
    /// Checks, in order: the client (1) and the redirect URI (2), which are never
    /// redirected; then repeated parameters, `request` / `request_uri`, `response_type`
    /// and the client's grants, `response_mode`, `scope`, `openid` and `nonce` for response
    /// types with an ID token, PKCE, `prompt` and `max_age`.
    ///
    /// # Errors
    ///
    /// The first problem found, as an [`AuthorizationRequestError`].
    pub fn validate(
        params: &Params,
        client: Option<&Client>,
        catalog: &ScopeCatalog,
        policy: &Policy,
    ) -> Result<AuthorizationRequest, AuthorizationRequestError> {
        let (client, target) = resolve(params, client)?;
        let fail = |error: AuthorizationError| {
            AuthorizationRequestError::Redirect(Box::new(ErrorRedirect {
                error,
                target: target.clone(),
            }))
        };
        let invalid =
            |description: Cow<'static, str>| fail(AuthorizationError::InvalidRequest(description));

        // RFC 6749 §3.1: "Request and response parameters MUST NOT be included more than once."
        if let Some(name) = params.duplicates().iter().next() {
            return Err(invalid(
                format!("parameter {} is repeated", printable(name)).into(),
            ));
        }

        // OIDC Core §6: request objects are not supported, by value or by reference.
        if params.contains("request") {
            return Err(fail(AuthorizationError::RequestNotSupported(
                "request objects (the request parameter) are not supported".into(),
            )));
        }
        if params.contains("request_uri") {
            return Err(fail(AuthorizationError::RequestUriNotSupported(
                "the request_uri parameter is not supported".into(),
            )));
        }

        // RFC 6749 §3.1.1; OpenID Connect Core §3.2.2.1, §3.3.2.1.
        let response_type: ResponseType = params
            .get("response_type")
            .ok_or_else(|| invalid("response_type is required".into()))?
            .parse()
            .map_err(|_| {
                fail(AuthorizationError::UnsupportedResponseType(
                    "response_type must be code, or token, id_token, id_token token or \
                     code id_token for clients registered for the implicit grant"
                        .into(),
                ))
            })?;
        if let Some(missing) = response_type
            .grant_types()
            .iter()
            .find(|grant| !client.allows_grant(**grant))
        {
            return Err(fail(AuthorizationError::UnauthorizedClient(
                format!(
                    "this client is not registered for the {} grant, which response_type {} needs",
                    missing.as_str(),
                    response_type.as_str()
                )
                .into(),
            )));
        }

        let response_mode = match params.get("response_mode") {
            None => response_type.default_response_mode(),
            Some(raw) => match raw.parse::<ResponseMode>() {
                Err(_) => {
                    return Err(invalid(
                        "response_mode must be query, fragment or form_post".into(),
                    ));
                }
                // Multiple Response Type Encoding Practices §2.1: tokens never in a query.
                Ok(mode) if !response_type.allows_response_mode(mode) => {
                    return Err(invalid(
                        format!(
                            "response_mode query is not allowed with response_type {}",
                            response_type.as_str()
                        )
                        .into(),
                    ));
                }
                Ok(mode) => mode,
            },
        };

        // RFC 6749 §3.3; DESIGN §4.1: never silently dropped.
        let scopes = match params.get("scope") {
            None => ScopeSet::new(),
            Some(raw) => ScopeSet::parse(raw).map_err(|err| {
                fail(AuthorizationError::InvalidScope(
                    format!("scope is malformed: {err}").into(),
                ))
            })?,
        };
        client
            .allowed_scopes
            .check(&scopes, catalog)
            .map_err(|err| fail(AuthorizationError::InvalidScope(scope_problem(&err))))?;

        // OpenID Connect Core §3.2.2.1, §3.3.2.1: an ID token only answers an OpenID
        // request, and `nonce` is REQUIRED whenever the ID token comes from the
        // authorization endpoint.
        if response_type.has_id_token() {
            if !scopes.contains(OPENID_SCOPE) {
                return Err(invalid(
                    format!(
                        "response_type {} needs the openid scope",
                        response_type.as_str()
                    )
                    .into(),
                ));
            }
            if params.get("nonce").is_none() {
                return Err(invalid(
                    format!(
                        "nonce is required with response_type {}",
                        response_type.as_str()
                    )
                    .into(),
                ));
            }
        }

        let code_challenge = code_challenge(params, policy).map_err(invalid)?;
        // RFC 7636 §4.4.1; RFC 9700 §2.1.1: public clients must use PKCE.
        let must_use_pkce = client.is_public()
            || !client.auth_method.is_confidential()
            || policy.pkce.required_for_confidential_clients;
        if response_type.has_code() && must_use_pkce && code_challenge.is_none() {
            return Err(invalid(
                "code_challenge is required (PKCE, RFC 7636): send code_challenge with code_challenge_method=S256"
                    .into(),
            ));
        }

        let prompt = params
            .get("prompt")
            .map(PromptSet::parse)
            .unwrap_or_default();
        if prompt.contains(Prompt::None) && prompt.len() > 1 {
            return Err(invalid(
                "prompt none cannot be combined with other prompt values".into(),
            ));
        }

        let max_age = params
            .get("max_age")
            .map(|raw| {
                parse_max_age(raw).ok_or_else(|| {
                    invalid("max_age must be a non-negative integer number of seconds".into())
                })
            })
            .transpose()?;

        // RFC 8707 §2: absolute URIs without fragments, accepted by the provider.
        let resources = policy
            .resources
            .check(params.get_all("resource"))
            .map_err(|err| {
                fail(AuthorizationError::InvalidTarget(
                    err.description().to_owned().into(),
                ))
            })?;
        // RFC 9449 §10: a JWK SHA-256 thumbprint is 43 base64url characters.
        let dpop_jkt = match params.get("dpop_jkt") {
            Some(jkt)
                if jkt.len() == 43
                    && jkt
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
            {
                Some(jkt.to_owned())
            }
            Some(_) => {
                return Err(invalid(
                    "dpop_jkt must be a base64url JWK SHA-256 thumbprint (RFC 9449 §10)".into(),
                ));
            }
            None => None,
        };

        Ok(AuthorizationRequest {
            client_id: client.id.clone(),
            response_type,
            redirect_uri: target.redirect_uri.clone(),
            redirect_uri_in_request: target.redirect_uri_in_request,
            response_mode,
            scopes,
            state: params.get("state").map(str::to_owned),
            nonce: params.get("nonce").map(str::to_owned),
            code_challenge,
            prompt,
            max_age,
            resources,
            dpop_jkt,
        })
    }
}

/// The description of an unknown, malformed or revoked client: one text for all three, so
/// the answer does not tell whether a client id exists.
const UNKNOWN_CLIENT: &str = "the client is unknown or not allowed to make authorization requests";

/// Step 1 (RFC 6749 §4.1.2.1): the `client_id` to look the client up by.
///
/// ```
/// use portcullis_grants::authorization_request::requested_client_id;
/// use portcullis_grants::Params;
///
/// assert_eq!(requested_client_id(&Params::from_pairs([("client_id", "web-app")]))?.as_str(), "web-app");
/// assert!(requested_client_id(&Params::from_pairs([("client_id", "a"), ("client_id", "b")])).is_err());
/// assert!(requested_client_id(&Params::default()).is_err());
/// # Ok::<(), portcullis_grants::authorization_request::AuthorizationRequestError>(())
/// ```
///
/// # Errors
///
/// [`AuthorizationRequestError::InvalidClient`] when `client_id` is missing, repeated or
/// not a well-formed client id.
pub fn requested_client_id(params: &Params) -> Result<ClientId, AuthorizationRequestError> {
    if params.duplicates().contains("client_id") {
        return Err(AuthorizationRequestError::InvalidClient(
            "parameter client_id is repeated".into(),
        ));
    }
    let raw = params
        .get("client_id")
        .ok_or_else(|| AuthorizationRequestError::InvalidClient("client_id is required".into()))?;
    ClientId::new(raw).map_err(|_| AuthorizationRequestError::InvalidClient(UNKNOWN_CLIENT.into()))
}

/// Steps 1 and 2, returning the trusted client with the target.
fn resolve<'c>(
    params: &Params,
    client: Option<&'c Client>,
) -> Result<(&'c Client, ResponseTarget), AuthorizationRequestError> {
    let id = requested_client_id(params)?;
    let client = match client {
        Some(client) if client.id == id && !client.revoked => client,
        _ => {
            return Err(AuthorizationRequestError::InvalidClient(
                UNKNOWN_CLIENT.into(),
            ));
        }
    };

    // RFC 6749 §3.1.2.4: never redirect to an unverified URI.
    let bad_uri = |description: &'static str| {
        Err(AuthorizationRequestError::InvalidRedirectUri(
            description.into(),
        ))
    };
    if params.duplicates().contains("redirect_uri") {
        return bad_uri("parameter redirect_uri is repeated");
    }
    let (redirect_uri, redirect_uri_in_request) = match params.get("redirect_uri") {
        Some(requested) => {
            if client.match_redirect_uri(requested).is_none() {
                return bad_uri(
                    "redirect_uri does not match any redirect URI registered for this client",
                );
            }
            // The requested string, not the registered one: a loopback URI keeps its port.
            (requested.to_owned(), true)
        }
        None => match client.default_redirect_uri() {
            Some(only) => (only.as_str().to_owned(), false),
            None => {
                return bad_uri(
                    "redirect_uri is required: this client does not have exactly one registered redirect URI",
                );
            }
        },
    };

    Ok((
        client,
        ResponseTarget {
            redirect_uri,
            redirect_uri_in_request,
            response_mode: error_response_mode(params),
            state: if params.duplicates().contains("state") {
                None
            } else {
                params.get("state").map(str::to_owned)
            },
        },
    ))
}

/// The response mode for an error, when the request itself may be wrong: the requested one
/// if it is usable, else the default of the requested response type, else `query`.
fn error_response_mode(params: &Params) -> ResponseMode {
    let single = |name: &str| {
        if params.duplicates().contains(name) {
            None
        } else {
            params.get(name)
        }
    };
    let response_type = single("response_type").and_then(|raw| raw.parse::<ResponseType>().ok());
    let default = response_type.map_or(ResponseMode::Query, ResponseType::default_response_mode);
    match single("response_mode").and_then(|raw| raw.parse::<ResponseMode>().ok()) {
        Some(mode) if response_type.is_none_or(|rt| rt.allows_response_mode(mode)) => mode,
        _ => default,
    }
}

/// RFC 7636 §4.3 and RFC 9700 §2.1.1: the challenge, its method (default `plain`), and
/// whether the policy accepts it.
fn code_challenge(
    params: &Params,
    policy: &Policy,
) -> Result<Option<CodeChallenge>, Cow<'static, str>> {
    let method = params.get("code_challenge_method");
    let Some(challenge) = params.get("code_challenge") else {
        return match method {
            Some(_) => Err("code_challenge_method was sent without code_challenge".into()),
            None => Ok(None),
        };
    };
    let method = match method {
        None => CodeChallengeMethod::Plain,
        Some(raw) => raw
            .parse::<CodeChallengeMethod>()
            .map_err(|_| -> Cow<'static, str> {
                if policy.pkce.allow_plain {
                    "code_challenge_method must be S256 or plain".into()
                } else {
                    "code_challenge_method must be S256".into()
                }
            })?,
    };
    if method == CodeChallengeMethod::Plain && !policy.pkce.allow_plain {
        return Err(if params.contains("code_challenge_method") {
            "code_challenge_method plain is not allowed: use S256".into()
        } else {
            "code_challenge_method is required: the default, plain, is not allowed; use S256".into()
        });
    }
    if !pkce::is_well_formed_challenge(method, challenge) {
        return Err(match method {
            CodeChallengeMethod::S256 => {
                "code_challenge is malformed: an S256 challenge is 43 base64url characters".into()
            }
            CodeChallengeMethod::Plain => {
                "code_challenge is malformed: a plain challenge is 43 to 128 characters of [A-Za-z0-9-._~]"
                    .into()
            }
        });
    }
    Ok(Some(CodeChallenge {
        challenge: challenge.to_owned(),
        method,
    }))
}

/// A non-negative integer of decimal digits; values past `u32::MAX` saturate (a huge
/// `max_age` means "any age").
fn parse_max_age(raw: &str) -> Option<u32> {
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(raw.parse::<u32>().unwrap_or(u32::MAX))
}

/// The `invalid_scope` description for a scope check failure, naming the scope.
fn scope_problem(err: &ScopeError) -> Cow<'static, str> {
    match err {
        ScopeError::Unknown { scope } => format!("scope {scope} does not exist").into(),
        ScopeError::NotAllowed { scope } => {
            format!("scope {scope} is not allowed for this client").into()
        }
        other => format!("scope is invalid: {other}").into(),
    }
}

/// A parameter name fit for a description: at most 40 visible ASCII characters.
fn printable(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_graphic())
        .take(40)
        .collect()
}
