//! The overview page's figures.

use super::error::DashboardError;
use super::types::OverviewData;
use leptos::prelude::*;

#[server(name = OverviewFn, prefix = "/_rpc", endpoint = "overview")]
pub async fn overview() -> Result<OverviewData, DashboardError> {
    use super::context::{internal, require_account};
    use super::types::HourCount;
    let (services, account) = require_account().await?;
    let stats = crate::storage::stats::for_account(&services.db, &account.id).await.map_err(internal)?;
    Ok(OverviewData {
        hooks_active: stats.hooks_active,
        hooks_inactive: stats.hooks_inactive,
        succeeded_24h: stats.succeeded_24h,
        failed_24h: stats.failed_24h,
        pending_24h: stats.pending_24h,
        hours: stats
            .hours
            .into_iter()
            .map(|h| HourCount { start: h.start, succeeded: h.succeeded, failed: h.failed, pending: h.pending })
            .collect(),
    })
}
