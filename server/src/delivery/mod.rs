//! The delivery engine: tokio tasks in the `serve` process that take
//! deliveries (handed over by publishing, or claimed from the outbox with a
//! lease that names this process), queue them in memory per hook, send
//! them with the hook as it is at that moment (bounded by `--workers` and
//! per destination), record every attempt and schedule the next.
//!
//! - `dispatcher.rs`: the loop and its steps (claim, resolve hooks, start
//!   attempts, renew, give back, shut down).
//! - `held.rs`: the in-memory queues and per-destination slots.
//! - `attempt.rs`: one attempt (look up, send, decide, record).
//! - `outcome.rs`: what follows an answer (pure, unit-tested).
//! - `writer.rs`, `handoff.rs`: group-committed records, the publish fast path.
//! - `fence.rs`: several processes (PostgreSQL): a hook's copy confirmed before each send.
//! - `sender.rs`, `ssrf.rs`, `schedule.rs`, `retention.rs`.

mod attempt;
mod dispatcher;
pub mod fence;
pub mod handoff;
mod held;
mod outcome;
mod pace;
pub mod retention;
pub mod schedule;
pub mod sender;
pub mod ssrf;
pub mod writer;

pub use attempt::AttemptContext;
pub use dispatcher::{Dispatcher, Parts};

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;
use tokio::sync::Notify;

#[derive(Clone, Debug)]
pub struct DispatcherConfig {
    /// Attempts in flight at once, across all destinations.
    pub workers: usize,
    /// Attempts in flight at once to one destination (scheme, host, port).
    pub per_destination: usize,
    pub timeout: Duration,
    pub schedule: schedule::RetrySchedule,
    pub allow_private_targets: bool,
    /// `--egress-proxy`: the only proxy deliveries may use.
    pub egress_proxy: Option<String>,
    pub disable_after: Duration,
    pub metrics: crate::metrics::Metrics,
    /// A test-only fault to inject (`--fault`); `None` in production.
    pub fault: Option<Fault>,
}

/// Faults the test suite injects to prove the process is watched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Fault {
    /// The dispatcher task panics once it has work.
    DispatcherPanic,
    /// The dispatcher stops making progress once it has work.
    DispatcherStall,
    /// Other processes' hook-change notifications are not listened to
    /// (PostgreSQL): the fence alone must keep attempts on the hook as it is.
    DeafToHookChanges,
}

/// Wakes the dispatcher to claim from the database (manual retries,
/// publishing while the in-memory queue is full).
#[derive(Clone, Default)]
pub struct Wake(Arc<Notify>);

impl Wake {
    pub fn notify(&self) {
        self.0.notify_one();
    }

    pub async fn notified(&self) {
        self.0.notified().await;
    }
}

/// When the dispatcher last went round its loop (ms), for `/healthz`.
#[derive(Clone, Debug)]
pub struct Heartbeat(Arc<AtomicI64>);

impl Default for Heartbeat {
    fn default() -> Self {
        Self(Arc::new(AtomicI64::new(app::storage::now_ms())))
    }
}

impl Heartbeat {
    pub fn beat(&self) {
        self.0.store(app::storage::now_ms(), Ordering::Relaxed);
    }

    /// How long since the last beat (ms).
    pub fn silent_for_ms(&self) -> i64 {
        app::storage::now_ms() - self.0.load(Ordering::Relaxed)
    }
}

/// A lease outlives an attempt (timeout) by a margin; after a crash it
/// expires and the delivery is claimed and sent again.
pub fn lease_ms(timeout: Duration) -> i64 {
    i64::try_from(timeout.as_millis()).unwrap_or(i64::MAX / 4) + 5_000
}

pub fn build_client(config: &DispatcherConfig) -> Result<reqwest::Client, reqwest::Error> {
    let mut builder = reqwest::Client::builder()
        .user_agent(format!("hookrelay/{}", app::VERSION))
        .timeout(config.timeout)
        .connect_timeout(config.timeout.min(Duration::from_secs(10)))
        .redirect(reqwest::redirect::Policy::none())
        // Many hooks often share one host: keep connections for a destination's full share.
        .pool_max_idle_per_host(config.per_destination.max(1))
        .pool_idle_timeout(Duration::from_secs(90))
        .tcp_nodelay(true);
    // Never a proxy from the environment: it would resolve the destination
    // itself, past the guard. Only the operator's explicit one, whose own
    // name may well be private (so it is not resolved through the guard;
    // through a proxy no destination name is resolved here at all).
    builder = match &config.egress_proxy {
        Some(proxy) => builder.proxy(reqwest::Proxy::all(proxy)?),
        None if config.allow_private_targets => builder.no_proxy(),
        None => builder.no_proxy().dns_resolver(Arc::new(ssrf::GuardedResolver)),
    };
    builder.build()
}
