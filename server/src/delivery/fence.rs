//! The fence of several processes (PostgreSQL): right before an attempt is
//! sent with this process's copy of its hook, the copy's revision is
//! confirmed against the database (`storage::hooks::revisions`). A hook
//! edited, switched off or deleted through another process has a newer
//! revision (or none), so once that change has answered, no attempt that
//! starts afterwards here uses the old state, whatever the notification's
//! latency. The checks of attempts starting together are one query (a
//! `Batcher`), so the cost is a read per batch, not per attempt. SQLite
//! needs no fence: one process owns the database and its directory is told
//! of every change before the change answers.

use crate::batch::Batcher;
use app::storage::{Db, StorageError, hooks};
use std::future::Future;
use std::sync::Arc;

const MAX_BATCH: usize = 1024;

/// Hook id in; its current revision out (`None`: deleted).
pub type Fence = Batcher<String, Option<i64>, StorageError>;

/// The fence and its task (spawned and watched by `serve`).
pub fn new(db: Db) -> (Fence, impl Future<Output = ()> + Send + 'static) {
    Batcher::new(MAX_BATCH, move |ids: Arc<[String]>| {
        let db = db.clone();
        async move {
            let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
            let current = hooks::revisions(&db, &refs).await?;
            Ok(ids.iter().map(|id| current.get(id).copied()).collect())
        }
    })
}
