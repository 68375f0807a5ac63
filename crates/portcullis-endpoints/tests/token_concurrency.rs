//! Races at the token endpoint: a code redeemed by many requests at once is redeemed once
//! (RFC 6749 §4.1.2), and a refresh token presented many times at once rotates once
//! (RFC 9700 §4.14.2). Requests go through `Provider::token` on a multi-thread runtime.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod support;

use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response};
use portcullis_registry::ScopeSet;
use portcullis_store::{AuthorizationCode, CodeStore, FamilyId, TokenStatus, TokenStore};
use portcullis_tokens::{Subject, TokenHash, TokenKind, mint};
use serde_json::Value;
use support::*;
use time::Duration;
use tokio::sync::Barrier;

const RACERS: usize = 50;

/// Sends `RACERS` copies of a request at once; answers the responses.
async fn race(h: &Harness, request: impl Fn() -> Request<Bytes>) -> Vec<Response<Bytes>> {
    let barrier = Arc::new(Barrier::new(RACERS));
    let mut tasks = Vec::with_capacity(RACERS);
    for _ in 0..RACERS {
        let provider = h.provider.clone();
        let barrier = barrier.clone();
        let request = request();
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            provider.token(request).await
        }));
    }
    let mut responses = Vec::with_capacity(RACERS);
    for task in tasks {
        responses.push(task.await.expect("no task panics"));
    }
    responses
}

/// Splits responses into successes and `invalid_grant` refusals, failing on anything else.
fn tally(responses: &[Response<Bytes>]) -> (Vec<Value>, usize) {
    let mut winners = Vec::new();
    let mut refused = 0;
    for response in responses {
        let body = json(response);
        match response.status().as_u16() {
            200 => winners.push(body),
            400 if body["error"] == "invalid_grant" => refused += 1,
            _ => panic!("unexpected answer {}: {body}", response.status()),
        }
    }
    (winners, refused)
}

async fn status(h: &Harness, token: &Value) -> TokenStatus {
    h.store
        .find_token(&TokenHash::of(token.as_str().unwrap()), h.provider.now())
        .await
        .unwrap()
        .expect("stored")
        .status
}

/// Stores a code for `client` (scope "profile", redirect REDIRECT) and answers it.
async fn code_for(h: &Harness, client: &Registered) -> (String, FamilyId) {
    let code = mint(TokenKind::AuthorizationCode).unwrap();
    let family = FamilyId::generate().unwrap();
    let now = h.provider.now();
    h.store
        .insert_code(AuthorizationCode {
            code: code.lookup_key(),
            client_id: client.client.id.clone(),
            redirect_uri: Some(REDIRECT.to_owned()),
            subject: Subject::new("user-alice").unwrap(),
            scopes: ScopeSet::parse("profile").unwrap(),
            nonce: None,
            code_challenge: None,
            code_challenge_method: None,
            auth_time: Some(now),
            family: family.clone(),
            issued_at: now,
            expires_at: now + Duration::minutes(10),
            resources: Vec::new(),
            dpop_jkt: None,
        })
        .await
        .unwrap();
    (code.expose_secret().to_owned(), family)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn rfc6749_4_1_2_parallel_redemptions_of_one_code() {
    let h = Harness::new().await;
    let web = h.web().await;
    let (code, family) = code_for(&h, &web).await;
    let body = encode(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", REDIRECT),
    ]);
    let authorization = web.basic();
    let responses = race(&h, || {
        form_post("/oauth/token", &body, &[("authorization", &authorization)])
    })
    .await;

    let (winners, refused) = tally(&responses);
    assert_eq!(winners.len(), 1, "exactly one redemption succeeds");
    assert_eq!(refused, RACERS - 1);

    // Only the winner's tokens were stored. Every loser reached `redeem_code` after the
    // winner (the store serialises redemptions) and was told `AlreadyRedeemed`, which
    // revokes the code's family (RFC 6749 §4.1.2): so the winner's tokens are revoked too.
    let records = h
        .store
        .list_family(&family, h.provider.now())
        .await
        .unwrap();
    assert_eq!(
        records.len(),
        2,
        "one access and one refresh token: {records:?}"
    );
    let winner = &winners[0];
    assert_eq!(
        status(&h, &winner["access_token"]).await,
        TokenStatus::Revoked
    );
    assert_eq!(
        status(&h, &winner["refresh_token"]).await,
        TokenStatus::Revoked
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn rfc9700_4_14_2_parallel_refreshes_of_one_token() {
    let h = Harness::new().await;
    let web = h.web().await;
    let (code, family) = code_for(&h, &web).await;
    let first = h
        .provider
        .token(form_post(
            "/oauth/token",
            &encode(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
            ]),
            &[("authorization", &web.basic())],
        ))
        .await;
    assert_eq!(first.status(), 200);
    let first = json(&first);
    let refresh = first["refresh_token"].as_str().unwrap().to_owned();

    let body = encode(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)]);
    let authorization = web.basic();
    let responses = race(&h, || {
        form_post("/oauth/token", &body, &[("authorization", &authorization)])
    })
    .await;

    let (winners, refused) = tally(&responses);
    assert_eq!(winners.len(), 1, "exactly one rotation succeeds");
    assert_eq!(refused, RACERS - 1);

    // What the store says afterwards. The winner's rotation marked the presented token
    // `rotated` and stored one access and one refresh token. Every loser presented the
    // same token after that (the store serialises rotations): the first of them found it
    // `rotated` — reuse — and the store revoked the whole family in the same step; later
    // losers found it `revoked` and were refused without further change. Losers'
    // successors were never stored. So the family holds exactly four tokens — the code's
    // access and refresh token and the winner's two — and all of them are revoked, the
    // winner's successors included (RFC 9700 §4.14.2: the server cannot tell the
    // legitimate client from the attacker, so the whole grant goes).
    let records = h
        .store
        .list_family(&family, h.provider.now())
        .await
        .unwrap();
    assert_eq!(records.len(), 4, "{records:?}");
    assert!(
        records.iter().all(|r| r.status == TokenStatus::Revoked),
        "{records:?}"
    );
    let winner = &winners[0];
    assert_eq!(
        status(&h, &winner["access_token"]).await,
        TokenStatus::Revoked
    );
    assert_eq!(
        status(&h, &winner["refresh_token"]).await,
        TokenStatus::Revoked
    );
    assert_eq!(
        status(&h, &first["access_token"]).await,
        TokenStatus::Revoked
    );
}
