//! What the server functions exchange with the browser.

use crate::domain::hook_form::HookForm;
use crate::domain::{DeliveryId, DeliveryStatus, EventId, FieldError};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    pub email: String,
    pub vertical: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HourCount {
    /// Start of the hour, unix ms.
    pub start: i64,
    pub succeeded: u64,
    pub failed: u64,
    pub pending: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverviewData {
    pub hooks_active: u64,
    pub hooks_inactive: u64,
    pub succeeded_24h: u64,
    pub failed_24h: u64,
    pub pending_24h: u64,
    pub hours: Vec<HourCount>,
}

impl OverviewData {
    /// Succeeded out of finished deliveries, in percent; `None` before any finished.
    pub fn success_rate(&self) -> Option<f64> {
        let finished = self.succeeded_24h + self.failed_24h;
        (finished > 0).then(|| self.succeeded_24h as f64 * 100.0 / finished as f64)
    }
}

/// The hooks list's filters and page, as in the page's query string.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookQuery {
    pub page: u32,
    pub search: String,
    pub hook_type: String,
    pub shop: String,
    /// "", "true" or "false".
    pub active: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookSummary {
    pub id: String,
    pub endpoint: String,
    pub hook_type: Option<String>,
    pub auth_type: String,
    pub shop: Option<String>,
    pub is_active: bool,
    pub disabled_reason: Option<String>,
    /// Status of the newest delivery, if any.
    pub last_status: Option<DeliveryStatus>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookPage {
    pub hooks: Vec<HookSummary>,
    pub total: u64,
    pub page: u32,
    pub total_pages: u64,
    /// The hook types offered to the account (for the filter).
    pub hook_types: Vec<String>,
}

/// A hook as the detail and edit pages show it (secrets only as "set").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookDetail {
    pub id: String,
    pub vertical: String,
    /// The form's content; stored secrets read as the mask.
    pub form: HookForm,
    pub has_password: bool,
    pub has_token: bool,
    pub token_generated: bool,
    pub disabled_reason: Option<String>,
    /// Headers, secret header names (never their values), timeout.
    pub delivery: crate::domain::delivery_options::StoredDelivery,
    pub created_at: i64,
}

/// What the create/edit form needs from the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormSetup {
    pub vertical: String,
    pub hook_types: Vec<String>,
    /// Present when editing.
    pub hook: Option<HookDetail>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SaveOutcome {
    Saved {
        id: String,
        /// The token Hookrelay made for an EventsShop Basic Auth hook (shown once).
        generated_token: Option<String>,
    },
    /// The server's validation failed: every field error.
    Invalid(Vec<FieldError>),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptView {
    pub at: i64,
    pub duration_ms: i64,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub response: Option<String>,
}

#[cfg(feature = "ssr")]
impl From<crate::storage::deliveries::AttemptRow> for AttemptView {
    fn from(a: crate::storage::deliveries::AttemptRow) -> Self {
        AttemptView {
            at: a.attempted_at,
            duration_ms: a.duration_ms,
            status_code: a.status_code,
            error: a.error,
            response: a.response_body,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryView {
    pub id: DeliveryId,
    pub event_id: EventId,
    pub status: DeliveryStatus,
    pub created_at: i64,
    pub next_attempt_at: i64,
    pub attempts: Vec<AttemptView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryPage {
    pub deliveries: Vec<DeliveryView>,
    pub total: u64,
    pub page: u32,
    pub total_pages: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyView {
    pub id: String,
    pub prefix: String,
    pub name: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// The event log's filters and page, as in the page's query string.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventQuery {
    pub page: u32,
    pub hook_type: String,
    pub shop: String,
    /// A time the browser's date-time input gave (UTC), or RFC 3339; "" for none.
    pub since: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventSummaryView {
    pub id: EventId,
    pub hook_type: String,
    pub shop: Option<String>,
    pub created_at: i64,
    pub deliveries: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventPage {
    pub events: Vec<EventSummaryView>,
    pub total: u64,
    pub page: u32,
    pub total_pages: u64,
    /// Every hook type there is (for the filter).
    pub hook_types: Vec<String>,
}

/// One delivery of an event: to which hook, how it stands, every attempt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventDeliveryItem {
    pub id: DeliveryId,
    pub hook_id: String,
    pub status: DeliveryStatus,
    pub attempts: Vec<AttemptView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventDetailView {
    pub id: EventId,
    pub hook_type: String,
    pub shop: Option<String>,
    pub created_at: i64,
    /// The event's `data`, pretty-printed JSON.
    pub data: String,
    pub deliveries: Vec<EventDeliveryItem>,
}
