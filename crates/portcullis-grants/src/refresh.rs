//! Refresh token grant: RFC 6749 §6, rotation and reuse detection per RFC 9700 §4.14.2.
//!
//! Every use rotates the refresh token, for confidential and public clients alike (DESIGN
//! §4.1): the presented token becomes `rotated` and a new access and refresh token join
//! its family, in one atomic store call. Presenting a rotated token again is reuse: the
//! store revokes the whole family, newest tokens included, and the client gets
//! `invalid_grant`.

use async_trait::async_trait;
use portcullis_registry::{GrantType, OPENID_SCOPE, ScopeSet};
use portcullis_store::{Rotation, TokenStatus};
use portcullis_tokens::{RawToken, TokenKind};

use crate::Audience;
use crate::{
    Grant, GrantContext, GrantError, IdToken, Issuance, Minted, TokenResponse, mint_tokens,
};

/// One answer for a refresh token that is malformed, unknown, expired, revoked, reused, or
/// another client's.
const INVALID_REFRESH_TOKEN: &str = "the refresh token is invalid, expired, or revoked";

/// The `refresh_token` grant (RFC 6749 §6).
///
/// - The client must be registered for the grant (`unauthorized_client`); `refresh_token`
///   is required (`invalid_request`) and must be a live refresh token issued to this
///   client (`invalid_grant`; another client's token is not touched).
/// - `scope` may only narrow the original grant (`invalid_scope` otherwise); when absent
///   it is the original scope. The new access token gets the requested scope, the new
///   refresh token keeps the original one, so a later refresh may ask for all of it again
///   (§6: "the requested scope MUST NOT include any scope not originally granted").
/// - The successors are in the same family, with the client's current lifetimes.
/// - A rotated token presented again answers `invalid_grant`, and the store has revoked
///   the family (RFC 9700 §4.14.2). Reuse is detected even when the replayed request also
///   asks for a scope it may not have, and is reported to
///   [`GrantContext::events`] as `token.refresh_reuse_detected`.
/// - When the original grant included `openid`, the response carries a new ID token for the
///   same `sub` (OpenID Connect Core §12.2), with `at_hash` and without `nonce`. It has no
///   `auth_time`: the token records do not keep the original one, and §12.2 forbids
///   putting in any other.
///
/// ```
/// use portcullis_grants::{Grant, RefreshTokenGrant};
/// assert_eq!(RefreshTokenGrant.grant_type(), "refresh_token");
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct RefreshTokenGrant;

#[async_trait]
impl Grant for RefreshTokenGrant {
    fn grant_type(&self) -> &str {
        "refresh_token"
    }

    async fn exchange(&self, cx: &GrantContext<'_>) -> Result<TokenResponse, GrantError> {
        cx.require_grant(GrantType::RefreshToken)?;
        let requested_resources = cx.resources()?;
        let presented = cx.required("refresh_token")?;
        let presented = RawToken::parse(presented, TokenKind::RefreshToken)
            .map_err(|_| GrantError::invalid_grant(INVALID_REFRESH_TOKEN))?
            .lookup_key();
        let record = cx
            .store
            .find_token(&presented, cx.now)
            .await?
            .filter(|record| {
                record.kind == TokenKind::RefreshToken && record.client_id == cx.client.id
            })
            .ok_or_else(|| GrantError::invalid_grant(INVALID_REFRESH_TOKEN))?;
        if record.status == TokenStatus::Revoked {
            return Err(GrantError::invalid_grant(INVALID_REFRESH_TOKEN));
        }
        // RFC 9449 §5: a refresh token bound to a DPoP key (public clients) needs a proof
        // signed with that key. Checked before the store is touched: nothing changes.
        if let Some(bound) = &record.confirmation
            && cx.dpop_jkt.as_deref() != Some(bound.as_str())
        {
            return Err(GrantError::Extension {
                code: "invalid_dpop_proof",
                description:
                    "this refresh token is bound to a DPoP key: send a proof signed with it".into(),
            });
        }
        // RFC 8707 §2.2: the new access token may be for any resource of the grant.
        let audience = Audience::narrow(&record.audience, requested_resources)?;
        let access_scopes = match narrowed_scope(cx.requested_scope(), &record.scopes) {
            Ok(scopes) => scopes,
            // A replayed (rotated) token must reach the store so that reuse revokes the
            // family; its successors are never stored, so their scope does not matter.
            Err(_) if record.status == TokenStatus::Rotated => record.scopes.clone(),
            Err(err) => return Err(err),
        };
        let Minted {
            mut response,
            records,
        } = mint_tokens(Issuance {
            client: cx.client,
            subject: record.subject.clone(),
            scopes: access_scopes,
            family: record.family.clone(),
            now: cx.now,
            refresh_scopes: Some(record.scopes.clone()),
            auth_time: None,
            signing: cx.signing(),
            audience,
            confirmation: cx.dpop_jkt.clone(),
        })?;
        if let Some(subject) = &record.subject
            && record.scopes.contains(OPENID_SCOPE)
        {
            let id_token = IdToken::new(
                cx.subject_for_client(subject)?,
                cx.client.id.clone(),
                cx.now,
            )
            .access_token(response.access_token.expose_secret())
            .sign(cx.settings, cx.keys)?;
            response.set_id_token(id_token);
        }
        match cx
            .store
            .rotate_refresh_token(&presented, records, cx.now)
            .await?
        {
            Rotation::Rotated { .. } => Ok(response),
            Rotation::ReuseDetected { .. } => {
                cx.events
                    .emit(portcullis_events::Event::RefreshReuseDetected {
                        client_id: cx.client.id.to_string(),
                    });
                Err(GrantError::invalid_grant(INVALID_REFRESH_TOKEN))
            }
            Rotation::Invalid => Err(GrantError::invalid_grant(INVALID_REFRESH_TOKEN)),
        }
    }
}

/// The access token's scope for a refresh (RFC 6749 §6): the requested scope if it is a
/// subset of the original grant, the original grant when none is requested.
///
/// # Errors
///
/// [`GrantError::InvalidScope`] when the request's `scope` did not parse (passed through)
/// or names a scope outside the original grant.
pub(crate) fn narrowed_scope(
    requested: Result<Option<ScopeSet>, GrantError>,
    original: &ScopeSet,
) -> Result<ScopeSet, GrantError> {
    match requested? {
        None => Ok(original.clone()),
        Some(requested) => match requested.iter().find(|s| !original.contains(s.as_str())) {
            None => Ok(requested),
            Some(extra) => Err(GrantError::invalid_scope(format!(
                "scope {extra} was not part of the original grant"
            ))),
        },
    }
}

#[cfg(test)]
mod tests;
