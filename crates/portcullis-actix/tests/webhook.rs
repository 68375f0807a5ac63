//! The `VerifiedWebhook` extractor: a Standard Webhooks delivery signed with the receiver's
//! secret is accepted as its envelope; a tampered, replayed or unsigned one is refused
//! with the status `WebhookError::status` gives.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::{App, HttpResponse, test, web};
use portcullis_actix::VerifiedWebhook;
use portcullis_events::webhook::{WebhookReceiver, WebhookSecret, sign};
use portcullis_events::{Envelope, Event};

async fn hook(VerifiedWebhook(envelope): VerifiedWebhook) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "id": envelope.id, "type": envelope.event.name() }))
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

fn request(body: Vec<u8>, headers: &[Header]) -> test::TestRequest {
    let mut request = test::TestRequest::post().uri("/hooks").set_payload(body);
    for (name, value) in headers {
        request = request.insert_header((*name, value.as_str()));
    }
    request
}

#[actix_web::test]
async fn a_signed_webhook_is_accepted_and_a_tampered_one_refused() {
    let secret = WebhookSecret::generate().unwrap();
    let app = test::init_service(
        App::new()
            .app_data(WebhookReceiver::new(secret.clone()))
            .route("/hooks", web::post().to(hook)),
    )
    .await;

    // Accepted: the handler sees the typed envelope.
    let (envelope, body, headers) = delivery(&secret);
    let response = test::call_service(&app, request(body.clone(), &headers).to_request()).await;
    assert_eq!(response.status(), 200);
    let seen: serde_json::Value = test::read_body_json(response).await;
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
        let response = test::call_service(&app, request(body, headers).to_request()).await;
        assert_eq!(response.status().as_u16(), status, "{name}");
    }
}

#[actix_web::test]
async fn without_a_receiver_the_extractor_answers_500() {
    let app = test::init_service(App::new().route("/hooks", web::post().to(hook))).await;
    let (_, body, headers) = delivery(&WebhookSecret::generate().unwrap());
    let response = test::call_service(&app, request(body, &headers).to_request()).await;
    assert_eq!(response.status(), 500);
}

#[actix_web::test]
async fn a_receiver_registered_as_web_data_works_too() {
    let secret = WebhookSecret::generate().unwrap();
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(WebhookReceiver::new(secret.clone())))
            .route("/hooks", web::post().to(hook)),
    )
    .await;
    let (_, body, headers) = delivery(&secret);
    let response = test::call_service(&app, request(body, &headers).to_request()).await;
    assert_eq!(response.status(), 200);
}
