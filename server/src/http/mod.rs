//! The HTTP server: one axum router serving the REST API (`/api/…`), the
//! dashboard's server functions (`/_rpc/…`), the server-rendered dashboard
//! and its static files.

mod auth;
mod error;
mod health;
mod hooks;
mod middleware;
mod shutdown;
mod state;

pub use error::ApiError;
pub use state::AppState;

use crate::cli::ServeArgs;
use app::storage::{self, StorageError};
use axum::Router;
use axum::routing::get;
use leptos::config::get_configuration;
use leptos_axum::{LeptosRoutes, generate_route_list};

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot open the database: {0}")]
    Storage(#[from] StorageError),
    #[error("invalid Leptos configuration: {0}")]
    Config(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
}

pub async fn serve(args: ServeArgs) -> Result<(), ServeError> {
    let db = storage::connect(&args.database.database_url).await?;

    let mut leptos_options = get_configuration(None)
        .map_err(|e| ServeError::Config(e.to_string()))?
        .leptos_options;
    // Fixed here rather than taken from build-time env, so a binary built by
    // plain `cargo build` serves the same bundle names as one from cargo-leptos.
    leptos_options.output_name = app::OUTPUT_NAME.into();
    leptos_options.site_root = args.site_root.as_str().into();
    leptos_options.site_addr = args.listen;

    let state = AppState { db, leptos_options };
    let router = router(state);

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|source| ServeError::Bind {
            addr: args.listen,
            source,
        })?;
    let addr = listener.local_addr()?;
    tracing::info!("hookrelay {} listening on http://{addr}", app::VERSION);
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown::signal())
        .await?;
    tracing::info!("shut down cleanly");
    Ok(())
}

/// The whole application as one router (also what tests drive).
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/v1/hooks", get(hooks::list))
        .fallback(error::api_not_found)
        .method_not_allowed_fallback(error::api_method_not_allowed);

    let routes = generate_route_list(app::App);
    let db = state.db.clone();
    let options = state.leptos_options.clone();

    let app = Router::new()
        .route("/healthz", get(health::healthz))
        .nest("/api", api)
        .leptos_routes_with_context(
            &state,
            routes,
            move || leptos::prelude::provide_context(db.clone()),
            move || app::shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(
            app::shell,
        ))
        .with_state(state);

    middleware::apply(app)
}
