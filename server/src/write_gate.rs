//! One in-process queue for the busy write transactions (publishing,
//! attempt records, claims, lease renewals, hand-backs, retention).
//!
//! SQLite has one writer at a time. Two connections that both want to write
//! meet SQLite's busy handler, which *sleeps* (1, 2, 5 … 100 ms) and retries:
//! under load a batch waited up to a second while the machine sat idle
//! (docs/BENCHMARKS.md). Taking turns here instead — a fair FIFO async lock
//! — means a writer starts the moment the previous one commits. Rare writes
//! (the dashboard, hook registration) still rely on the busy timeout.

use std::future::Future;
use std::sync::Arc;
use tokio::sync::Mutex;

#[derive(Clone, Default)]
pub struct WriteGate(Arc<Mutex<()>>);

impl WriteGate {
    /// Waits for this writer's turn, then runs `write` (one transaction).
    pub async fn run<T>(&self, write: impl Future<Output = T>) -> T {
        let _turn = self.0.lock().await;
        write.await
    }
}
