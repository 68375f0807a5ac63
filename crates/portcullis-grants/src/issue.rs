//! Minting the tokens of a grant: one place that decides lifetimes, kinds, formats and
//! records, so every grant (and the implicit flow) issues the same way.
//!
//! Access tokens are opaque (`pc_at_…`) unless the provider issues JWT access tokens to
//! everyone or the client is registered with [`AccessTokenFormat::Jwt`]; then they are RFC
//! 9068 JWTs signed by the active key, and their record is stored under the hash of their
//! `jti`, so revocation and introspection work the same for both. Refresh tokens are always
//! opaque.

use portcullis_registry::{
    AccessTokenFormat, Client, GrantType, OFFLINE_ACCESS_SCOPE, OPENID_SCOPE, ScopeSet,
};
use portcullis_store::{FamilyId, TokenRecord, TokenStatus};
use portcullis_tokens::{Subject, TokenHash, TokenKind, mint, random_identifier};
use serde_json::{Map, Value};
use time::{Duration, OffsetDateTime};

use crate::{Audience, GrantError, IssuedAccessToken, Signing, TokenResponse};

/// The JOSE `typ` of RFC 9068 access tokens (§2.1).
pub const AT_JWT_TYP: &str = "at+jwt";

/// What to issue.
///
/// ```
/// use portcullis_grants::{Audience, IssuerSettings, Issuance, NoClaims, Signing, mint_tokens};
/// use portcullis_registry::{ClientKind, NewClient, ScopeCatalog, ScopeSet};
/// use portcullis_store::FamilyId;
/// use portcullis_tokens::{KeySet, SigningAlgorithm, SigningKey};
///
/// let client = NewClient::new("Reports", ClientKind::Machine)
///     .build(&ScopeCatalog::with_oidc_scopes())
///     .expect("valid client")
///     .client;
/// let settings = IssuerSettings::new("https://id.example");
/// let keys = KeySet::new(SigningKey::generate(SigningAlgorithm::ES256)?);
/// let minted = mint_tokens(Issuance {
///     client: &client,
///     subject: None,
///     scopes: ScopeSet::new(),
///     family: FamilyId::generate()?,
///     now: time::OffsetDateTime::now_utc(),
///     refresh_scopes: None,
///     auth_time: None,
///     signing: Signing { settings: &settings, keys: &keys, claims: &NoClaims },
///     audience: Audience::unrestricted(),
///     confirmation: None,
/// })?;
/// assert_eq!(minted.records.len(), 1);
/// assert_eq!(minted.response.expires_in, client.access_token_lifetime_secs);
/// assert!(minted.response.access_token.expose_secret().starts_with("pc_at_"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Issuance<'a> {
    /// The client the tokens are for.
    pub client: &'a Client,
    /// The user, or `None` for client credentials.
    pub subject: Option<Subject>,
    /// The access token's scopes.
    pub scopes: ScopeSet,
    /// The grant family the tokens join.
    pub family: FamilyId,
    /// Issue time.
    pub now: OffsetDateTime,
    /// `Some(scopes)` to issue a refresh token with these scopes (RFC 6749 §6: a rotated
    /// refresh token keeps the original grant's scope even when the access token narrows).
    pub refresh_scopes: Option<ScopeSet>,
    /// When the user authenticated, if known: `auth_time` of a JWT access token (RFC 9068
    /// §2.2.1).
    pub auth_time: Option<OffsetDateTime>,
    /// Settings and keys, for JWT access tokens ([`GrantContext::signing`](crate::GrantContext::signing)).
    pub signing: Signing<'a>,
    /// The RFC 8707 audiences of the access token and of the refresh token.
    pub audience: Audience,
    /// The DPoP key thumbprint the access token is bound to (RFC 9449 §6), from the token
    /// request's proof ([`GrantContext::dpop_jkt`](crate::GrantContext::dpop_jkt)). A
    /// refresh token issued to a public client is bound to it too (§5); then the response's
    /// `token_type` is `DPoP`.
    pub confirmation: Option<String>,
}

/// Minted tokens: the response for the client and the records for the store.
#[derive(Debug)]
pub struct Minted {
    /// The response body to serialize.
    pub response: TokenResponse,
    /// The records to store, all or nothing.
    pub records: Vec<TokenRecord>,
}

/// Mints an access token (and a refresh token when asked) with the client's configured
/// lifetimes and roles: an RFC 9068 JWT when the provider's settings or the client's
/// registration ask for one ([`issues_jwt_access_tokens`]), opaque otherwise.
///
/// # Errors
///
/// [`GrantError::Token`] when the random generator or signing fails.
pub fn mint_tokens(issuance: Issuance<'_>) -> Result<Minted, GrantError> {
    let Issuance {
        client,
        subject,
        scopes,
        family,
        now,
        refresh_scopes,
        auth_time,
        signing,
        audience,
        confirmation,
    } = issuance;
    let record = |hash: TokenHash,
                  kind,
                  scopes: ScopeSet,
                  lifetime_secs: u32,
                  audience: Vec<String>,
                  confirmation: Option<String>| TokenRecord {
        hash,
        kind,
        client_id: client.id.clone(),
        subject: subject.clone(),
        scopes,
        roles: client.roles.clone(),
        family: family.clone(),
        issued_at: now,
        expires_at: now + Duration::seconds(i64::from(lifetime_secs)),
        status: TokenStatus::Active,
        audience,
        confirmation,
    };
    let lifetime = client.access_token_lifetime_secs;
    let access: IssuedAccessToken = if issues_jwt_access_tokens(client, signing) {
        let jti = random_identifier()?;
        let claims = AccessTokenClaims {
            client,
            subject: subject.as_ref(),
            scopes: &scopes,
            jti: &jti,
            now,
            lifetime,
            auth_time,
            audience: &audience.access_token,
            confirmation: confirmation.as_deref(),
        }
        .to_claims(signing);
        let jwt = signing.keys.active().sign(Some(AT_JWT_TYP), &claims)?;
        IssuedAccessToken::jwt(jwt, &jti)
    } else {
        mint(TokenKind::AccessToken)?.into()
    };
    let mut records = vec![record(
        access.lookup_key(),
        TokenKind::AccessToken,
        scopes.clone(),
        lifetime,
        audience.access_token.clone(),
        confirmation.clone(),
    )];
    let mut response = TokenResponse::bearer(access, lifetime, scopes);
    response.subject = subject.as_ref().map(|subject| subject.as_str().to_owned());
    if confirmation.is_some() {
        // RFC 9449 §5: "token_type … MUST be DPoP" for a bound access token.
        response.token_type = "DPoP";
    }
    if let Some(refresh_scopes) = refresh_scopes {
        let refresh = mint(TokenKind::RefreshToken)?;
        // RFC 9449 §5: refresh tokens of public clients are bound to the same key;
        // confidential clients' are bound by client authentication instead.
        let refresh_confirmation = confirmation.clone().filter(|_| client.is_public());
        records.push(record(
            refresh.lookup_key(),
            TokenKind::RefreshToken,
            refresh_scopes,
            client.refresh_token_lifetime_secs,
            audience.grant.clone(),
            refresh_confirmation,
        ));
        response.refresh_token = Some(refresh);
    }
    Ok(Minted { response, records })
}

/// Whether `client` gets RFC 9068 JWT access tokens: the provider issues them to everyone
/// ([`IssuerSettings::jwt_access_tokens`](crate::IssuerSettings::jwt_access_tokens)) or the
/// client is registered with [`AccessTokenFormat::Jwt`].
pub fn issues_jwt_access_tokens(client: &Client, signing: Signing<'_>) -> bool {
    signing.settings.jwt_access_tokens || client.access_token_format == AccessTokenFormat::Jwt
}

/// The facts of one RFC 9068 access token.
struct AccessTokenClaims<'a> {
    client: &'a Client,
    subject: Option<&'a Subject>,
    scopes: &'a ScopeSet,
    jti: &'a str,
    now: OffsetDateTime,
    lifetime: u32,
    auth_time: Option<OffsetDateTime>,
    audience: &'a [String],
    confirmation: Option<&'a str>,
}

impl AccessTokenClaims<'_> {
    /// RFC 9068 §2.2: `iss`, `exp`, `aud`, `sub`, `client_id`, `iat`, `jti`; `auth_time`
    /// when known (§2.2.1), `scope` when not empty (§2.2.3), and the client's `roles`
    /// (§2.2.3.1) when it has any.
    fn to_claims(&self, signing: Signing<'_>) -> Map<String, Value> {
        let settings = signing.settings;
        let expires_at = self.now + Duration::seconds(i64::from(self.lifetime));
        // §2.2: "In cases of access tokens obtained through grants where no resource owner
        // is involved, such as the client credentials grant, the value of sub SHOULD
        // correspond to an identifier the authorization server uses to indicate the client
        // application."
        let sub = self
            .subject
            .map_or(self.client.id.as_str(), Subject::as_str);
        let mut claims = Map::new();
        claims.insert("iss".into(), settings.issuer.clone().into());
        claims.insert("sub".into(), sub.into());
        // RFC 8707 §2 / RFC 9068 §3: a token requested for resources is for exactly those.
        let aud: Value = match self.audience {
            [] => settings.access_token_audience.clone().into(),
            [one] => one.clone().into(),
            many => many.to_vec().into(),
        };
        claims.insert("aud".into(), aud);
        claims.insert("client_id".into(), self.client.id.as_str().into());
        claims.insert("exp".into(), expires_at.unix_timestamp().into());
        claims.insert("iat".into(), self.now.unix_timestamp().into());
        claims.insert("jti".into(), self.jti.into());
        if let Some(auth_time) = self.auth_time {
            claims.insert("auth_time".into(), auth_time.unix_timestamp().into());
        }
        if let Some(jkt) = self.confirmation {
            // RFC 9449 §6.1: the key the token is bound to.
            let mut cnf = Map::new();
            cnf.insert("jkt".into(), jkt.into());
            claims.insert("cnf".into(), Value::Object(cnf));
        }
        if !self.scopes.is_empty() {
            claims.insert("scope".into(), self.scopes.to_string().into());
        }
        if !self.client.roles.is_empty() {
            let roles = self.client.roles.iter().map(|assignment| {
                let mut role = Map::new();
                role.insert("role".into(), assignment.role.clone().into());
                if let Some(division) = &assignment.division {
                    role.insert("division".into(), division.clone().into());
                }
                Value::Object(role)
            });
            claims.insert("roles".into(), Value::Array(roles.collect()));
        }
        claims
    }
}

/// Whether a grant of `scopes` to `client` comes with a refresh token (DESIGN §4.1): the
/// client must have the `refresh_token` grant, and an OpenID request must have been granted
/// `offline_access` (OpenID Connect Core §11); a plain OAuth request always gets one.
///
/// ```
/// use portcullis_grants::issues_refresh_token;
/// use portcullis_registry::{ClientKind, NewClient, ScopeCatalog, ScopeSet};
///
/// let web = NewClient::new("Web", ClientKind::Web)
///     .redirect_uri("https://app.example/cb")
///     .all_scopes()
///     .build(&ScopeCatalog::with_oidc_scopes())
///     .expect("valid client")
///     .client;
/// let scopes = |s| ScopeSet::parse(s).expect("scopes");
/// assert!(issues_refresh_token(&web, &scopes("profile")));
/// assert!(!issues_refresh_token(&web, &scopes("openid profile")));
/// assert!(issues_refresh_token(&web, &scopes("openid offline_access")));
/// ```
pub fn issues_refresh_token(client: &Client, scopes: &ScopeSet) -> bool {
    client.allows_grant(GrantType::RefreshToken)
        && (!scopes.contains(OPENID_SCOPE) || scopes.contains(OFFLINE_ACCESS_SCOPE))
}

#[cfg(test)]
mod tests;
