//! The dispatcher: tokio tasks in the `serve` process that claim due
//! deliveries from the outbox with a lease, send them (bounded globally by
//! `--workers` and per endpoint), record every attempt and schedule the next.
//! It talks to the rest only through the database, so a restart loses nothing.

pub mod retention;
pub mod schedule;
pub mod sender;
pub mod ssrf;
mod writer;

use app::security::SecretBox;
use app::storage::deliveries::{self, AttemptRecord, ClaimedDelivery, Outcome, Recorded};
use app::storage::{Db, now_ms};
use schedule::RetrySchedule;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinSet;

#[derive(Clone, Debug)]
pub struct DispatcherConfig {
    pub workers: usize,
    pub per_endpoint: usize,
    pub timeout: Duration,
    pub schedule: RetrySchedule,
    pub allow_private_targets: bool,
    pub disable_after: Duration,
    pub metrics: crate::metrics::Metrics,
}

/// Wakes the dispatcher as soon as something is queued (no polling delay).
#[derive(Clone, Default)]
pub struct Wake(Arc<Notify>);

impl Wake {
    pub fn notify(&self) {
        self.0.notify_one();
    }
}

const POLL: Duration = Duration::from_millis(500);
const BATCH: usize = 256;

pub fn build_client(config: &DispatcherConfig) -> Result<reqwest::Client, reqwest::Error> {
    let mut builder = reqwest::Client::builder()
        .user_agent(format!("hookrelay/{}", app::VERSION))
        .timeout(config.timeout)
        .connect_timeout(config.timeout.min(Duration::from_secs(10)))
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(config.per_endpoint.max(1))
        .pool_idle_timeout(Duration::from_secs(90))
        .tcp_nodelay(true);
    if !config.allow_private_targets {
        builder = builder.dns_resolver(Arc::new(ssrf::GuardedResolver));
    }
    builder.build()
}

/// Runs until `shutdown` turns true, then waits (up to the delivery timeout)
/// for attempts in flight and gives back what it could not finish.
pub async fn run(
    db: Db,
    secrets: SecretBox,
    config: DispatcherConfig,
    client: reqwest::Client,
    wake: Wake,
    mut shutdown: watch::Receiver<bool>,
) {
    let config = Arc::new(config);
    let global = Arc::new(Semaphore::new(config.workers.max(1)));
    let mut per_endpoint: HashMap<String, Arc<Semaphore>> = HashMap::new();
    let mut tasks = JoinSet::new();
    // A lease outlives an attempt (timeout) by a margin; after a crash it expires and the delivery is sent again.
    let lease_ms = i64::try_from(config.timeout.as_millis()).unwrap_or(i64::MAX / 2) + 5_000;
    let writer = writer::spawn(db.clone(), i64::try_from(config.disable_after.as_millis()).unwrap_or(i64::MAX / 2));
    tracing::info!(workers = config.workers, per_endpoint = config.per_endpoint, "dispatcher started");

    loop {
        if *shutdown.borrow() {
            break;
        }
        while tasks.try_join_next().is_some() {}
        let free = global.available_permits();
        if free == 0 {
            tokio::select! {
                _ = tasks.join_next() => {}
                _ = shutdown.changed() => {}
            }
            continue;
        }
        // Forget endpoints with nothing in flight (a permit holds a clone of the Arc).
        per_endpoint.retain(|_, s| Arc::strong_count(s) > 1);
        let saturated: Vec<&str> =
            per_endpoint.iter().filter(|(_, s)| s.available_permits() == 0).map(|(k, _)| k.as_str()).collect();
        let per_hook = u32::try_from(config.per_endpoint.max(1)).unwrap_or(1);
        let limit = u32::try_from(free.min(BATCH)).unwrap_or(1);
        let claimed = match deliveries::claim(&db, lease_ms, limit, per_hook, &saturated).await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "dispatcher: claiming deliveries failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if claimed.is_empty() {
            // Nothing claimable: wait for new work, a finished attempt (its
            // endpoint may take more now), the next poll, or shutdown.
            tokio::select! {
                () = wake.0.notified() => {}
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
                () = tokio::time::sleep(POLL) => {}
                _ = shutdown.changed() => {}
            }
            continue;
        }
        let mut busy = Vec::new();
        for delivery in claimed {
            let endpoint = per_endpoint
                .entry(delivery.hook_id.clone())
                .or_insert_with(|| Arc::new(Semaphore::new(config.per_endpoint.max(1))))
                .clone();
            let Ok(endpoint_permit) = endpoint.try_acquire_owned() else {
                busy.push(delivery.id);
                continue;
            };
            let Ok(permit) = global.clone().try_acquire_owned() else {
                busy.push(delivery.id);
                continue;
            };
            let (writer, secrets, client, config) = (writer.clone(), secrets.clone(), client.clone(), config.clone());
            tasks.spawn(async move {
                attempt(&writer, &secrets, &client, &config, delivery).await;
                drop((permit, endpoint_permit));
            });
        }
        // Their endpoint is at its cap: hand them back for a moment.
        if let Err(e) = deliveries::release(&db, &busy, now_ms() + 50).await {
            tracing::error!(error = %e, "dispatcher: releasing deliveries failed");
        }
    }

    tracing::info!(in_flight = tasks.len(), "dispatcher stopping: finishing attempts in flight");
    let drain = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(config.timeout + Duration::from_secs(1), drain).await.is_err() {
        tasks.abort_all();
        tracing::warn!(
            "dispatcher: attempts still in flight were abandoned; their leases expire and they will be sent again"
        );
    }
    tracing::info!("dispatcher stopped");
}

async fn attempt(
    writer: &writer::Writer,
    secrets: &SecretBox,
    client: &reqwest::Client,
    config: &DispatcherConfig,
    delivery: ClaimedDelivery,
) {
    let attempted_at = now_ms();
    let started = Instant::now();
    let result = sender::send(client, secrets, !config.allow_private_targets, &delivery).await;
    let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    let number = usize::try_from(delivery.attempt_count).unwrap_or(0) + 1;
    let retry = |after: Option<Duration>| match config.schedule.delay_before(number + 1) {
        Some(delay) => {
            let delay = after.map(|a| a.min(Duration::from_secs(24 * 3600))).unwrap_or_else(|| schedule::jitter(delay));
            Outcome::RetryAt(now_ms() + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX / 2))
        }
        None => Outcome::Failed { disable_hook: None },
    };
    let seconds = started.elapsed().as_secs_f64();
    let (record, outcome) = match result {
        Ok(answer) => {
            let outcome = if (200..300).contains(&answer.status) {
                Outcome::Succeeded
            } else if answer.status == 410 {
                Outcome::Failed { disable_hook: Some("the endpoint answered 410 Gone".into()) }
            } else {
                retry(answer.retry_after)
            };
            let record = AttemptRecord {
                attempted_at,
                duration_ms,
                status_code: Some(answer.status),
                error: (!(200..300).contains(&answer.status))
                    .then(|| format!("the endpoint answered HTTP {}", answer.status)),
                response_body: Some(answer.body),
            };
            (record, outcome)
        }
        Err(e) => (
            AttemptRecord {
                attempted_at,
                duration_ms,
                status_code: None,
                error: Some(e.to_string()),
                response_body: None,
            },
            retry(None),
        ),
    };
    tracing::info!(
        delivery = %delivery.id,
        event = %delivery.event_id,
        hook = %delivery.hook_id,
        attempt = number,
        status = record.status_code,
        duration_ms,
        outcome = ?outcome,
        error = record.error.as_deref().unwrap_or(""),
        "delivery attempt"
    );
    config.metrics.attempt(
        match outcome {
            Outcome::Succeeded => "succeeded",
            Outcome::RetryAt(_) => "retrying",
            Outcome::Failed { .. } => "failed",
        },
        seconds,
    );
    let recorded =
        Recorded { delivery_id: delivery.id.clone(), hook_id: delivery.hook_id.clone(), attempt: record, outcome };
    match writer.submit(recorded).await {
        Ok(Some(reason)) => tracing::warn!(hook = %delivery.hook_id, reason, "hook disabled"),
        Ok(None) => {}
        // The lease will expire and the delivery will be attempted again: at-least-once.
        Err(e) => tracing::error!(delivery = %delivery.id, error = %e, "recording a delivery attempt failed"),
    }
}
