//! Mapping a token's subject to the application's own user id.

use async_trait::async_trait;
use portcullis_grants::BoxError;

use crate::AccessToken;

/// Maps the caller of a protected route to the application's user id: the subject the
/// provider asserted (and the client, for machine tokens) to whatever key the app's
/// database uses.
///
/// Return `Ok(None)` when the token names nobody the app knows (the route answers 403 or
/// creates the user, as the app decides).
///
/// ```
/// use async_trait::async_trait;
/// use portcullis_grants::BoxError;
/// use portcullis_resource::{AccessToken, SubjectMapper};
///
/// /// Subjects look like `user-42`; the app keys users by the number.
/// struct NumericIds;
///
/// #[async_trait]
/// impl SubjectMapper for NumericIds {
///     type UserId = u64;
///     async fn user_id(&self, token: &AccessToken) -> Result<Option<u64>, BoxError> {
///         Ok(token
///             .subject
///             .as_ref()
///             .and_then(|s| s.as_str().strip_prefix("user-"))
///             .and_then(|n| n.parse().ok()))
///     }
/// }
/// ```
#[async_trait]
pub trait SubjectMapper: Send + Sync + 'static {
    /// The application's user key.
    type UserId: Send;

    /// The user behind `token`, if the app knows one.
    async fn user_id(&self, token: &AccessToken) -> Result<Option<Self::UserId>, BoxError>;
}

/// The identity mapping: the subject text is the user id. Machine tokens map to nobody.
///
/// ```
/// use portcullis_resource::{SubjectAsUserId, SubjectMapper};
/// # use portcullis_registry::{ClientId, ScopeSet};
/// # let token = portcullis_resource::AccessToken { subject: Some(portcullis_tokens::Subject::new("u1").expect("sub")),
/// #     client_id: ClientId::new("c").expect("id"), scopes: ScopeSet::new(), roles: vec![],
/// #     issued_at: time::OffsetDateTime::UNIX_EPOCH, expires_at: time::OffsetDateTime::UNIX_EPOCH, confirmation: None };
/// # tokio::runtime::Builder::new_current_thread().build().expect("rt").block_on(async {
/// assert_eq!(SubjectAsUserId.user_id(&token).await.expect("ok"), Some("u1".to_owned()));
/// # });
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SubjectAsUserId;

#[async_trait]
impl SubjectMapper for SubjectAsUserId {
    type UserId = String;

    async fn user_id(&self, token: &AccessToken) -> Result<Option<String>, BoxError> {
        Ok(token.subject.as_ref().map(|s| s.as_str().to_owned()))
    }
}
