//! The dispatcher: tokio tasks in the `serve` process that take deliveries
//! (handed over by publishing, or claimed from the outbox with a lease),
//! queue them in memory per endpoint, send them (bounded globally by
//! `--workers` and per endpoint), record every attempt and schedule the next.
//! Every delivery it holds is leased in the database and the lease is
//! renewed while held, so a crash or restart loses nothing.

pub mod handoff;
pub mod retention;
pub mod schedule;
pub mod sender;
pub mod ssrf;
mod writer;

use crate::write_gate::WriteGate;
use app::security::SecretBox;
use app::storage::deliveries::{self, AttemptRecord, ClaimedDelivery, Outcome, Recorded};
use app::storage::{Db, now_ms};
use handoff::HandoffReceiver;
use schedule::RetrySchedule;
use std::collections::{HashMap, HashSet, VecDeque};
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

/// Wakes the dispatcher to claim from the database (manual retries,
/// publishing while the in-memory queue is full).
#[derive(Clone, Default)]
pub struct Wake(Arc<Notify>);

impl Wake {
    pub fn notify(&self) {
        self.0.notify_one();
    }
}

/// How often the outbox is checked for due deliveries (retries) when nothing wakes the dispatcher.
const POLL: Duration = Duration::from_millis(500);
/// At most this many claimed per query.
const CLAIM_BATCH: usize = 1024;
/// Deliveries held in memory (queued, not in flight) before the dispatcher stops taking more.
const MAX_QUEUED: usize = 8192;
/// A claim skips hooks with this many queued and takes at most this many per hook.
const CLAIM_PER_HOOK: usize = 512;
/// A handed-over delivery for a hook with this many queued goes back to the outbox.
const MAX_QUEUED_PER_HOOK: usize = 2048;
/// Attempts answered but not yet recorded (waiting for the writer) before
/// no new attempt starts: keeps memory bounded when the writer lags.
const MAX_UNRECORDED: usize = 2048;

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
        // Many hooks often share one host: keep a connection for every worker, not just one endpoint's share.
        .pool_max_idle_per_host(config.workers.max(config.per_endpoint).max(1))
        .pool_idle_timeout(Duration::from_secs(90))
        .tcp_nodelay(true);
    if !config.allow_private_targets {
        builder = builder.dns_resolver(Arc::new(ssrf::GuardedResolver));
    }
    builder.build()
}

/// One endpoint's (hook's) queue and its concurrency slots.
struct Endpoint {
    queue: VecDeque<ClaimedDelivery>,
    slots: Arc<Semaphore>,
}

/// What the dispatcher holds in memory.
struct Held {
    endpoints: HashMap<String, Endpoint>,
    /// Ids whose lease this process holds: queued or in flight.
    leased: HashSet<String>,
    queued: usize,
    per_endpoint: usize,
    /// Hooks that may have more due in the outbox than is queued here (a
    /// claim skipped them or hit their per-hook limit, or some of theirs were
    /// handed back): claim again once their queue runs low.
    starved: HashSet<String>,
}

impl Held {
    /// Queues deliveries; returns the ids that went over their hook's cap
    /// (to be given back to the outbox).
    fn enqueue(&mut self, batch: Vec<ClaimedDelivery>) -> Vec<String> {
        let mut over = Vec::new();
        for delivery in batch {
            let endpoint = self.endpoints.entry(delivery.hook.hook_id.clone()).or_insert_with(|| Endpoint {
                queue: VecDeque::new(),
                slots: Arc::new(Semaphore::new(self.per_endpoint)),
            });
            if endpoint.queue.len() >= MAX_QUEUED_PER_HOOK {
                self.starved.insert(delivery.hook.hook_id.clone());
                over.push(delivery.id);
                continue;
            }
            self.leased.insert(delivery.id.clone());
            endpoint.queue.push_back(delivery);
            self.queued += 1;
        }
        over
    }

    fn has_room(&self) -> bool {
        self.queued < MAX_QUEUED
    }

    /// Hooks a claim should skip: enough of theirs are queued already.
    fn saturated(&self) -> Vec<String> {
        self.endpoints.iter().filter(|(_, e)| e.queue.len() >= CLAIM_PER_HOOK).map(|(k, _)| k.clone()).collect()
    }

    fn queue_len(&self, hook: &str) -> usize {
        self.endpoints.get(hook).map_or(0, |e| e.queue.len())
    }

    /// True (once) when a starved hook's queue has run low: time to claim.
    fn refill_due(&mut self) -> bool {
        let low: Vec<String> =
            self.starved.iter().filter(|h| self.queue_len(h) < CLAIM_PER_HOOK / 2).cloned().collect();
        for hook in &low {
            self.starved.remove(hook);
        }
        !low.is_empty()
    }
}

/// Runs until `shutdown` turns true, then gives back what is queued and
/// waits (up to the delivery timeout) for attempts in flight.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    db: Db,
    gate: WriteGate,
    secrets: SecretBox,
    config: DispatcherConfig,
    client: reqwest::Client,
    wake: Wake,
    mut handed_over: HandoffReceiver,
    mut shutdown: watch::Receiver<bool>,
) {
    let config = Arc::new(config);
    let global = Arc::new(Semaphore::new(config.workers.max(1)));
    let unrecorded = Arc::new(Semaphore::new(MAX_UNRECORDED));
    let slot_freed = Arc::new(Notify::new());
    let mut held = Held {
        endpoints: HashMap::new(),
        leased: HashSet::new(),
        queued: 0,
        per_endpoint: config.per_endpoint.max(1),
        starved: HashSet::new(),
    };
    let mut tasks: JoinSet<String> = JoinSet::new();
    let lease_ms = lease_ms(config.timeout);
    let renew_every = Duration::from_millis(u64::try_from(lease_ms / 4).unwrap_or(5_000));
    let writer = writer::spawn(
        db.clone(),
        gate.clone(),
        i64::try_from(config.disable_after.as_millis()).unwrap_or(i64::MAX / 2),
    );
    tracing::info!(workers = config.workers, per_endpoint = config.per_endpoint, "dispatcher started");

    // Claim at once on start: after a restart, expired leases are due again.
    let mut claim_now = true;
    let mut next_poll = Instant::now() + POLL;
    let mut next_renew = Instant::now() + renew_every;
    let mut handoff_open = true;
    loop {
        if *shutdown.borrow() {
            break;
        }
        while let Some(done) = tasks.try_join_next() {
            if let Ok(id) = done {
                held.leased.remove(&id);
            }
        }
        let mut give_back = Vec::new();
        while held.has_room() {
            match handed_over.try_recv() {
                Ok(batch) => give_back.extend(held.enqueue(batch)),
                Err(_) => break,
            }
        }
        if held.refill_due() {
            claim_now = true;
        }
        if claim_now && held.has_room() {
            claim_now = false;
            next_poll = Instant::now() + POLL;
            let limit = (MAX_QUEUED - held.queued).min(CLAIM_BATCH);
            let per_hook = u32::try_from(CLAIM_PER_HOOK).unwrap_or(1);
            let saturated = held.saturated();
            let skipped: Vec<&str> = saturated.iter().map(String::as_str).collect();
            let limit_u32 = u32::try_from(limit).unwrap_or(1);
            match gate.run(deliveries::claim(&db, lease_ms, limit_u32, per_hook, &skipped)).await {
                Ok(claimed) => {
                    // A full batch: more may be due, claim again right away.
                    claim_now = claimed.len() == limit;
                    let mut per_hook_count: HashMap<&str, usize> = HashMap::new();
                    for d in &claimed {
                        *per_hook_count.entry(d.hook.hook_id.as_str()).or_default() += 1;
                    }
                    let limited: Vec<String> = per_hook_count
                        .into_iter()
                        .filter(|(_, n)| *n >= CLAIM_PER_HOOK)
                        .map(|(h, _)| h.to_owned())
                        .collect();
                    held.starved.extend(limited);
                    held.starved.extend(saturated);
                    give_back.extend(held.enqueue(claimed));
                }
                Err(e) => tracing::error!(error = %e, "dispatcher: claiming deliveries failed"),
            }
        }
        hand_back(&db, &gate, &give_back).await;

        start_attempts(&mut held, &global, &unrecorded, &mut tasks, &slot_freed, &writer, &secrets, &client, &config);

        if Instant::now() >= next_renew {
            next_renew = Instant::now() + renew_every;
            let ids: Vec<&str> = held.leased.iter().map(String::as_str).collect();
            if let Err(e) = gate.run(deliveries::renew_leases(&db, &ids, lease_ms)).await {
                tracing::error!(error = %e, "dispatcher: renewing leases failed");
            }
        }

        tokio::select! {
            batch = handed_over.recv(), if handoff_open && held.has_room() => match batch {
                Some(batch) => {
                    let over = held.enqueue(batch);
                    hand_back(&db, &gate, &over).await;
                }
                None => handoff_open = false,
            },
            () = wake.0.notified() => claim_now = true,
            () = slot_freed.notified() => {}
            Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                if let Ok(id) = done {
                    held.leased.remove(&id);
                }
            }
            () = tokio::time::sleep_until(next_poll.min(next_renew).into()) => {
                if Instant::now() >= next_poll {
                    claim_now = true;
                }
            }
            _ = shutdown.changed() => {}
        }
    }

    // Give back what is queued (and what was handed over meanwhile) so a restart sends it at once.
    handed_over.close();
    while let Ok(batch) = handed_over.try_recv() {
        held.enqueue(batch);
    }
    let queued: Vec<String> =
        held.endpoints.values().flat_map(|e| e.queue.iter().map(|d| d.id.clone())).collect::<Vec<_>>();
    hand_back(&db, &gate, &queued).await;
    tracing::info!(
        in_flight = tasks.len(),
        released = queued.len(),
        "dispatcher stopping: finishing attempts in flight"
    );
    let drain = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(config.timeout + Duration::from_secs(1), drain).await.is_err() {
        tasks.abort_all();
        tracing::warn!(
            "dispatcher: attempts still in flight were abandoned; their leases expire and they will be sent again"
        );
    }
    tracing::info!("dispatcher stopped");
}

/// Gives deliveries back to the outbox (lease cleared, due now).
async fn hand_back(db: &Db, gate: &WriteGate, ids: &[String]) {
    if ids.is_empty() {
        return;
    }
    if let Err(e) = gate.run(deliveries::release(db, ids, now_ms())).await {
        tracing::error!(error = %e, "dispatcher: giving deliveries back failed; their leases will expire");
    }
}

/// Starts an attempt for every queued delivery whose endpoint has a free
/// slot, while global workers are free and fewer than `MAX_UNRECORDED`
/// answers wait for the writer. Each task gives its endpoint and worker slots
/// back as soon as the answer is in (before recording) and returns the delivery id.
#[allow(clippy::too_many_arguments)]
fn start_attempts(
    held: &mut Held,
    global: &Arc<Semaphore>,
    unrecorded: &Arc<Semaphore>,
    tasks: &mut JoinSet<String>,
    slot_freed: &Arc<Notify>,
    writer: &writer::Writer,
    secrets: &SecretBox,
    client: &reqwest::Client,
    config: &Arc<DispatcherConfig>,
) {
    'endpoints: for endpoint in held.endpoints.values_mut() {
        while !endpoint.queue.is_empty() {
            let Ok(slot) = endpoint.slots.clone().try_acquire_owned() else { continue 'endpoints };
            let Ok(unrecorded) = unrecorded.clone().try_acquire_owned() else { break 'endpoints };
            let Ok(worker) = global.clone().try_acquire_owned() else { break 'endpoints };
            let Some(delivery) = endpoint.queue.pop_front() else { break };
            held.queued -= 1;
            let (writer, secrets, client, config, slot_freed) =
                (writer.clone(), secrets.clone(), client.clone(), config.clone(), slot_freed.clone());
            tasks.spawn(async move {
                let sent = send(&secrets, &client, &config, &delivery).await;
                drop((slot, worker));
                slot_freed.notify_one();
                record(&writer, &config, &delivery, sent).await;
                drop(unrecorded);
                slot_freed.notify_one();
                delivery.id
            });
        }
    }
    // Forget endpoints with nothing queued and nothing in flight (a slot holds a clone of the Arc).
    held.endpoints.retain(|_, e| !e.queue.is_empty() || Arc::strong_count(&e.slots) > 1);
}

/// One attempt's answer (or failure) and its timing.
struct Sent {
    attempted_at: i64,
    elapsed: Duration,
    result: Result<sender::Answer, sender::SendError>,
}

async fn send(
    secrets: &SecretBox,
    client: &reqwest::Client,
    config: &DispatcherConfig,
    delivery: &ClaimedDelivery,
) -> Sent {
    let attempted_at = now_ms();
    let started = Instant::now();
    let result = sender::send(client, secrets, !config.allow_private_targets, delivery).await;
    Sent { attempted_at, elapsed: started.elapsed(), result }
}

/// Decides what follows the attempt, logs it and records it (group commit).
async fn record(writer: &writer::Writer, config: &DispatcherConfig, delivery: &ClaimedDelivery, sent: Sent) {
    let Sent { attempted_at, elapsed, result } = sent;
    let duration_ms = i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX);
    let number = usize::try_from(delivery.attempt_count).unwrap_or(0) + 1;
    let retry = |after: Option<Duration>| match config.schedule.delay_before(number + 1) {
        Some(delay) => {
            let delay = after.map(|a| a.min(Duration::from_secs(24 * 3600))).unwrap_or_else(|| schedule::jitter(delay));
            Outcome::RetryAt(now_ms() + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX / 2))
        }
        None => Outcome::Failed { disable_hook: None },
    };
    let seconds = elapsed.as_secs_f64();
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
        hook = %delivery.hook.hook_id,
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
        Recorded { delivery_id: delivery.id.clone(), hook_id: delivery.hook.hook_id.clone(), attempt: record, outcome };
    match writer.submit(recorded).await {
        Ok(Some(reason)) => tracing::warn!(hook = %delivery.hook.hook_id, reason, "hook disabled"),
        Ok(None) => {}
        // The lease will expire and the delivery will be attempted again: at-least-once.
        Err(e) => tracing::error!(delivery = %delivery.id, error = %e, "recording a delivery attempt failed"),
    }
}
