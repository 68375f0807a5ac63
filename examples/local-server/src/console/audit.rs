//! The console's Audit page: the provider's events, newest first, filtered by client, user,
//! type and time (issue 12).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use portcullis_store_sql::AuditFilter;
use serde::Deserialize;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

use super::Console;
use super::pages::{self, AuditPage, AuditRow, Chrome};

/// The filters, as the page's GET form sends them; empty fields are no filter.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct AuditQuery {
    #[serde(default)]
    client: String,
    #[serde(default)]
    user: String,
    #[serde(default, rename = "type")]
    event_type: String,
    /// `YYYY-MM-DDTHH:MM`, UTC (an `<input type="datetime-local">`).
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
}

/// `GET /admin/console/audit`.
pub(crate) async fn page(
    State(console): State<Console>,
    headers: HeaderMap,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Response {
    let session = match console.signed_in(&headers) {
        Ok(session) => session,
        Err(answer) => return *answer,
    };
    // A query string that does not parse is no filter, not an error page.
    let query = query.map(|Query(query)| query).unwrap_or_default();
    let mut problems = Vec::new();
    let mut instant = |name: &str, raw: &str| {
        let parsed = parse_local(raw);
        if parsed.is_none() && !raw.trim().is_empty() {
            problems.push(format!("{name}: use YYYY-MM-DDTHH:MM (UTC)"));
        }
        parsed
    };
    let filter = AuditFilter {
        client_id: non_empty(&query.client),
        subject: non_empty(&query.user),
        event_type: non_empty(&query.event_type),
        since: instant("since", &query.since),
        until: instant("until", &query.until),
        limit: 200,
    };
    let (rows, enabled) = match console.admin.audit(&filter).await {
        Ok(Some(events)) => (events.into_iter().map(AuditRow::from).collect(), true),
        Ok(None) => (Vec::new(), false),
        Err(err) => return pages::failure(&err, &session.csrf),
    };
    pages::render(
        StatusCode::OK,
        &AuditPage {
            chrome: Chrome::signed_in("Audit log", "audit", &session.csrf),
            enabled,
            rows,
            client: query.client,
            user: query.user,
            event_type: query.event_type,
            since: query.since,
            until: query.until,
            problems,
        },
    )
}

fn non_empty(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

/// `YYYY-MM-DDTHH:MM` (seconds optional) as a UTC instant; `None` when it is not one.
fn parse_local(raw: &str) -> Option<OffsetDateTime> {
    let (date, time) = raw.trim().split_once('T')?;
    let mut date = date.split('-').map(str::parse::<i64>);
    let (Some(Ok(year)), Some(Ok(month)), Some(Ok(day)), None) =
        (date.next(), date.next(), date.next(), date.next())
    else {
        return None;
    };
    let mut clock = time.split(':').map(str::parse::<u8>);
    let (Some(Ok(hour)), Some(Ok(minute))) = (clock.next(), clock.next()) else {
        return None;
    };
    let second = match clock.next() {
        None => 0,
        Some(Ok(second)) => second,
        Some(Err(_)) => return None,
    };
    let date = Date::from_calendar_date(
        i32::try_from(year).ok()?,
        Month::try_from(u8::try_from(month).ok()?).ok()?,
        u8::try_from(day).ok()?,
    )
    .ok()?;
    let time = Time::from_hms(hour, minute, second).ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}

#[cfg(test)]
mod tests {
    use super::parse_local;

    #[test]
    fn datetime_local_values_parse_as_utc_and_junk_does_not() {
        let parsed = parse_local("2026-12-06T05:30").map(|t| t.unix_timestamp());
        assert_eq!(parsed, Some(1_796_535_000));
        assert!(parse_local("2026-12-06T05:30:15").is_some());
        for junk in [
            "",
            "yesterday",
            "2026-13-01T00:00",
            "2026-12-06",
            "2026-12-06T25:00",
            "2026-12-06T05:30:99",
        ] {
            assert!(parse_local(junk).is_none(), "{junk}");
        }
    }
}
