//! The delivery log, manual retry, and the hook's signing secret.

use super::auth::Authenticated;
use super::error::{ApiError, ErrorBody};
use super::extract::{DeliveryIdPath, IdPath, JsonBody, QueryPairs};
use super::hooks::list_query::{parse_paging, total_pages};
use super::hooks::representation::rfc3339;
use super::state::AppState;
use app::domain::DeliveryStatus;
use app::domain::time_window::RecoverWindow;
use app::storage::deliveries::{self, AttemptRow, RetryResult};
use app::storage::hooks;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptView {
    /// When the attempt started (RFC 3339).
    pub at: String,
    pub duration_ms: i64,
    /// The endpoint's HTTP status, or null when no answer came.
    pub status_code: Option<i64>,
    pub error: Option<String>,
    /// The first 4 KiB of the answer.
    pub response_body: Option<String>,
}

impl From<AttemptRow> for AttemptView {
    fn from(a: AttemptRow) -> Self {
        AttemptView {
            at: rfc3339(a.attempted_at),
            duration_ms: a.duration_ms,
            status_code: a.status_code,
            error: a.error,
            response_body: a.response_body,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryView {
    pub id: String,
    pub event_id: String,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    pub created_at: String,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: Option<String>,
    pub attempts: Vec<AttemptView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryListBody {
    pub error: bool,
    pub deliveries: Vec<DeliveryView>,
    pub total_data: u64,
    pub total_pages: u64,
    pub page: u32,
    pub size: u32,
}

/// A hook's deliveries, newest first, with every attempt.
#[utoipa::path(get, path = "/api/v1/hook/{id}/deliveries", tag = "deliveries", security(("api_key" = [])),
    params(("id" = String, Path, description = "Hook id"),
           ("page" = Option<u32>, Query, description = "Page, from 1"),
           ("size" = Option<u32>, Query, description = "Page size, 1 to 100")),
    responses(
        (status = 200, description = "A page of deliveries", body = DeliveryListBody),
    ))]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    IdPath(id): IdPath,
    QueryPairs(pairs): QueryPairs,
) -> Result<Json<DeliveryListBody>, ApiError> {
    hooks::get(&state.db, &account.id, None, &id).await?.ok_or(ApiError::NotFound("Hook"))?;
    let (page, size) = parse_paging(&pairs)?;
    let (rows, total) = deliveries::list_for_hook(&state.db, &account.id, &id, page, size).await?;
    let deliveries = rows
        .into_iter()
        .map(|(d, attempts)| DeliveryView {
            next_attempt_at: (d.status == DeliveryStatus::Pending).then(|| rfc3339(d.next_attempt_at)),
            id: d.id.into(),
            event_id: d.event_id.into(),
            status: d.status.to_string(),
            created_at: rfc3339(d.created_at),
            attempts: attempts.into_iter().map(AttemptView::from).collect(),
        })
        .collect();
    Ok(Json(DeliveryListBody {
        error: false,
        deliveries,
        total_data: total,
        total_pages: total_pages(total, size),
        page,
        size,
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RetryQueued {
    pub error: bool,
    pub id: String,
    pub status: String,
}

/// Re-queue a failed (or succeeded) delivery for one more attempt, or make
/// a pending one that waits for its next attempt due now (an ordered hook's
/// blocked head, once its endpoint is fixed).
#[utoipa::path(post, path = "/api/v1/deliveries/{id}/retry", tag = "deliveries", security(("api_key" = [])),
    params(("id" = String, Path, description = "Delivery id")),
    responses(
        (status = 202, description = "Queued", body = RetryQueued),
        (status = 409, description = "An attempt of the delivery is in flight", body = ErrorBody),
    ))]
pub async fn retry(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    DeliveryIdPath(id): DeliveryIdPath,
) -> Result<(StatusCode, Json<RetryQueued>), ApiError> {
    let attempts = i64::try_from(state.attempts_in_schedule).unwrap_or(1);
    match deliveries::retry(&state.db, &account.id, &id, attempts).await? {
        RetryResult::Queued => {
            state.wake.notify();
            let status = DeliveryStatus::Pending.to_string();
            Ok((StatusCode::ACCEPTED, Json(RetryQueued { error: false, id: id.into(), status })))
        }
        RetryResult::InFlight => {
            Err(ApiError::Conflict("an attempt of this delivery is in flight; its outcome is recorded shortly"))
        }
        RetryResult::NotFound => Err(ApiError::NotFound("Delivery")),
    }
}

/// Give up on a pending delivery: it is marked failed (retry it by hand
/// later if you like), and an ordered hook's later deliveries go ahead.
#[utoipa::path(post, path = "/api/v1/deliveries/{id}/skip", tag = "deliveries", security(("api_key" = [])),
    params(("id" = String, Path, description = "Delivery id")),
    responses(
        (status = 200, description = "Skipped: the delivery is failed", body = RetryQueued),
        (status = 409, description = "The delivery is not pending, or an attempt of it is in flight", body = ErrorBody),
    ))]
pub async fn skip(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    DeliveryIdPath(id): DeliveryIdPath,
) -> Result<Json<RetryQueued>, ApiError> {
    use app::storage::ordered::{self, SkipResult};
    match ordered::skip(&state.db, &account.id, &id).await? {
        SkipResult::Skipped { hook_id } => {
            // The hook's next delivery may now be claimed.
            state.wake.notify();
            tracing::info!(delivery = %id, hook = %hook_id, "delivery skipped by hand");
            Ok(Json(RetryQueued { error: false, id: id.into(), status: DeliveryStatus::Failed.to_string() }))
        }
        SkipResult::NotPending => Err(ApiError::Conflict("only a pending delivery can be skipped")),
        SkipResult::InFlight => {
            Err(ApiError::Conflict("an attempt of this delivery is in flight; skip it once its outcome is recorded"))
        }
        SkipResult::NotFound => Err(ApiError::NotFound("Delivery")),
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RecoverQueued {
    pub error: bool,
    /// How many failed deliveries were queued again.
    pub queued: u64,
}

/// Body of `POST /api/v1/hook/{id}/recover`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct RecoverInput {
    /// Re-queue failed deliveries created at or after this time (RFC 3339, at most 14 days back).
    #[schema(example = "2026-12-01T00:00:00Z")]
    since: String,
    /// ... and before this time (RFC 3339; default now).
    until: Option<String>,
}

/// Re-queue the hook's failed deliveries created in a window (at most 14
/// days back) for one more attempt each; each keeps its `webhook-id`.
#[utoipa::path(post, path = "/api/v1/hook/{id}/recover", tag = "deliveries", security(("api_key" = [])),
    params(("id" = String, Path, description = "Hook id")),
    request_body = RecoverInput,
    responses(
        (status = 202, description = "Queued (possibly none)", body = RecoverQueued),
    ))]
pub async fn recover(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    IdPath(id): IdPath,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<RecoverQueued>), ApiError> {
    let window = RecoverWindow::from_json(&body, app::storage::now_ms())?;
    hooks::get(&state.db, &account.id, None, &id).await?.ok_or(ApiError::NotFound("Hook"))?;
    let attempts = i64::try_from(state.attempts_in_schedule).unwrap_or(1);
    let queued = deliveries::recover(&state.db, &account.id, &id, window, attempts).await?;
    if queued > 0 {
        state.wake.notify();
    }
    tracing::info!(hook = %id, queued, "failed deliveries recovered");
    Ok((StatusCode::ACCEPTED, Json(RecoverQueued { error: false, queued })))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SigningSecret {
    /// `whsec_…`: verify the `webhook-signature` header with it.
    pub secret: String,
}

/// The hook's signing secret.
#[utoipa::path(get, path = "/api/v1/hook/{id}/secret", tag = "signing", security(("api_key" = [])),
    params(("id" = String, Path, description = "Hook id")),
    responses(
        (status = 200, description = "The secret", body = SigningSecret),
    ))]
pub async fn secret(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    IdPath(id): IdPath,
) -> Result<Json<SigningSecret>, ApiError> {
    let secret =
        hooks::signing_secret(&state.db, &state.secrets, &account.id, &id).await?.ok_or(ApiError::NotFound("Hook"))?;
    Ok(Json(SigningSecret { secret }))
}

/// Rotate the signing secret; the old one also signs for 24 h.
#[utoipa::path(post, path = "/api/v1/hook/{id}/rotate-secret", tag = "signing", security(("api_key" = [])),
    params(("id" = String, Path, description = "Hook id")),
    responses(
        (status = 200, description = "The new secret", body = SigningSecret),
    ))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    IdPath(id): IdPath,
) -> Result<Json<SigningSecret>, ApiError> {
    const OVERLAP_MS: i64 = 24 * 60 * 60 * 1000;
    let secret = hooks::rotate_signing_secret(&state.db, &state.secrets, &account.id, &id, OVERLAP_MS)
        .await?
        .ok_or(ApiError::NotFound("Hook"))?;
    tracing::info!(hook = %id, "signing secret rotated");
    Ok(Json(SigningSecret { secret }))
}
