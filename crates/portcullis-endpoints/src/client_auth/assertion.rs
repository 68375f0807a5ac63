//! Client authentication with JWTs: RFC 7523 §2.2 (the `client_assertion` parameters of
//! RFC 7521 §4.2) with the claim rules of RFC 7523 §3, in the two flavours of OpenID
//! Connect Core §9:
//!
//! - `private_key_jwt`: the JWT is signed with one of the client's private keys and
//!   verified with its registered `jwks`, or the JWK Set at its `jwks_uri` (fetched through
//!   [`ProviderBuilder::client_jwks_fetcher`] and cached). Asymmetric algorithms only
//!   (ES256, EdDSA, RS256); the header `kid` picks the key when present.
//! - `client_secret_jwt`: the JWT is MACed (HS256, HS384 or HS512) with the client
//!   secret. The provider stores secrets hashed, so it keeps a sealed copy for these clients
//!   only ([`Provider::seal_client_secret`], under [`ProviderBuilder::secret_sealing_key`]).
//!
//! Both need [`ProviderBuilder::client_assertion_replay_store`]: every `jti` is accepted
//! once (RFC 7523 §3 item 7 allows that; without it a captured assertion could be replayed
//! until it expires), so without a replay store neither method is offered.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_grants::{BoxError, CachedJwks, FetchJwks, JwksSource};
use portcullis_registry::{Client, ClientId, ClientSecret, TokenEndpointAuthMethod};
use portcullis_store::ReplayStore;
use portcullis_tokens::{
    JwtExpectations, PublicKeySet, SealError, SecretSealingKey, SigningAlgorithm, TokenHash,
};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::{Map, Value};
use time::{Duration, OffsetDateTime};

use super::FAILED;
use crate::{ConfigError, OAuthError, Provider, ProviderBuilder};

#[cfg(test)]
mod tests;

/// The `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2).
///
/// ```
/// assert_eq!(
///     portcullis_endpoints::CLIENT_ASSERTION_TYPE_JWT_BEARER,
///     "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
/// );
/// ```
pub const CLIENT_ASSERTION_TYPE_JWT_BEARER: &str =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The longest a client assertion may be valid unless
/// [`ProviderBuilder::client_assertion_max_lifetime`] says otherwise: `exp` more than this
/// (plus the leeway) after now, or after `iat`, is refused. It also bounds how long a `jti`
/// is remembered.
const DEFAULT_MAX_ASSERTION_LIFETIME: Duration = Duration::minutes(10);

/// Tolerated clock skew with the client for `exp`, `nbf` and `iat`.
const LEEWAY: Duration = Duration::seconds(60);

/// At most this many `jwks_uri`s have their keys cached; past it the cache starts over.
const MAX_CACHED_JWKS_URIS: usize = 1024;

/// The MAC algorithms of `client_secret_jwt` (RFC 7518 §3.2).
const HMAC_ALGORITHMS: [&str; 3] = ["HS256", "HS384", "HS512"];

/// Builds a [`FetchJwks`] for one client's `jwks_uri`.
type MakeFetcher = dyn Fn(&str) -> Result<Box<dyn FetchJwks>, BoxError> + Send + Sync;

/// What the provider needs to check client assertions.
pub(crate) struct AssertionSettings {
    replay: Option<Arc<dyn ReplayStore>>,
    sealing_key: Option<SecretSealingKey>,
    jwks_uris: Option<JwksUriCache>,
    max_lifetime: Duration,
}

impl Default for AssertionSettings {
    fn default() -> Self {
        AssertionSettings {
            replay: None,
            sealing_key: None,
            jwks_uris: None,
            max_lifetime: DEFAULT_MAX_ASSERTION_LIFETIME,
        }
    }
}

impl AssertionSettings {
    /// Checks the settings at `build()`.
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        if self.max_lifetime < Duration::minutes(1) || self.max_lifetime > Duration::hours(1) {
            return Err(ConfigError::Lifetime {
                setting: "client_assertion_max_lifetime",
                min: 60,
                max: 3600,
            });
        }
        Ok(())
    }

    /// Whether `private_key_jwt` is offered: a replay store is set.
    pub(crate) fn private_key_jwt(&self) -> bool {
        self.replay.is_some()
    }

    /// Whether `client_secret_jwt` is offered: a replay store and a sealing key are set.
    pub(crate) fn client_secret_jwt(&self) -> bool {
        self.replay.is_some() && self.sealing_key.is_some()
    }
}

/// The keys of each `jwks_uri` seen, each behind a [`CachedJwks`].
struct JwksUriCache {
    make: Arc<MakeFetcher>,
    sources: Mutex<HashMap<String, Arc<CachedJwks<DynFetch>>>>,
}

impl JwksUriCache {
    /// The cached source for `uri`, made on first use.
    fn source(&self, uri: &str) -> Result<Arc<CachedJwks<DynFetch>>, BoxError> {
        let mut sources = self.sources.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(source) = sources.get(uri) {
            return Ok(source.clone());
        }
        let source = Arc::new(CachedJwks::new(DynFetch((self.make)(uri)?)));
        if sources.len() >= MAX_CACHED_JWKS_URIS {
            sources.clear();
        }
        sources.insert(uri.to_owned(), source.clone());
        Ok(source)
    }
}

/// A boxed fetcher, so [`CachedJwks`] can hold any.
struct DynFetch(Box<dyn FetchJwks>);

#[async_trait]
impl FetchJwks for DynFetch {
    async fn fetch(&self) -> Result<Value, BoxError> {
        self.0.fetch().await
    }
}

/// Why [`Provider::seal_client_secret`] did not seal.
///
/// ```
/// use portcullis_endpoints::SealClientSecretError;
/// assert_eq!(
///     SealClientSecretError::NoSealingKey.to_string(),
///     "no secret sealing key is configured",
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealClientSecretError {
    /// The provider has no [`ProviderBuilder::secret_sealing_key`].
    #[error("no secret sealing key is configured")]
    NoSealingKey,
    /// Only `client_secret_jwt` clients get a sealed copy of their secret.
    #[error("the client does not use client_secret_jwt")]
    NotClientSecretJwt,
    /// The secret is not the client's current secret.
    #[error("the secret does not match the client's secret")]
    WrongSecret,
    /// Sealing failed.
    #[error("sealing failed")]
    Seal(#[from] SealError),
}

impl ProviderBuilder {
    /// Enables client authentication with JWTs, remembering each assertion's `jti` in
    /// `store` until the assertion expires so it is accepted once (RFC 7523 §3 item 7):
    /// `private_key_jwt` always, `client_secret_jwt` with a
    /// [`secret_sealing_key`](ProviderBuilder::secret_sealing_key) too. Discovery then
    /// lists them in `token_endpoint_auth_methods_supported` (and for revocation and
    /// introspection), with `token_endpoint_auth_signing_alg_values_supported`.
    ///
    /// Default: none, and JWT client authentication is refused. Use the same shared store
    /// on every instance (the provider's own store implements [`ReplayStore`]).
    ///
    /// An assertion must have `iss` and `sub` equal to the client id, an `aud` containing
    /// the token endpoint URL, the issuer identifier or the pushed authorization request
    /// endpoint URL (RFC 7523 §3 item 3; RFC 9126 §2 and OpenID Connect Core §9 allow the
    /// issuer), an `exp` in the future and at most
    /// [`client_assertion_max_lifetime`](ProviderBuilder::client_assertion_max_lifetime)
    /// (10 minutes) away from now and from `iat`, `nbf` and `iat` not in the future and
    /// `iat` not older than that lifetime (60 s leeway on each), and a `jti`.
    ///
    /// ```
    /// use portcullis_endpoints::Provider;
    /// use portcullis_store::MemoryStore;
    /// use std::sync::Arc;
    ///
    /// let store = Arc::new(MemoryStore::new());
    /// let provider = Provider::builder("https://id.example", store.clone())
    ///     .client_assertion_replay_store(store)
    ///     .build()?;
    /// # Ok::<(), portcullis_endpoints::ConfigError>(())
    /// ```
    pub fn client_assertion_replay_store(mut self, store: Arc<dyn ReplayStore>) -> Self {
        self.assertions.replay = Some(store);
        self
    }

    /// The longest a client assertion may be valid: one whose `exp` lies further than this
    /// from now or from its `iat` is refused. Default 10 minutes; between 1 minute and 1
    /// hour. Used `jti`s are remembered this long at most.
    ///
    /// ```
    /// use portcullis_endpoints::{ConfigError, Provider};
    /// use portcullis_store::MemoryStore;
    /// use std::sync::Arc;
    ///
    /// let err = Provider::builder("https://id.example", Arc::new(MemoryStore::new()))
    ///     .client_assertion_max_lifetime(time::Duration::hours(2))
    ///     .build()
    ///     .unwrap_err();
    /// assert!(matches!(err, ConfigError::Lifetime { .. }));
    /// ```
    pub fn client_assertion_max_lifetime(mut self, lifetime: Duration) -> Self {
        self.assertions.max_lifetime = lifetime;
        self
    }

    /// The key that seals the secrets of `client_secret_jwt` clients
    /// ([`Provider::seal_client_secret`]). Keep it outside the store, the same on every
    /// instance. Default: none, and `client_secret_jwt` is not offered.
    ///
    /// ```
    /// use portcullis_endpoints::Provider;
    /// use portcullis_store::MemoryStore;
    /// use portcullis_tokens::SecretSealingKey;
    /// use std::sync::Arc;
    ///
    /// let store = Arc::new(MemoryStore::new());
    /// let provider = Provider::builder("https://id.example", store.clone())
    ///     .client_assertion_replay_store(store)
    ///     .secret_sealing_key(SecretSealingKey::generate()?)
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn secret_sealing_key(mut self, key: SecretSealingKey) -> Self {
        self.assertions.sealing_key = Some(key);
        self
    }

    /// How to fetch the JWK Set at a `private_key_jwt` client's registered `jwks_uri`:
    /// `make` builds a fetcher for a URI (with `portcullis-resource`, `HttpJwksFetcher::new`
    /// does: https, or http on loopback only, a timeout, no redirects, a size bound). Each
    /// URI's keys are cached as [`CachedJwks`] caches them (refetched after an hour, or
    /// sooner for an unknown `kid`, at most once a minute). Default: none, and clients
    /// registered with a `jwks_uri` (rather than `jwks`) cannot authenticate.
    ///
    /// ```
    /// use async_trait::async_trait;
    /// use portcullis_endpoints::Provider;
    /// use portcullis_grants::{BoxError, FetchJwks};
    /// use portcullis_store::MemoryStore;
    /// use std::sync::Arc;
    ///
    /// struct Fetch(String);
    ///
    /// #[async_trait]
    /// impl FetchJwks for Fetch {
    ///     async fn fetch(&self) -> Result<serde_json::Value, BoxError> {
    ///         Err(format!("no HTTP client in this example for {}", self.0).into())
    ///     }
    /// }
    ///
    /// let store = Arc::new(MemoryStore::new());
    /// let provider = Provider::builder("https://id.example", store.clone())
    ///     .client_assertion_replay_store(store)
    ///     .client_jwks_fetcher(|uri: &str| Ok(Fetch(uri.to_owned())))
    ///     .build()?;
    /// # Ok::<(), portcullis_endpoints::ConfigError>(())
    /// ```
    pub fn client_jwks_fetcher<F, M>(mut self, make: M) -> Self
    where
        F: FetchJwks,
        M: Fn(&str) -> Result<F, BoxError> + Send + Sync + 'static,
    {
        let make: Arc<MakeFetcher> = Arc::new(move |uri: &str| {
            make(uri).map(|fetcher| Box::new(fetcher) as Box<dyn FetchJwks>)
        });
        self.assertions.jwks_uris = Some(JwksUriCache {
            make,
            sources: Mutex::new(HashMap::new()),
        });
        self
    }
}

impl Provider {
    /// Keeps a sealed copy of `secret` in `client.sealed_secret`, so the client can
    /// authenticate with `client_secret_jwt` (OpenID Connect Core §9): call it when the
    /// client is created or its secret rotated, before storing the client. The copy is
    /// bound to the client id: copied onto another client it does not open.
    ///
    /// ```
    /// use portcullis_endpoints::Provider;
    /// use portcullis_registry::{ClientKind, NewClient, ScopeCatalog, TokenEndpointAuthMethod};
    /// use portcullis_store::MemoryStore;
    /// use portcullis_tokens::SecretSealingKey;
    /// use std::sync::Arc;
    ///
    /// let store = Arc::new(MemoryStore::new());
    /// let provider = Provider::builder("https://id.example", store.clone())
    ///     .client_assertion_replay_store(store)
    ///     .secret_sealing_key(SecretSealingKey::generate()?)
    ///     .build()?;
    /// let issued = NewClient::new("Reports", ClientKind::Machine)
    ///     .auth_method(TokenEndpointAuthMethod::ClientSecretJwt)
    ///     .build(&ScopeCatalog::with_oidc_scopes())?;
    /// let mut client = issued.client;
    /// let secret = issued.secret.expect("client_secret_jwt clients get a secret");
    /// provider.seal_client_secret(&mut client, &secret)?;
    /// assert!(client.sealed_secret.is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`SealClientSecretError`]: no sealing key, a client that does not use
    /// `client_secret_jwt`, a secret that is not the client's, or a sealing failure.
    pub fn seal_client_secret(
        &self,
        client: &mut Client,
        secret: &ClientSecret,
    ) -> Result<(), SealClientSecretError> {
        let key = self
            .0
            .assertions
            .sealing_key
            .as_ref()
            .ok_or(SealClientSecretError::NoSealingKey)?;
        if client.auth_method != TokenEndpointAuthMethod::ClientSecretJwt {
            return Err(SealClientSecretError::NotClientSecretJwt);
        }
        if !client.verify_secret(secret.expose_secret()) {
            return Err(SealClientSecretError::WrongSecret);
        }
        let sealed = key.seal(
            secret.expose_secret().as_bytes(),
            &sealing_context(&client.id),
        )?;
        client.sealed_secret = Some(sealed);
        Ok(())
    }

    /// The client authentication methods the token endpoint accepts, for discovery's
    /// `token_endpoint_auth_methods_supported`; `none` (public clients) only when
    /// `public` is set.
    pub(crate) fn client_auth_methods(&self, public: bool) -> Vec<String> {
        let settings = &self.0.assertions;
        let mut methods = vec!["client_secret_basic", "client_secret_post"];
        if settings.private_key_jwt() {
            methods.push("private_key_jwt");
        }
        if settings.client_secret_jwt() {
            methods.push("client_secret_jwt");
        }
        if public {
            methods.push("none");
        }
        methods.into_iter().map(str::to_owned).collect()
    }

    /// The JWS algorithms accepted in client assertions, for discovery's
    /// `token_endpoint_auth_signing_alg_values_supported` (RFC 8414 §2: present whenever a
    /// JWT method is listed, never `none`); empty when no JWT method is offered.
    pub(crate) fn client_assertion_algorithms(&self) -> Vec<String> {
        let settings = &self.0.assertions;
        let mut algorithms = Vec::new();
        if settings.private_key_jwt() {
            algorithms.extend(
                [
                    SigningAlgorithm::ES256,
                    SigningAlgorithm::EdDSA,
                    SigningAlgorithm::RS256,
                ]
                .map(|alg| alg.as_str().to_owned()),
            );
        }
        if settings.client_secret_jwt() {
            algorithms.extend(HMAC_ALGORITHMS.map(str::to_owned));
        }
        algorithms
    }

    /// The values `aud` may name the provider by: its issuer identifier, its token endpoint
    /// URL and its pushed authorization request endpoint URL (RFC 9126 §2: "the
    /// authorization server MUST accept" all three).
    fn assertion_audiences(&self) -> [String; 3] {
        let paths = self.paths();
        [
            self.issuer().to_owned(),
            endpoint_url(self.issuer(), &paths.token),
            endpoint_url(self.issuer(), &paths.pushed_authorization_request),
        ]
    }
}

/// The absolute URL of an endpoint at `path`, as discovery publishes it.
pub(crate) fn endpoint_url(issuer: &str, path: &str) -> String {
    if path.starts_with('/') {
        format!("{issuer}{path}")
    } else {
        format!("{issuer}/{path}")
    }
}

/// What a sealed client secret is bound to: the client id, under a label of its own.
fn sealing_context(client_id: &ClientId) -> Vec<u8> {
    format!("portcullis client_secret_jwt\u{0}{client_id}").into_bytes()
}

/// Authenticates a client by its `client_assertion` (already known to be of the JWT bearer
/// type). Every failure is the same `invalid_client`, without `WWW-Authenticate` (no HTTP
/// authentication scheme was tried), so the answer does not tell which check failed or
/// whether the client exists; the reason goes to the debug log.
pub(crate) async fn authenticate(
    provider: &Provider,
    body_id: Option<&str>,
    assertion: &str,
) -> Result<Client, OAuthError> {
    let fail = |reason: &str| {
        tracing::debug!("client assertion refused: {reason}");
        OAuthError::invalid_client(FAILED, None)
    };
    let settings = &provider.0.assertions;
    let Some(replay) = &settings.replay else {
        return Err(fail("JWT client authentication is not enabled"));
    };
    let header = Header::peek(assertion).ok_or_else(|| fail("not a compact JWS"))?;
    let unverified = peek_claims(assertion).ok_or_else(|| fail("malformed claims"))?;
    // RFC 7523 §3 item 2: for client authentication, `sub` is the client id; item 1:
    // `iss` too (OpenID Connect Core §9).
    let claimed = unverified
        .get("iss")
        .and_then(Value::as_str)
        .ok_or_else(|| fail("no iss"))?;
    if body_id.is_some_and(|id| id != claimed) {
        return Err(fail("client_id does not match iss"));
    }
    let client_id = ClientId::new(claimed).map_err(|_| fail("iss is not a client id"))?;
    let client = provider
        .store()
        .get_client(&client_id)
        .await
        .map_err(|err| OAuthError::store(&err))?
        .filter(|client| !client.revoked)
        .ok_or_else(|| fail("unknown or revoked client"))?;
    let now = provider.now();
    let claims = match client.auth_method {
        TokenEndpointAuthMethod::PrivateKeyJwt => {
            let keys = client_keys(provider, &client, header.kid.as_deref(), now)
                .await
                .map_err(|reason| fail(&reason))?;
            let expect = JwtExpectations::new(client.id.as_str(), now).with_leeway(LEEWAY);
            keys.verify::<Map<String, Value>>(assertion, &expect)
                .map_err(|err| fail(&err.to_string()))?
        }
        TokenEndpointAuthMethod::ClientSecretJwt => {
            let key = settings
                .sealing_key
                .as_ref()
                .ok_or_else(|| fail("no secret sealing key"))?;
            let sealed = client
                .sealed_secret
                .as_deref()
                .ok_or_else(|| fail("the client has no sealed secret"))?;
            let secret = key
                .open(sealed, &sealing_context(&client.id))
                .map_err(|_| fail("the sealed secret does not open"))?;
            verify_hmac(assertion, &header, &secret).ok_or_else(|| fail("bad MAC"))?
        }
        _ => return Err(fail("the client does not use a JWT method")),
    };
    let checked = check_claims(
        &claims,
        client.id.as_str(),
        &provider.assertion_audiences(),
        settings.max_lifetime,
        now,
    )
    .map_err(fail)?;
    // RFC 7523 §3 item 7: "The authorization server MAY ensure that JWTs are not replayed";
    // checked last, so a refused assertion does not burn its jti.
    let key = TokenHash::of(&format!("{}\u{0}{}", client.id, checked.jti));
    let first = replay
        .first_use(key, checked.exp + LEEWAY, now)
        .await
        .map_err(|err| OAuthError::store(&err))?;
    if !first {
        return Err(fail("jti replayed"));
    }
    Ok(client)
}

/// The verification keys of a `private_key_jwt` client: its registered `jwks`, or the
/// cached JWK Set at its `jwks_uri`.
async fn client_keys(
    provider: &Provider,
    client: &Client,
    kid: Option<&str>,
    now: OffsetDateTime,
) -> Result<Arc<PublicKeySet>, String> {
    if let Some(jwks) = &client.jwks {
        return PublicKeySet::from_jwks(jwks)
            .map(Arc::new)
            .map_err(|err| format!("registered jwks: {err}"));
    }
    let uri = client
        .jwks_uri
        .as_deref()
        .ok_or("the client has neither jwks nor jwks_uri")?;
    let cache = provider
        .0
        .assertions
        .jwks_uris
        .as_ref()
        .ok_or("no client JWKS fetcher configured for jwks_uri")?;
    let source = cache
        .source(uri)
        .map_err(|err| format!("jwks_uri fetcher: {err}"))?;
    source.keys(kid, now).await.map_err(|err| {
        tracing::warn!(client_id = %client.id, "the client's jwks_uri cannot be fetched: {err}");
        format!("jwks_uri: {err}")
    })
}

/// The JOSE header members looked at before verification. Derived deserialization refuses
/// a header that repeats one of them.
#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    crit: Option<IgnoredAny>,
}

impl Header {
    /// The header of a compact JWS (three parts), unverified.
    fn peek(token: &str) -> Option<Header> {
        let mut parts = token.split('.');
        let (Some(header), Some(_), Some(_), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        decode_json(header)
    }
}

/// The claims of a compact JWS, unverified: only to find the client.
fn peek_claims(token: &str) -> Option<Map<String, Value>> {
    decode_json(token.split('.').nth(1)?)
}

fn decode_json<T: serde::de::DeserializeOwned>(part: &str) -> Option<T> {
    let json = URL_SAFE_NO_PAD.decode(part).ok()?;
    serde_json::from_slice(&json).ok()
}

/// Verifies a `client_secret_jwt` assertion's MAC (RFC 7515 §5.2, RFC 7518 §3.2) in
/// constant time and returns its claims. Only HS256, HS384 and HS512: `none` and every
/// asymmetric algorithm are refused, so a public key can never serve as a MAC key.
fn verify_hmac(token: &str, header: &Header, secret: &[u8]) -> Option<Map<String, Value>> {
    let algorithm = match header.alg.as_str() {
        "HS256" => hmac::HMAC_SHA256,
        "HS384" => hmac::HMAC_SHA384,
        "HS512" => hmac::HMAC_SHA512,
        _ => return None,
    };
    // RFC 7515 §4.1.11: no extension is understood, so any `crit` is refused.
    if header.crit.is_some() {
        return None;
    }
    let (signing_input, signature) = token.rsplit_once('.')?;
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    let key = hmac::Key::new(algorithm, secret);
    hmac::verify(&key, signing_input.as_bytes(), &signature).ok()?;
    peek_claims(token)
}

/// What the claims checks keep.
#[derive(Debug, PartialEq, Eq)]
struct Checked {
    jti: String,
    exp: OffsetDateTime,
}

/// RFC 7523 §3 on verified claims, for client `client_id` at time `now`.
fn check_claims(
    claims: &Map<String, Value>,
    client_id: &str,
    audiences: &[String],
    max_lifetime: Duration,
    now: OffsetDateTime,
) -> Result<Checked, &'static str> {
    let string = |name: &str| claims.get(name).and_then(Value::as_str);
    // Item 1: `iss` is the client id (OpenID Connect Core §9).
    if string("iss") != Some(client_id) {
        return Err("iss is not the client id");
    }
    // Item 2: "For client authentication, the subject MUST be the client_id".
    if string("sub") != Some(client_id) {
        return Err("sub is not the client id");
    }
    // Item 3: `aud` names this authorization server.
    let names_us = |aud: &str| audiences.iter().any(|accepted| accepted == aud);
    let aud_ok = match claims.get("aud") {
        Some(Value::String(aud)) => names_us(aud),
        Some(Value::Array(auds)) => auds.iter().filter_map(Value::as_str).any(names_us),
        _ => false,
    };
    if !aud_ok {
        return Err("aud does not name this authorization server");
    }
    // Item 4: `exp` is required and in the future; and not too far in it.
    let exp = numeric_date(claims, "exp")?.ok_or("no exp")?;
    if exp <= now - LEEWAY {
        return Err("expired");
    }
    if exp > now + max_lifetime + LEEWAY {
        return Err("exp is too far in the future");
    }
    // Item 5: `nbf`, when present, has passed.
    if numeric_date(claims, "nbf")?.is_some_and(|nbf| nbf > now + LEEWAY) {
        return Err("not yet valid");
    }
    // Item 6: `iat`, when present, is neither in the future nor unreasonably old.
    if let Some(iat) = numeric_date(claims, "iat")? {
        if iat > now + LEEWAY {
            return Err("iat is in the future");
        }
        if iat < now - max_lifetime - LEEWAY {
            return Err("iat is too old");
        }
        if exp - iat > max_lifetime + LEEWAY {
            return Err("the lifetime from iat to exp is too long");
        }
    }
    // Item 7: `jti`, required here so replays can be refused.
    let jti = string("jti")
        .filter(|jti| !jti.is_empty())
        .ok_or("no jti")?;
    Ok(Checked {
        jti: jti.to_owned(),
        exp,
    })
}

/// A NumericDate claim (RFC 7519 §2), `None` when absent; an error when not a number.
fn numeric_date(
    claims: &Map<String, Value>,
    name: &str,
) -> Result<Option<OffsetDateTime>, &'static str> {
    let Some(value) = claims.get(name) else {
        return Ok(None);
    };
    #[allow(clippy::cast_possible_truncation)] // bounded before the cast
    let seconds = value.as_i64().or_else(|| {
        value
            .as_f64()
            .filter(|s| s.is_finite() && s.abs() < 1e15)
            .map(|s| s as i64)
    });
    seconds
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .map(Some)
        .ok_or("a time claim is not a NumericDate")
}

impl fmt::Debug for AssertionSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AssertionSettings")
            .field("replay", &self.replay.is_some())
            .field("sealing_key", &self.sealing_key.is_some())
            .field("jwks_uris", &self.jwks_uris.is_some())
            .field("max_lifetime", &self.max_lifetime)
            .finish()
    }
}
