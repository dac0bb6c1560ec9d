//! An ordered hook's blocked head ("Blocked by <delivery>") and skipping a
//! delivery so the hook's later ones go ahead. "Retry now" is
//! `retry_delivery`, which makes a waiting delivery due at once.

use super::DashboardError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The delivery holding back an ordered hook.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockedHeadView {
    pub delivery_id: String,
    pub event_id: String,
    pub attempts: i64,
    /// When the next attempt is due (unix ms).
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    /// Pending deliveries waiting behind it.
    pub waiting: i64,
}

/// The hook's blocked head, if it is ordered and its first pending delivery has failed.
#[server(name = BlockedHeadFn, prefix = "/_rpc", endpoint = "blocked_head")]
pub async fn blocked_head(id: String) -> Result<Option<BlockedHeadView>, DashboardError> {
    use super::context::{internal, parse_id, require_account};
    let (services, account) = require_account().await?;
    let id = parse_id(&id, "Hook")?;
    let head = crate::storage::ordered::blocked_head(&services.db, &account.id, &id).await.map_err(internal)?;
    Ok(head.map(|h| BlockedHeadView {
        delivery_id: h.delivery_id.to_string(),
        event_id: h.event_id,
        attempts: h.attempt_count,
        next_attempt_at: h.next_attempt_at,
        last_error: h.last_error,
        waiting: h.waiting,
    }))
}

/// Marks a pending delivery failed, so the hook's later deliveries go ahead.
#[server(name = SkipDeliveryFn, prefix = "/_rpc", endpoint = "skip_delivery")]
pub async fn skip_delivery(id: String) -> Result<(), DashboardError> {
    use super::context::{internal, not_found, require_account};
    use crate::storage::ordered::{SkipResult, skip};
    let (services, account) = require_account().await?;
    let Ok(id) = crate::domain::DeliveryId::parse(&id) else { return Err(not_found("Delivery")) };
    match skip(&services.db, &account.id, &id).await.map_err(internal)? {
        SkipResult::Skipped { hook_id } => {
            (services.wake)();
            tracing::info!(delivery = %id, hook = %hook_id, "delivery skipped from the dashboard");
            Ok(())
        }
        SkipResult::NotPending => {
            Err(super::error::answered(DashboardError::Conflict("This delivery is no longer pending.".to_owned())))
        }
        SkipResult::InFlight => Err(super::error::answered(DashboardError::Conflict(
            "This delivery is being attempted right now; skip it once the attempt ends.".to_owned(),
        ))),
        SkipResult::NotFound => Err(not_found("Delivery")),
    }
}
