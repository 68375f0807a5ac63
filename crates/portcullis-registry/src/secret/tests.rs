#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::*;

#[test]
fn secret_has_at_least_256_bits_and_is_base64url_without_padding() {
    let secret = ClientSecret::generate().unwrap();
    let value = secret.expose_secret();
    assert_eq!(value.len(), 43);
    assert!(
        value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "base64url alphabet, no padding: {value}"
    );
    let decoded = URL_SAFE_NO_PAD.decode(value).unwrap();
    assert!(decoded.len() >= 32);
}

#[test]
fn secrets_differ() {
    let secrets: Vec<String> = (0..16)
        .map(|_| ClientSecret::generate().unwrap().expose_secret().to_owned())
        .collect();
    for (i, a) in secrets.iter().enumerate() {
        for b in secrets.iter().skip(i + 1) {
            assert_ne!(a, b);
        }
    }
}

#[test]
fn secret_debug_is_redacted() {
    let secret = ClientSecret::generate().unwrap();
    let debug = format!("{secret:?}");
    assert_eq!(debug, "ClientSecret(<redacted>)");
    assert!(!debug.contains(secret.expose_secret()));
    // Also when nested in another Debug output.
    let nested = format!("{:?}", Some(&secret));
    assert!(!nested.contains(secret.expose_secret()));
}

#[test]
fn hash_verifies_the_secret_and_nothing_else() {
    let secret = ClientSecret::generate().unwrap();
    let hash = secret.hash();
    assert!(hash.verify(secret.expose_secret()));
    assert_eq!(hash, ClientSecretHash::of(secret.expose_secret()));

    let value = secret.expose_secret();
    let mut flipped = value.to_owned();
    flipped.pop();
    flipped.push(if value.ends_with('A') { 'B' } else { 'A' });
    for wrong in [
        "",
        "guess",
        &value[..42],
        &format!("{value}x"),
        &format!(" {value}"),
        &flipped,
        &value.to_ascii_uppercase(),
    ] {
        if wrong != value {
            assert!(!hash.verify(wrong), "{wrong:?} must not verify");
        }
    }
}

#[test]
fn hash_is_sha256_of_the_secret_string() {
    // SHA-256("abc"), FIPS 180-2 appendix B.1.
    let hash = ClientSecretHash::of("abc");
    assert_eq!(
        hash.to_hex(),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(hash.as_bytes().len(), 32);
    assert_eq!(ClientSecretHash::from_bytes(*hash.as_bytes()), hash);
    assert_ne!(ClientSecretHash::of("abd"), hash);
}

#[test]
fn hash_hex_round_trips_and_rejects_garbage() {
    let hash = ClientSecretHash::of("abc");
    assert_eq!(ClientSecretHash::from_hex(&hash.to_hex()).unwrap(), hash);
    assert_eq!(
        ClientSecretHash::from_hex(&hash.to_hex().to_ascii_uppercase()).unwrap(),
        hash
    );
    let hex = hash.to_hex();
    for bad in [
        "".to_owned(),
        hex[..62].to_owned(),
        format!("{hex}00"),
        format!("{}zz", &hex[..62]),
        format!("{}é", &hex[..62]),
        format!("+{}", &hex[..63]),
    ] {
        assert_eq!(
            ClientSecretHash::from_hex(&bad),
            Err(InvalidSecretHash),
            "{bad:?}"
        );
    }
}

#[test]
fn hash_serde_is_lowercase_hex() {
    let hash = ClientSecretHash::of("abc");
    let json = serde_json::to_string(&hash).unwrap();
    assert_eq!(
        json,
        "\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\""
    );
    assert_eq!(
        serde_json::from_str::<ClientSecretHash>(&json).unwrap(),
        hash
    );
    assert!(serde_json::from_str::<ClientSecretHash>("\"abc\"").is_err());
    assert!(serde_json::from_str::<ClientSecretHash>("[1,2]").is_err());
}

#[test]
fn hash_debug_shows_the_hash() {
    let hash = ClientSecretHash::of("abc");
    assert_eq!(
        format!("{hash:?}"),
        "ClientSecretHash(ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad)"
    );
}
