//! Users through the admin API: `{"username", "password", "name"?, "email"?}`.

use serde_json::Value;

use super::{Admin, AdminError};
use crate::users::{NewUser, User};
use crate::validation::FieldMessage;

/// Reads `{"username", "password", "name"?, "email"?}`.
///
/// # Errors
///
/// [`AdminError::Invalid`] naming each mistyped or unknown field.
pub(crate) fn new_user_from_json(body: Value) -> Result<NewUser, AdminError> {
    let Value::Object(object) = body else {
        return Err(AdminError::field("body", "must be a JSON object"));
    };
    let mut user = NewUser::default();
    let mut problems = Vec::new();
    for (key, value) in object {
        match (key.as_str(), value) {
            (_, Value::Null) if key != "username" && key != "password" => {}
            ("username", Value::String(text)) => user.username = text,
            ("password", Value::String(text)) => user.password = text,
            ("name", Value::String(text)) => user.name = Some(text),
            ("email", Value::String(text)) => user.email = Some(text),
            ("username" | "password" | "name" | "email", _) => {
                problems.push(FieldMessage::new(key, "must be a string"));
            }
            _ => problems.push(FieldMessage::new(key, "unknown field")),
        }
    }
    if problems.is_empty() {
        Ok(user)
    } else {
        Err(AdminError::Invalid(problems))
    }
}

impl Admin {
    /// Creates a user with an argon2id password hash.
    ///
    /// # Errors
    ///
    /// [`AdminError::Invalid`] naming each bad field; [`AdminError::Conflict`] when the
    /// username is taken.
    pub(crate) async fn create_user(&self, new: NewUser) -> Result<User, AdminError> {
        let user = self.users.create(new).await?;
        tracing::info!(subject = %user.subject, "user created");
        Ok(user)
    }

    /// Replaces the password of `username`.
    ///
    /// # Errors
    ///
    /// [`AdminError::Invalid`] for a password that breaks the rules; [`AdminError::NotFound`]
    /// for an unknown username.
    pub(crate) async fn set_password(
        &self,
        username: &str,
        password: String,
    ) -> Result<(), AdminError> {
        if self.users.set_password(username, password).await? {
            tracing::info!(username, "password changed");
            Ok(())
        } else {
            Err(AdminError::NotFound {
                what: "user",
                key: username.to_owned(),
            })
        }
    }

    /// Every user, by username; never a password hash.
    pub(crate) async fn list_users(&self) -> Result<Vec<User>, AdminError> {
        Ok(self.users.list().await?)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn fields_are_read_and_checked() {
        let user = new_user_from_json(
            json!({"username": "alice", "password": "correct horse", "email": null}),
        )
        .unwrap();
        assert_eq!(user.username, "alice");
        assert_eq!(user.email, None);

        let err = new_user_from_json(json!({"username": 1, "pass": "x"})).unwrap_err();
        let mut fields: Vec<String> = err.fields().into_iter().map(|f| f.field).collect();
        fields.sort();
        assert_eq!(fields, ["pass", "username"]);
    }
}
