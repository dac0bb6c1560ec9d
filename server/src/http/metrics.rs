use super::AppState;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Prometheus metrics: events accepted, deliveries queued, attempts by outcome,
/// attempt latency, queue depth, oldest pending age.
#[utoipa::path(get, path = "/metrics", tag = "service",
    responses((status = 200, description = "Prometheus / OpenMetrics text", content_type = "application/openmetrics-text")))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    match app::storage::deliveries::queue_stats(&state.db).await {
        Ok((depth, oldest_ms)) => {
            state.metrics.queue_depth.set(depth);
            let age = oldest_ms.map(|t| (app::storage::now_ms() - t).max(0) as f64 / 1000.0).unwrap_or(0.0);
            state.metrics.oldest_pending_seconds.set(age);
        }
        Err(e) => tracing::error!(error = %e, "metrics: reading the queue failed"),
    }
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")],
        state.metrics.render(),
    )
        .into_response()
}
