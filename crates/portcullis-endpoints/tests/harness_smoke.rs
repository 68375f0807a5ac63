//! The shared fixtures work: a provider builds and clients register.
mod support;

use support::*;

#[tokio::test]
async fn harness_builds_a_provider_and_registers_clients() {
    let h = Harness::new().await;
    let web = h.web().await;
    assert!(web.secret.is_some());
    let spa = h.spa().await;
    assert!(spa.secret.is_none());
    let response = h
        .provider
        .token(form_post(
            "/oauth/token",
            "grant_type=client_credentials",
            &[("authorization", &web.basic())],
        ))
        .await;
    // A web client is not registered for client_credentials.
    assert_eq!(response.status(), 400, "{}", json(&response));
}
