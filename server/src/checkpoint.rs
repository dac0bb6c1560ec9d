//! The WAL checkpoint, once a second, from a background task: SQLite's
//! automatic checkpoint is turned off (`storage::open`) so that it never
//! runs inside a request's commit.
//!
//! A passive checkpoint never blocks a writer, and under steady traffic it
//! also never lets the WAL start over: the WAL starts over at a write only
//! when a checkpoint copied all of it and no write landed meanwhile, and
//! one always does. The file then kept every frame ever written (100 MB
//! after 3,000 events, measured). So once the WAL holds `CATCH_UP_AT`
//! frames, a second passive checkpoint runs right after the first with the
//! writers paused (the task takes its turn at the write gate): it has only
//! the frames written during the first to copy, it finishes, and the next
//! write starts the WAL over, cut back to 96 MiB (`journal_size_limit`).
//! A reader still on old frames can hold that off; the next second tries
//! again.

use crate::write_gate::WriteGate;
use app::storage::Db;
use std::time::Duration;
use tokio::sync::watch;

/// 64 MiB of WAL with 4 KiB pages: a pause of the writers every few
/// seconds at most, and only under steady heavy traffic.
pub const CATCH_UP_AT: i64 = 16_384;

/// How often, at most, a WAL that stays long is reported.
const WARN_EVERY: Duration = Duration::from_secs(60);

/// Runs until `shutdown` turns true.
pub async fn run(db: Db, gate: WriteGate, mut shutdown: watch::Receiver<bool>) {
    let mut warned: Option<std::time::Instant> = None;
    loop {
        let checkpointed = app::storage::checkpoint(&db).await;
        if let Ok(Some(wal)) = checkpointed
            && wal.frames >= 2 * CATCH_UP_AT
            && wal.left() > 0
            && warned.is_none_or(|at| at.elapsed() >= WARN_EVERY)
        {
            // Something reads old frames for long (a backup, an open shell):
            // the WAL cannot start over while it does. (A long WAL copied
            // whole, on a server gone quiet, starts over at the next write.)
            tracing::warn!(
                frames = wal.frames,
                "the WAL stays long: a long-running reader holds it (a backup, an open sqlite3 shell?)"
            );
            warned = Some(std::time::Instant::now());
        }
        match checkpointed {
            Ok(frames) if needs_catching_up(frames) => {
                if let Err(e) = gate.run(app::storage::checkpoint(&db)).await {
                    tracing::warn!(error = %e, "WAL checkpoint failed; retrying in a second");
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed; retrying in a second"),
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// A long WAL the checkpoint could not copy whole: writes landed meanwhile.
/// Copied whole, it starts over at the next write without help.
fn needs_catching_up(wal: app::storage::WalFrames) -> bool {
    wal.is_some_and(|wal| wal.frames >= CATCH_UP_AT && wal.left() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_wal_is_caught_up_with_and_postgres_has_none() {
        use app::storage::Wal;
        let wal = |frames, copied| Some(Wal { frames, copied });
        assert!(!needs_catching_up(None));
        assert!(!needs_catching_up(wal(0, 0)));
        assert!(!needs_catching_up(wal(CATCH_UP_AT - 1, 0)));
        assert!(needs_catching_up(wal(CATCH_UP_AT, CATCH_UP_AT - 10)));
        // Copied whole (a server gone quiet): the next write starts it over.
        assert!(!needs_catching_up(wal(CATCH_UP_AT, CATCH_UP_AT)));
    }
}
