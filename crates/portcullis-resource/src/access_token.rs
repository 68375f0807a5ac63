//! A validated access token: what a protected route learns about the caller.

use portcullis_registry::{ClientId, RoleAssignment, ScopeSet};
use portcullis_tokens::Subject;
use time::OffsetDateTime;

/// The facts a validated access token carries.
///
/// ```
/// use portcullis_registry::{ClientId, RoleAssignment, ScopeSet};
/// use portcullis_resource::AccessToken;
///
/// let token = AccessToken {
///     subject: None,
///     client_id: ClientId::new("billing").expect("id"),
///     scopes: ScopeSet::parse("view:users").expect("scopes"),
///     roles: vec![RoleAssignment::new("auditor", Some("emea"))],
///     issued_at: time::OffsetDateTime::UNIX_EPOCH,
///     expires_at: time::OffsetDateTime::UNIX_EPOCH + time::Duration::hours(1),
///     confirmation: None,
/// };
/// assert!(token.has_scope("view:users"));
/// assert!(token.has_role("auditor", Some("emea")));
/// assert!(!token.has_role("auditor", None)); // None is the home division
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    /// The user the token acts for; `None` for a machine client (client credentials).
    pub subject: Option<Subject>,
    /// The client the token was issued to.
    pub client_id: ClientId,
    /// The scopes granted.
    pub scopes: ScopeSet,
    /// The client's role × division assignments (machine clients); `division: None` is the
    /// provider's home division.
    pub roles: Vec<RoleAssignment>,
    /// When it was issued.
    pub issued_at: OffsetDateTime,
    /// When it expires.
    pub expires_at: OffsetDateTime,
    /// The RFC 7638 thumbprint of the key a DPoP-bound token is bound to (`cnf.jkt`, RFC
    /// 9449 §6); `None` for a bearer token. A bound token is only accepted with a DPoP
    /// proof by that key ([`Resource::authenticate_request`](crate::Resource::authenticate_request)).
    pub confirmation: Option<String>,
}

impl AccessToken {
    /// Whether `scope` was granted.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.contains(scope)
    }

    /// Whether the token holds `role` in `division` (`None`: the home division).
    pub fn has_role(&self, role: &str, division: Option<&str>) -> bool {
        self.roles
            .iter()
            .any(|held| held.role == role && held.division.as_deref() == division)
    }
}
