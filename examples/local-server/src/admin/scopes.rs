//! The scope catalog through the admin API (RFC 6749 §3.3 scope tokens): adding
//! `view:users`-style scopes and listing every scope, OpenID Connect's included.

use portcullis_registry::{Scope, ScopeDefinition};
use portcullis_store::StoreError;
use serde_json::Value;

use super::{Admin, AdminError};
use crate::validation::FieldMessage;

/// The longest scope description, in characters.
pub(crate) const SCOPE_DESCRIPTION_MAX_CHARS: usize = 1000;

/// A scope to add, as an administrator typed it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ScopeInput {
    /// The scope token, such as `view:users`.
    pub(crate) name: String,
    /// What granting it lets a client do, shown on the consent page.
    pub(crate) description: String,
}

impl ScopeInput {
    /// Reads `{"name", "description"}`.
    ///
    /// # Errors
    ///
    /// [`AdminError::Invalid`] naming each missing, mistyped or unknown field.
    pub(crate) fn from_json(body: Value) -> Result<ScopeInput, AdminError> {
        let Value::Object(object) = body else {
            return Err(AdminError::field("body", "must be a JSON object"));
        };
        let mut input = ScopeInput::default();
        let mut problems = Vec::new();
        for (key, value) in object {
            match (key.as_str(), value) {
                ("name", Value::String(name)) => input.name = name,
                ("description", Value::String(description)) => input.description = description,
                ("name" | "description", Value::Null) => {}
                ("name" | "description", _) => {
                    problems.push(FieldMessage::new(key, "must be a string"));
                }
                _ => problems.push(FieldMessage::new(key, "unknown field")),
            }
        }
        if problems.is_empty() {
            Ok(input)
        } else {
            Err(AdminError::Invalid(problems))
        }
    }

    /// Checks both fields, reporting every problem at once.
    fn validate(self) -> Result<ScopeDefinition, AdminError> {
        let mut problems = Vec::new();
        let name = match Scope::new(self.name.trim()) {
            Ok(name) => Some(name),
            Err(err) => {
                let message = if self.name.trim().is_empty() {
                    "must not be empty".to_owned()
                } else {
                    err.to_string()
                };
                problems.push(FieldMessage::new("name", message));
                None
            }
        };
        let description = self.description.trim();
        if description.is_empty() {
            problems.push(FieldMessage::new("description", "must not be empty"));
        } else if description
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            problems.push(FieldMessage::new(
                "description",
                "must not contain control characters",
            ));
        } else if description.chars().count() > SCOPE_DESCRIPTION_MAX_CHARS {
            problems.push(FieldMessage::new(
                "description",
                format!("must be at most {SCOPE_DESCRIPTION_MAX_CHARS} characters"),
            ));
        }
        match name {
            Some(name) if problems.is_empty() => Ok(ScopeDefinition::new(name, description)),
            _ => Err(AdminError::Invalid(problems)),
        }
    }
}

impl Admin {
    /// Adds a scope to the catalog.
    ///
    /// # Errors
    ///
    /// [`AdminError::Invalid`] naming each bad field; [`AdminError::Conflict`] when the scope
    /// exists (OpenID Connect's own scopes exist from the start).
    pub(crate) async fn create_scope(
        &self,
        input: ScopeInput,
    ) -> Result<ScopeDefinition, AdminError> {
        let scope = input.validate()?;
        let conflict = || AdminError::Conflict {
            what: "scope",
            key: scope.name.to_string(),
            field: "name",
        };
        if self
            .provider
            .scope_catalog()
            .await?
            .contains(scope.name.as_str())
        {
            return Err(conflict());
        }
        match self.store().insert_scope(scope.clone()).await {
            Ok(()) => {
                tracing::info!(scope = %scope.name, "scope created");
                Ok(scope)
            }
            Err(StoreError::Conflict { .. }) => Err(conflict()),
            Err(err) => Err(err.into()),
        }
    }

    /// Every scope that exists, by name: OpenID Connect's and the catalog's.
    pub(crate) async fn list_scopes(&self) -> Result<Vec<ScopeDefinition>, AdminError> {
        Ok(self
            .provider
            .scope_catalog()
            .await?
            .iter()
            .cloned()
            .collect())
    }
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields(err: AdminError) -> Vec<String> {
        err.fields().into_iter().map(|f| f.field).collect()
    }

    #[test]
    fn both_fields_are_checked() {
        let err = ScopeInput::from_json(json!({"name": "two words", "description": " "}))
            .unwrap()
            .validate()
            .unwrap_err();
        assert_eq!(fields(err), ["name", "description"]);
    }

    #[test]
    fn a_good_scope() {
        let scope =
            ScopeInput::from_json(json!({"name": "view:users", "description": "See users"}))
                .unwrap()
                .validate()
                .unwrap();
        assert_eq!(scope.name.as_str(), "view:users");
    }

    #[test]
    fn unknown_fields_are_named() {
        let err = ScopeInput::from_json(json!({"name": "a", "descr": "b"})).unwrap_err();
        assert_eq!(fields(err), ["descr"]);
    }
}
