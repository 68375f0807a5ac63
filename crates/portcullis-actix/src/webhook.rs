//! Receiving Standard Webhooks: the [`VerifiedWebhook`] extractor and its
//! [`WebhookRejection`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use portcullis_events::Envelope;
use portcullis_events::webhook::{WebhookError, WebhookReceiver};

use crate::convert;

/// A webhook whose signature, timestamp and id were verified, as its typed envelope.
///
/// Needs a [`WebhookReceiver`] in the app data, as is (`.app_data(receiver)`) or as
/// `web::Data<WebhookReceiver>`; reads the whole body (actix-web's `Bytes` extractor and
/// its `PayloadConfig` limit) and calls [`WebhookReceiver::verify_now`]. A refused webhook
/// is answered 400 or 401 (see [`WebhookError::status`]), so the sender retries it.
///
/// ```
/// use actix_web::{App, HttpResponse, web};
/// use portcullis_actix::VerifiedWebhook;
/// use portcullis_events::webhook::{WebhookReceiver, WebhookSecret};
///
/// async fn hook(VerifiedWebhook(envelope): VerifiedWebhook) -> HttpResponse {
///     println!("{} {}", envelope.id, envelope.event.name());
///     HttpResponse::NoContent().finish()
/// }
/// let receiver = WebhookReceiver::new(WebhookSecret::generate()?);
/// let _app = App::new().app_data(receiver).route("/hooks", web::post().to(hook));
/// # Ok::<(), portcullis_events::webhook::SecretError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedWebhook(pub Envelope);

impl FromRequest for VerifiedWebhook {
    type Error = WebhookRejection;
    type Future = Pin<Box<dyn Future<Output = Result<VerifiedWebhook, WebhookRejection>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let receiver = request
            .app_data::<WebhookReceiver>()
            .or_else(|| {
                request
                    .app_data::<web::Data<WebhookReceiver>>()
                    .map(|data| data.get_ref())
            })
            .cloned();
        let headers = convert::headers(request.headers());
        let body = web::Bytes::from_request(request, payload);
        Box::pin(async move {
            let receiver = receiver.ok_or(WebhookRejection::NotConfigured)?;
            // A header actix accepted but `http` 1 does not is no valid webhook header.
            let headers = headers.map_err(|_| WebhookRejection::UnreadableRequest)?;
            let body = body
                .await
                .map_err(|_| WebhookRejection::UnreadableRequest)?;
            receiver
                .verify_now(&headers, &body)
                .map(VerifiedWebhook)
                .map_err(WebhookRejection::Refused)
        })
    }
}

/// Why [`VerifiedWebhook`] refused a request.
///
/// ```
/// use actix_web::ResponseError;
/// use portcullis_actix::WebhookRejection;
/// use portcullis_events::webhook::WebhookError;
/// let rejection = WebhookRejection::Refused(WebhookError::Stale);
/// assert_eq!(rejection.status_code().as_u16(), 401);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebhookRejection {
    /// No [`WebhookReceiver`] in the app data: a server mistake (500).
    NotConfigured,
    /// The body or headers could not be read (400).
    UnreadableRequest,
    /// [`portcullis_events::webhook::verify`] refused it.
    Refused(WebhookError),
}

impl fmt::Display for WebhookRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WebhookRejection::NotConfigured => f.write_str("webhook receiver not configured"),
            WebhookRejection::UnreadableRequest => f.write_str("unreadable request"),
            WebhookRejection::Refused(error) => error.fmt(f),
        }
    }
}

impl ResponseError for WebhookRejection {
    fn status_code(&self) -> StatusCode {
        match self {
            WebhookRejection::NotConfigured => StatusCode::INTERNAL_SERVER_ERROR,
            WebhookRejection::UnreadableRequest => StatusCode::BAD_REQUEST,
            WebhookRejection::Refused(error) => {
                StatusCode::from_u16(error.status().as_u16()).unwrap_or(StatusCode::BAD_REQUEST)
            }
        }
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code())
            .content_type("text/plain; charset=utf-8")
            .body(self.to_string())
    }
}
