//! Grant-type logic for portcullis, free of HTTP and of any web framework.
//!
//! One module per grant, each implementing [`Grant`] for the token endpoint:
//! `authorization_code` (RFC 6749 §4.1 with PKCE, RFC 7636), `refresh` (§6, rotation and
//! reuse detection per RFC 9700 §4.14.2), `client_credentials` (§4.4) and `password`
//! (§4.3), and the extension grants `jwt_bearer` (RFC 7523 §2.1), [`saml2_bearer`] (RFC
//! 7522 §2.1; its built-in XML-DSig verifier needs feature `saml`) and `token_exchange`
//! (RFC 8693). `authorization_request` validates the front-channel request (§4.1.1, §4.2.1;
//! OpenID Connect Core §3.2.2.1, §3.3.2.1). [`mint_tokens`] issues opaque or RFC 9068 JWT
//! access tokens for all of them, and [`IdToken`] signs OpenID Connect ID tokens.
//! Extension grants (§4.5) implement [`Grant`] too and are keyed by their URI, such as
//! `device_code` (RFC 8628: [`DeviceFlow`] and its [`DeviceCodeGrant`]).
//!
//! The embedding application answers for its users through [`Authenticator`],
//! [`ClaimsSource`] and [`ConsentSource`]; time comes from a [`Clock`].

mod authorization_code;
pub mod authorization_request;
mod callbacks;
mod client_credentials;
mod clock;
mod device_code;
mod error;
mod grant;
mod id_token;
mod issue;
mod jwt_bearer;
mod params;
mod password;
pub mod pkce;
mod policy;
mod refresh;
mod resource;
pub mod saml2_bearer;
mod settings;
#[cfg(test)]
mod test_support;
mod token_exchange;
mod trusted_issuer;

pub use authorization_code::AuthorizationCodeGrant;
pub use callbacks::{Authenticator, ClaimsSource, ConsentSource, NoClaims, NoRememberedConsent};
pub use client_credentials::ClientCredentialsGrant;
pub use clock::{Clock, ManualClock, SystemClock};
pub use device_code::{
    DEVICE_CODE_GRANT_TYPE, DeviceAuthorizationIssued, DeviceCodeGrant, DeviceFlow,
    MalformedUserCode, USER_CODE_ALPHABET, USER_CODE_LENGTH, UserCode,
};
pub use error::{BoxError, GrantError};
pub use grant::{Grant, GrantContext, IssuedAccessToken, Signing, TokenResponse};
pub use id_token::{ID_TOKEN, IdToken, PROTOCOL_CLAIMS};
pub use issue::{
    AT_JWT_TYP, Issuance, Minted, issues_jwt_access_tokens, issues_refresh_token, mint_tokens,
};
pub use jwt_bearer::{AssertionSubjectMapper, JWT_BEARER_GRANT_TYPE, JwtBearerGrant};
pub use params::{MAX_PARAMETERS, MAX_VALUE_BYTES, Params, ParamsError, REPEATABLE};
pub use password::PasswordGrant;
pub use pkce::CodeChallengeMethod;
pub use policy::{MAX_CODE_TTL, PkcePolicy, Policy};
pub use refresh::RefreshTokenGrant;
pub use resource::{Audience, MAX_RESOURCES, ResourcePolicy};
#[cfg(feature = "saml")]
pub use saml2_bearer::{InvalidIdpCertificate, XmlSecVerifier};
pub use saml2_bearer::{Saml2BearerGrant, SamlAssertionVerifier, VerifiedAssertion};
pub use settings::{IssuerSettings, PairwiseSalt};
pub use token_exchange::{
    DenyTokenExchange, ExchangedToken, Narrowing, TOKEN_EXCHANGE_GRANT_TYPE, TokenExchangeDecision,
    TokenExchangeGrant, TokenExchangePolicy, TokenExchangeRequest, TokenType,
};
pub use trusted_issuer::{CachedJwks, FetchJwks, JwksSource, StaticJwks, TrustedIssuer};
