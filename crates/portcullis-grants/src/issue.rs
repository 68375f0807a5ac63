//! Minting the tokens of a grant: one place that decides lifetimes, kinds and records, so
//! every grant issues the same way.

use portcullis_registry::{Client, GrantType, OFFLINE_ACCESS_SCOPE, OPENID_SCOPE, ScopeSet};
use portcullis_store::{FamilyId, TokenRecord, TokenStatus};
use portcullis_tokens::{RawToken, Subject, TokenKind, mint};
use time::{Duration, OffsetDateTime};

use crate::{GrantError, TokenResponse};

/// What to issue.
///
/// ```
/// use portcullis_grants::{Issuance, mint_tokens};
/// use portcullis_registry::{ClientKind, NewClient, ScopeCatalog, ScopeSet};
/// use portcullis_store::FamilyId;
///
/// let client = NewClient::new("Reports", ClientKind::Machine)
///     .build(&ScopeCatalog::with_oidc_scopes())
///     .expect("valid client")
///     .client;
/// let minted = mint_tokens(Issuance {
///     client: &client,
///     subject: None,
///     scopes: ScopeSet::new(),
///     family: FamilyId::generate()?,
///     now: time::OffsetDateTime::now_utc(),
///     refresh_scopes: None,
/// })?;
/// assert_eq!(minted.records.len(), 1);
/// assert_eq!(minted.response.expires_in, client.access_token_lifetime_secs);
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
/// lifetimes and roles.
///
/// # Errors
///
/// [`GrantError::Token`] when the random generator fails.
pub fn mint_tokens(issuance: Issuance<'_>) -> Result<Minted, GrantError> {
    let Issuance {
        client,
        subject,
        scopes,
        family,
        now,
        refresh_scopes,
    } = issuance;
    let record = |raw: &RawToken, kind, scopes: ScopeSet, lifetime_secs: u32| TokenRecord {
        hash: raw.lookup_key(),
        kind,
        client_id: client.id.clone(),
        subject: subject.clone(),
        scopes,
        roles: client.roles.clone(),
        family: family.clone(),
        issued_at: now,
        expires_at: now + Duration::seconds(i64::from(lifetime_secs)),
        status: TokenStatus::Active,
    };
    let access = mint(TokenKind::AccessToken)?;
    let mut records = vec![record(
        &access,
        TokenKind::AccessToken,
        scopes.clone(),
        client.access_token_lifetime_secs,
    )];
    let mut response = TokenResponse::bearer(access, client.access_token_lifetime_secs, scopes);
    if let Some(refresh_scopes) = refresh_scopes {
        let refresh = mint(TokenKind::RefreshToken)?;
        records.push(record(
            &refresh,
            TokenKind::RefreshToken,
            refresh_scopes,
            client.refresh_token_lifetime_secs,
        ));
        response.refresh_token = Some(refresh);
    }
    Ok(Minted { response, records })
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
