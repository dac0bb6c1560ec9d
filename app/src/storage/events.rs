//! Publishing: the event and one delivery per matching hook, written in one
//! transaction (the outbox) before the API answers.

use super::{Db, StorageError, now_ms};
use crate::domain::{ResourceId, Vertical};

/// An event ready to store; `payload` is the exact JSON every delivery sends.
pub struct NewEvent<'a> {
    pub id: &'a ResourceId,
    pub account_id: &'a ResourceId,
    pub hook_type: &'a str,
    /// The vertical offering `hook_type` (whole-catalogue hooks match through it).
    pub vertical: Vertical,
    pub shop: Option<&'a str>,
    pub payload: &'a str,
}

/// Who receives it.
pub enum Audience<'a> {
    /// Every active hook of the account with the event's type (and shop, if named).
    Subscribers,
    /// One hook of the account, whatever its state (test events).
    OneHook(&'a ResourceId),
}

pub enum Published {
    /// Stored now: the event id and how many deliveries were queued.
    New { deliveries: u64 },
    /// The idempotency key was used in the last 24 h: the first answer, verbatim.
    Replayed(String),
}

pub const IDEMPOTENCY_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

/// Stores the event and its deliveries atomically. With an idempotency key
/// seen in the last 24 h nothing is stored and the first answer is returned.
/// `answer` builds the JSON answer to remember for the key.
pub async fn publish(
    db: &Db,
    event: &NewEvent<'_>,
    audience: Audience<'_>,
    idempotency_key: Option<&str>,
    answer: impl FnOnce(u64) -> String,
) -> Result<Published, StorageError> {
    let now = now_ms();
    // IMMEDIATE: take the write lock up front (no read→write upgrade deadlocks).
    let mut tx = db.begin_with("BEGIN IMMEDIATE").await?;
    if let Some(key) = idempotency_key {
        sqlx::query("DELETE FROM idempotency_keys WHERE account_id = ? AND key = ? AND created_at <= ?")
            .bind(event.account_id.as_str())
            .bind(key)
            .bind(now - IDEMPOTENCY_WINDOW_MS)
            .execute(&mut *tx)
            .await?;
        let seen: Option<(String,)> =
            sqlx::query_as("SELECT response FROM idempotency_keys WHERE account_id = ? AND key = ?")
                .bind(event.account_id.as_str())
                .bind(key)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some((response,)) = seen {
            tx.commit().await?;
            return Ok(Published::Replayed(response));
        }
    }
    sqlx::query("INSERT INTO events (id, account_id, hook_type, shop, payload, created_at) VALUES (?, ?, ?, ?, ?, ?)")
        .bind(event.id.as_str())
        .bind(event.account_id.as_str())
        .bind(event.hook_type)
        .bind(event.shop)
        .bind(event.payload)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    let inserted = match audience {
        Audience::Subscribers => sqlx::query(
            "INSERT INTO deliveries (id, event_id, hook_id, account_id, status, attempt_count, next_attempt_at, created_at, updated_at)
             SELECT lower(hex(randomblob(12))), ?1, h.id, h.account_id, 'pending', 0, ?2, ?2, ?2 FROM hooks h
             WHERE h.account_id = ?3 AND h.is_active = 1
               AND (h.hook_type = ?4 OR (h.hook_type IS NULL AND h.vertical = ?5))
               AND (?6 IS NULL OR h.shop IS NULL OR h.shop = ?6)",
        )
        .bind(event.id.as_str())
        .bind(now)
        .bind(event.account_id.as_str())
        .bind(event.hook_type)
        .bind(event.vertical.as_str())
        .bind(event.shop),
        Audience::OneHook(hook_id) => sqlx::query(
            "INSERT INTO deliveries (id, event_id, hook_id, account_id, status, attempt_count, next_attempt_at, created_at, updated_at)
             SELECT lower(hex(randomblob(12))), ?1, h.id, h.account_id, 'pending', 0, ?2, ?2, ?2 FROM hooks h
             WHERE h.account_id = ?3 AND h.id = ?4",
        )
        .bind(event.id.as_str())
        .bind(now)
        .bind(event.account_id.as_str())
        .bind(hook_id.as_str()),
    }
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if let Some(key) = idempotency_key {
        sqlx::query("INSERT INTO idempotency_keys (account_id, key, response, created_at) VALUES (?, ?, ?, ?)")
            .bind(event.account_id.as_str())
            .bind(key)
            .bind(answer(inserted))
            .bind(now)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(Published::New { deliveries: inserted })
}
