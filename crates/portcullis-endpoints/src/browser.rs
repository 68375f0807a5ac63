//! The authorization endpoint as a browser meets it: the provider's session cookie for
//! single sign-on, and interactions turned into redirects to the login or consent page.
//! (Being built.)

use bytes::Bytes;
use http::{Request, Response, StatusCode};

use crate::Provider;

impl Provider {
    /// The authorization endpoint for adapters. (Being built.)
    pub async fn authorize_http(&self, request: Request<Bytes>) -> Response<Bytes> {
        let _ = request;
        let mut response = Response::new(Bytes::from_static(b"not built yet"));
        *response.status_mut() = StatusCode::NOT_IMPLEMENTED;
        response
    }

    /// The default login page (GET shows it, POST checks it). (Being built.)
    #[cfg(feature = "ui")]
    pub async fn login_page(&self, request: Request<Bytes>) -> Response<Bytes> {
        self.authorize_http(request).await
    }

    /// The default consent page (GET shows it, POST decides). (Being built.)
    #[cfg(feature = "ui")]
    pub async fn consent_page(&self, request: Request<Bytes>) -> Response<Bytes> {
        self.authorize_http(request).await
    }
}
