//! Scopes: RFC 6749 §3.3 scope tokens and space-delimited scope lists, the provider's scope
//! catalog, and what one client is allowed to request.
//!
//! The grammar, from [RFC 6749 §3.3](https://www.rfc-editor.org/rfc/rfc6749#section-3.3):
//!
//! ```text
//! scope       = scope-token *( SP scope-token )
//! scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
//! ```
//!
//! portcullis adds two bounds so that no input can make it do unbounded work: a scope token is
//! at most [`SCOPE_MAX_LEN`] bytes, and a scope list holds at most [`SCOPE_SET_MAX_LEN`] tokens.

use std::borrow::Borrow;
use std::collections::{BTreeMap, BTreeSet, btree_map, btree_set};
use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

#[cfg(test)]
mod tests;

/// The longest scope token accepted, in bytes.
pub const SCOPE_MAX_LEN: usize = 128;

/// The most scope tokens accepted in one space-delimited scope list.
pub const SCOPE_SET_MAX_LEN: usize = 256;

/// The `openid` scope, which turns an OAuth 2.0 request into an OpenID Connect one
/// (OIDC Core §3.1.2.1).
pub const OPENID_SCOPE: &str = "openid";

/// The `offline_access` scope, which asks for a refresh token (OIDC Core §11).
pub const OFFLINE_ACCESS_SCOPE: &str = "offline_access";

/// The standard OpenID Connect scopes and the descriptions [`ScopeCatalog::with_oidc_scopes`]
/// gives them (OIDC Core §5.4 and §11).
const OIDC_SCOPES: [(&str, &str); 6] = [
    (OPENID_SCOPE, "Sign you in and confirm who you are"),
    ("profile", "Read your basic profile: name, picture, locale"),
    ("email", "Read your email address"),
    ("address", "Read your postal address"),
    ("phone", "Read your phone number"),
    (
        OFFLINE_ACCESS_SCOPE,
        "Keep access while you are not signed in",
    ),
];

/// Why a scope, a scope list or a scope definition was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScopeError {
    /// An empty scope token: an empty scope, or a leading, trailing or doubled space in a list.
    #[error("empty scope token at byte {position}")]
    EmptyToken {
        /// Byte offset of the empty token in the input.
        position: usize,
    },
    /// A byte outside `%x21 / %x23-5B / %x5D-7E`: a space inside a token, `"`, `\`, a control
    /// character or anything non-ASCII.
    #[error("invalid character in scope at byte {position}")]
    InvalidCharacter {
        /// Byte offset of the offending byte in the input.
        position: usize,
    },
    /// A scope token longer than [`SCOPE_MAX_LEN`] bytes.
    #[error("scope longer than {max} bytes")]
    TooLong {
        /// The limit, [`SCOPE_MAX_LEN`].
        max: usize,
    },
    /// A scope list with more than [`SCOPE_SET_MAX_LEN`] tokens.
    #[error("more than {max} scopes")]
    TooMany {
        /// The limit, [`SCOPE_SET_MAX_LEN`].
        max: usize,
    },
    /// A well-formed scope that the provider's catalog does not define.
    #[error("unknown scope {scope}")]
    Unknown {
        /// The scope that is not in the catalog.
        scope: Scope,
    },
    /// A scope the client is not allowed to request.
    #[error("scope {scope} not allowed")]
    NotAllowed {
        /// The scope the client may not have.
        scope: Scope,
    },
    /// A scope defined twice in one catalog.
    #[error("scope {scope} already defined")]
    DuplicateDefinition {
        /// The scope that is already in the catalog.
        scope: Scope,
    },
}

/// Checks one scope token that starts at byte `offset` of some larger input.
fn validate_token(token: &str, offset: usize) -> Result<(), ScopeError> {
    if token.is_empty() {
        return Err(ScopeError::EmptyToken { position: offset });
    }
    if let Some(index) = token.bytes().position(|b| !is_scope_byte(b)) {
        return Err(ScopeError::InvalidCharacter {
            position: offset.saturating_add(index),
        });
    }
    if token.len() > SCOPE_MAX_LEN {
        return Err(ScopeError::TooLong { max: SCOPE_MAX_LEN });
    }
    Ok(())
}

/// `%x21 / %x23-5B / %x5D-7E`: visible ASCII except `"` and `\`.
pub(crate) fn is_scope_byte(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x5B | 0x5D..=0x7E)
}

/// One validated scope token (RFC 6749 §3.3).
///
/// A scope is 1 to [`SCOPE_MAX_LEN`] bytes of visible ASCII other than `"` and `\`. It
/// serializes as a plain string and is validated again when deserialized.
///
/// ```
/// use portcullis_registry::Scope;
///
/// let scope = Scope::new("read:invoices")?;
/// assert_eq!(scope.as_str(), "read:invoices");
/// assert!(Scope::new("two words").is_err());
/// assert!(Scope::new("").is_err());
/// # Ok::<(), portcullis_registry::ScopeError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Scope(String);

impl Scope {
    /// Validates `scope` as one scope token.
    ///
    /// # Errors
    ///
    /// [`ScopeError::EmptyToken`], [`ScopeError::InvalidCharacter`] or [`ScopeError::TooLong`].
    pub fn new(scope: impl Into<String>) -> Result<Self, ScopeError> {
        let scope = scope.into();
        validate_token(&scope, 0)?;
        Ok(Self(scope))
    }

    /// The scope as written.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Consumes the scope and returns its string.
    #[must_use]
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Scope {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

// `Scope` orders, hashes and compares exactly as its string does, so sets and maps keyed by
// `Scope` can be searched with a `&str`.
impl Borrow<str> for Scope {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl FromStr for Scope {
    type Err = ScopeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl TryFrom<String> for Scope {
    type Error = ScopeError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl TryFrom<&str> for Scope {
    type Error = ScopeError;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<Scope> for String {
    fn from(scope: Scope) -> Self {
        scope.0
    }
}

impl PartialEq<str> for Scope {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Scope {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// A set of scopes, as carried by the `scope` parameter (RFC 6749 §3.3).
///
/// Duplicates collapse and order does not matter; the set displays and serializes as its
/// scopes in sorted order, joined by single spaces.
///
/// ```
/// use portcullis_registry::ScopeSet;
///
/// let scopes = ScopeSet::parse("profile openid profile")?;
/// assert_eq!(scopes.len(), 2);
/// assert!(scopes.contains("openid"));
/// assert_eq!(scopes.to_string(), "openid profile");
///
/// // RFC 6749 §3.3: tokens are separated by exactly one space.
/// assert!(ScopeSet::parse("openid  profile").is_err());
/// assert!(ScopeSet::parse("").is_ok_and(|set| set.is_empty()));
/// # Ok::<(), portcullis_registry::ScopeError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ScopeSet(BTreeSet<Scope>);

impl ScopeSet {
    /// An empty set.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses a space-delimited scope list: `scope-token *( SP scope-token )`.
    ///
    /// The empty string is the empty set. Error positions are byte offsets into `input`.
    ///
    /// # Errors
    ///
    /// [`ScopeError::EmptyToken`] for a leading, trailing or doubled space,
    /// [`ScopeError::InvalidCharacter`], [`ScopeError::TooLong`] for a token, and
    /// [`ScopeError::TooMany`] past [`SCOPE_SET_MAX_LEN`] tokens (duplicates count).
    pub fn parse(input: &str) -> Result<Self, ScopeError> {
        let mut set = BTreeSet::new();
        if input.is_empty() {
            return Ok(Self(set));
        }
        let mut offset = 0_usize;
        for (count, token) in input.split(' ').enumerate() {
            if count >= SCOPE_SET_MAX_LEN {
                return Err(ScopeError::TooMany {
                    max: SCOPE_SET_MAX_LEN,
                });
            }
            validate_token(token, offset)?;
            set.insert(Scope(token.to_owned()));
            offset = offset.saturating_add(token.len()).saturating_add(1);
        }
        Ok(Self(set))
    }

    /// Whether the set holds `scope`.
    #[must_use]
    pub fn contains(&self, scope: &str) -> bool {
        self.0.contains(scope)
    }

    /// Adds `scope`; returns whether it was new.
    pub fn insert(&mut self, scope: Scope) -> bool {
        self.0.insert(scope)
    }

    /// Removes `scope`; returns whether it was there.
    pub fn remove(&mut self, scope: &str) -> bool {
        self.0.remove(scope)
    }

    /// The scopes in sorted order.
    pub fn iter(&self) -> btree_set::Iter<'_, Scope> {
        self.0.iter()
    }

    /// How many scopes the set holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the set is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether every scope of `self` is also in `other`.
    #[must_use]
    pub fn is_subset(&self, other: &ScopeSet) -> bool {
        self.0.is_subset(&other.0)
    }

    /// The scopes in both `self` and `other`.
    #[must_use]
    pub fn intersection(&self, other: &ScopeSet) -> ScopeSet {
        self.0.intersection(&other.0).cloned().collect()
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for scope in &self.0 {
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            f.write_str(scope.as_str())?;
        }
        Ok(())
    }
}

impl FromStr for ScopeSet {
    type Err = ScopeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for ScopeSet {
    type Error = ScopeError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ScopeSet> for String {
    fn from(set: ScopeSet) -> Self {
        set.to_string()
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl Extend<Scope> for ScopeSet {
    fn extend<I: IntoIterator<Item = Scope>>(&mut self, iter: I) {
        self.0.extend(iter);
    }
}

impl IntoIterator for ScopeSet {
    type Item = Scope;
    type IntoIter = btree_set::IntoIter<Scope>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a ScopeSet {
    type Item = &'a Scope;
    type IntoIter = btree_set::Iter<'a, Scope>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// A scope the provider knows, with the description shown on the consent page.
///
/// ```
/// use portcullis_registry::{Scope, ScopeDefinition};
///
/// let definition = ScopeDefinition::new(Scope::new("invoices:read")?, "Read your invoices");
/// assert_eq!(definition.name.as_str(), "invoices:read");
/// # Ok::<(), portcullis_registry::ScopeError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeDefinition {
    /// The scope token.
    pub name: Scope,
    /// What granting the scope lets a client do, in words a user understands.
    pub description: String,
}

impl ScopeDefinition {
    /// A definition of `name` described by `description`.
    #[must_use]
    pub fn new(name: Scope, description: impl Into<String>) -> Self {
        Self {
            name,
            description: description.into(),
        }
    }
}

/// Every scope a provider knows. A client may only be allowed, and a request may only ask for,
/// scopes in the catalog.
///
/// Serializes as a list of [`ScopeDefinition`]s in name order; deserializing rejects a name
/// defined twice.
///
/// ```
/// use portcullis_registry::{Scope, ScopeCatalog, ScopeDefinition};
///
/// let mut catalog = ScopeCatalog::with_oidc_scopes();
/// catalog.insert(ScopeDefinition::new(Scope::new("invoices:read")?, "Read your invoices"))?;
/// assert!(catalog.contains("openid"));
/// assert!(catalog.contains("invoices:read"));
///
/// // Defining a scope twice is an error, not an overwrite.
/// let again = ScopeDefinition::new(Scope::new("openid")?, "Something else");
/// assert!(catalog.insert(again).is_err());
/// # Ok::<(), portcullis_registry::ScopeError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScopeCatalog(BTreeMap<Scope, ScopeDefinition>);

impl ScopeCatalog {
    /// An empty catalog.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A catalog holding the standard OpenID Connect scopes: `openid`, `profile`, `email`,
    /// `address`, `phone` (OIDC Core §5.4) and `offline_access` (OIDC Core §11).
    #[must_use]
    pub fn with_oidc_scopes() -> Self {
        let mut catalog = Self::new();
        for (name, description) in OIDC_SCOPES {
            // The names are constants that validate (see the tests); nothing here can fail.
            if let Ok(name) = Scope::new(name) {
                let _ = catalog.insert(ScopeDefinition::new(name, description));
            }
        }
        catalog
    }

    /// Adds a scope definition.
    ///
    /// # Errors
    ///
    /// [`ScopeError::DuplicateDefinition`] if the catalog already defines that name; the
    /// catalog is left unchanged.
    pub fn insert(&mut self, definition: ScopeDefinition) -> Result<(), ScopeError> {
        match self.0.entry(definition.name.clone()) {
            btree_map::Entry::Occupied(entry) => Err(ScopeError::DuplicateDefinition {
                scope: entry.key().clone(),
            }),
            btree_map::Entry::Vacant(entry) => {
                entry.insert(definition);
                Ok(())
            }
        }
    }

    /// The definition of `scope`, if the catalog has one.
    #[must_use]
    pub fn get(&self, scope: &str) -> Option<&ScopeDefinition> {
        self.0.get(scope)
    }

    /// Whether the catalog defines `scope`.
    #[must_use]
    pub fn contains(&self, scope: &str) -> bool {
        self.0.contains_key(scope)
    }

    /// The definitions in name order.
    pub fn iter(&self) -> btree_map::Values<'_, Scope, ScopeDefinition> {
        self.0.values()
    }

    /// How many scopes the catalog defines.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the catalog is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every scope name in the catalog.
    #[must_use]
    pub fn names(&self) -> ScopeSet {
        self.0.keys().cloned().collect()
    }
}

impl<'a> IntoIterator for &'a ScopeCatalog {
    type Item = &'a ScopeDefinition;
    type IntoIter = btree_map::Values<'a, Scope, ScopeDefinition>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.values()
    }
}

impl TryFrom<Vec<ScopeDefinition>> for ScopeCatalog {
    type Error = ScopeError;

    fn try_from(definitions: Vec<ScopeDefinition>) -> Result<Self, Self::Error> {
        let mut catalog = Self::new();
        for definition in definitions {
            catalog.insert(definition)?;
        }
        Ok(catalog)
    }
}

impl Serialize for ScopeCatalog {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for definition in self.0.values() {
            seq.serialize_element(definition)?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for ScopeCatalog {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let definitions = Vec::<ScopeDefinition>::deserialize(deserializer)?;
        Self::try_from(definitions).map_err(de::Error::custom)
    }
}

/// The scopes a client may request: every scope in the catalog, or a fixed list.
///
/// Serializes as the string `"all"` or as a JSON array of scope strings, the form of the
/// `scopes` field of the admin API (DESIGN §4.1).
///
/// ```
/// use portcullis_registry::{AllowedScopes, ScopeCatalog, ScopeError, ScopeSet};
///
/// let catalog = ScopeCatalog::with_oidc_scopes();
/// let allowed = AllowedScopes::List(ScopeSet::parse("openid profile")?);
///
/// allowed.check(&ScopeSet::parse("openid")?, &catalog)?;
/// assert!(matches!(
///     allowed.check(&ScopeSet::parse("openid email")?, &catalog),
///     Err(ScopeError::NotAllowed { scope }) if scope.as_str() == "email"
/// ));
///
/// // `All` means every scope in the catalog, and nothing outside it.
/// AllowedScopes::All.check(&ScopeSet::parse("openid email")?, &catalog)?;
/// assert!(AllowedScopes::All.check(&ScopeSet::parse("admin")?, &catalog).is_err());
/// # Ok::<(), portcullis_registry::ScopeError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AllowedScopes {
    /// Every scope in the provider's catalog, including scopes added later.
    All,
    /// Only these scopes.
    List(ScopeSet),
}

impl Default for AllowedScopes {
    /// No scopes at all: [`AllowedScopes::List`] of an empty set.
    fn default() -> Self {
        Self::List(ScopeSet::new())
    }
}

impl AllowedScopes {
    /// Whether the client may request `scope`. [`AllowedScopes::All`] permits any scope; that
    /// the scope exists is checked against the catalog by [`AllowedScopes::check`].
    #[must_use]
    pub fn permits(&self, scope: &Scope) -> bool {
        match self {
            Self::All => true,
            Self::List(list) => list.contains(scope.as_str()),
        }
    }

    /// Checks a requested scope set: every scope must exist in `catalog` and be permitted.
    /// Scopes are checked in sorted order and the first offender is named; a scope is never
    /// silently dropped.
    ///
    /// # Errors
    ///
    /// [`ScopeError::Unknown`] for a scope not in the catalog, [`ScopeError::NotAllowed`] for a
    /// scope the client may not request.
    pub fn check(&self, requested: &ScopeSet, catalog: &ScopeCatalog) -> Result<(), ScopeError> {
        for scope in requested {
            if !catalog.contains(scope.as_str()) {
                return Err(ScopeError::Unknown {
                    scope: scope.clone(),
                });
            }
            if !self.permits(scope) {
                return Err(ScopeError::NotAllowed {
                    scope: scope.clone(),
                });
            }
        }
        Ok(())
    }

    /// The scopes the client may request today: the whole catalog for
    /// [`AllowedScopes::All`], and the listed scopes that are still in the catalog otherwise.
    #[must_use]
    pub fn resolve(&self, catalog: &ScopeCatalog) -> ScopeSet {
        match self {
            Self::All => catalog.names(),
            Self::List(list) => list
                .iter()
                .filter(|scope| catalog.contains(scope.as_str()))
                .cloned()
                .collect(),
        }
    }
}

/// The keyword that stands for [`AllowedScopes::All`] on the wire.
const ALL_KEYWORD: &str = "all";

impl Serialize for AllowedScopes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::All => serializer.serialize_str(ALL_KEYWORD),
            Self::List(list) => {
                let mut seq = serializer.serialize_seq(Some(list.len()))?;
                for scope in list {
                    seq.serialize_element(scope.as_str())?;
                }
                seq.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for AllowedScopes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AllowedScopesVisitor;

        impl<'de> Visitor<'de> for AllowedScopesVisitor {
            type Value = AllowedScopes;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("\"all\" or an array of scope strings")
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
                if value == ALL_KEYWORD {
                    Ok(AllowedScopes::All)
                } else {
                    Err(E::invalid_value(de::Unexpected::Str(value), &self))
                }
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut list = ScopeSet::new();
                while let Some(scope) = seq.next_element::<Scope>()? {
                    list.insert(scope);
                }
                Ok(AllowedScopes::List(list))
            }
        }

        deserializer.deserialize_any(AllowedScopesVisitor)
    }
}
