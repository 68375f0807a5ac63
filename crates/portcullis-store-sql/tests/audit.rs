//! The audit log on SQLite and PostgreSQL: every event recorded through a queue, and the
//! console's filters (client, user, type, time) each narrowing as they should.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod support;

use portcullis_events::{Envelope, Event, EventQueue, EventSink};
use portcullis_store_sql::{AuditFilter, AuditLog, SqlStore};
use time::{Duration, OffsetDateTime};

/// Events at known instants: one minute apart, oldest first.
fn history(start: OffsetDateTime) -> Vec<Envelope> {
    let events = [
        Event::ClientCreated {
            client_id: "billing".into(),
        },
        Event::LoginFailed {
            username: "alice".into(),
            reason: "wrong password".into(),
        },
        Event::LoginSucceeded {
            subject: "alice".into(),
        },
        Event::ConsentGranted {
            subject: "alice".into(),
            client_id: "web".into(),
            scope: "openid".into(),
        },
        Event::TokenIssued {
            client_id: "web".into(),
            subject: Some("alice".into()),
            grant_type: "authorization_code".into(),
            scope: "openid".into(),
        },
        Event::TokenIssued {
            client_id: "billing".into(),
            subject: None,
            grant_type: "client_credentials".into(),
            scope: "view:users".into(),
        },
        Event::TokenRevoked {
            client_id: "billing".into(),
        },
    ];
    events
        .into_iter()
        .enumerate()
        .map(|(i, event)| {
            let mut envelope = Envelope::new(event);
            envelope.timestamp = start + Duration::minutes(i64::try_from(i).expect("small"));
            envelope
        })
        .collect()
}

async fn filters_narrow(store: SqlStore) {
    let log = AuditLog::new(store);
    // Whole seconds: the envelope's wire form keeps seconds.
    let start = OffsetDateTime::from_unix_timestamp(1_700_000_000).expect("instant");
    let events = history(start);
    // Through the queue, as the provider records them: none lost while it has room.
    let queue = EventQueue::spawn(log.clone(), 64);
    for envelope in &events {
        log.record(envelope).await.expect("recorded");
    }
    log.record(&events[0])
        .await
        .expect("a repeated id is ignored");
    queue.emit(Event::ClientDeleted {
        client_id: "gone".into(),
    });
    queue.flush().await;
    assert_eq!(queue.dropped(), 0);

    let names = |found: Vec<Envelope>| -> Vec<&'static str> {
        found.iter().map(|e| e.event.name()).collect()
    };
    let all = log.query(&AuditFilter::default()).await.expect("query");
    assert_eq!(all.len(), events.len() + 1, "each event once");
    assert_eq!(all[0].event.name(), "client.deleted", "newest first");

    let table: [(&str, AuditFilter, Vec<&str>); 6] = [
        (
            "by client",
            AuditFilter {
                client_id: Some("billing".into()),
                ..AuditFilter::default()
            },
            vec!["token.revoked", "token.issued", "client.created"],
        ),
        (
            "by user (a failed login counts the username typed)",
            AuditFilter {
                subject: Some("alice".into()),
                ..AuditFilter::default()
            },
            vec![
                "token.issued",
                "consent.granted",
                "login.succeeded",
                "login.failed",
            ],
        ),
        (
            "by type",
            AuditFilter {
                event_type: Some("token.issued".into()),
                ..AuditFilter::default()
            },
            vec!["token.issued", "token.issued"],
        ),
        (
            "by time window [start+2m, start+5m)",
            AuditFilter {
                since: Some(start + Duration::minutes(2)),
                until: Some(start + Duration::minutes(5)),
                ..AuditFilter::default()
            },
            vec!["token.issued", "consent.granted", "login.succeeded"],
        ),
        (
            "client and type together",
            AuditFilter {
                client_id: Some("web".into()),
                event_type: Some("token.issued".into()),
                ..AuditFilter::default()
            },
            vec!["token.issued"],
        ),
        (
            "limit keeps the newest",
            AuditFilter {
                until: Some(start + Duration::hours(1)),
                limit: 2,
                ..AuditFilter::default()
            },
            vec!["token.revoked", "token.issued"],
        ),
    ];
    for (case, filter, expected) in table {
        let found = log.query(&filter).await.expect("query");
        assert_eq!(names(found), expected, "{case}");
    }
    let round_trip = log
        .query(&AuditFilter {
            event_type: Some("login.failed".into()),
            ..AuditFilter::default()
        })
        .await
        .expect("query");
    assert_eq!(
        round_trip,
        vec![events[1].clone()],
        "the envelope as recorded"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_audit_log_filters() {
    filters_narrow(SqlStore::Sqlite(support::sqlite_store().await)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_audit_log_filters() {
    let Some(store) = support::postgres_store().await else {
        return;
    };
    filters_narrow(SqlStore::Postgres(store)).await;
}
