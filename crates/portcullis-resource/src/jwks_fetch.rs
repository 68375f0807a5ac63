//! Another issuer's JWK Set (RFC 7517 §5) fetched over HTTP, for the provider's extension
//! grants: wrap an [`HttpJwksFetcher`] in a `portcullis_grants::CachedJwks` and trust the
//! issuer in the JWT bearer (RFC 7523) or token exchange (RFC 8693) grant.
//!
//! It lives here rather than in `portcullis-grants` so that the grants stay free of an HTTP
//! client; this crate already has one for the same job on the resource side.

use std::time::Duration;

use async_trait::async_trait;
use portcullis_grants::{BoxError, FetchJwks};
use serde_json::Value;

use crate::JwtConfigError;
use crate::remote::is_loopback;

/// Largest JWK Set accepted: a few dozen RSA keys fit in far less.
const MAX_JWKS_BYTES: usize = 256 * 1024;

/// Fetches a JWK Set document by `GET` from an `https` URL (or `http` on a loopback host),
/// with a timeout (default 5 s), no redirects, and at most 256 KiB of body.
///
/// ```
/// use portcullis_grants::{CachedJwks, TrustedIssuer};
/// use portcullis_resource::HttpJwksFetcher;
///
/// let keys = CachedJwks::new(HttpJwksFetcher::new("https://partner.example/jwks.json")?);
/// let partner = TrustedIssuer::new("https://partner.example", keys);
/// # Ok::<(), portcullis_resource::JwtConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct HttpJwksFetcher {
    url: reqwest::Url,
    http: reqwest::Client,
}

impl HttpJwksFetcher {
    /// Fetches from `jwks_uri`.
    ///
    /// ```
    /// use portcullis_resource::{HttpJwksFetcher, JwtConfigError};
    /// assert_eq!(
    ///     HttpJwksFetcher::new("http://partner.example/jwks.json").unwrap_err(),
    ///     JwtConfigError::InsecureJwksUri,
    /// );
    /// assert!(HttpJwksFetcher::new("http://127.0.0.1:9000/jwks.json").is_ok());
    /// ```
    ///
    /// # Errors
    ///
    /// [`JwtConfigError::InvalidJwksUri`] when the URL is not absolute, has no host or
    /// carries credentials; [`JwtConfigError::InsecureJwksUri`] for `http` on a host that is
    /// not loopback (RFC 7515 §4.1.2: a JWK Set fetched by URL "MUST use Transport Layer
    /// Security"); [`JwtConfigError::HttpClient`] when the HTTP client cannot be made.
    pub fn new(jwks_uri: &str) -> Result<HttpJwksFetcher, JwtConfigError> {
        let url = reqwest::Url::parse(jwks_uri).map_err(|err| JwtConfigError::InvalidJwksUri {
            reason: err.to_string(),
        })?;
        let invalid = |reason: &str| JwtConfigError::InvalidJwksUri {
            reason: reason.to_owned(),
        };
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&url) => {}
            "http" => return Err(JwtConfigError::InsecureJwksUri),
            _ => return Err(invalid("the scheme must be https")),
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(invalid("the URL has no host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("the URL carries credentials"));
        }
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|err| JwtConfigError::HttpClient {
                reason: err.to_string(),
            })?;
        Ok(HttpJwksFetcher { url, http })
    }

    /// Uses `client` instead of the default one (for its TLS roots, proxy or timeout).
    /// Keep redirects off and a timeout on.
    #[must_use]
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = client;
        self
    }
}

#[async_trait]
impl FetchJwks for HttpJwksFetcher {
    async fn fetch(&self) -> Result<Value, BoxError> {
        let response = self
            .http
            .get(self.url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await?
            .error_for_status()?;
        if response
            .content_length()
            .is_some_and(|length| length > MAX_JWKS_BYTES as u64)
        {
            return Err("the JWK Set is too large".into());
        }
        let body = response.bytes().await?;
        if body.len() > MAX_JWKS_BYTES {
            return Err("the JWK Set is too large".into());
        }
        Ok(serde_json::from_slice(&body)?)
    }
}

#[cfg(test)]
mod tests;
