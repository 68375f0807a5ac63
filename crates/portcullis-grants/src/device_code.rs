//! Device authorization grant: RFC 8628 — the device authorization request (§3.1–3.2),
//! user codes (§6.1), and the token request with its polling errors (§3.4–3.5).
//!
//! A device with no browser (or no keyboard) asks for a [device authorization](DeviceFlow::authorize),
//! shows the user a short [`UserCode`] and a verification URI, and polls the token
//! endpoint with its device code while the user signs in and approves or denies on another
//! screen ([`DeviceFlow::decide`]). Device codes are opaque `pc_dc_` tokens (256 bits) and
//! user codes are 8 letters; the store keeps only the SHA-256 of each.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_registry::{Client, GrantType, OPENID_SCOPE, ScopeCatalog, ScopeSet};
use portcullis_store::{
    DeviceAuthorization, DeviceAuthorizationStore, DevicePoll, DeviceStatus, FamilyId, StoreError,
};
use portcullis_tokens::{RawToken, Subject, TokenError, TokenHash, TokenKind, mint};
use time::{Duration, OffsetDateTime};

use crate::Audience;
use crate::{
    Grant, GrantContext, GrantError, IdToken, Issuance, Minted, Params, TokenResponse,
    issues_refresh_token, mint_tokens,
};

/// The letters of a user code: RFC 8628 §6.1's example alphabet, consonants only (no
/// vowels, so no words; no `0`/`O`, `1`/`I` confusion), 20 letters.
pub const USER_CODE_ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";

/// Letters in a user code: 8, so 20^8 ≈ 2^34.5 codes, the length of RFC 8628 §6.1's
/// example; enough when wrong entries are rate limited (§5.1).
pub const USER_CODE_LENGTH: usize = 8;

/// The grant type URI (RFC 8628 §3.4).
pub const DEVICE_CODE_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// One answer for a device code that is malformed or another client's.
const INVALID_DEVICE_CODE: &str = "the device code is invalid";

/// A user code as the user types it, normalized: 8 letters of [`USER_CODE_ALPHABET`].
///
/// [`UserCode::parse`] accepts any case and ignores dashes and white space (RFC 8628 §6.1
/// recommends comparing codes case-insensitively and without their punctuation), so
/// `wdjb-mjht`, `WDJB MJHT` and `WDJBMJHT` are the same code. It is shown as `WDJB-MJHT`
/// ([`UserCode::formatted`]) and stored only as the SHA-256 of the normalized form
/// ([`UserCode::lookup_key`]). `Debug` is redacted.
///
/// ```
/// use portcullis_grants::UserCode;
/// let code = UserCode::parse(" wdjb-mjht ")?;
/// assert_eq!(code.formatted(), "WDJB-MJHT");
/// assert_eq!(code.lookup_key(), UserCode::parse("WDJBMJHT")?.lookup_key());
/// assert!(UserCode::parse("WDJB-MJH0").is_err()); // not in the alphabet
/// assert_eq!(format!("{code:?}"), "UserCode(<redacted>)");
/// # Ok::<(), portcullis_grants::MalformedUserCode>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct UserCode(String);

/// A user code that is not 8 letters of [`USER_CODE_ALPHABET`] (after normalization).
///
/// ```
/// assert_eq!(
///     portcullis_grants::UserCode::parse("123").unwrap_err().to_string(),
///     "a user code is 8 letters such as BCDF-GHJK"
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a user code is 8 letters such as BCDF-GHJK")]
pub struct MalformedUserCode;

impl UserCode {
    /// A new random user code from the operating system's generator (rejection sampling,
    /// so every letter is equally likely).
    ///
    /// # Errors
    ///
    /// [`TokenError`] when the generator fails.
    ///
    /// ```
    /// let code = portcullis_grants::UserCode::generate()?;
    /// assert_eq!(code.formatted().len(), 9);
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    pub fn generate() -> Result<UserCode, TokenError> {
        let mut letters = String::with_capacity(USER_CODE_LENGTH);
        // 32 random bytes per round; a byte is used when below 240 (= 12 × 20), so about 30
        // per round: one round almost always suffices.
        for _ in 0..8 {
            let token = mint(TokenKind::DeviceCode)?;
            let body = token
                .expose_secret()
                .strip_prefix(TokenKind::DeviceCode.prefix())
                .unwrap_or_default();
            let bytes = URL_SAFE_NO_PAD
                .decode(body)
                .map_err(|_| TokenError::Entropy("unexpected token shape".into()))?;
            for byte in bytes.into_iter().filter(|byte| *byte < 240) {
                let index = usize::from(byte) % USER_CODE_ALPHABET.len();
                if let Some(letter) = USER_CODE_ALPHABET.get(index) {
                    letters.push(char::from(*letter));
                }
                if letters.len() == USER_CODE_LENGTH {
                    return Ok(UserCode(letters));
                }
            }
        }
        Err(TokenError::Entropy(
            "the random generator kept returning unusable bytes".into(),
        ))
    }

    /// Reads a user code as typed: letters in any case; dashes and white space ignored.
    ///
    /// # Errors
    ///
    /// [`MalformedUserCode`] unless exactly 8 letters of [`USER_CODE_ALPHABET`] remain.
    pub fn parse(input: &str) -> Result<UserCode, MalformedUserCode> {
        if input.len() > 64 {
            return Err(MalformedUserCode);
        }
        let letters: String = input
            .chars()
            .filter(|c| *c != '-' && !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let valid = letters.len() == USER_CODE_LENGTH
            && letters
                .bytes()
                .all(|letter| USER_CODE_ALPHABET.contains(&letter));
        if valid {
            Ok(UserCode(letters))
        } else {
            Err(MalformedUserCode)
        }
    }

    /// The code as shown to users: `XXXX-XXXX`.
    ///
    /// # Security
    ///
    /// The user code is a short-lived credential: show it to the user, never log it.
    pub fn formatted(&self) -> String {
        let (first, second) = self.0.split_at(USER_CODE_LENGTH / 2);
        format!("{first}-{second}")
    }

    /// The key the store keeps it under: the SHA-256 of the normalized code.
    pub fn lookup_key(&self) -> TokenHash {
        TokenHash::of(&self.0)
    }
}

impl fmt::Debug for UserCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UserCode(<redacted>)")
    }
}

/// The device flow's settings and store: what the device authorization endpoint, the
/// verification page and [`DeviceCodeGrant`] share.
///
/// ```
/// use portcullis_grants::DeviceFlow;
/// use portcullis_store::MemoryStore;
/// use std::sync::Arc;
///
/// let flow = DeviceFlow::new(Arc::new(MemoryStore::new()));
/// assert_eq!(flow.lifetime(), time::Duration::minutes(10));
/// assert_eq!(flow.interval_secs(), 5);
/// ```
#[derive(Clone)]
pub struct DeviceFlow {
    store: Arc<dyn DeviceAuthorizationStore>,
    lifetime: Duration,
    interval_secs: u32,
}

impl fmt::Debug for DeviceFlow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceFlow")
            .field("lifetime", &self.lifetime)
            .field("interval_secs", &self.interval_secs)
            .finish_non_exhaustive()
    }
}

/// A device authorization just issued (RFC 8628 §3.2), before serialization.
#[derive(Debug)]
#[non_exhaustive]
pub struct DeviceAuthorizationIssued {
    /// `device_code`: the device's secret for polling.
    pub device_code: RawToken,
    /// `user_code`: what the user enters on the verification page.
    pub user_code: UserCode,
    /// `expires_in`: seconds until both codes expire.
    pub expires_in: u32,
    /// `interval`: the minimum seconds between polls.
    pub interval: u32,
    /// The scopes requested (validated).
    pub scopes: ScopeSet,
}

impl DeviceFlow {
    /// Default lifetime of a device authorization: 10 minutes.
    pub const DEFAULT_LIFETIME: Duration = Duration::minutes(10);

    /// Default polling interval: 5 seconds (RFC 8628 §3.2: "If no value is provided,
    /// clients MUST use 5 as the default").
    pub const DEFAULT_INTERVAL_SECS: u32 = 5;

    /// The flow over `store`, with the default lifetime and interval.
    pub fn new(store: Arc<dyn DeviceAuthorizationStore>) -> DeviceFlow {
        DeviceFlow {
            store,
            lifetime: Self::DEFAULT_LIFETIME,
            interval_secs: Self::DEFAULT_INTERVAL_SECS,
        }
    }

    /// Sets how long a device authorization lives (`expires_in`).
    #[must_use]
    pub fn with_lifetime(mut self, lifetime: Duration) -> DeviceFlow {
        self.lifetime = lifetime;
        self
    }

    /// Sets the polling interval (`interval`).
    #[must_use]
    pub fn with_interval_secs(mut self, interval_secs: u32) -> DeviceFlow {
        self.interval_secs = interval_secs;
        self
    }

    /// How long a device authorization lives.
    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// The polling interval in seconds.
    pub fn interval_secs(&self) -> u32 {
        self.interval_secs
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn DeviceAuthorizationStore> {
        &self.store
    }

    /// The token-endpoint grant over the same store.
    pub fn grant(&self) -> DeviceCodeGrant {
        DeviceCodeGrant {
            store: self.store.clone(),
        }
    }

    /// Answers a device authorization request (RFC 8628 §3.1) of an authenticated
    /// `client` with these `params`: checks that the client holds the device grant
    /// (`unauthorized_client`) and the `scope` (`invalid_scope`; when absent, every scope
    /// the client may request, which the user sees before approving), then stores a new
    /// request with fresh codes (a user code that collides with a live one is drawn again).
    ///
    /// # Errors
    ///
    /// [`GrantError`] as above, or a store or entropy failure.
    pub async fn authorize(
        &self,
        client: &Client,
        params: &Params,
        catalog: &ScopeCatalog,
        now: OffsetDateTime,
    ) -> Result<DeviceAuthorizationIssued, GrantError> {
        if !client.allows_grant(GrantType::DeviceCode) {
            return Err(GrantError::unauthorized_client(
                "this client is not allowed to use the device_code grant",
            ));
        }
        let scopes = match params.get("scope") {
            Some(raw) => {
                let requested = ScopeSet::parse(raw).map_err(|err| {
                    GrantError::invalid_scope(format!("scope is malformed: {err}"))
                })?;
                client
                    .allowed_scopes
                    .check(&requested, catalog)
                    .map_err(|err| GrantError::invalid_scope(err.to_string()))?;
                requested
            }
            None => client.allowed_scopes.resolve(catalog),
        };
        let lifetime_secs = u32::try_from(self.lifetime.whole_seconds()).unwrap_or(u32::MAX);
        let mut attempts = 0;
        loop {
            attempts += 1;
            let device_code = mint(TokenKind::DeviceCode)?;
            let user_code = UserCode::generate()?;
            let record = DeviceAuthorization {
                device_code: device_code.lookup_key(),
                user_code: user_code.lookup_key(),
                client_id: client.id.clone(),
                scopes: scopes.clone(),
                status: DeviceStatus::Pending,
                interval_secs: self.interval_secs,
                last_polled_at: None,
                created_at: now,
                expires_at: now + self.lifetime,
            };
            match self.store.insert_device(record).await {
                Ok(()) => {
                    return Ok(DeviceAuthorizationIssued {
                        device_code,
                        user_code,
                        expires_in: lifetime_secs,
                        interval: self.interval_secs,
                        scopes,
                    });
                }
                Err(StoreError::Conflict { .. }) if attempts < 3 => {}
                Err(err) => return Err(err.into()),
            }
        }
    }

    /// The live, still undecided device authorization with this user code, if any.
    ///
    /// # Errors
    ///
    /// The store's error.
    pub async fn pending(
        &self,
        user_code: &UserCode,
        now: OffsetDateTime,
    ) -> Result<Option<DeviceAuthorization>, StoreError> {
        Ok(self
            .store
            .device_by_user_code(&user_code.lookup_key(), now)
            .await?
            .filter(|device| device.status == DeviceStatus::Pending))
    }

    /// Records the user's decision on the live, still pending request with this user
    /// code: `Some((subject, auth_time))` approves every requested scope for that user,
    /// `None` denies. Answers whether it was recorded (the first decision wins).
    ///
    /// # Errors
    ///
    /// The store's error.
    pub async fn decide(
        &self,
        user_code: &UserCode,
        approved_by: Option<(&Subject, OffsetDateTime)>,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let key = user_code.lookup_key();
        let Some(device) = self.store.device_by_user_code(&key, now).await? else {
            return Ok(false);
        };
        let decision = match approved_by {
            Some((subject, auth_time)) => DeviceStatus::Approved {
                subject: subject.as_str().to_owned(),
                auth_time,
                scopes: device.scopes,
            },
            None => DeviceStatus::Denied,
        };
        self.store.decide_device(&key, decision, now).await
    }
}

/// The `urn:ietf:params:oauth:grant-type:device_code` grant (RFC 8628 §3.4–3.5).
///
/// - The client must be registered for the grant (`unauthorized_client`); `device_code`
///   is required (`invalid_request`) and must be a `pc_dc_` code (`invalid_grant`).
/// - While the user has not decided: `authorization_pending`, or `slow_down` when the
///   device polled before its interval had passed (the interval then grows by 5 seconds,
///   and the description says the new value).
/// - Denied: `access_denied`. Unknown, expired, or already answered: `expired_token`.
/// - Approved: tokens, once — an access token, a refresh token when [`issues_refresh_token`]
///   says so, and an ID token when `openid` was granted (with `auth_time` when the provider
///   always includes it). The approval is used up by this poll whichever client made it:
///   a device code presented by another client (it leaked) answers `invalid_grant` and
///   issues nothing to anyone.
///
/// ```
/// use portcullis_grants::{DeviceFlow, Grant};
/// use portcullis_store::MemoryStore;
/// use std::sync::Arc;
///
/// let grant = DeviceFlow::new(Arc::new(MemoryStore::new())).grant();
/// assert_eq!(grant.grant_type(), "urn:ietf:params:oauth:grant-type:device_code");
/// ```
#[derive(Clone)]
pub struct DeviceCodeGrant {
    store: Arc<dyn DeviceAuthorizationStore>,
}

impl fmt::Debug for DeviceCodeGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceCodeGrant").finish_non_exhaustive()
    }
}

/// An RFC 8628 §3.5 error.
fn device_error(code: &'static str, description: impl Into<String>) -> GrantError {
    GrantError::Extension {
        code,
        description: description.into().into(),
    }
}

#[async_trait]
impl Grant for DeviceCodeGrant {
    fn grant_type(&self) -> &str {
        DEVICE_CODE_GRANT_TYPE
    }

    async fn exchange(&self, cx: &GrantContext<'_>) -> Result<TokenResponse, GrantError> {
        cx.require_grant(GrantType::DeviceCode)?;
        let audience = Audience::requested(cx.resources()?);
        let presented = cx.required("device_code")?;
        let key = RawToken::parse(presented, TokenKind::DeviceCode)
            .map_err(|_| GrantError::invalid_grant(INVALID_DEVICE_CODE))?
            .lookup_key();
        let device = match self.store.poll_device(&key, cx.now).await? {
            DevicePoll::Pending => {
                return Err(device_error(
                    "authorization_pending",
                    "the user has not yet approved or denied the request",
                ));
            }
            DevicePoll::SlowDown { interval_secs } => {
                return Err(device_error(
                    "slow_down",
                    format!(
                        "polling too fast: wait at least {interval_secs} seconds between requests"
                    ),
                ));
            }
            DevicePoll::Gone => {
                return Err(device_error(
                    "expired_token",
                    "the device code has expired or was already used; start a new device authorization",
                ));
            }
            DevicePoll::Denied(device) => {
                if device.client_id != cx.client.id {
                    return Err(GrantError::invalid_grant(INVALID_DEVICE_CODE));
                }
                return Err(device_error("access_denied", "the user denied the request"));
            }
            DevicePoll::Approved(device) => device,
        };
        if device.client_id != cx.client.id {
            return Err(GrantError::invalid_grant(INVALID_DEVICE_CODE));
        }
        let DeviceStatus::Approved {
            subject,
            auth_time,
            scopes,
        } = device.status
        else {
            return Err(GrantError::invalid_grant(INVALID_DEVICE_CODE));
        };
        let subject =
            Subject::new(subject).map_err(|_| GrantError::invalid_grant(INVALID_DEVICE_CODE))?;
        let openid = scopes.contains(OPENID_SCOPE);
        let refresh_scopes = issues_refresh_token(cx.client, &scopes).then(|| scopes.clone());
        let Minted {
            mut response,
            records,
        } = mint_tokens(Issuance {
            client: cx.client,
            subject: Some(subject.clone()),
            scopes,
            family: FamilyId::generate()?,
            now: cx.now,
            refresh_scopes,
            auth_time: Some(auth_time),
            signing: cx.signing(),
            audience,
            confirmation: cx.dpop_jkt.clone(),
        })?;
        if openid {
            let id_token = IdToken::new(
                cx.subject_for_client(&subject)?,
                cx.client.id.clone(),
                cx.now,
            )
            .auth_time(
                cx.settings
                    .auth_time_in_id_token(false)
                    .then_some(auth_time),
            )
            .access_token(response.access_token.expose_secret())
            .sign(cx.settings, cx.keys)?;
            response.set_id_token(id_token);
        }
        cx.store.insert_tokens(records).await?;
        Ok(response)
    }
}

#[cfg(test)]
mod tests;
