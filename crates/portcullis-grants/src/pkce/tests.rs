use super::*;

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

#[test]
fn rfc7636_verification_table() {
    let long_ok = "a".repeat(128);
    let too_long = "a".repeat(129);
    let bad_char = "a+".repeat(22);
    let cases: [(&str, CodeChallengeMethod, &str, &str, bool); 9] = [
        (
            "rfc7636_appendix_b_s256",
            CodeChallengeMethod::S256,
            CHALLENGE,
            VERIFIER,
            true,
        ),
        (
            "rfc7636_4_6_s256_mismatch",
            CodeChallengeMethod::S256,
            CHALLENGE,
            &long_ok,
            false,
        ),
        (
            "rfc7636_4_6_plain_match",
            CodeChallengeMethod::Plain,
            VERIFIER,
            VERIFIER,
            true,
        ),
        (
            "rfc7636_4_6_plain_mismatch",
            CodeChallengeMethod::Plain,
            VERIFIER,
            &long_ok,
            false,
        ),
        (
            "rfc7636_4_6_plain_challenge_as_s256",
            CodeChallengeMethod::S256,
            VERIFIER,
            VERIFIER,
            false,
        ),
        (
            "rfc7636_4_1_verifier_too_short",
            CodeChallengeMethod::Plain,
            "abc",
            "abc",
            false,
        ),
        (
            "rfc7636_4_1_verifier_too_long",
            CodeChallengeMethod::Plain,
            &too_long,
            &too_long,
            false,
        ),
        (
            "rfc7636_4_1_verifier_bad_char",
            CodeChallengeMethod::Plain,
            &bad_char,
            &bad_char,
            false,
        ),
        (
            "rfc7636_4_1_verifier_max_len",
            CodeChallengeMethod::Plain,
            &long_ok,
            &long_ok,
            true,
        ),
    ];
    for (name, method, challenge, verifier, expected) in cases {
        assert_eq!(verify(method, challenge, verifier), expected, "case {name}");
    }
}

#[test]
fn rfc7636_4_2_challenge_forms() {
    assert!(is_well_formed_challenge(
        CodeChallengeMethod::S256,
        CHALLENGE
    ));
    assert!(!is_well_formed_challenge(
        CodeChallengeMethod::S256,
        &format!("{CHALLENGE}=")
    ));
    assert!(!is_well_formed_challenge(
        CodeChallengeMethod::S256,
        &CHALLENGE.replace('-', "+")
    ));
    assert!(is_well_formed_challenge(
        CodeChallengeMethod::Plain,
        VERIFIER
    ));
    assert!(!is_well_formed_challenge(
        CodeChallengeMethod::Plain,
        "short"
    ));
    assert_eq!("plain".parse(), Ok(CodeChallengeMethod::Plain));
    assert!("PLAIN".parse::<CodeChallengeMethod>().is_err());
}
