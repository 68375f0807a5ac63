//! The `VerifiedWebhook` extractor over a real loopback socket: a Standard Webhooks
//! delivery signed with the receiver's secret is accepted as its envelope; a tampered,
//! replayed or unsigned one is refused with the status `WebhookError::status` gives.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::time::{SystemTime, UNIX_EPOCH};

use axum::routing::post;
use axum::{Extension, Json, Router};
use portcullis_axum::VerifiedWebhook;
use portcullis_events::webhook::{WebhookReceiver, WebhookSecret, sign};
use portcullis_events::{Envelope, Event};

async fn hook(VerifiedWebhook(envelope): VerifiedWebhook) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "id": envelope.id, "type": envelope.event.name() }))
}

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{address}/hooks")
}

/// One header, name and value.
type Header = (&'static str, String);

/// A delivery as `WebhookSender` makes it (spec "Webhook headers").
fn delivery(secret: &WebhookSecret) -> (Envelope, Vec<u8>, Vec<Header>) {
    let envelope = Envelope::new(Event::ClientCreated {
        client_id: "billing".into(),
    });
    let body = serde_json::to_vec(&envelope).unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let now = i64::try_from(now).unwrap();
    let headers = vec![
        ("content-type", "application/json".to_owned()),
        ("webhook-id", envelope.id.clone()),
        ("webhook-timestamp", now.to_string()),
        ("webhook-signature", sign(secret, &envelope.id, now, &body)),
    ];
    (envelope, body, headers)
}

async fn post_to(url: &str, body: Vec<u8>, headers: &[Header]) -> u16 {
    let mut request = reqwest::Client::new().post(url).body(body);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    request.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn a_signed_webhook_is_accepted_and_a_tampered_one_refused() {
    let secret = WebhookSecret::generate().unwrap();
    let receiver = WebhookReceiver::new(secret.clone());
    let url = serve(
        Router::new()
            .route("/hooks", post(hook))
            .layer(Extension(receiver)),
    )
    .await;

    // Accepted: the handler sees the typed envelope.
    let (envelope, body, headers) = delivery(&secret);
    let mut request = reqwest::Client::new().post(&url).body(body.clone());
    for (name, value) in &headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    let seen: serde_json::Value = response.json().await.unwrap();
    assert_eq!(seen["id"], envelope.id.as_str());
    assert_eq!(seen["type"], "client.created");

    // Refused: spec "Verifying signatures" (replay), "Signature scheme" (tampered body,
    // wrong secret), "Webhook headers" (missing header).
    let (_, fresh_body, fresh_headers) = delivery(&secret);
    let tampered = String::from_utf8(fresh_body.clone())
        .unwrap()
        .replace("billing", "billinG")
        .into_bytes();
    let (_, foreign_body, foreign_headers) = delivery(&WebhookSecret::generate().unwrap());
    let unsigned: Vec<_> = fresh_headers
        .iter()
        .filter(|(name, _)| *name != "webhook-signature")
        .cloned()
        .collect();
    let rows: [(&str, Vec<u8>, &[Header], u16); 4] = [
        ("replay of the accepted delivery", body, &headers, 401),
        ("tampered body", tampered, &fresh_headers, 401),
        (
            "signed with another secret",
            foreign_body,
            &foreign_headers,
            401,
        ),
        ("no webhook-signature", fresh_body, &unsigned, 400),
    ];
    for (name, body, headers, status) in rows {
        assert_eq!(post_to(&url, body, headers).await, status, "{name}");
    }
}

#[tokio::test]
async fn without_a_receiver_the_extractor_answers_500() {
    let url = serve(Router::new().route("/hooks", post(hook))).await;
    let secret = WebhookSecret::generate().unwrap();
    let (_, body, headers) = delivery(&secret);
    assert_eq!(post_to(&url, body, &headers).await, 500);
}
