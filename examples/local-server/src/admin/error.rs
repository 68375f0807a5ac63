//! Every way an admin operation fails, and the one place where each becomes an HTTP status
//! and a JSON body `{"error", "error_description", "fields"?}`.

use axum::Json;
use axum::http::StatusCode;
use axum::http::header::CACHE_CONTROL;
use axum::response::{IntoResponse, Response};
use portcullis_store::StoreError;
use serde_json::json;

use crate::users::UserError;
use crate::validation::{FieldMessage, describe};

/// Why an admin operation failed. The console shows the same messages the API sends.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AdminError {
    /// The input breaks a rule; each message names its field (`400 invalid_request`).
    #[error("{}", describe(.0))]
    Invalid(Vec<FieldMessage>),
    /// No such record (`404 not_found`).
    #[error("{what} {key} not found")]
    NotFound {
        /// `"client"`, …
        what: &'static str,
        /// The id that was asked for.
        key: String,
    },
    /// The record exists already (`409 conflict`).
    #[error("{what} {key} already exists")]
    Conflict {
        /// `"client"`, `"scope"`, `"user"`.
        what: &'static str,
        /// The taken key.
        key: String,
        /// The input field that holds the key.
        field: &'static str,
    },
    /// The store failed (`503` when a retry may work, `500` otherwise).
    #[error("storage failed: {0}")]
    Store(#[from] StoreError),
    /// Anything else that is not the caller's fault (`500`).
    #[error("{0}")]
    Internal(String),
}

impl AdminError {
    /// One problem with one field.
    pub(crate) fn field(field: impl Into<String>, message: impl Into<String>) -> AdminError {
        AdminError::Invalid(vec![FieldMessage::new(field, message)])
    }

    /// The problems to show next to each field, if the failure is about fields.
    pub(crate) fn fields(&self) -> Vec<FieldMessage> {
        match self {
            AdminError::Invalid(fields) => fields.clone(),
            AdminError::Conflict { field, .. } => vec![FieldMessage::new(*field, "already exists")],
            _ => Vec::new(),
        }
    }

    /// The HTTP status.
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            AdminError::Invalid(_) => StatusCode::BAD_REQUEST,
            AdminError::NotFound { .. } => StatusCode::NOT_FOUND,
            AdminError::Conflict { .. } => StatusCode::CONFLICT,
            AdminError::Store(err) if err.is_transient() => StatusCode::SERVICE_UNAVAILABLE,
            AdminError::Store(_) | AdminError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The `error` code of the JSON body.
    fn code(&self) -> &'static str {
        match self {
            AdminError::Invalid(_) => "invalid_request",
            AdminError::NotFound { .. } => "not_found",
            AdminError::Conflict { .. } => "conflict",
            AdminError::Store(err) if err.is_transient() => "temporarily_unavailable",
            AdminError::Store(_) | AdminError::Internal(_) => "server_error",
        }
    }
}

impl From<UserError> for AdminError {
    fn from(err: UserError) -> AdminError {
        match err {
            UserError::Invalid(fields) => AdminError::Invalid(fields),
            UserError::Duplicate { username } => AdminError::Conflict {
                what: "user",
                key: username,
                field: "username",
            },
            other => AdminError::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let status = self.status();
        let description = if status.is_server_error() {
            // Details go to the log, not to the caller.
            tracing::error!(error = %self, "admin request failed");
            match status {
                StatusCode::SERVICE_UNAVAILABLE => "storage is temporarily unavailable; try again",
                _ => "the server failed; see its log",
            }
            .to_owned()
        } else {
            self.to_string()
        };
        let fields = self.fields();
        let body = if fields.is_empty() {
            json!({"error": self.code(), "error_description": description})
        } else {
            json!({"error": self.code(), "error_description": description, "fields": fields})
        };
        (status, [(CACHE_CONTROL, "no-store")], Json(body)).into_response()
    }
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn invalid_input_names_the_field() {
        let err = AdminError::Invalid(vec![
            FieldMessage::new("name", "must not be empty"),
            FieldMessage::new("scopes", "unknown scope nope"),
        ]);
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            err.to_string(),
            "name: must not be empty; scopes: unknown scope nope"
        );
        assert_eq!(err.fields().len(), 2);
    }

    #[test]
    fn conflicts_point_at_their_field() {
        let err = AdminError::Conflict {
            what: "scope",
            key: "view:users".into(),
            field: "name",
        };
        assert_eq!(err.status(), StatusCode::CONFLICT);
        assert_eq!(err.to_string(), "scope view:users already exists");
        assert_eq!(err.fields()[0].field, "name");
    }
}
