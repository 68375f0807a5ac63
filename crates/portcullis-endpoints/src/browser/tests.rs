#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::HeaderMap;
use portcullis_tokens::Subject;
use time::{Duration, OffsetDateTime};

use super::interaction_url;
use super::session::{Rejected, cookies, random_bytes, set_cookie, sign, sign_payload, verify};
use crate::AuthenticatedUser;

const KEY: [u8; 32] = [7; 32];

fn at(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(secs).unwrap()
}

fn alice(auth_time: i64) -> AuthenticatedUser {
    AuthenticatedUser {
        subject: Subject::new("user-alice").unwrap(),
        auth_time: at(auth_time),
    }
}

/// A value signed at 1000 for a session that ends at 1000 + 12 h.
fn signed() -> String {
    sign(&KEY, &alice(1_000), at(1_000 + 43_200))
}

#[test]
fn signed_value_verifies_until_it_expires() {
    let value = signed();
    assert_eq!(verify(&KEY, &value, at(1_000)), Ok(alice(1_000)));
    assert_eq!(verify(&KEY, &value, at(44_199)), Ok(alice(1_000)));
    assert_eq!(verify(&KEY, &value, at(44_200)), Err(Rejected::Expired));
}

#[test]
fn value_has_the_documented_shape() {
    let value = signed();
    let parts: Vec<&str> = value.split('.').collect();
    assert_eq!(parts.len(), 5, "{value}");
    assert_eq!(parts[0], "v1");
    assert_eq!(URL_SAFE_NO_PAD.decode(parts[1]).unwrap(), b"user-alice");
    assert_eq!(parts[2], "1000");
    assert_eq!(parts[3], "44200");
    assert_eq!(URL_SAFE_NO_PAD.decode(parts[4]).unwrap().len(), 32);
    // Only cookie-octets (RFC 6265 §4.1.1): no quoting, no escaping.
    assert!(
        value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    );
}

#[test]
fn auth_time_is_kept_to_the_second() {
    let user = AuthenticatedUser {
        subject: Subject::new("user-alice").unwrap(),
        auth_time: at(1_000) + Duration::milliseconds(750),
    };
    let value = sign(&KEY, &user, at(2_000));
    assert_eq!(verify(&KEY, &value, at(1_500)), Ok(alice(1_000)));
}

#[test]
fn another_key_is_a_forgery() {
    let value = signed();
    let mut other = KEY;
    other[0] ^= 1;
    assert_eq!(verify(&other, &value, at(1_000)), Err(Rejected::Signature));
}

#[test]
fn tampering_with_any_field_breaks_the_signature() {
    let value = signed();
    let mallory = URL_SAFE_NO_PAD.encode("user-mallory");
    let alice = URL_SAFE_NO_PAD.encode("user-alice");
    let cases = [
        ("subject", value.replacen(&alice, &mallory, 1)),
        ("auth_time", value.replacen(".1000.", ".1001.", 1)),
        ("expiry", value.replacen(".44200.", ".99999.", 1)),
        ("version", value.replacen("v1.", "v2.", 1)),
    ];
    for (field, tampered) in cases {
        assert_ne!(tampered, value, "{field}");
        assert_eq!(
            verify(&KEY, &tampered, at(1_000)),
            Err(Rejected::Signature),
            "{field}"
        );
    }
    // A changed tag: flip one bit of the MAC.
    let (payload, tag) = value.rsplit_once('.').unwrap();
    let mut tag = URL_SAFE_NO_PAD.decode(tag).unwrap();
    tag[31] ^= 0x80;
    let flipped = format!("{payload}.{}", URL_SAFE_NO_PAD.encode(&tag));
    assert_eq!(verify(&KEY, &flipped, at(1_000)), Err(Rejected::Signature));
    // A truncated tag.
    let short = format!("{payload}.{}", URL_SAFE_NO_PAD.encode(&tag[..16]));
    assert_eq!(verify(&KEY, &short, at(1_000)), Err(Rejected::Signature));
}

#[test]
fn malformed_values_are_rejected() {
    let long = "a".repeat(2_000);
    let cases = [
        "",
        ".",
        "garbage",
        "v1.dXNlcg.1.2",
        "v1.dXNlcg.1.2.!!notbase64!!",
        long.as_str(),
    ];
    for value in cases {
        assert!(verify(&KEY, value, at(1)).is_err(), "{value:?}");
    }
}

#[test]
fn well_signed_but_nonsensical_payloads_are_malformed() {
    // Payloads `sign` never makes, signed with the right key: the parser still refuses
    // them instead of trusting whatever carries a valid tag.
    let subject = URL_SAFE_NO_PAD.encode("user-alice");
    let cases = [
        ("too few fields", format!("v1.{subject}.1000")),
        ("too many fields", format!("v1.{subject}.1000.44200.extra")),
        ("unknown version", format!("v9.{subject}.1000.44200")),
        ("time not a number", format!("v1.{subject}.soon.44200")),
        (
            "time out of range",
            format!("v1.{subject}.1000.{}", i64::MAX),
        ),
        (
            "subject not base64url",
            "v1.user+alice.1000.44200".to_owned(),
        ),
        ("empty subject", "v1..1000.44200".to_owned()),
        (
            "subject with spaces around",
            format!("v1.{}.1000.44200", URL_SAFE_NO_PAD.encode(" alice ")),
        ),
        ("expiry before auth_time", format!("v1.{subject}.5000.4000")),
    ];
    for (case, payload) in cases {
        let value = sign_payload(&KEY, &payload);
        assert_eq!(
            verify(&KEY, &value, at(1_000)),
            Err(Rejected::Malformed),
            "{case}"
        );
    }
    // The same helper on a well-formed payload does verify, so the cases above fail for
    // their content, not for the way they were signed.
    let good = sign_payload(&KEY, &format!("v1.{subject}.1000.44200"));
    assert_eq!(verify(&KEY, &good, at(1_000)), Ok(alice(1_000)));
}

#[test]
fn cookies_are_found_across_headers_and_pairs() {
    let mut headers = HeaderMap::new();
    headers.append("cookie", "a=1; portcullis_session=first".parse().unwrap());
    headers.append(
        "cookie",
        "portcullis_session=\"second\";b=2".parse().unwrap(),
    );
    headers.append("cookie", "portcullis_session_x=nope".parse().unwrap());
    let found: Vec<&str> = cookies(&headers, "portcullis_session").collect();
    assert_eq!(found, ["first", "second"]);
    assert_eq!(cookies(&headers, "missing").count(), 0);
}

#[test]
fn set_cookie_attributes() {
    assert_eq!(
        set_cookie("portcullis_session", "v", Some(43_200), "Lax", true),
        "portcullis_session=v; Path=/; Max-Age=43200; HttpOnly; SameSite=Lax; Secure"
    );
    assert_eq!(
        set_cookie("portcullis_csrf", "t", None, "Strict", false),
        "portcullis_csrf=t; Path=/; HttpOnly; SameSite=Strict"
    );
}

#[test]
fn random_bytes_differ() {
    assert_ne!(random_bytes().unwrap(), random_bytes().unwrap());
}

#[test]
fn interaction_urls_encode_the_id() {
    assert_eq!(
        interaction_url("/oauth/login", "pc_pa_abc-_"),
        "/oauth/login?interaction=pc_pa_abc-_"
    );
    assert_eq!(
        interaction_url("/sign-in?theme=dark", "a&b"),
        "/sign-in?theme=dark&interaction=a%26b"
    );
}

#[cfg(feature = "ui")]
#[test]
fn constant_time_eq_compares_exactly() {
    use super::pages::constant_time_eq;
    assert!(constant_time_eq(b"abc", b"abc"));
    assert!(!constant_time_eq(b"abc", b"abd"));
    assert!(!constant_time_eq(b"abc", b"ab"));
    assert!(constant_time_eq(b"", b""));
}
