//! The HTTP server: one axum router serving the REST API (`/api/…`), the
//! dashboard's server functions (`/_rpc/…`), the server-rendered dashboard
//! and its static files.

mod auth;
mod client;
mod csrf;
mod deliveries;
mod error;
mod events;
mod exposure;
mod extract;
mod health;
mod hooks;
mod limits;
mod metrics;
mod middleware;
pub mod openapi;
mod rate_limit;
mod shutdown;
mod state;

pub use error::ApiError;
pub use state::AppState;

use crate::cli::ServeArgs;
use app::server_fns::context::Services;
use app::storage::{self, StorageError};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use leptos::config::get_configuration;
use leptos_axum::{LeptosRoutes, generate_route_list};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot open the database: {0}")]
    Storage(#[from] StorageError),
    #[error(transparent)]
    SecretKey(#[from] crate::secret_key::SecretKeyError),
    #[error("invalid Leptos configuration: {0}")]
    Config(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: std::net::SocketAddr, source: std::io::Error },
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot build the delivery HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    #[error("{0}; stopping so that a supervisor restarts the service (leases bring queued work back)")]
    TaskEnded(#[from] crate::watched::TaskEnded),
}

pub async fn serve(args: ServeArgs) -> Result<(), ServeError> {
    let shutdown = shutdown::install();
    let account_limits = storage::quota::AccountLimits {
        max_hooks: args.limits.max_hooks_per_account,
        max_keys: args.limits.max_keys_per_account,
    };
    let db = storage::connect(&args.database.database_url).await?.with_limits(account_limits);
    let secrets = crate::secret_key::open(&args.secret_key, &args.database.database_url, &db).await?;

    let mut leptos_options = get_configuration(None).map_err(|e| ServeError::Config(e.to_string()))?.leptos_options;
    // Fixed here rather than taken from build-time env, so a binary built by
    // plain `cargo build` serves the same bundle names as one from cargo-leptos.
    leptos_options.output_name = app::OUTPUT_NAME.into();
    leptos_options.site_root = args.site_root.as_str().into();
    leptos_options.site_addr = args.listen;

    let delivery = &args.delivery;
    let lease_ms = crate::delivery::lease_ms(delivery.delivery_timeout);
    let owner = storage::deliveries::LeaseOwner::new()?;
    let wake = crate::delivery::Wake::default();
    let heartbeat = crate::delivery::Heartbeat::default();
    // The busy writers (publishing, the dispatcher, retention) take turns here.
    let gate = crate::write_gate::WriteGate::for_backend(db.backend());
    let mut watched = crate::watched::Watched::default();
    let (handoff, handed_over) = crate::delivery::handoff::channel(wake.clone(), owner.clone(), lease_ms);
    let (ingest, ingest_task) = crate::ingest::new(db.clone(), handoff, gate.clone());
    watched.spawn("ingest writer", ingest_task);
    let state = AppState {
        db: db.clone(),
        leptos_options,
        secrets: secrets.clone(),
        catalogue: Arc::new(args.hook_types.clone()),
        limits: limits::Limits::new(&limits::LimitSettings {
            api_key_per_second: args.rate_limit,
            api_key_burst: args.rate_limit_burst,
            unknown_keys_per_second: args.limits.unknown_key_rate_limit,
            dashboard_calls_per_second: args.limits.dashboard_rate_limit,
            logins_per_minute: args.limits.login_limit,
            logins_per_address_per_minute: args.limits.login_limit_per_address,
        }),
        client_source: client::ClientAddressSource { header: args.exposure.client_ip_header.clone() },
        exposure: Arc::new(exposure::Exposure::new(
            args.exposure.public_url.clone(),
            args.exposure.metrics_token.as_deref(),
        )),
        queue_stats: metrics::QueueStatsCache::default(),
        max_body_bytes: args.max_body_bytes,
        wake: wake.clone(),
        attempts_in_schedule: delivery.retry_schedule.attempts(),
        metrics: crate::metrics::Metrics::default(),
        ingest,
        heartbeat: heartbeat.clone(),
        lease_ms,
    };

    let config = crate::delivery::DispatcherConfig {
        workers: delivery.workers,
        per_destination: delivery.max_per_destination,
        timeout: delivery.delivery_timeout,
        schedule: delivery.retry_schedule.clone(),
        allow_private_targets: delivery.allow_private_targets,
        egress_proxy: delivery.egress_proxy.clone(),
        disable_after: delivery.disable_after,
        metrics: state.metrics.clone(),
        fault: delivery.fault,
    };
    if std::env::var_os("HOOKRELAY_MAX_PER_ENDPOINT").is_some() {
        tracing::warn!(
            "HOOKRELAY_MAX_PER_ENDPOINT is no longer read: the cap is per destination now \
             (HOOKRELAY_MAX_PER_DESTINATION, default 32)"
        );
    }
    if config.allow_private_targets {
        tracing::warn!("--allow-private-targets: deliveries may reach loopback and private addresses");
    }
    let client = crate::delivery::build_client(&config)?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let dispatch_db = db.for_dispatch(&args.database.database_url).await?;
    let disable_after_ms = i64::try_from(config.disable_after.as_millis()).unwrap_or(i64::MAX / 2);
    let (writer, writer_task) =
        crate::delivery::writer::new(dispatch_db.clone(), gate.clone(), owner.clone(), disable_after_ms);
    watched.spawn("attempt-record writer", writer_task);
    // Retention deletes on the dispatcher's pool: no fsync per chunk (a
    // deletion lost to a power cut is simply done again).
    watched.spawn(
        "retention",
        crate::delivery::retention::run(dispatch_db.clone(), gate.clone(), delivery.retention, stop_rx.clone()),
    );
    watched.spawn("WAL checkpoint", crate::checkpoint::run(dispatch_db.clone(), stop_rx.clone()));
    if db.is_shared() && delivery.fault != Some(crate::delivery::Fault::DeafToHookChanges) {
        // Other processes' hook edits reach this one's directory.
        let mut stop = stop_rx.clone();
        let stopped = async move {
            let _ = stop.wait_for(|stopping| *stopping).await;
        };
        watched.spawn("hook-change listener", app::storage::directory::listen(db.clone(), stopped));
    }
    let fence = if db.is_shared() {
        let (fence, fence_task) = crate::delivery::fence::new(dispatch_db.clone());
        watched.spawn("hook fence", fence_task);
        Some(fence)
    } else {
        None
    };
    let ctx = crate::delivery::AttemptContext {
        db: dispatch_db,
        secrets,
        client,
        config,
        writer,
        fence,
        slot_freed: tokio::sync::Notify::new(),
    };
    let dispatcher = crate::delivery::Dispatcher::new(crate::delivery::Parts {
        ctx: Arc::new(ctx),
        gate,
        owner,
        wake,
        handed_over,
        heartbeat,
        shutdown: stop_rx.clone(),
    });
    watched.spawn("dispatcher", dispatcher.run());
    let router = router(state);

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|source| ServeError::Bind { addr: args.listen, source })?;
    let addr = listener.local_addr()?;
    tracing::info!("hookrelay {} listening on http://{addr}", app::VERSION);
    let stop = async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    };
    // The peer address feeds the per-client limits (`client.rs`).
    let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server = axum::serve(listener, service).with_graceful_shutdown(stop);
    tokio::select! {
        served = server => served?,
        ended = died_while_running(&mut watched, &stop_rx) => {
            tracing::error!(task = ended.name, how = ended.how, "a background task ended while serving");
            return Err(ended.into());
        }
    }
    // The API has stopped; let the dispatcher finish or give back what is in flight.
    watched.finish(delivery.delivery_timeout + std::time::Duration::from_secs(5)).await;
    tracing::info!("shut down cleanly");
    Ok(())
}

/// The first watched task that ends before shutdown was asked for.
async fn died_while_running(
    watched: &mut crate::watched::Watched,
    stopping: &tokio::sync::watch::Receiver<bool>,
) -> crate::watched::TaskEnded {
    loop {
        let ended = watched.next_end().await;
        if !*stopping.borrow() || ended.how == "panicked" {
            return ended;
        }
    }
}

/// The whole application as one router (also what tests drive).
pub fn router(state: AppState) -> Router {
    use hooks::{eventsshop, flightrates};
    let api = Router::new()
        .route("/v1/hook", post(flightrates::create))
        .route("/v1/hooks", get(flightrates::list))
        .route(
            "/v1/hook/{id}",
            get(flightrates::get).put(flightrates::replace).patch(flightrates::patch).delete(flightrates::delete),
        )
        .route("/v1/hook/{id}/test", post(events::test))
        .route("/v1/hook/{id}/secret", get(deliveries::secret))
        .route("/v1/hook/{id}/rotate-secret", post(deliveries::rotate_secret))
        .route("/v1/hook/{id}/deliveries", get(deliveries::list))
        .route("/v1/deliveries/{id}/retry", post(deliveries::retry))
        .route("/v1/events", post(events::publish))
        .route("/openapi.json", get(openapi::document))
        .fallback(error::api_not_found)
        .method_not_allowed_fallback(error::api_method_not_allowed);

    let routes = generate_route_list(app::App);
    let services = dashboard_services(&state);
    let options = state.leptos_options.clone();
    let body_limit = state.max_body_bytes;
    let exposure = state.exposure.clone();
    let limits = state.limits.clone();
    let client_source = state.client_source.clone();

    let app = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(metrics::metrics))
        .nest("/api", api)
        .route("/endpoint", get(eventsshop::list).post(eventsshop::create))
        .route("/endpoint/", get(eventsshop::list).post(eventsshop::create))
        .route("/endpoint/{id}", get(eventsshop::get).delete(eventsshop::delete))
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                leptos::prelude::provide_context(services.db.clone());
                leptos::prelude::provide_context(services.clone());
            },
            move || app::shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(app::shell))
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
                    Ok(Some(events::Stored::Replayed(_))) => Err("a test event was replayed".to_owned()),
                    Ok(None) => Ok(None),
                    Err(e) => Err(e.to_string()),
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
