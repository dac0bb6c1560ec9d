-- Delivery while people operate it (PostgreSQL twin of
-- ../sqlite/20261123000005).

-- Leases have an owner: the token of the dispatcher that claimed the row.
-- Renewals, records and hand-backs touch only rows whose lease they hold.
ALTER TABLE deliveries ADD COLUMN lease_owner TEXT;

-- The failing window in O(1): when the hook's current run of failed attempts
-- began (NULL after a success).
ALTER TABLE hooks ADD COLUMN failing_since BIGINT;

-- Retention deletes events by age and their deliveries by event, attempts
-- and idempotency keys by age.
CREATE INDEX deliveries_by_event ON deliveries(event_id);
CREATE INDEX attempts_by_age ON attempts(attempted_at);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys(created_at);

-- A value sealed with the at-rest key when the database first held a key.
CREATE TABLE key_check (
    id     BIGINT PRIMARY KEY CHECK (id = 1),
    sealed BYTEA NOT NULL
);
