//! Group commit for attempt records: attempt tasks hand their record to one
//! writer task that writes whatever has queued up in one transaction,
//! taking its turn at the write gate. Until its record is written an
//! attempt counts against the dispatcher's `MAX_UNRECORDED`.

use crate::batch::Batcher;
use crate::write_gate::WriteGate;
use app::storage::deliveries::{self, LeaseOwner, RecordResult, Recorded};
use app::storage::{Db, StorageError};
use std::future::Future;

const MAX_BATCH: usize = 1024;

pub type Writer = Batcher<Recorded, RecordResult, StorageError>;

/// The writer and its task (spawned and watched by `serve`).
pub fn new(
    db: Db,
    gate: WriteGate,
    owner: LeaseOwner,
    disable_after_ms: i64,
) -> (Writer, impl Future<Output = ()> + Send + 'static) {
    Batcher::new(MAX_BATCH, move |items: std::sync::Arc<[Recorded]>| {
        let (db, gate, owner) = (db.clone(), gate.clone(), owner.clone());
        async move { gate.run(deliveries::record_batch(&db, &owner, &items, disable_after_ms)).await }
    })
}
