//! Reading the verified claims of a JWT access token (RFC 9068 §2.2) into an
//! [`AccessToken`].
//!
//! `iss`, `aud`, `exp`, `nbf` and `iat` have already been checked against the clock and the
//! configuration by `portcullis_tokens`; this reads what the resource server is told.

use portcullis_registry::{ClientId, RoleAssignment, Scope, ScopeSet};
use portcullis_tokens::Subject;
use serde::Deserialize as _;
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::AccessToken;

/// Reads verified `claims` into an [`AccessToken`].
///
/// Required (RFC 9068 §2.2): `sub`, `client_id`, `iat`, `exp`. Optional: `scope` (a
/// space-separated list, RFC 9068 §2.2.3; runs of whitespace are one separator), `roles`
/// (portcullis's array of `{"role", "division"?}`), `auth_time`. `jti` is not read.
///
/// The subject is `None` (a machine token) when `sub` equals `client_id` and there is no
/// `auth_time`: RFC 9068 §2.2 has the provider put the client's own identifier in `sub`
/// when no resource owner is involved (client credentials), while a token a user
/// authenticated for carries `auth_time` and keeps its subject whatever its value.
///
/// # Errors
///
/// What is missing or malformed, terse and safe to log.
pub(super) fn read(claims: &Map<String, Value>) -> Result<AccessToken, &'static str> {
    let subject = match claims.get("sub") {
        Some(Value::String(sub)) => Subject::new(sub.as_str()).map_err(|_| "malformed sub")?,
        Some(_) => return Err("malformed sub"),
        None => return Err("missing sub"),
    };
    let client_id = match claims.get("client_id") {
        Some(Value::String(id)) => ClientId::new(id.as_str()).map_err(|_| "malformed client_id")?,
        Some(_) => return Err("malformed client_id"),
        None => return Err("missing client_id"),
    };
    let expires_at = numeric_date(claims, "exp", "invalid exp")?.ok_or("missing exp")?;
    let issued_at = numeric_date(claims, "iat", "invalid iat")?.ok_or("missing iat")?;
    let authenticated_user = numeric_date(claims, "auth_time", "invalid auth_time")?.is_some();
    let scopes = match claims.get("scope") {
        None | Some(Value::Null) => ScopeSet::new(),
        Some(Value::String(scope)) => scope
            .split_ascii_whitespace()
            .map(Scope::new)
            .collect::<Result<ScopeSet, _>>()
            .map_err(|_| "malformed scope")?,
        Some(_) => return Err("malformed scope"),
    };
    let roles = match claims.get("roles") {
        None | Some(Value::Null) => Vec::new(),
        Some(roles) => Vec::<RoleAssignment>::deserialize(roles).map_err(|_| "malformed roles")?,
    };
    // RFC 9449 §6.1: `cnf.jkt` binds the token to a DPoP key.
    let confirmation = match claims.get("cnf") {
        None | Some(Value::Null) => None,
        Some(Value::Object(cnf)) => match cnf.get("jkt") {
            Some(Value::String(jkt)) if !jkt.is_empty() => Some(jkt.clone()),
            None => None,
            Some(_) => return Err("malformed cnf.jkt"),
        },
        Some(_) => return Err("malformed cnf"),
    };
    let machine = !authenticated_user && subject.as_str() == client_id.as_str();
    Ok(AccessToken {
        subject: (!machine).then_some(subject),
        client_id,
        scopes,
        roles,
        issued_at,
        expires_at,
        confirmation,
    })
}

/// A NumericDate claim (RFC 7519 §2): seconds since the epoch, possibly fractional.
pub(super) fn numeric_date(
    claims: &Map<String, Value>,
    name: &str,
    invalid: &'static str,
) -> Result<Option<OffsetDateTime>, &'static str> {
    let Some(value) = claims.get(name) else {
        return Ok(None);
    };
    let date = if let Some(seconds) = value.as_i64() {
        OffsetDateTime::from_unix_timestamp(seconds).ok()
    } else {
        value
            .as_f64()
            .filter(|seconds| seconds.is_finite() && seconds.abs() < 1e15)
            .and_then(|seconds| {
                #[allow(clippy::cast_possible_truncation)] // bounded above
                let nanos = (seconds * 1e9) as i128;
                OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
            })
    };
    date.map(Some).ok_or(invalid)
}
