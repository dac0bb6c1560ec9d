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
    pub max_body_bytes: usize,
}
