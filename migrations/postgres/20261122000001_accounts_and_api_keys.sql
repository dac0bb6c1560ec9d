-- Accounts (dashboard users / API owners) and their API keys.
-- PostgreSQL twin of ../sqlite/20261122000001: the same tables, constraints
-- and indexes; times are unix milliseconds (BIGINT), flags BOOLEAN.

CREATE TABLE accounts (
    id            TEXT PRIMARY KEY NOT NULL,          -- 24 lowercase hex
    email         TEXT NOT NULL UNIQUE,               -- stored lower-cased
    password_hash TEXT NOT NULL,                      -- argon2id PHC string
    is_admin      BOOLEAN NOT NULL DEFAULT FALSE,
    vertical      TEXT NOT NULL DEFAULT 'flightrates',
    created_at    BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id             TEXT PRIMARY KEY NOT NULL,
    account_id     TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    key_hash       TEXT NOT NULL UNIQUE,              -- SHA-256 hex of the key; the key itself is never stored
    display_prefix TEXT NOT NULL,                     -- first characters, to tell keys apart
    name           TEXT NOT NULL DEFAULT '',
    created_at     BIGINT NOT NULL,
    revoked_at     BIGINT
);

CREATE INDEX api_keys_account ON api_keys(account_id);
