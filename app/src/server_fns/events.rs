//! The event log from the dashboard: a page of the account's events with
//! filters, and one event with its data and every delivery's attempts (the
//! same storage as `GET /api/v1/events…`).

use super::error::DashboardError;
use super::types::{EventDetailView, EventPage, EventQuery};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// Page size of the event log.
pub const EVENTS_PAGE_SIZE: u32 = 20;

#[server(name = ListEventsFn, prefix = "/_rpc", endpoint = "list_events", input = Json)]
pub async fn list_events(query: EventQuery) -> Result<EventPage, DashboardError> {
    use super::context::{internal, invalid, require_account};
    use super::types::EventSummaryView;
    use crate::domain::time_window::parse_instant;
    use crate::storage::event_log::{self, EventFilter};
    let (services, account) = require_account().await?;
    let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let since_ms = match text(&query.since) {
        None => None,
        Some(since) => Some(parse_instant("since", &since).map_err(|e| invalid(format!("Since {}", e.message)))?),
    };
    let filter = EventFilter { hook_type: text(&query.hook_type), shop: text(&query.shop), since_ms };
    let page = query.page.max(1);
    let (found, total) =
        event_log::list(&services.db, &account.id, &filter, page, EVENTS_PAGE_SIZE).await.map_err(internal)?;
    Ok(EventPage {
        events: found
            .into_iter()
            .map(|e| EventSummaryView {
                id: e.id,
                hook_type: e.hook_type,
                shop: e.shop,
                created_at: e.created_at,
                deliveries: e.deliveries,
            })
            .collect(),
        total,
        page,
        total_pages: total.div_ceil(u64::from(EVENTS_PAGE_SIZE)),
        hook_types: services.catalogue.all_hook_types().into_iter().map(str::to_owned).collect(),
    })
}

#[server(name = EventDetailFn, prefix = "/_rpc", endpoint = "event_detail")]
pub async fn event_detail(id: String) -> Result<EventDetailView, DashboardError> {
    use super::context::{internal, not_found, parse_id, require_account};
    use super::types::{AttemptView, EventDeliveryItem};
    let (services, account) = require_account().await?;
    let id = parse_id(&id, "Event")?;
    let event = crate::storage::event_log::get(&services.db, &account.id, &id)
        .await
        .map_err(internal)?
        .ok_or_else(|| not_found("Event"))?;
    let payload: serde_json::Value = serde_json::from_str(&event.payload).map_err(internal)?;
    let data = serde_json::to_string_pretty(&payload["data"]).map_err(internal)?;
    let deliveries = event
        .deliveries
        .into_iter()
        .map(|(d, attempts)| EventDeliveryItem {
            id: d.id,
            hook_id: d.hook_id,
            status: d.status,
            attempts: attempts.into_iter().map(AttemptView::from).collect(),
        })
        .collect();
    Ok(EventDetailView {
        id: event.id,
        hook_type: event.hook_type,
        shop: event.shop,
        created_at: event.created_at,
        data,
        deliveries,
    })
}
