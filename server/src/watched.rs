//! The background tasks the service cannot run without (the dispatcher, the
//! group-commit writers, retention, checkpoints). `serve` spawns them here
//! and, if one ends or panics while the service is running, logs which and
//! exits non-zero: a supervisor restarts the process and the leases bring
//! the work back. Silently serving 202s that nobody delivers is the worst case.

use std::collections::HashMap;
use std::future::Future;
use tokio::task::{Id, JoinSet};

#[derive(Default)]
pub struct Watched {
    tasks: JoinSet<()>,
    names: HashMap<Id, &'static str>,
}

/// A watched task that ended.
#[derive(Debug, thiserror::Error)]
#[error("the {name} task {how}")]
pub struct TaskEnded {
    pub name: &'static str,
    pub how: &'static str,
}

impl Watched {
    pub fn spawn(&mut self, name: &'static str, task: impl Future<Output = ()> + Send + 'static) {
        let id = self.tasks.spawn(task).id();
        self.names.insert(id, name);
    }

    /// The next task to end (pending forever when none is left).
    pub async fn next_end(&mut self) -> TaskEnded {
        let (id, how) = match self.tasks.join_next_with_id().await {
            Some(Ok((id, ()))) => (id, "stopped"),
            Some(Err(e)) => (e.id(), if e.is_panic() { "panicked" } else { "was cancelled" }),
            None => return std::future::pending().await,
        };
        TaskEnded { name: self.names.remove(&id).unwrap_or("background"), how }
    }

    /// After the HTTP drain gave up on requests still open: their handles
    /// keep the channels of the tasks named in `fed_by_requests` (the
    /// group-commit writers) open, so those never see them close. Waits for
    /// the other tasks (up to `limit`), then gives those `grace` to write
    /// what they were handed (a linger is 50 ms), and returns.
    pub async fn finish_with_requests_open(
        mut self,
        limit: std::time::Duration,
        grace: std::time::Duration,
        fed_by_requests: &[&str],
    ) {
        let others_done = async {
            while self.names.values().any(|name| !fed_by_requests.contains(name)) {
                match self.tasks.join_next_with_id().await {
                    Some(Ok((id, ()))) => self.names.remove(&id),
                    Some(Err(e)) => self.names.remove(&e.id()),
                    None => break,
                };
            }
        };
        if tokio::time::timeout(limit, others_done).await.is_err() {
            let left: Vec<&str> = self.names.values().copied().collect();
            tracing::warn!(?left, "background tasks did not finish in time");
            return;
        }
        let all = async { while self.tasks.join_next().await.is_some() {} };
        let _ = tokio::time::timeout(grace, all).await;
    }

    /// Waits for every task to end (after shutdown was asked for), up to `limit`.
    pub async fn finish(mut self, limit: std::time::Duration) {
        let all = async { while self.tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(limit, all).await.is_err() {
            tracing::warn!("background tasks did not finish in time");
        }
    }
}
