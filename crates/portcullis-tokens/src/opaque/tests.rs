#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::*;

#[test]
fn rfc6749_10_10_tokens_carry_256_random_bits() {
    for kind in TokenKind::ALL {
        let token = mint(kind).unwrap();
        let body = token.expose_secret().strip_prefix(kind.prefix()).unwrap();
        let bytes = URL_SAFE_NO_PAD.decode(body).unwrap();
        assert_eq!(bytes.len(), TOKEN_ENTROPY_BYTES, "{kind:?}");
        assert!(bytes.len() * 8 >= 256);
    }
}

#[test]
fn minted_tokens_are_distinct() {
    let tokens: std::collections::HashSet<String> = (0..1000)
        .map(|_| {
            mint(TokenKind::AccessToken)
                .unwrap()
                .expose_secret()
                .to_owned()
        })
        .collect();
    assert_eq!(tokens.len(), 1000);
}

#[test]
fn prefixes_are_distinct_and_recognised() {
    for kind in TokenKind::ALL {
        let token = mint(kind).unwrap();
        assert_eq!(TokenKind::of(token.expose_secret()), Some(kind));
        assert_eq!(token.kind(), kind);
        for other in TokenKind::ALL {
            if other != kind {
                assert!(!kind.prefix().starts_with(other.prefix()));
            }
        }
    }
}

#[test]
fn parse_round_trips_a_minted_token() {
    for kind in TokenKind::ALL {
        let token = mint(kind).unwrap();
        let parsed = RawToken::parse(token.expose_secret(), kind).unwrap();
        assert_eq!(parsed, token);
        assert_eq!(parsed.lookup_key(), token.lookup_key());
    }
}

#[test]
fn parse_rejects_malformed_tokens() {
    let good = mint(TokenKind::AccessToken).unwrap();
    let body = &good.expose_secret()["pc_at_".len()..];
    let cases: Vec<(&str, String, &str)> = vec![
        ("empty", String::new(), "wrong prefix"),
        ("no_prefix", body.to_owned(), "wrong prefix"),
        ("other_kind_prefix", format!("pc_rt_{body}"), "wrong prefix"),
        ("prefix_only", "pc_at_".to_owned(), "wrong length"),
        ("too_short", format!("pc_at_{}", &body[1..]), "wrong length"),
        ("too_long", format!("pc_at_{body}A"), "wrong length"),
        (
            "padding_char",
            format!("pc_at_{}=", &body[1..]),
            "not base64url",
        ),
        (
            "standard_base64_char",
            format!("pc_at_{}+", &body[1..]),
            "not base64url",
        ),
        (
            "non_ascii_same_byte_length",
            format!("pc_at_{}é", &body[2..]),
            "not base64url",
        ),
        ("uppercase_prefix", format!("PC_AT_{body}"), "wrong prefix"),
        (
            "whitespace",
            format!("pc_at_{} ", &body[1..]),
            "not base64url",
        ),
    ];
    for (name, input, reason) in cases {
        match RawToken::parse(&input, TokenKind::AccessToken) {
            Err(TokenError::Malformed { reason: got, .. }) => {
                assert_eq!(got, reason, "case {name}")
            }
            other => panic!("case {name}: expected Malformed, got {other:?}"),
        }
    }
}

#[test]
fn debug_never_shows_the_value() {
    let token = mint(TokenKind::AccessToken).unwrap();
    let debug = format!("{token:?}");
    assert!(!debug.contains(&token.expose_secret()[6..]));
    assert_eq!(debug, "RawToken(access, <redacted>)");
}

#[test]
fn lookup_key_is_sha256_of_the_token_string() {
    // SHA-256("abc"), FIPS 180-2 appendix B.1.
    assert_eq!(
        TokenHash::of("abc").to_string(),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[test]
fn token_hash_text_round_trip_and_rejects() {
    let key = TokenHash::of("pc_at_x");
    let text = key.to_string();
    assert_eq!(text.parse::<TokenHash>().unwrap(), key);
    assert_eq!(text.to_uppercase().parse::<TokenHash>().unwrap(), key);
    let json = serde_json::to_string(&key).unwrap();
    assert_eq!(json, format!("\"{text}\""));
    assert_eq!(serde_json::from_str::<TokenHash>(&json).unwrap(), key);
    for bad in [
        "",
        &text[1..],
        &format!("{text}0"),
        &format!("+{}", &text[1..]),
        &format!("g{}", &text[1..]),
        &format!("é{}", &text[2..]),
    ] {
        assert!(bad.parse::<TokenHash>().is_err(), "{bad:?}");
    }
}

#[test]
fn injected_rng_failure_is_an_error_not_a_panic() {
    struct Broken;
    impl rand::TryRng for Broken {
        type Error = std::io::Error;
        fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
            Err(std::io::Error::other("no entropy"))
        }
        fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
            Err(std::io::Error::other("no entropy"))
        }
        fn try_fill_bytes(&mut self, _: &mut [u8]) -> Result<(), Self::Error> {
            Err(std::io::Error::other("no entropy"))
        }
    }
    impl rand::TryCryptoRng for Broken {}
    assert!(matches!(
        mint_with(TokenKind::AccessToken, &mut Broken),
        Err(TokenError::Entropy(_))
    ));
}
