//! Publishing: the event and one delivery per matching hook, written in one
//! transaction (the outbox) before the API answers.

use super::deliveries::{ClaimedDelivery, HookTarget, hook_target_columns};
use super::{Db, StorageError, now_ms};
use crate::domain::{ResourceId, Vertical};
use std::collections::HashMap;
use std::sync::Arc;

pub enum Published {
    /// Stored now: how many deliveries were queued and, when the batch was
    /// stored with a lease, those deliveries ready to send.
    New { deliveries: u64, leased: Vec<ClaimedDelivery> },
    /// The idempotency key was used in the last 24 h: the first answer, verbatim.
    Replayed(String),
}

pub const IDEMPOTENCY_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

/// One publish request for `publish_batch` (owned, so it can cross tasks).
#[derive(Debug, Clone)]
pub struct PublishRequest {
    pub id: ResourceId,
    pub account_id: ResourceId,
    pub hook_type: String,
    pub vertical: Vertical,
    pub shop: Option<String>,
    /// The exact JSON body every delivery sends.
    pub payload: String,
    /// `Some`: only this hook of the account, whatever its state (test events).
    pub only_hook: Option<ResourceId>,
    pub idempotency_key: Option<String>,
    /// The answer to remember for the idempotency key, given the delivery count.
    pub answer: fn(&ResourceId, u64) -> String,
}

/// Stores several publish requests in one transaction (one fsync): each
/// event with its deliveries, or, for an idempotency key seen in the last
/// 24 h, nothing but the first answer. All or none are stored.
///
/// With `lease_ms`, the new deliveries are stored already claimed by this
/// process for that long and returned, so the dispatcher can send them
/// without a claim query (the in-process fast path); if the process dies
/// the lease expires and they are claimed again like any other.
pub async fn publish_batch(
    db: &Db,
    requests: &[PublishRequest],
    lease_ms: Option<i64>,
) -> Result<Vec<Published>, StorageError> {
    let now = now_ms();
    let lease_until = lease_ms.map(|ms| now + ms);
    // IMMEDIATE: take the write lock up front (no read→write upgrade deadlocks).
    let mut tx = db.begin_with("BEGIN IMMEDIATE").await?;
    let mut out = Vec::with_capacity(requests.len());
    let mut targets = HashMap::new();
    for request in requests {
        out.push(publish_one(&mut tx, request, now, lease_until, &mut targets).await?);
    }
    tx.commit().await?;
    Ok(out)
}

async fn publish_one(
    conn: &mut sqlx::SqliteConnection,
    r: &PublishRequest,
    now: i64,
    lease_until: Option<i64>,
    targets: &mut HashMap<String, Arc<HookTarget>>,
) -> Result<Published, StorageError> {
    if let Some(key) = &r.idempotency_key {
        sqlx::query("DELETE FROM idempotency_keys WHERE account_id = ? AND key = ? AND created_at <= ?")
            .bind(r.account_id.as_str())
            .bind(key)
            .bind(now - IDEMPOTENCY_WINDOW_MS)
            .execute(&mut *conn)
            .await?;
        let seen: Option<(String,)> =
            sqlx::query_as("SELECT response FROM idempotency_keys WHERE account_id = ? AND key = ?")
                .bind(r.account_id.as_str())
                .bind(key)
                .fetch_optional(&mut *conn)
                .await?;
        if let Some((response,)) = seen {
            return Ok(Published::Replayed(response));
        }
    }
    sqlx::query("INSERT INTO events (id, account_id, hook_type, shop, payload, created_at) VALUES (?, ?, ?, ?, ?, ?)")
        .bind(r.id.as_str())
        .bind(r.account_id.as_str())
        .bind(&r.hook_type)
        .bind(&r.shop)
        .bind(&r.payload)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    let created: Vec<(String, String)> = match &r.only_hook {
        None => sqlx::query_as(
            "INSERT INTO deliveries (id, event_id, hook_id, account_id, status, attempt_count, next_attempt_at,
                                     lease_until, created_at, updated_at)
             SELECT lower(hex(randomblob(12))), ?1, h.id, h.account_id, 'pending', 0, ?2, ?7, ?2, ?2 FROM hooks h
             WHERE h.account_id = ?3 AND h.is_active = 1
               AND (h.hook_type = ?4 OR (h.hook_type IS NULL AND h.vertical = ?5))
               AND (?6 IS NULL OR h.shop IS NULL OR h.shop = ?6)
             RETURNING id, hook_id",
        )
        .bind(r.id.as_str())
        .bind(now)
        .bind(r.account_id.as_str())
        .bind(&r.hook_type)
        .bind(r.vertical.as_str())
        .bind(&r.shop)
        .bind(lease_until),
        Some(hook_id) => sqlx::query_as(
            "INSERT INTO deliveries (id, event_id, hook_id, account_id, status, attempt_count, next_attempt_at,
                                     lease_until, created_at, updated_at)
             SELECT lower(hex(randomblob(12))), ?1, h.id, h.account_id, 'pending', 0, ?2, ?5, ?2, ?2 FROM hooks h
             WHERE h.account_id = ?3 AND h.id = ?4
             RETURNING id, hook_id",
        )
        .bind(r.id.as_str())
        .bind(now)
        .bind(r.account_id.as_str())
        .bind(hook_id.as_str())
        .bind(lease_until),
    }
    .fetch_all(&mut *conn)
    .await?;
    let inserted = u64::try_from(created.len()).unwrap_or(u64::MAX);
    let mut leased = Vec::new();
    if lease_until.is_some() {
        leased.reserve(created.len());
        let payload: Arc<str> = Arc::from(r.payload.as_str());
        for (id, hook_id) in created {
            let hook = match targets.get(&hook_id) {
                Some(hook) => hook.clone(),
                None => {
                    let hook: HookTarget =
                        sqlx::query_as(concat!("SELECT ", hook_target_columns!(), " FROM hooks h WHERE h.id = ?"))
                            .bind(&hook_id)
                            .fetch_one(&mut *conn)
                            .await?;
                    let hook = Arc::new(hook);
                    targets.insert(hook_id, hook.clone());
                    hook
                }
            };
            leased.push(ClaimedDelivery {
                id,
                event_id: r.id.to_string(),
                attempt_count: 0,
                payload: payload.clone(),
                hook,
            });
        }
    }
    if let Some(key) = &r.idempotency_key {
        sqlx::query("INSERT INTO idempotency_keys (account_id, key, response, created_at) VALUES (?, ?, ?, ?)")
            .bind(r.account_id.as_str())
            .bind(key)
            .bind((r.answer)(&r.id, inserted))
            .bind(now)
            .execute(&mut *conn)
            .await?;
    }
    Ok(Published::New { deliveries: inserted, leased })
}
