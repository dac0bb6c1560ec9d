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
    /// Where the dashboard's files come from (embedded or a directory).
    #[from_ref(skip)]
    pub site: super::site::SiteSource,
    pub secrets: SecretBox,
    pub catalogue: Arc<Catalogue>,
    pub limits: super::limits::Limits,
    pub client_source: super::client::ClientAddressSource,
    /// What the cross-site check, HSTS and `/metrics` need to know.
    #[from_ref(skip)]
    pub exposure: Arc<super::exposure::Exposure>,
    #[from_ref(skip)]
    pub max_body_bytes: usize,
    /// Wakes the dispatcher when something is queued.
    pub wake: crate::delivery::Wake,
    /// Attempts a delivery gets (the retry schedule's length).
    #[from_ref(skip)]
    pub attempts_in_schedule: usize,
    pub metrics: crate::metrics::Metrics,
    /// When `/metrics` last read the queue.
    #[from_ref(skip)]
    pub queue_stats: super::metrics::QueueStatsCache,
    /// The group-commit writer for published events.
    pub ingest: crate::ingest::Ingest,
    /// When the dispatcher last made progress (`/healthz`).
    pub heartbeat: crate::delivery::Heartbeat,
    /// A delivery lease (ms): a dispatcher silent for longer is stalled.
    #[from_ref(skip)]
    pub lease_ms: i64,
}
