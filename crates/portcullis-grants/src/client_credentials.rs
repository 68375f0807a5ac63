//! Client credentials grant: RFC 6749 §4.4.
//!
//! A confidential client asks for an access token on its own behalf (§4.4.2). The token
//! has no subject, carries the client's roles, and never comes with a refresh token
//! (§4.4.3: "A refresh token SHOULD NOT be included").
//!
//! This module also holds the scope rule shared with the password grant
//! ([`direct_grant_scope`]): a grant that has no authorization request to inherit its
//! scope from checks the `scope` parameter against what the client may request.

use async_trait::async_trait;
use portcullis_registry::{GrantType, OFFLINE_ACCESS_SCOPE, OPENID_SCOPE, ScopeSet};
use portcullis_store::FamilyId;

use crate::Audience;
use crate::{Grant, GrantContext, GrantError, Issuance, TokenResponse, mint_tokens};

/// The OpenID Connect scopes that describe a user (OpenID Connect Core §5.4, §11). A
/// client acting on its own behalf has no user, so they are left out of its default scope.
pub(crate) const OIDC_USER_SCOPES: [&str; 6] = [
    OPENID_SCOPE,
    "profile",
    "email",
    "address",
    "phone",
    OFFLINE_ACCESS_SCOPE,
];

/// What the default scope of a direct grant (no authorization request) is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DefaultScope {
    /// Every scope the client may request.
    AllAllowed,
    /// Every scope the client may request, minus [`OIDC_USER_SCOPES`].
    AllAllowedExceptUserScopes,
}

/// The scope of a grant that is not preceded by an authorization request (client
/// credentials, password): the requested `scope`, every member of which must exist and be
/// allowed for the client (RFC 6749 §3.3, DESIGN §4.1: "never silently dropped"), or, when
/// `scope` is absent, the pre-defined default that §3.3 allows.
///
/// # Errors
///
/// [`GrantError::InvalidScope`] when `scope` is malformed, names an unknown scope, or a
/// scope the client may not request.
pub(crate) fn direct_grant_scope(
    cx: &GrantContext<'_>,
    default: DefaultScope,
) -> Result<ScopeSet, GrantError> {
    match cx.requested_scope()? {
        Some(requested) => {
            cx.client
                .allowed_scopes
                .check(&requested, cx.catalog)
                .map_err(|err| GrantError::invalid_scope(err.to_string()))?;
            Ok(requested)
        }
        None => {
            let mut scopes = cx.client.allowed_scopes.resolve(cx.catalog);
            if default == DefaultScope::AllAllowedExceptUserScopes {
                for scope in OIDC_USER_SCOPES {
                    scopes.remove(scope);
                }
            }
            Ok(scopes)
        }
    }
}

/// The `client_credentials` grant (RFC 6749 §4.4).
///
/// - Public clients are refused with `unauthorized_client` (§4.4: "MUST only be used by
///   confidential clients"), as is any client not registered for the grant.
/// - `scope`, when sent, must be allowed for the client (`invalid_scope` otherwise). When
///   absent, the token gets every scope the client may request **except** the OpenID
///   Connect user scopes (`openid`, `profile`, `email`, `address`, `phone`,
///   `offline_access`): they describe a user, and this grant has none. A client may still
///   ask for one of them explicitly if it is allowed to.
/// - The access token has no subject and carries the client's roles; no refresh token is
///   issued (§4.4.3). It starts a new grant family. As a JWT (RFC 9068) its `sub` is the
///   client id (§2.2). No ID token, even for `openid`: there is no user.
///
/// ```
/// use portcullis_grants::{ClientCredentialsGrant, Grant};
/// assert_eq!(ClientCredentialsGrant.grant_type(), "client_credentials");
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientCredentialsGrant;

#[async_trait]
impl Grant for ClientCredentialsGrant {
    fn grant_type(&self) -> &str {
        "client_credentials"
    }

    async fn exchange(&self, cx: &GrantContext<'_>) -> Result<TokenResponse, GrantError> {
        if cx.client.is_public() {
            return Err(GrantError::unauthorized_client(
                "public clients may not use the client_credentials grant",
            ));
        }
        cx.require_grant(GrantType::ClientCredentials)?;
        let audience = Audience::requested(cx.resources()?);
        let scopes = direct_grant_scope(cx, DefaultScope::AllAllowedExceptUserScopes)?;
        let minted = mint_tokens(Issuance {
            client: cx.client,
            subject: None,
            scopes,
            family: FamilyId::generate()?,
            now: cx.now,
            refresh_scopes: None,
            auth_time: None,
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
