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

#[derive(Clone)]
pub struct Handoff {
    tx: mpsc::Sender<Vec<ClaimedDelivery>>,
    wake: Wake,
    owner: LeaseOwner,
    lease_ms: i64,
}

pub type HandoffReceiver = mpsc::Receiver<Vec<ClaimedDelivery>>;

pub fn channel(wake: Wake, owner: LeaseOwner, lease_ms: i64) -> (Handoff, HandoffReceiver) {
    let (tx, rx) = mpsc::channel(BATCHES_IN_HAND);
    (Handoff { tx, wake, owner, lease_ms }, rx)
}

impl Handoff {
    /// Stores the batch (one transaction) and passes its deliveries on.
    pub async fn publish(&self, db: &Db, requests: &[PublishRequest]) -> Result<Vec<Published>, StorageError> {
        let slot = self.tx.clone().try_reserve_owned().ok();
        let lease = slot.as_ref().map(|_| (&self.owner, self.lease_ms));
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
            slot.send(ready);
        }
        if queued > handed {
            self.wake.notify();
        }
        Ok(published)
    }
}
