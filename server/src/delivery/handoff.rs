//! The fast path from publishing to the dispatcher. A batch of events is
//! stored with its new deliveries already leased to this process's
//! dispatcher and then handed over in memory, so the dispatcher sends them
//! without a claim query. Only while the dispatcher has room: otherwise they
//! are stored unleased and the dispatcher is woken to claim them from the
//! database. Either way they are committed before the 202, so a crash loses
//! nothing.

use super::Wake;
use app::storage::deliveries::{ClaimedDelivery, LeaseOwner};
use app::storage::events::{self, PublishRequest, Published};
use app::storage::{Db, StorageError};
use tokio::sync::mpsc;

/// Batches waiting for the dispatcher; each batch is one group commit.
const BATCHES_IN_HAND: usize = 2;

/// One group commit's leased deliveries, with when their lease began (taken
/// just before the commit, so never later than the lease's own start).
pub struct HandedOver {
    pub leased_at: std::time::Instant,
    pub deliveries: Vec<ClaimedDelivery>,
}

impl HandedOver {
    /// A batch that waited in the channel for half its lease or more is not
    /// sent from memory: the dispatcher renews what it holds every quarter
    /// lease, so a later batch could lapse, be claimed by another process
    /// (PostgreSQL) and then be sent twice. It is given back instead
    /// (released only where this process still owns it) and claimed anew.
    pub fn is_stale(&self, lease_ms: i64) -> bool {
        let half = std::time::Duration::from_millis(u64::try_from(lease_ms / 2).unwrap_or(0));
        self.leased_at.elapsed() >= half
    }
}

#[derive(Clone)]
pub struct Handoff {
    tx: mpsc::Sender<HandedOver>,
    wake: Wake,
    owner: LeaseOwner,
    lease_ms: i64,
}

pub type HandoffReceiver = mpsc::Receiver<HandedOver>;

pub fn channel(wake: Wake, owner: LeaseOwner, lease_ms: i64) -> (Handoff, HandoffReceiver) {
    let (tx, rx) = mpsc::channel(BATCHES_IN_HAND);
    (Handoff { tx, wake, owner, lease_ms }, rx)
}

impl Handoff {
    /// Stores the batch (one transaction) and passes its deliveries on.
    pub async fn publish(&self, db: &Db, requests: &[PublishRequest]) -> Result<Vec<Published>, StorageError> {
        let slot = self.tx.clone().try_reserve_owned().ok();
        let lease = slot.as_ref().map(|_| (&self.owner, self.lease_ms));
        let leased_at = std::time::Instant::now();
        let mut published = events::publish_batch(db, requests, lease).await?;
        let mut ready = Vec::new();
        let mut queued = 0;
        for item in &mut published {
            if let Published::New { deliveries, leased } = item {
                queued += *deliveries;
                ready.append(leased);
            }
        }
        // Deliveries stored but not handed over (an ordered hook's are
        // stored unleased) wait for a claim: wake the dispatcher for them.
        let handed = u64::try_from(ready.len()).unwrap_or(u64::MAX);
        if let Some(slot) = slot.filter(|_| !ready.is_empty()) {
            slot.send(HandedOver { leased_at, deliveries: ready });
        }
        if queued > handed {
            self.wake.notify();
        }
        Ok(published)
    }
}

#[cfg(test)]
mod tests {
    use super::HandedOver;
    use std::time::{Duration, Instant};

    fn waited(ms: u64) -> HandedOver {
        let leased_at = Instant::now().checked_sub(Duration::from_millis(ms)).expect("the clock is past boot");
        HandedOver { leased_at, deliveries: Vec::new() }
    }

    #[test]
    fn a_batch_that_waited_half_its_lease_is_stale() {
        assert!(!waited(0).is_stale(20_000));
        assert!(!waited(9_000).is_stale(20_000));
        assert!(waited(10_000).is_stale(20_000));
        assert!(waited(60_000).is_stale(20_000));
    }
}
