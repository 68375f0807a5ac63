//! The extension grants local-server offers on top of the core ones, each used only by
//! clients that hold it (`grant_types` in the admin API and the console):
//!
//! - device authorization (RFC 8628): always on, at `/oauth/device_authorization` with the
//!   user-code page at `/oauth/device`;
//! - JWT bearer assertions (RFC 7523): on when `--trusted-issuer ISSUER=JWKS` names at
//!   least one issuer whose signed assertions are accepted (`jti` replay refused);
//! - token exchange (RFC 8693): on with `--token-exchange impersonate|delegate`; subject
//!   tokens are this provider's own tokens or JWTs from the trusted issuers;
//! - SAML 2.0 bearer assertions (RFC 7522): on when `--saml-idp-entity-id` and
//!   `--saml-idp-cert` name a trusted identity provider.
//!
//! Discovery lists exactly the grants registered here.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use portcullis_endpoints::ProviderBuilder;
use portcullis_grants::{
    BoxError, CachedJwks, InvalidIdpCertificate, JwtBearerGrant, Narrowing, Saml2BearerGrant,
    StaticJwks, TokenExchangeDecision, TokenExchangeGrant, TokenExchangePolicy,
    TokenExchangeRequest, TrustedIssuer, XmlSecVerifier,
};
use portcullis_resource::{HttpJwksFetcher, JwtConfigError};
use portcullis_store::ReplayStore;
use portcullis_store_sql::SqlStore;

use crate::config::{Config, TokenExchangeMode};

/// Why an extension grant could not be enabled.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ExtensionGrantError {
    /// `--trusted-issuer` is not `ISSUER=JWKS`.
    #[error("--trusted-issuer {0:?}: expected ISSUER=JWKS (a JWKS URL or file)")]
    TrustedIssuerSyntax(String),
    /// The JWKS URL is unusable.
    #[error("--trusted-issuer {issuer}: unusable JWKS URL")]
    JwksUrl {
        /// The issuer.
        issuer: String,
        /// Why.
        #[source]
        source: JwtConfigError,
    },
    /// The JWKS file could not be read or holds no usable key.
    #[error("--trusted-issuer {issuer}: cannot use the JWKS file {path}: {reason}")]
    JwksFile {
        /// The issuer.
        issuer: String,
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The SAML identity provider's certificate file could not be read.
    #[error("cannot read --saml-idp-cert {path}")]
    ReadCertificate {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file holds no usable certificate.
    #[error("--saml-idp-cert {path} holds no usable PEM certificate")]
    Certificate {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: InvalidIdpCertificate,
    },
}

/// Registers the configured extension grants on `builder`.
pub(crate) fn register(
    mut builder: ProviderBuilder,
    config: &Config,
    issuer: &str,
    store: &Arc<SqlStore>,
) -> Result<ProviderBuilder, ExtensionGrantError> {
    let trusted = config
        .trusted_issuers
        .iter()
        .map(|spec| trusted_issuer(spec))
        .collect::<Result<Vec<_>, _>>()?;
    let replay = store.clone() as Arc<dyn ReplayStore>;
    if !trusted.is_empty() {
        let mut grant = JwtBearerGrant::new(replay.clone()).token_endpoint_path("/oauth/token");
        for issuer in &trusted {
            grant = grant.trust(issuer.clone());
        }
        builder = builder.grant(grant);
        tracing::info!(issuers = trusted.len(), "JWT bearer grant enabled");
    }
    if let Some(mode) = config.token_exchange {
        let mut grant = TokenExchangeGrant::new(LocalExchangePolicy { mode });
        for issuer in &trusted {
            grant = grant.trust(issuer.clone());
        }
        builder = builder.grant(grant);
        tracing::info!(?mode, "token exchange enabled");
    }
    if let (Some(idp), Some(path)) = (&config.saml_idp_entity_id, &config.saml_idp_cert) {
        let pem = std::fs::read(path).map_err(|source| ExtensionGrantError::ReadCertificate {
            path: path.clone(),
            source,
        })?;
        let verifier =
            XmlSecVerifier::from_pem(&pem).map_err(|source| ExtensionGrantError::Certificate {
                path: path.clone(),
                source,
            })?;
        builder = builder.grant(Saml2BearerGrant::new(
            idp.clone(),
            format!("{issuer}/oauth/token"),
            verifier,
            replay,
        ));
        tracing::info!(idp = %idp, "SAML 2.0 bearer grant enabled");
    }
    Ok(builder)
}

/// `ISSUER=JWKS`: a JWKS URL (fetched and cached) or a JWKS file (read once).
fn trusted_issuer(spec: &str) -> Result<TrustedIssuer, ExtensionGrantError> {
    let (issuer, jwks) = spec
        .split_once('=')
        .filter(|(issuer, jwks)| !issuer.is_empty() && !jwks.is_empty())
        .ok_or_else(|| ExtensionGrantError::TrustedIssuerSyntax(spec.to_owned()))?;
    if jwks.starts_with("https://") || jwks.starts_with("http://") {
        let fetcher =
            HttpJwksFetcher::new(jwks).map_err(|source| ExtensionGrantError::JwksUrl {
                issuer: issuer.to_owned(),
                source,
            })?;
        return Ok(TrustedIssuer::new(issuer, CachedJwks::new(fetcher)));
    }
    let path = PathBuf::from(jwks);
    let file_error = |reason: String| ExtensionGrantError::JwksFile {
        issuer: issuer.to_owned(),
        path: path.clone(),
        reason,
    };
    let text = std::fs::read_to_string(&path).map_err(|err| file_error(err.to_string()))?;
    let json = serde_json::from_str(&text).map_err(|err| file_error(err.to_string()))?;
    let keys = StaticJwks::from_jwks(&json).map_err(|err| file_error(err.to_string()))?;
    Ok(TrustedIssuer::new(issuer, keys))
}

/// `--token-exchange`: what local-server allows a client holding the grant to do.
#[derive(Debug, Clone, Copy)]
struct LocalExchangePolicy {
    mode: TokenExchangeMode,
}

#[async_trait]
impl TokenExchangePolicy for LocalExchangePolicy {
    async fn decide(
        &self,
        request: &TokenExchangeRequest<'_>,
    ) -> Result<TokenExchangeDecision, BoxError> {
        Ok(match (self.mode, request.actor) {
            (TokenExchangeMode::Impersonate, None) => {
                TokenExchangeDecision::Impersonate(Narrowing::none())
            }
            _ => TokenExchangeDecision::Delegate(Narrowing::none()),
        })
    }
}
