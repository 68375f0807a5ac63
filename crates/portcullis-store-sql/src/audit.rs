//! The audit log: every provider event in a table, read back with filters.
//!
//! [`AuditLog`] is an [`EventHandler`]: put it behind an
//! [`EventQueue`](portcullis_events::EventQueue) and give the queue to the provider, so
//! recording never slows a request. [`AuditLog::query`] answers the console's filters
//! (client, user, type, time), newest first.

use async_trait::async_trait;
use portcullis_events::{Envelope, EventHandler};
use time::OffsetDateTime;

use crate::codec::micros;
use crate::{SqlStore, SqlStoreError};

/// Most rows one query returns.
pub const AUDIT_QUERY_MAX: u32 = 1000;

const INSERT: &str = "INSERT INTO audit_events (id, at, type, client_id, subject, record) \
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING";
/// `CAST(… AS TEXT) IS NULL` reads the same in SQLite and PostgreSQL: an absent filter
/// matches every row.
const QUERY: &str = "SELECT record FROM audit_events \
     WHERE (CAST($1 AS TEXT) IS NULL OR client_id = $1) \
       AND (CAST($2 AS TEXT) IS NULL OR subject = $2) \
       AND (CAST($3 AS TEXT) IS NULL OR type = $3) \
       AND at >= $4 AND at < $5 \
     ORDER BY at DESC, id DESC LIMIT $6";

/// Which audit events to read: every field narrows; the default is everything, newest 100.
///
/// ```
/// use portcullis_store_sql::AuditFilter;
/// let filter = AuditFilter { client_id: Some("billing".into()), ..AuditFilter::default() };
/// assert_eq!(filter.limit, 100);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only events about this client.
    pub client_id: Option<String>,
    /// Only events about this user (for failed logins, the username typed).
    pub subject: Option<String>,
    /// Only events of this type, such as `token.issued`.
    pub event_type: Option<String>,
    /// Only events at or after this instant.
    pub since: Option<OffsetDateTime>,
    /// Only events before this instant.
    pub until: Option<OffsetDateTime>,
    /// At most this many (capped at [`AUDIT_QUERY_MAX`]).
    pub limit: u32,
}

impl Default for AuditFilter {
    fn default() -> Self {
        AuditFilter {
            client_id: None,
            subject: None,
            event_type: None,
            since: None,
            until: None,
            limit: 100,
        }
    }
}

/// The audit log in a [`SqlStore`]'s database (table `audit_events`, migration 4).
///
/// ```
/// use portcullis_events::{Envelope, Event, EventHandler};
/// use portcullis_store_sql::{AuditFilter, AuditLog, SqlStore};
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt").block_on(async {
/// let store = SqlStore::connect("sqlite::memory:").await?;
/// store.migrate().await?;
/// let log = AuditLog::new(store);
/// log.handle(Envelope::new(Event::TokenRevoked { client_id: "billing".into() })).await;
/// let found = log.query(&AuditFilter::default()).await?;
/// assert_eq!(found[0].event.name(), "token.revoked");
/// # Ok::<(), portcullis_store_sql::SqlStoreError>(())
/// # }).expect("demo");
/// ```
#[derive(Debug, Clone)]
pub struct AuditLog {
    store: SqlStore,
}

impl AuditLog {
    /// The audit log in `store`'s database (migrated with [`SqlStore::migrate`]).
    #[must_use]
    pub fn new(store: SqlStore) -> AuditLog {
        AuditLog { store }
    }

    /// Records `envelope`; recording the same id twice keeps the first.
    ///
    /// # Errors
    ///
    /// [`SqlStoreError`] when the database refuses the write.
    pub async fn record(&self, envelope: &Envelope) -> Result<(), SqlStoreError> {
        let record =
            serde_json::to_string(envelope).map_err(|err| SqlStoreError::Audit(err.to_string()))?;
        let event = &envelope.event;
        macro_rules! insert {
            ($pool:expr) => {
                sqlx::query(INSERT)
                    .bind(envelope.id.as_str())
                    .bind(micros(envelope.timestamp))
                    .bind(event.name())
                    .bind(event.client_id())
                    .bind(event.subject())
                    .bind(record.as_str())
                    .execute($pool)
                    .await
                    .map(|_| ())
            };
        }
        match &self.store {
            SqlStore::Sqlite(store) => insert!(store.pool()),
            SqlStore::Postgres(store) => insert!(store.pool()),
        }
        .map_err(|source| SqlStoreError::AuditQuery { source })
    }

    /// The events `filter` selects, newest first.
    ///
    /// # Errors
    ///
    /// [`SqlStoreError`] when the database fails or a stored row is not an envelope.
    pub async fn query(&self, filter: &AuditFilter) -> Result<Vec<Envelope>, SqlStoreError> {
        let since = filter.since.map_or(i64::MIN, micros);
        let until = filter.until.map_or(i64::MAX, micros);
        let limit = i64::from(filter.limit.min(AUDIT_QUERY_MAX));
        macro_rules! select {
            ($pool:expr) => {
                sqlx::query_scalar::<_, String>(QUERY)
                    .bind(filter.client_id.as_deref())
                    .bind(filter.subject.as_deref())
                    .bind(filter.event_type.as_deref())
                    .bind(since)
                    .bind(until)
                    .bind(limit)
                    .fetch_all($pool)
                    .await
            };
        }
        let rows = match &self.store {
            SqlStore::Sqlite(store) => select!(store.pool()),
            SqlStore::Postgres(store) => select!(store.pool()),
        }
        .map_err(|source| SqlStoreError::AuditQuery { source })?;
        rows.iter()
            .map(|row| {
                serde_json::from_str(row).map_err(|err| SqlStoreError::Audit(err.to_string()))
            })
            .collect()
    }
}

#[async_trait]
impl EventHandler for AuditLog {
    /// Records the event; a failure is logged (never the event's secrets: it has none) and
    /// the event is lost, as the queue in front of it cannot retry.
    async fn handle(&self, envelope: Envelope) {
        if let Err(err) = self.record(&envelope).await {
            tracing::error!(
                event = envelope.event.name(),
                id = %envelope.id,
                "audit log write failed: {err}"
            );
        }
    }
}
