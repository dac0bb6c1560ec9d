-- Accounts (dashboard users / API owners) and their API keys.
-- Times are unix milliseconds (INTEGER) so the same schema ports to PostgreSQL (BIGINT).

CREATE TABLE accounts (
    id            TEXT PRIMARY KEY NOT NULL,          -- 24 lowercase hex
    email         TEXT NOT NULL UNIQUE,               -- stored lower-cased
    password_hash TEXT NOT NULL,                      -- argon2id PHC string
    is_admin      INTEGER NOT NULL DEFAULT 0,
    vertical      TEXT NOT NULL DEFAULT 'flightrates',
    created_at    INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id             TEXT PRIMARY KEY NOT NULL,
    account_id     TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    key_hash       TEXT NOT NULL UNIQUE,              -- SHA-256 hex of the key; the key itself is never stored
    display_prefix TEXT NOT NULL,                     -- first characters, to tell keys apart
    name           TEXT NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,
    revoked_at     INTEGER
);

CREATE INDEX api_keys_account ON api_keys(account_id);
