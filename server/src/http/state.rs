use super::rate_limit::RateLimiter;
use app::domain::Catalogue;
use app::security::SecretBox;
use app::storage::Db;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

/// What every handler can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub db: Db,
    pub leptos_options: LeptosOptions,
    pub secrets: SecretBox,
    pub catalogue: Arc<Catalogue>,
    pub rate_limiter: RateLimiter,
    #[from_ref(skip)]
    pub max_body_bytes: usize,
    /// Wakes the dispatcher when something is queued.
    pub wake: crate::delivery::Wake,
    /// Attempts a delivery gets (the retry schedule's length).
    #[from_ref(skip)]
    pub attempts_in_schedule: usize,
    pub metrics: crate::metrics::Metrics,
    /// The group-commit writer for published events.
    pub ingest: crate::ingest::Ingest,
    /// When the dispatcher last made progress (`/healthz`).
    pub heartbeat: crate::delivery::Heartbeat,
    /// A delivery lease (ms): a dispatcher silent for longer is stalled.
    #[from_ref(skip)]
    pub lease_ms: i64,
}
