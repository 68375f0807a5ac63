//! Builds SAML 2.0 assertions for tests, valid by default for an authorization server whose
//! token endpoint is [`TOKEN_ENDPOINT`] and whose identity provider is [`IDP`]; each field
//! can be changed or removed to make one RFC 7522 §3 rule fail.
//!
//! Shared by the unit tests, the xmlsec tests and the adapters' end-to-end tests (included
//! with `#[path]`), so it depends on nothing but `time` and `base64`.

#![allow(dead_code, unreachable_pub)]

use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

/// The identity provider's entity id.
pub const IDP: &str = "https://idp.example/saml";
/// The authorization server's token endpoint (expected `Recipient`, accepted `Audience`).
pub const TOKEN_ENDPOINT: &str = "https://id.example/oauth/token";

/// One assertion, as fields; [`AssertionSpec::to_xml`] renders it unsigned, with a
/// `<!--SIGNATURE-->` marker right after `Issuer` where a signature belongs.
#[derive(Debug, Clone)]
pub struct AssertionSpec {
    pub id: String,
    pub issue_instant: OffsetDateTime,
    pub issuer: String,
    pub name_id: Option<String>,
    /// `None`: no `SubjectConfirmation` at all.
    pub confirmation_method: Option<String>,
    /// `None`: no `SubjectConfirmationData`.
    pub recipient: Option<String>,
    pub confirmation_not_on_or_after: Option<OffsetDateTime>,
    /// `None`: no `Conditions` element.
    pub conditions: bool,
    pub not_before: Option<OffsetDateTime>,
    pub not_on_or_after: Option<OffsetDateTime>,
    /// `None`: no `AudienceRestriction`.
    pub audience: Option<String>,
    /// Extra XML inside `Conditions`.
    pub extra_conditions: String,
    pub authn_instant: Option<OffsetDateTime>,
}

fn stamp(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).expect("a formattable time")
}

impl AssertionSpec {
    /// A valid assertion about `alice`, issued now, valid for five minutes.
    pub fn valid(now: OffsetDateTime) -> AssertionSpec {
        AssertionSpec {
            id: format!("_a{}", now.unix_timestamp_nanos()),
            issue_instant: now,
            issuer: IDP.into(),
            name_id: Some("alice@idp.example".into()),
            confirmation_method: Some("urn:oasis:names:tc:SAML:2.0:cm:bearer".into()),
            recipient: Some(TOKEN_ENDPOINT.into()),
            confirmation_not_on_or_after: Some(now + Duration::minutes(5)),
            conditions: true,
            not_before: Some(now - Duration::seconds(5)),
            not_on_or_after: Some(now + Duration::minutes(5)),
            audience: Some(TOKEN_ENDPOINT.into()),
            extra_conditions: String::new(),
            authn_instant: Some(now - Duration::minutes(1)),
        }
    }

    /// The same with another `ID`.
    pub fn with_id(mut self, id: &str) -> AssertionSpec {
        self.id = id.into();
        self
    }

    /// The unsigned XML, with `<!--SIGNATURE-->` where the signature goes.
    pub fn to_xml(&self) -> String {
        let mut xml = format!(
            concat!(
                r#"<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" "#,
                r#"ID="{}" Version="2.0" IssueInstant="{}">"#,
                r#"<saml:Issuer>{}</saml:Issuer><!--SIGNATURE-->"#
            ),
            self.id,
            stamp(self.issue_instant),
            self.issuer
        );
        xml.push_str("<saml:Subject>");
        if let Some(name_id) = &self.name_id {
            xml.push_str(&format!(
                r#"<saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">{name_id}</saml:NameID>"#
            ));
        }
        if let Some(method) = &self.confirmation_method {
            xml.push_str(&format!(r#"<saml:SubjectConfirmation Method="{method}">"#));
            if self.recipient.is_some() || self.confirmation_not_on_or_after.is_some() {
                xml.push_str("<saml:SubjectConfirmationData");
                if let Some(t) = self.confirmation_not_on_or_after {
                    xml.push_str(&format!(r#" NotOnOrAfter="{}""#, stamp(t)));
                }
                if let Some(recipient) = &self.recipient {
                    xml.push_str(&format!(r#" Recipient="{recipient}""#));
                }
                xml.push_str("/>");
            }
            xml.push_str("</saml:SubjectConfirmation>");
        }
        xml.push_str("</saml:Subject>");
        if self.conditions {
            xml.push_str("<saml:Conditions");
            if let Some(t) = self.not_before {
                xml.push_str(&format!(r#" NotBefore="{}""#, stamp(t)));
            }
            if let Some(t) = self.not_on_or_after {
                xml.push_str(&format!(r#" NotOnOrAfter="{}""#, stamp(t)));
            }
            xml.push('>');
            if let Some(audience) = &self.audience {
                xml.push_str(&format!(
                    "<saml:AudienceRestriction><saml:Audience>{audience}</saml:Audience></saml:AudienceRestriction>"
                ));
            }
            xml.push_str(&self.extra_conditions);
            xml.push_str("</saml:Conditions>");
        }
        if let Some(t) = self.authn_instant {
            xml.push_str(&format!(
                concat!(
                    r#"<saml:AuthnStatement AuthnInstant="{}"><saml:AuthnContext>"#,
                    "<saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport",
                    "</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>"
                ),
                stamp(t)
            ));
        }
        xml.push_str(concat!(
            r#"<saml:AttributeStatement><saml:Attribute Name="department">"#,
            "<saml:AttributeValue>finance</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>"
        ));
        xml.push_str("</saml:Assertion>");
        xml
    }
}

/// base64url without padding, as RFC 7522 §2.1 asks for the `assertion` parameter.
pub fn base64url(xml: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(xml)
}
