//! Administration (DESIGN §4.1): [`Admin`], the operations on clients, scopes and users with
//! their validation, and the JSON admin API over them ([`router`]). The admin console calls
//! the same [`Admin`] methods, so both show the same messages.
//!
//! | request | answer |
//! |---|---|
//! | `POST /admin/clients` | `201` the client, with `client_secret` for confidential clients (shown this once) |
//! | `GET /admin/clients` | `200` every client |
//! | `GET /admin/clients/{id}` | `200` the client |
//! | `PATCH /admin/clients/{id}` | `200` the updated client; `{"revoked": true}` also revokes its tokens |
//! | `DELETE /admin/clients/{id}` | `204`; its tokens are revoked |
//! | `POST /admin/clients/{id}/secret` | `200` the client with its new `client_secret` |
//! | `GET /admin/clients/{id}/endpoints` | `200` discovery, authorization, token, logout, userinfo… URLs |
//! | `POST /admin/scopes`, `GET /admin/scopes` | `201` the scope; `200` the catalog, OIDC scopes included |
//! | `POST /admin/users`, `GET /admin/users` | `201` the user; `200` every user (never a password hash) |
//!
//! Every request needs `Authorization: Bearer <admin token>` (else `401`); invalid input is
//! `400 {"error": "invalid_request", "error_description": "<field>: <problem>", "fields": [{"field", "message"}]}`,
//! an unknown client `404`, a duplicate `409`.

mod auth;
pub(crate) mod clients;
mod error;
mod http;
pub(crate) mod scopes;
pub(crate) mod users;

use std::sync::Arc;

use portcullis_endpoints::Provider;
use portcullis_store::Store;
use tokio::sync::Mutex;

use crate::users::Users;

pub(crate) use auth::AdminToken;
pub(crate) use clients::{ClientInput, ScopesInput};
pub(crate) use error::AdminError;
pub(crate) use http::router;
pub(crate) use scopes::ScopeInput;

/// The administrator's operations over the provider's store and the users table. Cheap to
/// clone.
#[derive(Clone)]
pub(crate) struct Admin {
    provider: Provider,
    users: Users,
    /// Serializes read-modify-write edits of one process (an edit racing a secret rotation
    /// must not bring the old secret back).
    writes: Arc<Mutex<()>>,
    /// The audit log, when the server records events.
    audit: Option<portcullis_store_sql::AuditLog>,
    /// The Prometheus recorder's handle, when metrics are recorded.
    metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
}

impl Admin {
    /// Administration of `provider`'s clients and scopes and of `users`.
    pub(crate) fn new(provider: Provider, users: Users) -> Admin {
        Admin {
            provider,
            users,
            writes: Arc::new(Mutex::new(())),
            audit: None,
            metrics: None,
        }
    }

    /// Renders `handle`'s metrics at `GET /admin/metrics`.
    pub(crate) fn with_metrics(
        mut self,
        handle: metrics_exporter_prometheus::PrometheusHandle,
    ) -> Admin {
        self.metrics = Some(handle);
        self
    }

    /// The metrics in Prometheus text format; `None` when none are recorded.
    pub(crate) fn metrics(&self) -> Option<String> {
        self.metrics.as_ref().map(|handle| handle.render())
    }

    /// Reads events from `log` for the console's Audit page.
    pub(crate) fn with_audit(mut self, log: portcullis_store_sql::AuditLog) -> Admin {
        self.audit = Some(log);
        self
    }

    /// The recorded events `filter` selects, newest first; `None` when nothing is recorded.
    ///
    /// # Errors
    ///
    /// [`AdminError::Store`] when the database fails.
    pub(crate) async fn audit(
        &self,
        filter: &portcullis_store_sql::AuditFilter,
    ) -> Result<Option<Vec<portcullis_events::Envelope>>, AdminError> {
        let Some(log) = &self.audit else {
            return Ok(None);
        };
        log.query(filter)
            .await
            .map(Some)
            .map_err(|err| AdminError::Store(err.into()))
    }

    /// The provider administered.
    pub(crate) fn provider(&self) -> &Provider {
        &self.provider
    }

    fn store(&self) -> &Arc<dyn Store> {
        self.provider.store()
    }
}
