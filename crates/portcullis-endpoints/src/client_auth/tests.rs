#![allow(clippy::type_complexity)] // case tables read best as tuples
use super::*;

#[test]
fn rfc6749_2_3_1_basic_credentials_are_form_decoded() {
    let encode = |raw: &str| format!("Basic {}", STANDARD.encode(raw));
    let cases: [(&str, String, Option<(&str, &str)>); 9] = [
        ("plain", encode("app:secret"), Some(("app", "secret"))),
        (
            "percent_encoded_colon_in_id",
            encode("a%3Ab:s"),
            Some(("a:b", "s")),
        ),
        (
            "plus_is_space",
            encode("app:se+cret"),
            Some(("app", "se cret")),
        ),
        ("colon_in_secret", encode("app:a:b"), Some(("app", "a:b"))),
        (
            "scheme_case_insensitive",
            format!("bAsIc {}", STANDARD.encode("app:s")),
            Some(("app", "s")),
        ),
        ("empty_secret", encode("app:"), Some(("app", ""))),
        ("no_colon", encode("app"), None),
        ("empty_id", encode(":secret"), None),
        ("not_base64", "Basic !!!".to_owned(), None),
    ];
    for (name, header, expected) in cases {
        let got = decode_basic(&header);
        assert_eq!(
            got.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
            expected,
            "case {name}"
        );
    }
    assert_eq!(decode_basic("Bearer abc"), None);
}
