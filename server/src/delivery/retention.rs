//! Removes old delivery history: attempts, and events (with their
//! deliveries) older than `--retention` whose deliveries are all finished;
//! idempotency keys older than 24 h; expired dashboard sessions. Runs once an hour.

use crate::write_gate::WriteGate;
use app::storage::{Db, deliveries, sessions};
use std::time::Duration;
use tokio::sync::watch;

pub async fn run(db: Db, gate: WriteGate, retention: Duration, mut shutdown: watch::Receiver<bool>) {
    let retention_ms = i64::try_from(retention.as_millis()).unwrap_or(i64::MAX / 2);
    loop {
        match gate.run(deliveries::prune(&db, app::storage::now_ms() - retention_ms)).await {
            Ok(removed) if removed > 0 => tracing::info!(removed, "retention: old delivery history removed"),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "retention: pruning failed"),
        }
        if let Err(e) = sessions::prune(&db).await {
            tracing::error!(error = %e, "retention: removing expired sessions failed");
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(3600)) => {}
            _ = shutdown.changed() => return,
        }
    }
}
