//! The hooks as the dispatcher sends to them: an in-memory copy of each
//! hook's delivery target, kept true by the hook writes themselves.
//!
//! Queued deliveries carry only their hook's id. Right before an attempt
//! the dispatcher asks the directory for the hook *as it is now*. Every
//! write that changes a hook (edit, switch, delete, secret rotation, a
//! system disable) calls `changed` after its commit and before it answers,
//! which drops the copy; the next attempt loads the committed row. So once a
//! change has answered, no attempt that starts afterwards uses the old state,
//! while the common case (nothing changed) costs a map lookup, not a query.
//!
//! Revisions make the reload race-free: a load remembers the revision it
//! started from and keeps its result only if no change came in meanwhile
//! (a load that read the row before a commit must not be kept after it).
//!
//! On PostgreSQL other processes change hooks too: each write's transaction
//! also sends a notification on `CHANNEL` (delivered at its commit), and
//! `listen` (a task of every `serve` process) calls `changed` for it, so
//! another process forgets its copy within the notification's latency. If
//! the listening connection drops, every copy is forgotten, since
//! notifications sent meanwhile are lost; and a copy is kept at most
//! `SHARED_TTL_MS` there. What makes the promise hold across processes is
//! the fence (`server/src/delivery/fence.rs`): right before sending, the
//! copy's `revision` is confirmed against the database.

use super::backend::{on_pool, postgres};
use super::target::{HookTarget, TargetRow};
use super::{Db, StorageError, json_rows};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::Notify;

/// A hook's state as far as delivery goes.
#[derive(Debug, Clone)]
pub enum HookNow {
    /// Switched on: send with this target.
    Active(Arc<HookTarget>),
    /// Switched off by its owner, or disabled by the system: nothing is sent.
    Inactive,
    /// Deleted: its deliveries are gone with it.
    Gone,
}

struct Entry {
    /// The global revision of the hook's last change (0: none seen).
    revision: u64,
    /// `None`: not loaded since the last change.
    now: Option<HookNow>,
    /// When this entry last changed or was loaded (ms), for forgetting old ones.
    touched_at: i64,
}

#[derive(Default)]
struct Inner {
    /// This process's token in notifications (its own are not applied twice).
    process: String,
    /// Other processes may change hooks (PostgreSQL): copies expire.
    shared: bool,
    /// `forget_all`'s revision: no load that began before it is kept, even
    /// for a hook that had no entry then.
    floor: AtomicU64,
    entries: Mutex<HashMap<String, Entry>>,
    /// Every change takes the next revision; a load remembers the counter
    /// when it starts and keeps its result only for hooks whose revision is
    /// not newer.
    next_revision: AtomicU64,
    /// Woken on every change (a hook switched on has deliveries to claim).
    changes: Notify,
}

/// How often a load re-reads hooks that changed while it read them.
const STABLE_READS: usize = 8;
/// Entries not in use are forgotten after this long. No load takes that
/// long, so no load that began before a change can outlive its entry.
const FORGET_AFTER_MS: i64 = 10 * 60 * 1000;
/// With other processes (PostgreSQL), a loaded copy is used at most this
/// long before it is read again: a backstop for a lost notification (the
/// fence still checks every attempt).
const SHARED_TTL_MS: i64 = 30 * 1000;

/// The PostgreSQL notification channel of hook changes (payload `process:hook id`).
pub const CHANNEL: &str = "hookrelay_hook_changed";

#[derive(Clone, Default)]
pub struct HookDirectory(Arc<Inner>);

impl HookDirectory {
    pub(super) fn new(process: String, shared: bool) -> Self {
        Self(Arc::new(Inner { process, shared, ..Inner::default() }))
    }

    /// This process's token in hook-change notifications.
    pub(super) fn process(&self) -> &str {
        &self.0.process
    }

    /// Forgets every loaded hook (the next attempts reload them).
    pub fn forget_all(&self) {
        let revision = self.0.next_revision.fetch_add(1, Ordering::SeqCst) + 1;
        self.0.floor.fetch_max(revision, Ordering::SeqCst);
        let touched_at = super::now_ms();
        for entry in self.entries().values_mut() {
            *entry = Entry { revision, now: None, touched_at };
        }
        self.0.changes.notify_one();
    }

    fn entries(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        // A panic while holding this lock cannot leave a map half-written.
        self.0.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The hook as last loaded, if nothing changed since.
    pub fn cached(&self, hook_id: &str) -> Option<HookNow> {
        let entries = self.entries();
        let entry = entries.get(hook_id)?;
        if self.0.shared && super::now_ms() - entry.touched_at > SHARED_TTL_MS {
            return None;
        }
        entry.now.clone()
    }

    /// Called by every hook write after its commit (and before it answers):
    /// the next attempt reloads the hook.
    pub fn changed(&self, hook_id: &str) {
        let revision = self.0.next_revision.fetch_add(1, Ordering::SeqCst) + 1;
        let touched_at = super::now_ms();
        self.entries().insert(hook_id.to_owned(), Entry { revision, now: None, touched_at });
        self.0.changes.notify_one();
    }

    /// Like `changed`, but only while the copy held is `Active` at
    /// `revision` (the fence found it stale): many attempts finding the
    /// same stale copy drop it once, not each other's fresh loads.
    pub fn changed_if_at(&self, hook_id: &str, revision: i64) {
        let stale = matches!(
            self.entries().get(hook_id).and_then(|e| e.now.as_ref()),
            Some(HookNow::Active(target)) if target.revision == revision
        );
        if stale {
            self.changed(hook_id);
        }
    }

    /// Resolves when a hook changed since the last call.
    pub async fn wait_for_change(&self) {
        self.0.changes.notified().await;
    }

    /// The hook as it is now: from memory, or loaded from the database.
    pub async fn current(&self, db: &Db, hook_id: &str) -> Result<HookNow, StorageError> {
        if let Some(now) = self.cached(hook_id) {
            return Ok(now);
        }
        let mut loaded = self.load(db, &[hook_id]).await?;
        Ok(loaded.remove(hook_id).unwrap_or(HookNow::Gone))
    }

    /// Loads several hooks and caches each. A hook that changed while it
    /// was read is read again (its read may predate the change's commit),
    /// so what comes back is at least as new as every change made before
    /// the last read began.
    pub async fn load(&self, db: &Db, hook_ids: &[&str]) -> Result<HashMap<String, HookNow>, StorageError> {
        let mut result = HashMap::with_capacity(hook_ids.len());
        let mut pending: Vec<&str> = hook_ids.to_vec();
        for _ in 0..STABLE_READS {
            if pending.is_empty() {
                break;
            }
            let started = self.0.next_revision.load(Ordering::SeqCst);
            let found = read(db, &pending).await?;
            let mut entries = self.entries();
            // After taking the lock: `forget_all` raises it before taking it.
            let floor = self.0.floor.load(Ordering::SeqCst);
            let mut raced = Vec::new();
            for id in pending {
                let now = found.get(id).cloned().unwrap_or(HookNow::Gone);
                let entry = entries.entry(id.to_owned()).or_insert_with(|| Entry {
                    revision: 0,
                    now: None,
                    touched_at: super::now_ms(),
                });
                if entry.revision.max(floor) <= started {
                    entry.now = Some(now.clone());
                    entry.touched_at = super::now_ms();
                } else {
                    raced.push(id);
                }
                result.insert(id.to_owned(), now);
            }
            pending = raced;
        }
        Ok(result)
    }

    /// Forgets entries of deleted hooks and of hooks changed but not loaded
    /// since, once they are old (called now and then: the map holds the
    /// hooks in use, not every hook ever changed).
    pub fn forget_old(&self) {
        let cutoff = super::now_ms() - FORGET_AFTER_MS;
        self.entries()
            .retain(|_, e| matches!(e.now, Some(HookNow::Active(_) | HookNow::Inactive)) || e.touched_at > cutoff);
    }
}

/// The hooks among `ids` as they are in the database (missing = deleted).
async fn read(db: &Db, ids: &[&str]) -> Result<HashMap<String, HookNow>, StorageError> {
    let sql = db.sql(
        "SELECT h.id AS hook_id, h.endpoint, h.auth_type, h.username, h.password_enc, h.token_enc,
                h.token_generated, h.signing_secret_enc, h.previous_signing_secret_enc,
                h.previous_signing_expires_at, h.is_active, h.revision, h.headers, h.secret_headers_enc,
                h.timeout_seconds, h.rate_limit, h.max_in_flight, h.ordered
         FROM hooks h WHERE h.id IN (SELECT value FROM json_each($1))",
        "SELECT h.id AS hook_id, h.endpoint, h.auth_type, h.username, h.password_enc, h.token_enc,
                h.token_generated, h.signing_secret_enc, h.previous_signing_secret_enc,
                h.previous_signing_expires_at, h.is_active, h.revision, h.headers, h.secret_headers_enc,
                h.timeout_seconds, h.rate_limit, h.max_in_flight, h.ordered
         FROM hooks h WHERE h.id IN (SELECT value FROM json_array_elements_text($1::json))",
    );
    let ids = json_rows(ids)?;
    let rows: Vec<TargetRow> = on_pool!(&db.pool, p => sqlx::query_as(sql).bind(&ids).fetch_all(p).await)?;
    rows.into_iter()
        .map(|row| {
            let active = row.is_active;
            let target = HookTarget::try_from(row)?;
            let id = target.hook_id.to_string();
            Ok((id, if active { HookNow::Active(Arc::new(target)) } else { HookNow::Inactive }))
        })
        .collect()
}

/// Applies other processes' hook changes to this process's directory
/// (PostgreSQL; returns at once on SQLite, where one process owns the
/// database). Runs until `stop` resolves.
pub async fn listen(db: Db, stop: impl std::future::Future<Output = ()>) {
    let Some(pool) = postgres(&db.pool) else { return };
    tokio::pin!(stop);
    loop {
        let run = async {
            let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
            listener.listen(CHANNEL).await?;
            // Changes made before this connection listened were not heard.
            db.hooks.forget_all();
            loop {
                match listener.try_recv().await? {
                    Some(note) => {
                        if let Some((process, hook)) = note.payload().split_once(':')
                            && process != db.hooks.process()
                        {
                            db.hooks.changed(hook);
                        }
                    }
                    // The connection dropped: what was sent meanwhile is lost.
                    None => db.hooks.forget_all(),
                }
            }
            #[allow(unreachable_code)]
            Ok::<(), sqlx::Error>(())
        };
        tokio::select! {
            result = run => {
                if let Err(e) = result {
                    tracing::warn!(error = %e, "hook-change notifications: connection failed; retrying in a second");
                }
                db.hooks.forget_all();
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
            () = &mut stop => return,
        }
    }
}
