#![doc = include_str!("../README.md")]

mod bearer;
mod guard;
mod router;
mod webhook;

pub use bearer::{Bearer, BearerRejection};
pub use guard::{Guard, RequireRole, RequireScope};
pub use router::router;
pub use webhook::{VerifiedWebhook, WebhookRejection};

#[doc(no_inline)]
pub use portcullis_endpoints::Provider;
#[doc(no_inline)]
pub use portcullis_resource::{AccessToken, BearerError, Resource};
