-- PostgreSQL twin of ../sqlite/20261206000008: operational notifications.
CREATE TABLE operations_endpoints (
    account_id         TEXT PRIMARY KEY NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    endpoint           TEXT NOT NULL,
    signing_secret_enc BYTEA NOT NULL,
    updated_at         BIGINT NOT NULL
);

CREATE TABLE operations_notices (
    id              TEXT PRIMARY KEY NOT NULL,
    account_id      TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,
    payload         TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until     BIGINT,
    lease_owner     TEXT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX operations_notices_due ON operations_notices(next_attempt_at);
