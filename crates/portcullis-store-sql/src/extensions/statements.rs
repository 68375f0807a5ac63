//! The statements of the extension grants' families, like [`crate::sql`]: [`common`] for
//! what both backends run as it is, [`sqlite`] and [`postgres`] for the row lock of a poll
//! and the sweeper's batches.

/// The columns of `device_authorizations`, in the order of [`DeviceRow`](super::rows::DeviceRow).
macro_rules! device_columns {
    () => {
        "device_code, user_code, client_id, scopes, status, subject, auth_time, \
         granted_scopes, interval_secs, last_polled_at, created_at, expires_at"
    };
}

pub(crate) mod common {
    // Device authorizations.
    pub(crate) const DEVICE_INSERT: &str = concat!(
        "INSERT INTO device_authorizations (",
        device_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    );
    /// Frees the device code and the user code of a new request from expired holders, in
    /// the transaction that inserts it: uniqueness binds only live requests.
    pub(crate) const DEVICE_DELETE_EXPIRED_HOLDERS: &str = "DELETE FROM device_authorizations \
         WHERE (device_code = $1 OR user_code = $2) AND expires_at <= $3";
    pub(crate) const DEVICE_BY_USER_CODE: &str = concat!(
        "SELECT ",
        device_columns!(),
        " FROM device_authorizations WHERE user_code = $1 AND expires_at > $2"
    );
    /// The first decision wins: only a live, pending request matches.
    pub(crate) const DEVICE_DECIDE: &str = "UPDATE device_authorizations \
         SET status = $2, subject = $3, auth_time = $4, granted_scopes = $5 \
         WHERE user_code = $1 AND status = 'pending' AND expires_at > $6";
    pub(crate) const DEVICE_DELETE: &str =
        "DELETE FROM device_authorizations WHERE device_code = $1";
    pub(crate) const DEVICE_POLLED: &str = "UPDATE device_authorizations \
         SET last_polled_at = $2, interval_secs = $3 WHERE device_code = $1";

    // Used assertion identifiers.
    /// Single use in one statement: a new key is inserted, an expired one is taken over,
    /// a live one is left alone (no row affected). Concurrent callers with one key queue on
    /// the key's unique index, and only the first changes a row.
    pub(crate) const ASSERTION_FIRST_USE: &str = "INSERT INTO used_assertions (hash, expires_at) \
         VALUES ($1, $2) \
         ON CONFLICT (hash) DO UPDATE SET expires_at = excluded.expires_at \
         WHERE used_assertions.expires_at <= $3";
}

/// SQLite: a poll runs in a `BEGIN IMMEDIATE` transaction (one writer at a time), so its
/// read needs no lock; batches are picked by `rowid`.
pub(crate) mod sqlite {
    pub(crate) use super::common::*;

    pub(crate) const DEVICE_FOR_POLL: &str = concat!(
        "SELECT ",
        device_columns!(),
        " FROM device_authorizations WHERE device_code = $1 AND expires_at > $2"
    );

    pub(crate) const SWEEP_DEVICES: &str = "DELETE FROM device_authorizations WHERE rowid IN \
         (SELECT rowid FROM device_authorizations WHERE expires_at <= $1 LIMIT $2)";
    pub(crate) const SWEEP_USED_ASSERTIONS: &str = "DELETE FROM used_assertions WHERE rowid IN \
         (SELECT rowid FROM used_assertions WHERE expires_at <= $1 LIMIT $2)";
}

/// PostgreSQL: a poll locks its row (`FOR UPDATE`), so concurrent polls of one device take
/// turns and see each other's writes; batches skip rows another sweeper holds.
pub(crate) mod postgres {
    pub(crate) use super::common::*;

    pub(crate) const DEVICE_FOR_POLL: &str = concat!(
        "SELECT ",
        device_columns!(),
        " FROM device_authorizations WHERE device_code = $1 AND expires_at > $2 FOR UPDATE"
    );

    pub(crate) const SWEEP_DEVICES: &str = "DELETE FROM device_authorizations \
         WHERE device_code IN (SELECT device_code FROM device_authorizations \
         WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)";
    pub(crate) const SWEEP_USED_ASSERTIONS: &str = "DELETE FROM used_assertions WHERE hash IN \
         (SELECT hash FROM used_assertions WHERE expires_at <= $1 LIMIT $2 \
         FOR UPDATE SKIP LOCKED)";
}
