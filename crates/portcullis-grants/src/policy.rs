//! Provider-wide policy knobs the grants consult. Every default is the secure one.

use time::Duration;

/// Longest an authorization code may live (RFC 6749 §4.1.2: "A maximum authorization code
/// lifetime of 10 minutes is RECOMMENDED").
pub const MAX_CODE_TTL: Duration = Duration::minutes(10);

/// When PKCE is required and which methods are accepted (RFC 7636, RFC 9700 §2.1.1).
///
/// ```
/// use portcullis_grants::PkcePolicy;
/// let policy = PkcePolicy::default();
/// assert!(!policy.required_for_confidential_clients);
/// assert!(!policy.allow_plain);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PkcePolicy {
    /// Require PKCE from confidential clients too (it is always required from public
    /// clients). Default `false`; RFC 9700 §2.1.1 recommends turning it on.
    pub required_for_confidential_clients: bool,
    /// Accept `code_challenge_method=plain`. Default `false`: only `S256`.
    ///
    /// # Security
    ///
    /// `plain` offers no protection when the authorization request leaks (RFC 7636 §7.2);
    /// allow it only for clients that cannot compute SHA-256.
    pub allow_plain: bool,
}

/// The knobs grants consult, with secure defaults.
///
/// ```
/// use portcullis_grants::Policy;
/// let policy = Policy::default();
/// assert_eq!(policy.code_ttl, time::Duration::minutes(10));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// How long an authorization code lives. Default and maximum 10 minutes.
    pub code_ttl: Duration,
    /// How long a pending authorization waits for login and consent. Default 10 minutes.
    pub interaction_ttl: Duration,
    /// PKCE requirements.
    pub pkce: PkcePolicy,
    /// Which RFC 8707 resource indicators authorization requests may carry. Default: any
    /// absolute URI. The token endpoint applies
    /// [`IssuerSettings::resources`](crate::IssuerSettings::resources); the provider
    /// builder sets both from one value.
    pub resources: crate::ResourcePolicy,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            code_ttl: MAX_CODE_TTL,
            interaction_ttl: Duration::minutes(10),
            pkce: PkcePolicy::default(),
            resources: crate::ResourcePolicy::Any,
        }
    }
}
