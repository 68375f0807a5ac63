-- portcullis store schema, version 4: the audit log (issue 12).
--
-- One row per provider event, kept until the application deletes it. The event itself is
-- the JSON envelope; the columns beside it are what the console filters by. Events carry
-- no secrets or tokens (portcullis_events::Event).
CREATE TABLE audit_events (
    id        TEXT    NOT NULL PRIMARY KEY,  -- the envelope id, also the webhook-id
    at        BIGINT NOT NULL,           -- unix microseconds
    type      TEXT    NOT NULL,              -- e.g. token.issued
    client_id TEXT,
    subject   TEXT,
    record    TEXT    NOT NULL               -- portcullis_events::Envelope as JSON
);
CREATE INDEX audit_events_at ON audit_events (at, id);
CREATE INDEX audit_events_client ON audit_events (client_id, at);
CREATE INDEX audit_events_subject ON audit_events (subject, at);
CREATE INDEX audit_events_type ON audit_events (type, at);
