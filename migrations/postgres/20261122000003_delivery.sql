-- The delivery engine's outbox (PostgreSQL twin of ../sqlite/20261122000003):
-- events, one delivery per (event, hook), every attempt; signing secrets per
-- hook; idempotency keys for publishing.

ALTER TABLE hooks ADD COLUMN signing_secret_enc BYTEA;            -- current whsec_ secret, encrypted
ALTER TABLE hooks ADD COLUMN previous_signing_secret_enc BYTEA;   -- the one before a rotation
ALTER TABLE hooks ADD COLUMN previous_signing_expires_at BIGINT;  -- it also signs until then (ms)

CREATE TABLE events (
    id         TEXT PRIMARY KEY NOT NULL,      -- 24 hex; the webhook-id header
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    hook_type  TEXT NOT NULL,
    shop       TEXT,
    payload    TEXT NOT NULL,                  -- the exact JSON body every delivery sends
    created_at BIGINT NOT NULL
);
CREATE INDEX events_by_account ON events(account_id, created_at);
CREATE INDEX events_by_age ON events(created_at);

CREATE TABLE deliveries (
    id              TEXT PRIMARY KEY NOT NULL,
    event_id        TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    hook_id         TEXT NOT NULL REFERENCES hooks(id) ON DELETE CASCADE,
    account_id      TEXT NOT NULL,
    status          TEXT NOT NULL,             -- pending | succeeded | failed
    attempt_count   BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,           -- due time (ms)
    lease_until     BIGINT,                    -- claimed by a dispatcher until (ms)
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX deliveries_due ON deliveries(status, next_attempt_at);
CREATE INDEX deliveries_by_hook ON deliveries(hook_id, created_at DESC, id DESC);

CREATE TABLE attempts (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id   TEXT NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
    attempted_at  BIGINT NOT NULL,
    duration_ms   BIGINT NOT NULL,
    status_code   BIGINT,
    error         TEXT,
    response_body TEXT                         -- first 4 KiB
);
CREATE INDEX attempts_by_delivery ON attempts(delivery_id, id);

CREATE TABLE idempotency_keys (
    account_id TEXT NOT NULL,
    key        TEXT NOT NULL,
    response   TEXT NOT NULL,                  -- the first answer, replayed
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, key)
);
