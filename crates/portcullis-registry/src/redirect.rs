//! Redirect URIs: registration rules (RFC 6749 §3.1.2, RFC 8252 §7, RFC 9700 §2.1) and
//! matching by exact string comparison (RFC 9700 §4.1.3), with the loopback port exception
//! for native clients (RFC 8252 §7.3).
//!
//! Matching is done on strings, never on parsed URLs: a URL parser normalises (host case,
//! default ports, dot segments, backslashes), and every normalisation is a way for a requested
//! URI that *looks* different to be accepted as the registered one.

use std::fmt;
use std::net::Ipv6Addr;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};

use crate::client::ClientKind;

#[cfg(test)]
mod tests;

/// The longest redirect URI accepted at registration, in bytes.
pub const REDIRECT_URI_MAX_LEN: usize = 2000;

/// How a registered redirect URI is compared with the one in a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchRule {
    /// Byte-for-byte string equality (RFC 9700 §4.1.3).
    Exact,
    /// Equality except for the port, which may be any port or absent: an `http` loopback URI
    /// of a native client (RFC 8252 §7.3).
    LoopbackAnyPort,
}

/// Why a redirect URI was refused at registration.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RedirectUriError {
    /// The URI is empty.
    #[error("redirect uri is empty")]
    Empty,
    /// The URI is longer than [`REDIRECT_URI_MAX_LEN`] bytes.
    #[error("redirect uri longer than {max} bytes")]
    TooLong {
        /// The limit, [`REDIRECT_URI_MAX_LEN`].
        max: usize,
    },
    /// A character RFC 3986 does not allow in a URI: whitespace, a control character,
    /// anything non-ASCII, or one of `"<>\^`{|}`.
    #[error("invalid character in redirect uri at byte {position}")]
    InvalidCharacter {
        /// Byte offset of the offending character.
        position: usize,
    },
    /// A `%` not followed by two hexadecimal digits.
    #[error("invalid percent-encoding in redirect uri at byte {position}")]
    InvalidPercentEncoding {
        /// Byte offset of the `%`.
        position: usize,
    },
    /// A `*`: wildcards are not supported, redirect URIs match exactly (RFC 9700 §4.1.3).
    #[error("redirect uri contains a wildcard at byte {position}")]
    Wildcard {
        /// Byte offset of the `*`.
        position: usize,
    },
    /// A fragment, which RFC 6749 §3.1.2 forbids.
    #[error("redirect uri has a fragment")]
    Fragment,
    /// Not an absolute URI (RFC 6749 §3.1.2): no scheme.
    #[error("redirect uri is not absolute")]
    NotAbsolute,
    /// A scheme that is neither `https`, loopback `http`, nor a private-use scheme.
    #[error("redirect uri scheme {scheme} is not supported")]
    UnsupportedScheme {
        /// The scheme as written.
        scheme: String,
    },
    /// A private-use scheme (RFC 8252 §7.1) for a client that is not native.
    #[error("private-use scheme {scheme} is only for native clients")]
    PrivateUseSchemeNotNative {
        /// The scheme as written.
        scheme: String,
    },
    /// `http` with a host other than `127.0.0.1`, `[::1]` or `localhost` (RFC 9700 §2.6).
    #[error("http redirect uris must use a loopback host")]
    InsecureHttp,
    /// Userinfo (`user@host`) in the authority.
    #[error("redirect uri has userinfo")]
    Userinfo,
    /// An `http` or `https` URI without a host.
    #[error("redirect uri has no host")]
    MissingHost,
    /// A host that is neither a DNS name nor an IP literal.
    #[error("redirect uri host is invalid")]
    InvalidHost,
    /// A port that is not a number from 1 to 65535 without leading zeros.
    #[error("redirect uri port is invalid")]
    InvalidPort,
    /// A URI the URL parser rejects.
    #[error("malformed redirect uri: {0}")]
    Malformed(#[source] url::ParseError),
}

/// A registered redirect URI, carrying the rule it is matched with.
///
/// ```
/// use portcullis_registry::{ClientKind, MatchRule, RedirectUri};
///
/// let web = RedirectUri::parse("https://app.example/cb", ClientKind::Web)?;
/// assert_eq!(web.rule(), MatchRule::Exact);
/// assert!(web.matches("https://app.example/cb"));
/// assert!(!web.matches("https://APP.example/cb"));
/// assert!(!web.matches("https://app.example/cb?next=/"));
///
/// // RFC 8252 §7.3: a native app's loopback redirect may use any port.
/// let native = RedirectUri::parse("http://127.0.0.1/cb", ClientKind::Native)?;
/// assert_eq!(native.rule(), MatchRule::LoopbackAnyPort);
/// assert!(native.matches("http://127.0.0.1:51004/cb"));
/// assert!(!native.matches("http://127.0.0.1:51004/other"));
///
/// assert!(RedirectUri::parse("https://*.app.example/cb", ClientKind::Web).is_err());
/// # Ok::<(), portcullis_registry::RedirectUriError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct RedirectUri {
    uri: String,
    rule: MatchRule,
}

impl RedirectUri {
    /// Checks `raw` against the registration rules for a client of `kind` and picks its
    /// match rule.
    ///
    /// Accepted: `https` URIs; `http` URIs whose host is `127.0.0.1`, `[::1]` or `localhost`;
    /// and, for [`ClientKind::Native`] only, private-use schemes containing a period such as
    /// `com.example.app:/cb` (RFC 8252 §7.1). Refused: relative URIs, fragments, wildcards,
    /// userinfo, characters RFC 3986 does not allow, and anything over
    /// [`REDIRECT_URI_MAX_LEN`] bytes. A native client's `http` loopback URI is matched with
    /// [`MatchRule::LoopbackAnyPort`]; everything else with [`MatchRule::Exact`].
    ///
    /// The string is stored as given; nothing is normalised.
    ///
    /// # Errors
    ///
    /// The [`RedirectUriError`] of the first rule `raw` breaks.
    pub fn parse(raw: &str, kind: ClientKind) -> Result<Self, RedirectUriError> {
        let class = classify(raw)?;
        let rule = match class {
            Class::PrivateUse if kind != ClientKind::Native => {
                return Err(RedirectUriError::PrivateUseSchemeNotNative {
                    scheme: scheme_of(raw).to_owned(),
                });
            }
            Class::HttpLoopback if kind == ClientKind::Native => MatchRule::LoopbackAnyPort,
            Class::Https | Class::HttpLoopback | Class::PrivateUse => MatchRule::Exact,
        };
        Ok(Self {
            uri: raw.to_owned(),
            rule,
        })
    }

    /// The URI as registered.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.uri
    }

    /// The rule requests are matched with.
    #[must_use]
    pub fn rule(&self) -> MatchRule {
        self.rule
    }

    /// Whether `requested`, the `redirect_uri` of a request, is this URI.
    ///
    /// [`MatchRule::Exact`] compares strings byte for byte: host case, a trailing slash, an
    /// added query or fragment, a spelled-out default port all make a mismatch.
    /// [`MatchRule::LoopbackAnyPort`] additionally lets the port be any port from 1 to 65535,
    /// or absent; everything else must still be byte-identical.
    #[must_use]
    pub fn matches(&self, requested: &str) -> bool {
        match self.rule {
            MatchRule::Exact => self.uri == requested,
            MatchRule::LoopbackAnyPort => loopback_matches(&self.uri, requested),
        }
    }
}

impl fmt::Display for RedirectUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.uri)
    }
}

impl AsRef<str> for RedirectUri {
    fn as_ref(&self) -> &str {
        &self.uri
    }
}

/// Deserializing checks the URI with the registration rules of the most permissive kind,
/// [`ClientKind::Native`], and accepts [`MatchRule::LoopbackAnyPort`] only for an `http`
/// loopback URI. The kind-specific rules are checked when a client is validated with
/// [`NewClient`](crate::NewClient).
impl<'de> Deserialize<'de> for RedirectUri {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            uri: String,
            rule: MatchRule,
        }

        let raw = Raw::deserialize(deserializer)?;
        let class = classify(&raw.uri).map_err(de::Error::custom)?;
        if raw.rule == MatchRule::LoopbackAnyPort && class != Class::HttpLoopback {
            return Err(de::Error::custom(
                "loopback_any_port applies only to http loopback redirect uris",
            ));
        }
        Ok(Self {
            uri: raw.uri,
            rule: raw.rule,
        })
    }
}

/// What kind of redirect URI passed the kind-independent rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Https,
    HttpLoopback,
    PrivateUse,
}

/// The kind-independent registration rules.
fn classify(raw: &str) -> Result<Class, RedirectUriError> {
    if raw.is_empty() {
        return Err(RedirectUriError::Empty);
    }
    if raw.len() > REDIRECT_URI_MAX_LEN {
        return Err(RedirectUriError::TooLong {
            max: REDIRECT_URI_MAX_LEN,
        });
    }
    check_characters(raw)?;
    if raw.contains('#') {
        return Err(RedirectUriError::Fragment);
    }

    let Some((scheme, rest)) = split_scheme(raw) else {
        return Err(RedirectUriError::NotAbsolute);
    };
    let class = if scheme.eq_ignore_ascii_case("https") {
        let authority = authority_of(rest)?;
        check_host(authority.host)?;
        Class::Https
    } else if scheme.eq_ignore_ascii_case("http") {
        let authority = authority_of(rest)?;
        check_host(authority.host)?;
        if !is_loopback_host(authority.host) {
            return Err(RedirectUriError::InsecureHttp);
        }
        Class::HttpLoopback
    } else if scheme.contains('.') {
        // RFC 8252 §7.1: private-use schemes are reverse domain names, hence the period.
        if rest.is_empty() {
            return Err(RedirectUriError::NotAbsolute);
        }
        if let Some(after) = rest.strip_prefix("//") {
            let end = after.find(['/', '?']).unwrap_or(after.len());
            if after
                .get(..end)
                .is_some_and(|authority| authority.contains('@'))
            {
                return Err(RedirectUriError::Userinfo);
            }
        }
        Class::PrivateUse
    } else {
        return Err(RedirectUriError::UnsupportedScheme {
            scheme: scheme.to_owned(),
        });
    };

    // A second opinion: whatever we accept must be an absolute URL to the WHATWG parser too.
    url::Url::parse(raw).map_err(RedirectUriError::Malformed)?;
    Ok(class)
}

/// RFC 3986 characters only (unreserved, reserved and `%`), with well-formed percent-encoding;
/// `*` is refused as a wildcard.
fn check_characters(raw: &str) -> Result<(), RedirectUriError> {
    let bytes = raw.as_bytes();
    for (position, &b) in bytes.iter().enumerate() {
        match b {
            b'*' => return Err(RedirectUriError::Wildcard { position }),
            b'%' => {
                let hex = |offset: usize| {
                    position
                        .checked_add(offset)
                        .and_then(|index| bytes.get(index))
                        .is_some_and(u8::is_ascii_hexdigit)
                };
                if !(hex(1) && hex(2)) {
                    return Err(RedirectUriError::InvalidPercentEncoding { position });
                }
            }
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => {}
            b'-' | b'.' | b'_' | b'~' => {}
            b':' | b'/' | b'?' | b'#' | b'[' | b']' | b'@' => {}
            b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'+' | b',' | b';' | b'=' => {}
            _ => return Err(RedirectUriError::InvalidCharacter { position }),
        }
    }
    Ok(())
}

/// Splits `scheme ":" rest` where `scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`.
fn split_scheme(raw: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = raw.split_once(':')?;
    let mut bytes = scheme.bytes();
    let first = bytes.next()?;
    if !first.is_ascii_alphabetic() {
        return None;
    }
    if !bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')) {
        return None;
    }
    Some((scheme, rest))
}

/// The scheme of a URI that [`split_scheme`] accepted.
fn scheme_of(raw: &str) -> &str {
    split_scheme(raw).map_or("", |(scheme, _)| scheme)
}

/// The pieces of `"//" authority rest` that matter here (the port, if any, has been checked).
struct Authority<'a> {
    /// The host as written; IPv6 literals keep their brackets.
    host: &'a str,
    /// Everything after the authority: path, query (and fragment, in a request).
    rest: &'a str,
}

/// Splits the hierarchical part of an `http` or `https` URI.
fn authority_of(hier: &str) -> Result<Authority<'_>, RedirectUriError> {
    let Some(after) = hier.strip_prefix("//") else {
        return Err(RedirectUriError::MissingHost);
    };
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let (authority, rest) = after.split_at_checked(end).unwrap_or((after, ""));
    if authority.contains('@') {
        return Err(RedirectUriError::Userinfo);
    }
    let (host, port) = if authority.starts_with('[') {
        let close = authority.find(']').ok_or(RedirectUriError::InvalidHost)?;
        let (host, after_host) = authority
            .split_at_checked(close.saturating_add(1))
            .ok_or(RedirectUriError::InvalidHost)?;
        if after_host.is_empty() {
            (host, None)
        } else {
            let port = after_host
                .strip_prefix(':')
                .ok_or(RedirectUriError::InvalidHost)?;
            (host, Some(port))
        }
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(RedirectUriError::MissingHost);
    }
    if port.is_some_and(|port| !is_valid_port(port)) {
        return Err(RedirectUriError::InvalidPort);
    }
    Ok(Authority { host, rest })
}

/// A DNS name (letters, digits, `-`, `.`, `_`) or a bracketed IPv6 literal.
fn check_host(host: &str) -> Result<(), RedirectUriError> {
    let valid = match host.strip_prefix('[') {
        Some(inner) => inner
            .strip_suffix(']')
            .is_some_and(|address| address.parse::<Ipv6Addr>().is_ok()),
        None => host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_')),
    };
    if valid {
        Ok(())
    } else {
        Err(RedirectUriError::InvalidHost)
    }
}

/// The loopback hosts of RFC 8252 §7.3 and §8.3, compared as strings: `127.0.0.1`, `[::1]`
/// and `localhost` (in any case).
fn is_loopback_host(host: &str) -> bool {
    host == "127.0.0.1" || host == "[::1]" || host.eq_ignore_ascii_case("localhost")
}

/// 1 to 5 digits without a leading zero, at most 65535.
fn is_valid_port(port: &str) -> bool {
    !port.is_empty()
        && port.len() <= 5
        && port.bytes().all(|b| b.is_ascii_digit())
        && !port.starts_with('0')
        && port.parse::<u32>().is_ok_and(|n| (1..=65_535).contains(&n))
}

/// RFC 8252 §7.3 on strings: the same scheme and host, byte for byte; any valid port or none;
/// then the same path and query, byte for byte. A fragment never matches.
fn loopback_matches(registered: &str, requested: &str) -> bool {
    if requested.contains('#') {
        return false;
    }
    let (Some((registered_scheme, registered_hier)), Some((requested_scheme, requested_hier))) =
        (split_scheme(registered), split_scheme(requested))
    else {
        return false;
    };
    if registered_scheme != requested_scheme {
        return false;
    }
    let (Ok(registered), Ok(requested)) =
        (authority_of(registered_hier), authority_of(requested_hier))
    else {
        // `authority_of` refuses userinfo and malformed ports, so `user@127.0.0.1` and
        // `127.0.0.1:80@evil.example` end here.
        return false;
    };
    // Any port `authority_of` accepted (1 to 65535, or none) is fine: only host and rest count.
    registered.host == requested.host && registered.rest == requested.rest
}
