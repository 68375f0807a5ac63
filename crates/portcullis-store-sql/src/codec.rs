//! Records to columns and back: times as unix microseconds, hashes as 32 bytes, scope sets
//! as space-joined text, short lists as JSON arrays, clients as their JSON record.

use std::collections::BTreeSet;

use portcullis_registry::{Client, ClientId, RoleAssignment, Scope, ScopeDefinition, ScopeSet};
use portcullis_store::{
    AuthorizationCode, FamilyId, KeyRecord, PendingAuthorization, SessionRecord, StoreError,
    TokenRecord, TokenStatus,
};
use portcullis_tokens::{Subject, TokenHash, TokenKind};
use time::OffsetDateTime;

/// A row that does not decode into a record: the database holds something this crate did
/// not write. Says which column, never the value.
pub(crate) fn corrupt(table: &'static str, column: &'static str) -> StoreError {
    StoreError::Backend {
        message: format!("corrupt value in {table}.{column}"),
        source: None,
    }
}

/// An instant as unix microseconds, rounded down (times before 1970 included). Instants
/// beyond ±292 000 years saturate; `OffsetDateTime` cannot hold them anyway.
pub(crate) fn micros(at: OffsetDateTime) -> i64 {
    let micros = at.unix_timestamp_nanos().div_euclid(1_000);
    i64::try_from(micros).unwrap_or(if micros < 0 { i64::MIN } else { i64::MAX })
}

/// Unix microseconds back to an instant (in UTC).
pub(crate) fn instant(
    micros: i64,
    table: &'static str,
    column: &'static str,
) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
        .map_err(|_| corrupt(table, column))
}

fn optional_instant(
    micros: Option<i64>,
    table: &'static str,
    column: &'static str,
) -> Result<Option<OffsetDateTime>, StoreError> {
    micros.map(|m| instant(m, table, column)).transpose()
}

pub(crate) fn hash(
    bytes: &[u8],
    table: &'static str,
    column: &'static str,
) -> Result<TokenHash, StoreError> {
    <[u8; 32]>::try_from(bytes)
        .map(TokenHash::from_bytes)
        .map_err(|_| corrupt(table, column))
}

fn client_id(text: String, table: &'static str) -> Result<ClientId, StoreError> {
    ClientId::new(text).map_err(|_| corrupt(table, "client_id"))
}

fn subject(text: String, table: &'static str) -> Result<Subject, StoreError> {
    Subject::new(text).map_err(|_| corrupt(table, "subject"))
}

fn scopes(text: &str, table: &'static str) -> Result<ScopeSet, StoreError> {
    ScopeSet::parse(text).map_err(|_| corrupt(table, "scopes"))
}

/// A list as a JSON array, for the columns that keep one.
pub(crate) fn json<T: serde::Serialize>(
    value: &T,
    table: &'static str,
    column: &'static str,
) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|source| StoreError::Backend {
        message: format!("cannot encode {table}.{column} as JSON"),
        source: Some(Box::new(source)),
    })
}

fn from_json<T: serde::de::DeserializeOwned>(
    text: &str,
    table: &'static str,
    column: &'static str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|_| corrupt(table, column))
}

/// The stored name of a token kind (its serde name).
pub(crate) fn kind_name(kind: TokenKind) -> Result<&'static str, StoreError> {
    Ok(match kind {
        TokenKind::AccessToken => "access_token",
        TokenKind::RefreshToken => "refresh_token",
        TokenKind::AuthorizationCode => "authorization_code",
        TokenKind::PendingAuthorization => "pending_authorization",
        TokenKind::Session => "session",
        TokenKind::DeviceCode => "device_code",
        TokenKind::RegistrationAccessToken => "registration_access_token",
        _ => {
            return Err(StoreError::InvalidRecord {
                family: portcullis_store::RecordFamily::Token,
                reason: "this version of the SQL store does not know the token kind",
            });
        }
    })
}

fn kind_from_name(name: &str) -> Result<TokenKind, StoreError> {
    TokenKind::ALL
        .into_iter()
        .find(|kind| kind_name(*kind).is_ok_and(|known| known == name))
        .ok_or_else(|| corrupt("tokens", "kind"))
}

pub(crate) fn status_name(status: TokenStatus) -> &'static str {
    match status {
        TokenStatus::Active => "active",
        TokenStatus::Rotated => "rotated",
        TokenStatus::Revoked => "revoked",
    }
}

fn status_from_name(name: &str) -> Result<TokenStatus, StoreError> {
    match name {
        "active" => Ok(TokenStatus::Active),
        "rotated" => Ok(TokenStatus::Rotated),
        "revoked" => Ok(TokenStatus::Revoked),
        _ => Err(corrupt("tokens", "status")),
    }
}

/// A client as the JSON stored in `clients.record`.
pub(crate) fn client_json(client: &Client) -> Result<String, StoreError> {
    json(client, "clients", "record")
}

pub(crate) fn client_from_json(text: &str) -> Result<Client, StoreError> {
    from_json(text, "clients", "record")
}

#[derive(sqlx::FromRow)]
pub(crate) struct ScopeRow {
    name: String,
    description: String,
}

impl ScopeRow {
    pub(crate) fn into_record(self) -> Result<ScopeDefinition, StoreError> {
        let name = Scope::new(self.name).map_err(|_| corrupt("scopes", "name"))?;
        Ok(ScopeDefinition::new(name, self.description))
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct PendingRow {
    handle: Vec<u8>,
    client_id: String,
    redirect_uri: String,
    redirect_uri_in_request: bool,
    response_type: String,
    response_mode: String,
    scopes: String,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    prompt: String,
    max_age: Option<i64>,
    created_at: i64,
    expires_at: i64,
    resources: String,
    dpop_jkt: Option<String>,
}

impl PendingRow {
    pub(crate) fn into_record(self) -> Result<PendingAuthorization, StoreError> {
        const T: &str = "pending_authorizations";
        Ok(PendingAuthorization {
            handle: hash(&self.handle, T, "handle")?,
            client_id: client_id(self.client_id, T)?,
            redirect_uri: self.redirect_uri,
            redirect_uri_in_request: self.redirect_uri_in_request,
            response_type: self.response_type,
            response_mode: self.response_mode,
            scopes: scopes(&self.scopes, T)?,
            state: self.state,
            nonce: self.nonce,
            code_challenge: self.code_challenge,
            code_challenge_method: self.code_challenge_method,
            prompt: from_json(&self.prompt, T, "prompt")?,
            max_age: self
                .max_age
                .map(|secs| u32::try_from(secs).map_err(|_| corrupt(T, "max_age")))
                .transpose()?,
            created_at: instant(self.created_at, T, "created_at")?,
            expires_at: instant(self.expires_at, T, "expires_at")?,
            resources: from_json(&self.resources, T, "resources")?,
            dpop_jkt: self.dpop_jkt,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct CodeRow {
    hash: Vec<u8>,
    client_id: String,
    redirect_uri: Option<String>,
    subject: String,
    scopes: String,
    nonce: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    auth_time: Option<i64>,
    family: String,
    issued_at: i64,
    expires_at: i64,
    resources: String,
    dpop_jkt: Option<String>,
}

impl CodeRow {
    pub(crate) fn into_record(self) -> Result<AuthorizationCode, StoreError> {
        const T: &str = "authorization_codes";
        Ok(AuthorizationCode {
            code: hash(&self.hash, T, "hash")?,
            client_id: client_id(self.client_id, T)?,
            redirect_uri: self.redirect_uri,
            subject: subject(self.subject, T)?,
            scopes: scopes(&self.scopes, T)?,
            nonce: self.nonce,
            code_challenge: self.code_challenge,
            code_challenge_method: self.code_challenge_method,
            auth_time: optional_instant(self.auth_time, T, "auth_time")?,
            family: FamilyId::from_stored(self.family),
            issued_at: instant(self.issued_at, T, "issued_at")?,
            expires_at: instant(self.expires_at, T, "expires_at")?,
            resources: from_json(&self.resources, T, "resources")?,
            dpop_jkt: self.dpop_jkt,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct TokenRow {
    hash: Vec<u8>,
    kind: String,
    client_id: String,
    subject: Option<String>,
    scopes: String,
    roles: String,
    family: String,
    issued_at: i64,
    expires_at: i64,
    status: String,
    audience: String,
    confirmation: Option<String>,
}

impl TokenRow {
    pub(crate) fn into_record(self) -> Result<TokenRecord, StoreError> {
        const T: &str = "tokens";
        Ok(TokenRecord {
            hash: hash(&self.hash, T, "hash")?,
            kind: kind_from_name(&self.kind)?,
            client_id: client_id(self.client_id, T)?,
            subject: self.subject.map(|s| subject(s, T)).transpose()?,
            scopes: scopes(&self.scopes, T)?,
            roles: from_json::<Vec<RoleAssignment>>(&self.roles, T, "roles")?,
            family: FamilyId::from_stored(self.family),
            issued_at: instant(self.issued_at, T, "issued_at")?,
            expires_at: instant(self.expires_at, T, "expires_at")?,
            status: status_from_name(&self.status)?,
            audience: from_json(&self.audience, T, "audience")?,
            confirmation: self.confirmation,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct SessionRow {
    id: Vec<u8>,
    subject: String,
    auth_time: i64,
    amr: String,
    created_at: i64,
    expires_at: i64,
}

impl SessionRow {
    pub(crate) fn into_record(self, clients: Vec<String>) -> Result<SessionRecord, StoreError> {
        const T: &str = "sessions";
        Ok(SessionRecord {
            id: hash(&self.id, T, "id")?,
            subject: subject(self.subject, T)?,
            auth_time: instant(self.auth_time, T, "auth_time")?,
            amr: from_json(&self.amr, T, "amr")?,
            clients: clients
                .into_iter()
                .map(|id| client_id(id, "session_clients"))
                .collect::<Result<BTreeSet<ClientId>, StoreError>>()?,
            created_at: instant(self.created_at, T, "created_at")?,
            expires_at: instant(self.expires_at, T, "expires_at")?,
        })
    }
}

/// A session joined with one of its clients (`None` when it has none).
#[derive(sqlx::FromRow)]
pub(crate) struct SessionClientRow {
    #[sqlx(flatten)]
    session: SessionRow,
    client_id: Option<String>,
}

/// Folds the rows of one session's join back into its record; `None` without rows.
pub(crate) fn session_from_join(
    rows: Vec<SessionClientRow>,
) -> Result<Option<SessionRecord>, StoreError> {
    let mut clients = Vec::with_capacity(rows.len());
    let mut session = None;
    for row in rows {
        clients.extend(row.client_id);
        session.get_or_insert(row.session);
    }
    session.map(|row| row.into_record(clients)).transpose()
}

#[derive(sqlx::FromRow)]
pub(crate) struct KeyRow {
    kid: String,
    algorithm: String,
    private_pkcs8: Vec<u8>,
    created_at: i64,
    activated_at: Option<i64>,
    retired_at: Option<i64>,
}

impl KeyRow {
    pub(crate) fn into_record(self) -> Result<KeyRecord, StoreError> {
        const T: &str = "signing_keys";
        Ok(KeyRecord {
            kid: self.kid,
            algorithm: self.algorithm,
            private_pkcs8: self.private_pkcs8,
            created_at: instant(self.created_at, T, "created_at")?,
            activated_at: optional_instant(self.activated_at, T, "activated_at")?,
            retired_at: optional_instant(self.retired_at, T, "retired_at")?,
        })
    }
}

/// The activation state of one key.
#[derive(sqlx::FromRow)]
pub(crate) struct KeyStateRow {
    pub(crate) activated_at: Option<i64>,
    pub(crate) retired_at: Option<i64>,
}

/// Saturating conversion of a count or limit to the `i64` SQL wants.
pub(crate) fn sql_count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests;
