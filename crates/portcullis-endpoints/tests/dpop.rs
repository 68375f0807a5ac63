//! DPoP (RFC 9449) at the provider: sender-constrained tokens from the token endpoint (§5),
//! `cnf.jkt` in JWT access tokens (§6.1) and introspection (§6.2), UserInfo with the DPoP
//! scheme (§7), server nonces (§8), authorization-code binding (§10), replay (§11.1), and a
//! table of refusals, each row named after the clause it proves.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod support;

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http::{Request, Response};
use portcullis_endpoints::{DpopSettings, ProviderBuilder};
use portcullis_registry::{ClientKind, GrantType, ScopeSet};
use portcullis_store::{AuthorizationCode, CodeStore, FamilyId, MemoryStore, TokenStore};
use portcullis_tokens::{
    DpopAlgorithm, DpopSigner, SigningAlgorithm, SigningKey, Subject, TokenHash, TokenKind,
    UnverifiedJwt, mint,
};
use serde_json::{Value, json};
use support::*;
use time::Duration;

const TOKEN: &str = "/oauth/token";
const TOKEN_URL: &str = "https://id.example/oauth/token";
const USERINFO: &str = "/oauth/userinfo";
const USERINFO_URL: &str = "https://id.example/oauth/userinfo";

fn signer(algorithm: SigningAlgorithm) -> DpopSigner {
    DpopSigner::new(SigningKey::generate(algorithm).unwrap())
}

async fn dpop_harness(configure: impl FnOnce(DpopSettings) -> DpopSettings) -> Harness {
    Harness::with(|builder: ProviderBuilder| {
        builder.dpop(configure(DpopSettings::new(Arc::new(MemoryStore::new()))))
    })
    .await
}

/// A fresh proof for a token request at the harness's time.
fn token_proof(h: &Harness, key: &DpopSigner) -> String {
    key.proof("POST", TOKEN_URL, h.provider.now(), None, None)
        .unwrap()
}

/// A client-credentials request of `client` with these `DPoP` header values.
fn cc(client: &Registered, proofs: &[&str]) -> Request<Bytes> {
    let mut headers = vec![("authorization", client.basic())];
    headers.extend(proofs.iter().map(|p| ("dpop", (*p).to_owned())));
    let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    form_post(TOKEN, "grant_type=client_credentials", &headers)
}

fn error_of(response: &Response<Bytes>) -> (u16, String) {
    let body: Value = serde_json::from_slice(response.body()).unwrap_or(Value::Null);
    (
        response.status().as_u16(),
        body["error"].as_str().unwrap_or("").to_owned(),
    )
}

async fn stored_confirmation(h: &Harness, token: &str) -> Option<String> {
    let key = match UnverifiedJwt::peek(token) {
        Ok(jwt) => TokenHash::of(jwt.claims()["jti"].as_str().unwrap()),
        Err(_) => TokenHash::of(token),
    };
    h.store
        .find_token(&key, h.provider.now())
        .await
        .unwrap()
        .expect("stored")
        .confirmation
}

/// A code for a public client, PKCE S256, optionally bound to `dpop_jkt` (§10).
async fn insert_code(h: &Harness, client: &Registered, dpop_jkt: Option<&str>) -> String {
    let code = mint(TokenKind::AuthorizationCode).unwrap();
    let now = h.provider.now();
    h.store
        .insert_code(AuthorizationCode {
            code: code.lookup_key(),
            client_id: client.client.id.clone(),
            redirect_uri: Some(REDIRECT.to_owned()),
            subject: Subject::new("user-alice").unwrap(),
            scopes: ScopeSet::parse("openid offline_access profile").unwrap(),
            nonce: None,
            code_challenge: Some(CHALLENGE.to_owned()),
            code_challenge_method: Some("S256".to_owned()),
            auth_time: Some(now),
            family: FamilyId::generate().unwrap(),
            issued_at: now,
            expires_at: now + Duration::minutes(10),
            resources: Vec::new(),
            dpop_jkt: dpop_jkt.map(str::to_owned),
        })
        .await
        .unwrap();
    code.expose_secret().to_owned()
}

fn code_request(client: &Registered, code: &str, proof: Option<&str>) -> Request<Bytes> {
    let body = encode(&[
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
        ("client_id", client.id()),
    ]);
    match proof {
        Some(proof) => form_post(TOKEN, &body, &[("dpop", proof)]),
        None => form_post(TOKEN, &body, &[]),
    }
}

fn refresh_request(client: &Registered, refresh: &str, proof: Option<&str>) -> Request<Bytes> {
    let body = encode(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh),
        ("client_id", client.id()),
    ]);
    match proof {
        Some(proof) => form_post(TOKEN, &body, &[("dpop", proof)]),
        None => form_post(TOKEN, &body, &[]),
    }
}

/// A public client with code + refresh.
async fn public_client(h: &Harness) -> Registered {
    h.register(ClientKind::Spa, |c| {
        c.redirect_uri(REDIRECT)
            .all_scopes()
            .grant_types([GrantType::AuthorizationCode, GrantType::RefreshToken])
    })
    .await
}

fn userinfo(scheme: &str, token: &str, proof: Option<&str>) -> Request<Bytes> {
    let mut builder = Request::get(USERINFO).header("authorization", format!("{scheme} {token}"));
    if let Some(proof) = proof {
        builder = builder.header("dpop", proof);
    }
    builder.body(Bytes::new()).unwrap()
}

/// RFC 9449 §5, §6.2: a proof at the token endpoint yields `token_type: DPoP`, the stored
/// record is bound to the key, and introspection says so.
#[tokio::test]
async fn rfc9449_5_client_credentials_with_a_proof_is_dpop_bound() {
    let h = dpop_harness(|s| s).await;
    let machine = h.machine().await;
    let key = signer(SigningAlgorithm::ES256);
    let response = h
        .provider
        .token(cc(&machine, &[&token_proof(&h, &key)]))
        .await;
    assert_eq!(response.status(), 200, "{:?}", response.body());
    let body = json(&response);
    assert_eq!(body["token_type"], "DPoP");
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(
        stored_confirmation(&h, token).await.as_deref(),
        Some(key.thumbprint())
    );

    let introspection = h
        .provider
        .introspect(form_post(
            "/oauth/introspect",
            &encode(&[("token", token)]),
            &[("authorization", &machine.basic())],
        ))
        .await;
    let answer = json(&introspection);
    assert_eq!(answer["active"], true);
    assert_eq!(answer["token_type"], "DPoP");
    assert_eq!(answer["cnf"]["jkt"], key.thumbprint());

    // Without a proof the same client still gets a bearer token.
    let bearer = json(&h.provider.token(cc(&machine, &[])).await);
    assert_eq!(bearer["token_type"], "Bearer");
    assert_eq!(
        stored_confirmation(&h, bearer["access_token"].as_str().unwrap()).await,
        None
    );
}

/// RFC 9449 §6.1: a JWT access token carries `cnf.jkt`.
#[tokio::test]
async fn rfc9449_6_1_jwt_access_tokens_carry_cnf_jkt() {
    let h = Harness::with(|b| {
        b.jwt_access_tokens()
            .dpop(DpopSettings::new(Arc::new(MemoryStore::new())))
    })
    .await;
    let machine = h.machine().await;
    for algorithm in [SigningAlgorithm::ES256, SigningAlgorithm::EdDSA] {
        let key = signer(algorithm);
        let body = json(
            &h.provider
                .token(cc(&machine, &[&token_proof(&h, &key)]))
                .await,
        );
        assert_eq!(body["token_type"], "DPoP");
        let jwt = UnverifiedJwt::peek(body["access_token"].as_str().unwrap()).unwrap();
        assert_eq!(jwt.claims()["cnf"]["jkt"], key.thumbprint());
    }
}

/// PS256 proofs are accepted (RFC 7518 §3.5) when the provider lists them.
#[tokio::test]
async fn rfc9449_5_ps256_proofs_are_accepted() {
    let h = dpop_harness(|s| s).await;
    let machine = h.machine().await;
    let key = DpopSigner::pss(SigningKey::generate(SigningAlgorithm::RS256).unwrap()).unwrap();
    let response = h
        .provider
        .token(cc(&machine, &[&token_proof(&h, &key)]))
        .await;
    assert_eq!(json(&response)["token_type"], "DPoP");
}

/// RFC 9449 §5: a public client's refresh token is bound to the proof's key: a refresh
/// without a proof, or with another key, is refused; with the key it works and the new
/// tokens stay bound.
#[tokio::test]
async fn rfc9449_5_public_client_refresh_tokens_are_bound() {
    let h = dpop_harness(|s| s).await;
    let spa = public_client(&h).await;
    let key = signer(SigningAlgorithm::ES256);
    let code = insert_code(&h, &spa, None).await;
    let response = h
        .provider
        .token(code_request(&spa, &code, Some(&token_proof(&h, &key))))
        .await;
    assert_eq!(response.status(), 200, "{:?}", response.body());
    let body = json(&response);
    assert_eq!(body["token_type"], "DPoP");
    let refresh = body["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(
        stored_confirmation(&h, &refresh).await.as_deref(),
        Some(key.thumbprint())
    );

    let other = signer(SigningAlgorithm::ES256);
    for (clause, proof) in [
        ("§5: no proof", None),
        ("§5: another key", Some(token_proof(&h, &other))),
    ] {
        let refused = h
            .provider
            .token(refresh_request(&spa, &refresh, proof.as_deref()))
            .await;
        assert_eq!(error_of(&refused).0, 400, "{clause}");
        assert_ne!(error_of(&refused).1, "", "{clause}");
    }
    let refreshed = h
        .provider
        .token(refresh_request(
            &spa,
            &refresh,
            Some(&token_proof(&h, &key)),
        ))
        .await;
    assert_eq!(refreshed.status(), 200, "{:?}", refreshed.body());
    let body = json(&refreshed);
    assert_eq!(body["token_type"], "DPoP");
    let next = body["refresh_token"].as_str().unwrap();
    assert_eq!(
        stored_confirmation(&h, next).await.as_deref(),
        Some(key.thumbprint())
    );
}

/// RFC 9449 §5: a confidential client's refresh token is not bound (client authentication
/// protects it); its access tokens are.
#[tokio::test]
async fn rfc9449_5_confidential_client_refresh_tokens_are_not_bound() {
    let h = dpop_harness(|s| s).await;
    let owner = h.resource_owner().await;
    let key = signer(SigningAlgorithm::ES256);
    let body = encode(&[
        ("grant_type", "password"),
        ("username", "alice"),
        ("password", "correct horse"),
        ("scope", "profile"),
    ]);
    let proof = token_proof(&h, &key);
    let response = h
        .provider
        .token(form_post(
            TOKEN,
            &body,
            &[("authorization", &owner.basic()), ("dpop", &proof)],
        ))
        .await;
    let body = json(&response);
    assert_eq!(body["token_type"], "DPoP", "{body}");
    let access = body["access_token"].as_str().unwrap();
    let refresh = body["refresh_token"].as_str().unwrap();
    assert_eq!(
        stored_confirmation(&h, access).await.as_deref(),
        Some(key.thumbprint())
    );
    assert_eq!(stored_confirmation(&h, refresh).await, None);
}

/// RFC 9449 §10: a code bound with `dpop_jkt` needs a proof by that key.
#[tokio::test]
async fn rfc9449_10_dpop_jkt_binds_the_code() {
    let h = dpop_harness(|s| s).await;
    let spa = public_client(&h).await;
    let key = signer(SigningAlgorithm::ES256);
    let other = signer(SigningAlgorithm::ES256);
    let code = insert_code(&h, &spa, Some(key.thumbprint())).await;
    let refusals = [
        ("§10: no proof", None),
        ("§10: another key", Some(token_proof(&h, &other))),
    ];
    for (clause, proof) in refusals {
        let refused = h
            .provider
            .token(code_request(&spa, &code, proof.as_deref()))
            .await;
        assert_eq!(
            error_of(&refused),
            (400, "invalid_dpop_proof".to_owned()),
            "{clause}"
        );
    }
    let accepted = h
        .provider
        .token(code_request(&spa, &code, Some(&token_proof(&h, &key))))
        .await;
    assert_eq!(accepted.status(), 200, "{:?}", accepted.body());
    assert_eq!(json(&accepted)["token_type"], "DPoP");
}

/// RFC 9449 §8: with nonces required, a proof without the current nonce is answered
/// `use_dpop_nonce` with a `DPoP-Nonce` header, and a retry with it succeeds.
#[tokio::test]
async fn rfc9449_8_server_nonce() {
    let h = dpop_harness(DpopSettings::require_nonce).await;
    let machine = h.machine().await;
    let key = signer(SigningAlgorithm::ES256);
    let first = h
        .provider
        .token(cc(&machine, &[&token_proof(&h, &key)]))
        .await;
    assert_eq!(error_of(&first), (400, "use_dpop_nonce".to_owned()));
    let nonce = header(&first, "dpop-nonce")
        .expect("a DPoP-Nonce header")
        .to_owned();
    assert_eq!(Some(nonce.clone()), h.provider.dpop_nonce());

    let proof = key
        .proof("POST", TOKEN_URL, h.provider.now(), None, Some(&nonce))
        .unwrap();
    let second = h.provider.token(cc(&machine, &[&proof])).await;
    assert_eq!(second.status(), 200, "{:?}", second.body());
    assert!(header(&second, "dpop-nonce").is_some());

    // The previous slot's nonce is still accepted; two slots later it is not.
    h.clock.advance(DpopSettings::DEFAULT_NONCE_LIFETIME);
    let later = key
        .proof("POST", TOKEN_URL, h.provider.now(), None, Some(&nonce))
        .unwrap();
    assert_eq!(
        h.provider.token(cc(&machine, &[&later])).await.status(),
        200
    );
    h.clock.advance(DpopSettings::DEFAULT_NONCE_LIFETIME * 2);
    let stale = key
        .proof("POST", TOKEN_URL, h.provider.now(), None, Some(&nonce))
        .unwrap();
    let refused = h.provider.token(cc(&machine, &[&stale])).await;
    assert_eq!(error_of(&refused), (400, "use_dpop_nonce".to_owned()));
}

/// RFC 9449 §7: UserInfo with a DPoP-bound token: accepted as `DPoP` with a proof carrying
/// `ath`; refused as `Bearer` (§7.2) and with a bad proof, with a `DPoP` challenge.
#[tokio::test]
async fn rfc9449_7_userinfo_with_a_dpop_bound_token() {
    let h = dpop_harness(|s| s).await;
    let owner = h.resource_owner().await;
    let key = signer(SigningAlgorithm::ES256);
    let proof = token_proof(&h, &key);
    let body = encode(&[
        ("grant_type", "password"),
        ("username", "alice"),
        ("password", "correct horse"),
        ("scope", "openid profile"),
    ]);
    let response = h
        .provider
        .token(form_post(
            TOKEN,
            &body,
            &[("authorization", &owner.basic()), ("dpop", &proof)],
        ))
        .await;
    let token = json(&response)["access_token"].as_str().unwrap().to_owned();
    let now = h.provider.now();
    let good = || {
        key.proof("GET", USERINFO_URL, now, Some(&token), None)
            .unwrap()
    };

    let other = signer(SigningAlgorithm::ES256);
    let rows: Vec<(&str, Request<Bytes>, &str)> = vec![
        (
            "§7.2: bound token as Bearer",
            userinfo("Bearer", &token, Some(&good())),
            "invalid_token",
        ),
        (
            "§7.1: no proof",
            userinfo("DPoP", &token, None),
            "invalid_dpop_proof",
        ),
        (
            "§4.3 item 12: no ath",
            userinfo(
                "DPoP",
                &token,
                Some(&key.proof("GET", USERINFO_URL, now, None, None).unwrap()),
            ),
            "invalid_dpop_proof",
        ),
        (
            "§4.3 item 12: ath of another token",
            userinfo(
                "DPoP",
                &token,
                Some(
                    &key.proof("GET", USERINFO_URL, now, Some("pc_at_x"), None)
                        .unwrap(),
                ),
            ),
            "invalid_dpop_proof",
        ),
        (
            "§4.3 item 12: another key",
            userinfo(
                "DPoP",
                &token,
                Some(
                    &other
                        .proof("GET", USERINFO_URL, now, Some(&token), None)
                        .unwrap(),
                ),
            ),
            "invalid_dpop_proof",
        ),
        (
            "§4.3 item 8: htm POST for a GET",
            userinfo(
                "DPoP",
                &token,
                Some(
                    &key.proof("POST", USERINFO_URL, now, Some(&token), None)
                        .unwrap(),
                ),
            ),
            "invalid_dpop_proof",
        ),
    ];
    for (clause, request, code) in rows {
        let refused = h.provider.userinfo(request).await;
        assert_eq!(refused.status(), 401, "{clause}");
        assert_eq!(json(&refused)["error"], code, "{clause}");
        let challenge = header(&refused, "www-authenticate").unwrap();
        assert!(challenge.starts_with("DPoP "), "{clause}: {challenge}");
        assert!(challenge.contains(&format!("error=\"{code}\"")), "{clause}");
        assert!(
            challenge.contains("algs=\"ES256 EdDSA RS256 PS256\""),
            "{clause}"
        );
    }

    let proof = good();
    let accepted = h
        .provider
        .userinfo(userinfo("DPoP", &token, Some(&proof)))
        .await;
    assert_eq!(accepted.status(), 200, "{:?}", accepted.body());
    assert_eq!(json(&accepted)["sub"], "user-alice");
    // §11.1: the same proof again is a replay.
    let replayed = h
        .provider
        .userinfo(userinfo("DPoP", &token, Some(&proof)))
        .await;
    assert_eq!(json(&replayed)["error"], "invalid_dpop_proof");
}

/// RFC 9449 §5.1: `dpop_signing_alg_values_supported` exactly when DPoP is enabled.
#[tokio::test]
async fn rfc9449_5_1_discovery_lists_algorithms_only_when_enabled() {
    let off = Harness::new().await;
    let metadata = serde_json::to_value(off.provider.provider_metadata().await.unwrap()).unwrap();
    assert!(metadata.get("dpop_signing_alg_values_supported").is_none());

    let on = dpop_harness(|s| s.algorithms([DpopAlgorithm::ES256, DpopAlgorithm::EdDSA])).await;
    let metadata = serde_json::to_value(on.provider.provider_metadata().await.unwrap()).unwrap();
    assert_eq!(
        metadata["dpop_signing_alg_values_supported"],
        json!(["ES256", "EdDSA"])
    );
}

/// Without `ProviderBuilder::dpop`, a `DPoP` header is ignored: bearer tokens as before.
#[tokio::test]
async fn dpop_off_ignores_proofs() {
    let h = Harness::new().await;
    let machine = h.machine().await;
    let key = signer(SigningAlgorithm::ES256);
    let body = json(
        &h.provider
            .token(cc(&machine, &[&token_proof(&h, &key)]))
            .await,
    );
    assert_eq!(body["token_type"], "Bearer");
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

/// Refusals at the token endpoint, each naming the RFC 9449 clause it proves.
#[tokio::test]
async fn rfc9449_token_endpoint_refusals() {
    let h = dpop_harness(|s| s).await;
    let machine = h.machine().await;
    let bound_client = h
        .register(ClientKind::Machine, |c| {
            c.scopes(["view:users"]).dpop_bound_access_tokens(true)
        })
        .await;
    let key = signer(SigningAlgorithm::ES256);
    let now = h.provider.now();
    let claims = || json!({"jti": portcullis_tokens::random_identifier().unwrap(), "htm": "POST", "htu": TOKEN_URL, "iat": now.unix_timestamp()});
    let with_header = |edit: &dyn Fn(&mut Value)| {
        let mut header = key.header();
        edit(&mut header);
        key.sign(&header, &claims()).unwrap()
    };
    let with_claims = |edit: &dyn Fn(&mut Value)| {
        let mut claims = claims();
        edit(&mut claims);
        key.sign(&key.header(), &claims).unwrap()
    };
    let unsigned = |alg: &str| {
        format!(
            "{}.{}.{}",
            b64(&json!({"typ": "dpop+jwt", "alg": alg, "jwk": key.jwk()})),
            b64(&claims()),
            if alg == "none" {
                String::new()
            } else {
                URL_SAFE_NO_PAD.encode([1u8; 32])
            }
        )
    };
    let bad_signature = {
        let proof = token_proof(&h, &key);
        let (input, _) = proof.rsplit_once('.').unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode([7u8; 64]))
    };
    let replayed = token_proof(&h, &key);
    assert_eq!(
        h.provider.token(cc(&machine, &[&replayed])).await.status(),
        200
    );

    let rows: Vec<(&str, Request<Bytes>)> = vec![
        (
            "§4.3 item 1: two DPoP headers",
            cc(&machine, &[&token_proof(&h, &key), &token_proof(&h, &key)]),
        ),
        ("§4.3 item 2: not a JWT", cc(&machine, &["not-a-jwt"])),
        (
            "§4.3 item 4: typ missing",
            cc(
                &machine,
                &[&with_header(&|h| {
                    h.as_object_mut().unwrap().remove("typ");
                })],
            ),
        ),
        (
            "§4.3 item 4: typ JWT",
            cc(&machine, &[&with_header(&|h| h["typ"] = "JWT".into())]),
        ),
        ("§4.3 item 5: alg none", cc(&machine, &[&unsigned("none")])),
        (
            "§4.3 item 5: alg HS256",
            cc(&machine, &[&unsigned("HS256")]),
        ),
        (
            "§4.3 item 7: private jwk",
            cc(
                &machine,
                &[&with_header(&|h| h["jwk"]["d"] = "c2VjcmV0".into())],
            ),
        ),
        (
            "§4.3 item 6: bad signature",
            cc(&machine, &[&bad_signature]),
        ),
        (
            "§4.3 item 3: no jti",
            cc(
                &machine,
                &[&with_claims(&|c| {
                    c.as_object_mut().unwrap().remove("jti");
                })],
            ),
        ),
        (
            "§4.3 item 8: htm GET",
            cc(&machine, &[&with_claims(&|c| c["htm"] = "GET".into())]),
        ),
        (
            "§4.3 item 9: htu of another endpoint",
            cc(
                &machine,
                &[&with_claims(&|c| {
                    c["htu"] = "https://id.example/oauth/revoke".into()
                })],
            ),
        ),
        (
            "§4.3 item 9: htu of another host",
            cc(
                &machine,
                &[&with_claims(&|c| {
                    c["htu"] = "https://evil.example/oauth/token".into()
                })],
            ),
        ),
        (
            "§4.3 item 11: stale iat",
            cc(
                &machine,
                &[&with_claims(&|c| {
                    c["iat"] = (now.unix_timestamp() - 3600).into()
                })],
            ),
        ),
        (
            "§4.3 item 11: future iat",
            cc(
                &machine,
                &[&with_claims(&|c| {
                    c["iat"] = (now.unix_timestamp() + 3600).into()
                })],
            ),
        ),
        ("§11.1: replayed jti", cc(&machine, &[&replayed])),
        (
            "§5.2: dpop_bound_access_tokens client without a proof",
            cc(&bound_client, &[]),
        ),
    ];
    assert!(rows.len() >= 8);
    for (clause, request) in rows {
        let response = h.provider.token(request).await;
        assert_eq!(
            error_of(&response),
            (400, "invalid_dpop_proof".to_owned()),
            "{clause}: {:?}",
            response.body()
        );
        assert_eq!(
            header(&response, "cache-control"),
            Some("no-store"),
            "{clause}"
        );
    }
    // The bound client succeeds with a proof.
    let ok = h
        .provider
        .token(cc(&bound_client, &[&token_proof(&h, &key)]))
        .await;
    assert_eq!(json(&ok)["token_type"], "DPoP");
}

/// RFC 9449 §8: the nonce row, on a provider that requires nonces.
#[tokio::test]
async fn rfc9449_8_nonce_refusals() {
    let h = dpop_harness(DpopSettings::require_nonce).await;
    let machine = h.machine().await;
    let key = signer(SigningAlgorithm::ES256);
    let now = h.provider.now();
    let rows = [
        ("§8: nonce missing when required", None),
        ("§8: a nonce the server never gave", Some("made-up")),
    ];
    for (clause, nonce) in rows {
        let proof = key.proof("POST", TOKEN_URL, now, None, nonce).unwrap();
        let response = h.provider.token(cc(&machine, &[&proof])).await;
        assert_eq!(
            error_of(&response),
            (400, "use_dpop_nonce".to_owned()),
            "{clause}"
        );
        assert_eq!(
            header(&response, "dpop-nonce").map(str::to_owned),
            h.provider.dpop_nonce(),
            "{clause}"
        );
    }
}

/// RFC 9449 §10 end to end: `dpop_jkt` at the authorization endpoint binds the code it
/// yields; the token request must prove that key.
#[tokio::test]
async fn rfc9449_10_dpop_jkt_from_the_authorization_request() {
    use portcullis_endpoints::{AuthenticatedUser, Authorization, Decision};

    let h = dpop_harness(|s| s).await;
    let spa = public_client(&h).await;
    let key = signer(SigningAlgorithm::ES256);
    let user = AuthenticatedUser {
        subject: Subject::new("user-alice").unwrap(),
        auth_time: h.provider.now(),
    };
    let authorize = |jkt: &str| {
        let query = encode(&[
            ("response_type", "code"),
            ("client_id", spa.id()),
            ("redirect_uri", REDIRECT),
            ("scope", "profile"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("dpop_jkt", jkt),
        ]);
        get(&format!("/oauth/authorize?{query}"))
    };

    // A value that is not a thumbprint is refused.
    let Authorization::Respond(refused) =
        h.provider.authorize(authorize("short"), Some(&user)).await
    else {
        panic!("a malformed dpop_jkt must be refused");
    };
    let location = header(&refused, "location").unwrap_or_default().to_owned();
    assert!(location.contains("error=invalid_request"), "{location}");

    let Authorization::Interaction(interaction) = h
        .provider
        .authorize(authorize(key.thumbprint()), Some(&user))
        .await
    else {
        panic!("consent is needed");
    };
    let response = h
        .provider
        .complete(
            &interaction.id,
            Decision::Allow {
                subject: Subject::new("user-alice").unwrap(),
                scopes: ScopeSet::parse("profile").unwrap(),
                auth_time: h.provider.now(),
            },
        )
        .await
        .unwrap();
    let location = url::Url::parse(header(&response, "location").unwrap()).unwrap();
    let code = location
        .query_pairs()
        .find(|(name, _)| name == "code")
        .map(|(_, value)| value.into_owned())
        .expect("a code");
    let other = signer(SigningAlgorithm::ES256);
    let refused = h
        .provider
        .token(code_request(&spa, &code, Some(&token_proof(&h, &other))))
        .await;
    assert_eq!(error_of(&refused), (400, "invalid_dpop_proof".to_owned()));
    let accepted = h
        .provider
        .token(code_request(&spa, &code, Some(&token_proof(&h, &key))))
        .await;
    assert_eq!(accepted.status(), 200, "{:?}", accepted.body());
    assert_eq!(json(&accepted)["token_type"], "DPoP");
}
