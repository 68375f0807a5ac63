#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use portcullis_registry::{ClientId, RoleAssignment, ScopeSet};
use portcullis_store::{FamilyId, TokenRecord, TokenStatus};
use portcullis_tokens::{Subject, TokenHash, TokenKind};
use serde_json::json;
use time::{Duration, OffsetDateTime};

use super::IntrospectionResponse;

fn record(kind: TokenKind) -> TokenRecord {
    let issued_at = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
    TokenRecord {
        hash: TokenHash::of("pc_at_x"),
        kind,
        client_id: ClientId::new("reports").unwrap(),
        subject: None,
        scopes: ScopeSet::parse("view:users create:users").unwrap(),
        roles: vec![
            RoleAssignment::new("auditor", Some("emea")),
            RoleAssignment::new("reader", None),
        ],
        family: FamilyId::from_stored("f1".into()),
        issued_at,
        expires_at: issued_at + Duration::hours(1),
        status: TokenStatus::Active,
        audience: Vec::new(),
        confirmation: None,
    }
}

#[test]
fn rfc7662_2_2_inactive_is_active_false_and_nothing_else() {
    let value = serde_json::to_value(IntrospectionResponse::inactive()).unwrap();
    assert_eq!(value, json!({"active": false}));
}

#[test]
fn rfc7662_2_2_active_access_token_members() {
    let answer =
        IntrospectionResponse::active(record(TokenKind::AccessToken), "https://id.example");
    assert_eq!(
        serde_json::to_value(&answer).unwrap(),
        json!({
            "active": true,
            "scope": "create:users view:users",
            "client_id": "reports",
            "exp": 1_700_003_600,
            "iat": 1_700_000_000,
            "token_type": "Bearer",
            "iss": "https://id.example",
            "roles": [{"role": "auditor", "division": "emea"}, {"role": "reader"}],
        })
    );
}

#[test]
fn rfc7662_2_2_refresh_token_with_subject_no_roles_no_scope() {
    let mut record = record(TokenKind::RefreshToken);
    record.subject = Some(Subject::new("user-alice").unwrap());
    record.roles.clear();
    record.scopes = ScopeSet::new();
    let value =
        serde_json::to_value(IntrospectionResponse::active(record, "https://id.example")).unwrap();
    assert_eq!(value["token_type"], "refresh_token");
    assert_eq!(value["sub"], "user-alice");
    assert!(value.get("roles").is_none());
    assert!(value.get("scope").is_none());
}

#[test]
fn round_trips_through_json() {
    let answer =
        IntrospectionResponse::active(record(TokenKind::AccessToken), "https://id.example");
    let text = serde_json::to_string(&answer).unwrap();
    assert_eq!(
        serde_json::from_str::<IntrospectionResponse>(&text).unwrap(),
        answer
    );
}
