#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::*;

use ClientKind::{Machine, Native, ResourceOwner, Spa, Web};

/// Matching a request's `redirect_uri` against a registered one.
/// Exact string comparison per RFC 9700 §4.1.3 and RFC 6749 §3.1.2.3; any loopback port for
/// native clients per RFC 8252 §7.3.
#[test]
fn rfc9700_4_1_3_redirect_uri_matching() {
    // (case, client kind, registered, requested, matches)
    #[rustfmt::skip]
    let cases: &[(&str, ClientKind, &str, &str, bool)] = &[
        // Exact comparison.
        ("rfc9700_4_1_3_identical_string_matches", Web, "https://a.example/cb", "https://a.example/cb", true),
        ("rfc9700_4_1_3_other_path_mismatches", Web, "https://a.example/cb", "https://a.example/cb2", false),
        ("rfc9700_4_1_3_path_prefix_mismatches", Web, "https://a.example/cb", "https://a.example/cb/evil", false),
        ("rfc9700_4_1_3_path_case_mismatches", Web, "https://a.example/cb", "https://a.example/CB", false),
        ("rfc9700_4_1_3_trailing_slash_mismatches", Web, "https://a.example/cb", "https://a.example/cb/", false),
        ("rfc9700_4_1_3_missing_trailing_slash_mismatches", Web, "https://a.example/", "https://a.example", false),
        ("rfc9700_4_1_3_added_query_mismatches", Web, "https://a.example/cb", "https://a.example/cb?x=1", false),
        ("rfc9700_4_1_3_registered_query_must_be_identical", Web, "https://a.example/cb?tenant=1", "https://a.example/cb?tenant=2", false),
        ("rfc9700_4_1_3_registered_query_identical_matches", Web, "https://a.example/cb?tenant=1", "https://a.example/cb?tenant=1", true),
        ("rfc9700_4_1_3_host_case_mismatches", Web, "https://a.example/cb", "https://A.example/cb", false),
        ("rfc9700_4_1_3_scheme_case_mismatches", Web, "https://a.example/cb", "HTTPS://a.example/cb", false),
        ("rfc9700_4_1_3_scheme_downgrade_mismatches", Web, "https://a.example/cb", "http://a.example/cb", false),
        ("rfc9700_4_1_3_default_port_spelled_out_mismatches", Web, "https://a.example/cb", "https://a.example:443/cb", false),
        ("rfc9700_4_1_3_other_port_mismatches", Web, "https://a.example:8443/cb", "https://a.example:9443/cb", false),
        ("rfc6749_3_1_2_added_fragment_mismatches", Web, "https://a.example/cb", "https://a.example/cb#x", false),
        ("rfc9700_4_1_3_percent_encoding_mismatches", Web, "https://a.example/cb", "https://a.example/%63b", false),
        ("rfc9700_4_1_3_dot_segment_mismatches", Web, "https://a.example/cb", "https://a.example/x/../cb", false),
        ("rfc9700_4_1_3_subdomain_mismatches", Web, "https://a.example/cb", "https://evil.a.example/cb", false),
        ("rfc9700_4_1_3_suffix_host_mismatches", Web, "https://a.example/cb", "https://a.example.evil.example/cb", false),
        ("rfc9700_4_1_3_userinfo_trick_mismatches", Web, "https://a.example/cb", "https://a.example@evil.example/cb", false),
        ("rfc9700_4_1_3_backslash_userinfo_trick_mismatches", Web, "https://a.example/cb", "https://a.example\\@evil.example/cb", false),
        ("rfc9700_4_1_3_uri_in_query_mismatches", Web, "https://a.example/cb", "https://evil.example/cb?https://a.example/cb", false),
        ("rfc9700_4_1_3_empty_request_mismatches", Web, "https://a.example/cb", "", false),
        ("rfc9700_4_1_3_private_use_scheme_exact", Native, "com.example.app:/cb", "com.example.app:/cb", true),
        ("rfc9700_4_1_3_private_use_scheme_other_path", Native, "com.example.app:/cb", "com.example.app:/cb2", false),
        // Loopback redirects of native clients (RFC 8252 §7.3).
        ("rfc8252_7_3_ipv4_loopback_any_port", Native, "http://127.0.0.1/cb", "http://127.0.0.1:51004/cb", true),
        ("rfc8252_7_3_ipv4_loopback_no_port", Native, "http://127.0.0.1/cb", "http://127.0.0.1/cb", true),
        ("rfc8252_7_3_ipv4_registered_port_ignored", Native, "http://127.0.0.1:8080/cb", "http://127.0.0.1:51004/cb", true),
        ("rfc8252_7_3_ipv4_registered_port_request_without_port", Native, "http://127.0.0.1:8080/cb", "http://127.0.0.1/cb", true),
        ("rfc8252_7_3_ipv6_loopback_any_port", Native, "http://[::1]/cb", "http://[::1]:51004/cb", true),
        ("rfc8252_7_3_ipv6_registered_port_ignored", Native, "http://[::1]:8080/cb", "http://[::1]:1/cb", true),
        ("rfc8252_7_3_localhost_any_port", Native, "http://localhost/cb", "http://localhost:65535/cb", true),
        ("rfc8252_7_3_root_path_any_port", Native, "http://127.0.0.1", "http://127.0.0.1:8000", true),
        ("rfc8252_7_3_query_kept_any_port", Native, "http://127.0.0.1/cb?app=1", "http://127.0.0.1:8000/cb?app=1", true),
        ("rfc8252_7_3_loopback_path_must_match", Native, "http://127.0.0.1/cb", "http://127.0.0.1:51004/other", false),
        ("rfc8252_7_3_loopback_trailing_slash_mismatches", Native, "http://127.0.0.1/cb", "http://127.0.0.1:51004/cb/", false),
        ("rfc8252_7_3_loopback_query_must_match", Native, "http://127.0.0.1/cb", "http://127.0.0.1:51004/cb?x=1", false),
        ("rfc8252_7_3_loopback_other_ip_family_mismatches", Native, "http://127.0.0.1/cb", "http://[::1]:51004/cb", false),
        ("rfc8252_7_3_loopback_localhost_is_not_127_0_0_1", Native, "http://127.0.0.1/cb", "http://localhost:51004/cb", false),
        ("rfc8252_7_3_loopback_other_loopback_ip_mismatches", Native, "http://127.0.0.1/cb", "http://127.0.0.2:51004/cb", false),
        ("rfc8252_7_3_loopback_host_case_mismatches", Native, "http://localhost/cb", "http://LOCALHOST:51004/cb", false),
        ("rfc8252_7_3_loopback_scheme_must_match", Native, "http://127.0.0.1/cb", "https://127.0.0.1:51004/cb", false),
        ("rfc8252_7_3_loopback_port_zero_mismatches", Native, "http://127.0.0.1/cb", "http://127.0.0.1:0/cb", false),
        ("rfc8252_7_3_loopback_port_too_large_mismatches", Native, "http://127.0.0.1/cb", "http://127.0.0.1:65536/cb", false),
        ("rfc8252_7_3_loopback_empty_port_mismatches", Native, "http://127.0.0.1/cb", "http://127.0.0.1:/cb", false),
        ("rfc8252_7_3_loopback_leading_zero_port_mismatches", Native, "http://127.0.0.1/cb", "http://127.0.0.1:080/cb", false),
        ("rfc8252_7_3_loopback_signed_port_mismatches", Native, "http://127.0.0.1/cb", "http://127.0.0.1:+80/cb", false),
        ("rfc8252_7_3_loopback_fragment_mismatches", Native, "http://127.0.0.1/cb", "http://127.0.0.1:51004/cb#x", false),
        ("rfc8252_7_3_loopback_fragment_on_root_mismatches", Native, "http://127.0.0.1", "http://127.0.0.1#x", false),
        ("rfc8252_7_3_loopback_userinfo_before_host_mismatches", Native, "http://127.0.0.1/cb", "http://evil@127.0.0.1:51004/cb", false),
        ("rfc8252_7_3_loopback_userinfo_after_host_mismatches", Native, "http://127.0.0.1/cb", "http://127.0.0.1@evil.example/cb", false),
        ("rfc8252_7_3_loopback_userinfo_after_port_mismatches", Native, "http://127.0.0.1/cb", "http://127.0.0.1:80@evil.example/cb", false),
        ("rfc8252_7_3_loopback_host_suffix_mismatches", Native, "http://127.0.0.1", "http://127.0.0.1.evil.example", false),
        ("rfc8252_7_3_loopback_backslash_mismatches", Native, "http://127.0.0.1/cb", "http://127.0.0.1:80\\@evil.example/cb", false),
        // The port exception is for native clients only.
        ("rfc8252_7_3_web_loopback_is_exact", Web, "http://127.0.0.1/cb", "http://127.0.0.1:51004/cb", false),
        ("rfc8252_7_3_web_loopback_identical_matches", Web, "http://127.0.0.1:8080/cb", "http://127.0.0.1:8080/cb", true),
        ("rfc8252_7_3_spa_loopback_is_exact", Spa, "http://localhost:3000/cb", "http://localhost:3001/cb", false),
        ("rfc8252_7_3_native_https_loopback_is_exact", Native, "https://127.0.0.1/cb", "https://127.0.0.1:51004/cb", false),
    ];

    for &(name, kind, registered, requested, expected) in cases {
        let uri = RedirectUri::parse(registered, kind)
            .unwrap_or_else(|error| panic!("case {name}: {registered} registers: {error}"));
        assert_eq!(uri.matches(requested), expected, "case {name}");
    }
}

#[test]
fn rfc8252_7_3_match_rule_by_kind() {
    #[rustfmt::skip]
    let cases: &[(&str, ClientKind, &str, MatchRule)] = &[
        ("native_http_ipv4_loopback", Native, "http://127.0.0.1/cb", MatchRule::LoopbackAnyPort),
        ("native_http_ipv6_loopback", Native, "http://[::1]:8080/cb", MatchRule::LoopbackAnyPort),
        ("native_http_localhost", Native, "http://localhost/cb", MatchRule::LoopbackAnyPort),
        ("native_https_loopback", Native, "https://127.0.0.1/cb", MatchRule::Exact),
        ("native_private_use", Native, "com.example.app:/cb", MatchRule::Exact),
        ("native_https", Native, "https://app.example/cb", MatchRule::Exact),
        ("web_http_loopback", Web, "http://127.0.0.1/cb", MatchRule::Exact),
        ("spa_http_loopback", Spa, "http://localhost:3000/cb", MatchRule::Exact),
        ("web_https", Web, "https://app.example/cb", MatchRule::Exact),
    ];
    for &(name, kind, raw, rule) in cases {
        let uri = RedirectUri::parse(raw, kind).unwrap_or_else(|e| panic!("case {name}: {e}"));
        assert_eq!(uri.rule(), rule, "case {name}");
        assert_eq!(uri.as_str(), raw, "case {name}: stored as given");
    }
}

/// Registration rules: RFC 6749 §3.1.2 (absolute, no fragment), RFC 8252 §7.1 (private-use
/// schemes for native apps), RFC 9700 §2.1 and §4.1.3 (exact, no wildcards), §2.6 (no
/// plain http except loopback).
#[test]
fn rfc6749_3_1_2_redirect_uri_registration() {
    let too_long = format!("https://a.example/{}", "a".repeat(REDIRECT_URI_MAX_LEN));
    let longest = format!(
        "https://a.example/{}",
        "a".repeat(REDIRECT_URI_MAX_LEN - "https://a.example/".len())
    );
    #[rustfmt::skip]
    let cases: Vec<(&str, ClientKind, &str, Result<(), RedirectUriError>)> = vec![
        ("rfc6749_3_1_2_https_accepted", Web, "https://a.example/cb", Ok(())),
        ("rfc6749_3_1_2_https_with_port_and_query_accepted", Web, "https://a.example:8443/cb?x=1&y=%20", Ok(())),
        ("rfc6749_3_1_2_https_ip_literal_accepted", Web, "https://[2001:db8::1]/cb", Ok(())),
        ("rfc8252_7_3_http_ipv4_loopback_accepted", Native, "http://127.0.0.1/cb", Ok(())),
        ("rfc8252_7_3_http_ipv6_loopback_accepted", Native, "http://[::1]/cb", Ok(())),
        ("rfc8252_7_3_http_localhost_accepted", Native, "http://localhost:8080/cb", Ok(())),
        ("rfc9700_2_6_http_loopback_accepted_for_web", Web, "http://localhost:8080/cb", Ok(())),
        ("rfc8252_7_1_private_use_scheme_native_accepted", Native, "com.example.app:/oauth2redirect", Ok(())),
        ("portcullis_longest_uri_accepted", Web, longest.as_str(), Ok(())),
        ("rfc6749_3_1_2_fragment_rejected", Web, "https://a.example/cb#frag", Err(RedirectUriError::Fragment)),
        ("rfc6749_3_1_2_empty_fragment_rejected", Web, "https://a.example/cb#", Err(RedirectUriError::Fragment)),
        ("rfc6749_3_1_2_relative_path_rejected", Web, "/cb", Err(RedirectUriError::NotAbsolute)),
        ("rfc6749_3_1_2_network_path_reference_rejected", Web, "//a.example/cb", Err(RedirectUriError::NotAbsolute)),
        ("rfc6749_3_1_2_bare_host_rejected", Web, "a.example/cb", Err(RedirectUriError::NotAbsolute)),
        ("rfc6749_3_1_2_empty_rejected", Web, "", Err(RedirectUriError::Empty)),
        ("rfc9700_4_1_3_wildcard_host_rejected", Web, "https://*.a.example/cb", Err(RedirectUriError::Wildcard { position: 8 })),
        ("rfc9700_4_1_3_wildcard_path_rejected", Web, "https://a.example/*", Err(RedirectUriError::Wildcard { position: 18 })),
        ("rfc9700_4_1_3_wildcard_port_rejected", Native, "http://127.0.0.1:*/cb", Err(RedirectUriError::Wildcard { position: 17 })),
        ("rfc9700_2_6_http_non_loopback_rejected", Web, "http://a.example/cb", Err(RedirectUriError::InsecureHttp)),
        ("rfc9700_2_6_http_other_loopback_address_rejected", Native, "http://127.0.0.2/cb", Err(RedirectUriError::InsecureHttp)),
        ("rfc9700_2_6_http_localhost_suffix_rejected", Native, "http://localhost.evil.example/cb", Err(RedirectUriError::InsecureHttp)),
        ("rfc9700_2_6_http_localhost_subdomain_rejected", Native, "http://evil.localhost/cb", Err(RedirectUriError::InsecureHttp)),
        ("rfc8252_7_1_private_use_scheme_web_rejected", Web, "com.example.app:/cb", Err(RedirectUriError::PrivateUseSchemeNotNative { scheme: "com.example.app".into() })),
        ("rfc8252_7_1_private_use_scheme_spa_rejected", Spa, "com.example.app:/cb", Err(RedirectUriError::PrivateUseSchemeNotNative { scheme: "com.example.app".into() })),
        ("rfc8252_7_1_private_use_scheme_without_period_rejected", Native, "myapp:/cb", Err(RedirectUriError::UnsupportedScheme { scheme: "myapp".into() })),
        ("rfc8252_7_1_private_use_scheme_without_path_rejected", Native, "com.example.app:", Err(RedirectUriError::NotAbsolute)),
        ("rfc8252_7_1_private_use_scheme_userinfo_rejected", Native, "com.example.app://user@host/cb", Err(RedirectUriError::Userinfo)),
        ("rfc9700_4_1_3_javascript_scheme_rejected", Web, "javascript:alert(1)", Err(RedirectUriError::UnsupportedScheme { scheme: "javascript".into() })),
        ("rfc9700_4_1_3_data_scheme_rejected", Web, "data:text/html,hi", Err(RedirectUriError::UnsupportedScheme { scheme: "data".into() })),
        ("rfc9700_4_1_3_userinfo_rejected", Web, "https://user@a.example/cb", Err(RedirectUriError::Userinfo)),
        ("rfc9700_4_1_3_userinfo_password_rejected", Web, "https://user:pw@a.example/cb", Err(RedirectUriError::Userinfo)),
        ("rfc9700_4_1_3_userinfo_on_loopback_rejected", Native, "http://evil.example@127.0.0.1/cb", Err(RedirectUriError::Userinfo)),
        ("rfc3986_3_2_2_missing_host_rejected", Web, "https:///cb", Err(RedirectUriError::MissingHost)),
        ("rfc3986_3_2_2_no_authority_rejected", Web, "https:/cb", Err(RedirectUriError::MissingHost)),
        ("rfc3986_3_2_2_bad_ipv6_literal_rejected", Web, "https://[::g]/cb", Err(RedirectUriError::InvalidHost)),
        ("rfc3986_3_2_2_unclosed_ipv6_literal_rejected", Web, "https://[::1/cb", Err(RedirectUriError::InvalidHost)),
        ("rfc3986_3_2_2_percent_encoded_host_rejected", Web, "https://a%2eexample/cb", Err(RedirectUriError::InvalidHost)),
        ("rfc3986_3_2_3_empty_port_rejected", Web, "https://a.example:/cb", Err(RedirectUriError::InvalidPort)),
        ("rfc3986_3_2_3_port_out_of_range_rejected", Web, "https://a.example:65536/cb", Err(RedirectUriError::InvalidPort)),
        ("rfc3986_3_2_3_port_zero_rejected", Web, "https://a.example:0/cb", Err(RedirectUriError::InvalidPort)),
        ("rfc3986_3_2_3_non_numeric_port_rejected", Web, "https://a.example:https/cb", Err(RedirectUriError::InvalidPort)),
        ("rfc3986_2_space_rejected", Web, "https://a.example/c b", Err(RedirectUriError::InvalidCharacter { position: 19 })),
        ("rfc3986_2_leading_space_rejected", Web, " https://a.example/cb", Err(RedirectUriError::InvalidCharacter { position: 0 })),
        ("rfc3986_2_newline_rejected", Web, "https://a.example/cb\n", Err(RedirectUriError::InvalidCharacter { position: 20 })),
        ("rfc3986_2_tab_rejected", Web, "https://a.example/\tcb", Err(RedirectUriError::InvalidCharacter { position: 18 })),
        ("rfc3986_2_nul_rejected", Web, "https://a.example/\0", Err(RedirectUriError::InvalidCharacter { position: 18 })),
        ("rfc3986_2_non_ascii_rejected", Web, "https://ä.example/cb", Err(RedirectUriError::InvalidCharacter { position: 8 })),
        ("rfc3986_2_backslash_rejected", Web, "https://a.example\\@evil.example/cb", Err(RedirectUriError::InvalidCharacter { position: 17 })),
        ("rfc3986_2_1_bad_percent_encoding_rejected", Web, "https://a.example/%zz", Err(RedirectUriError::InvalidPercentEncoding { position: 18 })),
        ("rfc3986_2_1_truncated_percent_encoding_rejected", Web, "https://a.example/%2", Err(RedirectUriError::InvalidPercentEncoding { position: 18 })),
        ("portcullis_too_long_rejected", Web, too_long.as_str(), Err(RedirectUriError::TooLong { max: REDIRECT_URI_MAX_LEN })),
    ];

    for (name, kind, raw, expected) in cases {
        let got = RedirectUri::parse(raw, kind).map(|_| ());
        assert_eq!(got, expected, "case {name}");
    }
}

#[test]
fn private_use_and_http_rules_ignore_kinds_without_redirects() {
    // The kind only matters for private-use schemes and the loopback rule; the builder decides
    // whether a kind may have redirect URIs at all.
    for kind in [Machine, ResourceOwner] {
        assert!(RedirectUri::parse("https://a.example/cb", kind).is_ok());
        assert!(RedirectUri::parse("com.example.app:/cb", kind).is_err());
    }
}

#[test]
fn redirect_uri_serde_carries_the_rule() {
    let native = RedirectUri::parse("http://127.0.0.1/cb", Native).unwrap();
    let json = serde_json::to_string(&native).unwrap();
    assert_eq!(
        json,
        r#"{"uri":"http://127.0.0.1/cb","rule":"loopback_any_port"}"#
    );
    assert_eq!(serde_json::from_str::<RedirectUri>(&json).unwrap(), native);

    let web = RedirectUri::parse("https://a.example/cb", Web).unwrap();
    let json = serde_json::to_string(&web).unwrap();
    assert_eq!(json, r#"{"uri":"https://a.example/cb","rule":"exact"}"#);
    assert_eq!(serde_json::from_str::<RedirectUri>(&json).unwrap(), web);

    let bad = [
        // The any-port rule on a URI it does not fit.
        r#"{"uri":"https://a.example/cb","rule":"loopback_any_port"}"#,
        // URIs that break kind-independent rules.
        r#"{"uri":"https://a.example/cb#x","rule":"exact"}"#,
        r#"{"uri":"http://a.example/cb","rule":"exact"}"#,
        r#"{"uri":"https://*.example/cb","rule":"exact"}"#,
        // Unknown rules and fields.
        r#"{"uri":"https://a.example/cb","rule":"prefix"}"#,
        r#"{"uri":"https://a.example/cb","rule":"exact","extra":1}"#,
        r#""https://a.example/cb""#,
    ];
    for json in bad {
        assert!(serde_json::from_str::<RedirectUri>(json).is_err(), "{json}");
    }
}

#[test]
fn matching_never_panics_on_odd_requests() {
    let uris = [
        RedirectUri::parse("http://127.0.0.1/cb", Native).unwrap(),
        RedirectUri::parse("http://[::1]", Native).unwrap(),
        RedirectUri::parse("https://a.example/cb", Web).unwrap(),
    ];
    let requests = [
        "",
        ":",
        "http:",
        "http://",
        "http://[",
        "http://[::1",
        "http://[::1]:",
        "http://:80",
        "http://127.0.0.1:99999999999999999999/cb",
        "\u{0}",
        "ü://ä",
        "http://127.0.0.1:8😀/cb",
        "http://[::1]x",
        "http://[::1]:80x",
    ];
    for uri in &uris {
        for request in requests {
            assert!(!uri.matches(request), "{uri} vs {request:?}");
        }
    }
}
