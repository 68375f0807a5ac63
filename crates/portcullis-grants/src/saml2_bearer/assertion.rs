//! What a verified SAML 2.0 assertion says (SAML Core §2.3.3), read from XML whose signature
//! has already been checked.
//!
//! The reader is namespace-aware: an element counts only in the SAML assertion namespace,
//! so a look-alike in another namespace is never mistaken for `Issuer` or `Audience`. The
//! text of an element is all of its character data, so a comment inserted into a signed
//! `NameID` cannot truncate it.

use std::collections::BTreeMap;

use quick_xml::NsReader;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{Namespace, ResolveResult};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::GrantError;

/// The SAML 2.0 assertion namespace (SAML Core §2.1).
pub const SAML_ASSERTION_NAMESPACE: &str = "urn:oasis:names:tc:SAML:2.0:assertion";

/// The bearer subject confirmation method (SAML Profiles §3.3), required by RFC 7522 §3,
/// item 5.
pub const BEARER_CONFIRMATION: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";

/// Deeper nesting than this is refused: assertions are shallow.
const MAX_DEPTH: usize = 32;

/// A SAML `NameID` (SAML Core §2.2.3).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NameId {
    /// The identifier.
    pub value: String,
    /// Its `Format` URI, if given.
    pub format: Option<String>,
}

/// A `SubjectConfirmation` (SAML Core §2.4.1.1).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SubjectConfirmation {
    /// The `Method` URI, e.g. [`BEARER_CONFIRMATION`].
    pub method: String,
    /// Its `SubjectConfirmationData`, if any.
    pub data: Option<SubjectConfirmationData>,
}

/// A `SubjectConfirmationData` (SAML Core §2.4.1.2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SubjectConfirmationData {
    /// `NotBefore`.
    pub not_before: Option<OffsetDateTime>,
    /// `NotOnOrAfter`.
    pub not_on_or_after: Option<OffsetDateTime>,
    /// `Recipient`: where the assertion may be delivered.
    pub recipient: Option<String>,
    /// `InResponseTo`.
    pub in_response_to: Option<String>,
    /// `Address`: the presenter's network address.
    pub address: Option<String>,
}

/// The `Conditions` element (SAML Core §2.5.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Conditions {
    /// `NotBefore`.
    pub not_before: Option<OffsetDateTime>,
    /// `NotOnOrAfter`.
    pub not_on_or_after: Option<OffsetDateTime>,
    /// One entry per `AudienceRestriction`, each the list of its `Audience` values. The
    /// assertion is addressed to a party only if every restriction names it (§2.5.1.4).
    pub audience_restrictions: Vec<Vec<String>>,
    /// Whether a `OneTimeUse` condition is present (§2.5.1.5).
    pub one_time_use: bool,
    /// Whether a `ProxyRestriction` condition is present (§2.5.1.6).
    pub proxy_restriction: bool,
    /// The names of conditions this reader does not know (`Condition` of some `xsi:type`,
    /// or elements of other namespaces): RFC 7522 §3, item 11 says to reject them.
    pub unknown: Vec<String>,
}

/// A SAML 2.0 assertion whose signature has been verified: only signed content.
///
/// [`SamlAssertionVerifier`](crate::SamlAssertionVerifier) implementations build it with
/// [`VerifiedAssertion::from_signed_xml`] from the XML their signature check vouched for.
/// It records what the assertion says; whether that is acceptable (issuer, audience,
/// recipient, time, confirmation, replay) is decided by
/// [`Saml2BearerGrant`](crate::Saml2BearerGrant), the same for every verifier.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedAssertion {
    /// The assertion's `ID`.
    pub id: String,
    /// `IssueInstant`.
    pub issue_instant: OffsetDateTime,
    /// The `Issuer` (the identity provider's entity id).
    pub issuer: String,
    /// The subject's `NameID`, when the subject is identified by one.
    pub subject: Option<NameId>,
    /// The subject's confirmations.
    pub subject_confirmations: Vec<SubjectConfirmation>,
    /// The conditions, if the assertion has any.
    pub conditions: Option<Conditions>,
    /// `AuthnInstant` of the first `AuthnStatement`, if any.
    pub authn_instant: Option<OffsetDateTime>,
    /// Attribute values by attribute `Name`, from every `AttributeStatement`.
    pub attributes: BTreeMap<String, Vec<String>>,
}

/// One element of the document, namespace resolved.
#[derive(Debug, Default)]
struct Element {
    namespace: Option<String>,
    name: String,
    /// Unprefixed attributes (the only ones SAML defines on these elements).
    attributes: Vec<(String, String)>,
    children: Vec<Element>,
    text: String,
}

impl Element {
    fn is_saml(&self, name: &str) -> bool {
        self.namespace.as_deref() == Some(SAML_ASSERTION_NAMESPACE) && self.name == name
    }

    fn saml_children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.is_saml(name))
    }

    fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    fn time(&self, name: &str) -> Result<Option<OffsetDateTime>, GrantError> {
        self.attribute(name)
            .map(|value| {
                OffsetDateTime::parse(value.trim(), &Rfc3339)
                    .map_err(|_| malformed(format!("{} has an invalid {name}", self.name).into()))
            })
            .transpose()
    }

    fn trimmed_text(&self) -> String {
        self.text.trim().to_owned()
    }
}

fn malformed(detail: std::borrow::Cow<'static, str>) -> GrantError {
    GrantError::invalid_grant(format!("the assertion is malformed: {detail}"))
}

impl VerifiedAssertion {
    /// Reads an assertion from XML that a signature check has reduced to its signed content
    /// (for example samael's `reduce_xml_to_signed`): the root must be one SAML 2.0
    /// `Assertion` (RFC 7522 §2.1, "a single SAML 2.0 Assertion").
    ///
    /// # Security
    ///
    /// This only reads. Call it on the output of a signature check, never on the XML as
    /// received: anything outside the signed element must already be gone, or signature
    /// wrapping attacks succeed.
    ///
    /// ```
    /// use portcullis_grants::VerifiedAssertion;
    /// let xml = r#"<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"
    ///     ID="_a1" Version="2.0" IssueInstant="2026-01-01T00:00:00Z">
    ///     <saml:Issuer>https://idp.example</saml:Issuer>
    ///     <saml:Subject><saml:NameID>alice</saml:NameID></saml:Subject>
    /// </saml:Assertion>"#;
    /// let assertion = VerifiedAssertion::from_signed_xml(xml)?;
    /// assert_eq!(assertion.issuer, "https://idp.example");
    /// assert_eq!(assertion.subject.map(|s| s.value).as_deref(), Some("alice"));
    /// # Ok::<(), portcullis_grants::GrantError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`GrantError::InvalidGrant`] when the XML is not well-formed, has a DTD, is nested
    /// too deeply, or its root is not a SAML 2.0 assertion with an `ID`, `Version="2.0"`,
    /// `IssueInstant` and one `Issuer`.
    pub fn from_signed_xml(xml: &str) -> Result<VerifiedAssertion, GrantError> {
        let root = parse_tree(xml)?;
        if !root.is_saml("Assertion") {
            return Err(GrantError::invalid_grant(
                "the signed content is not a SAML 2.0 assertion",
            ));
        }
        if root.attribute("Version") != Some("2.0") {
            return Err(malformed("Version must be 2.0".into()));
        }
        let id = root
            .attribute("ID")
            .filter(|id| !id.is_empty())
            .ok_or_else(|| malformed("ID is missing".into()))?
            .to_owned();
        let issue_instant = root
            .time("IssueInstant")?
            .ok_or_else(|| malformed("IssueInstant is missing".into()))?;
        let mut issuers = root.saml_children("Issuer");
        let issuer = match (issuers.next(), issuers.next()) {
            (Some(issuer), None) => issuer.trimmed_text(),
            _ => return Err(malformed("exactly one Issuer is required".into())),
        };
        let mut subjects = root.saml_children("Subject");
        let subject_element = subjects.next();
        if subjects.next().is_some() {
            return Err(malformed("more than one Subject".into()));
        }
        let mut subject = None;
        let mut subject_confirmations = Vec::new();
        if let Some(element) = subject_element {
            subject = element.saml_children("NameID").next().map(|name| NameId {
                value: name.trimmed_text(),
                format: name.attribute("Format").map(str::to_owned),
            });
            for confirmation in element.saml_children("SubjectConfirmation") {
                let method = confirmation
                    .attribute("Method")
                    .ok_or_else(|| malformed("SubjectConfirmation has no Method".into()))?
                    .to_owned();
                let data = confirmation
                    .saml_children("SubjectConfirmationData")
                    .next()
                    .map(|data| {
                        Ok::<_, GrantError>(SubjectConfirmationData {
                            not_before: data.time("NotBefore")?,
                            not_on_or_after: data.time("NotOnOrAfter")?,
                            recipient: data.attribute("Recipient").map(str::to_owned),
                            in_response_to: data.attribute("InResponseTo").map(str::to_owned),
                            address: data.attribute("Address").map(str::to_owned),
                        })
                    })
                    .transpose()?;
                subject_confirmations.push(SubjectConfirmation { method, data });
            }
        }
        let mut all_conditions = root.saml_children("Conditions");
        let conditions = all_conditions.next().map(read_conditions).transpose()?;
        if all_conditions.next().is_some() {
            return Err(malformed("more than one Conditions".into()));
        }
        let authn_instant = match root.saml_children("AuthnStatement").next() {
            Some(statement) => statement.time("AuthnInstant")?,
            None => None,
        };
        let mut attributes: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for statement in root.saml_children("AttributeStatement") {
            for attribute in statement.saml_children("Attribute") {
                let Some(name) = attribute.attribute("Name") else {
                    continue;
                };
                attributes.entry(name.to_owned()).or_default().extend(
                    attribute
                        .saml_children("AttributeValue")
                        .map(Element::trimmed_text),
                );
            }
        }
        Ok(VerifiedAssertion {
            id,
            issue_instant,
            issuer,
            subject,
            subject_confirmations,
            conditions,
            authn_instant,
            attributes,
        })
    }
}

fn read_conditions(element: &Element) -> Result<Conditions, GrantError> {
    let mut conditions = Conditions {
        not_before: element.time("NotBefore")?,
        not_on_or_after: element.time("NotOnOrAfter")?,
        ..Conditions::default()
    };
    for child in &element.children {
        if child.is_saml("AudienceRestriction") {
            conditions.audience_restrictions.push(
                child
                    .saml_children("Audience")
                    .map(Element::trimmed_text)
                    .collect(),
            );
        } else if child.is_saml("OneTimeUse") {
            conditions.one_time_use = true;
        } else if child.is_saml("ProxyRestriction") {
            conditions.proxy_restriction = true;
        } else {
            conditions.unknown.push(child.name.clone());
        }
    }
    Ok(conditions)
}

/// Builds the element tree of `xml`, refusing DTDs and deep nesting.
fn parse_tree(xml: &str) -> Result<Element, GrantError> {
    let not_xml = || malformed("not well-formed XML".into());
    let mut reader = NsReader::from_str(xml);
    let mut stack: Vec<Element> = Vec::new();
    let mut root = None;
    loop {
        let (namespace, event) = reader.read_resolved_event().map_err(|_| not_xml())?;
        let namespace = match namespace {
            ResolveResult::Bound(Namespace(ns)) => Some(String::from_utf8_lossy(ns).into_owned()),
            ResolveResult::Unbound => None,
            ResolveResult::Unknown(_) => return Err(not_xml()),
        };
        match event {
            Event::Start(_) | Event::Empty(_) if root.is_some() => {
                return Err(malformed("content after the root element".into()));
            }
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(malformed("nested too deeply".into()));
                }
                stack.push(element(&reader, namespace, &start)?);
            }
            Event::Empty(start) => {
                let element = element(&reader, namespace, &start)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            }
            Event::End(_) => {
                let element = stack.pop().ok_or_else(not_xml)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            }
            Event::Text(text) => {
                let text = text.xml10_content().map_err(|_| not_xml())?;
                match stack.last_mut() {
                    Some(parent) => parent.text.push_str(&text),
                    None if text.trim().is_empty() => {}
                    None => return Err(not_xml()),
                }
            }
            Event::CData(data) => {
                let data = data.decode().map_err(|_| not_xml())?;
                stack.last_mut().ok_or_else(not_xml)?.text.push_str(&data);
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref().map_err(|_| not_xml())? {
                    Some(ch) => ch.to_string(),
                    None => {
                        let name = reference.decode().map_err(|_| not_xml())?;
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or_else(not_xml)?
                            .to_owned()
                    }
                };
                stack
                    .last_mut()
                    .ok_or_else(not_xml)?
                    .text
                    .push_str(&resolved);
            }
            Event::DocType(_) => return Err(malformed("a DTD is not allowed".into())),
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(not_xml());
    }
    root.ok_or_else(not_xml)
}

fn element(
    reader: &NsReader<&[u8]>,
    namespace: Option<String>,
    start: &BytesStart<'_>,
) -> Result<Element, GrantError> {
    let not_xml = || malformed("not well-formed XML".into());
    let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
    let mut attributes = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|_| not_xml())?;
        if attribute.key.prefix().is_some() || attribute.key.as_ref() == b"xmlns" {
            continue;
        }
        let value = attribute
            .decoded_and_normalized_value(quick_xml::XmlVersion::Implicit1_0, reader.decoder())
            .map_err(|_| not_xml())?;
        attributes.push((
            String::from_utf8_lossy(attribute.key.as_ref()).into_owned(),
            value.into_owned(),
        ));
    }
    Ok(Element {
        namespace,
        name,
        attributes,
        ..Element::default()
    })
}
