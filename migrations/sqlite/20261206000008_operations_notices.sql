-- Operational notifications (issue 15): an account may name an endpoint
-- that hears, signed the Standard Webhooks way with its own secret (sealed
-- with the at-rest key), when Hookrelay disables one of its hooks or
-- dead-letters one of its deliveries. The notices are an outbox of their
-- own, written in the same transaction as what they tell of, and deleted
-- once delivered (or given up on).
CREATE TABLE operations_endpoints (
    account_id         TEXT PRIMARY KEY NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    endpoint           TEXT NOT NULL,
    signing_secret_enc BLOB NOT NULL,
    updated_at         INTEGER NOT NULL
);

CREATE TABLE operations_notices (
    id              TEXT PRIMARY KEY NOT NULL,  -- 24 hex; the webhook-id header
    account_id      TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,              -- hook.disabled | delivery.dead_lettered
    payload         TEXT NOT NULL,              -- the JSON `data` of the notice
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_until     INTEGER,
    lease_owner     TEXT,
    created_at      INTEGER NOT NULL
);
CREATE INDEX operations_notices_due ON operations_notices(next_attempt_at);
