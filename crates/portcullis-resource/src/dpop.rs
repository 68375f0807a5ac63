//! DPoP at the resource server (RFC 9449 §7): a DPoP-bound access token is accepted only
//! as `Authorization: DPoP <token>` with a `DPoP` proof of its key for this very request.
//!
//! The proof's `htu` is compared with the request's URL: the request URI when it is
//! absolute, otherwise [`DpopPolicy::base_url`] followed by the path, otherwise
//! `http://<Host header><path>`. A resource server behind TLS or a proxy sets the base URL.

use std::fmt;
use std::sync::Arc;

use http::header::HOST;
use http::{HeaderMap, Method, Uri};
use portcullis_grants::{Clock, SystemClock};
use portcullis_store::ReplayStore;
use portcullis_tokens::{DpopAlgorithm, DpopExpectations, DpopProof};
use time::Duration;

use crate::{AccessToken, BearerError};

/// The `DPoP` request header (RFC 9449 §4.1).
const DPOP_HEADER: &str = "dpop";

/// How a [`Resource`](crate::Resource) checks DPoP proofs: accepted algorithms, the `iat`
/// window, the public base URL, the clock, and where used proofs are remembered.
///
/// The default accepts every [`DpopAlgorithm`], `iat` from 60 s ago to 5 s ahead, takes the
/// URL from the request, uses the system clock, and remembers nothing: without
/// [`replay_store`](DpopPolicy::replay_store) a captured proof can be replayed with its
/// token within the window (RFC 9449 §11.1).
///
/// ```
/// use portcullis_resource::{DpopPolicy, Resource, StoreValidator};
/// use portcullis_store::MemoryStore;
/// use std::sync::Arc;
///
/// let store = Arc::new(MemoryStore::new());
/// let resource = Resource::new(StoreValidator::new(store.clone()))
///     .dpop(DpopPolicy::default().replay_store(store).base_url("https://api.example"));
/// # let _ = resource;
/// ```
#[derive(Clone)]
#[must_use]
pub struct DpopPolicy {
    replay: Option<Arc<dyn ReplayStore>>,
    algorithms: Vec<DpopAlgorithm>,
    max_age: Duration,
    future_leeway: Duration,
    base_url: Option<String>,
    clock: Arc<dyn Clock>,
}

impl Default for DpopPolicy {
    fn default() -> Self {
        DpopPolicy {
            replay: None,
            algorithms: DpopAlgorithm::ALL.to_vec(),
            max_age: DpopExpectations::DEFAULT_MAX_AGE,
            future_leeway: DpopExpectations::DEFAULT_FUTURE_LEEWAY,
            base_url: None,
            clock: Arc::new(SystemClock),
        }
    }
}

impl fmt::Debug for DpopPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopPolicy")
            .field("replay_store", &self.replay.is_some())
            .field("algorithms", &self.algorithms)
            .field("max_age", &self.max_age)
            .field("future_leeway", &self.future_leeway)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl DpopPolicy {
    /// Remember each accepted proof in `store` until it is too old anyway, and refuse it
    /// when presented again (RFC 9449 §11.1).
    ///
    /// ```
    /// use portcullis_resource::DpopPolicy;
    /// let policy = DpopPolicy::default().replay_store(std::sync::Arc::new(portcullis_store::MemoryStore::new()));
    /// assert!(format!("{policy:?}").contains("replay_store: true"));
    /// ```
    pub fn replay_store(mut self, store: Arc<dyn ReplayStore>) -> Self {
        self.replay = Some(store);
        self
    }

    /// Accept only these `alg` values.
    ///
    /// ```
    /// use portcullis_resource::DpopPolicy;
    /// let policy = DpopPolicy::default().algorithms([portcullis_tokens::DpopAlgorithm::ES256]);
    /// assert!(format!("{policy:?}").contains("[ES256]"));
    /// ```
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = DpopAlgorithm>) -> Self {
        self.algorithms = algorithms.into_iter().collect();
        self
    }

    /// Accept `iat` from `max_age` ago to `future_leeway` ahead.
    ///
    /// ```
    /// use portcullis_resource::DpopPolicy;
    /// use time::Duration;
    /// let policy = DpopPolicy::default().iat_window(Duration::seconds(30), Duration::ZERO);
    /// assert!(format!("{policy:?}").contains(&format!("max_age: {:?}", Duration::seconds(30))));
    /// ```
    pub fn iat_window(mut self, max_age: Duration, future_leeway: Duration) -> Self {
        self.max_age = max_age;
        self.future_leeway = future_leeway;
        self
    }

    /// The scheme and authority clients reach this resource server at, such as
    /// `https://api.example` (no trailing slash needed): the `htu` of proofs is this plus
    /// the request path.
    ///
    /// ```
    /// use portcullis_resource::DpopPolicy;
    /// let policy = DpopPolicy::default().base_url("https://api.example/");
    /// let uri: http::Uri = "/orders".parse().expect("uri");
    /// assert_eq!(policy.request_url(&uri, &http::HeaderMap::new()).as_deref(), Some("https://api.example/orders"));
    /// ```
    pub fn base_url(mut self, base: impl Into<String>) -> Self {
        let base: String = base.into();
        self.base_url = Some(base.trim_end_matches('/').to_owned());
        self
    }

    /// The time source for the `iat` window. Default: the system clock.
    ///
    /// ```
    /// use portcullis_resource::DpopPolicy;
    /// let policy = DpopPolicy::default().clock(portcullis_grants::ManualClock::starting_now());
    /// # let _ = policy;
    /// ```
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The accepted algorithms, space-separated, for a challenge's `algs`.
    pub(crate) fn algs(&self) -> String {
        let names: Vec<&str> = self.algorithms.iter().map(|alg| alg.as_str()).collect();
        names.join(" ")
    }

    /// A DPoP refusal with this policy's `algs`.
    pub(crate) fn refuse(&self, code: &'static str, description: impl Into<String>) -> BearerError {
        BearerError::Dpop {
            code,
            description: description.into().into(),
            algs: self.algs(),
        }
    }

    /// The absolute URL of a request for `uri` with `headers`, without query.
    ///
    /// ```
    /// use portcullis_resource::DpopPolicy;
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert("host", "api.example:8080".parse().expect("host"));
    /// let uri: http::Uri = "/me?x=1".parse().expect("uri");
    /// assert_eq!(DpopPolicy::default().request_url(&uri, &headers).as_deref(), Some("http://api.example:8080/me"));
    /// let behind_tls = DpopPolicy::default().base_url("https://api.example/");
    /// assert_eq!(behind_tls.request_url(&uri, &headers).as_deref(), Some("https://api.example/me"));
    /// ```
    pub fn request_url(&self, uri: &Uri, headers: &HeaderMap) -> Option<String> {
        let path = uri.path();
        if let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) {
            return Some(format!("{scheme}://{authority}{path}"));
        }
        if let Some(base) = &self.base_url {
            return Some(format!("{base}{path}"));
        }
        let host = headers.get(HOST)?.to_str().ok()?;
        // Only a plausible authority: no userinfo, path, or whitespace smuggled in.
        let plausible = !host.is_empty()
            && host.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')
            });
        plausible.then(|| format!("http://{host}{path}"))
    }

    /// Checks the DPoP side of a request (RFC 9449 §7) whose token, presented with the DPoP
    /// scheme (`dpop`) or as a bearer token, validated as `token`.
    pub(crate) async fn check(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        presented: &str,
        dpop: bool,
        token: &AccessToken,
    ) -> Result<(), BearerError> {
        let Some(jkt) = token.confirmation.as_deref() else {
            return if dpop {
                Err(self.refuse("invalid_token", "the access token is not DPoP-bound"))
            } else {
                Ok(())
            };
        };
        if !dpop {
            // §7.2: a bound token presented as a bearer token is refused.
            return Err(self.refuse(
                "invalid_token",
                "the access token is DPoP-bound: send it with the DPoP scheme and a proof",
            ));
        }
        let mut proofs = headers.get_all(DPOP_HEADER).iter();
        let proof = match (proofs.next(), proofs.next()) {
            (None, _) => return Err(self.refuse("invalid_dpop_proof", "a DPoP proof is required")),
            (Some(_), Some(_)) => {
                return Err(self.refuse("invalid_dpop_proof", "more than one DPoP header"));
            }
            (Some(proof), None) => proof
                .to_str()
                .map_err(|_| self.refuse("invalid_dpop_proof", "the DPoP header is not text"))?,
        };
        let url = self.request_url(uri, headers).ok_or_else(|| {
            self.refuse("invalid_dpop_proof", "the request URL cannot be determined")
        })?;
        let now = self.clock.now();
        let expect = DpopExpectations::new(method.as_str(), url, now)
            .with_algorithms(self.algorithms.iter().copied())
            .with_iat_window(self.max_age, self.future_leeway)
            .with_access_token(presented)
            .with_bound_key(jkt);
        let verified = DpopProof::verify(proof, &expect).map_err(|err| {
            tracing::debug!(clause = err.clause(), "DPoP proof refused: {err}");
            self.refuse("invalid_dpop_proof", err.to_string())
        })?;
        if let Some(replay) = &self.replay {
            let fresh = replay
                .first_use(verified.replay_key(), verified.replay_expires_at(), now)
                .await
                .map_err(|err| {
                    tracing::error!("DPoP replay check failed: storage: {err}");
                    BearerError::Unavailable(err.to_string())
                })?;
            if !fresh {
                return Err(self.refuse("invalid_dpop_proof", "the DPoP proof was already used"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
