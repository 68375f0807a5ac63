#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use super::*;

#[test]
fn oidc_core_a_3_at_hash_example() {
    // OpenID Connect Core 1.0, Appendix A.3 (RS256).
    assert_eq!(
        oidc_hash(
            SigningAlgorithm::RS256,
            "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
        ),
        "77QmUPtjPfzWtF2AnpK9RQ"
    );
}

#[test]
fn oidc_core_a_4_c_hash_example() {
    // OpenID Connect Core 1.0, Appendix A.4 (RS256).
    assert_eq!(
        oidc_hash(
            SigningAlgorithm::RS256,
            "Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk"
        ),
        "LDktKdoQak3Pk0cnXxCltA"
    );
}

#[test]
fn es256_uses_sha256_and_eddsa_sha512() {
    let value = "pc_at_example";
    assert_eq!(
        oidc_hash(SigningAlgorithm::ES256, value),
        oidc_hash(SigningAlgorithm::RS256, value)
    );
    let sha256 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, value.as_bytes());
    assert_eq!(
        URL_SAFE_NO_PAD
            .decode(oidc_hash(SigningAlgorithm::ES256, value))
            .unwrap(),
        sha256.as_ref()[..16]
    );
    let sha512 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA512, value.as_bytes());
    let eddsa = URL_SAFE_NO_PAD
        .decode(oidc_hash(SigningAlgorithm::EdDSA, value))
        .unwrap();
    assert_eq!(eddsa.len(), 32);
    assert_eq!(eddsa, sha512.as_ref()[..32]);
}
