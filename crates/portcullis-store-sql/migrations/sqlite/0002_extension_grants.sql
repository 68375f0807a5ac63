-- portcullis store schema, version 2 (SQLite): the extension grants' families.
--
-- Same conventions as version 1: times are unix microseconds, keys are 32-byte SHA-256
-- hashes of the presented values, scope sets are their space-joined text.

-- Device authorizations (RFC 8628), keyed by the device code's hash. The user code's hash
-- is unique too: the store deletes an expired holder of a user code (or device code) in the
-- transaction that inserts its successor, so uniqueness only ever binds live requests.
CREATE TABLE device_authorizations (
    device_code    BLOB    NOT NULL PRIMARY KEY CHECK (length(device_code) = 32),
    user_code      BLOB    NOT NULL CHECK (length(user_code) = 32),
    client_id      TEXT    NOT NULL,
    scopes         TEXT    NOT NULL,  -- requested
    status         TEXT    NOT NULL CHECK (status IN ('pending', 'approved', 'denied')),
    -- The approving user's subject, authentication time and granted scopes: set exactly
    -- when the status is 'approved'.
    subject        TEXT,
    auth_time      INTEGER,
    granted_scopes TEXT,
    interval_secs  INTEGER NOT NULL CHECK (interval_secs BETWEEN 0 AND 4294967295),
    last_polled_at INTEGER,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    CHECK ((status = 'approved') = (subject IS NOT NULL AND auth_time IS NOT NULL
                                    AND granted_scopes IS NOT NULL))
);
CREATE UNIQUE INDEX device_authorizations_user_code ON device_authorizations (user_code);
CREATE INDEX device_authorizations_expires_at ON device_authorizations (expires_at);

-- Used assertion identifiers (RFC 7522 §3, RFC 7523 §3): the hash of whatever identifies
-- an assertion, remembered until the assertion expires.
CREATE TABLE used_assertions (
    hash       BLOB    NOT NULL PRIMARY KEY CHECK (length(hash) = 32),
    expires_at INTEGER NOT NULL
);
CREATE INDEX used_assertions_expires_at ON used_assertions (expires_at);
