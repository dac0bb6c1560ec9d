//! The dispatcher's side of per-hook pace: a hook with its own
//! `rateLimit` or `maxInFlight` holds at most `PACED_QUEUE` deliveries in
//! memory (so a few slow hooks cannot fill the queue everyone shares), and
//! is claimed apart from the others, a few at a time, before it runs dry.

use super::{CLAIM_BATCH, Dispatcher, PACED_QUEUE};
use app::storage::directory::HookNow;

impl Dispatcher {
    /// Paced hooks keep at most `PACED_QUEUE` queued; the rest goes back to
    /// the outbox (due as it was) and is claimed again as their queue runs low.
    pub(super) fn trim_paced(&mut self) {
        let directory = self.parts.ctx.db.hooks();
        for hook in self.held.hooks_with_work() {
            let target = match directory.cached(&hook) {
                Some(HookNow::Active(t)) => Some(t),
                _ => None,
            };
            let paced = target.as_ref().is_some_and(|t| t.rate_limit.is_some() || t.max_in_flight.is_some());
            if paced {
                // An ordered hook's claim gives only its head; more queued
                // here were taken before it was switched to ordered, and go
                // back so the claim orders them.
                let cap = if target.as_ref().is_some_and(|t| t.ordered) { 1 } else { PACED_QUEUE };
                let over = self.held.trim(&hook, cap);
                if !over.is_empty() {
                    self.give_back.extend(over);
                    self.paced_backlog.insert(hook.clone());
                }
                self.paced.insert(hook);
            } else {
                self.paced.remove(&hook);
            }
        }
        // Hooks no longer paced (edited, deleted, forgotten) go back to the main claim.
        self.paced.retain(|hook| {
            matches!(directory.cached(hook), Some(HookNow::Active(t)) if t.rate_limit.is_some() || t.max_in_flight.is_some())
        });
        let held = &self.held;
        let before = self.paced_backlog.len();
        self.paced_backlog.retain(|hook| held.queued_for(hook) >= PACED_QUEUE / 2);
        if self.paced_backlog.len() < before {
            self.claim_now = true;
        }
    }

    /// Paced hooks with less than half their share queued: up to
    /// `PACED_QUEUE` each of their due deliveries.
    pub(super) async fn claim_paced(&mut self) {
        let needy: Vec<String> =
            self.paced.iter().filter(|h| self.held.queued_for(h) < PACED_QUEUE / 2).cloned().collect();
        if needy.is_empty() || !self.held.has_room() {
            return;
        }
        let only: Vec<&str> = needy.iter().map(String::as_str).collect();
        let limit = (needy.len() * PACED_QUEUE).min(self.held.room()).min(CLAIM_BATCH);
        match self.claim(limit, PACED_QUEUE, &[], Some(&only)).await {
            Ok(claimed) => {
                self.doubt_stale_switch_offs(&claimed);
                self.enqueue(claimed);
            }
            Err(e) => tracing::error!(error = %e, "dispatcher: claiming paced hooks' deliveries failed"),
        }
    }
}
