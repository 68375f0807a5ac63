//! DPoP at the authorization server (RFC 9449): proofs at the token endpoint (§5), server
//! nonces (§8), proofs with DPoP-bound access tokens at UserInfo (§7), and the settings of
//! [`ProviderBuilder::dpop`].
//!
//! **Nonces** are stateless: a nonce is the base64url HMAC-SHA256, under a provider key, of
//! the number of the current time slot ([`DpopSettings::nonce_lifetime`], default 5
//! minutes). The current and the previous slot's nonces are accepted, so a nonce lives
//! between one and two slots, and nothing is stored. The key is random per provider unless
//! [`DpopSettings::nonce_secret`] gives one: instances behind a load balancer must share it.

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http::header::HeaderValue;
use http::{HeaderMap, Request, Response};
use portcullis_registry::Client;
use portcullis_store::{ReplayStore, TokenRecord};
use portcullis_tokens::{DpopAlgorithm, DpopError, DpopExpectations, DpopProof};
use time::{Duration, OffsetDateTime};

use crate::{ConfigError, OAuthError, Provider, ProviderBuilder};

/// The `DPoP` request header carrying a proof (RFC 9449 §4.1).
pub const DPOP_HEADER: &str = "dpop";
/// The `DPoP-Nonce` response header carrying a server nonce (RFC 9449 §8).
pub const DPOP_NONCE_HEADER: &str = "dpop-nonce";

/// The `token_type` of a DPoP-bound access token (RFC 9449 §5, §6.2).
pub const DPOP_TOKEN_TYPE: &str = "DPoP";

/// The `cnf` (confirmation) member of a DPoP-bound token (RFC 9449 §6): the RFC 7638
/// thumbprint of the key it is bound to, as introspection answers it (§6.2).
///
/// ```
/// use portcullis_endpoints::Confirmation;
/// let cnf: Confirmation = serde_json::from_str(r#"{"jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}"#)?;
/// assert_eq!(cnf.jkt.len(), 43);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Confirmation {
    /// The JWK SHA-256 thumbprint, base64url.
    pub jkt: String,
}

/// How the provider accepts DPoP proofs (RFC 9449): where used `jti`s are remembered, which
/// algorithms and `iat` window are accepted, and whether a server nonce is required.
///
/// ```
/// use portcullis_endpoints::{DpopSettings, Provider};
/// use portcullis_store::MemoryStore;
/// use portcullis_tokens::DpopAlgorithm;
/// use std::sync::Arc;
///
/// let store = Arc::new(MemoryStore::new());
/// let provider = Provider::builder("https://id.example", store.clone())
///     .dpop(
///         DpopSettings::new(store)
///             .algorithms([DpopAlgorithm::ES256, DpopAlgorithm::EdDSA])
///             .iat_window(time::Duration::seconds(30), time::Duration::seconds(5))
///             .require_nonce(),
///     )
///     .build()?;
/// assert_eq!(provider.dpop_algorithms(), Some(&[DpopAlgorithm::ES256, DpopAlgorithm::EdDSA][..]));
/// assert!(provider.dpop_nonce().is_some());
/// # Ok::<(), portcullis_endpoints::ConfigError>(())
/// ```
#[derive(Clone)]
#[must_use]
pub struct DpopSettings {
    replay: Arc<dyn ReplayStore>,
    algorithms: Vec<DpopAlgorithm>,
    max_age: Duration,
    future_leeway: Duration,
    require_nonce: bool,
    nonce_lifetime: Duration,
    nonce_secret: Option<Vec<u8>>,
}

impl DpopSettings {
    /// Default nonce time slot: 5 minutes (a nonce is accepted for 5 to 10 minutes).
    pub const DEFAULT_NONCE_LIFETIME: Duration = Duration::minutes(5);

    /// Proofs whose `jti` is remembered in `replay` (RFC 9449 §11.1) until they would be too
    /// old anyway; every algorithm of [`DpopAlgorithm::ALL`]; `iat` from
    /// [`DpopExpectations::DEFAULT_MAX_AGE`] (60 s) ago to
    /// [`DpopExpectations::DEFAULT_FUTURE_LEEWAY`] (5 s) ahead; no server nonce.
    ///
    /// ```
    /// use portcullis_endpoints::DpopSettings;
    /// let store = std::sync::Arc::new(portcullis_store::MemoryStore::new());
    /// let settings = DpopSettings::new(store);
    /// assert!(format!("{settings:?}").contains("require_nonce: false"));
    /// ```
    pub fn new(replay: Arc<dyn ReplayStore>) -> DpopSettings {
        DpopSettings {
            replay,
            algorithms: DpopAlgorithm::ALL.to_vec(),
            max_age: DpopExpectations::DEFAULT_MAX_AGE,
            future_leeway: DpopExpectations::DEFAULT_FUTURE_LEEWAY,
            require_nonce: false,
            nonce_lifetime: Self::DEFAULT_NONCE_LIFETIME,
            nonce_secret: None,
        }
    }

    /// Accept only these `alg` values (advertised as `dpop_signing_alg_values_supported`).
    ///
    /// ```
    /// use portcullis_endpoints::DpopSettings;
    /// let store = std::sync::Arc::new(portcullis_store::MemoryStore::new());
    /// let settings = DpopSettings::new(store).algorithms([portcullis_tokens::DpopAlgorithm::EdDSA]);
    /// assert!(format!("{settings:?}").contains("[EdDSA]"));
    /// ```
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = DpopAlgorithm>) -> Self {
        self.algorithms = algorithms.into_iter().collect();
        self
    }

    /// Accept `iat` from `max_age` ago (1 s to 10 min) to `future_leeway` ahead (0 to 5 min).
    ///
    /// ```
    /// use portcullis_endpoints::DpopSettings;
    /// let store = std::sync::Arc::new(portcullis_store::MemoryStore::new());
    /// use time::Duration;
    /// let settings = DpopSettings::new(store).iat_window(Duration::seconds(30), Duration::seconds(2));
    /// assert!(format!("{settings:?}").contains(&format!("max_age: {:?}", Duration::seconds(30))));
    /// ```
    pub fn iat_window(mut self, max_age: Duration, future_leeway: Duration) -> Self {
        self.max_age = max_age;
        self.future_leeway = future_leeway;
        self
    }

    /// Require a server-provided nonce in every proof at the token endpoint (RFC 9449 §8):
    /// a proof without the current one is answered `use_dpop_nonce` with a `DPoP-Nonce`
    /// header, and every token response carries the current nonce. UserInfo does not ask
    /// for nonces (RFC 9449 §9 makes resource-server nonces optional).
    ///
    /// ```
    /// use portcullis_endpoints::DpopSettings;
    /// let store = std::sync::Arc::new(portcullis_store::MemoryStore::new());
    /// let settings = DpopSettings::new(store).require_nonce();
    /// assert!(format!("{settings:?}").contains("require_nonce: true"));
    /// ```
    pub fn require_nonce(mut self) -> Self {
        self.require_nonce = true;
        self
    }

    /// The nonce time slot (1 minute to 1 hour); a nonce stays valid one to two slots.
    ///
    /// ```
    /// use portcullis_endpoints::DpopSettings;
    /// let store = std::sync::Arc::new(portcullis_store::MemoryStore::new());
    /// let settings = DpopSettings::new(store).nonce_lifetime(time::Duration::minutes(2));
    /// assert!(format!("{settings:?}").contains(&format!("nonce_lifetime: {:?}", time::Duration::minutes(2))));
    /// ```
    pub fn nonce_lifetime(mut self, lifetime: Duration) -> Self {
        self.nonce_lifetime = lifetime;
        self
    }

    /// The secret nonces are derived from (at least 32 bytes); give every instance of a
    /// provider the same one. Default: random per provider.
    ///
    /// ```
    /// use portcullis_endpoints::DpopSettings;
    /// let store = std::sync::Arc::new(portcullis_store::MemoryStore::new());
    /// use portcullis_endpoints::Provider;
    /// let shared = vec![42u8; 32];
    /// let a = Provider::builder("https://id.example", store.clone())
    ///     .dpop(DpopSettings::new(store.clone()).nonce_secret(shared.clone()))
    ///     .build()?;
    /// let b = Provider::builder("https://id.example", store.clone())
    ///     .dpop(DpopSettings::new(store).nonce_secret(shared))
    ///     .build()?;
    /// assert_eq!(a.dpop_nonce(), b.dpop_nonce()); // same slot, same secret
    /// # Ok::<(), portcullis_endpoints::ConfigError>(())
    /// ```
    pub fn nonce_secret(mut self, secret: impl Into<Vec<u8>>) -> Self {
        self.nonce_secret = Some(secret.into());
        self
    }

    fn check(&self) -> Result<(), ConfigError> {
        let fail = |reason| Err(ConfigError::Dpop { reason });
        if self.algorithms.is_empty() {
            return fail("at least one DPoP algorithm must be accepted");
        }
        if self.max_age < Duration::seconds(1) || self.max_age > Duration::minutes(10) {
            return fail("the DPoP iat max age must be between 1 second and 10 minutes");
        }
        if self.future_leeway < Duration::ZERO || self.future_leeway > Duration::minutes(5) {
            return fail("the DPoP iat future leeway must be between 0 and 5 minutes");
        }
        if self.nonce_lifetime < Duration::minutes(1) || self.nonce_lifetime > Duration::hours(1) {
            return fail("the DPoP nonce lifetime must be between 1 minute and 1 hour");
        }
        if self.nonce_secret.as_ref().is_some_and(|s| s.len() < 32) {
            return fail("the DPoP nonce secret must be at least 32 bytes");
        }
        Ok(())
    }
}

impl fmt::Debug for DpopSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopSettings")
            .field("algorithms", &self.algorithms)
            .field("max_age", &self.max_age)
            .field("future_leeway", &self.future_leeway)
            .field("require_nonce", &self.require_nonce)
            .field("nonce_lifetime", &self.nonce_lifetime)
            .finish_non_exhaustive()
    }
}

/// The provider's DPoP state: the settings and the nonce key.
pub(crate) struct DpopState {
    settings: DpopSettings,
    nonce_key: hmac::Key,
}

impl DpopState {
    /// Checks `settings` and derives the nonce key.
    pub(crate) fn new(settings: DpopSettings) -> Result<DpopState, ConfigError> {
        settings.check()?;
        let secret = match &settings.nonce_secret {
            Some(secret) => secret.clone(),
            None => {
                let mut secret = vec![0; 32];
                aws_lc_rs::rand::fill(&mut secret).map_err(|_| ConfigError::Dpop {
                    reason: "no random nonce key could be drawn",
                })?;
                secret
            }
        };
        Ok(DpopState {
            nonce_key: hmac::Key::new(hmac::HMAC_SHA256, &secret),
            settings,
        })
    }

    /// The nonce of the slot `offset` slots before the one `now` is in.
    fn nonce(&self, now: OffsetDateTime, offset: i64) -> String {
        let slot_secs = self.settings.nonce_lifetime.whole_seconds().max(1);
        let slot = now
            .unix_timestamp()
            .div_euclid(slot_secs)
            .saturating_sub(offset);
        let mut message = b"portcullis dpop nonce\0".to_vec();
        message.extend_from_slice(&slot.to_be_bytes());
        URL_SAFE_NO_PAD.encode(hmac::sign(&self.nonce_key, &message).as_ref())
    }

    /// The expectations of a proof at `uri` by `method` now, nonces included when
    /// `with_nonce`.
    fn expectations(
        &self,
        method: &str,
        uri: String,
        now: OffsetDateTime,
        with_nonce: bool,
    ) -> DpopExpectations {
        let mut expect = DpopExpectations::new(method, uri, now)
            .with_algorithms(self.settings.algorithms.iter().copied())
            .with_iat_window(self.settings.max_age, self.settings.future_leeway);
        if with_nonce {
            expect = expect.with_nonces([self.nonce(now, 0), self.nonce(now, 1)]);
        }
        expect
    }

    /// `algs` of a `WWW-Authenticate: DPoP` challenge (RFC 9449 §7.1).
    fn algs(&self) -> String {
        let names: Vec<&str> = self
            .settings
            .algorithms
            .iter()
            .map(|alg| alg.as_str())
            .collect();
        names.join(" ")
    }
}

impl ProviderBuilder {
    /// Enables DPoP (RFC 9449) with `settings`: a token request with a valid `DPoP` proof
    /// gets a DPoP-bound access token (`token_type: "DPoP"`, `cnf.jkt` in JWT access tokens
    /// and introspection) and, for a public client, a bound refresh token (§5); UserInfo
    /// accepts `Authorization: DPoP`; discovery lists `dpop_signing_alg_values_supported`.
    /// Default: off — `DPoP` headers are ignored and every token is a bearer token.
    ///
    /// ```
    /// use portcullis_endpoints::{DpopSettings, Provider};
    /// use portcullis_store::MemoryStore;
    /// use std::sync::Arc;
    ///
    /// let store = Arc::new(MemoryStore::new());
    /// let provider = Provider::builder("https://id.example", store.clone())
    ///     .dpop(DpopSettings::new(store))
    ///     .build()?;
    /// assert!(provider.dpop_algorithms().is_some());
    /// # Ok::<(), portcullis_endpoints::ConfigError>(())
    /// ```
    pub fn dpop(mut self, settings: DpopSettings) -> Self {
        self.dpop = Some(settings);
        self
    }
}

impl Provider {
    /// The accepted DPoP proof algorithms, or `None` when DPoP is off.
    ///
    /// ```
    /// use portcullis_endpoints::Provider;
    /// use std::sync::Arc;
    /// let provider = Provider::builder("https://id.example", Arc::new(portcullis_store::MemoryStore::new())).build()?;
    /// assert_eq!(provider.dpop_algorithms(), None);
    /// # Ok::<(), portcullis_endpoints::ConfigError>(())
    /// ```
    pub fn dpop_algorithms(&self) -> Option<&[DpopAlgorithm]> {
        self.0
            .dpop
            .as_ref()
            .map(|state| state.settings.algorithms.as_slice())
    }

    /// The current server nonce (RFC 9449 §8) when DPoP is on, whether or not proofs must
    /// carry one; `None` when DPoP is off.
    ///
    /// ```
    /// use portcullis_endpoints::{DpopSettings, Provider};
    /// use std::sync::Arc;
    /// let store = Arc::new(portcullis_store::MemoryStore::new());
    /// let provider = Provider::builder("https://id.example", store.clone())
    ///     .dpop(DpopSettings::new(store).require_nonce())
    ///     .build()?;
    /// assert_eq!(provider.dpop_nonce().map(|n| n.len()), Some(43));
    /// # Ok::<(), portcullis_endpoints::ConfigError>(())
    /// ```
    pub fn dpop_nonce(&self) -> Option<String> {
        self.0.dpop.as_ref().map(|state| state.nonce(self.now(), 0))
    }

    /// The absolute URL of `path` at this provider: the `htu` of proofs sent to it.
    fn endpoint_url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer())
    }
}

/// `invalid_dpop_proof`, 400 (RFC 9449 §5, §12.2).
fn invalid_proof(description: impl Into<std::borrow::Cow<'static, str>>) -> OAuthError {
    OAuthError::bad_request("invalid_dpop_proof", description)
}

/// The one `DPoP` header of a request: `Ok(None)` without one, an error when repeated or
/// not text (RFC 9449 §4.3 item 1).
fn proof_header(headers: &HeaderMap) -> Result<Option<&str>, &'static str> {
    let mut values = headers.get_all(DPOP_HEADER).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err("more than one DPoP header");
    }
    value
        .to_str()
        .map(Some)
        .map_err(|_| "the DPoP header is not text")
}

/// The OAuth error for a proof that failed a check of RFC 9449 §4.3.
fn proof_error(err: &DpopError) -> OAuthError {
    tracing::debug!(clause = err.clause(), "DPoP proof refused: {err}");
    if err.is_nonce_error() {
        // §8: "use_dpop_nonce", with the nonce in the DPoP-Nonce header.
        OAuthError::bad_request("use_dpop_nonce", err.to_string())
    } else {
        invalid_proof(err.to_string())
    }
}

/// The DPoP proof of a token request (RFC 9449 §5): `Ok(Some(jkt))` for a valid proof,
/// `Ok(None)` for a request without one (or when DPoP is off), an error for a bad or
/// replayed proof, or for a missing one the client or the token requires.
pub(crate) async fn token_request(
    provider: &Provider,
    request: &Request<Bytes>,
    client: &Client,
    params: &portcullis_grants::Params,
) -> Result<Option<String>, OAuthError> {
    let Some(state) = provider.0.dpop.as_ref() else {
        if client.dpop_bound_access_tokens {
            return Err(invalid_proof(
                "this client requires DPoP, which this server does not offer",
            ));
        }
        return Ok(None);
    };
    let proof = proof_header(request.headers()).map_err(invalid_proof)?;
    let Some(proof) = proof else {
        // RFC 9449 §5.2: a client registered with dpop_bound_access_tokens must send one.
        if client.dpop_bound_access_tokens {
            return Err(invalid_proof("this client must send a DPoP proof"));
        }
        // §10: a code bound to a key needs a proof of it.
        if bound_code_key(provider, client, params).await?.is_some() {
            return Err(invalid_proof(
                "the authorization code is bound to a DPoP key (dpop_jkt)",
            ));
        }
        return Ok(None);
    };
    let now = provider.now();
    let uri = provider.endpoint_url(&provider.paths().token);
    let expect = state.expectations("POST", uri, now, state.settings.require_nonce);
    let verified = DpopProof::verify(proof, &expect).map_err(|err| proof_error(&err))?;
    if let Some(jkt) = bound_code_key(provider, client, params).await?
        && jkt != verified.jkt()
    {
        return Err(invalid_proof(
            "the DPoP key is not the one the authorization code is bound to (dpop_jkt)",
        ));
    }
    first_use(state, &verified, now).await?;
    Ok(Some(verified.jkt().to_owned()))
}

/// RFC 9449 §11.1: a proof is accepted once.
async fn first_use(
    state: &DpopState,
    verified: &DpopProof,
    now: OffsetDateTime,
) -> Result<(), OAuthError> {
    let fresh = state
        .settings
        .replay
        .first_use(verified.replay_key(), verified.replay_expires_at(), now)
        .await
        .map_err(|err| OAuthError::store(&err))?;
    if fresh {
        Ok(())
    } else {
        Err(invalid_proof("the DPoP proof was already used"))
    }
}

/// The `dpop_jkt` the presented authorization code is bound to (RFC 9449 §10), if it is a
/// live code of this client's with one.
async fn bound_code_key(
    provider: &Provider,
    client: &Client,
    params: &portcullis_grants::Params,
) -> Result<Option<String>, OAuthError> {
    if params.get("grant_type") != Some("authorization_code") {
        return Ok(None);
    }
    let Some(code) = params.get("code") else {
        return Ok(None);
    };
    let Ok(raw) =
        portcullis_tokens::RawToken::parse(code, portcullis_tokens::TokenKind::AuthorizationCode)
    else {
        return Ok(None);
    };
    let record = provider
        .store()
        .find_code(&raw.lookup_key(), provider.now())
        .await
        .map_err(|err| OAuthError::store(&err))?;
    Ok(record
        .filter(|code| code.client_id == client.id)
        .and_then(|code| code.dpop_jkt))
}

/// Adds the current `DPoP-Nonce` to a token endpoint response when nonces are required
/// (RFC 9449 §8: on the `use_dpop_nonce` error, and on success so the client has the next
/// one).
pub(crate) fn with_nonce(provider: &Provider, mut response: Response<Bytes>) -> Response<Bytes> {
    if let Some(state) = provider.0.dpop.as_ref()
        && state.settings.require_nonce
        && let Ok(value) = HeaderValue::from_str(&state.nonce(provider.now(), 0))
    {
        response.headers_mut().insert(DPOP_NONCE_HEADER, value);
    }
    response
}

/// Why a protected request at the provider (UserInfo) with a DPoP-bound token or the DPoP
/// scheme was refused: a 401 with a `WWW-Authenticate: DPoP` challenge (RFC 9449 §7.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DpopRefusal {
    /// `invalid_token` or `invalid_dpop_proof`.
    pub(crate) code: &'static str,
    /// Why, for `error_description`.
    pub(crate) description: String,
    /// `algs` of the challenge.
    pub(crate) algs: String,
}

impl DpopRefusal {
    /// The challenge: `DPoP algs="…", error="…", error_description="…"`.
    pub(crate) fn challenge(&self) -> String {
        let clean = |text: &str| -> String {
            text.chars()
                .filter(|c| matches!(*c as u32, 0x20..=0x21 | 0x23..=0x5B | 0x5D..=0x7E))
                .collect()
        };
        format!(
            "DPoP algs=\"{}\", error=\"{}\", error_description=\"{}\"",
            clean(&self.algs),
            self.code,
            clean(&self.description)
        )
    }
}

/// Checks the DPoP side of a request to a protected endpoint of the provider at `path`
/// (UserInfo) presenting `token` with the `DPoP` scheme (`dpop`) or `Bearer`, whose record
/// is `record` (RFC 9449 §7). A bound token needs the DPoP scheme and a valid proof with
/// `ath` by its key; the DPoP scheme needs a bound token.
pub(crate) async fn protected_request(
    provider: &Provider,
    request: &Request<Bytes>,
    path: &str,
    token: &str,
    dpop: bool,
    record: &TokenRecord,
) -> Result<(), DpopRefusal> {
    let algs = provider
        .0
        .dpop
        .as_ref()
        .map(DpopState::algs)
        .unwrap_or_default();
    let refuse = |code: &'static str, description: &str| DpopRefusal {
        code,
        description: description.to_owned(),
        algs: algs.clone(),
    };
    let (Some(state), Some(jkt)) = (provider.0.dpop.as_ref(), record.confirmation.as_deref())
    else {
        return if dpop {
            Err(refuse(
                "invalid_token",
                "the access token is not DPoP-bound",
            ))
        } else {
            Ok(())
        };
    };
    if !dpop {
        // §7.2: a bound token is never accepted as a bearer token.
        return Err(refuse(
            "invalid_token",
            "the access token is DPoP-bound: send it with the DPoP scheme and a proof",
        ));
    }
    let proof = proof_header(request.headers())
        .map_err(|why| refuse("invalid_dpop_proof", why))?
        .ok_or_else(|| refuse("invalid_dpop_proof", "a DPoP proof is required"))?;
    let now = provider.now();
    let expect = state
        .expectations(
            request.method().as_str(),
            provider.endpoint_url(path),
            now,
            false,
        )
        .with_access_token(token)
        .with_bound_key(jkt);
    let verified = DpopProof::verify(proof, &expect).map_err(|err| {
        tracing::debug!(clause = err.clause(), "DPoP proof refused: {err}");
        refuse("invalid_dpop_proof", &err.to_string())
    })?;
    match first_use(state, &verified, now).await {
        Ok(()) => Ok(()),
        Err(err) => Err(refuse("invalid_dpop_proof", err.description())),
    }
}

#[cfg(test)]
mod tests;
