use super::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok`; `unavailable` when the database does not answer; `stalled` when
    /// the dispatcher has made no progress for longer than a delivery lease.
    status: &'static str,
}

/// `GET /healthz`: 200 while the database answers and the dispatcher makes
/// progress, 503 otherwise (for a load balancer or supervisor to act on).
#[utoipa::path(get, path = "/healthz", tag = "service",
    responses(
        (status = 200, description = "The service, its database and its dispatcher work", body = Health),
        (status = 503, description = "The database does not answer, or the dispatcher is stalled", body = Health),
    ))]
pub async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    if let Err(e) = app::storage::ping(&state.db).await {
        tracing::error!(error = %e, "health check: database unreachable");
        return (StatusCode::SERVICE_UNAVAILABLE, Json(Health { status: "unavailable" }));
    }
    let silent_ms = state.heartbeat.silent_for_ms();
    if silent_ms > state.lease_ms {
        tracing::error!(silent_ms, "health check: the dispatcher has made no progress for longer than a lease");
        return (StatusCode::SERVICE_UNAVAILABLE, Json(Health { status: "stalled" }));
    }
    (StatusCode::OK, Json(Health { status: "ok" }))
}
