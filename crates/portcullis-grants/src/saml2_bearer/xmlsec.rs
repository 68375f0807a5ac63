//! The built-in [`SamlAssertionVerifier`]: XML-DSig through samael over xmlsec1 (feature
//! `saml`).
//!
//! samael's `reduce_xml_to_signed_with_allowed_algorithms` verifies every signature in
//! the document against the configured certificates and returns a document holding only
//! the signed element (`ReduceMode::ValidateAndMarkNoAncestors`): forged content around or
//! beside a genuinely signed assertion is dropped before anything is read, which is the
//! defence against signature wrapping. Only RSA-SHA256 and ECDSA-SHA256 signatures with
//! SHA-256 digests are accepted.
//!
//! xmlsec1 keeps global state, initialised once behind samael's lock, and its documents
//! are not `Send`: each verification is one synchronous call, run on tokio's blocking pool
//! when a runtime is present.

use std::fmt;
use std::sync::{Arc, Once};

use async_trait::async_trait;
use samael::crypto::{
    AllowedSignatureAlgorithm, CertificateDer, Crypto, CryptoProvider as _, ReduceMode,
};

use super::{SamlAssertionVerifier, VerifiedAssertion};
use crate::GrantError;

/// The signature algorithms accepted: SHA-256 with RSA or ECDSA (no SHA-1).
const ALLOWED_ALGORITHMS: [AllowedSignatureAlgorithm; 2] = [
    AllowedSignatureAlgorithm::RsaSha256,
    AllowedSignatureAlgorithm::EcdsaSha256,
];

/// The identity provider's certificate could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid identity provider certificate: {0}")]
pub struct InvalidIdpCertificate(String);

/// Verifies SAML 2.0 assertions signed by an identity provider whose X.509 signing
/// certificates are configured (feature `saml`).
///
/// Only the certificates' public keys are used: `KeyInfo` in the assertion is ignored, and
/// neither the chain nor the validity dates are checked (SAML metadata pins the key, as
/// here).
///
/// ```no_run
/// use std::sync::{Arc, Once};
/// use portcullis_grants::{Saml2BearerGrant, XmlSecVerifier};
/// use portcullis_store::MemoryStore;
///
/// let pem = std::fs::read("idp-signing.pem")?;
/// let grant = Saml2BearerGrant::new(
///     "https://idp.example/saml",
///     "https://id.example/oauth/token",
///     XmlSecVerifier::from_pem(&pem)?,
///     Arc::new(MemoryStore::new()),
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct XmlSecVerifier {
    certificates: Arc<[CertificateDer]>,
}

impl fmt::Debug for XmlSecVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("XmlSecVerifier")
            .field("certificates", &self.certificates.len())
            .finish()
    }
}

impl XmlSecVerifier {
    /// Trusts the certificates in `pem` (one or more `CERTIFICATE` blocks; several during a
    /// key rollover), and initialises xmlsec1.
    ///
    /// # Errors
    ///
    /// [`InvalidIdpCertificate`] when `pem` holds no certificate or one does not parse, or
    /// xmlsec1 cannot be initialised.
    pub fn from_pem(pem: &[u8]) -> Result<XmlSecVerifier, InvalidIdpCertificate> {
        let certificates = openssl::x509::X509::stack_from_pem(pem)
            .map_err(|err| InvalidIdpCertificate(err.to_string()))?;
        if certificates.is_empty() {
            return Err(InvalidIdpCertificate("no certificate found".into()));
        }
        let der = certificates
            .iter()
            .map(|cert| cert.to_der())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|err| InvalidIdpCertificate(err.to_string()))?;
        XmlSecVerifier::from_der(der)
    }

    /// Trusts the DER-encoded certificates `der`, and initialises xmlsec1.
    ///
    /// # Errors
    ///
    /// [`InvalidIdpCertificate`] when `der` is empty or a certificate does not parse, or
    /// xmlsec1 cannot be initialised.
    pub fn from_der(
        der: impl IntoIterator<Item = Vec<u8>>,
    ) -> Result<XmlSecVerifier, InvalidIdpCertificate> {
        let certificates: Vec<CertificateDer> = der.into_iter().map(CertificateDer::from).collect();
        if certificates.is_empty() {
            return Err(InvalidIdpCertificate("no certificate found".into()));
        }
        for cert in &certificates {
            openssl::x509::X509::from_der(cert.der_data())
                .map_err(|err| InvalidIdpCertificate(err.to_string()))?;
        }
        warm_up(&certificates)?;
        Ok(XmlSecVerifier {
            certificates: certificates.into(),
        })
    }
}

/// Initialises xmlsec1 and loads each certificate into it, through a verification that
/// must fail, so that a broken installation or an unusable key shows at start-up rather
/// than as refused assertions.
fn warm_up(certificates: &[CertificateDer]) -> Result<(), InvalidIdpCertificate> {
    const PROBE: &str = concat!(
        r#"<a xmlns:ds="http://www.w3.org/2000/09/xmldsig#" ID="probe"><ds:Signature>"#,
        r#"<ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>"#,
        r#"<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>"#,
        r##"<ds:Reference URI="#probe"><ds:Transforms>"##,
        r#"<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>"#,
        r#"</ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>"#,
        r#"<ds:DigestValue>AA==</ds:DigestValue></ds:Reference></ds:SignedInfo>"#,
        r#"<ds:SignatureValue>AA==</ds:SignatureValue></ds:Signature></a>"#,
    );
    static QUIET: Once = Once::new();
    QUIET.call_once(quiet::disable_error_output);
    for certificate in certificates {
        let result = Crypto::reduce_xml_to_signed(
            PROBE,
            std::slice::from_ref(certificate),
            ReduceMode::ValidateAndMarkNoAncestors,
        );
        if let Err(samael::crypto::CryptoError::CryptoProviderError(err)) = result {
            let message = err.to_string();
            if message.contains("Init") || message.contains("ABI") || message.contains("load") {
                return Err(InvalidIdpCertificate(message));
            }
        }
    }
    Ok(())
}

/// xmlsec1 prints every verification failure to stderr (`func=…:error=…`) unless told not
/// to; a refused assertion is an ordinary `invalid_grant`, not something for the server's
/// error output, and an attacker could otherwise fill it at will.
#[allow(unsafe_code)]
mod quiet {
    use std::os::raw::c_int;

    // SAFETY: `xmlSecErrorsDefaultCallbackEnableOutput` (xmlsec1 errors.h, since 1.2.0) has
    // no preconditions: it stores its argument in the flag the default error callback
    // reads. The symbol is in libxmlsec1, which samael links with the `xmlsec` feature.
    unsafe extern "C" {
        safe fn xmlSecErrorsDefaultCallbackEnableOutput(enabled: c_int);
    }

    /// Turns xmlsec1's default error output off, process-wide.
    pub(super) fn disable_error_output() {
        xmlSecErrorsDefaultCallbackEnableOutput(0);
    }
}

/// One synchronous verification: signature check and reduction to the signed element,
/// then reading it.
fn verify_blocking(
    xml: &str,
    certificates: &[CertificateDer],
) -> Result<VerifiedAssertion, GrantError> {
    // A DTD has no place in an assertion and invites entity expansion: refuse it before
    // libxml2 sees it.
    if xml.contains("<!DOCTYPE") || xml.contains("<!ENTITY") {
        return Err(GrantError::invalid_grant(
            "a DTD is not allowed in the assertion",
        ));
    }
    let signed = Crypto::reduce_xml_to_signed_with_allowed_algorithms(
        xml,
        certificates,
        ReduceMode::ValidateAndMarkNoAncestors,
        Some(&ALLOWED_ALGORITHMS),
    )
    .map_err(|_| {
        GrantError::invalid_grant(
            "the assertion is not signed with SHA-256 by the identity provider's key",
        )
    })?;
    VerifiedAssertion::from_signed_xml(&signed)
}

#[async_trait]
impl SamlAssertionVerifier for XmlSecVerifier {
    async fn verify(&self, xml: &str) -> Result<VerifiedAssertion, GrantError> {
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                let xml = xml.to_owned();
                let certificates = Arc::clone(&self.certificates);
                runtime
                    .spawn_blocking(move || verify_blocking(&xml, &certificates))
                    .await
                    .map_err(|err| GrantError::Application(Box::new(err)))?
            }
            Err(_) => verify_blocking(xml, &self.certificates),
        }
    }
}
