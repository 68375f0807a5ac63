//! Command-line flags and their environment variables: the contract of DESIGN §4.1.

use std::net::SocketAddr;

use clap::Parser;

/// The longest authorization-code lifetime, in seconds (RFC 6749 §4.1.2: "a maximum
/// authorization code lifetime of 10 minutes is RECOMMENDED").
pub(crate) const MAX_CODE_TTL_SECS: u32 = 600;

/// A complete OAuth 2.0 / OpenID Connect provider to run locally: SQLite by default,
/// login and consent pages, an admin API.
#[derive(Debug, Clone, Parser)]
#[command(name = "local-server", version, about, long_about = None)]
pub(crate) struct Config {
    /// Address to listen on.
    #[arg(long, env = "PORTCULLIS_BIND", default_value = "127.0.0.1:8080")]
    pub(crate) bind: SocketAddr,

    /// Issuer identifier, exactly as it appears in `iss` (no trailing slash).
    /// Default: `http://<bind>`.
    #[arg(long, env = "PORTCULLIS_ISSUER")]
    pub(crate) issuer: Option<String>,

    /// Database URL: `sqlite://FILE?mode=rwc` (created on first start) or `postgres://…`.
    #[arg(
        long,
        env = "PORTCULLIS_DATABASE",
        default_value = "sqlite://portcullis.db?mode=rwc",
        hide_env_values = true
    )]
    pub(crate) database: String,

    /// Bearer token for the admin API and console. Generated and printed once when absent.
    #[arg(long, env = "PORTCULLIS_ADMIN_TOKEN", hide_env_values = true)]
    pub(crate) admin_token: Option<String>,

    /// Authorization-code lifetime in seconds (1 to 600).
    #[arg(
        long,
        env = "PORTCULLIS_CODE_TTL_SECS",
        default_value_t = MAX_CODE_TTL_SECS,
        value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_CODE_TTL_SECS))
    )]
    pub(crate) code_ttl_secs: u32,

    /// A trusted issuer of JWT assertions (RFC 7523) and subject tokens (RFC 8693), as
    /// `ISSUER=JWKS`, where JWKS is the issuer's `https` JWKS URL (loopback `http` too) or a
    /// JWKS file. Repeat for several; enables the JWT bearer grant.
    #[arg(
        long = "trusted-issuer",
        env = "PORTCULLIS_TRUSTED_ISSUERS",
        value_name = "ISSUER=JWKS",
        value_delimiter = ','
    )]
    pub(crate) trusted_issuers: Vec<String>,

    /// Enables token exchange (RFC 8693) for clients holding the grant: `impersonate` issues
    /// tokens for the subject token's subject (delegation when an actor token is sent),
    /// `delegate` always records the acting party in `act`. Off by default.
    #[arg(long, env = "PORTCULLIS_TOKEN_EXCHANGE", value_enum)]
    pub(crate) token_exchange: Option<TokenExchangeMode>,

    /// Entity id (`Issuer`) of a SAML 2.0 identity provider whose signed assertions clients
    /// holding the SAML 2.0 bearer grant may exchange for tokens (RFC 7522).
    #[arg(
        long,
        env = "PORTCULLIS_SAML_IDP_ENTITY_ID",
        requires = "saml_idp_cert"
    )]
    pub(crate) saml_idp_entity_id: Option<String>,

    /// PEM file with that identity provider's signing certificate(s).
    #[arg(
        long,
        env = "PORTCULLIS_SAML_IDP_CERT",
        requires = "saml_idp_entity_id"
    )]
    pub(crate) saml_idp_cert: Option<std::path::PathBuf>,

    /// The resource servers clients may name with RFC 8707 `resource` (absolute URIs);
    /// tokens requested for them carry them as `aud`. Without this flag any absolute URI is
    /// accepted.
    #[arg(
        long = "resource",
        env = "PORTCULLIS_RESOURCES",
        value_name = "URI",
        value_delimiter = ','
    )]
    pub(crate) resources: Vec<String>,

    /// The secret salt of pairwise subject identifiers (OpenID Connect Core §8), at least
    /// 16 bytes. Keep it stable: changing it changes every pairwise `sub`. Without it,
    /// pairwise clients cannot sign users in and discovery lists only `public`.
    #[arg(long, env = "PORTCULLIS_PAIRWISE_SALT", hide_env_values = true)]
    pub(crate) pairwise_salt: Option<String>,

    /// Dynamic client registration (RFC 7591/7592): `open` lets anyone register clients
    /// (OpenID scopes only); otherwise give `--registration-token`. Off by default.
    #[arg(long, env = "PORTCULLIS_REGISTRATION", value_enum)]
    pub(crate) registration: Option<RegistrationMode>,

    /// An initial access token that protects the registration endpoint (RFC 7591 §3);
    /// repeat for several. Enables registration with any scope of the catalog.
    #[arg(
        long = "registration-token",
        env = "PORTCULLIS_REGISTRATION_TOKENS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub(crate) registration_tokens: Vec<String>,

    /// Require pushed authorization requests (RFC 9126) from every client. The PAR
    /// endpoint `/oauth/par` is always on.
    #[arg(long, env = "PORTCULLIS_REQUIRE_PAR", value_parser = clap::builder::FalseyValueParser::new())]
    pub(crate) require_par: bool,

    /// Require a server nonce in DPoP proofs (RFC 9449 §8). DPoP itself is always on.
    #[arg(long, env = "PORTCULLIS_DPOP_NONCE", value_parser = clap::builder::FalseyValueParser::new())]
    pub(crate) dpop_nonce: bool,

    /// 32 random bytes, base64url: the key that seals the secrets of `client_secret_jwt`
    /// clients (they cannot be kept hashed: the provider checks a MAC made with them).
    /// Without it `client_secret_jwt` is not offered. Keep it stable and secret.
    #[arg(long, env = "PORTCULLIS_SECRET_SEALING_KEY", hide_env_values = true)]
    pub(crate) secret_sealing_key: Option<String>,

    /// Turn on the recommended rate limits and failed-login lockout (issue 12): 600 token
    /// requests a minute per client and 1200 per IP, 10 login attempts a minute per user and
    /// IP, lockout after 5 failures (1 s doubling to 15 min). Off by default.
    #[arg(long, env = "PORTCULLIS_RATE_LIMITS", value_parser = clap::builder::FalseyValueParser::new())]
    pub(crate) rate_limits: bool,

    /// Seed a demo user, scopes and one client of each type, and print how to use them.
    #[arg(long, env = "PORTCULLIS_DEMO", value_parser = clap::builder::FalseyValueParser::new())]
    pub(crate) demo: bool,
}

impl Config {
    /// The issuer: `--issuer`, or `http://<bind>`.
    pub(crate) fn issuer(&self) -> String {
        match &self.issuer {
            Some(issuer) => issuer.clone(),
            None => format!("http://{}", self.bind),
        }
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_design_4_1() {
        let config = Config::try_parse_from(["local-server"]).expect("defaults parse");
        assert_eq!(config.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(config.issuer(), "http://127.0.0.1:8080");
        assert_eq!(config.database, "sqlite://portcullis.db?mode=rwc");
        assert_eq!(config.code_ttl_secs, 600);
        assert!(config.admin_token.is_none());
        assert!(!config.demo);
    }

    #[test]
    fn code_ttl_above_600_is_refused() {
        assert!(Config::try_parse_from(["local-server", "--code-ttl-secs", "601"]).is_err());
        assert!(Config::try_parse_from(["local-server", "--code-ttl-secs", "0"]).is_err());
        let config =
            Config::try_parse_from(["local-server", "--code-ttl-secs", "60"]).expect("60 is fine");
        assert_eq!(config.code_ttl_secs, 60);
    }

    #[test]
    fn demo_is_a_plain_flag() {
        let config = Config::try_parse_from(["local-server", "--demo"]).expect("parse");
        assert!(config.demo);
    }

    #[test]
    fn issuer_flag_wins() {
        let config = Config::try_parse_from([
            "local-server",
            "--bind",
            "127.0.0.1:9000",
            "--issuer",
            "http://localhost:9000",
        ])
        .expect("parse");
        assert_eq!(config.issuer(), "http://localhost:9000");
    }
}

/// How local-server decides token exchanges (`--token-exchange`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum TokenExchangeMode {
    /// The new token speaks for the subject; with an actor token, the actor is recorded.
    Impersonate,
    /// The new token always records who acts (`act`): the actor token's subject or the client.
    Delegate,
}

/// `--registration`: who may register clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum RegistrationMode {
    /// Anyone, for the OpenID Connect scopes only.
    Open,
}
