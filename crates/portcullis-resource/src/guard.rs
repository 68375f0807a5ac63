//! Scope and role guards for protected routes.

use crate::{AccessToken, BearerError};

/// Passes when the token was granted `scope`; otherwise 403 `insufficient_scope` naming it
/// (RFC 6750 §3.1).
///
/// ```
/// # use portcullis_registry::{ClientId, ScopeSet};
/// # use portcullis_resource::{AccessToken, require_scope};
/// # let token = AccessToken { subject: None, client_id: ClientId::new("c").expect("id"),
/// #     scopes: ScopeSet::parse("view:users").expect("scopes"), roles: vec![],
/// #     issued_at: time::OffsetDateTime::UNIX_EPOCH, expires_at: time::OffsetDateTime::UNIX_EPOCH, confirmation: None };
/// assert!(require_scope(&token, "view:users").is_ok());
/// assert_eq!(require_scope(&token, "delete:users").unwrap_err().status(), 403);
/// ```
///
/// # Errors
///
/// [`BearerError::InsufficientScope`].
pub fn require_scope(token: &AccessToken, scope: &str) -> Result<(), BearerError> {
    if token.has_scope(scope) {
        Ok(())
    } else {
        Err(BearerError::InsufficientScope {
            scope: scope.to_owned(),
        })
    }
}

/// Passes when the token's client holds `role` in `division` (`None`: the home division);
/// otherwise 403 `insufficient_scope` naming the role.
///
/// ```
/// # use portcullis_registry::{ClientId, RoleAssignment, ScopeSet};
/// # use portcullis_resource::{AccessToken, require_role};
/// # let token = AccessToken { subject: None, client_id: ClientId::new("c").expect("id"),
/// #     scopes: ScopeSet::new(), roles: vec![RoleAssignment::new("admin", None)],
/// #     issued_at: time::OffsetDateTime::UNIX_EPOCH, expires_at: time::OffsetDateTime::UNIX_EPOCH, confirmation: None };
/// assert!(require_role(&token, "admin", None).is_ok());
/// assert!(require_role(&token, "admin", Some("emea")).is_err());
/// ```
///
/// # Errors
///
/// [`BearerError::MissingRole`].
pub fn require_role(
    token: &AccessToken,
    role: &str,
    division: Option<&str>,
) -> Result<(), BearerError> {
    if token.has_role(role, division) {
        Ok(())
    } else {
        Err(BearerError::MissingRole {
            role: role.to_owned(),
            division: division.map(str::to_owned),
        })
    }
}
