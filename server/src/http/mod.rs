//! The HTTP server: one axum router serving the REST API (`/api/…`), the
//! dashboard's server functions (`/_rpc/…`), the server-rendered dashboard
//! and its static files.

mod auth;
mod client;
mod connections;
mod csrf;
mod deliveries;
mod error;
mod event_log;
mod events;
mod exposure;
mod extract;
mod health;
mod hooks;
mod limits;
mod metrics;
mod middleware;
pub mod openapi;
mod operations_endpoint;
mod rate_limit;
mod shutdown;
pub mod site;
mod state;

pub use error::ApiError;
pub use state::AppState;

use app::server_fns::context::Services;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{any, get};
use leptos_axum::{LeptosRoutes, generate_route_list};
use std::sync::Arc;

mod startup;
pub use startup::{Application, ServeError, serve};

/// The whole application as one router (also what tests drive).
pub fn router(state: AppState) -> Router {
    use hooks::eventsshop;
    let routes = generate_route_list(app::App);
    let services = dashboard_services(&state);
    let options = state.leptos_options.clone();
    let body_limit = state.max_body_bytes;
    let exposure = state.exposure.clone();
    let limits = state.limits.clone();
    let client_source = state.client_source.clone();

    // Every documented route comes from `openapi::documented_routes`, the
    // one list; here only what the document leaves out.
    let app = Router::new()
        .merge(openapi::documented_routes().0)
        // The vendor's clients also call the list without the slash.
        .route("/endpoint", get(eventsshop::list).post(eventsshop::create))
        // Unknown paths under /api/ answer JSON, never the dashboard's 404 page.
        .route("/api", any(error::api_not_found))
        .route("/api/{*rest}", any(error::api_not_found))
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                leptos::prelude::provide_context(services.db.clone());
                leptos::prelude::provide_context(services.clone());
            },
            move || app::shell(options.clone()),
        )
        .fallback(site::fallback)
        .method_not_allowed_fallback(error::api_method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(state);

    // Outermost last: the client is identified before the limits and the
    // cross-site check run.
    let hsts = exposure.is_https();
    let app = app
        .layer(axum::middleware::from_fn_with_state(exposure, csrf::refuse_cross_site_rpc))
        .layer(axum::middleware::from_fn_with_state(limits, limits::limit_dashboard_calls))
        .layer(axum::middleware::from_fn_with_state(client_source, client::identify_client));
    middleware::apply(app, hsts)
}

/// What the dashboard's server functions reach: the same storage, secrets
/// and catalogue as the REST API, and the same path for test events.
fn dashboard_services(state: &AppState) -> Services {
    let for_tests = state.clone();
    let wake = state.wake.clone();
    Services {
        db: state.db.clone(),
        secrets: state.secrets.clone(),
        catalogue: state.catalogue.clone(),
        attempts_in_schedule: i64::try_from(state.attempts_in_schedule).unwrap_or(1),
        send_test: Arc::new(move |owner, hook| {
            let state = for_tests.clone();
            Box::pin(async move {
                match events::queue_test(&state, &owner, &hook).await {
                    Ok(Some(events::Stored::New(accepted))) => Ok(Some(accepted.id)),
                    // A test event has no idempotency key, so it is never a replay.
                    Ok(Some(events::Stored::Replayed(_))) => {
                        Err(error::ApiError::Conflict("a test event was replayed").into_dashboard())
                    }
                    Ok(None) => Ok(None),
                    Err(e) => Err(e.into_dashboard()),
                }
            })
        }),
        wake: Arc::new(move || wake.notify()),
        login_allowed: {
            let limits = state.limits.clone();
            Arc::new(move |email: &str, address: &str| limits.login(email, address))
        },
    }
}
