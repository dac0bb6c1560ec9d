//! A whole SQLite write transaction in **one round trip** to the
//! connection's thread: `BEGIN IMMEDIATE; …; COMMIT` sent as one
//! multi-statement query (numbered parameters bind across its statements).
//! Each command sqlx-sqlite runs wakes that thread and then a runtime
//! thread; at ordinary rates, where a batch holds one event, those
//! wake-ups were most of what an event cost (docs/BENCHMARKS.md, issue 17).
//!
//! The caller's answer follows the `COMMIT`'s own result, so nothing is
//! acknowledged before the commit (fsynced on the main pool). On any
//! error, or if the future is dropped midway, the connection is closed
//! rather than returned to the pool, and closing rolls back whatever the
//! transaction had done.
//!
//! After a clean `COMMIT` the connection is kept aside (`Spare`, one for
//! the main pool, `Db::one_trip_pool`) for the next such transaction instead of going back to the pool:
//! sqlx pings every connection given back to a pool, which on SQLite is
//! one more round trip to its thread per transaction. The pools are sized
//! with that connection counted out. The dispatcher's records use it too
//! (`deliveries::record_successes_in_one_trip`), with `synchronous` lowered
//! for their transaction and set back to FULL by its last statement.

use super::StorageError;
use futures_util::StreamExt;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Either, Executor, Sqlite, SqlitePool};
use std::sync::{Arc, Mutex, PoisonError};

/// A connection between two one-trip transactions, idle (no transaction
/// open, no statement unfinished, so no read snapshot holding back a
/// checkpoint): taken by the next one, or given back to the pool when the
/// last `Db` handle on the pool goes. (`Pool::close` waits for every
/// connection, this one too: nothing calls it while a `Db` lives.)
#[derive(Clone, Default)]
pub(super) struct Spare(Arc<Mutex<Option<PoolConnection<Sqlite>>>>);

impl Spare {
    pub(super) fn take(&self) -> Option<PoolConnection<Sqlite>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }

    /// Keeps `conn` unless another is kept already (that one goes back to the pool).
    fn keep(&self, conn: PoolConnection<Sqlite>) {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let surplus = if slot.is_none() { slot.replace(conn) } else { Some(conn) };
        drop(slot);
        drop(surplus);
    }
}

/// Runs `query` (`statements` statements, the first `BEGIN IMMEDIATE`, the
/// last `COMMIT`) and returns each statement's rows, in order.
pub(super) async fn run(
    pool: &SqlitePool,
    spare: &Spare,
    query: sqlx::query::Query<'_, Sqlite, SqliteArguments>,
    statements: usize,
) -> Result<Vec<Vec<SqliteRow>>, StorageError> {
    let connection = match spare.take() {
        Some(connection) => connection,
        None => pool.acquire().await?,
    };
    let mut conn = ClosedUnlessDone(Some(connection));
    let mut rows: Vec<Vec<SqliteRow>> = (0..statements).map(|_| Vec::new()).collect();
    let mut finished = 0;
    {
        let Some(connection) = conn.0.as_mut() else { return Err(StorageError::Corrupt("connection taken")) };
        let mut results = Executor::fetch_many(&mut **connection, query);
        while let Some(result) = results.next().await {
            match result? {
                // One per statement, when it has finished.
                Either::Left(_) => finished += 1,
                Either::Right(row) => {
                    rows.get_mut(finished).ok_or(StorageError::Corrupt("a row past the last statement"))?.push(row);
                }
            }
        }
    }
    if finished != statements {
        return Err(StorageError::Corrupt("a transaction ended before its COMMIT"));
    }
    if let Some(done) = conn.0.take() {
        spare.keep(done);
    }
    Ok(rows)
}

/// A pooled connection in the middle of a transaction sqlx does not know
/// about: closed when dropped, unless taken out once the COMMIT finished.
struct ClosedUnlessDone(Option<PoolConnection<Sqlite>>);

impl Drop for ClosedUnlessDone {
    fn drop(&mut self) {
        if let Some(conn) = self.0.as_mut() {
            conn.close_on_drop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::sqlite::SqlitePoolOptions;

    async fn pool() -> (tempfile::TempDir, SqlitePool) {
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        // One connection: a transaction left open on it would show at once.
        let pool = SqlitePoolOptions::new().max_connections(1).connect(&url).await.expect("open");
        sqlx::query("CREATE TABLE t (n INTEGER NOT NULL)").execute(&pool).await.expect("table");
        (dir, pool)
    }

    async fn count(pool: &SqlitePool) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM t").fetch_one(pool).await.expect("count")
    }

    #[tokio::test]
    async fn each_statements_rows_come_back_after_the_commit() {
        let (_dir, pool) = pool().await;
        let query =
            sqlx::query("BEGIN IMMEDIATE; INSERT INTO t (n) VALUES ($1), ($2) RETURNING n; SELECT $2 + 1; COMMIT")
                .bind(1)
                .bind(2);
        let spare = Spare::default();
        let rows = run(&pool, &spare, query, 4).await.expect("run");
        let first: Vec<i64> = rows[1].iter().map(|r| sqlx::Row::get(r, 0)).collect();
        assert_eq!(first, vec![1, 2]);
        assert_eq!(rows[2].len(), 1);
        // The pool's one connection is kept aside until taken back.
        drop(spare.take().expect("kept after a clean commit"));
        assert_eq!(count(&pool).await, 2);
    }

    async fn synchronous(conn: &mut sqlx::SqliteConnection) -> i64 {
        sqlx::query_scalar("PRAGMA synchronous").fetch_one(conn).await.expect("pragma")
    }

    /// What the records' transaction relies on (`deliveries.rs`): a
    /// `synchronous` set before `BEGIN` holds for that transaction, the one
    /// set after `COMMIT` afterwards — also when sqlx reuses the prepared
    /// statements — and a run that fails midway leaves no connection in the
    /// lowered state.
    #[tokio::test]
    async fn a_lowered_synchronous_holds_for_its_transaction_only() {
        let (_dir, pool) = pool().await;
        let spare = Spare::default();
        let sql = "PRAGMA synchronous = NORMAL; BEGIN IMMEDIATE; INSERT INTO t (n) VALUES ($1); PRAGMA synchronous; \
                   COMMIT; PRAGMA synchronous = FULL";
        for n in 0..3 {
            let rows = run(&pool, &spare, sqlx::query(sql).bind(n), 6).await.expect("run");
            let inside: i64 = sqlx::Row::get(&rows[3][0], 0);
            assert_eq!(inside, 1, "NORMAL inside the transaction (run {n})");
            let mut kept = spare.take().expect("kept");
            assert_eq!(synchronous(&mut kept).await, 2, "FULL again after it (run {n})");
            spare.keep(kept);
        }
        let failing = "PRAGMA synchronous = NORMAL; BEGIN IMMEDIATE; INSERT INTO t (n) VALUES (NULL); COMMIT; \
                       PRAGMA synchronous = FULL";
        assert!(run(&pool, &spare, sqlx::query(failing), 5).await.is_err());
        assert!(spare.take().is_none(), "the failed run's connection is not kept");
        let mut fresh = pool.acquire().await.expect("a connection");
        assert_eq!(synchronous(&mut fresh).await, 2, "the pool's connections fsync");
    }

    #[tokio::test]
    async fn a_failing_statement_rolls_the_whole_transaction_back() {
        let (_dir, pool) = pool().await;
        let query =
            sqlx::query("BEGIN IMMEDIATE; INSERT INTO t (n) VALUES ($1); INSERT INTO t (n) VALUES (NULL); COMMIT")
                .bind(7);
        let spare = Spare::default();
        assert!(run(&pool, &spare, query, 4).await.is_err());
        assert!(spare.take().is_none(), "a failed transaction's connection is never kept");
        // The connection holding the open transaction was closed, not reused:
        // the first insert is gone and a new transaction starts cleanly.
        assert_eq!(count(&pool).await, 0);
        let again = sqlx::query("BEGIN IMMEDIATE; INSERT INTO t (n) VALUES ($1); COMMIT").bind(8);
        run(&pool, &spare, again, 3).await.expect("a new transaction");
        // Kept aside, idle: the pool's one connection is the spare, and
        // nothing is left open on it.
        let kept = spare.take().expect("kept after a clean commit");
        drop(kept);
        assert_eq!(count(&pool).await, 1);
    }
}
