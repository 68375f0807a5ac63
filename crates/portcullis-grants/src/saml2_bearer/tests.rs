//! The RFC 7522 §3 rules of [`Saml2BearerGrant`], with a verifier that only parses (the
//! signature itself is tested with xmlsec1 in `tests/saml2_bearer_xmlsec.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;

use portcullis_registry::{
    Client, ClientKind, NewClient, Scope, ScopeCatalog, ScopeDefinition, ScopeSet,
};
use portcullis_store::{MemoryStore, TokenStore};
use time::{Duration, OffsetDateTime};

use super::*;
use crate::{BoxError, Params, Policy};

#[path = "../../tests/support/saml_assertion.rs"]
mod builder;
use builder::{AssertionSpec, IDP, TOKEN_ENDPOINT, base64url};

/// Trusts whatever it is given: the grant's own rules are under test here.
struct ParseOnly;

#[async_trait]
impl SamlAssertionVerifier for ParseOnly {
    async fn verify(&self, xml: &str) -> Result<VerifiedAssertion, GrantError> {
        VerifiedAssertion::from_signed_xml(xml)
    }
}

fn catalog() -> ScopeCatalog {
    let mut catalog = ScopeCatalog::with_oidc_scopes();
    catalog
        .insert(ScopeDefinition::new(
            Scope::new("view:users").unwrap(),
            "view",
        ))
        .unwrap();
    catalog
}

fn client(grants: &[GrantType]) -> Client {
    NewClient::new("saml client", ClientKind::Machine)
        .all_scopes()
        .grant_types(grants.iter().copied())
        .build(&catalog())
        .expect("valid client")
        .client
}

struct Fixture {
    store: MemoryStore,
    replay: Arc<MemoryStore>,
    grant: Saml2BearerGrant,
    client: Client,
    now: OffsetDateTime,
}

fn fixture() -> Fixture {
    let replay = Arc::new(MemoryStore::new());
    Fixture {
        store: MemoryStore::new(),
        grant: Saml2BearerGrant::new(IDP, TOKEN_ENDPOINT, ParseOnly, replay.clone()),
        replay,
        client: client(&[GrantType::Saml2Bearer]),
        now: OffsetDateTime::now_utc().replace_nanosecond(0).unwrap(),
    }
}

impl Fixture {
    async fn exchange(&self, pairs: &[(&str, &str)]) -> Result<TokenResponse, GrantError> {
        self.exchange_as(&self.grant, &self.client, pairs).await
    }

    async fn exchange_as(
        &self,
        grant: &Saml2BearerGrant,
        client: &Client,
        pairs: &[(&str, &str)],
    ) -> Result<TokenResponse, GrantError> {
        let mut all = vec![("grant_type", GrantType::Saml2Bearer.as_str())];
        all.extend_from_slice(pairs);
        let params = Params::from_pairs(all);
        let catalog = catalog();
        let policy = Policy::default();
        let cx = GrantContext::new(
            &self.store,
            client,
            &params,
            self.now,
            &policy,
            &catalog,
            None,
            crate::test_support::signing(),
        );
        grant.exchange(&cx).await
    }

    async fn present(&self, spec: &AssertionSpec) -> Result<TokenResponse, GrantError> {
        self.exchange(&[("assertion", &base64url(&spec.to_xml()))])
            .await
    }
}

#[tokio::test]
async fn rfc7522_2_1_valid_assertion_issues_a_token_for_the_name_id() {
    let f = fixture();
    let spec = AssertionSpec::valid(f.now);
    let response = f.present(&spec).await.unwrap();
    assert!(response.refresh_token.is_none());
    assert_eq!(response.scope, ScopeSet::parse("view:users").unwrap());
    let stored = f
        .store
        .find_token(&response.access_token.lookup_key(), f.now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.subject.unwrap().as_str(), "alice@idp.example");
    assert_eq!(stored.client_id, f.client.id);
}

#[tokio::test]
async fn rfc7522_3_rules_table() {
    let now = fixture().now;
    let valid = || AssertionSpec::valid(now);
    let cases: Vec<(&str, AssertionSpec)> = vec![
        ("rfc7522_3_item1_wrong_issuer", AssertionSpec {
            issuer: "https://evil.example/saml".into(),
            ..valid()
        }),
        ("rfc7522_3_item2_wrong_audience", AssertionSpec {
            audience: Some("https://other-sp.example".into()),
            ..valid()
        }),
        ("rfc7522_3_item2_no_audience_restriction", AssertionSpec {
            audience: None,
            ..valid()
        }),
        ("rfc7522_3_item2_no_conditions", AssertionSpec {
            conditions: false,
            ..valid()
        }),
        ("rfc7522_3_item3_no_name_id", AssertionSpec {
            name_id: None,
            ..valid()
        }),
        ("rfc7522_3_item4_no_expiry", AssertionSpec {
            not_on_or_after: None,
            confirmation_not_on_or_after: None,
            ..valid()
        }),
        ("rfc7522_3_item5_no_bearer_confirmation", AssertionSpec {
            confirmation_method: Some("urn:oasis:names:tc:SAML:2.0:cm:holder-of-key".into()),
            ..valid()
        }),
        ("rfc7522_3_item5_no_confirmation_at_all", AssertionSpec {
            confirmation_method: None,
            ..valid()
        }),
        ("rfc7522_3_item5_wrong_recipient", AssertionSpec {
            recipient: Some("https://other-sp.example/acs".into()),
            ..valid()
        }),
        ("rfc7522_3_item5_no_recipient", AssertionSpec {
            recipient: None,
            ..valid()
        }),
        ("rfc7522_3_item5_confirmation_data_required_without_conditions_expiry", AssertionSpec {
            not_on_or_after: None,
            recipient: None,
            confirmation_not_on_or_after: None,
            ..valid()
        }),
        ("rfc7522_3_item6_conditions_expired", AssertionSpec {
            not_on_or_after: Some(now - Duration::minutes(2)),
            ..valid()
        }),
        ("rfc7522_3_item6_confirmation_expired", AssertionSpec {
            confirmation_not_on_or_after: Some(now - Duration::minutes(2)),
            ..valid()
        }),
        ("rfc7522_3_item6_unreasonably_far_in_the_future", AssertionSpec {
            not_on_or_after: Some(now + Duration::days(2)),
            confirmation_not_on_or_after: Some(now + Duration::days(2)),
            ..valid()
        }),
        ("rfc7522_3_item11_not_yet_valid", AssertionSpec {
            not_before: Some(now + Duration::minutes(5)),
            ..valid()
        }),
        ("rfc7522_3_item11_unknown_condition", AssertionSpec {
            extra_conditions: r#"<saml:Condition xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="x:Custom"/>"#.into(),
            ..valid()
        }),
    ];
    assert!(cases.len() >= 8);
    let f = fixture();
    for (name, spec) in cases {
        let err = f.present(&spec).await.unwrap_err();
        assert_eq!(err.code(), "invalid_grant", "{name}: {err}");
    }
    // None of the refused assertions burned its id, nor issued anything.
    assert!(
        f.store
            .list_client_tokens(&f.client.id, now)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn rfc7522_3_item2_every_audience_restriction_must_name_us() {
    let f = fixture();
    let spec = AssertionSpec {
        extra_conditions: "<saml:AudienceRestriction><saml:Audience>https://other.example</saml:Audience></saml:AudienceRestriction>".into(),
        ..AssertionSpec::valid(f.now)
    };
    assert_eq!(f.present(&spec).await.unwrap_err().code(), "invalid_grant");
    // The provider's issuer is an accepted audience too, and so is a configured alias.
    for audience in ["https://id.example", "urn:example:as"] {
        let spec = AssertionSpec {
            audience: Some(audience.into()),
            ..AssertionSpec::valid(f.now).with_id(&format!("_aud{}", audience.len()))
        };
        let grant = Saml2BearerGrant::new(IDP, TOKEN_ENDPOINT, ParseOnly, f.replay.clone())
            .audience("urn:example:as");
        let ok = f
            .exchange_as(
                &grant,
                &f.client,
                &[("assertion", &base64url(&spec.to_xml()))],
            )
            .await;
        assert!(ok.is_ok(), "{audience}: {ok:?}");
    }
}

#[tokio::test]
async fn rfc7522_3_item6_replayed_id_is_refused() {
    let f = fixture();
    let spec = AssertionSpec::valid(f.now);
    f.present(&spec).await.unwrap();
    let err = f.present(&spec).await.unwrap_err();
    assert_eq!(err.code(), "invalid_grant");
    assert!(err.description().contains("already been used"));
}

#[tokio::test]
async fn rfc7522_3_item6_leeway_applies_to_expiry() {
    let f = fixture();
    let spec = AssertionSpec {
        not_on_or_after: Some(f.now - Duration::seconds(30)),
        confirmation_not_on_or_after: Some(f.now - Duration::seconds(30)),
        ..AssertionSpec::valid(f.now)
    };
    assert!(f.present(&spec).await.is_ok(), "within the 60 s leeway");
}

#[tokio::test]
async fn rfc7522_2_1_assertion_parameter_is_required_and_base64url() {
    let f = fixture();
    let err = f.exchange(&[]).await.unwrap_err();
    assert_eq!(err.code(), "invalid_request");
    for bad in ["not base64url!", "PHNhbWw+/+", "__8"] {
        let err = f.exchange(&[("assertion", bad)]).await.unwrap_err();
        assert_eq!(err.code(), "invalid_grant", "{bad}");
    }
    // Padding is tolerated (RFC 7522 §2.1: it "SHOULD NOT" be sent, not "MUST NOT").
    let xml = AssertionSpec::valid(f.now).to_xml();
    let padded = format!("{}==", base64url(&xml));
    assert!(f.exchange(&[("assertion", &padded)]).await.is_ok());
}

#[tokio::test]
async fn rfc6749_5_2_client_without_the_grant_is_unauthorized() {
    let f = fixture();
    let other = client(&[GrantType::ClientCredentials]);
    let spec = AssertionSpec::valid(f.now);
    let err = f
        .exchange_as(
            &f.grant,
            &other,
            &[("assertion", &base64url(&spec.to_xml()))],
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "unauthorized_client");
}

#[tokio::test]
async fn rfc6749_3_3_requested_scope_is_checked() {
    let f = fixture();
    let spec = AssertionSpec::valid(f.now);
    let err = f
        .exchange(&[
            ("assertion", &base64url(&spec.to_xml())),
            ("scope", "delete:everything"),
        ])
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_scope");
    // A refused scope did not burn the assertion.
    assert!(f.present(&spec).await.is_ok());
}

struct Prefixing;

#[async_trait]
impl AssertionSubjectMapper for Prefixing {
    async fn subject(&self, issuer: &str, sub: &str) -> Result<Option<Subject>, BoxError> {
        assert_eq!(issuer, IDP);
        Ok((sub != "mallory@idp.example").then(|| Subject::new(format!("idp:{sub}")).unwrap()))
    }
}

#[tokio::test]
async fn subject_mapper_maps_or_refuses_the_name_id() {
    let f = fixture();
    let grant = Saml2BearerGrant::new(IDP, TOKEN_ENDPOINT, ParseOnly, f.replay.clone())
        .subject_mapper(Prefixing);
    let spec = AssertionSpec::valid(f.now);
    let response = f
        .exchange_as(
            &grant,
            &f.client,
            &[("assertion", &base64url(&spec.to_xml()))],
        )
        .await
        .unwrap();
    let stored = f
        .store
        .find_token(&response.access_token.lookup_key(), f.now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.subject.unwrap().as_str(), "idp:alice@idp.example");
    let mallory = AssertionSpec {
        name_id: Some("mallory@idp.example".into()),
        ..AssertionSpec::valid(f.now).with_id("_mallory")
    };
    let err = f
        .exchange_as(
            &grant,
            &f.client,
            &[("assertion", &base64url(&mallory.to_xml()))],
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_grant");
}

#[test]
fn reader_takes_the_whole_text_of_a_name_id_split_by_a_comment() {
    let xml = AssertionSpec::valid(OffsetDateTime::now_utc())
        .to_xml()
        .replace("alice@idp.example", "alice@idp.example<!---->.evil.example");
    let assertion = VerifiedAssertion::from_signed_xml(&xml).unwrap();
    assert_eq!(
        assertion.subject.unwrap().value,
        "alice@idp.example.evil.example"
    );
    assert_eq!(assertion.attributes["department"], ["finance"]);
}

#[test]
fn reader_ignores_look_alikes_in_other_namespaces() {
    let xml = AssertionSpec::valid(OffsetDateTime::now_utc()).to_xml().replace(
        "<saml:Subject>",
        r#"<evil:Subject xmlns:evil="urn:example:evil"><evil:NameID>root</evil:NameID></evil:Subject><saml:Subject>"#,
    );
    let assertion = VerifiedAssertion::from_signed_xml(&xml).unwrap();
    assert_eq!(assertion.subject.unwrap().value, "alice@idp.example");
}

#[test]
fn reader_refuses_what_is_not_one_assertion() {
    let valid = AssertionSpec::valid(OffsetDateTime::now_utc()).to_xml();
    let cases = [
        ("dtd", format!("<!DOCTYPE x [<!ENTITY e 'x'>]>{valid}")),
        (
            "not_an_assertion",
            r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>"#.to_owned(),
        ),
        (
            "wrong_namespace",
            valid.replace("urn:oasis:names:tc:SAML:2.0:assertion", "urn:example:fake"),
        ),
        ("two_roots", format!("{valid}{valid}")),
        ("truncated", valid[..valid.len() - 5].to_owned()),
        (
            "version_1_1",
            valid.replace(r#"Version="2.0""#, r#"Version="1.1""#),
        ),
        (
            "bad_time",
            valid.replace("IssueInstant=\"", "IssueInstant=\"yesterday"),
        ),
    ];
    for (name, xml) in cases {
        let err = VerifiedAssertion::from_signed_xml(&xml).unwrap_err();
        assert_eq!(err.code(), "invalid_grant", "{name}");
    }
}
