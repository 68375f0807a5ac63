//! RFC 7522 with real signatures: assertions signed at test time by a generated key through
//! xmlsec1, verified by [`XmlSecVerifier`], then tampered with, left unsigned, wrapped,
//! expired and replayed. Needs feature `saml`.

#![cfg(feature = "saml")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

#[path = "support/saml_assertion.rs"]
mod saml_assertion;
#[path = "support/saml_idp.rs"]
mod saml_idp;

use std::sync::Arc;

use portcullis_grants::{
    Grant, GrantContext, GrantError, IssuerSettings, NoClaims, Params, Policy, Saml2BearerGrant,
    SamlAssertionVerifier, Signing, TokenResponse, XmlSecVerifier,
};
use portcullis_registry::{Client, ClientKind, GrantType, NewClient, ScopeCatalog};
use portcullis_store::{MemoryStore, TokenStore};
use portcullis_tokens::{KeySet, SigningAlgorithm, SigningKey};
use saml_assertion::{AssertionSpec, IDP, TOKEN_ENDPOINT, base64url};
use saml_idp::{RSA_SHA1, TestIdp};
use time::{Duration, OffsetDateTime};

struct World {
    idp: TestIdp,
    store: MemoryStore,
    grant: Saml2BearerGrant,
    client: Client,
    settings: IssuerSettings,
    keys: KeySet,
    now: OffsetDateTime,
}

fn world() -> World {
    let idp = TestIdp::generate();
    let verifier = XmlSecVerifier::from_pem(&idp.cert_pem).expect("the certificate loads");
    let grant = Saml2BearerGrant::new(IDP, TOKEN_ENDPOINT, verifier, Arc::new(MemoryStore::new()));
    let client = NewClient::new("saml client", ClientKind::Machine)
        .grant_types([GrantType::Saml2Bearer])
        .build(&ScopeCatalog::with_oidc_scopes())
        .unwrap()
        .client;
    World {
        idp,
        store: MemoryStore::new(),
        grant,
        client,
        settings: IssuerSettings::new("https://id.example"),
        keys: KeySet::new(SigningKey::generate(SigningAlgorithm::ES256).unwrap()),
        now: OffsetDateTime::now_utc().replace_nanosecond(0).unwrap(),
    }
}

impl World {
    fn signed(&self, spec: &AssertionSpec) -> String {
        self.idp.sign(&spec.to_xml(), &spec.id)
    }

    async fn present(&self, assertion_param: &str) -> Result<TokenResponse, GrantError> {
        let params = Params::from_pairs([
            ("grant_type", GrantType::Saml2Bearer.as_str()),
            ("assertion", assertion_param),
        ]);
        let catalog = ScopeCatalog::with_oidc_scopes();
        let policy = Policy::default();
        let cx = GrantContext::new(
            &self.store,
            &self.client,
            &params,
            self.now,
            &policy,
            &catalog,
            None,
            Signing {
                settings: &self.settings,
                keys: &self.keys,
                claims: &NoClaims,
            },
        );
        self.grant.exchange(&cx).await
    }

    async fn subject_of(&self, response: &TokenResponse) -> String {
        let record = self
            .store
            .find_token(&response.access_token.lookup_key(), self.now)
            .await
            .unwrap()
            .unwrap();
        record.subject.unwrap().as_str().to_owned()
    }
}

#[tokio::test]
async fn rfc7522_3_item9_signed_assertion_is_accepted() {
    let w = world();
    let spec = AssertionSpec::valid(w.now);
    let signed = w.signed(&spec);
    assert!(signed.contains("<ds:SignatureValue>") && !signed.contains("<ds:SignatureValue></"));
    let response = w.present(&base64url(&signed)).await.unwrap();
    assert_eq!(response.token_type, "Bearer");
    assert!(response.refresh_token.is_none());
    assert_eq!(w.subject_of(&response).await, "alice@idp.example");
}

/// A genuinely signed assertion (for another service provider) moved inside a forged one
/// that names this server: only the signed element is read, so the forgery is ignored.
fn wrapped(genuine_signed: &str, forged: &AssertionSpec) -> String {
    forged.to_xml().replace(
        "<!--SIGNATURE-->",
        &format!("<saml:Advice>{genuine_signed}</saml:Advice>"),
    )
}

#[tokio::test]
async fn rfc7522_3_negative_table() {
    let w = world();
    let now = w.now;
    let valid = || AssertionSpec::valid(now);
    let other_idp = TestIdp::generate();

    let signed = |spec: AssertionSpec| w.signed(&spec);
    let tampered = w
        .signed(&valid().with_id("_tampered"))
        .replace("alice@idp.example", "admin@idp.example");
    let unsigned = valid().with_id("_unsigned").to_xml();
    let untrusted = {
        let spec = valid().with_id("_untrusted");
        other_idp.sign(&spec.to_xml(), &spec.id)
    };
    let sha1 = {
        let spec = valid().with_id("_sha1");
        w.idp.sign_with(&spec.to_xml(), &spec.id, RSA_SHA1)
    };
    let wrapping = wrapped(
        &signed(AssertionSpec {
            audience: Some("https://other-sp.example".into()),
            recipient: Some("https://other-sp.example/acs".into()),
            ..valid().with_id("_genuine")
        }),
        &AssertionSpec {
            name_id: Some("admin@idp.example".into()),
            ..valid().with_id("_forged")
        },
    );
    let two_assertions = format!(
        "<wrapper>{}{}</wrapper>",
        signed(valid().with_id("_one")),
        signed(valid().with_id("_two"))
    );
    let replayed = signed(valid().with_id("_replayed"));
    w.present(&base64url(&replayed)).await.unwrap();
    let signature_moved_out = {
        // The signature kept, the signed content replaced by a forged assertion with the same ID.
        let genuine = signed(valid().with_id("_moved"));
        let signature_start = genuine.find("<ds:Signature").unwrap();
        let signature_end = genuine.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
        AssertionSpec {
            name_id: Some("admin@idp.example".into()),
            ..valid().with_id("_moved")
        }
        .to_xml()
        .replace("<!--SIGNATURE-->", &genuine[signature_start..signature_end])
    };

    // (case, the `assertion` parameter, expected error code)
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "rfc7522_3_item1_wrong_issuer",
            base64url(&signed(AssertionSpec {
                issuer: "https://evil.example/saml".into(),
                ..valid().with_id("_issuer")
            })),
            "invalid_grant",
        ),
        (
            "rfc7522_3_item2_wrong_audience",
            base64url(&signed(AssertionSpec {
                audience: Some("https://other-sp.example".into()),
                ..valid().with_id("_audience")
            })),
            "invalid_grant",
        ),
        (
            "rfc7522_3_item5_wrong_recipient",
            base64url(&signed(AssertionSpec {
                recipient: Some("https://other-sp.example/acs".into()),
                ..valid().with_id("_recipient")
            })),
            "invalid_grant",
        ),
        (
            "rfc7522_3_item5_no_bearer_subject_confirmation",
            base64url(&signed(AssertionSpec {
                confirmation_method: Some("urn:oasis:names:tc:SAML:2.0:cm:sender-vouches".into()),
                ..valid().with_id("_method")
            })),
            "invalid_grant",
        ),
        (
            "rfc7522_3_item6_expired_not_on_or_after",
            base64url(&signed(AssertionSpec {
                issue_instant: now - Duration::minutes(20),
                not_before: Some(now - Duration::minutes(20)),
                not_on_or_after: Some(now - Duration::minutes(15)),
                confirmation_not_on_or_after: Some(now - Duration::minutes(15)),
                ..valid().with_id("_expired")
            })),
            "invalid_grant",
        ),
        (
            "rfc7522_3_item11_not_yet_valid",
            base64url(&signed(AssertionSpec {
                not_before: Some(now + Duration::minutes(10)),
                ..valid().with_id("_early")
            })),
            "invalid_grant",
        ),
        (
            "rfc7522_3_item9_tampered_content",
            base64url(&tampered),
            "invalid_grant",
        ),
        (
            "rfc7522_3_item9_unsigned",
            base64url(&unsigned),
            "invalid_grant",
        ),
        (
            "rfc7522_3_item9_signed_by_an_untrusted_key",
            base64url(&untrusted),
            "invalid_grant",
        ),
        (
            "rfc7522_3_item9_sha1_signature_refused",
            base64url(&sha1),
            "invalid_grant",
        ),
        (
            "rfc7522_3_item9_signature_wrapping",
            base64url(&wrapping),
            "invalid_grant",
        ),
        (
            "rfc7522_3_item9_signature_over_other_content",
            base64url(&signature_moved_out),
            "invalid_grant",
        ),
        (
            "rfc7522_2_1_more_than_one_assertion",
            base64url(&two_assertions),
            "invalid_grant",
        ),
        (
            "rfc7522_3_item6_replayed_id",
            base64url(&replayed),
            "invalid_grant",
        ),
        (
            "rfc7522_2_1_malformed_base64url",
            "PHNhbWw6QXNzZXJ0aW9u+/==".into(),
            "invalid_grant",
        ),
        (
            "rfc7522_2_1_not_xml",
            base64url("not xml at all"),
            "invalid_grant",
        ),
        (
            "rfc7522_2_1_dtd_refused",
            base64url(&format!(
                "<!DOCTYPE a [<!ENTITY x \"y\">]>{}",
                signed(valid().with_id("_dtd"))
            )),
            "invalid_grant",
        ),
    ];
    assert!(cases.len() >= 8);
    for (name, assertion, code) in &cases {
        let result = w.present(assertion).await;
        match result {
            Err(err) => assert_eq!(err.code(), *code, "{name}: {err}"),
            Ok(response) => panic!(
                "{name}: accepted, subject {}",
                w.subject_of(&response).await
            ),
        }
    }
    // Only the first presentation of `_replayed` issued a token.
    let issued = w.store.list_client_tokens(&w.client.id, now).await.unwrap();
    assert_eq!(issued.len(), 1);
}

#[tokio::test]
async fn rfc7522_3_item9_wrapping_never_yields_the_forged_subject() {
    // The genuine inner assertion is valid for this server: the grant succeeds, but for the
    // subject the identity provider signed, not the one forged around it.
    let w = world();
    let genuine = w.signed(&AssertionSpec::valid(w.now).with_id("_inner"));
    let forged = AssertionSpec {
        name_id: Some("admin@idp.example".into()),
        ..AssertionSpec::valid(w.now).with_id("_outer")
    };
    let response = w
        .present(&base64url(&wrapped(&genuine, &forged)))
        .await
        .unwrap();
    assert_eq!(w.subject_of(&response).await, "alice@idp.example");
}

#[tokio::test]
async fn verifier_keeps_only_signed_content() {
    let w = world();
    let verifier = XmlSecVerifier::from_der([w.idp.cert_der.clone()]).unwrap();
    let signed = w.signed(&AssertionSpec::valid(w.now).with_id("_direct"));
    let assertion = verifier.verify(&signed).await.unwrap();
    assert_eq!(assertion.id, "_direct");
    assert_eq!(assertion.issuer, IDP);
    assert_eq!(assertion.attributes["department"], ["finance"]);
    // Works outside a tokio runtime as well (one synchronous call).
    let outside = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        drop(runtime);
        futures_lite_block_on(verifier.verify(&signed))
    })
    .join()
    .unwrap();
    assert_eq!(outside.unwrap().id, "_direct");
}

/// Polls a future that completes without waking (the verifier outside a runtime does).
fn futures_lite_block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

#[test]
fn certificates_are_checked_when_configured() {
    assert!(XmlSecVerifier::from_pem(b"not a certificate").is_err());
    assert!(XmlSecVerifier::from_der([b"junk".to_vec()]).is_err());
    assert!(XmlSecVerifier::from_der(Vec::<Vec<u8>>::new()).is_err());
}

#[tokio::test]
async fn key_rollover_trusts_every_configured_certificate() {
    let w = world();
    let next = TestIdp::generate();
    let mut pem = w.idp.cert_pem.clone();
    pem.extend_from_slice(&next.cert_pem);
    let verifier = XmlSecVerifier::from_pem(&pem).unwrap();
    for (idp, id) in [(&w.idp, "_old_key"), (&next, "_new_key")] {
        let spec = AssertionSpec::valid(w.now).with_id(id);
        let assertion = verifier
            .verify(&idp.sign(&spec.to_xml(), id))
            .await
            .unwrap();
        assert_eq!(assertion.id, id);
    }
}
