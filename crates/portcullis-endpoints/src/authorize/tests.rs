#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::deliver::*;
use super::*;

#[test]
fn rfc6749_3_1_2_existing_query_is_kept() {
    let cases = [
        ("https://app.example/cb", "https://app.example/cb?code=x"),
        (
            "https://app.example/cb?tenant=a",
            "https://app.example/cb?tenant=a&code=x",
        ),
        ("https://app.example/cb?", "https://app.example/cb?code=x"),
        (
            "https://app.example/cb?a=1&",
            "https://app.example/cb?a=1&code=x",
        ),
    ];
    for (uri, expected) in cases {
        assert_eq!(with_query(uri, "code=x"), expected, "{uri}");
    }
}

#[test]
fn rfc6749_4_2_2_fragment_replaces_nothing_but_a_fragment() {
    assert_eq!(
        with_fragment("https://app.example/cb?tenant=a", "access_token=t"),
        "https://app.example/cb?tenant=a#access_token=t"
    );
    assert_eq!(
        with_fragment("https://app.example/cb#old", "a=1"),
        "https://app.example/cb#a=1"
    );
}

#[test]
fn rfc6749_appendix_b_values_are_percent_encoded() {
    assert_eq!(
        encode(&[("state", "a b&c=d#e"), ("iss", "https://id.example")]),
        "state=a+b%26c%3Dd%23e&iss=https%3A%2F%2Fid.example"
    );
}

#[test]
fn rfc6749_4_1_2_1_description_charset() {
    assert_eq!(description_chars("say \"hi\" \\ é\n"), "say 'hi' / ??");
}

#[test]
fn form_post_csp_allows_only_the_redirect_origin() {
    let csp = form_post_csp("https://app.example:8443/cb?x=1");
    assert!(
        csp.contains("form-action https://app.example:8443"),
        "{csp}"
    );
    assert!(csp.contains("script-src 'sha256-"), "{csp}");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let native = form_post_csp("com.example.app:/cb");
    assert!(native.ends_with("form-action com.example.app:"), "{native}");
}

#[test]
fn oidc_core_3_1_2_1_max_age() {
    let now = OffsetDateTime::UNIX_EPOCH + Duration::days(1);
    let at = |secs: i64| now - Duration::seconds(secs);
    assert!(!max_age_exceeded(None, at(1_000_000), now));
    assert!(max_age_exceeded(Some(0), now, now));
    assert!(!max_age_exceeded(Some(60), at(60), now));
    assert!(max_age_exceeded(Some(60), at(61), now));
    // A sign-in "in the future" (clock skew) is not too old.
    assert!(!max_age_exceeded(Some(60), now + Duration::minutes(5), now));
}

#[test]
fn granted_scopes_must_be_requested() {
    let requested = ScopeSet::parse("openid profile").unwrap();
    assert!(check_granted(&ScopeSet::parse("openid").unwrap(), &requested).is_ok());
    assert!(check_granted(&ScopeSet::new(), &requested).is_ok());
    let err = check_granted(&ScopeSet::parse("openid email").unwrap(), &requested).unwrap_err();
    assert!(matches!(err, CompleteError::ScopeNotRequested { scope } if scope.as_str() == "email"));
}

#[test]
fn interaction_debug_redacts_the_handle() {
    let interaction = Interaction {
        id: "pc_pa_secret-handle".into(),
        client_id: ClientId::new("web").unwrap(),
        client_name: "Web".into(),
        scopes: ScopeSet::new(),
        login_required: true,
        consent_required: true,
        expires_at: OffsetDateTime::UNIX_EPOCH,
        redirect_uri: "https://web.example/cb".into(),
    };
    let debug = format!("{interaction:?}");
    assert!(!debug.contains("secret-handle"), "{debug}");
    assert!(debug.contains("web"), "{debug}");
}
