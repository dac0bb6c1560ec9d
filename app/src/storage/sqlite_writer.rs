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
//! `synchronous = FULL` on this connection), and only once the connection
//! is back in order: no transaction left open (a job that left one gets
//! an error, and it is rolled back), `synchronous` FULL again (the records
//! lower it for their own transaction). A job that fails, or panics, rolls
//! back (rusqlite's `Transaction` rolls back when dropped) and the thread
//! goes on with the next; if the connection cannot be put back in order
//! the thread stops, and every caller, `/healthz` too, gets an error
//! rather than an answer from a connection that may not fsync. A caller
//! that stops waiting (the process stopping) does not stop its job: the
//! transaction commits or rolls back whole, unanswered, like a request
//! cut after its commit.
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

/// A job runs its statements and returns how to answer its caller; the
/// thread answers only once the connection is back in order (no
/// transaction open, `synchronous` FULL), and with an error otherwise.
type Job = Box<dyn FnOnce(&mut Connection) -> Answer + Send>;
type Answer = Box<dyn FnOnce(Option<StorageError>) + Send>;

/// The handle every `Db` clone shares; the thread ends when the last goes.
#[derive(Clone)]
pub(super) struct SqliteWriter {
    jobs: mpsc::Sender<Job>,
}

/// The page cache of the writer's connection: the hot pages of the
/// deliveries' indexes stay in it between batches.
const CACHE_KIB: i64 = 2048;

impl SqliteWriter {
    /// Opens `path` (an existing database, migrated), through `vfs` if the
    /// URL named one (as the pool's connections do), on a new thread.
    pub(super) fn open(path: &Path, vfs: Option<&str>) -> Result<Self, StorageError> {
        let conn = open_connection(path, vfs)?;
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || serve(conn, &queue))
            .map_err(StorageError::WriterStart)?;
        Ok(Self { jobs })
    }

    /// Runs `work` on the writer's connection and returns what it returned.
    /// `work` opens and commits its own transaction
    /// (`Transaction::new_unchecked`); its caller is answered after that,
    /// and only once the connection is back in order.
    pub(super) async fn run<T, F>(&self, work: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StorageError> + Send + 'static,
    {
        let (reply, answered) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |conn| {
            // A panic is this job's alone: what it had open is rolled back below.
            let result =
                std::panic::catch_unwind(AssertUnwindSafe(|| work(conn))).unwrap_or(Err(StorageError::WriterPanicked));
            Box::new(move |trouble: Option<StorageError>| {
                let _ = reply.send(match (trouble, result) {
                    (Some(e), Ok(_)) => Err(e),
                    (_, result) => result,
                });
            })
        });
        self.jobs.send(job).map_err(|_| StorageError::WriterStopped)?;
        answered.await.map_err(|_| StorageError::WriterStopped)?
    }

    /// One round trip to the thread (for `/healthz`).
    pub(super) async fn ping(&self) -> Result<(), StorageError> {
        self.run(|_| Ok(())).await
    }
}

fn serve(mut conn: Connection, queue: &mpsc::Receiver<Job>) {
    while let Ok(job) = queue.recv() {
        let answer = job(&mut conn);
        match back_in_order(&conn) {
            Ok(None) => answer(None),
            // A job that returned with its transaction open (or panicked
            // inside it): rolled back now, so its caller gets an error,
            // never an answer for writes that did not last.
            Ok(Some(e)) => answer(Some(e)),
            // The connection could not be put back in order: stop rather
            // than answer a later publish from a connection that may not
            // fsync. Callers then get `WriterStopped`; `/healthz` fails.
            Err(e) => {
                tracing::error!(error = %e, "the SQLite writer stopped: its connection could not be reset");
                answer(Some(StorageError::WriterStopped));
                return;
            }
        }
    }
}

/// After every job: no transaction left open, every commit fsynced again.
/// `Ok(Some)`: the job had left a transaction open, now rolled back.
fn back_in_order(conn: &Connection) -> Result<Option<StorageError>, rusqlite::Error> {
    let left_open = !conn.is_autocommit();
    if left_open {
        conn.execute_batch("ROLLBACK")?;
    }
    // Reads and writes nothing; fails only inside a transaction, and none is open now.
    conn.execute_batch("PRAGMA synchronous = FULL")?;
    Ok(left_open.then_some(StorageError::Corrupt("a write left its transaction open; rolled back")))
}

fn open_connection(path: &Path, vfs: Option<&str>) -> Result<Connection, StorageError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    let conn = match vfs {
        Some(vfs) => Connection::open_with_flags_and_vfs(path, flags, vfs)?,
        None => Connection::open_with_flags(path, flags)?,
    };
    conn.busy_timeout(Duration::from_secs(5))?;
    // As the pools' connections (`backend::open_sqlite`): WAL (a property of
    // the file, set there already), every commit fsynced, foreign keys
    // enforced, no checkpoint inside a commit (`checkpoint` runs apart).
    conn.execute_batch(&format!(
        "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 0; \
         PRAGMA cache_size = -{CACHE_KIB}; PRAGMA journal_size_limit = {};",
        super::backend::WAL_LIMIT_BYTES
    ))?;
    conn.set_prepared_statement_cache_capacity(32);
    Ok(conn)
}

/// `synchronous = NORMAL` for this job's transaction (its commit is not
/// fsynced: what the dispatcher's own pool does). Set before the
/// transaction begins; the thread sets FULL again after every job, however
/// it ended (`back_in_order`).
pub(super) fn lower_synchronous(conn: &Connection) -> Result<(), StorageError> {
    conn.execute_batch("PRAGMA synchronous = NORMAL")?;
    Ok(())
}

/// SQLite's `$n` parameters are names, numbered by first appearance; the
/// shared SQL texts (`$1` on both backends) become `?n`, which are numbered
/// by `n`, so one argument list binds every statement of a transaction.
/// Only a `$` followed by a digit is a parameter; any other is left alone.
pub(super) fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        let parameter = c == '$' && chars.peek().is_some_and(char::is_ascii_digit);
        out.push(if parameter { '?' } else { c });
    }
    out
}

/// Binds `args` (the transaction's argument list: `?1` is `args[0]`) to
/// whichever of them `statement` uses.
pub(super) fn bind(
    statement: &mut rusqlite::CachedStatement<'_>,
    args: &[&dyn rusqlite::ToSql],
) -> Result<(), StorageError> {
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
        let writer = SqliteWriter::open(&path, None).expect("open");
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
        assert!(matches!(panicked, Err(StorageError::WriterPanicked)), "{panicked:?}");
        writer.run(|conn| insert(conn, &[Some(2)])).await.expect("the thread lives on, no transaction left open");
        assert_eq!(count(&path), 1, "the panicked job's insert was rolled back");
    }

    /// What a job leaves behind never reaches the next one: a transaction
    /// left open is rolled back and its caller gets an error (not an answer
    /// for writes that did not last), and a lowered `synchronous` is FULL
    /// again, also after a job that panicked inside its open transaction
    /// (where SQLite refuses to change it).
    #[tokio::test]
    async fn a_job_that_leaves_its_transaction_open_or_unsynced_is_undone() {
        let (_dir, writer, path) = writer();
        let left_open = writer
            .run(|conn| {
                conn.execute_batch("BEGIN IMMEDIATE; INSERT INTO t (n) VALUES (1)")?;
                Ok(())
            })
            .await;
        assert!(left_open.is_err(), "no Ok for a transaction that was never committed");
        assert_eq!(count(&path), 0);
        let panicked = writer
            .run(|conn| -> Result<(), StorageError> {
                lower_synchronous(conn)?;
                conn.execute_batch("BEGIN IMMEDIATE; INSERT INTO t (n) VALUES (2)")?;
                panic!("a bug inside a lowered transaction");
            })
            .await;
        assert!(panicked.is_err());
        let level = writer.run(|conn| Ok(conn.query_row("PRAGMA synchronous", [], |r| r.get::<_, i64>(0))?)).await;
        assert_eq!(level.expect("run"), 2, "FULL again for the next job");
        writer.run(|conn| insert(conn, &[Some(3)])).await.expect("the thread goes on");
        assert_eq!(count(&path), 1);
    }

    #[test]
    fn only_a_dollar_before_a_digit_is_a_parameter() {
        assert_eq!(
            numbered("SELECT $1, $12, '$', json_extract(x, '$.a') FROM t WHERE $2"),
            "SELECT ?1, ?12, '$', json_extract(x, '$.a') FROM t WHERE ?2"
        );
    }

    #[tokio::test]
    async fn a_lowered_synchronous_holds_for_its_transaction_only() {
        let (_dir, writer, _path) = writer();
        let sync =
            |conn: &Connection| -> i64 { conn.query_row("PRAGMA synchronous", [], |r| r.get(0)).expect("pragma") };
        let inside = writer
            .run(move |conn| {
                lower_synchronous(conn)?;
                Ok(sync(conn))
            })
            .await
            .expect("run");
        assert_eq!(inside, 1, "NORMAL inside");
        let failed = writer
            .run(move |conn| -> Result<(), StorageError> {
                lower_synchronous(conn)?;
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
        let sum: i64 =
            Connection::open(&path).expect("open").query_row("SELECT sum(n) FROM t", [], |r| r.get(0)).expect("sum");
        assert_eq!(sum, 50);
    }
}
