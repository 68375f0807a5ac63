//! Every statement the stores run, in one place.
//!
//! Both backends accept the same text for nearly all of them (`$n` placeholders, `RETURNING`,
//! `ON CONFLICT DO NOTHING`); [`sqlite`] and [`postgres`] re-export [`common`] and override
//! the few that differ: row locks (`FOR UPDATE` exists only in PostgreSQL, where SQLite has
//! one writer at a time anyway) and the batch subselects of the sweeper.

/// Where this crate records which of its migrations ran, apart from any `_sqlx_migrations`
/// table of the application sharing the database.
pub(crate) const MIGRATIONS_TABLE: &str = "_portcullis_migrations";

/// Column lists, as literals so that `concat!` can build statements from them.
macro_rules! pending_columns {
    () => {
        "handle, client_id, redirect_uri, redirect_uri_in_request, response_type, \
         response_mode, scopes, state, nonce, code_challenge, code_challenge_method, prompt, \
         max_age, created_at, expires_at, resources, dpop_jkt"
    };
}

macro_rules! code_columns {
    () => {
        "hash, client_id, redirect_uri, subject, scopes, nonce, code_challenge, \
         code_challenge_method, auth_time, family, issued_at, expires_at, resources, dpop_jkt"
    };
}

macro_rules! token_columns {
    () => {
        "hash, kind, client_id, subject, scopes, roles, family, issued_at, expires_at, status, \
         audience, confirmation"
    };
}

macro_rules! session_columns {
    () => {
        "id, subject, auth_time, amr, created_at, expires_at"
    };
}

macro_rules! key_columns {
    () => {
        "kid, algorithm, private_pkcs8, created_at, activated_at, retired_at"
    };
}

/// Statements both backends run as they are.
/// Rows per multi-row token insert: 12 parameters a row stays far below both backends'
/// parameter limits (SQLite 32 766, PostgreSQL 65 535).
pub(crate) const TOKEN_INSERT_MAX_ROWS: usize = 256;

/// The columns of a token row, as in `token_columns!`.
const TOKEN_COLUMN_COUNT: usize = 12;

/// `INSERT INTO tokens (…) VALUES ($1, …, $12), ($13, …, $24), …` for `rows` rows: one
/// statement (one round trip) for a group of tokens. The text depends only on `rows`, so
/// the prepared-statement cache holds at most [`TOKEN_INSERT_MAX_ROWS`] of them.
pub(crate) fn token_insert_many(rows: usize) -> String {
    use std::fmt::Write as _;
    let mut sql = String::from(concat!(
        "INSERT INTO tokens (",
        token_columns!(),
        ") VALUES "
    ));
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 1..=TOKEN_COLUMN_COUNT {
            if column > 1 {
                sql.push_str(", ");
            }
            let _ = write!(sql, "${}", row * TOKEN_COLUMN_COUNT + column);
        }
        sql.push(')');
    }
    sql
}

pub(crate) mod common {
    // Clients.
    pub(crate) const CLIENT_INSERT: &str =
        "INSERT INTO clients (id, revoked, record) VALUES ($1, $2, $3)";
    pub(crate) const CLIENT_GET: &str = "SELECT record FROM clients WHERE id = $1";
    pub(crate) const CLIENT_UPDATE: &str =
        "UPDATE clients SET revoked = $2, record = $3 WHERE id = $1";
    pub(crate) const CLIENT_DELETE: &str = "DELETE FROM clients WHERE id = $1";
    pub(crate) const CLIENTS_LIST_FIRST: &str = "SELECT record FROM clients ORDER BY id LIMIT $1";
    pub(crate) const CLIENTS_LIST_AFTER: &str =
        "SELECT record FROM clients WHERE id > $1 ORDER BY id LIMIT $2";
    /// Cutting a client off: every token it holds, expired or not.
    pub(crate) const TOKENS_REVOKE_ALL_OF_CLIENT: &str =
        "UPDATE tokens SET status = 'revoked' WHERE client_id = $1 AND status <> 'revoked'";

    // Scopes.
    pub(crate) const SCOPE_INSERT: &str = "INSERT INTO scopes (name, description) VALUES ($1, $2)";
    pub(crate) const SCOPE_GET: &str = "SELECT name, description FROM scopes WHERE name = $1";
    pub(crate) const SCOPES_LIST: &str = "SELECT name, description FROM scopes ORDER BY name";
    pub(crate) const SCOPE_DELETE: &str = "DELETE FROM scopes WHERE name = $1";

    // Pending authorizations.
    pub(crate) const PENDING_INSERT: &str = concat!(
        "INSERT INTO pending_authorizations (",
        pending_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
    );
    pub(crate) const PENDING_GET: &str = concat!(
        "SELECT ",
        pending_columns!(),
        " FROM pending_authorizations WHERE handle = $1 AND expires_at > $2"
    );
    /// Single use: the row is claimed and removed by one statement.
    pub(crate) const PENDING_TAKE: &str = concat!(
        "DELETE FROM pending_authorizations WHERE handle = $1 RETURNING ",
        pending_columns!()
    );

    // Authorization codes.
    pub(crate) const CODE_INSERT: &str = concat!(
        "INSERT INTO authorization_codes (",
        code_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    );
    pub(crate) const CODE_FIND: &str = concat!(
        "SELECT ",
        code_columns!(),
        " FROM authorization_codes WHERE hash = $1 AND expires_at > $2"
    );
    /// Single use: only a live, unredeemed code matches, and only one caller can flip it.
    pub(crate) const CODE_REDEEM: &str = concat!(
        "UPDATE authorization_codes SET redeemed = TRUE \
         WHERE hash = $1 AND NOT redeemed AND expires_at > $2 RETURNING ",
        code_columns!()
    );
    pub(crate) const CODE_FIND_REDEEMED: &str = concat!(
        "SELECT ",
        code_columns!(),
        " FROM authorization_codes WHERE hash = $1 AND redeemed AND expires_at > $2"
    );

    // Tokens.
    pub(crate) const TOKEN_INSERT: &str = concat!(
        "INSERT INTO tokens (",
        token_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    );
    pub(crate) const TOKEN_FIND: &str = concat!(
        "SELECT ",
        token_columns!(),
        " FROM tokens WHERE hash = $1 AND expires_at > $2"
    );
    /// Single use: only a live, active refresh token matches, and only one caller can
    /// flip it to rotated.
    pub(crate) const TOKEN_ROTATE: &str = concat!(
        "UPDATE tokens SET status = 'rotated' \
         WHERE hash = $1 AND kind = 'refresh_token' AND status = 'active' AND expires_at > $2 \
         RETURNING ",
        token_columns!()
    );
    pub(crate) const TOKEN_ROTATED_FAMILY: &str = "SELECT family FROM tokens \
         WHERE hash = $1 AND kind = 'refresh_token' AND status = 'rotated' AND expires_at > $2";
    pub(crate) const TOKEN_REVOKE: &str =
        "UPDATE tokens SET status = 'revoked' WHERE hash = $1 AND status <> 'revoked'";
    pub(crate) const TOKENS_REVOKE_FAMILY: &str = "UPDATE tokens SET status = 'revoked' \
         WHERE family = $1 AND status <> 'revoked' AND expires_at > $2";
    pub(crate) const TOKENS_REVOKE_CLIENT: &str = "UPDATE tokens SET status = 'revoked' \
         WHERE client_id = $1 AND status <> 'revoked' AND expires_at > $2";
    pub(crate) const TOKENS_LIST_CLIENT: &str = concat!(
        "SELECT ",
        token_columns!(),
        " FROM tokens WHERE client_id = $1 AND expires_at > $2 ORDER BY issued_at, hash"
    );
    pub(crate) const TOKENS_LIST_FAMILY: &str = concat!(
        "SELECT ",
        token_columns!(),
        " FROM tokens WHERE family = $1 AND expires_at > $2 ORDER BY issued_at, hash"
    );

    // Sessions.
    pub(crate) const SESSION_INSERT: &str = concat!(
        "INSERT INTO sessions (",
        session_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6)"
    );
    pub(crate) const SESSION_CLIENT_INSERT: &str = "INSERT INTO session_clients (session_id, client_id) \
         VALUES ($1, $2) ON CONFLICT DO NOTHING";
    /// One statement, so the session and its clients come from one snapshot.
    pub(crate) const SESSION_GET: &str = "SELECT s.id, s.subject, s.auth_time, s.amr, \
         s.created_at, s.expires_at, c.client_id \
         FROM sessions s LEFT JOIN session_clients c ON c.session_id = s.id \
         WHERE s.id = $1 AND s.expires_at > $2";
    /// Adds a client to a live session in one insert; a client already there is left alone.
    pub(crate) const SESSION_ADD_CLIENT: &str = "INSERT INTO session_clients (session_id, client_id) \
         SELECT id, $2 FROM sessions WHERE id = $1 AND expires_at > $3 \
         ON CONFLICT DO NOTHING";
    pub(crate) const SESSION_LIVE_COUNT: &str =
        "SELECT COUNT(*) FROM sessions WHERE id = $1 AND expires_at > $2";
    pub(crate) const SESSION_CLIENTS: &str =
        "SELECT client_id FROM session_clients WHERE session_id = $1";
    /// Single use: the row is claimed and removed by one statement (its clients cascade).
    pub(crate) const SESSION_DELETE: &str = concat!(
        "DELETE FROM sessions WHERE id = $1 RETURNING ",
        session_columns!()
    );
    pub(crate) const SESSIONS_DELETE_SUBJECT: &str =
        "DELETE FROM sessions WHERE subject = $1 RETURNING expires_at";

    // Signing keys.
    pub(crate) const KEY_INSERT: &str = concat!(
        "INSERT INTO signing_keys (",
        key_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6)"
    );
    pub(crate) const KEYS_LIST: &str = concat!(
        "SELECT ",
        key_columns!(),
        " FROM signing_keys ORDER BY created_at, kid"
    );
    pub(crate) const KEY_ACTIVE: &str = concat!(
        "SELECT ",
        key_columns!(),
        " FROM signing_keys WHERE activated_at IS NOT NULL AND retired_at IS NULL"
    );
    pub(crate) const KEY_STATE: &str =
        "SELECT activated_at, retired_at FROM signing_keys WHERE kid = $1";
    pub(crate) const KEYS_RETIRE_ACTIVE: &str = "UPDATE signing_keys SET retired_at = $1 \
         WHERE activated_at IS NOT NULL AND retired_at IS NULL";
    pub(crate) const KEY_ACTIVATE: &str =
        "UPDATE signing_keys SET activated_at = $2 WHERE kid = $1";
    /// Deletes a key unless it is the active one, in one statement.
    pub(crate) const KEY_DELETE_INACTIVE: &str = "DELETE FROM signing_keys \
         WHERE kid = $1 AND (activated_at IS NULL OR retired_at IS NOT NULL)";
    pub(crate) const KEY_COUNT: &str = "SELECT COUNT(*) FROM signing_keys WHERE kid = $1";
}

/// SQLite: one writer at a time (the store's write transactions are `BEGIN IMMEDIATE`), so
/// rows need no locks; batches are picked by `rowid`.
pub(crate) mod sqlite {
    pub(crate) use super::common::*;

    pub(crate) const TOKEN_FIND_FOR_REVOKE: &str = super::common::TOKEN_FIND;
    pub(crate) const SESSION_LOCK: &str = "SELECT id FROM sessions WHERE id = $1";

    pub(crate) const SWEEP_PENDING: &str = "DELETE FROM pending_authorizations WHERE rowid IN \
         (SELECT rowid FROM pending_authorizations WHERE expires_at <= $1 LIMIT $2)";
    pub(crate) const SWEEP_CODES: &str = "DELETE FROM authorization_codes WHERE rowid IN \
         (SELECT rowid FROM authorization_codes WHERE expires_at <= $1 LIMIT $2)";
    pub(crate) const SWEEP_TOKENS: &str = "DELETE FROM tokens WHERE rowid IN \
         (SELECT rowid FROM tokens WHERE expires_at <= $1 LIMIT $2)";
    pub(crate) const SWEEP_SESSIONS: &str = "DELETE FROM sessions WHERE rowid IN \
         (SELECT rowid FROM sessions WHERE expires_at <= $1 LIMIT $2)";
}

/// PostgreSQL: `READ COMMITTED` plus row locks where a transaction reads before it writes;
/// batches are picked by primary key, skipping rows another sweeper holds.
pub(crate) mod postgres {
    pub(crate) use super::common::*;

    pub(crate) const TOKEN_FIND_FOR_REVOKE: &str = concat!(
        "SELECT ",
        token_columns!(),
        " FROM tokens WHERE hash = $1 AND expires_at > $2 FOR UPDATE"
    );
    pub(crate) const SESSION_LOCK: &str = "SELECT id FROM sessions WHERE id = $1 FOR UPDATE";
    /// Serialises activations: conflicts with itself and with writes, not with reads.
    pub(crate) const KEYS_LOCK: &str = "LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE";

    pub(crate) const SWEEP_PENDING: &str = "DELETE FROM pending_authorizations WHERE handle IN \
         (SELECT handle FROM pending_authorizations WHERE expires_at <= $1 LIMIT $2 \
         FOR UPDATE SKIP LOCKED)";
    pub(crate) const SWEEP_CODES: &str = "DELETE FROM authorization_codes WHERE hash IN \
         (SELECT hash FROM authorization_codes WHERE expires_at <= $1 LIMIT $2 \
         FOR UPDATE SKIP LOCKED)";
    pub(crate) const SWEEP_TOKENS: &str = "DELETE FROM tokens WHERE hash IN \
         (SELECT hash FROM tokens WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)";
    pub(crate) const SWEEP_SESSIONS: &str = "DELETE FROM sessions WHERE id IN \
         (SELECT id FROM sessions WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)";
}
