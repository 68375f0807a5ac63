-- portcullis store schema, version 1 (PostgreSQL).
--
-- Conventions (the same in the SQLite schema):
-- * times are unix microseconds in BIGINT columns, so ordering, expiry checks and sweeps
--   are plain integer comparisons that use the indexes;
-- * token, code, pending-authorization and session keys are the 32-byte SHA-256 of the
--   presented value (never the value itself);
-- * scope sets are their space-joined text; short lists (prompt, amr, roles) are JSON arrays;
-- * a client is its whole JSON record next to the indexed columns the store queries.
-- * text keys that are listed in order use the "C" collation: byte order, as in Rust and
--   SQLite, whatever the database's locale.

CREATE TABLE clients (
    id      TEXT COLLATE "C" NOT NULL PRIMARY KEY,  -- also the ordered listing
    revoked BOOLEAN          NOT NULL DEFAULT FALSE,
    record  TEXT             NOT NULL               -- portcullis_registry::Client as JSON
);

CREATE TABLE scopes (
    name        TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    description TEXT             NOT NULL
);

CREATE TABLE pending_authorizations (
    handle                  BYTEA   NOT NULL PRIMARY KEY CHECK (octet_length(handle) = 32),
    client_id               TEXT    NOT NULL,
    redirect_uri            TEXT    NOT NULL,
    redirect_uri_in_request BOOLEAN NOT NULL,
    response_type           TEXT    NOT NULL,
    response_mode           TEXT    NOT NULL,
    scopes                  TEXT    NOT NULL,
    state                   TEXT,
    nonce                   TEXT,
    code_challenge          TEXT,
    code_challenge_method   TEXT,
    prompt                  TEXT    NOT NULL,  -- JSON array of strings
    max_age                 BIGINT,
    created_at              BIGINT  NOT NULL,
    expires_at              BIGINT  NOT NULL
);
CREATE INDEX pending_authorizations_expires_at ON pending_authorizations (expires_at);

CREATE TABLE authorization_codes (
    hash                  BYTEA   NOT NULL PRIMARY KEY CHECK (octet_length(hash) = 32),
    client_id             TEXT    NOT NULL,
    redirect_uri          TEXT,
    subject               TEXT    NOT NULL,
    scopes                TEXT    NOT NULL,
    nonce                 TEXT,
    code_challenge        TEXT,
    code_challenge_method TEXT,
    auth_time             BIGINT,
    family                TEXT    NOT NULL,
    issued_at             BIGINT  NOT NULL,
    expires_at            BIGINT  NOT NULL,
    redeemed              BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX authorization_codes_expires_at ON authorization_codes (expires_at);

CREATE TABLE tokens (
    hash       BYTEA            NOT NULL PRIMARY KEY CHECK (octet_length(hash) = 32),
    kind       TEXT             NOT NULL,
    client_id  TEXT COLLATE "C" NOT NULL,
    subject    TEXT,
    scopes     TEXT             NOT NULL,
    roles      TEXT             NOT NULL,  -- JSON array of {"role", "division"?}
    family     TEXT COLLATE "C" NOT NULL,
    issued_at  BIGINT           NOT NULL,
    expires_at BIGINT           NOT NULL,
    status     TEXT             NOT NULL CHECK (status IN ('active', 'rotated', 'revoked'))
);
-- Family and client lookups, already in listing order (issued_at, hash).
CREATE INDEX tokens_family ON tokens (family, issued_at, hash);
CREATE INDEX tokens_client ON tokens (client_id, issued_at, hash);
CREATE INDEX tokens_expires_at ON tokens (expires_at);

CREATE TABLE sessions (
    id         BYTEA  NOT NULL PRIMARY KEY CHECK (octet_length(id) = 32),
    subject    TEXT   NOT NULL,
    auth_time  BIGINT NOT NULL,
    amr        TEXT   NOT NULL,  -- JSON array of strings
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_subject ON sessions (subject);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- The clients that received tokens in a session: one row each, so adding one is a single
-- insert and concurrent additions never overwrite each other.
CREATE TABLE session_clients (
    session_id BYTEA NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    client_id  TEXT  NOT NULL,
    PRIMARY KEY (session_id, client_id)
);

CREATE TABLE signing_keys (
    kid           TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    algorithm     TEXT             NOT NULL,
    private_pkcs8 BYTEA            NOT NULL,
    created_at    BIGINT           NOT NULL,
    activated_at  BIGINT,
    retired_at    BIGINT
);
CREATE INDEX signing_keys_listing ON signing_keys (created_at, kid);
-- At most one active key: every active row has the same indexed value, so a second one
-- is a unique violation whatever the code above does.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys ((activated_at IS NOT NULL))
    WHERE activated_at IS NOT NULL AND retired_at IS NULL;
