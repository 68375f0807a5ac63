//! Events the provider emits (issue 12): every action of the table below, driven through
//! the endpoints and the default login and consent pages, yields exactly the listed events
//! with their fields; no event carries a password; and a stalled receiver (a full queue)
//! drops and counts events while every token request still succeeds.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod session_support;
mod support;

use std::sync::Arc;

use async_trait::async_trait;
use portcullis_events::{Collector, Envelope, Event, EventHandler, EventQueue};
use serde_json::Value;
use session_support::*;
use support::*;

/// The password typed in the failed-login row: it must appear in no event.
const WRONG_PASSWORD: &str = "hunter2-wrong-horse";
/// alice's real password (support::OneUser): it must appear in no event either.
const PASSWORD: &str = "correct horse";
const ALICE: &str = "user-alice";

/// A provider whose events go through an [`EventQueue`] into a [`Collector`].
struct Events {
    h: Harness,
    queue: EventQueue,
    collector: Collector,
    web: Registered,
    machine: Registered,
    owner: Registered,
}

impl Events {
    async fn new() -> Events {
        let collector = Collector::default();
        let queue = EventQueue::spawn(collector.clone(), 1024);
        let sink = queue.clone();
        let h = Harness::with(move |b| b.events(Arc::new(sink))).await;
        let web = h.web().await;
        let machine = h.machine().await;
        let owner = h.resource_owner().await;
        Events {
            h,
            queue,
            collector,
            web,
            machine,
            owner,
        }
    }

    async fn events(&self) -> Vec<Envelope> {
        self.queue.flush().await;
        self.collector.events()
    }
}

/// One row of the table: something a client or a user does.
#[derive(Debug, Clone, Copy)]
enum Action {
    ClientCredentials,
    CodeFlowWithLoginAndConsent,
    Refresh,
    RefreshReuse,
    RevokeTwice,
    FailedLogin,
    ConsentDenied,
    ApiDeny,
}

async fn token(h: &Harness, client: &Registered, pairs: &[(&str, &str)]) -> Value {
    let response = h
        .provider
        .token(form_post(
            "/oauth/token",
            &encode(pairs),
            &[("authorization", &client.basic())],
        ))
        .await;
    let body = json(&response);
    assert_eq!(response.status(), 200, "{body}");
    body
}

/// The login page's POST with `password`, from a fresh browser at `login`.
async fn post_login(h: &Harness, browser: &mut Browser, login: &str, password: &str) -> u16 {
    let page = h.provider.login_page(browser.get(login)).await;
    browser.absorb(&page);
    let csrf = field(&body(&page), "csrf");
    let id = query(login)["interaction"].clone();
    let response = h
        .provider
        .login_page(browser.post(
            login,
            &[
                ("interaction", &id),
                ("csrf", &csrf),
                ("username", "alice"),
                ("password", password),
            ],
        ))
        .await;
    browser.absorb(&response);
    response.status().as_u16()
}

async fn run(e: &Events, action: Action) {
    let h = &e.h;
    match action {
        Action::ClientCredentials => {
            machine_token(h, &e.machine).await;
        }
        Action::CodeFlowWithLoginAndConsent => {
            let mut browser = Browser::default();
            let login = authorize(h, &browser, &authorize_uri(e.web.id(), "openid", &[])).await;
            let consent = sign_in(h, &mut browser, &login).await;
            let done = allow(h, &mut browser, &consent).await;
            let code = query(&done)["code"].clone();
            token(
                h,
                &e.web,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", REDIRECT),
                    ("code_verifier", VERIFIER),
                ],
            )
            .await;
        }
        Action::Refresh | Action::RefreshReuse => {
            let first = password_tokens(h, &e.owner, "view:users").await;
            let refresh = first["refresh_token"].as_str().unwrap();
            token(
                h,
                &e.owner,
                &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
            )
            .await;
            if matches!(action, Action::RefreshReuse) {
                let replay = h
                    .provider
                    .token(form_post(
                        "/oauth/token",
                        &encode(&[("grant_type", "refresh_token"), ("refresh_token", refresh)]),
                        &[("authorization", &e.owner.basic())],
                    ))
                    .await;
                assert_eq!(
                    replay.status(),
                    400,
                    "RFC 9700 §4.14.2: reuse is invalid_grant"
                );
            }
        }
        Action::RevokeTwice => {
            let tokens = password_tokens(h, &e.owner, "view:users").await;
            let refresh = tokens["refresh_token"].as_str().unwrap();
            for _ in 0..2 {
                let response = h
                    .provider
                    .revoke(form_post(
                        "/oauth/revoke",
                        &encode(&[("token", refresh)]),
                        &[("authorization", &e.owner.basic())],
                    ))
                    .await;
                assert_eq!(response.status(), 200, "RFC 7009 §2.2");
            }
        }
        Action::FailedLogin => {
            let mut browser = Browser::default();
            let login = authorize(h, &browser, &authorize_uri(e.web.id(), "openid", &[])).await;
            let status = post_login(h, &mut browser, &login, WRONG_PASSWORD).await;
            assert_eq!(status, 401);
        }
        Action::ConsentDenied => {
            let mut browser = Browser::default();
            let login = authorize(h, &browser, &authorize_uri(e.web.id(), "openid", &[])).await;
            let consent = sign_in(h, &mut browser, &login).await;
            let page = h.provider.consent_page(browser.get(&consent)).await;
            browser.absorb(&page);
            let csrf = field(&body(&page), "csrf");
            let id = query(&consent)["interaction"].clone();
            let response = h
                .provider
                .consent_page(browser.post(
                    &consent,
                    &[("interaction", &id), ("csrf", &csrf), ("decision", "deny")],
                ))
                .await;
            assert_eq!(query(&location(&response))["error"], "access_denied");
        }
        Action::ApiDeny => {
            let browser = Browser::default();
            let login = authorize(h, &browser, &authorize_uri(e.web.id(), "openid", &[])).await;
            let id = query(&login)["interaction"].clone();
            h.provider
                .complete(&id, portcullis_endpoints::Decision::Deny)
                .await
                .unwrap();
        }
    }
}

fn issued(client: &Registered, subject: Option<&str>, grant_type: &str, scope: &str) -> Event {
    Event::TokenIssued {
        client_id: client.id().to_owned(),
        subject: subject.map(str::to_owned),
        grant_type: grant_type.to_owned(),
        scope: scope.to_owned(),
    }
}

/// What each action must emit, in order, and nothing else.
fn expected(e: &Events, action: Action) -> Vec<Event> {
    let login = Event::LoginSucceeded {
        subject: ALICE.into(),
    };
    let password_issue = issued(&e.owner, Some(ALICE), "password", "view:users");
    match action {
        Action::ClientCredentials => vec![issued(
            &e.machine,
            None,
            "client_credentials",
            "create:users view:users",
        )],
        Action::CodeFlowWithLoginAndConsent => vec![
            login,
            Event::ConsentGranted {
                subject: ALICE.into(),
                client_id: e.web.id().into(),
                scope: "openid".into(),
            },
            issued(&e.web, Some(ALICE), "authorization_code", "openid"),
        ],
        Action::Refresh => vec![
            password_issue,
            issued(&e.owner, Some(ALICE), "refresh_token", "view:users"),
            Event::TokenRefreshed {
                client_id: e.owner.id().into(),
                subject: Some(ALICE.into()),
            },
        ],
        Action::RefreshReuse => vec![
            password_issue,
            issued(&e.owner, Some(ALICE), "refresh_token", "view:users"),
            Event::TokenRefreshed {
                client_id: e.owner.id().into(),
                subject: Some(ALICE.into()),
            },
            Event::RefreshReuseDetected {
                client_id: e.owner.id().into(),
            },
        ],
        // The second revocation answers 200 too (RFC 7009 §2.2) but revoked nothing.
        Action::RevokeTwice => vec![
            password_issue,
            Event::TokenRevoked {
                client_id: e.owner.id().into(),
            },
        ],
        Action::FailedLogin => vec![Event::LoginFailed {
            username: "alice".into(),
            reason: "wrong credentials".into(),
        }],
        Action::ConsentDenied => vec![
            login,
            Event::ConsentDenied {
                subject: ALICE.into(),
                client_id: e.web.id().into(),
            },
        ],
        // `Decision::Deny` names no user: the subject is empty.
        Action::ApiDeny => vec![Event::ConsentDenied {
            subject: String::new(),
            client_id: e.web.id().into(),
        }],
    }
}

/// Issue 12: each action emits exactly its events, in order, with their fields; the
/// serialized events never contain a password or a token.
#[tokio::test]
async fn issue_12_each_action_emits_its_events() {
    let table = [
        Action::ClientCredentials,
        Action::CodeFlowWithLoginAndConsent,
        Action::Refresh,
        Action::RefreshReuse,
        Action::RevokeTwice,
        Action::FailedLogin,
        Action::ConsentDenied,
        Action::ApiDeny,
    ];
    for action in table {
        let e = Events::new().await;
        run(&e, action).await;
        let envelopes = e.events().await;
        let got: Vec<Event> = envelopes.iter().map(|env| env.event.clone()).collect();
        assert_eq!(got, expected(&e, action), "{action:?}");
        assert_eq!(e.queue.dropped(), 0, "{action:?}");
        let wire = serde_json::to_string(&envelopes).unwrap();
        for secret in [PASSWORD, WRONG_PASSWORD, "pc_at_", "pc_rt_", "pc_ac_"] {
            assert!(!wire.contains(secret), "{action:?}: {secret} in {wire}");
        }
        for envelope in &envelopes {
            let json = serde_json::to_value(envelope).unwrap();
            assert_eq!(json["type"], envelope.event.name(), "{action:?}");
        }
    }
}

/// Failed requests emit nothing: a wrong client secret, an unknown refresh token, a
/// revocation with no client authentication.
#[tokio::test]
async fn issue_12_failed_requests_emit_nothing() {
    let e = Events::new().await;
    /// Path, form body, extra headers.
    type Case<'a> = (&'a str, &'a str, Vec<(&'a str, String)>);
    let cases: [Case<'_>; 3] = [
        (
            "/oauth/token",
            "grant_type=client_credentials",
            vec![("authorization", basic(e.machine.id(), "wrong"))],
        ),
        (
            "/oauth/token",
            "grant_type=refresh_token&refresh_token=pc_rt_unknown",
            vec![("authorization", e.owner.basic())],
        ),
        ("/oauth/revoke", "token=pc_rt_unknown", vec![]),
    ];
    for (path, body, headers) in cases {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let request = form_post(path, body, &headers);
        let response = if path == "/oauth/token" {
            e.h.provider.token(request).await
        } else {
            e.h.provider.revoke(request).await
        };
        assert_ne!(response.status(), 200, "{path} {body}");
    }
    assert!(e.events().await.is_empty());
}

/// A handler that never finishes: the receiver is stalled.
struct Stalled(Arc<tokio::sync::Semaphore>);

#[async_trait]
impl EventHandler for Stalled {
    async fn handle(&self, _envelope: Envelope) {
        let _permit = self.0.acquire().await;
    }
}

/// Issue 12: a stalled receiver never fails or holds up a token response. With a queue of
/// one, every event past the first two is dropped and counted, and all requests succeed.
#[tokio::test]
async fn issue_12_a_stalled_receiver_drops_events_but_every_token_request_succeeds() {
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let queue = EventQueue::spawn(Stalled(gate.clone()), 1);
    let sink = queue.clone();
    let h = Harness::with(move |b| b.events(Arc::new(sink))).await;
    let machine = h.machine().await;
    let requests = 25;
    for _ in 0..requests {
        machine_token(&h, &machine).await;
    }
    // At most one event is in the handler and one waits; the rest were dropped.
    assert!(
        queue.dropped() >= requests - 2,
        "dropped {}",
        queue.dropped()
    );
    assert!(queue.dropped() <= requests, "dropped {}", queue.dropped());
    gate.add_permits(usize::try_from(requests).unwrap());
    queue.flush().await;
}
