#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

#[test]
fn rfc6750_2_1_authorization_header_table() {
    let cases: [(&str, &[&str], Result<&str, &str>); 12] = [
        ("plain", &["Bearer pc_at_abc"], Ok("pc_at_abc")),
        (
            "scheme_case_insensitive",
            &["BEARER pc_at_abc"],
            Ok("pc_at_abc"),
        ),
        ("padding_allowed", &["Bearer abc=="], Ok("abc==")),
        ("jwt_shape", &["Bearer a.b.c"], Ok("a.b.c")),
        ("rfc6750_3_1_no_header_no_error", &[], Err("missing")),
        ("other_scheme_is_no_bearer", &["Basic YTpi"], Err("missing")),
        ("empty_token", &["Bearer"], Err("invalid_request")),
        ("empty_after_space", &["Bearer "], Err("invalid_request")),
        ("bad_character", &["Bearer a,b"], Err("invalid_request")),
        ("padding_only", &["Bearer =="], Err("invalid_request")),
        ("inner_space", &["Bearer a b"], Err("invalid_request")),
        (
            "repeated_header",
            &["Bearer a", "Bearer b"],
            Err("invalid_request"),
        ),
    ];
    for (name, values, expected) in cases {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(AUTHORIZATION, value.parse().expect("header value"));
        }
        let got = bearer_token(&headers).map_err(|err| err.code().unwrap_or("missing"));
        assert_eq!(got, expected, "case {name}");
    }
}
