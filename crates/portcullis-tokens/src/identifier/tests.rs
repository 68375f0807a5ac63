#![allow(clippy::unwrap_used)]

use super::*;

#[test]
fn identifiers_are_128_bit_and_distinct() {
    let ids: std::collections::HashSet<String> =
        (0..1000).map(|_| random_identifier().unwrap()).collect();
    assert_eq!(ids.len(), 1000);
    for id in ids.iter().take(10) {
        assert_eq!(URL_SAFE_NO_PAD.decode(id).unwrap().len(), IDENTIFIER_BYTES);
    }
}

#[test]
fn oidc_core_2_subject_rules() {
    let long = "a".repeat(256);
    let max = "a".repeat(255);
    let cases: [(&str, &str, bool); 9] = [
        ("plain", "user-42", true),
        ("email_like", "alice@example.com", true),
        ("inner_space", "a b", true),
        ("max_255", &max, true),
        ("empty", "", false),
        ("over_255", &long, false),
        ("control_char", "a\nb", false),
        ("non_ascii", "bénédicte", false),
        ("surrounding_space", " a ", false),
    ];
    for (name, input, ok) in cases {
        assert_eq!(Subject::new(input).is_ok(), ok, "case {name}");
    }
    let json = serde_json::to_string(&Subject::new("u1").unwrap()).unwrap();
    assert_eq!(json, "\"u1\"");
    assert!(serde_json::from_str::<Subject>("\"\"").is_err());
}
