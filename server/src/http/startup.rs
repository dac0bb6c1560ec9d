//! Starting the service, zero2prod style: `Application::build` opens the
//! storage, starts the ingest writer and the dispatcher with its helpers, and
//! binds the listener (port 0 picks a free one); `run_until_stopped` serves
//! until `stop` resolves, then lets the delivery tasks finish. `serve` is the
//! `hookrelay serve` command: both, with the signal handlers.

use super::site::SiteSource;
use super::{AppState, client, exposure, limits, metrics, router, shutdown};
use crate::cli::{DeliveryArgs, ServeArgs};
use crate::delivery::{self, AttemptContext, Dispatcher, DispatcherConfig};
use crate::watched::{TaskEnded, Watched};
use app::storage::{self, Db, StorageError};
use leptos::config::{LeptosOptions, get_configuration};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::watch;

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
    #[error(transparent)]
    Site(#[from] super::site::SiteError),
    #[error("cannot build the delivery HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    #[error("{0}; stopping so that a supervisor restarts the service (leases bring queued work back)")]
    TaskEnded(#[from] crate::watched::TaskEnded),
}

/// The service, built and bound, not yet serving.
pub struct Application {
    listener: tokio::net::TcpListener,
    router: axum::Router,
    watched: Watched,
    stop_tx: watch::Sender<bool>,
    stop_rx: watch::Receiver<bool>,
    /// How long the delivery tasks get to finish after the API stopped.
    drain: std::time::Duration,
}

impl Application {
    pub async fn build(args: ServeArgs) -> Result<Self, ServeError> {
        let db = storage::connect(&args.database.database_url).await?.with_limits(account_limits(&args));
        let secrets = crate::secret_key::open(&args.secret_key, &args.database.database_url, &db).await?;
        let delivery = &args.delivery;
        let lease_ms = delivery::lease_ms(delivery.delivery_timeout);
        let owner = storage::deliveries::LeaseOwner::new()?;
        let wake = delivery::Wake::default();
        let heartbeat = delivery::Heartbeat::default();
        // The busy writers (publishing, the dispatcher, retention) take turns here.
        let gate = crate::write_gate::WriteGate::for_backend(db.backend());
        let mut watched = Watched::default();
        let (handoff, handed_over) = delivery::handoff::channel(wake.clone(), owner.clone(), lease_ms);
        let (ingest, ingest_task) = crate::ingest::new(db.clone(), handoff, gate.clone());
        watched.spawn("ingest writer", ingest_task);
        let site = SiteSource::for_serving(args.site_root.as_deref())?;
        let state = AppState {
            db: db.clone(),
            leptos_options: leptos_options(&args, &site)?,
            site,
            secrets: secrets.clone(),
            catalogue: Arc::new(args.hook_types.clone()),
            limits: limits::Limits::new(&limit_settings(&args)),
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
        let (stop_tx, stop_rx) = watch::channel(false);
        let config = dispatcher_config(delivery, &state.metrics);
        let client = delivery::build_client(&config)?;
        let dispatch_db = db.for_dispatch(&args.database.database_url).await?;
        let disable_after_ms = i64::try_from(config.disable_after.as_millis()).unwrap_or(i64::MAX / 2);
        let (writer, writer_task) =
            delivery::writer::new(dispatch_db.clone(), gate.clone(), owner.clone(), disable_after_ms);
        watched.spawn("attempt-record writer", writer_task);
        let fence = start_storage_helpers(&mut watched, &db, &dispatch_db, &gate, &stop_rx, delivery);
        let notices = crate::operations::Sender {
            db: dispatch_db.clone(),
            secrets: secrets.clone(),
            client: client.clone(),
            guard: !config.allow_private_targets,
            owner: owner.clone(),
            gate: gate.clone(),
        };
        notices.spawn(&mut watched, &stop_rx);
        let ctx = AttemptContext {
            db: dispatch_db,
            secrets,
            client,
            config,
            writer,
            fence,
            slot_freed: tokio::sync::Notify::new(),
        };
        let dispatcher = Dispatcher::new(delivery::Parts {
            ctx: Arc::new(ctx),
            gate,
            owner,
            wake,
            handed_over,
            heartbeat,
            shutdown: stop_rx.clone(),
        });
        watched.spawn("dispatcher", dispatcher.run());
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|source| ServeError::Bind { addr: args.listen, source })?;
        Ok(Self { listener, router: router(state), watched, stop_tx, stop_rx, drain: drain_time(delivery) })
    }

    /// The address the listener is bound to (the real port when asked for 0).
    pub fn addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `stop` resolves (or a background task dies), then lets
    /// the dispatcher finish or give back what is in flight.
    pub async fn run_until_stopped(self, stop: impl Future<Output = ()> + Send + 'static) -> Result<(), ServeError> {
        tracing::info!("hookrelay {} listening on http://{}", app::VERSION, self.addr()?);
        let Self { listener, router, mut watched, stop_tx, stop_rx, drain } = self;
        let stop = async move {
            stop.await;
            let _ = stop_tx.send(true);
        };
        let server = super::connections::serve(listener, router, stop);
        // A client that never finishes its request (headers or body cut
        // short) would hold the graceful drain open for ever.
        let mut stopping = stop_rx.clone();
        let drain_bound = async move {
            let _ = stopping.wait_for(|stop| *stop).await;
            tokio::time::sleep(HTTP_DRAIN).await;
        };
        let mut requests_open = false;
        tokio::select! {
            () = server => {}
            () = drain_bound => {
                tracing::warn!(after = ?HTTP_DRAIN, "requests still open after the stop signal: closing them");
                requests_open = true;
            }
            ended = died_while_running(&mut watched, &stop_rx) => {
                tracing::error!(task = ended.name, how = ended.how, "a background task ended while serving");
                return Err(ended.into());
            }
        }
        if requests_open {
            let writers = ["ingest writer", "attempt-record writer"];
            watched.finish_with_requests_open(drain, std::time::Duration::from_secs(1), &writers).await;
        } else {
            watched.finish(drain).await;
        }
        if requests_open {
            tracing::warn!("shut down; requests still open at the drain bound were cut");
        } else {
            tracing::info!("shut down cleanly");
        }
        Ok(())
    }
}

/// `hookrelay serve`: signal handlers first (a signal during start-up is
/// not lost), then build and serve until SIGTERM/SIGINT.
pub async fn serve(args: ServeArgs) -> Result<(), ServeError> {
    let mut shutdown = Box::pin(shutdown::install());
    // A signal during start-up (migrations, waiting for PostgreSQL) stops
    // it; dropping the build rolls back a migration in progress.
    let app = tokio::select! {
        built = Application::build(args) => built?,
        () = &mut shutdown => {
            tracing::info!("stopped during start-up");
            return Ok(());
        }
    };
    app.run_until_stopped(shutdown).await
}

fn leptos_options(args: &ServeArgs, site: &SiteSource) -> Result<LeptosOptions, ServeError> {
    let mut options = get_configuration(None).map_err(|e| ServeError::Config(e.to_string()))?.leptos_options;
    // Fixed here rather than taken from build-time env, so a binary built by
    // plain `cargo build` serves the same bundle names as one from cargo-leptos;
    // an embedded bundle's name carries its content hash.
    options.output_name = site.bundle_name().into();
    // Unused when the site is embedded (`site::fallback` serves it).
    options.site_root = site.directory().unwrap_or("target/site").into();
    options.site_addr = args.listen;
    Ok(options)
}

fn account_limits(args: &ServeArgs) -> storage::quota::AccountLimits {
    storage::quota::AccountLimits {
        max_hooks: args.limits.max_hooks_per_account,
        max_keys: args.limits.max_keys_per_account,
    }
}

fn limit_settings(args: &ServeArgs) -> limits::LimitSettings {
    limits::LimitSettings {
        api_key_per_second: args.rate_limit,
        api_key_burst: args.rate_limit_burst,
        unknown_keys_per_second: args.limits.unknown_key_rate_limit,
        dashboard_calls_per_second: args.limits.dashboard_rate_limit,
        logins_per_minute: args.limits.login_limit,
        logins_per_address_per_minute: args.limits.login_limit_per_address,
    }
}

fn dispatcher_config(delivery: &DeliveryArgs, metrics: &crate::metrics::Metrics) -> DispatcherConfig {
    if std::env::var_os("HOOKRELAY_MAX_PER_ENDPOINT").is_some() {
        tracing::warn!(
            "HOOKRELAY_MAX_PER_ENDPOINT is no longer read: the cap is per destination now \
             (HOOKRELAY_MAX_PER_DESTINATION, default 32)"
        );
    }
    if delivery.allow_private_targets {
        tracing::warn!("--allow-private-targets: deliveries may reach loopback and private addresses");
    }
    DispatcherConfig {
        workers: delivery.workers,
        per_destination: delivery.max_per_destination,
        timeout: delivery.delivery_timeout,
        schedule: delivery.retry_schedule.clone(),
        allow_private_targets: delivery.allow_private_targets,
        egress_proxy: delivery.egress_proxy.clone(),
        disable_after: delivery.disable_after,
        metrics: metrics.clone(),
        fault: delivery.fault,
    }
}

/// Starts the storage chores beside the dispatcher: retention, WAL
/// checkpoints and, on a shared database, the hook-change listener and the
/// fence (returned: attempts confirm a hook's copy with it before sending).
fn start_storage_helpers(
    watched: &mut Watched,
    db: &Db,
    dispatch_db: &Db,
    gate: &crate::write_gate::WriteGate,
    stop_rx: &watch::Receiver<bool>,
    delivery: &DeliveryArgs,
) -> Option<delivery::fence::Fence> {
    // Retention deletes on the dispatcher's pool: no fsync per chunk (a
    // deletion lost to a power cut is simply done again).
    watched.spawn(
        "retention",
        delivery::retention::run(dispatch_db.clone(), gate.clone(), delivery.retention, stop_rx.clone()),
    );
    watched.spawn("WAL checkpoint", crate::checkpoint::run(dispatch_db.clone(), gate.clone(), stop_rx.clone()));
    if !db.is_shared() {
        return None;
    }
    if delivery.fault != Some(delivery::Fault::DeafToHookChanges) {
        // Other processes' hook edits reach this one's directory.
        let mut stop = stop_rx.clone();
        let stopped = async move {
            let _ = stop.wait_for(|stopping| *stopping).await;
        };
        watched.spawn("hook-change listener", app::storage::directory::listen(db.clone(), stopped));
    }
    let (fence, fence_task) = delivery::fence::new(dispatch_db.clone());
    watched.spawn("hook fence", fence_task);
    Some(fence)
}

/// How long the delivery tasks get to finish after the API stopped: the
/// dispatcher's own stop waits for the longest attempt timeout a hook may set.
fn drain_time(delivery: &DeliveryArgs) -> std::time::Duration {
    let longest = std::time::Duration::from_secs(u64::from(app::domain::delivery_options::TIMEOUT_SECONDS_MAX));
    delivery.delivery_timeout.max(longest) + std::time::Duration::from_secs(5)
}

/// How long open requests may take to finish after a stop signal.
pub const HTTP_DRAIN: std::time::Duration = std::time::Duration::from_secs(10);

/// The first watched task that ends before shutdown was asked for.
async fn died_while_running(watched: &mut Watched, stopping: &watch::Receiver<bool>) -> TaskEnded {
    loop {
        let ended = watched.next_end().await;
        if !*stopping.borrow() || ended.how == "panicked" {
            return ended;
        }
    }
}
