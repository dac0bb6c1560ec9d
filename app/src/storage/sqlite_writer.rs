//! SQLite's hot write transactions — a batch of publishes, a batch of
//! successful attempts' records — on **a thread of our own** that owns one
//! connection (rusqlite on the same SQLite library sqlx links) and runs each
//! whole transaction as one job: one wake-up of this thread to start it,
//! one of the runtime when it has committed.
//!
//! Why not sqlx's connection: sqlx-sqlite answers each statement of a
//! transaction on its own, so a publish woke the runtime thread twice and
//! the connection's thread contended with it for the channel at each
//! statement; at ordinary rates, where a batch holds one event, those
//! wake-ups were most of an event's CPU (docs/BENCHMARKS.md, issue 17).
//! Statements here are prepared once and kept (`prepare_cached`).
//!
//! The job's answer is sent after its `COMMIT` returned (fsynced:
//! `synchronous = FULL` on this connection), so nothing is acknowledged
//! early. A job that fails, or panics, rolls back (rusqlite's `Transaction`
//! rolls back when dropped) and the thread goes on with the next. A caller
//! that stops waiting does not stop its job: the transaction commits or
//! rolls back whole, as a dropped request's would.
//!
//! The writers take turns at the server's write gate, this one included
//! (its callers hold the gate while they wait); `busy_timeout` covers the
//! rest (the CLI, another tool). Publishes and records share this one
//! connection, so the pages both touch stay in its cache (SQLite empties a
//! connection's cache when another connection has written).

use super::StorageError;
use rusqlite::{Connection, OpenFlags};
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// The handle every `Db` clone shares; the thread ends when the last goes.
#[derive(Clone)]
pub(super) struct SqliteWriter {
    jobs: mpsc::Sender<Job>,
}

/// The page cache of the writer's connection: the hot pages of the
/// deliveries' indexes stay in it between batches.
const CACHE_KIB: i64 = 2048;

impl SqliteWriter {
    /// Opens `path` (an existing database, migrated) on a new thread.
    pub(super) fn open(path: &Path) -> Result<Self, StorageError> {
        let conn = open_connection(path)?;
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || serve(conn, &queue))
            .map_err(|_| StorageError::Corrupt("could not start the SQLite writer thread"))?;
        Ok(Self { jobs })
    }

    /// Runs `work` on the writer's connection and returns what it returned.
    /// `work` opens and commits its own transaction (`Connection::transaction_with_behavior`).
    pub(super) async fn run<T, F>(&self, work: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StorageError> + Send + 'static,
    {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |conn| {
            // A panic drops `answer` unsent (the caller's error below) and
            // rolls back what the job had open; the thread lives on.
            if let Ok(result) = std::panic::catch_unwind(AssertUnwindSafe(|| work(conn))) {
                let _ = answer.send(result);
            }
        });
        self.jobs.send(job).map_err(|_| StorageError::WriterStopped)?;
        answered.await.map_err(|_| StorageError::WriterStopped)?
    }
}

fn serve(mut conn: Connection, queue: &mpsc::Receiver<Job>) {
    while let Ok(job) = queue.recv() {
        job(&mut conn);
        // A job that panicked between BEGIN and its Transaction value, or
        // left one open any other way: never carry it into the next job.
        if !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
    }
}

fn open_connection(path: &Path) -> Result<Connection, StorageError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    // As the pools' connections (`backend::open_sqlite`): WAL (a property of
    // the file, set there already), every commit fsynced, foreign keys
    // enforced, no checkpoint inside a commit (`checkpoint` runs apart).
    conn.execute_batch(&format!(
        "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 0; \
         PRAGMA cache_size = -{CACHE_KIB};"
    ))?;
    conn.set_prepared_statement_cache_capacity(32);
    Ok(conn)
}

/// `synchronous = NORMAL` for one transaction (its commit is not fsynced:
/// what the dispatcher's own pool does), FULL again however it ends.
pub(super) struct Unsynced<'c>(&'c Connection);

impl<'c> Unsynced<'c> {
    pub(super) fn lower(conn: &'c Connection) -> Result<Self, StorageError> {
        conn.execute_batch("PRAGMA synchronous = NORMAL")?;
        Ok(Self(conn))
    }
}

impl Drop for Unsynced<'_> {
    fn drop(&mut self) {
        // Setting a pragma on an open connection reads and writes nothing;
        // it fails only where nothing else would work either.
        if self.0.execute_batch("PRAGMA synchronous = FULL").is_err() {
            tracing::error!("the SQLite writer could not set synchronous = FULL again");
        }
    }
}

/// SQLite's `$n` parameters are names, numbered by first appearance; the
/// shared SQL texts (`$1` on both backends) become `?n`, which are numbered
/// by `n`, so one argument list binds every statement of a transaction.
pub(super) fn numbered(sql: &str) -> String {
    sql.replace('$', "?")
}

/// Binds `args` (the transaction's argument list: `?1` is `args[0]`) to
/// whichever of them `statement` uses.
pub(super) fn bind(statement: &mut rusqlite::CachedStatement<'_>, args: &[&dyn rusqlite::ToSql]) -> Result<(), StorageError> {
    for index in 1..=statement.parameter_count() {
        let arg = args.get(index - 1).ok_or(StorageError::Corrupt("a statement parameter without an argument"))?;
        statement.raw_bind_parameter(index, arg)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::TransactionBehavior;

    fn writer() -> (tempfile::TempDir, SqliteWriter, std::path::PathBuf) {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("t.db");
        let setup = Connection::open(&path).expect("create");
        setup.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (n INTEGER NOT NULL)").expect("table");
        drop(setup);
        let writer = SqliteWriter::open(&path).expect("open");
        (dir, writer, path)
    }

    fn count(path: &Path) -> i64 {
        Connection::open(path).expect("open").query_row("SELECT count(*) FROM t", [], |r| r.get(0)).expect("count")
    }

    fn insert(conn: &mut Connection, values: &[Option<i64>]) -> Result<usize, StorageError> {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for v in values {
            tx.prepare_cached("INSERT INTO t (n) VALUES (?1)")?.execute([v])?;
        }
        tx.commit()?;
        Ok(values.len())
    }

    #[tokio::test]
    async fn a_job_answers_after_its_commit() {
        let (_dir, writer, path) = writer();
        let n = writer.run(|conn| insert(conn, &[Some(1), Some(2)])).await.expect("run");
        assert_eq!(n, 2);
        assert_eq!(count(&path), 2, "committed, visible to another connection");
    }

    #[tokio::test]
    async fn a_failing_job_rolls_back_whole_and_the_next_runs() {
        let (_dir, writer, path) = writer();
        let failed = writer.run(|conn| insert(conn, &[Some(7), None])).await;
        assert!(failed.is_err(), "NOT NULL fails the job");
        assert_eq!(count(&path), 0, "its first insert went with it");
        writer.run(|conn| insert(conn, &[Some(8)])).await.expect("the next job");
        assert_eq!(count(&path), 1);
    }

    #[tokio::test]
    async fn a_panicking_job_fails_its_caller_only() {
        let (_dir, writer, path) = writer();
        let panicked = writer
            .run(|conn| -> Result<(), StorageError> {
                conn.execute_batch("BEGIN IMMEDIATE; INSERT INTO t (n) VALUES (1)")?;
                panic!("a bug in a job");
            })
            .await;
        assert!(matches!(panicked, Err(StorageError::WriterStopped)));
        writer.run(|conn| insert(conn, &[Some(2)])).await.expect("the thread lives on, no transaction left open");
        assert_eq!(count(&path), 1, "the panicked job's insert was rolled back");
    }

    #[tokio::test]
    async fn a_lowered_synchronous_holds_for_its_transaction_only() {
        let (_dir, writer, _path) = writer();
        let sync = |conn: &Connection| -> i64 { conn.query_row("PRAGMA synchronous", [], |r| r.get(0)).expect("pragma") };
        let inside = writer
            .run(move |conn| {
                let _unsynced = Unsynced::lower(conn)?;
                Ok(sync(conn))
            })
            .await
            .expect("run");
        assert_eq!(inside, 1, "NORMAL inside");
        let failed = writer
            .run(move |conn| -> Result<(), StorageError> {
                let _unsynced = Unsynced::lower(conn)?;
                Err(StorageError::Corrupt("a failing job"))
            })
            .await;
        assert!(failed.is_err());
        let after = writer.run(move |conn| Ok(sync(conn))).await.expect("run");
        assert_eq!(after, 2, "FULL again after either");
    }

    #[tokio::test]
    async fn numbered_parameters_bind_across_statements() {
        let (_dir, writer, path) = writer();
        writer
            .run(|conn| {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let args: [&dyn rusqlite::ToSql; 2] = [&10_i64, &20_i64];
                for sql in ["INSERT INTO t (n) VALUES ($2)", "INSERT INTO t (n) VALUES ($1 + $2)"] {
                    let mut statement = tx.prepare_cached(&numbered(sql))?;
                    bind(&mut statement, &args)?;
                    statement.raw_execute()?;
                }
                tx.commit()?;
                Ok(())
            })
            .await
            .expect("run");
        let sum: i64 = Connection::open(&path).expect("open").query_row("SELECT sum(n) FROM t", [], |r| r.get(0)).expect("sum");
        assert_eq!(sum, 50);
    }
}
