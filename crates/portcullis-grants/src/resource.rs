//! Resource indicators (RFC 8707): which resource servers a token is for.
//!
//! A client names them with the `resource` parameter, at the authorization endpoint and at
//! the token endpoint, as often as it likes. Each value must be an absolute URI without a
//! fragment (§2); the provider may also limit them to the resource servers it knows
//! ([`ResourcePolicy::Only`]). The access token's audience is what the token request asked
//! for, which must be part of what the user authorized (§2.2); a refresh token keeps the
//! whole authorized set, so the client can later ask for another resource of it.

use std::collections::BTreeSet;

use crate::GrantError;

/// The most `resource` values one request may carry.
pub const MAX_RESOURCES: usize = 16;

/// Which resource indicators the provider accepts.
///
/// ```
/// use portcullis_grants::ResourcePolicy;
/// let open = ResourcePolicy::default();
/// assert!(open.accepts("https://api.example/"));
/// let only = ResourcePolicy::only(["https://api.example/"]);
/// assert!(only.accepts("https://api.example/"));
/// assert!(!only.accepts("https://other.example/"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResourcePolicy {
    /// Any absolute URI without a fragment (the default).
    #[default]
    Any,
    /// Only these resource servers; anything else is `invalid_target`.
    Only(BTreeSet<String>),
}

impl ResourcePolicy {
    /// Accepts exactly `resources`.
    pub fn only(resources: impl IntoIterator<Item = impl Into<String>>) -> ResourcePolicy {
        ResourcePolicy::Only(resources.into_iter().map(Into::into).collect())
    }

    /// Whether `resource` (already checked to be an absolute URI) is acceptable.
    #[must_use]
    pub fn accepts(&self, resource: &str) -> bool {
        match self {
            ResourcePolicy::Any => true,
            ResourcePolicy::Only(known) => known.contains(resource),
        }
    }

    /// Checks every value of the `resource` parameter and returns them without duplicates,
    /// in request order.
    ///
    /// ```
    /// use portcullis_grants::ResourcePolicy;
    /// let policy = ResourcePolicy::default();
    /// let ok = policy.check(["https://api.example/", "https://api.example/"])?;
    /// assert_eq!(ok, ["https://api.example/"]);
    /// let err = policy.check(["https://api.example/#frag"]).unwrap_err();
    /// assert_eq!(err.code(), "invalid_target");
    /// assert!(policy.check(["/relative"]).is_err());
    /// # Ok::<(), portcullis_grants::GrantError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// `invalid_target` (RFC 8707 §2) for a value that is not an absolute URI, has a
    /// fragment, is not accepted by the policy, or when there are more than
    /// [`MAX_RESOURCES`].
    pub fn check<'a>(
        &self,
        values: impl IntoIterator<Item = &'a str>,
    ) -> Result<Vec<String>, GrantError> {
        let mut resources: Vec<String> = Vec::new();
        for value in values {
            if resources.len() >= MAX_RESOURCES {
                return Err(invalid_target("too many resource parameters"));
            }
            let absolute = url::Url::parse(value).is_ok_and(|url| url.fragment().is_none())
                && !value.contains('#');
            if !absolute {
                return Err(invalid_target(
                    "resource must be an absolute URI without a fragment (RFC 8707 §2)",
                ));
            }
            if !self.accepts(value) {
                return Err(invalid_target("the resource is not known to this provider"));
            }
            if !resources.iter().any(|known| known == value) {
                resources.push(value.to_owned());
            }
        }
        Ok(resources)
    }
}

/// The audiences of what one grant issues: the access token's, and the refresh token's
/// (the whole authorized set, RFC 8707 §2.2).
///
/// ```
/// use portcullis_grants::Audience;
/// let granted = vec!["https://a.example/".to_owned(), "https://b.example/".to_owned()];
/// let narrowed = Audience::narrow(&granted, vec!["https://b.example/".into()])?;
/// assert_eq!(narrowed.access_token, ["https://b.example/"]);
/// assert_eq!(narrowed.grant, granted);
/// assert!(Audience::narrow(&granted, vec!["https://c.example/".into()]).is_err());
/// # Ok::<(), portcullis_grants::GrantError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Audience {
    /// `aud` of the access token; empty for no restriction.
    pub access_token: Vec<String>,
    /// The resources of the whole grant, kept with the refresh token.
    pub grant: Vec<String>,
}

impl Audience {
    /// No restriction: the client named no resource.
    #[must_use]
    pub fn unrestricted() -> Audience {
        Audience::default()
    }

    /// A new grant for `requested` resources (client credentials, password, …).
    #[must_use]
    pub fn requested(requested: Vec<String>) -> Audience {
        Audience {
            access_token: requested.clone(),
            grant: requested,
        }
    }

    /// A token request under an earlier authorization of `granted` resources (code,
    /// refresh): the access token is for the `requested` ones, or all of them when none is
    /// named. An authorization that named no resource is unrestricted: the token request
    /// may name any (accepted) resource.
    ///
    /// # Errors
    ///
    /// `invalid_target` when a requested resource was not authorized (RFC 8707 §2.2).
    pub fn narrow(granted: &[String], requested: Vec<String>) -> Result<Audience, GrantError> {
        if requested.is_empty() {
            return Ok(Audience {
                access_token: granted.to_vec(),
                grant: granted.to_vec(),
            });
        }
        if !granted.is_empty() && requested.iter().any(|resource| !granted.contains(resource)) {
            return Err(invalid_target(
                "the resource was not part of the authorization (RFC 8707 §2.2)",
            ));
        }
        Ok(Audience {
            access_token: requested,
            grant: granted.to_vec(),
        })
    }
}

/// `invalid_target` (RFC 8707 §2), status 400.
pub(crate) fn invalid_target(description: &'static str) -> GrantError {
    GrantError::Extension {
        code: "invalid_target",
        description: description.into(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used, clippy::unwrap_used)]
    use super::*;

    /// RFC 8707 §2: "absolute URI … MUST NOT include a fragment component".
    #[test]
    fn rfc8707_2_bad_resource_values_are_invalid_target() {
        let policy = ResourcePolicy::only(["https://api.example/"]);
        let table: [(&str, &[&str]); 6] = [
            ("relative", &["/api"]),
            ("fragment", &["https://api.example/#x"]),
            ("empty fragment", &["https://api.example/#"]),
            ("no scheme", &["api.example"]),
            ("unknown to the policy", &["https://other.example/"]),
            (
                "one bad among good",
                &["https://api.example/", "https://x.example/"],
            ),
        ];
        for (case, values) in table {
            let err = policy.check(values.iter().copied()).expect_err(case);
            assert_eq!(err.code(), "invalid_target", "{case}");
        }
        let many: Vec<String> = (0..=MAX_RESOURCES)
            .map(|i| format!("https://r{i}.example/"))
            .collect();
        let err = ResourcePolicy::Any
            .check(many.iter().map(String::as_str))
            .expect_err("too many");
        assert_eq!(err.code(), "invalid_target");
    }

    #[test]
    fn rfc8707_2_2_narrowing_keeps_the_grant() {
        let granted = vec!["https://a.example/".to_owned()];
        assert_eq!(
            Audience::narrow(&granted, Vec::new())
                .expect("all")
                .access_token,
            granted
        );
        let unrestricted = Audience::narrow(&[], vec!["https://b.example/".into()]).expect("any");
        assert_eq!(unrestricted.access_token, ["https://b.example/"]);
        assert!(unrestricted.grant.is_empty());
        assert_eq!(
            Audience::narrow(&granted, vec!["https://b.example/".into()])
                .expect_err("not authorized")
                .code(),
            "invalid_target"
        );
    }
}
