//! Request parameters in `application/x-www-form-urlencoded` form (RFC 6749 §3.1, §3.2,
//! Appendix B), from a query string or a request body.

use std::collections::{BTreeMap, BTreeSet};

/// Most parameters one request may carry; more is an attack, not a client.
pub const MAX_PARAMETERS: usize = 64;

/// Longest value one parameter may carry, in bytes (assertions and request objects fit).
pub const MAX_VALUE_BYTES: usize = 16 * 1024;

/// Why a parameter string was refused as a whole.
///
/// ```
/// use portcullis_grants::{Params, ParamsError};
/// let many = (0..100).map(|i| format!("p{i}=v")).collect::<Vec<_>>().join("&");
/// assert!(matches!(Params::parse(many.as_bytes()), Err(ParamsError::TooMany { .. })));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParamsError {
    /// More than [`MAX_PARAMETERS`] parameters.
    #[error("too many parameters (at most {max})")]
    TooMany {
        /// The bound.
        max: usize,
    },
    /// A value longer than [`MAX_VALUE_BYTES`].
    #[error("parameter {name} is too long (at most {max} bytes)")]
    TooLong {
        /// The parameter's name.
        name: String,
        /// The bound.
        max: usize,
    },
}

/// Decoded request parameters, with duplicates noted rather than silently resolved.
///
/// RFC 6749 §3.1: "Parameters sent without a value MUST be treated as if they were
/// omitted from the request" and "Request and response parameters MUST NOT be included
/// more than once." [`get`](Params::get) therefore ignores empty values, and every name sent
/// twice with a value is listed in [`duplicates`](Params::duplicates) for the endpoint to
/// refuse with `invalid_request`.
///
/// ```
/// use portcullis_grants::Params;
///
/// let params = Params::parse(b"grant_type=client_credentials&scope=view%3Ausers&state=")?;
/// assert_eq!(params.get("scope"), Some("view:users"));
/// assert_eq!(params.get("state"), None); // empty means omitted
/// assert!(params.duplicates().is_empty());
///
/// let twice = Params::parse(b"scope=a&scope=b")?;
/// assert!(twice.duplicates().contains("scope"));
/// # Ok::<(), portcullis_grants::ParamsError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    values: BTreeMap<String, String>,
    duplicates: BTreeSet<String>,
    /// Second and later values of the [`REPEATABLE`] parameters, in order.
    repeated: Vec<(String, String)>,
}

/// The parameters a request may repeat: RFC 8707 §2 `resource` ("the resource parameter can
/// be used multiple times"). Every other repeated name is a duplicate.
pub const REPEATABLE: [&str; 1] = ["resource"];

impl Params {
    /// Decodes `application/x-www-form-urlencoded` bytes. Malformed percent-escapes are kept
    /// literally and invalid UTF-8 is replaced, so any input decodes; only size bounds fail.
    ///
    /// ```
    /// let params = portcullis_grants::Params::parse(b"a=%ZZ&b=%FF")?;
    /// assert_eq!(params.get("a"), Some("%ZZ"));
    /// assert_eq!(params.get("b"), Some("\u{FFFD}"));
    /// # Ok::<(), portcullis_grants::ParamsError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ParamsError`] when the input exceeds [`MAX_PARAMETERS`] or [`MAX_VALUE_BYTES`].
    pub fn parse(input: &[u8]) -> Result<Params, ParamsError> {
        let mut params = Params::default();
        for (count, (name, value)) in url::form_urlencoded::parse(input).enumerate() {
            if count >= MAX_PARAMETERS {
                return Err(ParamsError::TooMany {
                    max: MAX_PARAMETERS,
                });
            }
            if value.len() > MAX_VALUE_BYTES || name.len() > MAX_VALUE_BYTES {
                return Err(ParamsError::TooLong {
                    name: truncate(&name),
                    max: MAX_VALUE_BYTES,
                });
            }
            if value.is_empty() {
                continue;
            }
            params.add(name.into_owned(), value.into_owned());
        }
        Ok(params)
    }

    /// Records one non-empty value.
    fn add(&mut self, name: String, value: String) {
        use std::collections::btree_map::Entry;
        match self.values.entry(name) {
            Entry::Vacant(slot) => {
                slot.insert(value);
            }
            Entry::Occupied(first) if REPEATABLE.contains(&first.key().as_str()) => {
                self.repeated.push((first.key().clone(), value));
            }
            Entry::Occupied(first) => {
                self.duplicates.insert(first.key().clone());
            }
        }
    }

    /// Every value of `name` in order: the one value of most parameters, all values of a
    /// [`REPEATABLE`] one.
    ///
    /// ```
    /// let params = portcullis_grants::Params::parse(
    ///     b"resource=https%3A%2F%2Fa.example%2F&resource=https%3A%2F%2Fb.example%2F")?;
    /// assert_eq!(params.get_all("resource").collect::<Vec<_>>(),
    ///     ["https://a.example/", "https://b.example/"]);
    /// assert!(params.duplicates().is_empty()); // RFC 8707 §2: resource may repeat
    /// # Ok::<(), portcullis_grants::ParamsError>(())
    /// ```
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.get(name).into_iter().chain(
            self.repeated
                .iter()
                .filter(move |(repeated, _)| repeated == name)
                .map(|(_, value)| value.as_str()),
        )
    }

    /// The value of `name`, unless it was absent or empty. For a duplicated name this is the
    /// first value; check [`duplicates`](Params::duplicates) before trusting it.
    ///
    /// ```
    /// let params = portcullis_grants::Params::parse(b"code=abc")?;
    /// assert_eq!(params.get("code"), Some("abc"));
    /// # Ok::<(), portcullis_grants::ParamsError>(())
    /// ```
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Whether `name` was sent with a value.
    ///
    /// ```
    /// let params = portcullis_grants::Params::parse(b"code=abc")?;
    /// assert!(params.contains("code") && !params.contains("state"));
    /// # Ok::<(), portcullis_grants::ParamsError>(())
    /// ```
    pub fn contains(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    /// Names that were sent more than once with a value.
    ///
    /// ```
    /// let params = portcullis_grants::Params::parse(b"a=1&a=2&b=3")?;
    /// assert_eq!(params.duplicates().iter().collect::<Vec<_>>(), ["a"]);
    /// # Ok::<(), portcullis_grants::ParamsError>(())
    /// ```
    pub fn duplicates(&self) -> &BTreeSet<String> {
        &self.duplicates
    }

    /// Every parameter (first values), ordered by name.
    ///
    /// ```
    /// let params = portcullis_grants::Params::parse(b"b=2&a=1")?;
    /// assert_eq!(params.iter().map(|(k, _)| k).collect::<Vec<_>>(), ["a", "b"]);
    /// # Ok::<(), portcullis_grants::ParamsError>(())
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Builds parameters from pairs, as [`parse`](Params::parse) would decode them
    /// (for tests and for callers that already hold decoded values).
    ///
    /// ```
    /// let params = portcullis_grants::Params::from_pairs([("grant_type", "password")]);
    /// assert_eq!(params.get("grant_type"), Some("password"));
    /// ```
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Params {
        let mut params = Params::default();
        for (name, value) in pairs {
            if value.is_empty() {
                continue;
            }
            params.add(name.to_owned(), value.to_owned());
        }
        params
    }
}

fn truncate(name: &str) -> String {
    name.chars().take(40).collect()
}

#[cfg(test)]
mod tests;
