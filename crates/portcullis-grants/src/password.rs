//! Resource owner password credentials grant: RFC 6749 §4.3.
//!
//! The client sends the user's `username` and `password` (§4.3.2); the embedding
//! application checks them through its [`Authenticator`](crate::Authenticator) (DESIGN §2).
//! The grant is off unless the provider has an authenticator and the client is registered
//! for it (DESIGN §3).

use async_trait::async_trait;
use portcullis_registry::{GrantType, OPENID_SCOPE};
use portcullis_store::FamilyId;

use crate::Audience;
use crate::client_credentials::{DefaultScope, direct_grant_scope};
use crate::{
    Grant, GrantContext, GrantError, IdToken, Issuance, Minted, TokenResponse, mint_tokens,
};

/// The one answer for wrong credentials, whether the user exists or not.
const INVALID_CREDENTIALS: &str = "invalid resource owner credentials";

/// The `password` grant (RFC 6749 §4.3).
///
/// - The client must be registered for the grant (`unauthorized_client`); the provider
///   must have an [`Authenticator`](crate::Authenticator) (`unsupported_grant_type`).
/// - `username` and `password` are required (`invalid_request`).
/// - `scope`, when sent, must be allowed for the client (`invalid_scope`); when absent,
///   the token gets every scope the client may request, OpenID Connect scopes included
///   (there is a user here, and the client is a trusted first party).
/// - Wrong credentials answer `invalid_grant` with one description, never saying whether
///   the user exists. A failing authenticator is a server error. The password is never
///   logged nor echoed.
/// - A refresh token is issued whenever the client has the `refresh_token` grant (DESIGN
///   §4.1: there is no consent screen on which `offline_access` could be granted, so the
///   client's registration decides); the tokens start a new grant family.
/// - An ID token is issued when `openid` is granted (DESIGN §4.1), with `amr: ["pwd"]`
///   (RFC 8176 §2), `at_hash`, and `auth_time` (now) when the provider always includes it.
///
/// ```
/// use portcullis_grants::{Grant, PasswordGrant};
/// assert_eq!(PasswordGrant.grant_type(), "password");
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct PasswordGrant;

#[async_trait]
impl Grant for PasswordGrant {
    fn grant_type(&self) -> &str {
        "password"
    }

    async fn exchange(&self, cx: &GrantContext<'_>) -> Result<TokenResponse, GrantError> {
        cx.require_grant(GrantType::Password)?;
        let audience = Audience::requested(cx.resources()?);
        let Some(authenticator) = cx.authenticator else {
            return Err(GrantError::UnsupportedGrantType(
                "the password grant is not enabled on this server".into(),
            ));
        };
        let username = cx.required("username")?;
        let password = cx.required("password")?;
        let scopes = direct_grant_scope(cx, DefaultScope::AllAllowed)?;
        let subject = authenticator
            .authenticate(username, password)
            .await
            .map_err(GrantError::Application)?
            .ok_or_else(|| GrantError::invalid_grant(INVALID_CREDENTIALS))?;
        let refresh_scopes = cx
            .client
            .allows_grant(GrantType::RefreshToken)
            .then(|| scopes.clone());
        let openid = scopes.contains(OPENID_SCOPE);
        let Minted {
            mut response,
            records,
        } = mint_tokens(Issuance {
            client: cx.client,
            subject: Some(subject.clone()),
            scopes,
            family: FamilyId::generate()?,
            now: cx.now,
            refresh_scopes,
            auth_time: Some(cx.now),
            signing: cx.signing(),
            audience,
            confirmation: cx.dpop_jkt.clone(),
        })?;
        if openid {
            let id_token = IdToken::new(
                cx.subject_for_client(&subject)?,
                cx.client.id.clone(),
                cx.now,
            )
            .auth_time(cx.settings.auth_time_in_id_token(false).then_some(cx.now))
            .amr(["pwd"])
            .access_token(response.access_token.expose_secret())
            .sign(cx.settings, cx.keys)?;
            response.set_id_token(id_token);
        }
        cx.store.insert_tokens(records).await?;
        Ok(response)
    }
}

#[cfg(test)]
mod tests;
