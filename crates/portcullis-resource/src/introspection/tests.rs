//! Unit tests: the cache policy, reading answers, and the configuration checks. The HTTP
//! behaviour against a real provider is in `tests/introspection.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use portcullis_registry::{ClientId, RoleAssignment, ScopeSet};
use portcullis_tokens::{Subject, TokenHash};
use time::{Duration, OffsetDateTime};

use super::answer::{self, Refusal};
use super::cache::Cache;
use super::{IntrospectionConfigError, IntrospectionValidator, form_urlencode};
use crate::AccessToken;

fn start() -> OffsetDateTime {
    OffsetDateTime::UNIX_EPOCH + Duration::days(20_000)
}

fn token_expiring(at: OffsetDateTime) -> AccessToken {
    AccessToken {
        subject: None,
        client_id: ClientId::new("reports").unwrap(),
        scopes: ScopeSet::parse("view:users").unwrap(),
        roles: vec![],
        issued_at: start(),
        expires_at: at,
        confirmation: None,
    }
}

// ---- cache ----------------------------------------------------------------------------

#[test]
fn cache_serves_until_ttl_after_the_question_was_sent() {
    let cache = Cache::new(Duration::seconds(60), 10);
    let key = TokenHash::of("a");
    let token = token_expiring(start() + Duration::hours(1));
    // Asked at start, answered two seconds later: the TTL runs from the question.
    cache.insert(key, &token, start(), start() + Duration::seconds(2));
    assert_eq!(
        cache.get(&key, start() + Duration::seconds(59)),
        Some(token)
    );
    assert_eq!(cache.get(&key, start() + Duration::seconds(60)), None);
    assert_eq!(cache.len(), 0, "a stale entry is dropped when looked up");
}

#[test]
fn cache_never_serves_at_or_past_exp_even_with_a_longer_ttl() {
    let cache = Cache::new(Duration::hours(2), 10);
    let key = TokenHash::of("a");
    let exp = start() + Duration::seconds(300);
    let token = token_expiring(exp);
    cache.insert(key, &token, start(), start());
    assert!(cache.get(&key, exp - Duration::seconds(1)).is_some());
    assert_eq!(cache.get(&key, exp), None);
    assert_eq!(cache.get(&key, exp + Duration::seconds(1)), None);
}

#[test]
fn cache_does_not_keep_an_answer_already_stale() {
    let cache = Cache::new(Duration::seconds(60), 10);
    // The answer arrived after fetched_at + ttl (a very slow provider).
    cache.insert(
        TokenHash::of("a"),
        &token_expiring(start() + Duration::hours(1)),
        start(),
        start() + Duration::seconds(61),
    );
    // Or after the token expired.
    cache.insert(
        TokenHash::of("b"),
        &token_expiring(start()),
        start(),
        start(),
    );
    assert_eq!(cache.len(), 0);
}

#[test]
fn cache_disabled_by_zero_ttl_or_zero_capacity() {
    for cache in [
        Cache::new(Duration::ZERO, 10),
        Cache::new(Duration::seconds(60), 0),
    ] {
        let key = TokenHash::of("a");
        cache.insert(
            key,
            &token_expiring(start() + Duration::hours(1)),
            start(),
            start(),
        );
        assert!(!cache.is_enabled());
        assert_eq!(cache.get(&key, start()), None);
        assert_eq!(cache.len(), 0);
    }
}

#[test]
fn cache_full_drops_stale_entries_first() {
    let cache = Cache::new(Duration::seconds(60), 2);
    let long = token_expiring(start() + Duration::hours(1));
    let short = token_expiring(start() + Duration::seconds(10));
    cache.insert(TokenHash::of("short"), &short, start(), start());
    cache.insert(TokenHash::of("long"), &long, start(), start());
    let later = start() + Duration::seconds(20);
    cache.insert(TokenHash::of("new"), &long, later, later);
    assert_eq!(cache.len(), 2);
    assert!(cache.get(&TokenHash::of("long"), later).is_some());
    assert!(cache.get(&TokenHash::of("new"), later).is_some());
}

#[test]
fn cache_full_drops_the_entries_that_expire_soonest() {
    let cache = Cache::new(Duration::seconds(60), 3);
    let token = token_expiring(start() + Duration::hours(1));
    for (second, name) in [(0, "first"), (1, "second"), (2, "third"), (3, "fourth")] {
        let at = start() + Duration::seconds(second);
        cache.insert(TokenHash::of(name), &token, at, at);
        assert!(cache.len() <= 3, "never past the bound");
    }
    let now = start() + Duration::seconds(3);
    assert_eq!(cache.get(&TokenHash::of("first"), now), None);
    for name in ["second", "third", "fourth"] {
        assert!(cache.get(&TokenHash::of(name), now).is_some(), "{name}");
    }
}

#[test]
fn cache_full_evicts_a_tenth_at_a_time_and_never_grows_past_the_bound() {
    let cache = Cache::new(Duration::seconds(60), 100);
    let token = token_expiring(start() + Duration::hours(1));
    for i in 0..1_000_i64 {
        let at = start() + Duration::milliseconds(i);
        cache.insert(TokenHash::of(&i.to_string()), &token, at, at);
        assert!(cache.len() <= 100);
    }
    // The newest survive.
    let now = start() + Duration::seconds(1);
    assert!(cache.get(&TokenHash::of("999"), now).is_some());
    assert_eq!(cache.get(&TokenHash::of("0"), now), None);
}

#[test]
fn cache_replacing_an_entry_needs_no_room() {
    let cache = Cache::new(Duration::seconds(60), 1);
    let token = token_expiring(start() + Duration::hours(1));
    let key = TokenHash::of("a");
    cache.insert(key, &token, start(), start());
    let later = start() + Duration::seconds(30);
    cache.insert(key, &token, later, later);
    assert_eq!(cache.len(), 1);
    assert!(cache.get(&key, start() + Duration::seconds(89)).is_some());
}

#[test]
fn cache_remove_forgets_the_token() {
    let cache = Cache::new(Duration::seconds(60), 10);
    let key = TokenHash::of("a");
    cache.insert(
        key,
        &token_expiring(start() + Duration::hours(1)),
        start(),
        start(),
    );
    cache.remove(&key);
    assert_eq!(cache.get(&key, start()), None);
}

// ---- answers (RFC 7662 §2.2) ----------------------------------------------------------

fn read(json: &str) -> Result<AccessToken, Refusal> {
    answer::read(json.as_bytes(), start())
}

fn exp_in(seconds: i64) -> i64 {
    (start() + Duration::seconds(seconds)).unix_timestamp()
}

#[test]
fn rfc7662_2_2_active_answer_becomes_an_access_token() {
    let json = format!(
        r#"{{"active":true,"scope":"view:users create:users","client_id":"reports",
            "sub":"user-alice","iat":{},"exp":{},"token_type":"Bearer","iss":"https://id.example",
            "roles":[{{"role":"auditor","division":"emea"}},{{"role":"viewer"}}],"extension":42}}"#,
        exp_in(-10),
        exp_in(3590),
    );
    let token = read(&json).unwrap();
    assert_eq!(token.client_id.as_str(), "reports");
    assert_eq!(token.subject, Some(Subject::new("user-alice").unwrap()));
    assert_eq!(
        token.scopes,
        ScopeSet::parse("create:users view:users").unwrap()
    );
    assert_eq!(
        token.roles,
        vec![
            RoleAssignment::new("auditor", Some("emea")),
            RoleAssignment::new("viewer", None)
        ]
    );
    assert_eq!(token.issued_at, start() - Duration::seconds(10));
    assert_eq!(token.expires_at, start() + Duration::seconds(3590));
}

#[test]
fn rfc7662_2_2_optional_members_default() {
    let json = format!(
        r#"{{"active":true,"client_id":"reports","exp":{}}}"#,
        exp_in(60)
    );
    let token = read(&json).unwrap();
    assert_eq!(token.subject, None);
    assert!(token.scopes.is_empty());
    assert!(token.roles.is_empty());
    assert_eq!(token.issued_at, start(), "iat absent: no later than now");
    // Lenient about whitespace in scope, and `null` members.
    let json = format!(
        r#"{{"active":true,"client_id":"reports","exp":{},"scope":" a  b ","roles":null,"sub":null}}"#,
        exp_in(60)
    );
    assert_eq!(read(&json).unwrap().scopes, ScopeSet::parse("a b").unwrap());
}

#[test]
fn rfc6749_7_1_token_type_is_case_insensitive() {
    let json = format!(
        r#"{{"active":true,"client_id":"reports","exp":{},"token_type":"bearer"}}"#,
        exp_in(60)
    );
    assert!(read(&json).is_ok());
}

#[test]
fn answers_refused_as_invalid_token() {
    let exp = exp_in(60);
    let cases = [
        ("rfc7662_2_2_inactive", r#"{"active":false}"#.to_owned()),
        (
            "rfc7662_2_2_inactive_whatever_else_it_says",
            r#"{"active":false,"scope":5,"exp":"soon"}"#.to_owned(),
        ),
        (
            "refresh_token_is_not_an_access_token",
            format!(
                r#"{{"active":true,"client_id":"c","exp":{exp},"token_type":"refresh_token"}}"#
            ),
        ),
        (
            "active_without_exp",
            r#"{"active":true,"client_id":"c"}"#.to_owned(),
        ),
        (
            "active_without_client_id",
            format!(r#"{{"active":true,"exp":{exp}}}"#),
        ),
        (
            "active_but_exp_is_now",
            format!(
                r#"{{"active":true,"client_id":"c","exp":{}}}"#,
                start().unix_timestamp()
            ),
        ),
        (
            "active_but_exp_passed",
            format!(r#"{{"active":true,"client_id":"c","exp":{}}}"#, exp_in(-1)),
        ),
    ];
    for (name, json) in cases {
        assert!(
            matches!(read(&json), Err(Refusal::Invalid(_))),
            "{name}: {:?}",
            read(&json)
        );
    }
}

#[test]
fn answers_that_are_not_introspection_answers_are_malformed() {
    let exp = exp_in(60);
    let cases = [
        ("not_json", "<html>gateway</html>".to_owned()),
        ("empty", String::new()),
        ("no_active", r#"{"client_id":"c"}"#.to_owned()),
        ("active_not_boolean", r#"{"active":"true"}"#.to_owned()),
        (
            "exp_not_a_number",
            r#"{"active":true,"client_id":"c","exp":"tomorrow"}"#.to_owned(),
        ),
        (
            "invalid_scope_token",
            format!(r#"{{"active":true,"client_id":"c","exp":{exp},"scope":"a\"b"}}"#),
        ),
        (
            "empty_client_id",
            format!(r#"{{"active":true,"client_id":"","exp":{exp}}}"#),
        ),
        (
            "roles_not_a_list",
            format!(r#"{{"active":true,"client_id":"c","exp":{exp},"roles":"admin"}}"#),
        ),
    ];
    for (name, json) in cases {
        assert!(
            matches!(read(&json), Err(Refusal::Malformed(_))),
            "{name}: {:?}",
            read(&json)
        );
    }
}

// ---- configuration ------------------------------------------------------------------

#[test]
fn rfc6749_2_3_1_basic_credentials_are_form_urlencoded() {
    assert_eq!(form_urlencode("abc-XYZ_0.9*"), "abc-XYZ_0.9*");
    assert_eq!(form_urlencode("a b:c/d%é"), "a+b%3Ac%2Fd%25%C3%A9");
}

#[test]
fn build_checks_the_endpoint() {
    let build = |endpoint: &str| IntrospectionValidator::builder(endpoint, "api", "s").build();
    for ok in [
        "https://id.example/oauth/introspect",
        "http://127.0.0.1:8080/oauth/introspect",
        "http://127.1.2.3/introspect",
        "http://[::1]:8080/introspect",
        "http://LOCALHOST/introspect",
    ] {
        assert!(build(ok).is_ok(), "{ok}");
    }
    assert_eq!(
        build("http://id.example/oauth/introspect").unwrap_err(),
        IntrospectionConfigError::InsecureEndpoint
    );
    for bad in [
        "",
        "/oauth/introspect",
        "ftp://id.example/introspect",
        "https://user:pass@id.example/introspect",
    ] {
        assert!(
            matches!(
                build(bad),
                Err(IntrospectionConfigError::InvalidEndpoint { .. })
            ),
            "{bad}"
        );
    }
}

#[test]
fn build_checks_the_settings() {
    let builder = || IntrospectionValidator::builder("https://id.example/introspect", "api", "s");
    assert_eq!(
        IntrospectionValidator::builder("https://id.example/introspect", "", "s")
            .build()
            .unwrap_err(),
        IntrospectionConfigError::EmptyClientId
    );
    assert_eq!(
        builder()
            .cache_ttl(Duration::seconds(-1))
            .build()
            .unwrap_err(),
        IntrospectionConfigError::NegativeCacheTtl
    );
    for timeout in [Duration::ZERO, Duration::seconds(-5)] {
        assert_eq!(
            builder().timeout(timeout).build().unwrap_err(),
            IntrospectionConfigError::InvalidTimeout
        );
    }
    assert!(builder().cache_ttl(Duration::ZERO).build().is_ok());
}

#[test]
fn debug_output_redacts_the_client_secret() {
    let builder =
        IntrospectionValidator::builder("https://id.example/introspect", "api", "hunter2-secret");
    assert!(!format!("{builder:?}").contains("hunter2"));
    let validator = builder.build().unwrap();
    let debug = format!("{validator:?}");
    assert!(!debug.contains("hunter2"), "{debug}");
    assert!(debug.contains("<redacted>"));
}
