//! Removes old delivery history: attempts, and events (with their
//! deliveries) older than `--retention` whose deliveries are all finished;
//! idempotency keys older than 24 h; expired dashboard sessions. Runs at
//! start, then once an hour.
//!
//! A pass goes in steps of about `STEP_ROWS` rows (`storage::retention`),
//! each its own transaction at the write gate: publishing and the
//! dispatcher take their turns between steps, so a pass over millions of
//! rows never holds the write lock for long (docs/BENCHMARKS.md has the
//! figure under load).

use crate::write_gate::WriteGate;
use app::storage::{Db, retention::Pass, sessions};
use std::time::Duration;
use tokio::sync::watch;

pub async fn run(db: Db, gate: WriteGate, retention: Duration, mut shutdown: watch::Receiver<bool>) {
    let retention_ms = i64::try_from(retention.as_millis()).unwrap_or(i64::MAX / 2);
    loop {
        let removed = prune(&db, &gate, app::storage::now_ms() - retention_ms, &shutdown).await;
        if removed > 0 {
            tracing::info!(removed, "retention: old delivery history removed");
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

/// One pass: step after step until nothing older than `cutoff` is left.
async fn prune(db: &Db, gate: &WriteGate, cutoff: i64, shutdown: &watch::Receiver<bool>) -> u64 {
    let mut removed = 0;
    let mut pass = Pass::new(cutoff);
    while !pass.is_done() && !*shutdown.borrow() {
        match gate.run(pass.step(db)).await {
            Ok(n) => removed += n,
            Err(e) => {
                tracing::error!(error = %e, "retention: pruning failed; the next pass tries again");
                break;
            }
        }
        // Let whoever waits for the gate go first.
        tokio::task::yield_now().await;
    }
    removed
}
