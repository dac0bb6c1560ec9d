-- Hook registrations (PostgreSQL twin of ../sqlite/20261122000002). Secrets
-- (password, token) are AES-256-GCM ciphertexts; the plaintext never
-- reaches the database.

CREATE TABLE hooks (
    id                  TEXT PRIMARY KEY NOT NULL,       -- 24 lowercase hex
    account_id          TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    vertical            TEXT NOT NULL,                   -- flightrates | eventsshop
    endpoint            TEXT NOT NULL,
    auth_type           TEXT NOT NULL,                   -- none | basic | oauth2 | jwt (canonical)
    username            TEXT,                            -- userId / userName
    password_enc        BYTEA,                           -- pwdTxt / password, encrypted
    token_enc           BYTEA,                           -- token, encrypted
    token_generated     BOOLEAN NOT NULL DEFAULT FALSE,  -- EventsShop Basic Auth: token made by Hookrelay
    hook_type           TEXT,                            -- NULL: every hook type of the vertical
    shop                TEXT,                            -- _shop
    is_active           BOOLEAN NOT NULL DEFAULT TRUE,
    is_customer_created BOOLEAN NOT NULL DEFAULT TRUE,
    disabled_reason     TEXT,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);

CREATE INDEX hooks_by_account ON hooks(account_id, vertical, created_at DESC, id DESC);
CREATE INDEX hooks_by_type ON hooks(account_id, hook_type, is_active);
CREATE INDEX hooks_by_shop ON hooks(account_id, shop);
