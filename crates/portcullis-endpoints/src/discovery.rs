//! Discovery: OpenID Connect Discovery 1.0 §3 (`/.well-known/openid-configuration`) and
//! OAuth 2.0 Authorization Server Metadata, RFC 8414 §2 (`/.well-known/oauth-authorization-server`).
//!
//! Both documents are the same [`ProviderMetadata`], generated from what the provider
//! actually offers: its paths, grants, scope catalog, PKCE policy and signing keys (RFC 8414
//! §2 allows every OpenID Connect member; OpenID Connect clients ignore the RFC 8414 ones
//! they do not know).

use std::collections::BTreeSet;

use bytes::Bytes;
use http::{Method, Request, Response};
use portcullis_grants::authorization_request::Prompt;
use portcullis_registry::GrantType;
use portcullis_store::StoreError;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::jwks::public_json;
use crate::userinfo::{ADDRESS_CLAIMS, EMAIL_CLAIMS, PHONE_CLAIMS, PROFILE_CLAIMS};
use crate::{OAuthError, Provider, response};

/// Where OpenID Connect Discovery 1.0 §4 puts the configuration, after the issuer's path.
const OPENID_CONFIGURATION: &str = "/.well-known/openid-configuration";

/// Where RFC 8414 §3.1 puts the metadata, before the issuer's path.
const AUTHORIZATION_SERVER_METADATA: &str = "/.well-known/oauth-authorization-server";

/// The ID token claims the provider may assert itself (OpenID Connect Core §2), before the
/// standard claims of the scopes.
const ID_TOKEN_CLAIMS: [&str; 10] = [
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "at_hash",
    "c_hash",
    "amr",
];

/// The provider's metadata: the document served at both well-known locations (OpenID
/// Connect Discovery 1.0 §3, RFC 8414 §2). It deserializes too, for clients reading a
/// provider's document; members the type does not know are ignored.
///
/// ```
/// # use portcullis_endpoints::Provider;
/// # use std::sync::Arc;
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// # let provider = Provider::builder("https://id.example", Arc::new(portcullis_store::MemoryStore::new())).build()?;
/// let metadata = provider.provider_metadata().await?;
/// assert_eq!(metadata.token_endpoint, "https://id.example/oauth/token");
/// assert_eq!(metadata.code_challenge_methods_supported, ["S256"]);
/// assert!(metadata.authorization_response_iss_parameter_supported);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ProviderMetadata {
    /// `issuer`: the issuer identifier, exactly the `iss` of every token.
    pub issuer: String,
    /// `authorization_endpoint`.
    pub authorization_endpoint: String,
    /// `token_endpoint`.
    pub token_endpoint: String,
    /// `jwks_uri`: the JWK Set with the keys that sign ID tokens and JWT access tokens.
    pub jwks_uri: String,
    /// `userinfo_endpoint` (OpenID Connect Core §5.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userinfo_endpoint: Option<String>,
    /// `end_session_endpoint` (OpenID Connect RP-Initiated Logout 1.0 §2.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_session_endpoint: Option<String>,
    /// `revocation_endpoint` (RFC 7009, RFC 8414 §2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint: Option<String>,
    /// `introspection_endpoint` (RFC 7662, RFC 8414 §2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introspection_endpoint: Option<String>,
    /// `device_authorization_endpoint` (RFC 8628 §4): only when the device flow is enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_authorization_endpoint: Option<String>,
    /// `registration_endpoint` (RFC 7591 §3, RFC 8414 §2, OpenID Connect Discovery 1.0
    /// §3): only when dynamic client registration is enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_endpoint: Option<String>,
    /// `scopes_supported`: the scope catalog, OpenID Connect scopes included.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes_supported: Vec<String>,
    /// `response_types_supported`.
    pub response_types_supported: Vec<String>,
    /// `response_modes_supported`: `query`, `fragment`, `form_post`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub response_modes_supported: Vec<String>,
    /// `grant_types_supported`: the token endpoint's grants, plus `implicit`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grant_types_supported: Vec<String>,
    /// `subject_types_supported`: `public` (the same `sub` for every client), and
    /// `pairwise` when the provider has a pairwise salt (OpenID Connect Core §8).
    #[serde(default)]
    pub subject_types_supported: Vec<String>,
    /// `id_token_signing_alg_values_supported`: the algorithms of the published keys, the
    /// active key's first; never `none`.
    #[serde(default)]
    pub id_token_signing_alg_values_supported: Vec<String>,
    /// `token_endpoint_auth_methods_supported`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub token_endpoint_auth_methods_supported: Vec<String>,
    /// `revocation_endpoint_auth_methods_supported` (RFC 8414 §2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revocation_endpoint_auth_methods_supported: Vec<String>,
    /// `introspection_endpoint_auth_methods_supported` (RFC 8414 §2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub introspection_endpoint_auth_methods_supported: Vec<String>,
    /// `token_endpoint_auth_signing_alg_values_supported` (RFC 8414 §2): the algorithms of
    /// `private_key_jwt` and `client_secret_jwt` assertions, present exactly when one of
    /// those methods is offered; never `none`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub token_endpoint_auth_signing_alg_values_supported: Vec<String>,
    /// `revocation_endpoint_auth_signing_alg_values_supported` (RFC 8414 §2), as for the
    /// token endpoint.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revocation_endpoint_auth_signing_alg_values_supported: Vec<String>,
    /// `introspection_endpoint_auth_signing_alg_values_supported` (RFC 8414 §2), as for
    /// the token endpoint.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub introspection_endpoint_auth_signing_alg_values_supported: Vec<String>,
    /// `pushed_authorization_request_endpoint` (RFC 9126 §5): only while pushed
    /// authorization requests are enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pushed_authorization_request_endpoint: Option<String>,
    /// `require_pushed_authorization_requests` (RFC 9126 §5): sent only when `true` (its
    /// default is `false`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_pushed_authorization_requests: bool,
    /// `dpop_signing_alg_values_supported` (RFC 9449 §5.1): the accepted DPoP proof
    /// algorithms, only when DPoP is enabled ([`ProviderBuilder::dpop`](crate::ProviderBuilder::dpop)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_signing_alg_values_supported: Option<Vec<String>>,
    /// `code_challenge_methods_supported` (RFC 7636, RFC 8414 §2): `S256`, and `plain` only
    /// when the policy allows it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub code_challenge_methods_supported: Vec<String>,
    /// `claims_supported`: what ID tokens and UserInfo may contain.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claims_supported: Vec<String>,
    /// `prompt_values_supported` (Initiating User Registration via OpenID Connect 1.0 §4.1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prompt_values_supported: Vec<String>,
    /// `authorization_response_iss_parameter_supported` (RFC 9207 §3): `true`, every
    /// authorization response carries `iss`.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
    /// `request_parameter_supported`: `false`, request objects are refused.
    #[serde(default)]
    pub request_parameter_supported: bool,
    /// `request_uri_parameter_supported`: `false` (Discovery's default is `true`, so it is
    /// always sent).
    #[serde(default = "default_true")]
    pub request_uri_parameter_supported: bool,
    /// `claims_parameter_supported`: `false`.
    #[serde(default)]
    pub claims_parameter_supported: bool,
}

/// OpenID Connect Discovery 1.0 §3: "If omitted, the default value is true."
fn default_true() -> bool {
    true
}

/// Strings from string slices.
fn strings<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    values.into_iter().map(str::to_owned).collect()
}

impl Provider {
    /// The provider's metadata, as served by [`openid_configuration`](Provider::openid_configuration)
    /// and [`authorization_server_metadata`](Provider::authorization_server_metadata).
    /// Endpoint URLs are the issuer followed by the [`Paths`](crate::Paths).
    ///
    /// # Errors
    ///
    /// The store's error when the scope catalog cannot be read.
    pub async fn provider_metadata(&self) -> Result<ProviderMetadata, StoreError> {
        let catalog = self.scope_catalog().await?;
        let paths = self.paths();
        let url = |path: &str| {
            if path.starts_with('/') {
                format!("{}{path}", self.issuer())
            } else {
                format!("{}/{path}", self.issuer())
            }
        };
        let mut grant_types: BTreeSet<&str> = self.grant_types().collect();
        // The implicit grant is served by the authorization endpoint, to clients registered
        // for it, not by a token-endpoint grant.
        grant_types.insert(GrantType::Implicit.as_str());
        let mut pkce = vec!["S256"];
        if self.policy().pkce.allow_plain {
            pkce.push("plain");
        }
        let claims = ID_TOKEN_CLAIMS
            .iter()
            .chain(&PROFILE_CLAIMS)
            .chain(&EMAIL_CLAIMS)
            .chain(&ADDRESS_CLAIMS)
            .chain(&PHONE_CLAIMS)
            .copied();
        let auth_algorithms = self.client_assertion_algorithms();
        Ok(ProviderMetadata {
            issuer: self.issuer().to_owned(),
            authorization_endpoint: url(&paths.authorize),
            token_endpoint: url(&paths.token),
            jwks_uri: url(&paths.jwks),
            userinfo_endpoint: Some(url(&paths.userinfo)),
            end_session_endpoint: Some(url(&paths.end_session)),
            revocation_endpoint: Some(url(&paths.revoke)),
            introspection_endpoint: Some(url(&paths.introspect)),
            device_authorization_endpoint: self
                .device_flow()
                .map(|_| url(&paths.device_authorization)),
            registration_endpoint: self.registration_endpoint(),
            scopes_supported: catalog
                .iter()
                .map(|definition| definition.name.as_str().to_owned())
                .collect(),
            response_types_supported: strings([
                "code",
                "token",
                "id_token",
                "id_token token",
                "code id_token",
            ]),
            response_modes_supported: strings(["query", "fragment", "form_post"]),
            grant_types_supported: strings(grant_types),
            // OpenID Connect Discovery §3 / Core §8: pairwise only with a salt to make it.
            subject_types_supported: if self.issuer_settings().pairwise_salt.is_some() {
                strings(["public", "pairwise"])
            } else {
                strings(["public"])
            },
            id_token_signing_alg_values_supported: self
                .signing_keys()
                .algorithms()
                .into_iter()
                .map(|algorithm| algorithm.as_str().to_owned())
                .collect(),
            token_endpoint_auth_methods_supported: self.client_auth_methods(true),
            revocation_endpoint_auth_methods_supported: self.client_auth_methods(false),
            introspection_endpoint_auth_methods_supported: self.client_auth_methods(false),
            token_endpoint_auth_signing_alg_values_supported: auth_algorithms.clone(),
            revocation_endpoint_auth_signing_alg_values_supported: auth_algorithms.clone(),
            introspection_endpoint_auth_signing_alg_values_supported: auth_algorithms,
            pushed_authorization_request_endpoint: self
                .pushed_authorization_requests_enabled()
                .then(|| url(&paths.pushed_authorization_request)),
            require_pushed_authorization_requests: self.pushed_authorization_requests_required(),
            dpop_signing_alg_values_supported: self
                .dpop_algorithms()
                .map(|algs| algs.iter().map(|alg| alg.as_str().to_owned()).collect()),
            code_challenge_methods_supported: strings(pkce),
            claims_supported: strings(claims),
            prompt_values_supported: strings(
                [
                    Prompt::None,
                    Prompt::Login,
                    Prompt::Consent,
                    Prompt::SelectAccount,
                ]
                .map(Prompt::as_str),
            ),
            authorization_response_iss_parameter_supported: true,
            request_parameter_supported: false,
            request_uri_parameter_supported: false,
            claims_parameter_supported: false,
        })
    }

    /// OpenID Connect Discovery 1.0 §4: the provider configuration, to mount at
    /// [`openid_configuration_path`](Provider::openid_configuration_path). `GET` (or `HEAD`)
    /// answers [`provider_metadata`](Provider::provider_metadata) as `application/json`,
    /// cacheable for 5 minutes and readable from any origin; other methods get 405 with
    /// `Allow: GET, HEAD`; a store failure 503 or 500.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use portcullis_endpoints::Provider;
    /// use std::sync::Arc;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let provider = Provider::builder("https://id.example", Arc::new(portcullis_store::MemoryStore::new())).build()?;
    /// assert_eq!(provider.openid_configuration_path(), "/.well-known/openid-configuration");
    /// let request = http::Request::get("/.well-known/openid-configuration").body(Bytes::new())?;
    /// let response = provider.openid_configuration(request).await;
    /// let document: serde_json::Value = serde_json::from_slice(response.body())?;
    /// assert_eq!(document["issuer"], "https://id.example");
    /// assert_eq!(document["jwks_uri"], "https://id.example/oauth/jwks");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn openid_configuration(&self, request: Request<Bytes>) -> Response<Bytes> {
        self.metadata_document(&request).await
    }

    /// RFC 8414 §3: the authorization server metadata, to mount at
    /// [`authorization_server_metadata_path`](Provider::authorization_server_metadata_path).
    /// The same document and rules as [`openid_configuration`](Provider::openid_configuration).
    pub async fn authorization_server_metadata(&self, request: Request<Bytes>) -> Response<Bytes> {
        self.metadata_document(&request).await
    }

    /// Where to mount [`openid_configuration`](Provider::openid_configuration): the issuer's
    /// path followed by `/.well-known/openid-configuration` (OpenID Connect Discovery 1.0
    /// §4), so `/.well-known/openid-configuration` for an issuer without a path.
    ///
    /// ```
    /// # use portcullis_endpoints::Provider;
    /// # use std::sync::Arc;
    /// let provider = Provider::builder("https://id.example/tenant", Arc::new(portcullis_store::MemoryStore::new())).build()?;
    /// assert_eq!(provider.openid_configuration_path(), "/tenant/.well-known/openid-configuration");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn openid_configuration_path(&self) -> String {
        format!("{}{OPENID_CONFIGURATION}", self.issuer_path())
    }

    /// Where to mount [`authorization_server_metadata`](Provider::authorization_server_metadata):
    /// `/.well-known/oauth-authorization-server` followed by the issuer's path (RFC 8414
    /// §3.1), so `/.well-known/oauth-authorization-server` for an issuer without a path.
    ///
    /// ```
    /// # use portcullis_endpoints::Provider;
    /// # use std::sync::Arc;
    /// let provider = Provider::builder("https://id.example/tenant", Arc::new(portcullis_store::MemoryStore::new())).build()?;
    /// assert_eq!(provider.authorization_server_metadata_path(), "/.well-known/oauth-authorization-server/tenant");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn authorization_server_metadata_path(&self) -> String {
        format!("{AUTHORIZATION_SERVER_METADATA}{}", self.issuer_path())
    }

    /// The path of the issuer URL without a trailing slash: empty for `https://id.example`.
    fn issuer_path(&self) -> String {
        url::Url::parse(self.issuer())
            .map(|url| url.path().trim_end_matches('/').to_owned())
            .unwrap_or_default()
    }

    async fn metadata_document(&self, request: &Request<Bytes>) -> Response<Bytes> {
        if !matches!(*request.method(), Method::GET | Method::HEAD) {
            return response::oauth_error(&OAuthError::method_not_allowed("GET, HEAD"));
        }
        match self.provider_metadata().await {
            Ok(metadata) => {
                let document = serde_json::to_value(&metadata).unwrap_or(Value::Null);
                public_json(&document, request.method() == Method::HEAD)
            }
            Err(err) => response::oauth_error(&OAuthError::store(&err)),
        }
    }
}
