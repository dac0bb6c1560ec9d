//! What a person sees of, and does with, an ordered hook's queue: the
//! delivery at its head when it is blocked (it has failed at least once
//! and waits for its next attempt), and skipping a delivery so the ones
//! behind it go ahead. The claim that keeps the order is in `deliveries`.

use super::backend::{on_pool, on_tx};
use super::row::row;
use super::{Db, StorageError, now_ms};
use crate::domain::{DeliveryId, ResourceId};

/// An ordered hook's earliest pending delivery, after a failed attempt.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BlockedHead {
    pub delivery_id: DeliveryId,
    pub event_id: String,
    pub attempt_count: i64,
    /// When the next attempt is due (ms).
    pub next_attempt_at: i64,
    /// What the last attempt got.
    pub last_error: Option<String>,
    /// Pending deliveries of the hook behind it (counted up to 10,000).
    pub waiting: i64,
}

row! {
    struct HeadRow {
        id: DeliveryId,
        event_id: String,
        attempt_count: i64,
        next_attempt_at: i64,
        last_error: Option<String>,
    }
}

/// The delivery holding back an ordered hook of the account, if one is:
/// the hook's earliest pending delivery (publish order), once it has failed.
pub async fn blocked_head(
    db: &Db,
    account: &ResourceId,
    hook: &ResourceId,
) -> Result<Option<BlockedHead>, StorageError> {
    let sql = db.sql(
        "SELECT d.id, d.event_id, d.attempt_count, d.next_attempt_at,
                (SELECT a.error FROM attempts a WHERE a.delivery_id = d.id ORDER BY a.id DESC LIMIT 1) AS last_error
         FROM deliveries d JOIN hooks h ON h.id = d.hook_id AND h.ordered = TRUE
         WHERE d.hook_id = $1 AND d.account_id = $2 AND d.status = 'pending'
         ORDER BY d.rowid LIMIT 1",
        "SELECT d.id, d.event_id, d.attempt_count, d.next_attempt_at,
                (SELECT a.error FROM attempts a WHERE a.delivery_id = d.id ORDER BY a.id DESC LIMIT 1) AS last_error
         FROM deliveries d JOIN hooks h ON h.id = d.hook_id AND h.ordered = TRUE
         WHERE d.hook_id = $1 AND d.account_id = $2 AND d.status = 'pending'
         ORDER BY d.seq LIMIT 1",
    );
    let head: Option<HeadRow> = on_pool!(&db.pool, p => sqlx::query_as(sql)
        .bind(hook.as_str())
        .bind(account.as_str())
        .fetch_optional(p)
        .await)?;
    let Some(head) = head.filter(|h| h.attempt_count > 0) else { return Ok(None) };
    // Counted up to a cap: the page asks every 2 s, and the backlog may be long.
    let (pending,): (i64,) = on_pool!(&db.pool, p => sqlx::query_as(
        "SELECT COUNT(*) FROM (SELECT 1 FROM deliveries WHERE hook_id = $1 AND status = 'pending' LIMIT 10001) AS w",
    )
    .bind(hook.as_str())
    .fetch_one(p)
    .await)?;
    Ok(Some(BlockedHead {
        delivery_id: head.id,
        event_id: head.event_id,
        attempt_count: head.attempt_count,
        next_attempt_at: head.next_attempt_at,
        last_error: head.last_error,
        waiting: (pending - 1).max(0),
    }))
}

#[derive(Debug, PartialEq, Eq)]
pub enum SkipResult {
    /// Marked failed; the hook whose queue moves on.
    Skipped {
        hook_id: String,
    },
    /// Not pending (it already succeeded or failed).
    NotPending,
    /// An attempt of it is in flight (leased): skipping now would let the
    /// next delivery go while this one may still land.
    InFlight,
    NotFound,
}

/// What the attempt log shows for a skipped delivery.
pub const SKIPPED: &str = "skipped by hand: the hook's later deliveries went ahead";

/// Gives up on a pending delivery of the account that waits for its next
/// attempt: it is failed (and can be retried by hand like any failed
/// one), with the skip in its attempt log. One with an attempt in flight
/// (a live lease) is left alone.
pub async fn skip(db: &Db, account: &ResourceId, delivery: &DeliveryId) -> Result<SkipResult, StorageError> {
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    let skipped: Option<(String,)> = on_tx!(&mut tx, t => sqlx::query_as(
        "UPDATE deliveries SET status = 'failed', lease_until = NULL, lease_owner = NULL, updated_at = $1
         WHERE id = $2 AND account_id = $3 AND status = 'pending' AND (lease_until IS NULL OR lease_until < $1)
         RETURNING hook_id",
    )
    .bind(now)
    .bind(delivery.as_str())
    .bind(account.as_str())
    .fetch_optional(&mut **t)
    .await)?;
    let Some((hook_id,)) = skipped else {
        let status: Option<(String,)> = on_tx!(&mut tx, t => sqlx::query_as(
            "SELECT status FROM deliveries WHERE id = $1 AND account_id = $2",
        )
        .bind(delivery.as_str())
        .bind(account.as_str())
        .fetch_optional(&mut **t)
        .await)?;
        return Ok(match status {
            None => SkipResult::NotFound,
            Some((status,)) if status == "pending" => SkipResult::InFlight,
            Some(_) => SkipResult::NotPending,
        });
    };
    on_tx!(&mut tx, t => sqlx::query(
        "INSERT INTO attempts (delivery_id, attempted_at, duration_ms, status_code, error, response_body)
         VALUES ($1, $2, 0, NULL, $3, NULL)",
    )
    .bind(delivery.as_str())
    .bind(now)
    .bind(SKIPPED)
    .execute(&mut **t)
    .await
    .map(|_| ()))?;
    tx.commit().await?;
    Ok(SkipResult::Skipped { hook_id })
}
