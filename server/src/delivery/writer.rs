//! Group commit for attempt records: attempt tasks hand their record to one
//! writer task that writes whatever has queued up in one transaction. An
//! attempt's permits are released only after its record is written.

use crate::batch::Batcher;
use app::storage::Db;
use app::storage::deliveries::{self, Recorded};

const MAX_BATCH: usize = 256;

/// Each result is the reason when the attempt's hook was disabled by it.
pub type Writer = Batcher<Recorded, Option<String>>;

pub fn spawn(db: Db, disable_after_ms: i64) -> Writer {
    Batcher::spawn(MAX_BATCH, move |items: Vec<Recorded>| {
        let db = db.clone();
        async move { deliveries::record_batch(&db, &items, disable_after_ms).await.map_err(|e| e.to_string()) }
    })
}
