//! Figures for the dashboard: hook counts, recent delivery outcomes, the
//! last delivery status of each hook.

use super::backend::on_pool;
use super::{Db, StorageError, json_rows, now_ms};
use crate::domain::{DeliveryStatus, ResourceId};
use std::collections::HashMap;

const HOUR_MS: i64 = 3_600_000;

/// One hour of deliveries (by the time they were created).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HourBucket {
    /// Start of the hour, unix ms.
    pub start: i64,
    pub succeeded: u64,
    pub failed: u64,
    pub pending: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountStats {
    pub hooks_active: u64,
    pub hooks_inactive: u64,
    pub succeeded_24h: u64,
    pub failed_24h: u64,
    pub pending_24h: u64,
    /// The last 24 hours, oldest first, ending with the current hour.
    pub hours: Vec<HourBucket>,
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

pub async fn for_account(db: &Db, account_id: &ResourceId) -> Result<AccountStats, StorageError> {
    let (active, inactive): (i64, i64) = on_pool!(&db.pool, p => sqlx::query_as(
        "SELECT count(*) FILTER (WHERE is_active), count(*) FILTER (WHERE NOT is_active)
         FROM hooks WHERE account_id = $1",
    )
    .bind(account_id.as_str())
    .fetch_one(p)
    .await)?;
    let now = now_ms();
    let first_hour = (now / HOUR_MS - 23) * HOUR_MS;
    let rows: Vec<(i64, DeliveryStatus, i64)> = on_pool!(&db.pool, p => sqlx::query_as(
        "SELECT created_at / $1 * $1 AS hour, status, count(*) FROM deliveries
         WHERE account_id = $2 AND created_at >= $3 GROUP BY hour, status",
    )
    .bind(HOUR_MS)
    .bind(account_id.as_str())
    .bind(first_hour)
    .fetch_all(p)
    .await)?;
    let mut hours: Vec<HourBucket> =
        (0..24).map(|i| HourBucket { start: first_hour + i * HOUR_MS, ..HourBucket::default() }).collect();
    let mut stats = AccountStats { hooks_active: count(active), hooks_inactive: count(inactive), ..Default::default() };
    for (hour, status, n) in rows {
        let Some(bucket) = usize::try_from((hour - first_hour) / HOUR_MS).ok().and_then(|i| hours.get_mut(i)) else {
            continue;
        };
        let n = count(n);
        match status {
            DeliveryStatus::Succeeded => {
                bucket.succeeded += n;
                stats.succeeded_24h += n;
            }
            DeliveryStatus::Failed => {
                bucket.failed += n;
                stats.failed_24h += n;
            }
            DeliveryStatus::Pending => {
                bucket.pending += n;
                stats.pending_24h += n;
            }
        }
    }
    stats.hours = hours;
    Ok(stats)
}

/// The status of each listed hook's newest delivery (hooks without one are absent).
pub async fn last_delivery_status(
    db: &Db,
    account_id: &ResourceId,
    hook_ids: &[&str],
) -> Result<HashMap<String, DeliveryStatus>, StorageError> {
    let ids = json_rows(hook_ids)?;
    let sql = db.sql(
        "SELECT * FROM (SELECT j.value AS hook_id,
                               (SELECT d.status FROM deliveries d WHERE d.hook_id = j.value AND d.account_id = $1
                                ORDER BY d.created_at DESC, d.id DESC LIMIT 1) AS status
                        FROM json_each($2) j) AS last WHERE status IS NOT NULL",
        "SELECT * FROM (SELECT j.value AS hook_id,
                               (SELECT d.status FROM deliveries d WHERE d.hook_id = j.value AND d.account_id = $1
                                ORDER BY d.created_at DESC, d.id DESC LIMIT 1) AS status
                        FROM json_array_elements_text($2::json) j) AS last WHERE status IS NOT NULL",
    );
    let rows: Vec<(String, DeliveryStatus)> = on_pool!(&db.pool, p => sqlx::query_as(sql)
        .bind(account_id.as_str())
        .bind(&ids)
        .fetch_all(p)
        .await)?;
    Ok(rows.into_iter().collect())
}
