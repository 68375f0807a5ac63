//! Authorization code grant, token leg: RFC 6749 §4.1.3-4.1.4, PKCE per RFC 7636 §4.5-4.6.

use async_trait::async_trait;

use crate::{Grant, GrantContext, GrantError, TokenResponse};

/// The `authorization_code` grant. (Being built: answers `unsupported_grant_type` until then.)
#[derive(Debug, Clone, Copy, Default)]
pub struct AuthorizationCodeGrant;

#[async_trait]
impl Grant for AuthorizationCodeGrant {
    fn grant_type(&self) -> &str {
        "authorization_code"
    }

    async fn exchange(&self, _cx: &GrantContext<'_>) -> Result<TokenResponse, GrantError> {
        Err(GrantError::UnsupportedGrantType("not built yet".into()))
    }
}
