//! The WAL checkpoint, once a second, from a background task: SQLite's
//! automatic checkpoint is turned off (`storage::open`) so that it never
//! runs inside a request's commit.

use app::storage::Db;
use std::time::Duration;
use tokio::sync::watch;

/// Runs until `shutdown` turns true.
pub async fn run(db: Db, mut shutdown: watch::Receiver<bool>) {
    loop {
        if let Err(e) = app::storage::checkpoint(&db).await {
            tracing::warn!(error = %e, "WAL checkpoint failed; retrying in a second");
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = shutdown.changed() => return,
        }
    }
}
