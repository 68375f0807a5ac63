//! Client credentials grant: RFC 6749 §4.4.

use async_trait::async_trait;

use crate::{Grant, GrantContext, GrantError, TokenResponse};

/// The `client_credentials` grant. (Being built: answers `unsupported_grant_type` until then.)
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientCredentialsGrant;

#[async_trait]
impl Grant for ClientCredentialsGrant {
    fn grant_type(&self) -> &str {
        "client_credentials"
    }

    async fn exchange(&self, _cx: &GrantContext<'_>) -> Result<TokenResponse, GrantError> {
        Err(GrantError::UnsupportedGrantType("not built yet".into()))
    }
}
