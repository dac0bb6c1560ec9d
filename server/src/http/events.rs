//! Publishing: `POST /api/v1/events` and `POST /api/v1/hook/{id}/test`. The
//! event and its deliveries are committed before the 202.

use super::auth::Authenticated;
use super::error::{ApiError, ErrorBody, FieldError};
use super::extract::{IdPath, JsonBody};
use super::state::AppState;
use app::domain::event_input::parse_event;
use app::domain::{EventId, ResourceId, Vertical};
use app::storage::events::{PublishRequest, Published};
use app::storage::hooks;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventAccepted {
    /// The event id; also the `webhook-id` header of every delivery.
    pub id: String,
    /// How many deliveries were queued.
    pub deliveries: u64,
}

/// Request body of `POST /api/v1/events`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct EventInput {
    /// A hook type from the catalogue (`dbs`, `eventsinfo`, …).
    #[schema(rename = "hookType", example = "dbs")]
    hook_type: String,
    /// Only hooks of this shop (hooks without a shop receive every shop's events).
    #[schema(rename = "_shop")]
    shop: Option<String>,
    /// The event's data, delivered as is.
    data: serde_json::Value,
    /// Admin keys only: publish for this account.
    #[schema(rename = "_user")]
    user: Option<String>,
}

/// The exact JSON body every delivery of the event sends.
#[derive(Serialize)]
struct Payload<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    timestamp: String,
    #[serde(rename = "_shop")]
    shop: Option<&'a str>,
    data: &'a serde_json::Value,
}

const IDEMPOTENCY_KEY_MAX: usize = 255;

/// Publish an event to the account's matching active hooks.
#[utoipa::path(post, path = "/api/v1/events", tag = "events", security(("api_key" = [])),
    request_body = EventInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "The same key within 24 h returns the first answer and queues nothing new")),
    responses(
        (status = 202, description = "Stored with its deliveries", body = EventAccepted),
        (status = 403, description = "`_user` needs an admin key", body = ErrorBody),
    ))]
pub async fn publish(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let spec = parse_event(&body, &state.catalogue)?;
    let owner = match spec.on_behalf_of {
        Some(other) if other != account.id && !account.is_admin => {
            return Err(ApiError::Forbidden("only admin keys may publish for another account (`_user`)"));
        }
        Some(other) => other,
        None => account.id.clone(),
    };
    Ok(store(&state, &owner, &spec.hook_type, spec.vertical, spec.shop.as_deref(), &spec.data, None, key)
        .await?
        .into_response())
}

/// Send a test event to one hook (whatever its state).
#[utoipa::path(post, path = "/api/v1/hook/{id}/test", tag = "events", security(("api_key" = [])),
    params(("id" = String, Path, description = "Hook id")),
    responses(
        (status = 202, description = "Queued", body = EventAccepted),
    ))]
pub async fn test(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    IdPath(id): IdPath,
) -> Result<Response, ApiError> {
    let stored = queue_test(&state, &account.id, &id).await?.ok_or(ApiError::NotFound("Hook"))?;
    Ok(stored.into_response())
}

/// Queues a test event for one of the account's hooks (whatever its state);
/// `None` when it has no such hook. Also what the dashboard's "Send test event" calls.
pub async fn queue_test(state: &AppState, owner: &ResourceId, id: &ResourceId) -> Result<Option<Stored>, ApiError> {
    let Some(hook) = hooks::get(&state.db, owner, None, id).await? else { return Ok(None) };
    let hook_type = hook
        .hook_type
        .clone()
        .or_else(|| state.catalogue.hook_types(hook.vertical).first().cloned())
        .unwrap_or_else(|| "test".to_owned());
    let data = serde_json::json!({ "test": true, "message": "This is a test event from Hookrelay." });
    store(state, owner, &hook_type, hook.vertical, hook.shop.as_deref(), &data, Some(id.clone()), None).await.map(Some)
}

/// A stored event (or the first answer to its idempotency key).
pub enum Stored {
    New(EventAccepted),
    Replayed(serde_json::Value),
}

impl IntoResponse for Stored {
    fn into_response(self) -> Response {
        match self {
            Stored::New(accepted) => (StatusCode::ACCEPTED, Json(accepted)).into_response(),
            Stored::Replayed(first) => {
                (StatusCode::ACCEPTED, [("idempotent-replayed", "true")], Json(first)).into_response()
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn store(
    state: &AppState,
    owner: &ResourceId,
    hook_type: &str,
    vertical: Vertical,
    shop: Option<&str>,
    data: &serde_json::Value,
    only_hook: Option<ResourceId>,
    idempotency_key: Option<String>,
) -> Result<Stored, ApiError> {
    let id: EventId = app::security::random::new_id().map_err(ApiError::internal)?.into();
    let payload = serde_json::to_string(&Payload {
        id: id.as_str(),
        kind: hook_type,
        timestamp: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        shop,
        data,
    })
    .map_err(ApiError::internal)?;
    let request = PublishRequest {
        id: id.clone(),
        account_id: owner.clone(),
        hook_type: hook_type.to_owned(),
        vertical,
        shop: shop.map(str::to_owned),
        payload,
        only_hook,
        idempotency_key,
        answer: remembered_answer,
    };
    match state.ingest.submit(request).await.map_err(ApiError::internal)? {
        // The dispatcher already has the deliveries (or was woken): see delivery/handoff.rs.
        Published::New { deliveries, .. } => {
            state.metrics.events_accepted.inc();
            state.metrics.deliveries_queued.inc_by(deliveries);
            tracing::debug!(event = %id, deliveries, "event accepted");
            Ok(Stored::New(EventAccepted { id: id.to_string(), deliveries }))
        }
        Published::Replayed(first) => Ok(Stored::Replayed(serde_json::from_str(&first).map_err(ApiError::internal)?)),
        Published::UnknownAccount => {
            Err(ApiError::Validation(vec![FieldError::new("_user", "no account has this id")]))
        }
    }
}

/// The 202 body remembered for an idempotency key.
fn remembered_answer(id: &EventId, deliveries: u64) -> String {
    serde_json::to_string(&EventAccepted { id: id.to_string(), deliveries }).unwrap_or_default()
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else { return Ok(None) };
    let bad = || {
        ApiError::Validation(vec![FieldError::new(
            "Idempotency-Key",
            format!("must be 1 to {IDEMPOTENCY_KEY_MAX} printable ASCII characters"),
        )])
    };
    let text = value.to_str().map_err(|_| bad())?.trim();
    if text.is_empty() || text.len() > IDEMPOTENCY_KEY_MAX || !text.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
        return Err(bad());
    }
    Ok(Some(text.to_owned()))
}
