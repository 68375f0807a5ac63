//! DPoP (RFC 9449) through each adapter: a DPoP-bound access token from the token endpoint
//! is refused on a protected route without a proof or as a bearer token, and accepted with
//! a proof for that very request; refusals at the token endpoint and on the route, each
//! row named after its clause; discovery only when enabled.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_endpoints::DpopSettings;
use portcullis_store::MemoryStore;
use portcullis_tokens::{DpopSigner, SigningAlgorithm, SigningKey};
use serde_json::{Value, json};

use super::Adapter;
use super::fixture::*;

async fn dpop_fixture<A: Adapter>() -> Fixture {
    Fixture::start_with::<A>(|b| b.dpop(DpopSettings::new(Arc::new(MemoryStore::new())))).await
}

fn signer() -> DpopSigner {
    DpopSigner::new(SigningKey::generate(SigningAlgorithm::ES256).expect("key"))
}

/// A client-credentials request by the fixture's machine client with `proofs` as `DPoP`
/// headers.
async fn dpop_token_request(fx: &Fixture, proofs: &[&str]) -> reqwest::Response {
    let mut request = fx
        .http
        .post(fx.url("/oauth/token"))
        .basic_auth(encode(&fx.machine.id), Some(encode(fx.machine.secret())))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "view:users"),
        ]);
    for proof in proofs {
        request = request.header("DPoP", *proof);
    }
    request.send().await.expect("the server answers")
}

fn token_proof(fx: &Fixture, key: &DpopSigner) -> String {
    key.proof(
        "POST",
        &fx.url("/oauth/token"),
        fx.provider.now(),
        None,
        None,
    )
    .expect("proof")
}

/// A DPoP-bound access token of the machine client, bound to `key`.
async fn bound_token(fx: &Fixture, key: &DpopSigner) -> String {
    let response = dpop_token_request(fx, &[&token_proof(fx, key)]).await;
    let body = body_json(response, 200).await;
    assert_eq!(body["token_type"], "DPoP", "{body}");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

/// GET `/api/me` with `Authorization: <scheme> <token>` and these `DPoP` headers.
async fn api_me(fx: &Fixture, scheme: &str, token: &str, proofs: &[&str]) -> reqwest::Response {
    let mut request = fx
        .http
        .get(fx.url("/api/me"))
        .header("authorization", format!("{scheme} {token}"));
    for proof in proofs {
        request = request.header("DPoP", *proof);
    }
    request.send().await.expect("the server answers")
}

fn me_proof(fx: &Fixture, key: &DpopSigner, token: &str) -> String {
    key.proof(
        "GET",
        &fx.url("/api/me"),
        fx.provider.now(),
        Some(token),
        None,
    )
    .expect("proof")
}

/// RFC 9449 §7, §7.2 (the issue's interop criterion): a DPoP-bound token is refused on a
/// protected route without a proof and as a bearer token, and accepted with a proof.
pub async fn dpop_bound_token_on_protected_route<A: Adapter>() {
    let fx = dpop_fixture::<A>().await;
    let key = signer();
    let token = bound_token(&fx, &key).await;

    // §7.2: presented as a bearer token, even with a valid proof beside it.
    let as_bearer = api_me(&fx, "Bearer", &token, &[&me_proof(&fx, &key, &token)]).await;
    assert_eq!(as_bearer.status(), 401, "{}", A::NAME);
    let challenge = header(&as_bearer, "www-authenticate").expect("a challenge");
    assert!(challenge.starts_with("DPoP "), "{challenge}");
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );
    assert!(challenge.contains("algs="), "{challenge}");

    // §7.1: the DPoP scheme without a proof.
    let no_proof = api_me(&fx, "DPoP", &token, &[]).await;
    assert_eq!(no_proof.status(), 401);
    let challenge = header(&no_proof, "www-authenticate").expect("a challenge");
    assert!(
        challenge.contains(r#"error="invalid_dpop_proof""#),
        "{challenge}"
    );

    // §7.1: with a proof of this request by the token's key.
    let accepted = api_me(&fx, "DPoP", &token, &[&me_proof(&fx, &key, &token)]).await;
    let body = body_json(accepted, 200).await;
    assert_eq!(body["client_id"], fx.machine.id.as_str());
    assert_eq!(body["scope"], "view:users");

    // An unbound token keeps working as a bearer token on the same route.
    let bearer = fx.machine_token(&fx.machine, "view:users").await;
    let response = fx.api("/api/me", Some(&bearer)).await;
    assert_eq!(response.status(), 200);
}

/// Refusals at the token endpoint (400 `invalid_dpop_proof`) and on the protected route
/// (401 with a `DPoP` challenge), each row naming its RFC 9449 clause.
pub async fn dpop_negative_table<A: Adapter>() {
    let fx = dpop_fixture::<A>().await;
    let key = signer();
    let other = signer();
    let now = fx.provider.now();
    let token_url = fx.url("/oauth/token");
    let alg_none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD
            .encode(json!({"typ": "dpop+jwt", "alg": "none", "jwk": key.jwk()}).to_string()),
        URL_SAFE_NO_PAD.encode(
            json!({"jti": "j-1", "htm": "POST", "htu": token_url, "iat": now.unix_timestamp()})
                .to_string()
        )
    );
    let wrong_typ = {
        let mut header = key.header();
        header["typ"] = "JWT".into();
        key.sign(
            &header,
            &json!({"jti": "j-2", "htm": "POST", "htu": token_url, "iat": now.unix_timestamp()}),
        )
        .expect("proof")
    };
    let replayed = token_proof(&fx, &key);
    body_json(dpop_token_request(&fx, &[&replayed]).await, 200).await;
    let proof_at =
        |method: &str, url: &str, iat| key.proof(method, url, iat, None, None).expect("proof");

    let token_rows: Vec<(&str, Vec<String>)> = vec![
        (
            "§4.3 item 1: two DPoP headers",
            vec![token_proof(&fx, &key), token_proof(&fx, &key)],
        ),
        ("§4.3 item 4: typ JWT", vec![wrong_typ]),
        ("§4.3 item 5: alg none", vec![alg_none]),
        (
            "§4.3 item 8: htm GET",
            vec![proof_at("GET", &token_url, now)],
        ),
        (
            "§4.3 item 9: htu of another server",
            vec![proof_at("POST", "https://evil.example/oauth/token", now)],
        ),
        (
            "§4.3 item 11: stale iat",
            vec![proof_at("POST", &token_url, now - time::Duration::hours(1))],
        ),
        ("§11.1: replayed proof", vec![replayed]),
    ];
    for (clause, proofs) in token_rows {
        let proofs: Vec<&str> = proofs.iter().map(String::as_str).collect();
        let response = dpop_token_request(&fx, &proofs).await;
        assert_eq!(
            header(&response, "cache-control").as_deref(),
            Some("no-store"),
            "{clause}"
        );
        let body = body_json(response, 400).await;
        assert_eq!(
            body["error"],
            "invalid_dpop_proof",
            "{} {clause}: {body}",
            A::NAME
        );
    }

    let token = bound_token(&fx, &key).await;
    let bearer = fx.machine_token(&fx.machine, "view:users").await;
    let me = fx.url("/api/me");
    let used = me_proof(&fx, &key, &token);
    body_json(api_me(&fx, "DPoP", &token, &[&used]).await, 200).await;
    let api_rows: Vec<(&str, &str, &str, Vec<String>, &str)> = vec![
        (
            "§7.2: bound token as Bearer",
            "Bearer",
            &token,
            vec![],
            "invalid_token",
        ),
        (
            "§7.1: DPoP scheme with a bearer token",
            "DPoP",
            &bearer,
            vec![me_proof(&fx, &key, &bearer)],
            "invalid_token",
        ),
        (
            "§4.3 item 8: htm POST for a GET",
            "DPoP",
            &token,
            vec![
                key.proof("POST", &me, now, Some(&token), None)
                    .expect("proof"),
            ],
            "invalid_dpop_proof",
        ),
        (
            "§4.3 item 9: htu of another route",
            "DPoP",
            &token,
            vec![
                key.proof("GET", &fx.url("/api/audit"), now, Some(&token), None)
                    .expect("proof"),
            ],
            "invalid_dpop_proof",
        ),
        (
            "§4.3 item 12: no ath",
            "DPoP",
            &token,
            vec![key.proof("GET", &me, now, None, None).expect("proof")],
            "invalid_dpop_proof",
        ),
        (
            "§4.3 item 12: ath of another token",
            "DPoP",
            &token,
            vec![me_proof(&fx, &key, &bearer)],
            "invalid_dpop_proof",
        ),
        (
            "§4.3 item 12: another key",
            "DPoP",
            &token,
            vec![me_proof(&fx, &other, &token)],
            "invalid_dpop_proof",
        ),
        (
            "§11.1: replayed proof",
            "DPoP",
            &token,
            vec![used.clone()],
            "invalid_dpop_proof",
        ),
    ];
    for (clause, scheme, presented, proofs, code) in api_rows {
        let proofs: Vec<&str> = proofs.iter().map(String::as_str).collect();
        let response = api_me(&fx, scheme, presented, &proofs).await;
        let challenge = header(&response, "www-authenticate").unwrap_or_default();
        assert!(
            challenge.starts_with("DPoP "),
            "{} {clause}: {challenge}",
            A::NAME
        );
        assert!(
            challenge.contains(&format!("error=\"{code}\"")),
            "{clause}: {challenge}"
        );
        let body = body_json(response, 401).await;
        assert_eq!(body["error"], code, "{} {clause}: {body}", A::NAME);
    }
}

/// RFC 9449 §5.1: `dpop_signing_alg_values_supported` only when DPoP is enabled.
pub async fn dpop_discovery_only_when_enabled<A: Adapter>() {
    for enabled in [false, true] {
        let fx = if enabled {
            dpop_fixture::<A>().await
        } else {
            Fixture::start::<A>().await
        };
        for path in [
            "/.well-known/openid-configuration",
            "/.well-known/oauth-authorization-server",
        ] {
            let document: Value =
                body_json(fx.http.get(fx.url(path)).send().await.expect("answer"), 200).await;
            let algs = document.get("dpop_signing_alg_values_supported");
            if enabled {
                assert_eq!(
                    algs,
                    Some(&json!(["ES256", "EdDSA", "RS256", "PS256"])),
                    "{path}"
                );
            } else {
                assert!(algs.is_none(), "{path}: {document}");
            }
        }
    }
}
