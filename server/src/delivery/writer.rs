//! Group commit for attempt records: attempt tasks hand their record to one
//! writer task that writes whatever has queued up in one transaction (two
//! statements), taking its turn at the write gate. Until its record is
//! written an attempt counts against the dispatcher's `MAX_UNRECORDED`.

use crate::batch::Batcher;
use crate::write_gate::WriteGate;
use app::storage::Db;
use app::storage::deliveries::{self, Recorded};

const MAX_BATCH: usize = 1024;

/// Each result is the reason when the attempt's hook was disabled by it.
pub type Writer = Batcher<Recorded, Option<String>>;

pub fn spawn(db: Db, gate: WriteGate, disable_after_ms: i64) -> Writer {
    Batcher::spawn(MAX_BATCH, move |items: Vec<Recorded>| {
        let (db, gate) = (db.clone(), gate.clone());
        async move { gate.run(deliveries::record_batch(&db, &items, disable_after_ms)).await.map_err(|e| e.to_string()) }
    })
}
