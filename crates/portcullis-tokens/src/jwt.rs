//! JWT validation: RFC 7519 §7.2 for JWS compact serialization (RFC 7515 §5.2), with the
//! algorithm pinned by the key (RFC 8725 §3.1) and the claim checks of RFC 7519 §4.1 done
//! against an injected clock.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::{Map, Value};
use time::{Duration, OffsetDateTime};

use crate::{PublicKey, SigningAlgorithm, TokenError};

/// What a JWT must satisfy besides a valid signature by a known key.
///
/// - `iss` must equal [`issuer`](JwtExpectations::issuer) exactly (RFC 7519 §4.1.1; OpenID
///   Connect Core §3.1.3.7 step 2).
/// - `aud`, a string or an array, must contain [`audience`](JwtExpectations::audience) when
///   one is given (RFC 7519 §4.1.3).
/// - `exp` is required and must be after `now - leeway` (RFC 7519 §4.1.4).
/// - `nbf` and `iat`, when present, must not be after `now + leeway` (RFC 7519 §4.1.5, §4.1.6).
/// - the header `typ`, when [`typ`](JwtExpectations::typ) is given, must match it ignoring
///   ASCII case and an `application/` prefix (RFC 7515 §4.1.9; RFC 9068 §4 asks resource
///   servers to require `at+jwt`).
///
/// The clock is whatever `now` says, so tests and injected clocks work.
///
/// ```
/// use portcullis_tokens::JwtExpectations;
/// use time::{Duration, OffsetDateTime};
///
/// let expect = JwtExpectations::new("https://issuer.example", OffsetDateTime::now_utc())
///     .with_audience("https://api.example")
///     .with_typ("at+jwt")
///     .with_leeway(Duration::seconds(30));
/// assert_eq!(expect.audience.as_deref(), Some("https://api.example"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct JwtExpectations {
    /// The exact `iss` value required.
    pub issuer: String,
    /// A value `aud` must contain; `None` skips the audience check.
    pub audience: Option<String>,
    /// The current time, from the caller's clock.
    pub now: OffsetDateTime,
    /// Tolerated clock skew for `exp`, `nbf` and `iat`. Default zero; negative values count
    /// as zero.
    pub leeway: Duration,
    /// The header `typ` required, such as `"at+jwt"`; `None` accepts any or none.
    pub typ: Option<String>,
}

impl JwtExpectations {
    /// Expect `issuer` at time `now`, with no audience or `typ` requirement and no leeway.
    ///
    /// ```
    /// use portcullis_tokens::JwtExpectations;
    /// use time::{Duration, OffsetDateTime};
    ///
    /// let expect = JwtExpectations::new("https://issuer.example", OffsetDateTime::UNIX_EPOCH);
    /// assert_eq!(expect.leeway, Duration::ZERO);
    /// assert_eq!(expect.audience, None);
    /// ```
    pub fn new(issuer: impl Into<String>, now: OffsetDateTime) -> JwtExpectations {
        JwtExpectations {
            issuer: issuer.into(),
            audience: None,
            now,
            leeway: Duration::ZERO,
            typ: None,
        }
    }

    /// Also require `aud` to contain `audience`.
    ///
    /// ```
    /// # use portcullis_tokens::JwtExpectations;
    /// let expect = JwtExpectations::new("https://i.example", time::OffsetDateTime::UNIX_EPOCH)
    ///     .with_audience("client-1");
    /// assert_eq!(expect.audience.as_deref(), Some("client-1"));
    /// ```
    #[must_use]
    pub fn with_audience(mut self, audience: impl Into<String>) -> JwtExpectations {
        self.audience = Some(audience.into());
        self
    }

    /// Also require the header `typ`, such as `"at+jwt"` (RFC 9068 §4).
    ///
    /// ```
    /// # use portcullis_tokens::JwtExpectations;
    /// let expect = JwtExpectations::new("https://i.example", time::OffsetDateTime::UNIX_EPOCH)
    ///     .with_typ("at+jwt");
    /// assert_eq!(expect.typ.as_deref(), Some("at+jwt"));
    /// ```
    #[must_use]
    pub fn with_typ(mut self, typ: impl Into<String>) -> JwtExpectations {
        self.typ = Some(typ.into());
        self
    }

    /// Tolerate `leeway` of clock skew on `exp`, `nbf` and `iat`.
    ///
    /// ```
    /// # use portcullis_tokens::JwtExpectations;
    /// use time::Duration;
    /// let expect = JwtExpectations::new("https://i.example", time::OffsetDateTime::UNIX_EPOCH)
    ///     .with_leeway(Duration::seconds(60));
    /// assert_eq!(expect.leeway, Duration::seconds(60));
    /// ```
    #[must_use]
    pub fn with_leeway(mut self, leeway: Duration) -> JwtExpectations {
        self.leeway = leeway;
        self
    }
}

/// What a compact JWS says before anything is verified: its header `kid` and its claims.
///
/// Only for **choosing** how to verify a token (which issuer's keys, which expectations);
/// nothing read here may be trusted until a `verify` call has succeeded.
///
/// ```
/// use portcullis_tokens::{SigningAlgorithm, SigningKey, UnverifiedJwt};
///
/// let key = SigningKey::generate(SigningAlgorithm::ES256)?;
/// let jwt = key.sign(None, &serde_json::json!({"iss": "https://idp.example"}))?;
/// let peeked = UnverifiedJwt::peek(&jwt)?;
/// assert_eq!(peeked.issuer(), Some("https://idp.example"));
/// assert_eq!(peeked.kid(), Some(key.kid()));
/// assert!(UnverifiedJwt::peek("pc_at_opaque").is_err());
/// # Ok::<(), portcullis_tokens::TokenError>(())
/// ```
#[derive(Debug, Clone)]
pub struct UnverifiedJwt {
    kid: Option<String>,
    typ: Option<String>,
    claims: Map<String, Value>,
}

impl UnverifiedJwt {
    /// Decodes the header and claims of a compact JWS without verifying anything.
    ///
    /// # Errors
    ///
    /// [`TokenError::Jwt`] when the token is not three base64url parts with a JSON header
    /// and a JSON object as claims.
    pub fn peek(token: &str) -> Result<UnverifiedJwt, TokenError> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(_), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(rejected("not a compact JWS"));
        };
        let header: JoseHeader = URL_SAFE_NO_PAD
            .decode(header)
            .ok()
            .and_then(|json| serde_json::from_slice(&json).ok())
            .ok_or(rejected("malformed header"))?;
        let claims: Map<String, Value> = URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|json| serde_json::from_slice(&json).ok())
            .ok_or(rejected("malformed claims"))?;
        Ok(UnverifiedJwt {
            kid: header.kid,
            typ: header.typ,
            claims,
        })
    }

    /// The header `kid`, unverified.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The header `typ`, unverified.
    pub fn typ(&self) -> Option<&str> {
        self.typ.as_deref()
    }

    /// Whether the header `typ` is `expected`, ignoring ASCII case and an `application/`
    /// prefix (RFC 7515 §4.1.9), as verification compares it.
    ///
    /// ```
    /// use portcullis_tokens::{SigningAlgorithm, SigningKey, UnverifiedJwt};
    /// let key = SigningKey::generate(SigningAlgorithm::ES256)?;
    /// let jwt = key.sign(Some("at+jwt"), &serde_json::json!({}))?;
    /// assert!(UnverifiedJwt::peek(&jwt)?.has_typ("application/AT+JWT"));
    /// # Ok::<(), portcullis_tokens::TokenError>(())
    /// ```
    pub fn has_typ(&self, expected: &str) -> bool {
        self.typ
            .as_deref()
            .is_some_and(|typ| media_type_eq(typ, expected))
    }

    /// The `iss` claim, unverified.
    pub fn issuer(&self) -> Option<&str> {
        self.claims.get("iss").and_then(Value::as_str)
    }

    /// Every claim, unverified.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }
}

/// The JOSE header members verification looks at (RFC 7515 §4.1). Derived deserialization
/// refuses a header that repeats one of them.
#[derive(Deserialize)]
struct JoseHeader {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    typ: Option<String>,
    #[serde(default)]
    crit: Option<IgnoredAny>,
}

fn rejected(reason: &'static str) -> TokenError {
    TokenError::Jwt { reason }
}

/// Verifies `token` with the key `key_for` picks for the header's algorithm and `kid`, then
/// checks the claims against `expect` and deserializes them.
///
/// Order: shape, header, algorithm (before any key is looked up), key, `crit`, `typ`,
/// signature, and only then the payload.
pub(crate) fn verify<'k, C: DeserializeOwned>(
    token: &str,
    expect: &JwtExpectations,
    key_for: impl FnOnce(SigningAlgorithm, Option<&str>) -> Result<&'k PublicKey, TokenError>,
) -> Result<C, TokenError> {
    let (signing_input, signature) = token
        .rsplit_once('.')
        .ok_or(rejected("not a compact JWS"))?;
    let (header, payload) = signing_input
        .split_once('.')
        .ok_or(rejected("not a compact JWS"))?;
    if payload.contains('.') {
        return Err(rejected("not a compact JWS"));
    }

    let header: JoseHeader = URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|json| serde_json::from_slice(&json).ok())
        .ok_or(rejected("malformed header"))?;
    let alg: SigningAlgorithm = header
        .alg
        .parse()
        .map_err(|_| rejected("unsupported algorithm"))?;
    let key = key_for(alg, header.kid.as_deref())?;
    if key.algorithm() != alg {
        return Err(rejected("algorithm does not match key"));
    }
    // RFC 7515 §4.1.11: no extension is understood here, so any `crit` is refused.
    if header.crit.is_some() {
        return Err(rejected("unsupported critical header"));
    }
    if let Some(expected) = &expect.typ
        && !header
            .typ
            .as_deref()
            .is_some_and(|typ| media_type_eq(typ, expected))
    {
        return Err(rejected("unexpected typ"));
    }

    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| rejected("malformed signature"))?;
    if !key.verify_signature(signing_input.as_bytes(), &signature) {
        return Err(rejected("invalid signature"));
    }

    let claims: Map<String, Value> = URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|json| serde_json::from_slice(&json).ok())
        .ok_or(rejected("malformed claims"))?;
    check_claims(&claims, expect)?;
    serde_json::from_value(Value::Object(claims))
        .map_err(|_| rejected("claims do not have the expected shape"))
}

/// RFC 7515 §4.1.9: `typ` is compared ignoring case, and `application/` may be omitted.
fn media_type_eq(a: &str, b: &str) -> bool {
    fn bare(media_type: &str) -> &str {
        match media_type.get(..12) {
            Some(prefix) if prefix.eq_ignore_ascii_case("application/") => {
                media_type.get(12..).unwrap_or(media_type)
            }
            _ => media_type,
        }
    }
    bare(a).eq_ignore_ascii_case(bare(b))
}

fn check_claims(claims: &Map<String, Value>, expect: &JwtExpectations) -> Result<(), TokenError> {
    if claims.get("iss").and_then(Value::as_str) != Some(expect.issuer.as_str()) {
        return Err(rejected("wrong issuer"));
    }
    if let Some(audience) = &expect.audience {
        let contains = match claims.get("aud") {
            Some(Value::String(aud)) => aud == audience,
            Some(Value::Array(auds)) => auds.iter().any(|aud| aud.as_str() == Some(audience)),
            _ => false,
        };
        if !contains {
            return Err(rejected("wrong audience"));
        }
    }

    let leeway = expect.leeway.max(Duration::ZERO);
    let earliest = expect.now.saturating_sub(leeway);
    let latest = expect.now.saturating_add(leeway);
    let exp = numeric_date(claims, "exp", "invalid exp")?.ok_or(rejected("missing exp"))?;
    if exp <= earliest {
        return Err(rejected("expired"));
    }
    if numeric_date(claims, "nbf", "invalid nbf")?.is_some_and(|nbf| nbf > latest) {
        return Err(rejected("not yet valid"));
    }
    if numeric_date(claims, "iat", "invalid iat")?.is_some_and(|iat| iat > latest) {
        return Err(rejected("issued in the future"));
    }
    Ok(())
}

/// A NumericDate claim (RFC 7519 §2): seconds since the epoch, possibly fractional.
fn numeric_date(
    claims: &Map<String, Value>,
    name: &str,
    invalid: &'static str,
) -> Result<Option<OffsetDateTime>, TokenError> {
    let Some(value) = claims.get(name) else {
        return Ok(None);
    };
    let date = if let Some(seconds) = value.as_i64() {
        OffsetDateTime::from_unix_timestamp(seconds).ok()
    } else {
        value
            .as_f64()
            .filter(|seconds| seconds.is_finite() && seconds.abs() < 1e15)
            .and_then(|seconds| {
                #[allow(clippy::cast_possible_truncation)] // bounded above
                let nanos = (seconds * 1e9) as i128;
                OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
            })
    };
    date.map(Some).ok_or(rejected(invalid))
}

#[cfg(test)]
mod tests;
