#![allow(clippy::unwrap_used, clippy::expect_used)]

use http::HeaderValue;
use portcullis_registry::{ClientId, ScopeSet};
use portcullis_store::MemoryStore;
use portcullis_tokens::{DpopSigner, SigningAlgorithm, SigningKey};
use time::OffsetDateTime;

use super::*;

const TOKEN: &str = "pc_at_presented";
const URL: &str = "https://api.example/me";

fn token(confirmation: Option<&str>) -> AccessToken {
    AccessToken {
        subject: None,
        client_id: ClientId::new("app").unwrap(),
        scopes: ScopeSet::new(),
        roles: vec![],
        issued_at: OffsetDateTime::UNIX_EPOCH,
        expires_at: OffsetDateTime::UNIX_EPOCH,
        confirmation: confirmation.map(str::to_owned),
    }
}

fn headers(proofs: &[&str]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(HOST, HeaderValue::from_static("api.example"));
    for proof in proofs {
        headers.append(DPOP_HEADER, HeaderValue::from_str(proof).unwrap());
    }
    headers
}

fn code(result: Result<(), BearerError>) -> Option<&'static str> {
    match result {
        Ok(()) => None,
        Err(err) => err.code(),
    }
}

/// RFC 9449 §7: the resource server's refusals, each naming its clause.
#[tokio::test]
async fn resource_dpop_table() {
    let key = DpopSigner::new(SigningKey::generate(SigningAlgorithm::ES256).unwrap());
    let other = DpopSigner::new(SigningKey::generate(SigningAlgorithm::EdDSA).unwrap());
    let now = OffsetDateTime::now_utc();
    let proof = |signer: &DpopSigner, method: &str, url: &str, token: &str| {
        signer.proof(method, url, now, Some(token), None).unwrap()
    };
    let good = proof(&key, "GET", URL, TOKEN);
    let bound = token(Some(key.thumbprint()));
    let policy = DpopPolicy::default().base_url("https://api.example");
    let uri: Uri = "/me?page=2".parse().unwrap();
    let get = Method::GET;

    /// Clause, DPoP scheme, validated token, proofs, expected error code.
    type Row = (
        &'static str,
        bool,
        AccessToken,
        Vec<String>,
        Option<&'static str>,
    );
    let rows: Vec<Row> = vec![
        (
            "§7.2: bound token as Bearer",
            false,
            bound.clone(),
            vec![good.clone()],
            Some("invalid_token"),
        ),
        (
            "§7.1: DPoP scheme with an unbound token",
            true,
            token(None),
            vec![good.clone()],
            Some("invalid_token"),
        ),
        (
            "§7.1: no proof",
            true,
            bound.clone(),
            vec![],
            Some("invalid_dpop_proof"),
        ),
        (
            "§4.3 item 1: two proofs",
            true,
            bound.clone(),
            vec![good.clone(), good.clone()],
            Some("invalid_dpop_proof"),
        ),
        (
            "§4.3 item 8: wrong htm",
            true,
            bound.clone(),
            vec![proof(&key, "POST", URL, TOKEN)],
            Some("invalid_dpop_proof"),
        ),
        (
            "§4.3 item 9: wrong htu",
            true,
            bound.clone(),
            vec![proof(&key, "GET", "https://api.example/other", TOKEN)],
            Some("invalid_dpop_proof"),
        ),
        (
            "§4.3 item 12: ath of another token",
            true,
            bound.clone(),
            vec![proof(&key, "GET", URL, "pc_at_other")],
            Some("invalid_dpop_proof"),
        ),
        (
            "§4.3 item 12: another key",
            true,
            bound.clone(),
            vec![proof(&other, "GET", URL, TOKEN)],
            Some("invalid_dpop_proof"),
        ),
        (
            "§4.3 item 2: garbage",
            true,
            bound.clone(),
            vec!["x.y.z".into()],
            Some("invalid_dpop_proof"),
        ),
        (
            "§7: unbound bearer token unchanged",
            false,
            token(None),
            vec![],
            None,
        ),
        (
            "§7.1: valid proof",
            true,
            bound.clone(),
            vec![good.clone()],
            None,
        ),
    ];
    for (clause, dpop, token, proofs, expected) in rows {
        let proofs: Vec<&str> = proofs.iter().map(String::as_str).collect();
        let got = policy
            .check(&get, &uri, &headers(&proofs), TOKEN, dpop, &token)
            .await;
        assert_eq!(code(got), expected, "{clause}");
    }
}

/// RFC 9449 §11.1: with a replay store, a proof is accepted once.
#[tokio::test]
async fn replayed_proofs_are_refused_with_a_replay_store() {
    let key = DpopSigner::new(SigningKey::generate(SigningAlgorithm::ES256).unwrap());
    let proof = key
        .proof("GET", URL, OffsetDateTime::now_utc(), Some(TOKEN), None)
        .unwrap();
    let bound = token(Some(key.thumbprint()));
    let uri: Uri = URL.parse().unwrap();
    let without = DpopPolicy::default();
    let with = DpopPolicy::default().replay_store(Arc::new(MemoryStore::new()));
    for _ in 0..2 {
        let ok = without
            .check(&Method::GET, &uri, &headers(&[&proof]), TOKEN, true, &bound)
            .await;
        assert!(ok.is_ok());
    }
    let first = with
        .check(&Method::GET, &uri, &headers(&[&proof]), TOKEN, true, &bound)
        .await;
    assert!(first.is_ok());
    let again = with
        .check(&Method::GET, &uri, &headers(&[&proof]), TOKEN, true, &bound)
        .await;
    assert_eq!(code(again), Some("invalid_dpop_proof"));
}

#[test]
fn request_urls() {
    let policy = DpopPolicy::default();
    let mut headers = HeaderMap::new();
    let uri: Uri = "/a/b?q".parse().unwrap();
    assert_eq!(policy.request_url(&uri, &headers), None);
    headers.insert(HOST, HeaderValue::from_static("evil.example/path"));
    assert_eq!(policy.request_url(&uri, &headers), None);
    headers.insert(HOST, HeaderValue::from_static("127.0.0.1:3000"));
    assert_eq!(
        policy.request_url(&uri, &headers).as_deref(),
        Some("http://127.0.0.1:3000/a/b")
    );
    let absolute: Uri = "https://api.example:8443/a?q".parse().unwrap();
    assert_eq!(
        policy.request_url(&absolute, &headers).as_deref(),
        Some("https://api.example:8443/a")
    );
}

#[test]
fn dpop_challenges_name_the_algorithms() {
    let policy = DpopPolicy::default().algorithms([DpopAlgorithm::ES256]);
    let err = policy.refuse("invalid_dpop_proof", "bad");
    assert_eq!(err.status(), 401);
    assert_eq!(
        err.challenge("api"),
        r#"DPoP realm="api", algs="ES256", error="invalid_dpop_proof", error_description="bad""#
    );
}
