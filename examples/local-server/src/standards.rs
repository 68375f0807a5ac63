//! The advanced standards of the provider, from the command line (issue 11): resource
//! indicators (RFC 8707), pairwise subjects (OpenID Connect Core §8), dynamic client
//! registration (RFC 7591/7592), pushed authorization requests (RFC 9126), DPoP (RFC 9449)
//! and JWT client authentication (RFC 7523 §2.2).
//!
//! What needs no secret from the operator is always on: PAR, DPoP, `private_key_jwt` (the
//! database remembers used proofs and assertions). What does is on when configured:
//! pairwise subjects (`--pairwise-salt`), `client_secret_jwt` (`--secret-sealing-key`),
//! registration (`--registration open` or `--registration-token`).

use std::sync::Arc;

use portcullis_endpoints::{DpopSettings, ProviderBuilder, RegistrationPolicy};
use portcullis_grants::{PairwiseSalt, ResourcePolicy};
use portcullis_resource::HttpJwksFetcher;
use portcullis_store::ReplayStore;
use portcullis_store_sql::SqlStore;
use portcullis_tokens::SecretSealingKey;

use crate::config::{Config, RegistrationMode};
use crate::server::ServerError;

/// Adds what `config` enables to `builder`.
///
/// # Errors
///
/// [`ServerError::Standards`] naming the flag: a `--resource` that is not an absolute URI
/// without a fragment, a `--pairwise-salt` shorter than 16 bytes, a `--secret-sealing-key`
/// that is not 32 bytes of base64url, or both registration modes at once.
pub(crate) fn register(
    mut builder: ProviderBuilder,
    config: &Config,
    store: &Arc<SqlStore>,
) -> Result<ProviderBuilder, ServerError> {
    let invalid = |flag: &str, why: String| ServerError::Standards(format!("{flag}: {why}"));
    if !config.resources.is_empty() {
        let checked = ResourcePolicy::Any
            .check(config.resources.iter().map(String::as_str))
            .map_err(|err| invalid("--resource", err.description().to_owned()))?;
        builder = builder.resources(ResourcePolicy::only(checked));
    }
    if let Some(salt) = &config.pairwise_salt {
        let salt = PairwiseSalt::new(salt.as_bytes().to_vec())
            .ok_or_else(|| invalid("--pairwise-salt", "must be at least 16 bytes".into()))?;
        builder = builder.pairwise_salt(salt);
    }

    let replay = store.clone() as Arc<dyn ReplayStore>;
    let mut dpop = DpopSettings::new(replay.clone());
    if config.dpop_nonce {
        dpop = dpop.require_nonce();
    }
    builder = builder
        .dpop(dpop)
        .require_pushed_authorization_requests(config.require_par)
        .client_assertion_replay_store(replay)
        .client_jwks_fetcher(|uri| {
            HttpJwksFetcher::new(uri).map_err(|err| Box::new(err) as portcullis_grants::BoxError)
        });
    if let Some(key) = &config.secret_sealing_key {
        let key = SecretSealingKey::from_base64url(key)
            .map_err(|err| invalid("--secret-sealing-key", err.to_string()))?;
        builder = builder.secret_sealing_key(key);
    }

    if config.rate_limits {
        builder = builder.rate_limits(portcullis_endpoints::RateLimits::recommended());
    }

    match (config.registration, config.registration_tokens.as_slice()) {
        (None, []) => {}
        (Some(RegistrationMode::Open), []) => {
            builder = builder.registration(RegistrationPolicy::open());
        }
        (None, tokens) => {
            builder = builder.registration(RegistrationPolicy::initial_access_tokens(tokens));
        }
        (Some(_), _) => {
            return Err(invalid(
                "--registration",
                "give --registration open or --registration-token, not both".into(),
            ));
        }
    }
    Ok(builder)
}
