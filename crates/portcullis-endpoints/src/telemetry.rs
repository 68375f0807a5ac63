//! Prometheus-style metrics through the [`metrics`] facade (issue 12): recorded always,
//! exported only when the application installs a recorder (for example
//! `metrics-exporter-prometheus`); without one every call is a no-op.
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `portcullis_http_requests_total` | counter | `endpoint`, `status` (the HTTP status code) |
//! | `portcullis_http_request_duration_seconds` | histogram | `endpoint` |
//! | `portcullis_token_requests_total` | counter | `grant_type`, `outcome` (`issued` or the error code) |
//! | `portcullis_token_request_duration_seconds` | histogram | `grant_type` |
//! | `portcullis_tokens_issued_total` | counter | `grant_type` |
//! | `portcullis_tokens_revoked_total` | counter | — |
//! | `portcullis_refresh_reuse_detected_total` | counter | — |
//! | `portcullis_logins_total` | counter | `outcome` (`succeeded`, `failed`) |
//! | `portcullis_events_total` | counter | `type` (every event, e.g. `consent.granted`) |

use std::sync::Arc;
use std::time::Duration;

use portcullis_events::{Event, EventSink};
use portcullis_registry::GrantType;

use crate::Endpoint;

/// One answered request of `endpoint`.
pub(crate) fn request(endpoint: Endpoint, status: u16, elapsed: Duration) {
    let name = endpoint.name();
    metrics::counter!("portcullis_http_requests_total", "endpoint" => name, "status" => status.to_string())
        .increment(1);
    metrics::histogram!("portcullis_http_request_duration_seconds", "endpoint" => name)
        .record(elapsed.as_secs_f64());
}

/// One token request with `grant_type`, answered `outcome` (`issued` or an error code).
pub(crate) fn token_request(grant_type: &str, outcome: &str, elapsed: Duration) {
    let grant_type = grant_label(grant_type);
    metrics::counter!("portcullis_token_requests_total", "grant_type" => grant_type.clone(), "outcome" => outcome.to_owned())
        .increment(1);
    metrics::histogram!("portcullis_token_request_duration_seconds", "grant_type" => grant_type)
        .record(elapsed.as_secs_f64());
}

/// A grant type as a label: the registry's wire names ([`GrantType`]) as they are, anything
/// else `other`, so a client cannot grow the label set without bound.
fn grant_label(grant_type: &str) -> String {
    match grant_type.parse::<GrantType>() {
        Ok(known) => known.as_str().to_owned(),
        Err(_) => "other".to_owned(),
    }
}

/// The provider's event sink with counters in front: every event is counted, then handed
/// to the application's sink unchanged.
pub(crate) struct Metered(pub(crate) Arc<dyn EventSink>);

impl EventSink for Metered {
    fn emit(&self, event: Event) {
        metrics::counter!("portcullis_events_total", "type" => event.name()).increment(1);
        match &event {
            Event::TokenIssued { grant_type, .. } => {
                metrics::counter!("portcullis_tokens_issued_total", "grant_type" => grant_label(grant_type))
                    .increment(1);
            }
            Event::TokenRevoked { .. } => {
                metrics::counter!("portcullis_tokens_revoked_total").increment(1);
            }
            Event::RefreshReuseDetected { .. } => {
                metrics::counter!("portcullis_refresh_reuse_detected_total").increment(1);
            }
            Event::LoginSucceeded { .. } => {
                metrics::counter!("portcullis_logins_total", "outcome" => "succeeded").increment(1);
            }
            Event::LoginFailed { .. } => {
                metrics::counter!("portcullis_logins_total", "outcome" => "failed").increment(1);
            }
            _ => {}
        }
        self.0.emit(event);
    }
}
