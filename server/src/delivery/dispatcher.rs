//! The dispatcher's loop: one `Dispatcher` owns what is held in memory and
//! takes one step after another — take hand-overs, claim from the outbox,
//! resolve hooks, start attempts, renew leases, give back — then waits for
//! the next thing to do. Attempts run as their own tasks (`attempt.rs`).

use super::attempt::{self, AttemptContext, Permits, TaskEnd};
use super::handoff::{HandedOver, HandoffReceiver};
use super::held::{CLAIM_PER_HOOK, Enqueued, HeldDeliveries};
use super::pace::{Pacer, Verdict};
use super::{Fault, Heartbeat, Wake};
use crate::write_gate::WriteGate;
use app::domain::DeliveryId;
use app::storage::deliveries::{self, ClaimedDelivery, LeaseOwner};
use app::storage::directory::HookNow;
use app::storage::now_ms;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, watch};
use tokio::task::{Id, JoinError, JoinSet};

/// How long shutdown waits for publishes still committing a handed-over batch.
const HANDOFF_DRAIN: Duration = Duration::from_secs(2);
/// How often the outbox is checked for due deliveries (retries) when nothing wakes the dispatcher.
const POLL: Duration = Duration::from_millis(500);
/// What a hook with a pace of its own may hold in memory here.
const PACED_QUEUE: usize = 64;

mod paced;
/// At most this many claimed per query.
const CLAIM_BATCH: usize = 1024;
/// Attempts answered but not yet recorded (waiting for the writer) before
/// no new attempt starts: keeps memory bounded when the writer lags.
const MAX_UNRECORDED: usize = 2048;

/// What the dispatcher is given at start.
pub struct Parts {
    pub ctx: Arc<AttemptContext>,
    pub gate: WriteGate,
    pub owner: LeaseOwner,
    pub wake: Wake,
    pub handed_over: HandoffReceiver,
    pub heartbeat: Heartbeat,
    pub shutdown: watch::Receiver<bool>,
}

pub struct Dispatcher {
    parts: Parts,
    held: HeldDeliveries,
    tasks: JoinSet<TaskEnd>,
    /// The delivery (and its hook) each attempt task is for (a task that
    /// panics still gives its lease back).
    in_flight: HashMap<Id, (DeliveryId, String)>,
    /// Each hook's own rate and attempts at once.
    pacer: Pacer,
    /// The earliest moment a hook held back by its rate may start again.
    next_paced: Option<Instant>,
    /// Hooks with a pace of their own: each holds at most `PACED_QUEUE`
    /// here, so a few slow hooks cannot fill the queue everyone shares.
    paced: std::collections::HashSet<String>,
    /// Paced hooks that gave deliveries back: claim again as soon as their
    /// queue is down to half, before it runs dry.
    paced_backlog: std::collections::HashSet<String>,
    workers: Arc<Semaphore>,
    unrecorded: Arc<Semaphore>,
    lease_ms: i64,
    renew_every: Duration,
    give_back: Vec<DeliveryId>,
    handoff_open: bool,
    claim_now: bool,
    next_poll: Instant,
    next_renew: Instant,
    /// The longest attempt timeout started yet (hooks may set their own):
    /// how long a graceful stop waits for attempts in flight.
    longest_attempt: Duration,
}

impl Dispatcher {
    pub fn new(parts: Parts) -> Self {
        let config = &parts.ctx.config;
        let lease_ms = super::lease_ms(config.timeout);
        let held = HeldDeliveries::new(config.per_destination);
        let workers = Arc::new(Semaphore::new(config.workers.max(1)));
        let renew_every = Duration::from_millis(u64::try_from(lease_ms / 4).unwrap_or(5_000));
        let longest_attempt = config.timeout;
        Self {
            parts,
            held,
            tasks: JoinSet::new(),
            in_flight: HashMap::new(),
            pacer: Pacer::default(),
            next_paced: None,
            paced: std::collections::HashSet::new(),
            paced_backlog: std::collections::HashSet::new(),
            workers,
            unrecorded: Arc::new(Semaphore::new(MAX_UNRECORDED)),
            lease_ms,
            renew_every,
            give_back: Vec::new(),
            handoff_open: true,
            // Claim at once on start: after a restart, expired leases are due again.
            claim_now: true,
            next_poll: Instant::now() + POLL,
            next_renew: Instant::now() + renew_every,
            longest_attempt,
        }
    }

    /// Runs until shutdown, then gives back what is queued and waits (up to
    /// the delivery timeout) for attempts in flight.
    pub async fn run(mut self) {
        let config = &self.parts.ctx.config;
        tracing::info!(workers = config.workers, per_destination = config.per_destination, "dispatcher started");
        loop {
            self.parts.heartbeat.beat();
            if *self.parts.shutdown.borrow() {
                break;
            }
            self.reap_finished();
            self.take_handoffs();
            // A stale hand-over's ids are released before a claim could
            // take them again: released after, they would lose the lease
            // that claim just gave them.
            self.hand_back().await;
            self.claim_if_due().await;
            self.inject_fault().await;
            self.resolve_hooks().await;
            self.start_attempts();
            self.renew_if_due().await;
            self.hand_back().await;
            self.wait().await;
        }
        self.shut_down().await;
    }

    fn finished(&mut self, done: Result<(Id, TaskEnd), JoinError>) {
        let task = done.as_ref().map_or_else(JoinError::id, |(id, _)| *id);
        let delivery = self.in_flight.remove(&task).map(|(id, hook)| {
            self.pacer.finished(&hook, Instant::now());
            // An ordered hook's next delivery can be claimed once this one's
            // record is written (the task ends after it): claim it now, not
            // at the next poll.
            if matches!(self.parts.ctx.db.hooks().cached(&hook), Some(HookNow::Active(t)) if t.ordered) {
                self.claim_now = true;
            }
            id
        });
        match done {
            Ok((_, TaskEnd::Done(id) | TaskEnd::Dropped(id))) => self.held.forget(&id),
            Ok((_, TaskEnd::HandBack(id))) => {
                self.held.forget(&id);
                self.give_back.push(id);
            }
            Err(e) => {
                tracing::error!(delivery = ?delivery, error = %e, "an attempt task failed; giving its delivery back");
                if let Some(id) = delivery {
                    self.held.forget(&id);
                    self.give_back.push(id);
                }
            }
        }
    }

    fn reap_finished(&mut self) {
        while let Some(done) = self.tasks.try_join_next_with_id() {
            self.finished(done);
        }
    }

    fn enqueue(&mut self, batch: Vec<ClaimedDelivery>) {
        let Enqueued { over, already_held } = self.held.enqueue(batch);
        if already_held > 0 {
            // Their leases lapsed while held here (the renewal came late): not queued twice.
            tracing::warn!(already_held, "claimed deliveries this process already holds; not queued again");
        }
        self.give_back.extend(over);
    }

    fn take_handoffs(&mut self) {
        while self.held.has_room() {
            match self.parts.handed_over.try_recv() {
                Ok(batch) => self.take_handed(batch),
                Err(_) => break,
            }
        }
    }

    /// A handed-over batch is queued, unless it waited so long that its
    /// lease may lapse before the next renewal (`HandedOver::is_stale`).
    fn take_handed(&mut self, batch: HandedOver) {
        if batch.is_stale(self.lease_ms) {
            tracing::warn!(
                deliveries = batch.deliveries.len(),
                "handed-over deliveries waited half their lease; given back to be claimed anew"
            );
            // Not one this process claimed again meanwhile (its lease lapsed
            // in the channel): releasing that would clear the fresh lease.
            let held = &self.held;
            self.give_back.extend(batch.deliveries.into_iter().map(|d| d.id).filter(|id| !held.holds(id)));
            return;
        }
        self.enqueue(batch.deliveries);
    }

    async fn claim_if_due(&mut self) {
        if self.held.refill_due() {
            self.claim_now = true;
        }
        if !self.claim_now || !self.held.has_room() {
            return;
        }
        self.claim_now = false;
        self.next_poll = Instant::now() + POLL;
        let limit = self.held.room().min(CLAIM_BATCH);
        let saturated = self.held.saturated();
        // Paced hooks are claimed apart (`claim_paced`), a few at a time.
        let skipped: Vec<&str> = saturated.iter().chain(self.paced.iter()).map(String::as_str).collect();
        match self.claim(limit, CLAIM_PER_HOOK, &skipped, None).await {
            Ok(claimed) => {
                // A full batch: more may be due, claim again right away.
                self.claim_now = claimed.len() == limit;
                let mut per_hook: HashMap<&str, usize> = HashMap::new();
                for d in &claimed {
                    *per_hook.entry(d.hook_id.as_str()).or_default() += 1;
                }
                let limited: Vec<String> =
                    per_hook.into_iter().filter(|(_, n)| *n >= CLAIM_PER_HOOK).map(|(h, _)| h.to_owned()).collect();
                self.held.mark_starved(limited);
                self.held.mark_starved(saturated);
                self.doubt_stale_switch_offs(&claimed);
                self.enqueue(claimed);
            }
            Err(e) => tracing::error!(error = %e, "dispatcher: claiming deliveries failed"),
        }
        self.claim_paced().await;
    }

    /// Leases up to `limit` due deliveries to this process, at most
    /// `per_hook` of each hook, skipping `skipped` (and with `only`, just those hooks').
    async fn claim(
        &self,
        limit: usize,
        per_hook: usize,
        skipped: &[&str],
        only: Option<&[&str]>,
    ) -> Result<Vec<ClaimedDelivery>, app::storage::StorageError> {
        let claim = deliveries::claim(
            &self.parts.ctx.db,
            &self.parts.owner,
            self.lease_ms,
            u32::try_from(limit).unwrap_or(1),
            u32::try_from(per_hook).unwrap_or(1),
            skipped,
            only,
        );
        self.parts.gate.run(claim).await
    }

    /// A claim returns only deliveries of hooks active in the database: one
    /// whose hook this process holds as switched off proves that copy stale
    /// (switched on through another process, its notice late or lost), so
    /// it is read again instead of the delivery being handed back.
    fn doubt_stale_switch_offs(&self, claimed: &[ClaimedDelivery]) {
        let directory = self.parts.ctx.db.hooks();
        let mut seen = std::collections::HashSet::new();
        for d in claimed {
            if seen.insert(d.hook_id.as_str()) && matches!(directory.cached(&d.hook_id), Some(HookNow::Inactive)) {
                directory.changed(&d.hook_id);
            }
        }
    }

    /// Test-only faults (`--fault`), once there is work: die, or stop making progress.
    async fn inject_fault(&mut self) {
        if self.held.queued() == 0 {
            return;
        }
        match self.parts.ctx.config.fault {
            Some(Fault::DispatcherPanic) => panic!("fault injected: the dispatcher panics"),
            Some(Fault::DispatcherStall) => {
                tracing::warn!("fault injected: the dispatcher stops making progress");
                std::future::pending::<()>().await;
            }
            Some(Fault::DeafToHookChanges) | None => {}
        }
    }

    /// Looks up every hook with queued work as it is now: a switched-off
    /// hook's queue goes back to the outbox (it waits there, no attempt
    /// counted), a deleted hook's queue is dropped (its rows are gone).
    async fn resolve_hooks(&mut self) {
        let hooks = self.held.hooks_with_work();
        let directory = self.parts.ctx.db.hooks();
        let unknown: Vec<&str> = hooks.iter().filter(|h| directory.cached(h).is_none()).map(String::as_str).collect();
        let mut loaded = HashMap::new();
        if !unknown.is_empty() {
            match directory.load(&self.parts.ctx.db, &unknown).await {
                Ok(found) => loaded = found,
                Err(e) => tracing::error!(error = %e, "dispatcher: reading hooks failed"),
            }
        }
        for hook in hooks {
            match directory.cached(&hook).or_else(|| loaded.get(&hook).cloned()) {
                Some(HookNow::Inactive) => {
                    for d in self.held.take_queue(&hook) {
                        self.held.forget(&d.id);
                        self.give_back.push(d.id);
                    }
                }
                Some(HookNow::Gone) => {
                    for d in self.held.take_queue(&hook) {
                        self.held.forget(&d.id);
                    }
                }
                Some(HookNow::Active(_)) | None => {}
            }
        }
    }

    /// Starts an attempt for queued deliveries whose destination has a free
    /// slot, while workers are free and fewer than `MAX_UNRECORDED` answers
    /// wait for the writer.
    fn start_attempts(&mut self) {
        self.trim_paced();
        let directory = self.parts.ctx.db.hooks();
        self.next_paced = None;
        'hooks: for hook in self.held.hooks_with_work() {
            // Changed since `resolve_hooks`: the next round looks again.
            let Some(HookNow::Active(target)) = directory.cached(&hook) else { continue };
            let destination = target.destination();
            self.longest_attempt = self.longest_attempt.max(target.timeout.unwrap_or(self.parts.ctx.config.timeout));
            loop {
                match self.pacer.check(&hook, target.rate_limit, target.max_in_flight, Instant::now()) {
                    Verdict::Go => {}
                    Verdict::WaitUntil(at) => {
                        self.next_paced = Some(self.next_paced.map_or(at, |next| next.min(at)));
                        continue 'hooks;
                    }
                    // An attempt ending wakes the loop (`wait`).
                    Verdict::Full => continue 'hooks,
                }
                let Ok(unrecorded) = self.unrecorded.clone().try_acquire_owned() else { break 'hooks };
                let Ok(worker) = self.workers.clone().try_acquire_owned() else { break 'hooks };
                let Some((delivery, slot)) = self.held.next_for(&hook, destination) else { continue 'hooks };
                let permits = Permits { slot, worker, unrecorded };
                let id = delivery.id.clone();
                self.pacer.started(&hook, target.rate_limit, target.max_in_flight, Instant::now());
                let task = self.tasks.spawn(attempt::run(self.parts.ctx.clone(), delivery, permits)).id();
                self.in_flight.insert(task, (id, hook.clone()));
            }
        }
        self.held.prune();
    }

    /// Extends the leases held; queued deliveries whose lease did not come
    /// back were lost (another holder, a system disable) and are not sent.
    async fn renew_if_due(&mut self) {
        if Instant::now() < self.next_renew {
            return;
        }
        self.next_renew = Instant::now() + self.renew_every;
        self.parts.ctx.db.hooks().forget_old();
        self.pacer.prune(Instant::now());
        let ids = self.held.leased_ids();
        let refs: Vec<&DeliveryId> = ids.iter().collect();
        let renew = deliveries::renew_leases(&self.parts.ctx.db, &self.parts.owner, &refs, self.lease_ms);
        match self.parts.gate.run(renew).await {
            Ok(renewed) => {
                let dropped = self.held.drop_unrenewed(&renewed);
                if dropped > 0 {
                    tracing::warn!(dropped, "dispatcher: leases lost; those deliveries are not sent from here");
                }
            }
            Err(e) => tracing::error!(error = %e, "dispatcher: renewing leases failed"),
        }
    }

    /// Gives deliveries back to the outbox (lease cleared, due now).
    async fn hand_back(&mut self) {
        if self.give_back.is_empty() {
            return;
        }
        let ids = std::mem::take(&mut self.give_back);
        let release = deliveries::release(&self.parts.ctx.db, &self.parts.owner, &ids, now_ms());
        if let Err(e) = self.parts.gate.run(release).await {
            tracing::error!(error = %e, "dispatcher: giving deliveries back failed; their leases will expire");
        }
    }

    async fn wait(&mut self) {
        let ctx = self.parts.ctx.clone();
        let directory = ctx.db.hooks();
        let can_take = self.handoff_open && self.held.has_room();
        let wake_at = self.next_wake();
        tokio::select! {
            batch = self.parts.handed_over.recv(), if can_take => match batch {
                Some(batch) => self.take_handed(batch),
                None => self.handoff_open = false,
            },
            () = self.parts.wake.notified() => self.claim_now = true,
            // A hook switched back on has deliveries waiting in the outbox.
            () = directory.wait_for_change() => self.claim_now = true,
            () = ctx.slot_freed.notified() => {}
            Some(done) = self.tasks.join_next_with_id(), if !self.tasks.is_empty() => self.finished(done),
            () = tokio::time::sleep_until(wake_at.into()) => {
                if Instant::now() >= self.next_poll {
                    self.claim_now = true;
                }
            }
            _ = self.parts.shutdown.changed() => {}
        }
    }

    /// The next timed thing to do: a claim, a renewal, or a paced hook's next attempt.
    fn next_wake(&self) -> Instant {
        let timed = self.next_poll.min(self.next_renew);
        self.next_paced.map_or(timed, |paced| paced.min(timed))
    }

    async fn shut_down(mut self) {
        // Give back what is queued (and what was handed over meanwhile) so a restart sends it at once.
        // A publish that reserved its slot before the close may still be
        // committing: `recv` waits for it (up to HANDOFF_DRAIN), so its batch
        // is given back too instead of waiting out its lease after a restart.
        self.parts.handed_over.close();
        let deadline = tokio::time::Instant::now() + HANDOFF_DRAIN;
        while let Ok(Some(batch)) = tokio::time::timeout_at(deadline, self.parts.handed_over.recv()).await {
            self.take_handed(batch);
        }
        let queued = self.held.drain_queued();
        let released = queued.len();
        self.give_back.extend(queued);
        self.hand_back().await;
        tracing::info!(in_flight = self.tasks.len(), released, "dispatcher stopping: finishing attempts in flight");
        // Leases stay renewed while attempts finish: a hook's own timeout may outlast one.
        let deadline = Instant::now() + self.longest_attempt + Duration::from_secs(1);
        while !self.tasks.is_empty() {
            let tick = self.next_renew.min(deadline);
            tokio::select! {
                Some(done) = self.tasks.join_next_with_id() => self.finished(done),
                () = tokio::time::sleep_until(tick.into()) => {
                    if Instant::now() >= deadline {
                        self.tasks.abort_all();
                        tracing::warn!("dispatcher: attempts still in flight were abandoned; their leases expire and they will be sent again");
                        break;
                    }
                    self.renew_if_due().await;
                }
            }
        }
        self.hand_back().await;
        tracing::info!("dispatcher stopped");
    }
}
