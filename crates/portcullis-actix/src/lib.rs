#![doc = include_str!("../README.md")]

mod bearer;
mod convert;
mod endpoints;
mod guard;
mod webhook;

pub use bearer::{Bearer, BearerRejection};
pub use endpoints::configure;
pub use guard::{Guard, RequireRole, RequireScope};
pub use webhook::{VerifiedWebhook, WebhookRejection};

#[doc(no_inline)]
pub use portcullis_endpoints::Provider;
#[doc(no_inline)]
pub use portcullis_resource::{AccessToken, BearerError, Resource};
