//! RFC 6749 §4.5: extension grants plug in through the `Grant` trait, keyed by their URI.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod support;

use async_trait::async_trait;
use portcullis_grants::{Grant, GrantContext, GrantError, Issuance, TokenResponse, mint_tokens};
use portcullis_registry::ScopeSet;
use portcullis_store::FamilyId;
use support::*;

const URN: &str = "urn:example:params:oauth:grant-type:magic-word";

/// Issues a client-credentials-like token when the request carries `word=please`.
struct MagicWord;

#[async_trait]
impl Grant for MagicWord {
    fn grant_type(&self) -> &str {
        URN
    }

    async fn exchange(&self, cx: &GrantContext<'_>) -> Result<TokenResponse, GrantError> {
        if cx.required("word")? != "please" {
            return Err(GrantError::Extension {
                code: "magic_word_required",
                description: "say the magic word".into(),
            });
        }
        let minted = mint_tokens(Issuance {
            audience: portcullis_grants::Audience::unrestricted(),
            confirmation: None,
            client: cx.client,
            subject: None,
            scopes: ScopeSet::new(),
            family: FamilyId::generate()?,
            now: cx.now,
            refresh_scopes: None,
            auth_time: None,
            signing: cx.signing(),
        })?;
        cx.store.insert_tokens(minted.records).await?;
        Ok(minted.response)
    }
}

#[tokio::test]
async fn rfc6749_4_5_extension_grant_is_dispatched_by_its_uri() {
    let h = Harness::with(|b| b.grant(MagicWord)).await;
    assert!(h.provider.grant_types().any(|g| g == URN));
    let machine = h.machine().await;
    let request = |pairs: &[(&str, &str)], auth: &str| {
        form_post("/oauth/token", &encode(pairs), &[("authorization", auth)])
    };

    let ok = h
        .provider
        .token(request(
            &[("grant_type", URN), ("word", "please")],
            &machine.basic(),
        ))
        .await;
    let body = json(&ok);
    assert_eq!(ok.status(), 200, "{body}");
    assert!(body["access_token"].as_str().unwrap().starts_with("pc_at_"));

    // The grant's own error code reaches the client with status 400.
    let refused = h
        .provider
        .token(request(
            &[("grant_type", URN), ("word", "now")],
            &machine.basic(),
        ))
        .await;
    assert_eq!(refused.status(), 400);
    assert_eq!(json(&refused)["error"], "magic_word_required");

    // Client authentication happens before any grant runs (RFC 6749 §3.2.1).
    let anonymous = h
        .provider
        .token(request(
            &[("grant_type", URN), ("word", "please")],
            &basic(machine.id(), "wrong"),
        ))
        .await;
    assert_eq!(anonymous.status(), 401);
    assert_eq!(json(&anonymous)["error"], "invalid_client");

    // Without the extension registered the same URI is unsupported.
    let plain = Harness::new().await;
    let machine = plain.machine().await;
    let unsupported = plain
        .provider
        .token(request(
            &[("grant_type", URN), ("word", "please")],
            &machine.basic(),
        ))
        .await;
    assert_eq!(unsupported.status(), 400);
    assert_eq!(json(&unsupported)["error"], "unsupported_grant_type");
}
