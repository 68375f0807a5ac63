//! Receiving Standard Webhooks: the [`VerifiedWebhook`] extractor and its
//! [`WebhookRejection`].

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use portcullis_events::Envelope;
use portcullis_events::webhook::{WebhookError, WebhookReceiver};

/// A webhook whose signature, timestamp and id were verified, as its typed envelope.
///
/// Needs a [`WebhookReceiver`] in the request extensions (`.layer(Extension(receiver))`);
/// reads the whole body and calls [`WebhookReceiver::verify_now`]. A refused webhook is
/// answered 400 or 401 (see [`WebhookError::status`]), so the sender retries it.
///
/// ```
/// use axum::{Extension, Router, routing::post};
/// use portcullis_axum::VerifiedWebhook;
/// use portcullis_events::webhook::{WebhookReceiver, WebhookSecret};
///
/// async fn hook(VerifiedWebhook(envelope): VerifiedWebhook) -> &'static str {
///     println!("{} {}", envelope.id, envelope.event.name());
///     "ok"
/// }
/// let receiver = WebhookReceiver::new(WebhookSecret::generate()?);
/// let _app: Router = Router::new().route("/hooks", post(hook)).layer(Extension(receiver));
/// # Ok::<(), portcullis_events::webhook::SecretError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedWebhook(pub Envelope);

impl<S> FromRequest<S> for VerifiedWebhook
where
    S: Send + Sync,
{
    type Rejection = WebhookRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let receiver = request
            .extensions()
            .get::<WebhookReceiver>()
            .cloned()
            .ok_or(WebhookRejection::NotConfigured)?;
        let headers = request.headers().clone();
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|_| WebhookRejection::UnreadableBody)?;
        receiver
            .verify_now(&headers, &body)
            .map(VerifiedWebhook)
            .map_err(WebhookRejection::Refused)
    }
}

/// Why [`VerifiedWebhook`] refused a request.
///
/// ```
/// use axum::response::IntoResponse;
/// use portcullis_axum::WebhookRejection;
/// use portcullis_events::webhook::WebhookError;
/// let response = WebhookRejection::Refused(WebhookError::BadSignature).into_response();
/// assert_eq!(response.status(), http::StatusCode::UNAUTHORIZED);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebhookRejection {
    /// No [`WebhookReceiver`] in the request extensions: a server mistake (500).
    NotConfigured,
    /// The body could not be read (400).
    UnreadableBody,
    /// [`portcullis_events::webhook::verify`] refused it.
    Refused(WebhookError),
}

impl IntoResponse for WebhookRejection {
    fn into_response(self) -> Response {
        match self {
            WebhookRejection::NotConfigured => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "webhook receiver not configured",
            )
                .into_response(),
            WebhookRejection::UnreadableBody => {
                (StatusCode::BAD_REQUEST, "unreadable body").into_response()
            }
            WebhookRejection::Refused(error) => (error.status(), error.to_string()).into_response(),
        }
    }
}
