//! The dispatcher's side of the outbox: claim due deliveries with a lease,
//! record each attempt and its outcome; plus the delivery log and manual retry.

use super::{Db, StorageError, json_rows, now_ms};
use crate::domain::{AuthType, ResourceId};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use std::collections::HashMap;
use std::sync::Arc;

/// A claimed delivery with everything needed to send it. Secrets are still
/// sealed; the dispatcher opens them. The payload and the hook are shared
/// (`Arc`) by the deliveries of one event and of one hook, so thousands
/// queued in memory cost little.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    pub id: String,
    pub event_id: String,
    pub attempt_count: i64,
    pub payload: Arc<str>,
    pub hook: Arc<HookTarget>,
}

impl<'r> sqlx::FromRow<'r, SqliteRow> for ClaimedDelivery {
    fn from_row(row: &'r SqliteRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: row.try_get("id")?,
            event_id: row.try_get("event_id")?,
            attempt_count: row.try_get("attempt_count")?,
            payload: Arc::from(row.try_get::<String, _>("payload")?),
            hook: Arc::new(HookTarget::from_row(row)?),
        })
    }
}

/// Where and how a hook's deliveries are sent (secrets sealed).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HookTarget {
    pub hook_id: String,
    pub endpoint: String,
    pub auth_type: String,
    pub username: Option<String>,
    pub password_enc: Option<Vec<u8>>,
    pub token_enc: Option<Vec<u8>>,
    pub token_generated: bool,
    pub signing_secret_enc: Option<Vec<u8>>,
    pub previous_signing_secret_enc: Option<Vec<u8>>,
    pub previous_signing_expires_at: Option<i64>,
}

impl HookTarget {
    pub fn auth(&self) -> AuthType {
        AuthType::parse(&self.auth_type).unwrap_or_default()
    }
}

/// The columns of `HookTarget`, for a query on `hooks h` (a macro so that
/// `concat!` keeps each query a static string).
macro_rules! hook_target_columns {
    () => {
        "h.id AS hook_id, h.endpoint, h.auth_type, h.username, h.password_enc, h.token_enc, h.token_generated,
         h.signing_secret_enc, h.previous_signing_secret_enc, h.previous_signing_expires_at"
    };
}
pub(super) use hook_target_columns;

/// Claims up to `limit` due deliveries (pending, due, not leased or lease
/// expired) for `lease_ms`: at most `per_hook` per hook, none for the hooks
/// in `saturated` (their endpoints are at their concurrency cap). An expired
/// lease is how deliveries in flight during a crash are picked up again.
pub async fn claim(
    db: &Db,
    lease_ms: i64,
    limit: u32,
    per_hook: u32,
    saturated: &[&str],
) -> Result<Vec<ClaimedDelivery>, StorageError> {
    let now = now_ms();
    let saturated = json_rows(saturated)?;
    let ids: Vec<(String,)> = sqlx::query_as(
        "UPDATE deliveries SET lease_until = ?1 + ?2
         WHERE id IN (SELECT id FROM (
                         SELECT id, next_attempt_at,
                                row_number() OVER (PARTITION BY hook_id ORDER BY next_attempt_at) AS rank
                         FROM (SELECT id, hook_id, next_attempt_at FROM deliveries
                               WHERE status = 'pending' AND next_attempt_at <= ?1
                                 AND (lease_until IS NULL OR lease_until < ?1)
                                 AND hook_id NOT IN (SELECT value FROM json_each(?5))
                               ORDER BY next_attempt_at LIMIT ?3 * 4))
                      WHERE rank <= ?4 ORDER BY next_attempt_at LIMIT ?3)
         RETURNING id",
    )
    .bind(now)
    .bind(lease_ms)
    .bind(i64::from(limit))
    .bind(i64::from(per_hook))
    .bind(saturated)
    .fetch_all(db)
    .await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids_json = json_rows(&ids.into_iter().map(|(id,)| id).collect::<Vec<_>>())?;
    let mut claimed = sqlx::query_as::<_, ClaimedDelivery>(concat!(
        "SELECT d.id, d.event_id, d.attempt_count, e.payload, ",
        hook_target_columns!(),
        " FROM deliveries d JOIN events e ON e.id = d.event_id JOIN hooks h ON h.id = d.hook_id
         WHERE d.id IN (SELECT value FROM json_each(?))"
    ))
    .bind(ids_json)
    .fetch_all(db)
    .await?;
    // One shared copy per hook and per event.
    let mut hooks: HashMap<String, Arc<HookTarget>> = HashMap::new();
    let mut payloads: HashMap<String, Arc<str>> = HashMap::new();
    for delivery in &mut claimed {
        delivery.hook = hooks.entry(delivery.hook.hook_id.clone()).or_insert_with(|| delivery.hook.clone()).clone();
        delivery.payload =
            payloads.entry(delivery.event_id.clone()).or_insert_with(|| delivery.payload.clone()).clone();
    }
    Ok(claimed)
}

/// Extends the lease of deliveries this process holds (queued in memory or
/// in flight). Rows already recorded (lease cleared) are left alone.
pub async fn renew_leases(db: &Db, ids: &[&str], lease_ms: i64) -> Result<(), StorageError> {
    if ids.is_empty() {
        return Ok(());
    }
    let ids_json = json_rows(ids)?;
    sqlx::query(
        "UPDATE deliveries SET lease_until = ?1 WHERE status = 'pending' AND lease_until IS NOT NULL
           AND id IN (SELECT value FROM json_each(?2))",
    )
    .bind(now_ms() + lease_ms)
    .bind(ids_json)
    .execute(db)
    .await?;
    Ok(())
}

/// One attempt as recorded.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub attempted_at: i64,
    pub duration_ms: i64,
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub response_body: Option<String>,
}

/// What happens to the delivery after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    /// Try again at this time (ms).
    RetryAt(i64),
    /// Dead-lettered; optionally disable the hook with a reason.
    Failed {
        disable_hook: Option<String>,
    },
}

/// An attempt to record, with what follows it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub delivery_id: String,
    pub hook_id: String,
    pub attempt: AttemptRecord,
    pub outcome: Outcome,
}

/// Records attempts and their outcomes in one transaction (one fsync for
/// the batch). The whole batch is two statements — every attempt in one
/// `INSERT`, every delivery's new state in one `UPDATE` (rows passed as a JSON
/// array) — so a batch of hundreds costs two round trips to SQLite's thread,
/// not hundreds. A failure also disables the hook when none of its attempts
/// succeeded for `disable_after_ms` while it kept failing. Returns, per
/// item, the reason when its hook was disabled now.
pub async fn record_batch(
    db: &Db,
    items: &[Recorded],
    disable_after_ms: i64,
) -> Result<Vec<Option<String>>, StorageError> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let now = now_ms();
    // Tuples serialize as JSON arrays: `value ->> 0` is the first element.
    let attempts: Vec<_> = items
        .iter()
        .map(|item| {
            let a = &item.attempt;
            (&item.delivery_id, a.attempted_at, a.duration_ms, a.status_code, &a.error, &a.response_body)
        })
        .collect();
    let states: Vec<_> = items
        .iter()
        .map(|item| match &item.outcome {
            Outcome::Succeeded => (&item.delivery_id, "succeeded", now),
            Outcome::RetryAt(at) => (&item.delivery_id, "pending", *at),
            Outcome::Failed { .. } => (&item.delivery_id, "failed", now),
        })
        .collect();
    let (attempts, states) = (json_rows(&attempts)?, json_rows(&states)?);

    let mut tx = db.begin_with("BEGIN IMMEDIATE").await?;
    sqlx::query(
        "INSERT INTO attempts (delivery_id, attempted_at, duration_ms, status_code, error, response_body)
         SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5 FROM json_each(?)",
    )
    .bind(attempts)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE deliveries SET status = s.status, attempt_count = attempt_count + 1, next_attempt_at = s.next_at,
                lease_until = NULL, updated_at = ?2
         FROM (SELECT value ->> 0 AS id, value ->> 1 AS status, value ->> 2 AS next_at FROM json_each(?1)) AS s
         WHERE deliveries.id = s.id",
    )
    .bind(states)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let mut disabled = Vec::with_capacity(items.len());
    for item in items {
        disabled.push(match &item.outcome {
            Outcome::Succeeded => None,
            outcome => disable_if_due(&mut tx, &item.hook_id, outcome, disable_after_ms, now).await?,
        });
    }
    tx.commit().await?;
    Ok(disabled)
}

/// After a failed attempt: disables the hook when the endpoint said so (410)
/// or when every attempt failed for `disable_after_ms`; its pending
/// deliveries then end as failed. Returns the reason when it was disabled.
async fn disable_if_due(
    conn: &mut sqlx::SqliteConnection,
    hook_id: &str,
    outcome: &Outcome,
    disable_after_ms: i64,
    now: i64,
) -> Result<Option<String>, StorageError> {
    let mut disabled = None;
    if let Outcome::Failed { disable_hook: Some(reason) } = outcome {
        sqlx::query("UPDATE hooks SET is_active = 0, disabled_reason = ?, updated_at = ? WHERE id = ?")
            .bind(reason)
            .bind(now)
            .bind(hook_id)
            .execute(&mut *conn)
            .await?;
        disabled = Some(reason.clone());
    } else {
        let reason = format!("every delivery attempt failed for {}", describe_ms(disable_after_ms));
        let since = now - disable_after_ms;
        let changed = sqlx::query(
            "UPDATE hooks SET is_active = 0, disabled_reason = ?1, updated_at = ?2
             WHERE id = ?3 AND is_active = 1
               AND EXISTS (SELECT 1 FROM attempts a JOIN deliveries d ON d.id = a.delivery_id
                           WHERE d.hook_id = ?3 AND a.attempted_at <= ?4)
               AND NOT EXISTS (SELECT 1 FROM attempts a JOIN deliveries d ON d.id = a.delivery_id
                               WHERE d.hook_id = ?3 AND a.attempted_at > ?4 AND a.status_code BETWEEN 200 AND 299)",
        )
        .bind(&reason)
        .bind(now)
        .bind(hook_id)
        .bind(since)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if changed > 0 {
            disabled = Some(reason);
        }
    }
    if disabled.is_some() {
        // A disabled hook gets nothing more: its queued deliveries end as failed (retry by hand).
        sqlx::query(
            "UPDATE deliveries SET status = 'failed', lease_until = NULL, updated_at = ? WHERE hook_id = ? AND status = 'pending'",
        )
        .bind(now)
        .bind(hook_id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(disabled)
}

fn describe_ms(ms: i64) -> String {
    const DAY: i64 = 86_400_000;
    match ms {
        ms if ms >= DAY && ms % DAY == 0 => format!("{} days", ms / DAY),
        ms if ms >= 3_600_000 && ms % 3_600_000 == 0 => format!("{} hours", ms / 3_600_000),
        ms if ms >= 1000 => format!("{} seconds", ms / 1000),
        ms => format!("{ms} ms"),
    }
}

/// Gives claimed deliveries back (shutdown, or their endpoint is at its cap).
pub async fn release(db: &Db, ids: &[String], retry_at: i64) -> Result<(), StorageError> {
    if ids.is_empty() {
        return Ok(());
    }
    let ids_json = json_rows(ids)?;
    sqlx::query(
        "UPDATE deliveries SET lease_until = NULL, next_attempt_at = max(next_attempt_at, ?)
         WHERE status = 'pending' AND id IN (SELECT value FROM json_each(?))",
    )
    .bind(retry_at)
    .bind(ids_json)
    .execute(db)
    .await?;
    Ok(())
}

/// Re-queues a finished (failed or succeeded) delivery of the account for
/// one more attempt (`attempt_count` is set so exactly one attempt remains).
pub async fn retry(
    db: &Db,
    account_id: &ResourceId,
    delivery_id: &str,
    attempts_in_schedule: i64,
) -> Result<RetryResult, StorageError> {
    let now = now_ms();
    let found: Option<(String,)> = sqlx::query_as("SELECT status FROM deliveries WHERE id = ? AND account_id = ?")
        .bind(delivery_id)
        .bind(account_id.as_str())
        .fetch_optional(db)
        .await?;
    match found {
        None => Ok(RetryResult::NotFound),
        Some((status,)) if status == "pending" => Ok(RetryResult::AlreadyPending),
        Some(_) => {
            sqlx::query(
                "UPDATE deliveries SET status = 'pending', attempt_count = ?, next_attempt_at = ?, lease_until = NULL,
                        updated_at = ? WHERE id = ? AND account_id = ?",
            )
            .bind((attempts_in_schedule - 1).max(0))
            .bind(now)
            .bind(now)
            .bind(delivery_id)
            .bind(account_id.as_str())
            .execute(db)
            .await?;
            Ok(RetryResult::Queued)
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum RetryResult {
    Queued,
    AlreadyPending,
    NotFound,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: String,
    pub event_id: String,
    pub status: String,
    pub attempt_count: i64,
    pub next_attempt_at: i64,
    pub created_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttemptRow {
    pub delivery_id: String,
    pub attempted_at: i64,
    pub duration_ms: i64,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub response_body: Option<String>,
}

/// A page of a hook's deliveries (newest first) with their attempts, and the total.
pub async fn list_for_hook(
    db: &Db,
    account_id: &ResourceId,
    hook_id: &ResourceId,
    page: u32,
    size: u32,
) -> Result<(Vec<(DeliveryRow, Vec<AttemptRow>)>, u64), StorageError> {
    let (total,): (i64,) = sqlx::query_as("SELECT count(*) FROM deliveries WHERE hook_id = ? AND account_id = ?")
        .bind(hook_id.as_str())
        .bind(account_id.as_str())
        .fetch_one(db)
        .await?;
    let rows: Vec<DeliveryRow> = sqlx::query_as(
        "SELECT id, event_id, status, attempt_count, next_attempt_at, created_at FROM deliveries
         WHERE hook_id = ? AND account_id = ? ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
    )
    .bind(hook_id.as_str())
    .bind(account_id.as_str())
    .bind(i64::from(size))
    .bind(i64::from(page.saturating_sub(1)) * i64::from(size))
    .fetch_all(db)
    .await?;
    let ids_json = json_rows(&rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>())?;
    let attempts: Vec<AttemptRow> = sqlx::query_as(
        "SELECT delivery_id, attempted_at, duration_ms, status_code, error, response_body FROM attempts
         WHERE delivery_id IN (SELECT value FROM json_each(?)) ORDER BY id",
    )
    .bind(ids_json)
    .fetch_all(db)
    .await?;
    let out = rows
        .into_iter()
        .map(|d| {
            let mine = attempts.iter().filter(|a| a.delivery_id == d.id).cloned().collect();
            (d, mine)
        })
        .collect();
    Ok((out, u64::try_from(total).unwrap_or(0)))
}

/// Pending deliveries and the creation time of the oldest one.
pub async fn queue_stats(db: &Db) -> Result<(i64, Option<i64>), StorageError> {
    Ok(sqlx::query_as("SELECT count(*), min(created_at) FROM deliveries WHERE status = 'pending'")
        .fetch_one(db)
        .await?)
}

/// Deletes history older than `cutoff` (ms): attempts, finished events (their
/// deliveries go with them) and expired idempotency keys. Returns rows removed.
pub async fn prune(db: &Db, cutoff: i64) -> Result<u64, StorageError> {
    let attempts =
        sqlx::query("DELETE FROM attempts WHERE attempted_at < ?").bind(cutoff).execute(db).await?.rows_affected();
    let events = sqlx::query(
        "DELETE FROM events WHERE created_at < ?
           AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = events.id AND d.status = 'pending')",
    )
    .bind(cutoff)
    .execute(db)
    .await?
    .rows_affected();
    let keys = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < ?")
        .bind(now_ms() - super::events::IDEMPOTENCY_WINDOW_MS)
        .execute(db)
        .await?
        .rows_affected();
    Ok(attempts + events + keys)
}
