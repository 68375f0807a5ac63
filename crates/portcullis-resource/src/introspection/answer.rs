//! Reading the introspection endpoint's answer (RFC 7662 §2.2) into an [`AccessToken`].
//!
//! The wire type is defined here rather than borrowed from `portcullis-endpoints`, so a
//! resource server does not pull in the provider, and so it can talk to any RFC 7662
//! provider: unknown members are ignored, and every member but `active` is optional on the
//! wire (what this validator needs of an active answer is checked afterwards).

use portcullis_registry::{ClientId, RoleAssignment, Scope, ScopeSet};
use portcullis_tokens::Subject;
use serde::Deserialize;
use time::OffsetDateTime;

use crate::AccessToken;

/// The `token_type` of an access token (RFC 6750 §4; RFC 6749 §7.1: case-insensitive).
const BEARER: &str = "Bearer";
/// The `token_type` of a DPoP-bound access token (RFC 9449 §6.2).
const DPOP: &str = "DPoP";

/// Just `active`, read first so that an inactive answer counts as one whatever else it
/// carries.
#[derive(Debug, Deserialize)]
struct Activity {
    active: bool,
}

/// The members of an active answer this validator reads (RFC 7662 §2.2), plus `roles`,
/// portcullis's extension for machine clients.
#[derive(Debug, Deserialize)]
struct ActiveAnswer {
    /// `scope`: space-separated; parsed leniently (runs of whitespace are one separator).
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    client_id: Option<ClientId>,
    #[serde(rename = "sub", default)]
    subject: Option<Subject>,
    #[serde(rename = "exp", default, with = "time::serde::timestamp::option")]
    expires_at: Option<OffsetDateTime>,
    #[serde(rename = "iat", default, with = "time::serde::timestamp::option")]
    issued_at: Option<OffsetDateTime>,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    roles: Option<Vec<RoleAssignment>>,
    /// `cnf` (RFC 9449 §6.2): the key a DPoP-bound token is bound to.
    #[serde(default)]
    cnf: Option<Confirmation>,
}

/// The `cnf` member of an answer: only `jkt` is read (RFC 9449 §6.2).
#[derive(Debug, Deserialize)]
struct Confirmation {
    #[serde(default)]
    jkt: Option<String>,
}

/// Why an answer does not yield an [`AccessToken`].
#[derive(Debug)]
pub(super) enum Refusal {
    /// The provider says the token may not be used (`active: false`), or describes
    /// something this validator must not accept: a 401 for the caller.
    Invalid(&'static str),
    /// The answer is not an RFC 7662 answer (not JSON, no `active`, a malformed member):
    /// the provider misbehaves, so nothing can be decided, a 503 for the caller.
    Malformed(String),
}

/// Reads `body`, an introspection answer received at `now`.
///
/// - `active: false` → [`Refusal::Invalid`].
/// - `active: true` → the [`AccessToken`] when `token_type` is absent or `Bearer`, `exp`
///   and `client_id` are present, and `exp` is after `now`; [`Refusal::Invalid`]
///   otherwise. A missing `iat` reads as `now` (the token was issued no later than that);
///   missing `scope` and `roles` read as empty, a missing `sub` as a machine token.
/// - Anything that does not parse → [`Refusal::Malformed`].
pub(super) fn read(body: &[u8], now: OffsetDateTime) -> Result<AccessToken, Refusal> {
    let activity: Activity = serde_json::from_slice(body)
        .map_err(|err| Refusal::Malformed(format!("not an introspection answer: {err}")))?;
    if !activity.active {
        return Err(Refusal::Invalid("the provider answered active: false"));
    }
    let answer: ActiveAnswer = serde_json::from_slice(body)
        .map_err(|err| Refusal::Malformed(format!("malformed active answer: {err}")))?;
    if answer
        .token_type
        .as_deref()
        .is_some_and(|kind| !kind.eq_ignore_ascii_case(BEARER) && !kind.eq_ignore_ascii_case(DPOP))
    {
        return Err(Refusal::Invalid("the token is not a bearer access token"));
    }
    let confirmation = answer.cnf.and_then(|cnf| cnf.jkt);
    if confirmation.is_none()
        && answer
            .token_type
            .as_deref()
            .is_some_and(|kind| kind.eq_ignore_ascii_case(DPOP))
    {
        return Err(Refusal::Invalid("a DPoP token without cnf.jkt"));
    }
    let Some(expires_at) = answer.expires_at else {
        return Err(Refusal::Invalid("the active answer has no exp"));
    };
    let Some(client_id) = answer.client_id else {
        return Err(Refusal::Invalid("the active answer has no client_id"));
    };
    if expires_at <= now {
        return Err(Refusal::Invalid("the token's exp has passed"));
    }
    let scopes = match answer.scope.as_deref() {
        Some(scope) => parse_scopes(scope)?,
        None => ScopeSet::new(),
    };
    Ok(AccessToken {
        subject: answer.subject,
        client_id,
        scopes,
        roles: answer.roles.unwrap_or_default(),
        issued_at: answer.issued_at.unwrap_or(now),
        expires_at,
        confirmation,
    })
}

/// A `scope` member: tokens separated by whitespace, each a valid scope token
/// (RFC 6749 §3.3).
fn parse_scopes(scope: &str) -> Result<ScopeSet, Refusal> {
    scope
        .split_ascii_whitespace()
        .map(Scope::new)
        .collect::<Result<ScopeSet, _>>()
        .map_err(|err| Refusal::Malformed(format!("malformed scope in active answer: {err}")))
}
