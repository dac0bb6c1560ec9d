use app::storage::Db;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;

/// What every handler can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub db: Db,
    pub leptos_options: LeptosOptions,
}
