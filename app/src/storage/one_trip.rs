//! A whole SQLite write transaction in **one round trip** to the
//! connection's thread: `BEGIN IMMEDIATE; …; COMMIT` sent as one
//! multi-statement query (numbered parameters bind across its statements).
//! Each command sqlx-sqlite runs wakes that thread and then a runtime
//! thread; at ordinary rates, where a batch holds one event, those
//! wake-ups were most of what an event cost (docs/BENCHMARKS.md, issue 17).
//!
//! The caller's answer follows the `COMMIT`'s own result, so nothing is
//! acknowledged before the commit (fsynced on the main pool).
//!
//! The transactions run on a connection of their own (`Writer`), opened
//! with the pool's options (so `synchronous` is the pool's) but outside it:
//! sqlx pings every pooled connection when it is given back, one more
//! round trip per transaction. The writers take turns anyway (one SQLite
//! writer; `WriteGate`). On any error, or if the future is dropped midway,
//! the connection is dropped, which closes it and rolls back whatever the
//! transaction had done; the next transaction opens a new one.

use super::StorageError;
use futures_util::StreamExt;
use sqlx::sqlite::{SqliteArguments, SqliteConnection, SqliteRow};
use sqlx::{ConnectOptions, Either, Executor, Sqlite, SqlitePool};
use std::sync::Arc;
use tokio::sync::Mutex;

/// The connection one-trip transactions run on (one per `Db`, shared by its clones).
#[derive(Clone, Default)]
pub(super) struct Writer(Arc<Mutex<Option<SqliteConnection>>>);

/// Runs `query` (`statements` statements, the first `BEGIN IMMEDIATE`, the
/// last `COMMIT`) and returns each statement's rows, in order.
pub(super) async fn run(
    pool: &SqlitePool,
    writer: &Writer,
    query: sqlx::query::Query<'_, Sqlite, SqliteArguments>,
    statements: usize,
) -> Result<Vec<Vec<SqliteRow>>, StorageError> {
    let mut slot = writer.0.lock().await;
    // Taken out while in use: put back only after a clean COMMIT.
    let mut conn = match slot.take() {
        Some(conn) => conn,
        None => pool.connect_options().connect().await?,
    };
    let mut rows: Vec<Vec<SqliteRow>> = (0..statements).map(|_| Vec::new()).collect();
    let mut finished = 0;
    {
        let mut results = Executor::fetch_many(&mut conn, query);
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
    *slot = Some(conn);
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::sqlite::SqlitePoolOptions;

    async fn pool() -> (tempfile::TempDir, SqlitePool, Writer) {
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        // One pooled connection besides the writer's: a transaction left
        // open on the writer's would hold the write lock and show at once.
        let pool = SqlitePoolOptions::new().max_connections(1).connect(&url).await.expect("open");
        sqlx::query("CREATE TABLE t (n INTEGER NOT NULL)").execute(&pool).await.expect("table");
        (dir, pool, Writer::default())
    }

    async fn count(pool: &SqlitePool) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM t").fetch_one(pool).await.expect("count")
    }

    #[tokio::test]
    async fn each_statements_rows_come_back_after_the_commit() {
        let (_dir, pool, writer) = pool().await;
        let query =
            sqlx::query("BEGIN IMMEDIATE; INSERT INTO t (n) VALUES ($1), ($2) RETURNING n; SELECT $2 + 1; COMMIT")
                .bind(1)
                .bind(2);
        let rows = run(&pool, &writer, query, 4).await.expect("run");
        let first: Vec<i64> = rows[1].iter().map(|r| sqlx::Row::get(r, 0)).collect();
        assert_eq!(first, vec![1, 2]);
        assert_eq!(rows[2].len(), 1);
        assert_eq!(count(&pool).await, 2);
    }

    #[tokio::test]
    async fn a_failing_statement_rolls_the_whole_transaction_back() {
        let (_dir, pool, writer) = pool().await;
        let query =
            sqlx::query("BEGIN IMMEDIATE; INSERT INTO t (n) VALUES ($1); INSERT INTO t (n) VALUES (NULL); COMMIT")
                .bind(7);
        assert!(run(&pool, &writer, query, 4).await.is_err());
        // The connection holding the open transaction was closed, not kept:
        // the first insert is gone and a new transaction starts cleanly.
        assert_eq!(count(&pool).await, 0);
        let again = sqlx::query("BEGIN IMMEDIATE; INSERT INTO t (n) VALUES ($1); COMMIT").bind(8);
        run(&pool, &writer, again, 3).await.expect("a new transaction");
        assert_eq!(count(&pool).await, 1);
    }
}
