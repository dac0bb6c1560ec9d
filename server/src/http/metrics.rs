//! `GET /metrics`: Prometheus text. Cheap to scrape: the two queue gauges
//! (a count over the pending deliveries) are read at most once per
//! [`QUEUE_STATS_TTL`] however many scrapers ask, and with `--metrics-token`
//! only a bearer of the token may read it.

use super::{ApiError, AppState};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// How long one reading of the queue serves every scrape.
const QUEUE_STATS_TTL: Duration = Duration::from_secs(2);

/// The last queue reading; the lock also makes concurrent scrapes wait for
/// one query instead of each running its own.
#[derive(Clone, Default)]
pub struct QueueStatsCache(Arc<Mutex<Option<Instant>>>);

/// Prometheus metrics: events accepted, deliveries queued, attempts by outcome,
/// attempt latency, queue depth, oldest pending age.
#[utoipa::path(get, path = "/metrics", tag = "service",
    responses(
        (status = 200, description = "Prometheus / OpenMetrics text", content_type = "application/openmetrics-text"),
        (status = 401, description = "`--metrics-token` is set and the request does not bear it", body = super::error::ErrorBody),
    ))]
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if !state.exposure.metrics_allowed(&headers) {
        return ApiError::Unauthorized("send the metrics token as `Authorization: Bearer <token>`").into_response();
    }
    refresh_queue_gauges(&state).await;
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")],
        state.metrics.render(),
    )
        .into_response()
}

async fn refresh_queue_gauges(state: &AppState) {
    let mut read_at = state.queue_stats.0.lock().await;
    if read_at.is_some_and(|at| at.elapsed() < QUEUE_STATS_TTL) {
        return;
    }
    match app::storage::deliveries::queue_stats(&state.db).await {
        Ok((depth, oldest_ms)) => {
            state.metrics.queue_depth.set(depth);
            let age = oldest_ms.map_or(0.0, |t| (app::storage::now_ms() - t).max(0) as f64 / 1000.0);
            state.metrics.oldest_pending_seconds.set(age);
            *read_at = Some(Instant::now());
        }
        Err(e) => tracing::error!(error = %e, "metrics: reading the queue failed"),
    }
}
