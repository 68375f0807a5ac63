//! Refresh token grant: RFC 6749 §6, rotation and reuse detection per RFC 9700 §4.14.2.

use async_trait::async_trait;

use crate::{Grant, GrantContext, GrantError, TokenResponse};

/// The `refresh_token` grant. (Being built: answers `unsupported_grant_type` until then.)
#[derive(Debug, Clone, Copy, Default)]
pub struct RefreshTokenGrant;

#[async_trait]
impl Grant for RefreshTokenGrant {
    fn grant_type(&self) -> &str {
        "refresh_token"
    }

    async fn exchange(&self, _cx: &GrantContext<'_>) -> Result<TokenResponse, GrantError> {
        Err(GrantError::UnsupportedGrantType("not built yet".into()))
    }
}
