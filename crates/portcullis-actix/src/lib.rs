#![doc = include_str!("../README.md")]

mod bearer;
mod convert;
mod endpoints;
mod guard;

pub use bearer::{Bearer, BearerRejection};
pub use endpoints::configure;
pub use guard::{Guard, RequireRole, RequireScope};

#[doc(no_inline)]
pub use portcullis_endpoints::Provider;
#[doc(no_inline)]
pub use portcullis_resource::{AccessToken, BearerError, Resource};
