//! What the dispatcher holds in memory: one queue per hook (claims and
//! hand-overs are counted per hook), the ids whose lease it holds (queued or
//! in flight), and one concurrency limit per destination (scheme, host and
//! port), so many hooks on one slow server share that server's slots and
//! never take anyone else's.

use app::domain::DeliveryId;
use app::storage::deliveries::ClaimedDelivery;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Deliveries held in memory (queued, not in flight) before the dispatcher
/// stops taking more: 16 hooks at their cap, so a few hooks on a hanging
/// endpoint cannot fill it for everyone.
pub const MAX_QUEUED: usize = 16_384;
/// A claim skips hooks with this many queued and takes at most this many per hook.
pub const CLAIM_PER_HOOK: usize = 512;
/// A handed-over delivery for a hook with this many queued goes back to the outbox.
const MAX_QUEUED_PER_HOOK: usize = 1024;

/// What `enqueue` did with a batch.
#[derive(Default)]
pub struct Enqueued {
    /// Over their hook's cap: to give back to the outbox.
    pub over: Vec<DeliveryId>,
    /// Ids this process already holds (a claim took back its own expired
    /// lease): dropped, so nothing is sent twice.
    pub already_held: usize,
}

/// The deliveries this process holds the lease of: queued per hook or in
/// flight, and the per-destination slots they are sent through.
pub struct HeldDeliveries {
    queues: HashMap<String, VecDeque<ClaimedDelivery>>,
    /// Ids whose lease this process holds: queued or in flight.
    leased: HashSet<DeliveryId>,
    queued: usize,
    /// Hooks that may have more due in the outbox than is queued here (a
    /// claim skipped them or hit their per-hook limit, or some of theirs were
    /// handed back): claim again once their queue runs low.
    starved: HashSet<String>,
    destinations: HashMap<String, Arc<Semaphore>>,
    per_destination: usize,
}

impl HeldDeliveries {
    pub fn new(per_destination: usize) -> Self {
        Self {
            queues: HashMap::new(),
            leased: HashSet::new(),
            queued: 0,
            starved: HashSet::new(),
            destinations: HashMap::new(),
            per_destination: per_destination.max(1),
        }
    }

    pub fn enqueue(&mut self, batch: Vec<ClaimedDelivery>) -> Enqueued {
        let mut out = Enqueued::default();
        for delivery in batch {
            if self.leased.contains(&delivery.id) {
                out.already_held += 1;
                continue;
            }
            let queue = self.queues.entry(delivery.hook_id.clone()).or_default();
            if queue.len() >= MAX_QUEUED_PER_HOOK {
                self.starved.insert(delivery.hook_id.clone());
                out.over.push(delivery.id);
                continue;
            }
            self.leased.insert(delivery.id.clone());
            queue.push_back(delivery);
            self.queued += 1;
        }
        out
    }

    pub fn has_room(&self) -> bool {
        self.queued < MAX_QUEUED
    }

    pub fn room(&self) -> usize {
        MAX_QUEUED.saturating_sub(self.queued)
    }

    pub fn queued(&self) -> usize {
        self.queued
    }

    /// Hooks a claim should skip: enough of theirs are queued already.
    pub fn saturated(&self) -> Vec<String> {
        self.queues.iter().filter(|(_, q)| q.len() >= CLAIM_PER_HOOK).map(|(k, _)| k.clone()).collect()
    }

    pub fn mark_starved(&mut self, hooks: impl IntoIterator<Item = String>) {
        self.starved.extend(hooks);
    }

    /// True (once) when a starved hook's queue has run low: time to claim.
    pub fn refill_due(&mut self) -> bool {
        let queues = &self.queues;
        let before = self.starved.len();
        self.starved.retain(|h| queues.get(h).map_or(0, VecDeque::len) >= CLAIM_PER_HOOK / 2);
        self.starved.len() != before
    }

    /// Hooks with deliveries waiting.
    pub fn hooks_with_work(&self) -> Vec<String> {
        self.queues.iter().filter(|(_, q)| !q.is_empty()).map(|(k, _)| k.clone()).collect()
    }

    /// Takes a hook's whole queue out (its hook was switched off or deleted);
    /// the ids stay leased until the caller `forget`s them.
    pub fn take_queue(&mut self, hook: &str) -> Vec<ClaimedDelivery> {
        let taken: Vec<ClaimedDelivery> = self.queues.remove(hook).map(Vec::from).unwrap_or_default();
        self.queued -= taken.len();
        taken
    }

    /// How many of `hook`'s deliveries are queued here.
    pub fn queued_for(&self, hook: &str) -> usize {
        self.queues.get(hook).map_or(0, VecDeque::len)
    }

    /// Keeps at most `cap` of `hook`'s queued deliveries (the oldest) and
    /// returns the ids of the rest, to give back; the hook is marked for a
    /// later claim.
    pub fn trim(&mut self, hook: &str, cap: usize) -> Vec<DeliveryId> {
        let Some(queue) = self.queues.get_mut(hook).filter(|q| q.len() > cap) else { return Vec::new() };
        let over: Vec<DeliveryId> = queue.drain(cap..).map(|d| d.id).collect();
        self.queued -= over.len();
        for id in &over {
            self.leased.remove(id);
        }
        self.starved.insert(hook.to_owned());
        over
    }

    /// The next delivery of `hook`, if a slot of `destination` is free.
    pub fn next_for(&mut self, hook: &str, destination: &str) -> Option<(ClaimedDelivery, Slot)> {
        let queue = self.queues.get_mut(hook).filter(|q| !q.is_empty())?;
        let per_destination = self.per_destination;
        let limit = self
            .destinations
            .entry(destination.to_owned())
            .or_insert_with(|| Arc::new(Semaphore::new(per_destination)));
        let slot = limit.clone().try_acquire_owned().ok()?;
        let delivery = queue.pop_front()?;
        self.queued -= 1;
        Some((delivery, Slot { _permit: slot }))
    }

    /// The attempt of `id` ended (or it was dropped): its lease is no longer held here.
    pub fn forget(&mut self, id: &DeliveryId) {
        self.leased.remove(id);
    }

    /// Drops queued deliveries whose lease renewal did not come back (lost
    /// to another holder, or finished by a system disable); returns how many.
    pub fn drop_unrenewed(&mut self, renewed: &HashSet<DeliveryId>) -> usize {
        let mut dropped = Vec::new();
        for queue in self.queues.values_mut() {
            queue.retain(|d| {
                let keep = renewed.contains(&d.id);
                if !keep {
                    dropped.push(d.id.clone());
                }
                keep
            });
        }
        self.queued -= dropped.len();
        for id in &dropped {
            self.leased.remove(id);
        }
        dropped.len()
    }

    /// Whether this delivery is queued or in flight here.
    pub fn holds(&self, id: &DeliveryId) -> bool {
        self.leased.contains(id)
    }

    pub fn leased_ids(&self) -> Vec<DeliveryId> {
        self.leased.iter().cloned().collect()
    }

    /// Every queued id (to give back at shutdown).
    pub fn drain_queued(&mut self) -> Vec<DeliveryId> {
        let ids: Vec<DeliveryId> = self.queues.drain().flat_map(|(_, q)| q.into_iter().map(|d| d.id)).collect();
        self.queued = 0;
        ids
    }

    /// Forgets empty queues and idle destinations (a slot holds a clone of the Arc).
    pub fn prune(&mut self) {
        self.queues.retain(|_, q| !q.is_empty());
        self.destinations.retain(|_, limit| Arc::strong_count(limit) > 1);
    }
}

/// One of a destination's concurrency slots, held for the attempt's send.
pub struct Slot {
    _permit: tokio::sync::OwnedSemaphorePermit,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u32) -> DeliveryId {
        DeliveryId::parse(&format!("{n:024x}")).expect("id")
    }

    fn delivery(n: u32, hook: &str) -> ClaimedDelivery {
        ClaimedDelivery {
            id: id(n),
            event_id: app::domain::EventId::parse(&format!("{:024x}", 1_000 + n)).expect("event id"),
            hook_id: hook.into(),
            attempt_count: 0,
            payload: Arc::from("{}"),
        }
    }

    #[test]
    fn hooks_on_one_destination_share_its_slots_and_others_have_their_own() {
        let mut held = HeldDeliveries::new(2);
        held.enqueue((0..5).map(|i| delivery(i, &format!("slow{i}"))).collect());
        held.enqueue(vec![delivery(9, "fast")]);
        let mut slots = Vec::new();
        for i in 0..5 {
            if let Some((_, slot)) = held.next_for(&format!("slow{i}"), "http://slow:80") {
                slots.push(slot);
            }
        }
        assert_eq!(slots.len(), 2, "the slow destination's cap is shared by its hooks");
        assert!(held.next_for("fast", "http://fast:80").is_some(), "another destination is not blocked");
    }

    #[test]
    fn an_id_already_held_is_not_queued_twice() {
        let mut held = HeldDeliveries::new(1);
        held.enqueue(vec![delivery(1, "h")]);
        let again = held.enqueue(vec![delivery(1, "h"), delivery(2, "h")]);
        assert_eq!(again.already_held, 1);
        assert_eq!(held.queued(), 2);
    }

    #[test]
    fn unrenewed_queued_deliveries_are_dropped() {
        let mut held = HeldDeliveries::new(1);
        held.enqueue(vec![delivery(1, "h"), delivery(2, "h")]);
        let renewed: HashSet<DeliveryId> = [id(2)].into();
        assert_eq!(held.drop_unrenewed(&renewed), 1);
        assert_eq!(held.queued(), 1);
        assert_eq!(held.leased_ids(), vec![id(2)]);
    }

    #[test]
    fn a_trimmed_hook_keeps_its_oldest_and_gives_the_rest_back() {
        let mut held = HeldDeliveries::new(1);
        held.enqueue((0..5).map(|i| delivery(i, "paced")).collect());
        held.enqueue(vec![delivery(9, "free")]);
        let over = held.trim("paced", 2);
        assert_eq!(over, [id(2), id(3), id(4)]);
        assert_eq!((held.queued_for("paced"), held.queued()), (2, 3));
        assert!(!held.leased_ids().contains(&id(3)), "given back: no longer held here");
        assert!(held.trim("paced", 2).is_empty() && held.trim("free", 2).is_empty());
        assert!(held.refill_due(), "the trimmed hook is claimed again once its queue runs low");
    }
}
