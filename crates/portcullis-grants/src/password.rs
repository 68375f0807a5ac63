//! Resource owner password credentials grant: RFC 6749 §4.3.

use async_trait::async_trait;

use crate::{Grant, GrantContext, GrantError, TokenResponse};

/// The `password` grant. (Being built: answers `unsupported_grant_type` until then.)
#[derive(Debug, Clone, Copy, Default)]
pub struct PasswordGrant;

#[async_trait]
impl Grant for PasswordGrant {
    fn grant_type(&self) -> &str {
        "password"
    }

    async fn exchange(&self, _cx: &GrantContext<'_>) -> Result<TokenResponse, GrantError> {
        Err(GrantError::UnsupportedGrantType("not built yet".into()))
    }
}
