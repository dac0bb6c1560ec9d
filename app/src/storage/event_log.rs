//! The event log: an account's published events, newest first, filtered by
//! type, shop and age; and one event with its payload, its deliveries and
//! every attempt of each.

use super::backend::on_pool;
use super::delivery_log::{AttemptRow, attempts_of};
use super::row::row;
use super::{Db, StorageError};
use crate::domain::{DeliveryId, DeliveryStatus, EventId, ResourceId};

/// Which events a page of the log holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventFilter {
    pub hook_type: Option<String>,
    pub shop: Option<String>,
    /// Published at or after (unix ms).
    pub since_ms: Option<i64>,
}

row! {
    /// One event as the list shows it.
    #[derive(Clone, Debug)]
    pub struct EventSummary {
        pub id: EventId,
        pub hook_type: String,
        pub shop: Option<String>,
        pub created_at: i64,
        /// How many deliveries it was queued for.
        pub deliveries: i64,
    }
}

/// One event with what each matching hook made of it.
#[derive(Clone, Debug)]
pub struct EventRecord {
    pub id: EventId,
    pub hook_type: String,
    pub shop: Option<String>,
    pub created_at: i64,
    /// The exact JSON body its deliveries send.
    pub payload: String,
    pub deliveries: Vec<(EventDelivery, Vec<AttemptRow>)>,
}

row! {
    #[derive(Clone, Debug)]
    pub struct EventDelivery {
        pub id: DeliveryId,
        pub hook_id: String,
        pub status: DeliveryStatus,
        pub next_attempt_at: i64,
        pub created_at: i64,
    }
}

row! {
    struct EventRow {
        id: EventId,
        hook_type: String,
        shop: Option<String>,
        created_at: i64,
        payload: String,
    }
}

const FILTERS: &str = "account_id = $1 AND ($2 IS NULL OR hook_type = $2) AND ($3 IS NULL OR shop = $3)
                       AND ($4 IS NULL OR created_at >= $4)";

/// A page of the account's events (newest first) and how many match.
pub async fn list(
    db: &Db,
    account_id: &ResourceId,
    filter: &EventFilter,
    page: u32,
    size: u32,
) -> Result<(Vec<EventSummary>, u64), StorageError> {
    // PostgreSQL text cannot hold NUL: such a filter matches nothing.
    let texts = [&filter.hook_type, &filter.shop];
    if texts.iter().any(|t| t.as_deref().is_some_and(|t| t.contains('\0'))) {
        return Ok((Vec::new(), 0));
    }
    let count = format!("SELECT count(*) FROM events WHERE {FILTERS}");
    let (total,): (i64,) = on_pool!(&db.pool, p => sqlx::query_as(sqlx::AssertSqlSafe(count.clone()))
        .bind(account_id.as_str())
        .bind(&filter.hook_type)
        .bind(&filter.shop)
        .bind(filter.since_ms)
        .fetch_one(p)
        .await)?;
    let sql = format!(
        "SELECT e.id, e.hook_type, e.shop, e.created_at,
                (SELECT count(*) FROM deliveries d WHERE d.event_id = e.id) AS deliveries
         FROM events e WHERE {FILTERS} ORDER BY created_at DESC, id DESC LIMIT $5 OFFSET $6"
    );
    let events: Vec<EventSummary> = on_pool!(&db.pool, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
        .bind(account_id.as_str())
        .bind(&filter.hook_type)
        .bind(&filter.shop)
        .bind(filter.since_ms)
        .bind(i64::from(size))
        .bind(i64::from(page.saturating_sub(1)) * i64::from(size))
        .fetch_all(p)
        .await)?;
    Ok((events, u64::try_from(total).unwrap_or(0)))
}

/// The account's event with this id, its deliveries (oldest first) and
/// their attempts; `None` when the account has no such event.
pub async fn get(db: &Db, account_id: &ResourceId, id: &ResourceId) -> Result<Option<EventRecord>, StorageError> {
    let row: Option<EventRow> = on_pool!(&db.pool, p => sqlx::query_as(
        "SELECT id, hook_type, shop, created_at, payload FROM events WHERE id = $1 AND account_id = $2",
    )
    .bind(id.as_str())
    .bind(account_id.as_str())
    .fetch_optional(p)
    .await)?;
    let Some(row) = row else { return Ok(None) };
    let deliveries: Vec<EventDelivery> = on_pool!(&db.pool, p => sqlx::query_as(
        "SELECT id, hook_id, status, next_attempt_at, created_at FROM deliveries
         WHERE event_id = $1 AND account_id = $2 ORDER BY created_at, id",
    )
    .bind(id.as_str())
    .bind(account_id.as_str())
    .fetch_all(p)
    .await)?;
    let attempts = attempts_of(db, deliveries.iter().map(|d| &d.id)).await?;
    let deliveries = deliveries
        .into_iter()
        .map(|d| {
            let mine = attempts.iter().filter(|a| a.delivery_id == d.id).cloned().collect();
            (d, mine)
        })
        .collect();
    Ok(Some(EventRecord {
        id: row.id,
        hook_type: row.hook_type,
        shop: row.shop,
        created_at: row.created_at,
        payload: row.payload,
        deliveries,
    }))
}
