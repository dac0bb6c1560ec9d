//! What people see of the outbox and do with it: a hook's delivery log with
//! every attempt, the queue's size for `/metrics`, and the manual retry of a
//! finished delivery. Re-exported by `deliveries`.

use super::backend::on_pool;
use super::row::row;
use super::{Db, StorageError, json_rows, now_ms};
use crate::domain::time_window::RecoverWindow;
use crate::domain::{DeliveryId, DeliveryStatus, EventId, ResourceId};

/// Re-queues a finished (failed or succeeded) delivery of the account for
/// one more attempt (`attempt_count` is set so exactly one attempt remains);
/// a pending one that waits for its next attempt (no attempt in flight) is
/// made due now, its schedule kept (the blocked head of an ordered hook,
/// once its endpoint is fixed).
pub async fn retry(
    db: &Db,
    account_id: &ResourceId,
    delivery_id: &DeliveryId,
    attempts_in_schedule: i64,
) -> Result<RetryResult, StorageError> {
    let now = now_ms();
    // Update first, then look: between a look and an update, retention
    // could remove the row (a 409 for a delivery that is gone).
    let queued = on_pool!(&db.pool, p => sqlx::query(
        "UPDATE deliveries SET status = 'pending',
                attempt_count = CASE WHEN status = 'pending' THEN attempt_count ELSE $1 END,
                next_attempt_at = $2, lease_until = NULL, lease_owner = NULL, updated_at = $3
         WHERE id = $4 AND account_id = $5
           AND (status <> 'pending' OR lease_until IS NULL OR lease_until < $2)",
    )
    .bind((attempts_in_schedule - 1).max(0))
    .bind(now)
    .bind(now)
    .bind(delivery_id.as_str())
    .bind(account_id.as_str())
    .execute(p)
    .await
    .map(|r| r.rows_affected()))?;
    if queued > 0 {
        return Ok(RetryResult::Queued);
    }
    let exists: Option<(i64,)> = on_pool!(&db.pool, p => sqlx::query_as(
        "SELECT CAST(1 AS BIGINT) FROM deliveries WHERE id = $1 AND account_id = $2",
    )
    .bind(delivery_id.as_str())
    .bind(account_id.as_str())
    .fetch_optional(p)
    .await)?;
    Ok(if exists.is_some() { RetryResult::InFlight } else { RetryResult::NotFound })
}

#[derive(Debug, PartialEq, Eq)]
pub enum RetryResult {
    Queued,
    /// Pending with an attempt in flight (or queued to be sent now).
    InFlight,
    NotFound,
}

row! {
    #[derive(Debug, Clone)]
    pub struct DeliveryRow {
        pub id: DeliveryId,
        pub event_id: EventId,
        pub status: DeliveryStatus,
        pub attempt_count: i64,
        pub next_attempt_at: i64,
        pub created_at: i64,
    }
}

row! {
    #[derive(Debug, Clone)]
    pub struct AttemptRow {
        pub delivery_id: DeliveryId,
        pub attempted_at: i64,
        pub duration_ms: i64,
        pub status_code: Option<i64>,
        pub error: Option<String>,
        pub response_body: Option<String>,
    }
}

/// A page of a hook's deliveries (newest first) with their attempts, and the total.
pub async fn list_for_hook(
    db: &Db,
    account_id: &ResourceId,
    hook_id: &ResourceId,
    page: u32,
    size: u32,
) -> Result<(Vec<(DeliveryRow, Vec<AttemptRow>)>, u64), StorageError> {
    let (total,): (i64,) = on_pool!(&db.pool, p => sqlx::query_as(
        "SELECT count(*) FROM deliveries WHERE hook_id = $1 AND account_id = $2",
    )
    .bind(hook_id.as_str())
    .bind(account_id.as_str())
    .fetch_one(p)
    .await)?;
    let rows: Vec<DeliveryRow> = on_pool!(&db.pool, p => sqlx::query_as(
        "SELECT id, event_id, status, attempt_count, next_attempt_at, created_at FROM deliveries
         WHERE hook_id = $1 AND account_id = $2 ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4",
    )
    .bind(hook_id.as_str())
    .bind(account_id.as_str())
    .bind(i64::from(size))
    .bind(i64::from(page.saturating_sub(1)) * i64::from(size))
    .fetch_all(p)
    .await)?;
    let attempts = attempts_of(db, rows.iter().map(|r| &r.id)).await?;
    let out = rows
        .into_iter()
        .map(|d| {
            let mine = attempts.iter().filter(|a| a.delivery_id == d.id).cloned().collect();
            (d, mine)
        })
        .collect();
    Ok((out, u64::try_from(total).unwrap_or(0)))
}

/// Every attempt of these deliveries, oldest first.
pub(super) async fn attempts_of<'a>(
    db: &Db,
    ids: impl Iterator<Item = &'a DeliveryId>,
) -> Result<Vec<AttemptRow>, StorageError> {
    let ids_json = json_rows(&ids.map(DeliveryId::as_str).collect::<Vec<_>>())?;
    let sql = db.sql(
        "SELECT delivery_id, attempted_at, duration_ms, status_code, error, response_body FROM attempts
         WHERE delivery_id IN (SELECT value FROM json_each($1)) ORDER BY id",
        "SELECT delivery_id, attempted_at, duration_ms, status_code, error, response_body FROM attempts
         WHERE delivery_id IN (SELECT value FROM json_array_elements_text($1::json)) ORDER BY id",
    );
    Ok(on_pool!(&db.pool, p => sqlx::query_as(sql).bind(&ids_json).fetch_all(p).await)?)
}

/// Re-queues the hook's failed deliveries created in `window` for one more
/// attempt each (as a manual retry does; each keeps its event, so its
/// `webhook-id`). Returns how many were queued.
pub async fn recover(
    db: &Db,
    account_id: &ResourceId,
    hook_id: &ResourceId,
    window: RecoverWindow,
    attempts_in_schedule: i64,
) -> Result<u64, StorageError> {
    let now = now_ms();
    Ok(on_pool!(&db.pool, p => sqlx::query(
        "UPDATE deliveries SET status = 'pending', attempt_count = $1, next_attempt_at = $2, lease_until = NULL,
                lease_owner = NULL, updated_at = $2
         WHERE hook_id = $3 AND account_id = $4 AND status = 'failed' AND created_at >= $5 AND created_at < $6",
    )
    .bind((attempts_in_schedule - 1).max(0))
    .bind(now)
    .bind(hook_id.as_str())
    .bind(account_id.as_str())
    .bind(window.since_ms)
    .bind(window.until_ms)
    .execute(p)
    .await
    .map(|r| r.rows_affected()))?)
}

/// Pending deliveries and the creation time of the oldest one.
pub async fn queue_stats(db: &Db) -> Result<(i64, Option<i64>), StorageError> {
    Ok(on_pool!(&db.pool, p => sqlx::query_as(
        "SELECT count(*), min(created_at) FROM deliveries WHERE status = 'pending'",
    )
    .fetch_one(p)
    .await)?)
}
