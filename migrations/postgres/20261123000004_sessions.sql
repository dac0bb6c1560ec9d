-- Dashboard sessions (PostgreSQL twin of ../sqlite/20261123000004). The
-- cookie carries a random token; only its SHA-256 is stored, so a copy of
-- the database cannot be used to log in.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX sessions_by_expiry ON sessions(expires_at);
