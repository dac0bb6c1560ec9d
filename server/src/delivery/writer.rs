//! Group commit for attempt records: attempt tasks hand their record to one
//! writer task that writes whatever has queued up in one transaction,
//! taking its turn at the write gate. Until its record is written an
//! attempt counts against the dispatcher's `MAX_UNRECORDED`.
//!
//! The writer lingers up to `LINGER` for more records after a small
//! batch's first (`batch.rs`): at ordinary rates a record per transaction
//! cost a round trip to SQLite's thread per delivery, now a batch shares
//! it. Nothing is acknowledged by a record (the receiver has its request);
//! a crash inside the wait sends those deliveries again, as a crash between
//! a send and its record always could. A record something waits on — an
//! ordered hook's next delivery, a `maxInFlight` hook's next attempt (the
//! attempt counts until its task ends) — goes with `submit_now`.

use crate::batch::{Batcher, Linger};
use crate::write_gate::WriteGate;
use app::storage::deliveries::{self, LeaseOwner, RecordResult, Recorded};
use app::storage::{Db, StorageError};
use std::future::Future;

const MAX_BATCH: usize = 1024;
/// How long a record may wait for others, and the batch that need not.
const LINGER: Linger = Linger { up_to: std::time::Duration::from_millis(50), unless_at_least: 64 };

pub type Writer = Batcher<Recorded, RecordResult, StorageError>;

/// The writer and its task (spawned and watched by `serve`).
pub fn new(
    db: Db,
    gate: WriteGate,
    owner: LeaseOwner,
    disable_after_ms: i64,
) -> (Writer, impl Future<Output = ()> + Send + 'static) {
    Batcher::lingering(MAX_BATCH, Some(LINGER), move |items: std::sync::Arc<[Recorded]>| {
        let (db, gate, owner) = (db.clone(), gate.clone(), owner.clone());
        async move { gate.run(deliveries::record_batch(&db, &owner, &items, disable_after_ms)).await }
    })
}
