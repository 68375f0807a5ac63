//! Client authentication at the token, revocation, introspection, device authorization
//! and pushed authorization request endpoints (RFC 6749 §2.3.1, §3.2.1; RFC 7009 §2.1;
//! RFC 7662 §2.1; RFC 9126 §2): `client_secret_basic`, `client_secret_post`, `none`, and
//! JWT assertions (`private_key_jwt`, `client_secret_jwt`: RFC 7523 §2.2 and §3, OpenID
//! Connect Core §9), the last in the [`assertion`] module.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::Request;
use http::header::AUTHORIZATION;
use portcullis_grants::Params;
use portcullis_registry::{Client, ClientId, ClientSecretHash, TokenEndpointAuthMethod};

use crate::{OAuthError, Provider};

pub(crate) mod assertion;

pub(crate) use assertion::AssertionSettings;
pub use assertion::{CLIENT_ASSERTION_TYPE_JWT_BEARER, SealClientSecretError};

/// How the client presented itself.
enum Presented {
    /// `Authorization: Basic` (client_secret_basic).
    Basic { id: String, secret: String },
    /// `client_id` and `client_secret` in the body (client_secret_post).
    Post { id: String, secret: String },
    /// `client_id` alone: a public client (`none`).
    Public { id: String },
    /// `client_assertion` with the JWT bearer `client_assertion_type` (RFC 7521 §4.2,
    /// RFC 7523 §2.2), and the body's `client_id` if it had one.
    Assertion {
        body_id: Option<String>,
        assertion: String,
    },
}

pub(crate) const FAILED: &str = "client authentication failed";

/// Authenticates the client of a back-channel request.
///
/// Every failure is `invalid_client` (401) with the same description, whether the client
/// is unknown, revoked, used the wrong method or the wrong secret, so the answer never tells
/// whether a client id exists. When the client tried the `Authorization` header the answer
/// carries `WWW-Authenticate: Basic` (RFC 6749 §5.2). Sending credentials in two ways at
/// once is `invalid_request` (§2.3: "MUST NOT use more than one authentication method").
pub(crate) async fn authenticate(
    provider: &Provider,
    request: &Request<Bytes>,
    params: &Params,
) -> Result<Client, OAuthError> {
    let presented = presented(provider, request, params)?;
    if let Presented::Assertion { body_id, assertion } = &presented {
        return assertion::authenticate(provider, body_id.as_deref(), assertion).await;
    }
    let used_basic = matches!(presented, Presented::Basic { .. });
    let realm = used_basic.then(|| provider.issuer());
    let fail = || OAuthError::invalid_client(FAILED, realm);

    let (id, secret, method) = match &presented {
        Presented::Basic { id, secret } => {
            (id, Some(secret), TokenEndpointAuthMethod::ClientSecretBasic)
        }
        Presented::Post { id, secret } => {
            (id, Some(secret), TokenEndpointAuthMethod::ClientSecretPost)
        }
        Presented::Public { id } => (id, None, TokenEndpointAuthMethod::None),
        Presented::Assertion { .. } => return Err(fail()),
    };
    let Ok(client_id) = ClientId::new(id.as_str()) else {
        return Err(fail());
    };
    let client = provider
        .store()
        .get_client(&client_id)
        .await
        .map_err(|err| OAuthError::store(&err))?;
    let Some(client) = client else {
        // Spend the same work as a real check so timing does not reveal unknown ids.
        if let Some(secret) = secret {
            let _ = ClientSecretHash::of("").verify(secret);
        }
        return Err(fail());
    };
    let secret_ok = match secret {
        Some(secret) => client.verify_secret(secret),
        None => client.secret_hash.is_none(),
    };
    if !secret_ok || client.auth_method != method || client.revoked {
        return Err(fail());
    }
    Ok(client)
}

/// Reads which credentials the request carries, refusing ambiguous combinations.
fn presented(
    provider: &Provider,
    request: &Request<Bytes>,
    params: &Params,
) -> Result<Presented, OAuthError> {
    let mut headers = request.headers().get_all(AUTHORIZATION).iter();
    let header = headers.next();
    if headers.next().is_some() {
        return Err(OAuthError::invalid_request(
            "the Authorization header is repeated",
        ));
    }
    let body_id = params.get("client_id");
    let body_secret = params.get("client_secret");
    let assertion_type = params.get("client_assertion_type");
    let assertion = params.get("client_assertion");
    if assertion_type.is_some() || assertion.is_some() {
        // RFC 6749 §2.3: "The client MUST NOT use more than one authentication method in
        // each request."
        if header.is_some() || body_secret.is_some() {
            return Err(OAuthError::invalid_request(
                "use one client authentication method: a client assertion, the Authorization header or client_secret, not several",
            ));
        }
        return match (assertion_type, assertion) {
            // RFC 7521 §4.2: both parameters are REQUIRED.
            (None, _) => Err(OAuthError::invalid_request(
                "client_assertion_type is required with client_assertion",
            )),
            (_, None) => Err(OAuthError::invalid_request(
                "client_assertion is required with client_assertion_type",
            )),
            // RFC 6749 §5.2: an unsupported authentication method is `invalid_client`, as
            // RFC 7521 §4.2.1 makes every unusable assertion.
            (Some(kind), Some(_)) if kind != CLIENT_ASSERTION_TYPE_JWT_BEARER => {
                Err(OAuthError::invalid_client(FAILED, None))
            }
            (Some(_), Some(assertion)) => Ok(Presented::Assertion {
                body_id: body_id.map(str::to_owned),
                assertion: assertion.to_owned(),
            }),
        };
    }
    match header {
        Some(value) => {
            let basic = || OAuthError::invalid_client(FAILED, Some(provider.issuer()));
            let (id, secret) = value
                .to_str()
                .ok()
                .and_then(decode_basic)
                .ok_or_else(basic)?;
            if body_secret.is_some() {
                return Err(OAuthError::invalid_request(
                    "use one client authentication method: the Authorization header or client_secret, not both",
                ));
            }
            if body_id.is_some_and(|body_id| body_id != id) {
                return Err(OAuthError::invalid_request(
                    "client_id does not match the Authorization header",
                ));
            }
            Ok(Presented::Basic { id, secret })
        }
        None => match (body_id, body_secret) {
            (Some(id), Some(secret)) => Ok(Presented::Post {
                id: id.to_owned(),
                secret: secret.to_owned(),
            }),
            (Some(id), None) => Ok(Presented::Public { id: id.to_owned() }),
            (None, _) => Err(OAuthError::invalid_client(
                "client authentication is required",
                None,
            )),
        },
    }
}

/// Decodes `Basic base64(urlencode(id) ":" urlencode(secret))` (RFC 6749 §2.3.1, RFC 7617).
fn decode_basic(header: &str) -> Option<(String, String)> {
    let (scheme, credentials) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(credentials.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let id = form_decode(id)?;
    let secret = form_decode(secret)?;
    (!id.is_empty()).then_some((id, secret))
}

/// `application/x-www-form-urlencoded` decoding of one component (`+` is a space).
fn form_decode(component: &str) -> Option<String> {
    let pair = format!("v={component}");
    url::form_urlencoded::parse(pair.as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
}

#[cfg(test)]
mod tests;
