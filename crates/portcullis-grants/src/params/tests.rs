#![allow(clippy::unwrap_used, clippy::type_complexity)]

use super::*;

#[test]
fn rfc6749_3_1_parameter_rules() {
    // (case, input, name, expected value, duplicated?)
    let cases: [(&str, &[u8], &str, Option<&str>, bool); 10] = [
        ("plain", b"a=1", "a", Some("1"), false),
        (
            "percent_decoded",
            b"a=view%3Ausers",
            "a",
            Some("view:users"),
            false,
        ),
        ("plus_is_space", b"a=x+y", "a", Some("x y"), false),
        ("empty_value_is_omitted", b"a=", "a", None, false),
        ("bare_name_is_omitted", b"a", "a", None, false),
        ("rfc6749_3_1_duplicate", b"a=1&a=2", "a", Some("1"), true),
        (
            "empty_duplicate_is_no_duplicate",
            b"a=1&a=",
            "a",
            Some("1"),
            false,
        ),
        ("bad_escape_kept", b"a=%G1", "a", Some("%G1"), false),
        (
            "invalid_utf8_replaced",
            b"a=%C3%28",
            "a",
            Some("\u{FFFD}("),
            false,
        ),
        ("name_is_case_sensitive", b"A=1", "a", None, false),
    ];
    for (name, input, key, value, duplicated) in cases {
        let params = Params::parse(input).unwrap();
        assert_eq!(params.get(key), value, "case {name}");
        assert_eq!(params.duplicates().contains(key), duplicated, "case {name}");
    }
}

#[test]
fn size_bounds() {
    let at_limit = (0..MAX_PARAMETERS)
        .map(|i| format!("p{i}=v"))
        .collect::<Vec<_>>()
        .join("&");
    assert!(Params::parse(at_limit.as_bytes()).is_ok());
    let over = format!("{at_limit}&extra=1");
    assert_eq!(
        Params::parse(over.as_bytes()),
        Err(ParamsError::TooMany {
            max: MAX_PARAMETERS
        })
    );
    let long = format!("state={}", "x".repeat(MAX_VALUE_BYTES + 1));
    assert!(matches!(
        Params::parse(long.as_bytes()),
        Err(ParamsError::TooLong { .. })
    ));
}
