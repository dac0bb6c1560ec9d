//! Retention's statements: one pass removes the delivery history older than
//! a cutoff in small steps, so publishing and the dispatcher, which wait for
//! the same write lock, never wait long for it (docs/BENCHMARKS.md has the
//! figure under load).
//!
//! A pass has three stages, each a series of bounded steps:
//! 1. attempts older than the cutoff, oldest first;
//! 2. old events, walked in `(created_at, rowid)` order (PostgreSQL:
//!    `(created_at, id)`) from a cursor: each
//!    step takes the next few events, deletes up to `STEP_ROWS` of their
//!    finished deliveries and then those events with no delivery left (a
//!    delivery still pending keeps its event); events with more deliveries
//!    than that are taken again by the next step. The cursor is what keeps a step small: an event that
//!    must stay is passed once per pass, not rescanned by every step;
//! 3. idempotency keys past their 24-hour window.

use super::backend::{on_pool, on_tx};
use super::{Db, StorageError, events::IDEMPOTENCY_WINDOW_MS, json_rows, now_ms};

/// About how many rows one step deletes.
pub const STEP_ROWS: i64 = 250;

/// Events in the first step of the events stage, before the fan-out is known.
const FIRST_EVENTS_PER_STEP: i64 = 1;

/// Where a pass has got to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Stage {
    Attempts,
    /// Events up to and including this `(created_at, rowid)` are done
    /// (PostgreSQL, which has no rowid: `(created_at, id)`).
    Events {
        created_at: i64,
        rowid: i64,
        id: String,
    },
    IdempotencyKeys,
    Done,
}

/// One retention pass over the history older than `cutoff` (ms).
#[derive(Debug)]
pub struct Pass {
    cutoff: i64,
    stage: Stage,
    /// Events taken per step: halved when their deliveries filled a step,
    /// doubled (up to STEP_ROWS) when they did not.
    events_per_step: i64,
}

impl Pass {
    pub fn new(cutoff: i64) -> Self {
        Self { cutoff, stage: Stage::Attempts, events_per_step: FIRST_EVENTS_PER_STEP }
    }

    pub fn is_done(&self) -> bool {
        self.stage == Stage::Done
    }

    /// Runs one bounded step (one short write transaction) and moves the
    /// pass on. Returns the rows removed.
    pub async fn step(&mut self, db: &Db) -> Result<u64, StorageError> {
        match self.stage {
            Stage::Attempts => {
                let removed = delete_chunk(db, OLD_ATTEMPTS, self.cutoff).await?;
                if removed < STEP_ROWS as u64 {
                    self.stage = Stage::Events { created_at: i64::MIN, rowid: i64::MIN, id: String::new() };
                }
                Ok(removed)
            }
            Stage::Events { created_at, rowid, ref id } => {
                let id = id.clone();
                self.events_step(db, created_at, rowid, &id).await
            }
            Stage::IdempotencyKeys => {
                let removed =
                    delete_chunk(db, db.sql(OLD_KEYS, OLD_KEYS_POSTGRES), now_ms() - IDEMPOTENCY_WINDOW_MS).await?;
                if removed < STEP_ROWS as u64 {
                    self.stage = Stage::Done;
                }
                Ok(removed)
            }
            Stage::Done => Ok(0),
        }
    }

    async fn events_step(
        &mut self,
        db: &Db,
        after_at: i64,
        after_rowid: i64,
        after_id: &str,
    ) -> Result<u64, StorageError> {
        let mut tx = db.begin_write().await?;
        let next_events = tx.sql(NEXT_EVENTS, NEXT_EVENTS_POSTGRES);
        let next: Vec<(i64, i64, String)> = on_tx!(&mut tx, t => sqlx::query_as(next_events)
            .bind(self.cutoff)
            .bind(after_at)
            .bind(after_rowid)
            .bind(self.events_per_step)
            .bind(after_id)
            .fetch_all(&mut **t)
            .await)?;
        let ids = json_rows(&next.iter().map(|(_, _, id)| id.as_str()).collect::<Vec<_>>())?;
        let finished = tx.sql(FINISHED_DELIVERIES, FINISHED_DELIVERIES_POSTGRES);
        let deliveries = on_tx!(&mut tx, t => sqlx::query(finished)
            .bind(&ids)
            .bind(STEP_ROWS)
            .execute(&mut **t)
            .await
            .map(|r| r.rows_affected()))?;
        let empty = tx.sql(EMPTY_EVENTS, EMPTY_EVENTS_POSTGRES);
        let events = on_tx!(&mut tx, t => sqlx::query(empty)
            .bind(&ids)
            .execute(&mut **t)
            .await
            .map(|r| r.rows_affected()))?;
        tx.commit().await?;

        if deliveries >= STEP_ROWS as u64 {
            // These events have more: take them again (what was removed is
            // gone), and fewer next time.
            self.events_per_step = (self.events_per_step / 2).max(1);
            return Ok(deliveries + events);
        }
        let taken = i64::try_from(next.len()).unwrap_or(i64::MAX);
        // The furthest event taken, whatever order the rows came in.
        let furthest = next.iter().map(|(rowid, created_at, id)| (*created_at, *rowid, id)).max();
        self.stage = match furthest {
            Some((created_at, rowid, id)) if taken == self.events_per_step => {
                Stage::Events { created_at, rowid, id: id.clone() }
            }
            _ => Stage::IdempotencyKeys,
        };
        self.events_per_step = (self.events_per_step * 2).min(STEP_ROWS);
        Ok(deliveries + events)
    }
}

async fn delete_chunk(db: &Db, sql: &'static str, before: i64) -> Result<u64, StorageError> {
    Ok(on_pool!(&db.pool, p => sqlx::query(sql)
        .bind(before)
        .bind(STEP_ROWS)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?)
}

const OLD_ATTEMPTS: &str =
    "DELETE FROM attempts WHERE id IN (SELECT id FROM attempts WHERE attempted_at < $1 LIMIT $2)";

const OLD_KEYS: &str = "DELETE FROM idempotency_keys
     WHERE rowid IN (SELECT rowid FROM idempotency_keys WHERE created_at < $1 LIMIT $2)";
const OLD_KEYS_POSTGRES: &str = "DELETE FROM idempotency_keys
     WHERE (account_id, key) IN (SELECT account_id, key FROM idempotency_keys WHERE created_at < $1 LIMIT $2)";

// The next events after the cursor, in two ranges so that both seek in
// `events_by_age` (whose entries are `(created_at, rowid)`): the rest of the
// cursor's millisecond, then the later ones. A single row-value comparison
// would seek on `created_at` alone and rescan a busy millisecond each step.
const NEXT_EVENTS: &str = "
    SELECT * FROM (SELECT rowid, created_at, id FROM events
                   WHERE created_at = $2 AND rowid > $3 ORDER BY rowid LIMIT $4)
    UNION ALL
    SELECT * FROM (SELECT rowid, created_at, id FROM events
                   WHERE created_at > $2 AND created_at < $1 ORDER BY created_at, rowid LIMIT $4)
    LIMIT $4";
// The same walk by `(created_at, id)`; `$3` (SQLite's rowid) is unused.
const NEXT_EVENTS_POSTGRES: &str = "
    SELECT CAST(0 AS BIGINT) AS rowid, created_at, id FROM events
    WHERE created_at < $1 AND (created_at > $2 OR (created_at = $2 AND id > $5))
    ORDER BY created_at, id LIMIT $4";

// At most ?2 rows, whatever the fan-out. `+status`: found by event, not by
// walking `deliveries_due`.
const FINISHED_DELIVERIES: &str = "DELETE FROM deliveries WHERE id IN (
       SELECT id FROM deliveries WHERE event_id IN (SELECT value FROM json_each($1)) AND +status <> 'pending' LIMIT $2)";
const FINISHED_DELIVERIES_POSTGRES: &str = "DELETE FROM deliveries WHERE id IN (
       SELECT id FROM deliveries WHERE event_id IN (SELECT value FROM json_array_elements_text($1::json))
         AND status <> 'pending' LIMIT $2)";

const EMPTY_EVENTS: &str = "DELETE FROM events WHERE id IN (SELECT value FROM json_each($1))
       AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = events.id)";
const EMPTY_EVENTS_POSTGRES: &str =
    "DELETE FROM events WHERE id IN (SELECT value FROM json_array_elements_text($1::json))
       AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = events.id)";

#[cfg(test)]
mod tests {
    use super::*;

    async fn db() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().expect("dir");
        let db = crate::storage::connect(&format!("sqlite://{}", dir.path().join("r.db").display())).await.expect("db");
        (dir, db)
    }

    /// SQLite's plan for `sql`, one line per step.
    async fn plan(db: &Db, sql: &str) -> Vec<String> {
        let rows: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
                .bind(1_i64)
                .bind(1_i64)
                .bind(1_i64)
                .bind(1_i64)
                .fetch_all(crate::storage::backend::sqlite(&db.pool))
                .await
                .expect("plan");
        rows.into_iter().map(|(_, _, _, detail)| detail).collect()
    }

    /// Every statement seeks in an index; none walks a whole table.
    #[tokio::test]
    async fn every_statement_seeks_an_index() {
        let (_dir, db) = db().await;
        for sql in [OLD_ATTEMPTS, OLD_KEYS, NEXT_EVENTS, FINISHED_DELIVERIES, EMPTY_EVENTS] {
            let text = plan(&db, sql).await;
            // A scan of a table (by its name or an alias) or a sort of a range.
            for table in ["attempts", "idempotency_keys", "events", "deliveries", "d", "e"] {
                let scan = format!("SCAN {table}");
                assert!(!text.iter().any(|d| *d == scan || d.starts_with(&format!("{scan} "))), "{sql}: {text:?}");
            }
            assert!(!text.iter().any(|d| d.contains("TEMP B-TREE")), "{sql}: {text:?}");
            assert!(!text.iter().any(|d| d.contains("deliveries_due")), "{sql}: {text:?}");
        }
        let next = plan(&db, NEXT_EVENTS).await;
        assert!(next.iter().any(|d| d.contains("created_at=? AND rowid>?")), "{next:?}");
    }

    /// Runs `sql`, where `series(n)` stands for the numbers 1..=n as `value`.
    async fn exec(db: &Db, sql: &str) {
        let sql = match sql.find("series(") {
            Some(at) => {
                let n = &sql[at + 7..at + 7 + sql[at + 7..].find(')').expect(")")];
                format!(
                    "WITH RECURSIVE s(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM s WHERE value < {n}) {}",
                    sql.replace(&format!("series({n})"), "s")
                )
            }
            None => sql.to_owned(),
        };
        sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
            .execute(crate::storage::backend::sqlite(&db.pool))
            .await
            .expect(&sql);
    }

    async fn count(db: &Db, sql: &str) -> i64 {
        let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(crate::storage::backend::sqlite(&db.pool))
            .await
            .expect(sql);
        n
    }

    /// An account with `hooks` hooks named h0001, h0002, …
    async fn account_with_hooks(db: &Db, hooks: u32) {
        exec(db, "INSERT INTO accounts (id, email, password_hash, created_at) VALUES ('a', 'a@x', 'h', 0)").await;
        exec(
            db,
            &format!(
                "INSERT INTO hooks (id, account_id, vertical, endpoint, auth_type, hook_type, created_at, updated_at)
                 SELECT printf('h%04d', value), 'a', 'flightrates', 'https://x', 'none', 't', 0, 0 FROM series({hooks})"
            ),
        )
        .await;
    }

    /// `n` events named `prefix` + number, created at `at`.
    async fn events(db: &Db, prefix: &str, n: u32, at: i64) {
        exec(
            db,
            &format!(
                "INSERT INTO events (id, account_id, hook_type, payload, created_at)
                 SELECT printf('{prefix}%05d', value), 'a', 't', '{{}}', {at} FROM series({n})"
            ),
        )
        .await;
    }

    /// A delivery with `status` to every hook for the events matching `like`.
    async fn deliveries(db: &Db, like: &str, status: &str) {
        exec(
            db,
            &format!(
                "INSERT INTO deliveries (id, event_id, hook_id, account_id, status, next_attempt_at, created_at, updated_at)
                 SELECT e.id || h.id, e.id, h.id, 'a', '{status}', 0, e.created_at, 0
                 FROM events e, hooks h WHERE e.id LIKE '{like}'"
            ),
        )
        .await;
    }

    /// Runs a pass to its end, checking that every step stays bounded.
    async fn run_pass(db: &Db, cutoff: i64) {
        let mut pass = Pass::new(cutoff);
        let mut steps = 0;
        while !pass.is_done() {
            let removed = pass.step(db).await.expect("step");
            assert!(removed <= 2 * STEP_ROWS as u64, "a step removed {removed} rows");
            steps += 1;
            assert!(steps < 200, "the pass does not end");
        }
    }

    /// Old events in one millisecond with three deliveries each (one event's
    /// still pending), old events without deliveries, and recent ones: a
    /// pass leaves exactly the recent events and the pending one.
    #[tokio::test]
    async fn a_pass_removes_finished_old_history_in_small_steps() {
        let (_dir, db) = db().await;
        account_with_hooks(&db, 3).await;
        events(&db, "old", 1000, 10).await;
        events(&db, "bare", 300, 20).await;
        events(&db, "new", 50, 1000).await;
        deliveries(&db, "old%", "succeeded").await;
        deliveries(&db, "new%", "succeeded").await;
        exec(&db, "UPDATE deliveries SET status = 'pending' WHERE event_id = 'old00500' AND hook_id = 'h0002'").await;
        exec(
            &db,
            "INSERT INTO attempts (delivery_id, attempted_at, duration_ms) SELECT id, created_at, 1 FROM deliveries",
        )
        .await;

        run_pass(&db, 500).await;
        assert_eq!(count(&db, "SELECT count(*) FROM events WHERE id LIKE 'new%'").await, 50);
        assert_eq!(count(&db, "SELECT count(*) FROM events WHERE id NOT LIKE 'new%'").await, 1);
        assert_eq!(count(&db, "SELECT count(*) FROM deliveries WHERE event_id = 'old00500'").await, 1);
        assert_eq!(count(&db, "SELECT count(*) FROM deliveries").await, 151);
        assert_eq!(count(&db, "SELECT count(*) FROM attempts").await, 150);
    }

    /// Childless events first (the step size grows), then events with more
    /// deliveries each than a step takes: every step stays bounded and the
    /// pass removes them all.
    #[tokio::test]
    async fn a_fan_out_larger_than_a_step_is_split() {
        let (_dir, db) = db().await;
        account_with_hooks(&db, 400).await;
        events(&db, "bare", 600, 10).await;
        events(&db, "wide", 20, 11).await;
        deliveries(&db, "wide%", "failed").await;

        run_pass(&db, 500).await;
        assert_eq!(count(&db, "SELECT count(*) FROM deliveries").await, 0);
        assert_eq!(count(&db, "SELECT count(*) FROM events").await, 0);
    }
}
