//! A SAML identity provider for tests: an RSA key and self-signed certificate generated at
//! test time, signing assertions with an enveloped XML-DSig signature (exclusive
//! canonicalization, RSA-SHA256, SHA-256 digest) through samael and xmlsec1.
//!
//! Shared by the xmlsec tests and the adapters' end-to-end tests (included with `#[path]`).

#![allow(dead_code, unreachable_pub, clippy::expect_used, clippy::unwrap_used)]

use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::rsa::Rsa;
use openssl::x509::{X509, X509NameBuilder};
use samael::crypto::{Crypto, CryptoProvider as _};

/// The XML-DSig algorithms a signature uses.
#[derive(Debug, Clone, Copy)]
pub struct Algorithms {
    pub signature: &'static str,
    pub digest: &'static str,
}

/// RSA-SHA256 with a SHA-256 digest: what the verifier accepts.
pub const RSA_SHA256: Algorithms = Algorithms {
    signature: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    digest: "http://www.w3.org/2001/04/xmlenc#sha256",
};

/// RSA-SHA1 with a SHA-1 digest: what it refuses.
pub const RSA_SHA1: Algorithms = Algorithms {
    signature: "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
    digest: "http://www.w3.org/2000/09/xmldsig#sha1",
};

/// A signing key and its certificate.
pub struct TestIdp {
    key_der: Vec<u8>,
    /// The certificate, PEM.
    pub cert_pem: Vec<u8>,
    /// The certificate, DER.
    pub cert_der: Vec<u8>,
}

impl TestIdp {
    /// A fresh 2048-bit RSA key with a self-signed certificate valid for a day.
    pub fn generate() -> TestIdp {
        let rsa = Rsa::generate(2048).expect("an RSA key");
        let key = PKey::from_rsa(rsa).expect("a key");
        let mut name = X509NameBuilder::new().unwrap();
        name.append_entry_by_text("CN", "idp.example").unwrap();
        let name = name.build();
        let mut cert = X509::builder().unwrap();
        cert.set_version(2).unwrap();
        let serial = BigNum::from_u32(1).unwrap().to_asn1_integer().unwrap();
        cert.set_serial_number(&serial).unwrap();
        cert.set_subject_name(&name).unwrap();
        cert.set_issuer_name(&name).unwrap();
        cert.set_pubkey(&key).unwrap();
        cert.set_not_before(&Asn1Time::days_from_now(0).unwrap())
            .unwrap();
        cert.set_not_after(&Asn1Time::days_from_now(1).unwrap())
            .unwrap();
        cert.sign(&key, MessageDigest::sha256()).unwrap();
        let cert = cert.build();
        TestIdp {
            key_der: key.private_key_to_der().unwrap(),
            cert_pem: cert.to_pem().unwrap(),
            cert_der: cert.to_der().unwrap(),
        }
    }

    /// Signs `xml` (from `AssertionSpec::to_xml`, whose root has `ID="{id}"`): puts an
    /// enveloped signature template referencing `#{id}` at the `<!--SIGNATURE-->` marker and
    /// has xmlsec1 fill it in.
    pub fn sign(&self, xml: &str, id: &str) -> String {
        self.sign_with(xml, id, RSA_SHA256)
    }

    /// [`TestIdp::sign`] with other algorithms.
    pub fn sign_with(&self, xml: &str, id: &str, algorithms: Algorithms) -> String {
        let template = format!(
            concat!(
                r#"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>"#,
                r#"<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>"#,
                r#"<ds:SignatureMethod Algorithm="{signature}"/>"#,
                r##"<ds:Reference URI="#{id}"><ds:Transforms>"##,
                r#"<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>"#,
                r#"<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>"#,
                r#"</ds:Transforms><ds:DigestMethod Algorithm="{digest}"/>"#,
                r#"<ds:DigestValue></ds:DigestValue></ds:Reference></ds:SignedInfo>"#,
                r#"<ds:SignatureValue></ds:SignatureValue></ds:Signature>"#
            ),
            signature = algorithms.signature,
            digest = algorithms.digest,
            id = id,
        );
        assert!(xml.contains("<!--SIGNATURE-->"), "no signature marker");
        let unsigned = xml.replacen("<!--SIGNATURE-->", &template, 1);
        let signed = Crypto::sign_xml(unsigned, &self.key_der).expect("xmlsec1 signs");
        // Drop the XML declaration libxml2 adds, so the result can be embedded.
        match signed.find("?>") {
            Some(end) if signed.starts_with("<?xml") => signed[end + 2..].trim().to_owned(),
            _ => signed,
        }
    }
}
