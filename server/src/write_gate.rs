//! One in-process queue for the busy write transactions (publishing,
//! attempt records, claims, lease renewals, hand-backs, retention), and
//! for the WAL catch-up that needs them paused (`checkpoint.rs`).
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

/// PostgreSQL takes concurrent writers without sleeping (row locks, not a
/// database lock), and other processes write beside this one anyway: there
/// the gate lets every writer through at once.
#[derive(Clone, Default)]
pub struct WriteGate(Option<Arc<Mutex<()>>>);

impl WriteGate {
    /// The gate for a database: turns on SQLite, open on PostgreSQL.
    pub fn for_backend(backend: app::storage::Backend) -> Self {
        match backend {
            app::storage::Backend::Sqlite => Self(Some(Arc::default())),
            app::storage::Backend::Postgres => Self(None),
        }
    }

    /// Waits for this writer's turn, then runs `write` (one transaction).
    pub async fn run<T>(&self, write: impl Future<Output = T>) -> T {
        let _turn = match &self.0 {
            Some(lock) => Some(lock.lock().await),
            None => None,
        };
        write.await
    }
}
