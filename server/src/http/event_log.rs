//! The event log: `GET /api/v1/events` (a page of the account's events,
//! filtered) and `GET /api/v1/events/{id}` (one event, its payload's data,
//! and every delivery with its attempts).

use super::auth::Authenticated;
use super::deliveries::AttemptView;
use super::error::{ApiError, FieldError};
use super::extract::{IdPath, QueryPairs};
use super::hooks::list_query::{DEFAULT_PAGE_SIZE, paging_param, total_pages};
use super::hooks::representation::rfc3339;
use super::state::AppState;
use app::domain::time_window::parse_instant;
use app::domain::{Catalogue, EventId, Unknown, UnknownTally};
use app::storage::event_log::{self, EventFilter, EventRecord, EventSummary};
use axum::Json;
use axum::extract::State;
use serde::Serialize;

const QUERY_PARAMS: &[&str] = &["page", "size", "hookType", "_shop", "since"];

/// What every view of an event shows.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventHead {
    pub id: String,
    #[serde(rename = "hookType")]
    pub hook_type: String,
    #[serde(rename = "_shop")]
    pub shop: Option<String>,
    /// When it was published (RFC 3339).
    #[serde(rename = "createdAt")]
    pub created_at: String,
}

impl EventHead {
    fn new(id: EventId, hook_type: String, shop: Option<String>, created_at: i64) -> Self {
        Self { id: id.into(), hook_type, shop, created_at: rfc3339(created_at) }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventListItem {
    #[serde(flatten)]
    pub head: EventHead,
    /// How many deliveries it was queued for.
    pub deliveries: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventListBody {
    pub error: bool,
    pub events: Vec<EventListItem>,
    pub total_data: u64,
    pub total_pages: u64,
    pub page: u32,
    pub size: u32,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventDeliveryView {
    pub id: String,
    pub hook_id: String,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    pub created_at: String,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: Option<String>,
    pub attempts: Vec<AttemptView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventView {
    #[serde(flatten)]
    pub head: EventHead,
    /// The `data` the event was published with.
    pub data: serde_json::Value,
    pub deliveries: Vec<EventDeliveryView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventBody {
    pub error: bool,
    pub event: EventView,
}

/// The account's events, newest first.
#[utoipa::path(get, path = "/api/v1/events", tag = "events", security(("api_key" = [])),
    params(
        ("page" = Option<u32>, Query, description = "Page number, from 1 (default 1)"),
        ("size" = Option<u32>, Query, description = "Page size, 1 to 100 (default 10)"),
        ("hookType" = Option<String>, Query, description = "Only events of this type"),
        ("_shop" = Option<String>, Query, description = "Only events published for this shop"),
        ("since" = Option<String>, Query, description = "Only events published at or after this time (RFC 3339)"),
    ),
    responses(
        (status = 200, description = "A page of events", body = EventListBody),
    ))]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    QueryPairs(pairs): QueryPairs,
) -> Result<Json<EventListBody>, ApiError> {
    let (page, size, filter) = parse_query(&pairs, &state.catalogue)?;
    let (events, total) = event_log::list(&state.db, &account.id, &filter, page, size).await?;
    Ok(Json(EventListBody {
        error: false,
        events: events.into_iter().map(list_item).collect(),
        total_data: total,
        total_pages: total_pages(total, size),
        page,
        size,
    }))
}

/// One event: its data and what each matching hook made of it.
#[utoipa::path(get, path = "/api/v1/events/{id}", tag = "events", security(("api_key" = [])),
    params(("id" = String, Path, description = "Event id (24 hex): the `webhook-id` of its deliveries")),
    responses(
        (status = 200, description = "The event", body = EventBody),
    ))]
pub async fn get(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    IdPath(id): IdPath,
) -> Result<Json<EventBody>, ApiError> {
    let event = event_log::get(&state.db, &account.id, &id).await?.ok_or(ApiError::NotFound("Event"))?;
    Ok(Json(EventBody { error: false, event: event_view(event)? }))
}

fn list_item(e: EventSummary) -> EventListItem {
    EventListItem { head: EventHead::new(e.id, e.hook_type, e.shop, e.created_at), deliveries: e.deliveries }
}

fn event_view(e: EventRecord) -> Result<EventView, ApiError> {
    let mut payload: serde_json::Value = serde_json::from_str(&e.payload).map_err(ApiError::internal)?;
    let data = payload.get_mut("data").map(serde_json::Value::take).unwrap_or_default();
    let deliveries = e
        .deliveries
        .into_iter()
        .map(|(d, attempts)| EventDeliveryView {
            next_attempt_at: (d.status == app::domain::DeliveryStatus::Pending).then(|| rfc3339(d.next_attempt_at)),
            id: d.id.into(),
            hook_id: d.hook_id,
            status: d.status.to_string(),
            created_at: rfc3339(d.created_at),
            attempts: attempts.into_iter().map(AttemptView::from).collect(),
        })
        .collect();
    Ok(EventView { head: EventHead::new(e.id, e.hook_type, e.shop, e.created_at), data, deliveries })
}

/// `page`, `size`, `hookType` (from the catalogue), `_shop`, `since`; every
/// bad or unknown parameter reported at once.
fn parse_query(pairs: &[(String, String)], catalogue: &Catalogue) -> Result<(u32, u32, EventFilter), ApiError> {
    let (mut page, mut size, mut filter, mut errors) = (1, DEFAULT_PAGE_SIZE, EventFilter::default(), Vec::new());
    let mut unknown = UnknownTally::new(QUERY_PARAMS, Unknown::QueryParameter);
    for (name, value) in pairs {
        let value = value.trim();
        match name.as_str() {
            "page" | "size" => paging_param(name, value, &mut page, &mut size, &mut errors),
            "hookType" => {
                if catalogue.vertical_of(value).is_some() {
                    filter.hook_type = Some(value.to_owned());
                } else {
                    let all = catalogue.all_hook_types().join(", ");
                    errors.push(FieldError::new("hookType", format!("must be one of: {all}")));
                }
            }
            "_shop" => {
                if value.is_empty() || value.len() > 128 {
                    errors.push(FieldError::new("_shop", "must be 1 to 128 characters"));
                } else {
                    filter.shop = Some(value.to_owned());
                }
            }
            "since" => match parse_instant("since", value) {
                Ok(ms) => filter.since_ms = Some(ms),
                Err(e) => errors.push(e),
            },
            other => errors.extend(unknown.note(other)),
        }
    }
    errors.extend(unknown.rest());
    if errors.is_empty() { Ok((page, size, filter)) } else { Err(ApiError::Validation(errors)) }
}
