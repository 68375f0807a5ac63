//! Authorization code grant, token leg: RFC 6749 §4.1.3-4.1.4, PKCE per RFC 7636 §4.5-4.6,
//! downgrade protection per RFC 9700 §4.8.2.
//!
//! The code is read with `find_code`, checked (client, redirect URI, PKCE), the tokens are
//! minted, and only then is the code consumed by `redeem_code`, which stores the tokens in
//! the same atomic step. A failed check therefore leaves the code redeemable, and a code
//! presented after it was redeemed revokes everything issued for it (RFC 6749 §4.1.2).

use async_trait::async_trait;
use portcullis_registry::{GrantType, OPENID_SCOPE};
use portcullis_store::{AuthorizationCode, CodeRedemption};
use portcullis_tokens::{RawToken, TokenKind};

use crate::Audience;
use crate::pkce::{self, CodeChallengeMethod};
use crate::{
    Grant, GrantContext, GrantError, IdToken, Issuance, Minted, TokenResponse,
    issues_refresh_token, mint_tokens,
};

/// One answer for a code that is malformed, unknown, expired, used, or another client's:
/// the client learns nothing it could use to probe codes.
const INVALID_CODE: &str = "the authorization code is invalid, expired, or was already used";

/// The `authorization_code` grant (RFC 6749 §4.1.3).
///
/// Checks, in order, each failing with the error in parentheses:
/// 1. the client is registered for the grant (`unauthorized_client`);
/// 2. `code` is present (`invalid_request`), well formed, known, unexpired and issued to
///    this client (`invalid_grant`);
/// 3. `redirect_uri`: if the authorization request carried one, the token request repeats
///    it exactly; if it carried none, the token request sends none either (`invalid_grant`);
/// 4. PKCE (RFC 7636 §4.6): a code with a `code_challenge` needs a matching
///    `code_verifier`; a code without one refuses a `code_verifier` (downgrade, RFC 9700
///    §4.8.2) and is refused outright for a client that must use PKCE (public clients, and
///    confidential ones when the policy says so) (`invalid_grant`).
///
/// Then the tokens are minted in the code's family — a refresh token when
/// [`issues_refresh_token`] says so, an ID token when `openid` was granted (OpenID Connect
/// Core §3.1.3.3) — and stored by redeeming the code. A code redeemed before answers
/// `invalid_grant` and revokes the family of the first redemption.
///
/// The ID token carries the code's `nonce` (Core §3.1.3.6 via §2), `at_hash` of the access
/// token, and `auth_time` when the code recorded one: the authorization endpoint records it
/// only when the request had `max_age` or the provider always includes it.
///
/// ```
/// use portcullis_grants::{AuthorizationCodeGrant, Grant};
/// assert_eq!(AuthorizationCodeGrant.grant_type(), "authorization_code");
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct AuthorizationCodeGrant;

#[async_trait]
impl Grant for AuthorizationCodeGrant {
    fn grant_type(&self) -> &str {
        "authorization_code"
    }

    async fn exchange(&self, cx: &GrantContext<'_>) -> Result<TokenResponse, GrantError> {
        cx.require_grant(GrantType::AuthorizationCode)?;
        let presented = cx.required("code")?;
        let code = RawToken::parse(presented, TokenKind::AuthorizationCode)
            .map_err(|_| GrantError::invalid_grant(INVALID_CODE))?
            .lookup_key();
        let record = cx
            .store
            .find_code(&code, cx.now)
            .await?
            .filter(|record| record.client_id == cx.client.id)
            .ok_or_else(|| GrantError::invalid_grant(INVALID_CODE))?;
        check_redirect_uri(&record, cx.params.get("redirect_uri"))?;
        check_pkce(cx, &record)?;
        let audience = Audience::narrow(&record.resources, cx.resources()?)?;

        let scopes = record.scopes.clone();
        let openid = scopes.contains(OPENID_SCOPE);
        let refresh_scopes = issues_refresh_token(cx.client, &scopes).then(|| scopes.clone());
        let Minted {
            mut response,
            records,
        } = mint_tokens(Issuance {
            client: cx.client,
            subject: Some(record.subject.clone()),
            scopes,
            family: record.family.clone(),
            now: cx.now,
            refresh_scopes,
            auth_time: record.auth_time,
            signing: cx.signing(),
            audience,
            confirmation: cx.dpop_jkt.clone(),
        })?;
        if openid {
            let id_token = IdToken::new(
                cx.subject_for_client(&record.subject)?,
                cx.client.id.clone(),
                cx.now,
            )
            .auth_time(record.auth_time)
            .nonce(record.nonce.as_deref())
            .access_token(response.access_token.expose_secret())
            .sign(cx.settings, cx.keys)?;
            response.set_id_token(id_token);
        }
        match cx.store.redeem_code(&code, records, cx.now).await? {
            CodeRedemption::Redeemed(_) => Ok(response),
            CodeRedemption::AlreadyRedeemed(first) => {
                // RFC 6749 §4.1.2: deny, and revoke what the first redemption issued.
                cx.store.revoke_family(&first.family, cx.now).await?;
                Err(GrantError::invalid_grant(INVALID_CODE))
            }
            CodeRedemption::NotFound => Err(GrantError::invalid_grant(INVALID_CODE)),
        }
    }
}

/// RFC 6749 §4.1.3: `redirect_uri` is "REQUIRED, if the "redirect_uri" parameter was
/// included in the authorization request", "and their values MUST be identical". A
/// `redirect_uri` sent for a code whose request had none is refused as well: it cannot be
/// identical to anything, and accepting it would let a token request name a URI the
/// authorization request never used.
pub(crate) fn check_redirect_uri(
    record: &AuthorizationCode,
    requested: Option<&str>,
) -> Result<(), GrantError> {
    match (record.redirect_uri.as_deref(), requested) {
        (None, None) => Ok(()),
        (Some(issued), Some(requested)) if issued == requested => Ok(()),
        (Some(_), None) => Err(GrantError::invalid_grant(
            "redirect_uri is required: the authorization request included one",
        )),
        (Some(_), Some(_)) => Err(GrantError::invalid_grant(
            "redirect_uri does not match the one in the authorization request",
        )),
        (None, Some(_)) => Err(GrantError::invalid_grant(
            "redirect_uri was not part of the authorization request",
        )),
    }
}

/// RFC 7636 §4.6 and RFC 9700 §4.8.2.
fn check_pkce(cx: &GrantContext<'_>, record: &AuthorizationCode) -> Result<(), GrantError> {
    let verifier = cx.params.get("code_verifier");
    let Some(challenge) = record.code_challenge.as_deref() else {
        if verifier.is_some() {
            // RFC 9700 §4.8.2: a verifier for a code issued without a challenge means the
            // challenge was stripped from the authorization request.
            return Err(GrantError::invalid_grant(
                "code_verifier was sent but the authorization request had no code_challenge",
            ));
        }
        if cx.client.is_public() || cx.policy.pkce.required_for_confidential_clients {
            // The authorization endpoint never issues such a code; refuse it anyway.
            return Err(GrantError::invalid_grant(
                "this client must use PKCE but the authorization request had no code_challenge",
            ));
        }
        return Ok(());
    };
    let verifier =
        verifier.ok_or_else(|| GrantError::invalid_grant("code_verifier is required"))?;
    let method = challenge_method(record)?;
    if pkce::verify(method, challenge, verifier) {
        Ok(())
    } else {
        Err(GrantError::invalid_grant(
            "code_verifier does not match the code_challenge",
        ))
    }
}

/// The stored `code_challenge_method`; absent means `plain` (RFC 7636 §4.3: "Defaults to
/// "plain" if not present in the request").
pub(crate) fn challenge_method(
    record: &AuthorizationCode,
) -> Result<CodeChallengeMethod, GrantError> {
    record
        .code_challenge_method
        .as_deref()
        .unwrap_or(CodeChallengeMethod::Plain.as_str())
        .parse()
        .map_err(|_| GrantError::invalid_grant(INVALID_CODE))
}

#[cfg(test)]
mod tests;
