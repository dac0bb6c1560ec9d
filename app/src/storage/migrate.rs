//! `hookrelay migrate-to`: copies a SQLite installation into an empty
//! PostgreSQL database, so the same service can go on as several
//! processes. What is copied: accounts, API keys (hashes), sessions, hooks
//! with their sealed secrets (byte for byte: they stay bound to the same
//! at-rest key, whose key check is copied too), idempotency keys still in
//! their window, and every delivery not succeeded — pending (leases
//! cleared) and failed (so it can still be retried by hand) — with its
//! event and attempts. Succeeded history stays in the SQLite file.
//!
//! The copy reads one snapshot of the SQLite database (one read
//! transaction) and writes one PostgreSQL transaction: it lands whole or
//! not at all. Stop the SQLite server first: what it accepts after the
//! snapshot is not copied.

use super::backend::{Pool, Tx};
use super::events::IDEMPOTENCY_WINDOW_MS;
use super::row::row;
use super::{Backend, Db, StorageError, now_ms};
use crate::domain::DeliveryStatus;
use sqlx::{Postgres, SqliteConnection, Transaction};

/// What a copy moved.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Copied {
    pub accounts: u64,
    pub api_keys: u64,
    pub sessions: u64,
    pub hooks: u64,
    pub events: u64,
    pub pending_deliveries: u64,
    pub failed_deliveries: u64,
    pub attempts: u64,
    pub idempotency_keys: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("the source must be a SQLite database and the target a PostgreSQL one")]
    WrongBackends,
    #[error(
        "the target database already holds accounts, hooks or a key check (a server was started on it): \
         copy into an empty database"
    )]
    TargetNotEmpty,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<sqlx::Error> for CopyError {
    fn from(e: sqlx::Error) -> Self {
        Self::Storage(e.into())
    }
}

/// Copies `from` (SQLite) into `to` (PostgreSQL, migrated and empty).
pub async fn copy(from: &Db, to: &Db) -> Result<Copied, CopyError> {
    let (Pool::Sqlite(src), Backend::Postgres) = (&from.pool, to.backend()) else {
        return Err(CopyError::WrongBackends);
    };
    let Tx::Postgres(mut dst) = to.begin_write().await? else { return Err(CopyError::WrongBackends) };
    let (existing,): (i64,) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM accounts) + (SELECT count(*) FROM hooks) + (SELECT count(*) FROM key_check)",
    )
    .fetch_one(&mut *dst)
    .await?;
    if existing > 0 {
        return Err(CopyError::TargetNotEmpty);
    }
    // One snapshot of the source: every read below sees the same state.
    let mut snapshot = src.begin().await?;
    let mut copied = Copied::default();
    copy_accounts(&mut snapshot, &mut dst, &mut copied).await?;
    copy_hooks(&mut snapshot, &mut dst, &mut copied).await?;
    copy_outbox(&mut snapshot, &mut dst, &mut copied).await?;
    dst.commit().await?;
    snapshot.rollback().await?;
    Ok(copied)
}

type Dst = Transaction<'static, Postgres>;
/// `api_keys`: id, account, hash, display prefix, name, created, revoked.
type KeyRow = (String, String, String, String, String, i64, Option<i64>);
/// `attempts`: delivery, at, duration, status code, error, response body.
type AttemptRow = (String, i64, i64, Option<i64>, Option<String>, Option<String>);

async fn copy_accounts(src: &mut SqliteConnection, dst: &mut Dst, copied: &mut Copied) -> Result<(), CopyError> {
    let accounts: Vec<(String, String, String, bool, String, i64)> =
        sqlx::query_as("SELECT id, email, password_hash, is_admin, vertical, created_at FROM accounts")
            .fetch_all(&mut *src)
            .await?;
    for (id, email, hash, admin, vertical, at) in accounts {
        sqlx::query(
            "INSERT INTO accounts (id, email, password_hash, is_admin, vertical, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(email)
        .bind(hash)
        .bind(admin)
        .bind(vertical)
        .bind(at)
        .execute(&mut **dst)
        .await?;
        copied.accounts += 1;
    }
    let keys: Vec<KeyRow> =
        sqlx::query_as("SELECT id, account_id, key_hash, display_prefix, name, created_at, revoked_at FROM api_keys")
            .fetch_all(&mut *src)
            .await?;
    for (id, account, hash, prefix, name, at, revoked) in keys {
        sqlx::query(
            "INSERT INTO api_keys (id, account_id, key_hash, display_prefix, name, created_at, revoked_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(account)
        .bind(hash)
        .bind(prefix)
        .bind(name)
        .bind(at)
        .bind(revoked)
        .execute(&mut **dst)
        .await?;
        copied.api_keys += 1;
    }
    let sessions: Vec<(String, String, i64, i64)> =
        sqlx::query_as("SELECT token_hash, account_id, created_at, expires_at FROM sessions WHERE expires_at > $1")
            .bind(now_ms())
            .fetch_all(&mut *src)
            .await?;
    for (token, account, at, expires) in sessions {
        sqlx::query("INSERT INTO sessions (token_hash, account_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(token)
            .bind(account)
            .bind(at)
            .bind(expires)
            .execute(&mut **dst)
            .await?;
        copied.sessions += 1;
    }
    // Operations endpoints with their sealed secrets (pending notices are not copied).
    let endpoints: Vec<(String, String, Vec<u8>, i64)> =
        sqlx::query_as("SELECT account_id, endpoint, signing_secret_enc, updated_at FROM operations_endpoints")
            .fetch_all(&mut *src)
            .await?;
    for (account, endpoint, sealed, at) in endpoints {
        sqlx::query(
            "INSERT INTO operations_endpoints (account_id, endpoint, signing_secret_enc, updated_at)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(account)
        .bind(endpoint)
        .bind(sealed)
        .bind(at)
        .execute(&mut **dst)
        .await?;
    }
    Ok(())
}

row! {
    struct HookRow {
        id: String,
        account_id: String,
        vertical: String,
        endpoint: String,
        auth_type: String,
        username: Option<String>,
        password_enc: Option<Vec<u8>>,
        token_enc: Option<Vec<u8>>,
        token_generated: bool,
        hook_type: Option<String>,
        shop: Option<String>,
        is_active: bool,
        is_customer_created: bool,
        disabled_reason: Option<String>,
        created_at: i64,
        updated_at: i64,
        signing_secret_enc: Option<Vec<u8>>,
        previous_signing_secret_enc: Option<Vec<u8>>,
        previous_signing_expires_at: Option<i64>,
        failing_since: Option<i64>,
        headers: Option<String>,
        secret_headers_enc: Option<Vec<u8>>,
        secret_header_names: Option<String>,
        timeout_seconds: Option<i64>,
        rate_limit: Option<i64>,
        max_in_flight: Option<i64>,
        ordered: bool,
    }
}

/// Hooks with their sealed secrets as stored, and the key check.
async fn copy_hooks(src: &mut SqliteConnection, dst: &mut Dst, copied: &mut Copied) -> Result<(), CopyError> {
    let hooks: Vec<HookRow> = sqlx::query_as(
        "SELECT id, account_id, vertical, endpoint, auth_type, username, password_enc, token_enc, token_generated,
                hook_type, shop, is_active, is_customer_created, disabled_reason, created_at, updated_at,
                signing_secret_enc, previous_signing_secret_enc, previous_signing_expires_at, failing_since,
                headers, secret_headers_enc, secret_header_names, timeout_seconds, rate_limit, max_in_flight,
                ordered
         FROM hooks",
    )
    .fetch_all(&mut *src)
    .await?;
    for h in hooks {
        sqlx::query(
            "INSERT INTO hooks (id, account_id, vertical, endpoint, auth_type, username, password_enc, token_enc,
                                token_generated, hook_type, shop, is_active, is_customer_created, disabled_reason,
                                created_at, updated_at, signing_secret_enc, previous_signing_secret_enc,
                                previous_signing_expires_at, failing_since, headers, secret_headers_enc,
                                secret_header_names, timeout_seconds, rate_limit, max_in_flight, ordered)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
                     $21, $22, $23, $24, $25, $26, $27)",
        )
        .bind(h.id)
        .bind(h.account_id)
        .bind(h.vertical)
        .bind(h.endpoint)
        .bind(h.auth_type)
        .bind(h.username)
        .bind(h.password_enc)
        .bind(h.token_enc)
        .bind(h.token_generated)
        .bind(h.hook_type)
        .bind(h.shop)
        .bind(h.is_active)
        .bind(h.is_customer_created)
        .bind(h.disabled_reason)
        .bind(h.created_at)
        .bind(h.updated_at)
        .bind(h.signing_secret_enc)
        .bind(h.previous_signing_secret_enc)
        .bind(h.previous_signing_expires_at)
        .bind(h.failing_since)
        .bind(h.headers)
        .bind(h.secret_headers_enc)
        .bind(h.secret_header_names)
        .bind(h.timeout_seconds)
        .bind(h.rate_limit)
        .bind(h.max_in_flight)
        .bind(h.ordered)
        .execute(&mut **dst)
        .await?;
        copied.hooks += 1;
    }
    let check: Option<(Vec<u8>,)> =
        sqlx::query_as("SELECT sealed FROM key_check WHERE id = 1").fetch_optional(&mut *src).await?;
    if let Some((sealed,)) = check {
        sqlx::query("INSERT INTO key_check (id, sealed) VALUES (1, $1)").bind(sealed).execute(&mut **dst).await?;
    }
    Ok(())
}

/// PostgreSQL's text holds no NUL (SQLite's may: a receiver's answer).
fn storable(text: Option<String>) -> Option<String> {
    text.map(|t| if t.contains('\0') { t.replace('\0', "\u{fffd}") } else { t })
}

/// Deliveries not succeeded (leases cleared) with their events and attempts, and
/// the idempotency keys still in their window.
async fn copy_outbox(src: &mut SqliteConnection, dst: &mut Dst, copied: &mut Copied) -> Result<(), CopyError> {
    copy_unfinished_events(src, dst, copied).await?;
    copy_unfinished_deliveries(src, dst, copied).await?;
    copy_their_attempts(src, dst, copied).await?;
    copy_idempotency_keys(src, dst, copied).await
}

/// Events with a delivery not yet succeeded.
async fn copy_unfinished_events(
    src: &mut SqliteConnection,
    dst: &mut Dst,
    copied: &mut Copied,
) -> Result<(), CopyError> {
    let events: Vec<(String, String, String, Option<String>, String, i64)> = sqlx::query_as(
        "SELECT id, account_id, hook_type, shop, payload, created_at FROM events e
         WHERE EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status <> 'succeeded')",
    )
    .fetch_all(&mut *src)
    .await?;
    for (id, account, hook_type, shop, payload, at) in events {
        sqlx::query(
            "INSERT INTO events (id, account_id, hook_type, shop, payload, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(account)
        .bind(hook_type)
        .bind(shop)
        .bind(payload)
        .bind(at)
        .execute(&mut **dst)
        .await?;
        copied.events += 1;
    }
    Ok(())
}

/// Deliveries not yet succeeded, their leases cleared, in publish order
/// (rowid): PostgreSQL numbers them (`seq`) as they come, so ordered hooks
/// keep their order.
async fn copy_unfinished_deliveries(
    src: &mut SqliteConnection,
    dst: &mut Dst,
    copied: &mut Copied,
) -> Result<(), CopyError> {
    type DeliveryRow = (String, String, String, String, DeliveryStatus, i64, i64, i64, i64);
    let deliveries: Vec<DeliveryRow> = sqlx::query_as(
        "SELECT id, event_id, hook_id, account_id, status, attempt_count, next_attempt_at, created_at, updated_at
         FROM deliveries WHERE status <> 'succeeded' ORDER BY rowid",
    )
    .fetch_all(&mut *src)
    .await?;
    for (id, event, hook, account, status, attempts, next_at, at, updated) in deliveries {
        sqlx::query(
            "INSERT INTO deliveries (id, event_id, hook_id, account_id, status, attempt_count, next_attempt_at,
                                     lease_until, lease_owner, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, NULL, $8, $9)",
        )
        .bind(id)
        .bind(event)
        .bind(hook)
        .bind(account)
        .bind(status)
        .bind(attempts)
        .bind(next_at)
        .bind(at)
        .bind(updated)
        .execute(&mut **dst)
        .await?;
        match status {
            DeliveryStatus::Failed => copied.failed_deliveries += 1,
            _ => copied.pending_deliveries += 1,
        }
    }
    Ok(())
}

/// The attempts of those deliveries.
async fn copy_their_attempts(src: &mut SqliteConnection, dst: &mut Dst, copied: &mut Copied) -> Result<(), CopyError> {
    let attempts: Vec<AttemptRow> = sqlx::query_as(
        "SELECT a.delivery_id, a.attempted_at, a.duration_ms, a.status_code, a.error, a.response_body
         FROM attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE d.status <> 'succeeded' ORDER BY a.id",
    )
    .fetch_all(&mut *src)
    .await?;
    for (delivery, at, duration, status, error, body) in attempts {
        sqlx::query(
            "INSERT INTO attempts (delivery_id, attempted_at, duration_ms, status_code, error, response_body)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(delivery)
        .bind(at)
        .bind(duration)
        .bind(status)
        .bind(storable(error))
        .bind(storable(body))
        .execute(&mut **dst)
        .await?;
        copied.attempts += 1;
    }
    Ok(())
}

/// Idempotency keys still within their window.
async fn copy_idempotency_keys(
    src: &mut SqliteConnection,
    dst: &mut Dst,
    copied: &mut Copied,
) -> Result<(), CopyError> {
    let keys: Vec<(String, String, String, i64)> =
        sqlx::query_as("SELECT account_id, key, response, created_at FROM idempotency_keys WHERE created_at > $1")
            .bind(now_ms() - IDEMPOTENCY_WINDOW_MS)
            .fetch_all(&mut *src)
            .await?;
    for (account, key, response, at) in keys {
        sqlx::query("INSERT INTO idempotency_keys (account_id, key, response, created_at) VALUES ($1, $2, $3, $4)")
            .bind(account)
            .bind(key)
            .bind(response)
            .bind(at)
            .execute(&mut **dst)
            .await?;
        copied.idempotency_keys += 1;
    }
    Ok(())
}
