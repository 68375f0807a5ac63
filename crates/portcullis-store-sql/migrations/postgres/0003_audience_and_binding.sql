-- portcullis store schema, version 3: resource indicators (RFC 8707) and DPoP (RFC 9449).
--
-- Lists are JSON arrays of strings, like the other short lists; existing rows get the empty
-- list (no audience restriction) and no key binding, which is what they were.

-- The resource servers a token is for (its `aud`), and the SHA-256 thumbprint of the DPoP
-- key it is bound to (`cnf.jkt`).
ALTER TABLE tokens ADD COLUMN audience TEXT NOT NULL DEFAULT '[]';
ALTER TABLE tokens ADD COLUMN confirmation TEXT;

-- The resources a user authorized, and the DPoP key an authorization code is bound to
-- (RFC 9449 §10 `dpop_jkt`).
ALTER TABLE authorization_codes ADD COLUMN resources TEXT NOT NULL DEFAULT '[]';
ALTER TABLE authorization_codes ADD COLUMN dpop_jkt TEXT;
ALTER TABLE pending_authorizations ADD COLUMN resources TEXT NOT NULL DEFAULT '[]';
ALTER TABLE pending_authorizations ADD COLUMN dpop_jkt TEXT;
