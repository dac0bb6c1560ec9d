//! Group commit for publishing: concurrent `POST /api/v1/events` requests
//! are stored together in one fsynced transaction, and each is answered only
//! after that commit. Many requests, one fsync: durable 202s at a higher rate.

use crate::batch::Batcher;
use crate::delivery::handoff::Handoff;
use crate::write_gate::WriteGate;
use app::storage::events::{PublishRequest, Published};
use app::storage::{Db, StorageError};
use std::future::Future;

const MAX_BATCH: usize = 512;

pub type Ingest = Batcher<PublishRequest, Published, StorageError>;

/// The ingest batcher and its writer task (spawned and watched by `serve`).
pub fn new(db: Db, handoff: Handoff, gate: WriteGate) -> (Ingest, impl Future<Output = ()> + Send + 'static) {
    Batcher::new(MAX_BATCH, move |requests: std::sync::Arc<[PublishRequest]>| {
        let (db, handoff, gate) = (db.clone(), handoff.clone(), gate.clone());
        async move {
            gate.run(handoff.publish(&db, &requests)).await.inspect_err(|e| {
                tracing::error!(error = %e, events = requests.len(), "storing a batch of events failed");
            })
        }
    })
}
