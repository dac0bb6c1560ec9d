//! The dispatcher's side of the outbox: claim due deliveries with a lease
//! that names its owner, renew, record each attempt and its outcome, give
//! back; plus the delivery log and manual retry (retention: `retention.rs`).
//!
//! A lease is `(lease_owner, lease_until)`. Only the owner renews, records
//! or gives back a row, and only while it is `pending`: a record whose
//! lease was lost (expired and claimed by another holder) or whose row is
//! gone (hook deleted) is dropped, never written over newer state, and a
//! finished delivery never returns to `pending` except by manual retry.

use super::{Db, StorageError, json_rows, now_ms};
use crate::domain::{DeliveryId, DeliveryStatus, EventId, ResourceId};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// The token a dispatcher claims with: one per process start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseOwner(String);

impl LeaseOwner {
    pub fn new() -> Result<Self, StorageError> {
        Ok(Self(hex::encode(crate::security::random::bytes::<12>()?)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A claimed delivery: what to send, and to which hook. The hook's target
/// is looked up right before each attempt (`directory.rs`), never carried
/// here, so an edit, a switch-off or a delete reaches queued work. The
/// payload is shared (`Arc`) by the deliveries of one event.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    pub id: DeliveryId,
    pub event_id: EventId,
    pub hook_id: String,
    pub attempt_count: i64,
    pub payload: Arc<str>,
}

impl<'r> sqlx::FromRow<'r, SqliteRow> for ClaimedDelivery {
    fn from_row(row: &'r SqliteRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: row.try_get("id")?,
            event_id: row.try_get("event_id")?,
            hook_id: row.try_get("hook_id")?,
            attempt_count: row.try_get("attempt_count")?,
            payload: Arc::from(row.try_get::<String, _>("payload")?),
        })
    }
}

/// Claims up to `limit` due deliveries of active hooks (pending, due, not
/// leased or lease expired) for `owner` until now + `lease_ms`: at most
/// `per_hook` per hook, none for the hooks in `saturated` (enough of theirs
/// are queued already). An expired lease is how deliveries in flight during
/// a crash are picked up again. A switched-off hook's deliveries wait here.
pub async fn claim(
    db: &Db,
    owner: &LeaseOwner,
    lease_ms: i64,
    limit: u32,
    per_hook: u32,
    saturated: &[&str],
) -> Result<Vec<ClaimedDelivery>, StorageError> {
    let now = now_ms();
    let saturated = json_rows(saturated)?;
    let ids: Vec<(DeliveryId,)> = sqlx::query_as(
        "UPDATE deliveries SET lease_until = ?1 + ?2, lease_owner = ?6
         WHERE id IN (SELECT id FROM (
                         SELECT id, next_attempt_at,
                                row_number() OVER (PARTITION BY hook_id ORDER BY next_attempt_at) AS rank
                         FROM (SELECT d.id, d.hook_id, d.next_attempt_at FROM deliveries d
                               JOIN hooks h ON h.id = d.hook_id AND h.is_active = 1
                               WHERE d.status = 'pending' AND d.next_attempt_at <= ?1
                                 AND (d.lease_until IS NULL OR d.lease_until < ?1)
                                 AND d.hook_id NOT IN (SELECT value FROM json_each(?5))
                               ORDER BY d.next_attempt_at LIMIT ?3 * 4))
                      WHERE rank <= ?4 ORDER BY next_attempt_at LIMIT ?3)
         RETURNING id",
    )
    .bind(now)
    .bind(lease_ms)
    .bind(i64::from(limit))
    .bind(i64::from(per_hook))
    .bind(saturated)
    .bind(owner.as_str())
    .fetch_all(&db.pool)
    .await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids_json = json_rows(&ids.into_iter().map(|(id,)| id).collect::<Vec<DeliveryId>>())?;
    let mut claimed = sqlx::query_as::<_, ClaimedDelivery>(
        "SELECT d.id, d.event_id, d.hook_id, d.attempt_count, e.payload
         FROM deliveries d JOIN events e ON e.id = d.event_id
         WHERE d.id IN (SELECT value FROM json_each(?))",
    )
    .bind(ids_json)
    .fetch_all(&db.pool)
    .await?;
    // One shared copy per event.
    let mut payloads: HashMap<EventId, Arc<str>> = HashMap::new();
    for delivery in &mut claimed {
        delivery.payload =
            payloads.entry(delivery.event_id.clone()).or_insert_with(|| delivery.payload.clone()).clone();
    }
    Ok(claimed)
}

/// Extends the leases `owner` still holds among `ids` (queued in memory or
/// in flight) and returns the ids renewed: a held id missing from the answer
/// was lost (finished by a record, or taken by another holder).
pub async fn renew_leases(
    db: &Db,
    owner: &LeaseOwner,
    ids: &[&DeliveryId],
    lease_ms: i64,
) -> Result<HashSet<DeliveryId>, StorageError> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let renewed: Vec<(DeliveryId,)> = sqlx::query_as(RENEW)
        .bind(now_ms() + lease_ms)
        .bind(json_rows(ids)?)
        .bind(owner.as_str())
        .fetch_all(&db.pool)
        .await?;
    Ok(renewed.into_iter().map(|(id,)| id).collect())
}

// The lease statements find their rows by id. `+status` keeps SQLite from
// using the `deliveries_due` index for `status = 'pending'` instead: that
// plan walks every pending delivery and re-reads the JSON list for each one
// (quadratic; it cut the fan-out benchmark to a fifth). `plans` tests this.
const RENEW: &str = "UPDATE deliveries SET lease_until = ?1
     WHERE +status = 'pending' AND lease_owner = ?3 AND id IN (SELECT value FROM json_each(?2))
     RETURNING id";
const RECORD: &str =
    "UPDATE deliveries SET status = s.status, attempt_count = attempt_count + 1, next_attempt_at = s.next_at,
            lease_until = NULL, lease_owner = NULL, updated_at = ?2
     FROM (SELECT value ->> 0 AS id, value ->> 1 AS status, value ->> 2 AS next_at FROM json_each(?1)) AS s
     WHERE deliveries.id = s.id AND +deliveries.status = 'pending' AND deliveries.lease_owner = ?3
     RETURNING id";
const RELEASE: &str =
    "UPDATE deliveries SET lease_until = NULL, lease_owner = NULL, next_attempt_at = max(next_attempt_at, ?1)
     WHERE +status = 'pending' AND lease_owner = ?3 AND id IN (SELECT value FROM json_each(?2))";

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

impl Outcome {
    pub fn succeeded(&self) -> bool {
        matches!(self, Outcome::Succeeded)
    }
}

/// An attempt to record, with what follows it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub delivery_id: DeliveryId,
    pub hook_id: String,
    pub attempt: AttemptRecord,
    pub outcome: Outcome,
}

/// What became of one record of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordResult {
    /// Written; with the reason when its hook was disabled by it.
    Written { disabled: Option<String> },
    /// Not written: the lease was no longer this owner's, the delivery had
    /// finished, or it was deleted with its hook.
    LeaseLost,
}

/// Records attempts and their outcomes in one transaction (one fsync for
/// the batch), as a few statements over JSON arrays whatever the batch size.
/// Only rows whose lease `owner` still holds are written, so one row that
/// can't be (lost lease, deleted hook) never fails its batch-mates. Failures
/// also keep each hook's failing window (`hooks.failing_since`): a hook that
/// has failed for `disable_after_ms` is disabled, like one that answered 410.
/// Returns one result per item; the caller tells the directory about
/// disabled hooks.
pub async fn record_batch(
    db: &Db,
    owner: &LeaseOwner,
    items: &[Recorded],
    disable_after_ms: i64,
) -> Result<Vec<RecordResult>, StorageError> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let now = now_ms();
    // Tuples serialize as JSON arrays: `value ->> 0` is the first element.
    let states: Vec<_> = items
        .iter()
        .map(|item| match &item.outcome {
            Outcome::Succeeded => (&item.delivery_id, DeliveryStatus::Succeeded, now),
            Outcome::RetryAt(at) => (&item.delivery_id, DeliveryStatus::Pending, *at),
            Outcome::Failed { .. } => (&item.delivery_id, DeliveryStatus::Failed, now),
        })
        .collect();
    let mut tx = db.pool.begin_with("BEGIN IMMEDIATE").await?;
    let written: Vec<(DeliveryId,)> =
        sqlx::query_as(RECORD).bind(json_rows(&states)?).bind(now).bind(owner.as_str()).fetch_all(&mut *tx).await?;
    let written: HashSet<DeliveryId> = written.into_iter().map(|(id,)| id).collect();
    let kept: Vec<&Recorded> = items.iter().filter(|item| written.contains(&item.delivery_id)).collect();
    let attempts: Vec<_> = kept
        .iter()
        .map(|item| {
            let a = &item.attempt;
            (&item.delivery_id, a.attempted_at, a.duration_ms, a.status_code, &a.error, &a.response_body)
        })
        .collect();
    sqlx::query(
        "INSERT INTO attempts (delivery_id, attempted_at, duration_ms, status_code, error, response_body)
         SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5 FROM json_each(?)",
    )
    .bind(json_rows(&attempts)?)
    .execute(&mut *tx)
    .await?;
    let disabled = super::failing::track(&mut tx, &kept, disable_after_ms, now).await?;
    tx.commit().await?;
    for hook in disabled.keys() {
        db.hooks.changed(hook);
    }
    Ok(items
        .iter()
        .map(|item| {
            if written.contains(&item.delivery_id) {
                RecordResult::Written { disabled: disabled.get(&item.hook_id).cloned() }
            } else {
                RecordResult::LeaseLost
            }
        })
        .collect())
}

/// Gives claimed deliveries back (shutdown, their hook was switched off, or
/// their hook's queue is full): lease cleared, due at `retry_at` at the
/// earliest. Only rows `owner` still holds.
pub async fn release(db: &Db, owner: &LeaseOwner, ids: &[DeliveryId], retry_at: i64) -> Result<(), StorageError> {
    if ids.is_empty() {
        return Ok(());
    }
    sqlx::query(RELEASE).bind(retry_at).bind(json_rows(ids)?).bind(owner.as_str()).execute(&db.pool).await?;
    Ok(())
}

/// Re-queues a finished (failed or succeeded) delivery of the account for
/// one more attempt (`attempt_count` is set so exactly one attempt remains).
pub async fn retry(
    db: &Db,
    account_id: &ResourceId,
    delivery_id: &DeliveryId,
    attempts_in_schedule: i64,
) -> Result<RetryResult, StorageError> {
    let now = now_ms();
    // Update first, then look: between a look and an update, retention
    // could remove the row (a 409 for a delivery that is gone).
    let queued = sqlx::query(
        "UPDATE deliveries SET status = 'pending', attempt_count = ?, next_attempt_at = ?, lease_until = NULL,
                lease_owner = NULL, updated_at = ? WHERE id = ? AND account_id = ? AND status <> 'pending'",
    )
    .bind((attempts_in_schedule - 1).max(0))
    .bind(now)
    .bind(now)
    .bind(delivery_id.as_str())
    .bind(account_id.as_str())
    .execute(&db.pool)
    .await?
    .rows_affected();
    if queued > 0 {
        return Ok(RetryResult::Queued);
    }
    let exists: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM deliveries WHERE id = ? AND account_id = ?")
        .bind(delivery_id.as_str())
        .bind(account_id.as_str())
        .fetch_optional(&db.pool)
        .await?;
    Ok(if exists.is_some() { RetryResult::AlreadyPending } else { RetryResult::NotFound })
}

#[derive(Debug, PartialEq, Eq)]
pub enum RetryResult {
    Queued,
    AlreadyPending,
    NotFound,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: DeliveryId,
    pub event_id: EventId,
    pub status: DeliveryStatus,
    pub attempt_count: i64,
    pub next_attempt_at: i64,
    pub created_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttemptRow {
    pub delivery_id: DeliveryId,
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
        .fetch_one(&db.pool)
        .await?;
    let rows: Vec<DeliveryRow> = sqlx::query_as(
        "SELECT id, event_id, status, attempt_count, next_attempt_at, created_at FROM deliveries
         WHERE hook_id = ? AND account_id = ? ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
    )
    .bind(hook_id.as_str())
    .bind(account_id.as_str())
    .bind(i64::from(size))
    .bind(i64::from(page.saturating_sub(1)) * i64::from(size))
    .fetch_all(&db.pool)
    .await?;
    let ids_json = json_rows(&rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>())?;
    let attempts: Vec<AttemptRow> = sqlx::query_as(
        "SELECT delivery_id, attempted_at, duration_ms, status_code, error, response_body FROM attempts
         WHERE delivery_id IN (SELECT value FROM json_each(?)) ORDER BY id",
    )
    .bind(ids_json)
    .fetch_all(&db.pool)
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
        .fetch_one(&db.pool)
        .await?)
}

#[cfg(test)]
mod plans {
    use super::{RECORD, RELEASE, RENEW};

    /// Each lease statement looks its rows up by id, never by walking the
    /// pending deliveries.
    #[tokio::test]
    async fn lease_statements_find_rows_by_id() {
        let dir = tempfile::tempdir().expect("dir");
        let db = crate::storage::connect(&format!("sqlite://{}", dir.path().join("p.db").display())).await.expect("db");
        for sql in [RENEW, RECORD, RELEASE] {
            let plan: Vec<(i64, i64, i64, String)> =
                sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
                    .bind(1_i64)
                    .bind("[]")
                    .bind("owner")
                    .fetch_all(&db.pool)
                    .await
                    .expect("plan");
            let text: Vec<&str> = plan.iter().map(|(_, _, _, d)| d.as_str()).collect();
            assert!(text.iter().any(|d| d.contains("(id=?)")), "{sql}: {text:?}");
            assert!(!text.iter().any(|d| d.contains("deliveries_due")), "{sql}: {text:?}");
        }
    }
}
