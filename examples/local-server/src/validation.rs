//! Problems with input, each tied to the field it concerns: what the admin API answers as
//! `400` and what the admin console shows next to the field.

use std::fmt;

use portcullis_registry::{FieldErrorReason, ValidationErrors};
use serde::Serialize;

/// One problem with one input field, by the field's admin API name (`name`,
/// `redirect_uris[2]`, `username`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct FieldMessage {
    /// The field's path.
    pub(crate) field: String,
    /// What is wrong with it, for a person.
    pub(crate) message: String,
}

impl FieldMessage {
    /// `message` about `field`.
    pub(crate) fn new(field: impl Into<String>, message: impl Into<String>) -> FieldMessage {
        FieldMessage {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Every problem, joined for an `error_description`: `name: must not be empty; scopes: …`.
pub(crate) fn describe(fields: &[FieldMessage]) -> String {
    fields
        .iter()
        .map(FieldMessage::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The registry's verdict on a client as field messages, or `Err` with the reason when the
/// failure was not the input's (the system random generator failed).
pub(crate) fn from_registry(errors: ValidationErrors) -> Result<Vec<FieldMessage>, String> {
    let mut fields = Vec::new();
    for error in errors {
        if let FieldErrorReason::EntropyUnavailable(source) = &error.reason {
            return Err(format!("{}: {source}", error.reason));
        }
        fields.push(FieldMessage::new(error.path(), error.reason.to_string()));
    }
    Ok(fields)
}
