//! UserInfo endpoint: OpenID Connect Core §5.3, claims per scope as in §5.4, the access
//! token as a bearer token in the `Authorization` header (RFC 6750 §2.1) and errors as in
//! RFC 6750 §3.

use std::borrow::Cow;

use bytes::Bytes;
use http::header::{AUTHORIZATION, CACHE_CONTROL, HeaderValue, WWW_AUTHENTICATE};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use portcullis_grants::Params;
use portcullis_registry::ScopeSet;
use portcullis_tokens::TokenKind;
use serde_json::{Map, Value, json};

use crate::revocation::find_presented_token;
use crate::{OAuthError, Provider, response};

/// The claims the `profile` scope releases (OpenID Connect Core §5.4).
pub const PROFILE_CLAIMS: [&str; 14] = [
    "name",
    "family_name",
    "given_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "updated_at",
];

/// The claims the `email` scope releases (OpenID Connect Core §5.4).
pub const EMAIL_CLAIMS: [&str; 2] = ["email", "email_verified"];

/// The claims the `address` scope releases (OpenID Connect Core §5.4).
pub const ADDRESS_CLAIMS: [&str; 1] = ["address"];

/// The claims the `phone` scope releases (OpenID Connect Core §5.4).
pub const PHONE_CLAIMS: [&str; 2] = ["phone_number", "phone_number_verified"];

/// The standard claims a granted scope releases (OpenID Connect Core §5.4): `profile`,
/// `email`, `address` and `phone` release theirs; any other scope (`openid` included,
/// which releases only `sub`) releases none.
///
/// ```
/// use portcullis_endpoints::scope_claims;
/// assert_eq!(scope_claims("email"), ["email", "email_verified"]);
/// assert!(scope_claims("profile").contains(&"preferred_username"));
/// assert!(scope_claims("view:users").is_empty());
/// ```
pub fn scope_claims(scope: &str) -> &'static [&'static str] {
    match scope {
        "profile" => &PROFILE_CLAIMS,
        "email" => &EMAIL_CLAIMS,
        "address" => &ADDRESS_CLAIMS,
        "phone" => &PHONE_CLAIMS,
        _ => &[],
    }
}

/// Why a UserInfo request is refused: the error responses of RFC 6750 §3.1.
#[derive(Debug)]
enum Refusal {
    /// No bearer token in the `Authorization` header: 401 with a bare challenge (§3.1: "the
    /// resource server SHOULD NOT include an error code" when the request has no
    /// authentication information).
    NoToken,
    /// A malformed request: 400 `invalid_request`.
    InvalidRequest(&'static str),
    /// The token is not one this endpoint accepts: 401 `invalid_token`.
    InvalidToken(&'static str),
    /// The token lacks the `openid` scope: 403 `insufficient_scope`.
    InsufficientScope,
    /// The server could not decide (store or claims source failed).
    Failed(OAuthError),
    /// A DPoP-bound token without a valid proof, or the DPoP scheme with a bearer token:
    /// 401 with a `DPoP` challenge (RFC 9449 §7.1, §7.2).
    Dpop(crate::dpop::DpopRefusal),
}

impl Refusal {
    fn code(&self) -> Option<&'static str> {
        match self {
            Refusal::NoToken | Refusal::Failed(_) => None,
            Refusal::InvalidRequest(_) => Some("invalid_request"),
            Refusal::InvalidToken(_) => Some("invalid_token"),
            Refusal::InsufficientScope => Some("insufficient_scope"),
            Refusal::Dpop(refusal) => Some(refusal.code),
        }
    }

    fn description(&self) -> &str {
        match self {
            Refusal::NoToken => "a bearer token is required",
            Refusal::InvalidRequest(description) | Refusal::InvalidToken(description) => {
                description
            }
            Refusal::InsufficientScope => "the access token was not granted the openid scope",
            Refusal::Failed(_) => "",
            Refusal::Dpop(refusal) => &refusal.description,
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            Refusal::NoToken | Refusal::InvalidToken(_) | Refusal::Dpop(_) => {
                StatusCode::UNAUTHORIZED
            }
            Refusal::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            Refusal::InsufficientScope => StatusCode::FORBIDDEN,
            Refusal::Failed(err) => err.status(),
        }
    }

    /// The `WWW-Authenticate` challenge (RFC 6750 §3).
    fn challenge(&self, realm: &str) -> String {
        if let Refusal::Dpop(refusal) = self {
            return refusal.challenge();
        }
        let mut challenge = format!("Bearer realm=\"{}\"", quotable(realm));
        if let Some(code) = self.code() {
            challenge.push_str(&format!(
                ", error=\"{code}\", error_description=\"{}\"",
                quotable(self.description())
            ));
        }
        if let Refusal::InsufficientScope = self {
            challenge.push_str(", scope=\"openid\"");
        }
        challenge
    }

    fn into_response(self, realm: &str) -> Response<Bytes> {
        if let Refusal::Failed(err) = &self {
            return response::oauth_error(err);
        }
        let mut response = match self.code() {
            Some(code) => response::json(
                self.status(),
                &json!({"error": code, "error_description": self.description()}),
            ),
            // No error, no body: only the challenge says what to do.
            None => {
                let mut response = Response::new(Bytes::new());
                *response.status_mut() = self.status();
                response
                    .headers_mut()
                    .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
                response
            }
        };
        if let Ok(value) = HeaderValue::from_str(&self.challenge(realm)) {
            response.headers_mut().insert(WWW_AUTHENTICATE, value);
        }
        response
    }
}

impl From<OAuthError> for Refusal {
    fn from(err: OAuthError) -> Self {
        Refusal::Failed(err)
    }
}

impl Provider {
    /// The UserInfo endpoint (OpenID Connect Core §5.3), for
    /// [`Paths::userinfo`](crate::Paths::userinfo): `GET` or `POST` with an access token.
    ///
    /// - The token is read from the `Authorization: Bearer` header only (RFC 6750 §2.1). A
    ///   token in the query or a form body (§2.2, §2.3) is not accepted: without the
    ///   header the answer is 401 with `WWW-Authenticate: Bearer realm="<issuer>"` and no
    ///   error code (§3.1); with the header too it is 400 `invalid_request` (§2: one method
    ///   per request). A malformed or repeated header is 400 `invalid_request`.
    /// - An unknown, malformed, expired or revoked token, a refresh token, a token whose
    ///   client is revoked or gone, and a token acting for no user (client credentials) are
    ///   401 `invalid_token`.
    /// - A token without the `openid` scope is 403 `insufficient_scope` with
    ///   `scope="openid"`: the token is valid, it just does not grant this resource (RFC 6750
    ///   §3.1 "requires higher privileges"), which Core §5.3.3 leaves to RFC 6750.
    /// - Otherwise the answer is a JSON object with `sub` and the claims the
    ///   [`ClaimsSource`](portcullis_grants::ClaimsSource) gives for the token's scopes,
    ///   keeping only the standard claims those scopes release ([`scope_claims`]) and
    ///   leaving out null values (§5.3.2). `sub` is always the token's subject — the ID
    ///   token's `sub` — whatever the claims source says.
    ///
    /// Every answer carries `Cache-Control: no-store`. Other methods get 405; a store or
    /// claims-source failure 503 or 500.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use portcullis_endpoints::Provider;
    /// use std::sync::Arc;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let provider = Provider::builder("https://id.example", Arc::new(portcullis_store::MemoryStore::new())).build()?;
    /// let request = http::Request::get("/oauth/userinfo?access_token=pc_at_x").body(Bytes::new())?;
    /// let response = provider.userinfo(request).await;
    /// assert_eq!(response.status(), 401);
    /// assert_eq!(response.headers()["www-authenticate"], r#"Bearer realm="https://id.example""#);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn userinfo(&self, request: Request<Bytes>) -> Response<Bytes> {
        match self.user_claims(&request).await {
            Ok(claims) => response::json(StatusCode::OK, &Value::Object(claims)),
            Err(refusal) => {
                if let Some(code) = refusal.code() {
                    tracing::debug!(code, "userinfo refused: {}", refusal.description());
                }
                refusal.into_response(self.issuer())
            }
        }
    }

    async fn user_claims(&self, request: &Request<Bytes>) -> Result<Map<String, Value>, Refusal> {
        if !matches!(*request.method(), Method::GET | Method::POST) {
            return Err(OAuthError::method_not_allowed("GET, POST").into());
        }
        if request.body().len() > self.max_body_bytes() {
            return Err(OAuthError::body_too_large(self.max_body_bytes()).into());
        }
        let (token, dpop) = bearer_token(request.headers())?;
        if dpop && self.dpop_algorithms().is_none() {
            // Without DPoP enabled the scheme is as unknown as any other.
            return Err(Refusal::NoToken);
        }
        if token_elsewhere(request) {
            return Err(Refusal::InvalidRequest(
                "send the access token in the Authorization header only",
            ));
        }
        let invalid = Refusal::InvalidToken("the access token is invalid, expired or revoked");
        let Some(record) = find_presented_token(self, token).await? else {
            return Err(invalid);
        };
        if record.kind != TokenKind::AccessToken || !record.is_active(self.now()) {
            return Err(invalid);
        }
        let client = self
            .store()
            .get_client(&record.client_id)
            .await
            .map_err(|err| OAuthError::store(&err))?;
        let Some(client) = client.filter(|client| !client.revoked) else {
            return Err(invalid);
        };
        // RFC 9449 §7: a bound token needs the DPoP scheme and a proof by its key.
        let userinfo = &self.paths().userinfo;
        crate::dpop::protected_request(self, request, userinfo, token, dpop, &record)
            .await
            .map_err(Refusal::Dpop)?;
        let Some(subject) = record.subject else {
            return Err(Refusal::InvalidToken(
                "the access token does not act for a user",
            ));
        };
        if !record.scopes.contains("openid") {
            return Err(Refusal::InsufficientScope);
        }
        let claims = self
            .0
            .claims
            .claims(&subject, &record.scopes)
            .await
            .map_err(|err| OAuthError::from(portcullis_grants::GrantError::Application(err)))?;
        let mut released = released_claims(claims, &record.scopes);
        // Core §5.3.2: "The sub Claim MUST always be returned", and it must be the ID
        // token's: the token's subject, never the claims source's.
        // Core §8: a pairwise client sees the same pairwise `sub` as in its ID tokens.
        let sub = self
            .issuer_settings()
            .subject_for_client(&client, &subject)
            .map_err(OAuthError::from)?;
        released.insert("sub".into(), Value::String(sub.as_str().to_owned()));
        Ok(released)
    }
}

/// The claims `scopes` release (Core §5.4), without null values (§5.3.2: "If a Claim is not
/// returned, that Claim Name SHOULD be omitted").
fn released_claims(claims: Map<String, Value>, scopes: &ScopeSet) -> Map<String, Value> {
    claims
        .into_iter()
        .filter(|(name, value)| {
            !value.is_null()
                && scopes
                    .iter()
                    .any(|scope| scope_claims(scope.as_str()).contains(&name.as_str()))
        })
        .collect()
}

/// The token of `Authorization: Bearer <token>` (RFC 6750 §2.1) or `Authorization: DPoP
/// <token>` (RFC 9449 §7.1), and whether the scheme is `DPoP`.
///
/// The scheme is case-insensitive (RFC 9110 §11.1); the token must match `b64token`. No
/// header, or another scheme, is no token; a repeated header or a malformed token is
/// `invalid_request`.
fn bearer_token(headers: &HeaderMap) -> Result<(&str, bool), Refusal> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Err(Refusal::NoToken);
    };
    if values.next().is_some() {
        return Err(Refusal::InvalidRequest(
            "the Authorization header is repeated",
        ));
    }
    let value = value
        .to_str()
        .map_err(|_| Refusal::InvalidRequest("the Authorization header is not text"))?;
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    let dpop = scheme.eq_ignore_ascii_case("dpop");
    if !scheme.eq_ignore_ascii_case("bearer") && !dpop {
        return Err(Refusal::NoToken);
    }
    let token = token.trim_start_matches(' ');
    if token.is_empty() {
        return Err(Refusal::InvalidRequest("the bearer token is empty"));
    }
    if !is_b64token(token) {
        return Err(Refusal::InvalidRequest("the bearer token is malformed"));
    }
    Ok((token, dpop))
}

/// `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        })
}

/// Whether the request also carries `access_token` in its query or form body.
fn token_elsewhere(request: &Request<Bytes>) -> bool {
    let has_token = |raw: &[u8]| Params::parse(raw).is_ok_and(|p| p.contains("access_token"));
    let query = request.uri().query().unwrap_or_default();
    has_token(query.as_bytes()) || (!request.body().is_empty() && has_token(request.body()))
}

/// RFC 6750 §3: attribute values use `%x20-21 / %x23-5B / %x5D-7E`; anything else is dropped.
fn quotable(text: &str) -> Cow<'_, str> {
    if text
        .chars()
        .all(|c| matches!(c as u32, 0x20..=0x21 | 0x23..=0x5B | 0x5D..=0x7E))
    {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(
            text.chars()
                .filter(|c| matches!(*c as u32, 0x20..=0x21 | 0x23..=0x5B | 0x5D..=0x7E))
                .collect(),
        )
    }
}
