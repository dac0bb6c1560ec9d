//! The dispatcher's side of the outbox: claim due deliveries with a lease
//! that names its owner, renew, record each attempt and its outcome, give
//! back (the delivery log and manual retry: `delivery_log.rs`; retention:
//! `retention.rs`).
//!
//! A lease is `(lease_owner, lease_until)`. Only the owner renews, records
//! or gives back a row, and only while it is `pending`: a record whose
//! lease was lost (expired and claimed by another holder) or whose row is
//! gone (hook deleted) is dropped, never written over newer state, and a
//! finished delivery never returns to `pending` except by manual retry.

use super::backend::{on_pool, on_tx};
use super::row::row;
use super::{Db, StorageError, json_rows, now_ms};
use crate::domain::{DeliveryId, DeliveryStatus, EventId};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

pub use super::delivery_log::{AttemptRow, DeliveryRow, RetryResult, list_for_hook, queue_stats, recover, retry};

/// The token a dispatcher claims with: one per process start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseOwner(String);

impl LeaseOwner {
    pub fn new() -> Result<Self, StorageError> {
        Ok(Self(hex::encode(crate::security::random::bytes::<12>()?)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A claimed delivery: what to send, and to which hook. The hook's target
/// is looked up right before each attempt (`directory.rs`), never carried
/// here, so an edit, a switch-off or a delete reaches queued work. The
/// payload is shared (`Arc`) by the deliveries of one event.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    pub id: DeliveryId,
    pub event_id: EventId,
    pub hook_id: String,
    pub attempt_count: i64,
    pub payload: Arc<str>,
}

row! {
    struct ClaimedRow {
        id: DeliveryId,
        event_id: EventId,
        hook_id: String,
        attempt_count: i64,
        payload: String,
    }
}

/// Claims up to `limit` due deliveries of active hooks (pending, due, not
/// leased or lease expired) for `owner` until now + `lease_ms`: at most
/// `per_hook` per hook, none for the hooks in `saturated` (enough of theirs
/// are queued already). An expired lease is how deliveries in flight during
/// a crash are picked up again. A switched-off hook's deliveries wait here.
///
/// On PostgreSQL several processes claim at once: the candidate rows are
/// locked `FOR UPDATE SKIP LOCKED`, so two claims never take the same row
/// (one skips what the other is taking, and a row whose lease was just
/// taken no longer matches when it is re-checked after the lock).
pub async fn claim(
    db: &Db,
    owner: &LeaseOwner,
    lease_ms: i64,
    limit: u32,
    per_hook: u32,
    saturated: &[&str],
    only: Option<&[&str]>,
) -> Result<Vec<ClaimedDelivery>, StorageError> {
    let now = now_ms();
    let saturated = json_rows(saturated)?;
    let only = only.map(json_rows).transpose()?;
    let sql = db.sql(CLAIM_SQLITE, CLAIM_POSTGRES);
    let ids: Vec<(DeliveryId,)> = on_pool!(&db.pool, p => sqlx::query_as(sql)
        .bind(now)
        .bind(lease_ms)
        .bind(i64::from(limit))
        .bind(i64::from(per_hook))
        .bind(&saturated)
        .bind(owner.as_str())
        .bind(&only)
        .fetch_all(p)
        .await)?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids_json = json_rows(&ids.into_iter().map(|(id,)| id).collect::<Vec<DeliveryId>>())?;
    let sql = db.sql(
        "SELECT d.id, d.event_id, d.hook_id, d.attempt_count, e.payload
         FROM deliveries d JOIN events e ON e.id = d.event_id
         WHERE d.id IN (SELECT value FROM json_each($1))",
        "SELECT d.id, d.event_id, d.hook_id, d.attempt_count, e.payload
         FROM deliveries d JOIN events e ON e.id = d.event_id
         WHERE d.id IN (SELECT value FROM json_array_elements_text($1::json))",
    );
    let rows: Vec<ClaimedRow> = on_pool!(&db.pool, p => sqlx::query_as(sql).bind(&ids_json).fetch_all(p).await)?;
    // One shared copy per event.
    let mut payloads: HashMap<EventId, Arc<str>> = HashMap::new();
    Ok(rows
        .into_iter()
        .map(|row| {
            let payload = payloads.entry(row.event_id.clone()).or_insert_with(|| Arc::from(row.payload)).clone();
            ClaimedDelivery {
                id: row.id,
                event_id: row.event_id,
                hook_id: row.hook_id,
                attempt_count: row.attempt_count,
                payload,
            }
        })
        .collect())
}

/// The claim in one dialect: the earliest due rows of active hooks, at
/// most `$4` per hook, none of the hooks excluded (`$5`, a JSON array) and,
/// when `$7` lists some, only theirs, leased to `$6`. Of an ordered hook
/// only its head: no earlier delivery of it (publish order: SQLite's rowid,
/// PostgreSQL's `seq`) is pending, whether due, leased or waiting for a retry. The dialects differ in how the JSON array is read, and
/// PostgreSQL locks the candidates (skipping rows another claim holds) and
/// checks them again once locked.
macro_rules! claim_sql {
    (excluded: $excluded:literal, only: $only:literal, head: $head:literal, lock: $lock:literal, recheck: $recheck:literal) => {
        concat!(
            "UPDATE deliveries SET lease_until = $1 + $2, lease_owner = $6
     WHERE id IN (SELECT id FROM (
                     SELECT id, next_attempt_at,
                            row_number() OVER (PARTITION BY hook_id ORDER BY next_attempt_at) AS rank
                     FROM (SELECT d.id, d.hook_id, d.next_attempt_at FROM deliveries d
                           JOIN hooks h ON h.id = d.hook_id AND h.is_active = TRUE
                           WHERE d.status = 'pending' AND d.next_attempt_at <= $1
                             AND (d.lease_until IS NULL OR d.lease_until < $1)
                             AND d.hook_id NOT IN (SELECT value FROM ",
            $excluded,
            ") ",
            $only,
            "
                             AND (h.ordered = FALSE OR NOT EXISTS (
                                  SELECT 1 FROM deliveries p WHERE p.hook_id = d.hook_id AND p.status = 'pending' AND ",
            $head,
            "))
                           ORDER BY d.next_attempt_at LIMIT $3 * 4 ",
            $lock,
            ") AS candidates) AS ranked
                  WHERE rank <= $4 ORDER BY next_attempt_at LIMIT $3) ",
            $recheck,
            "
     RETURNING id"
        )
    };
}
const CLAIM_SQLITE: &str = claim_sql!(
    excluded: "json_each($5)",
    only: "AND ($7 IS NULL OR d.hook_id IN (SELECT value FROM json_each($7)))",
    head: "p.rowid < d.rowid",
    lock: "",
    recheck: ""
);
const CLAIM_POSTGRES: &str = claim_sql!(
    excluded: "json_array_elements_text($5::json)",
    only: "AND ($7::text IS NULL OR d.hook_id IN (SELECT value FROM json_array_elements_text($7::json)))",
    head: "p.seq < d.seq",
    lock: "FOR UPDATE OF d SKIP LOCKED",
    recheck: "AND status = 'pending' AND (lease_until IS NULL OR lease_until < $1)"
);

/// Extends the leases `owner` still holds among `ids` (queued in memory or
/// in flight) and returns the ids renewed: a held id missing from the answer
/// was lost (finished by a record, or taken by another holder).
pub async fn renew_leases(
    db: &Db,
    owner: &LeaseOwner,
    ids: &[&DeliveryId],
    lease_ms: i64,
) -> Result<HashSet<DeliveryId>, StorageError> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let ids = json_rows(ids)?;
    let renewed: Vec<(DeliveryId,)> = on_pool!(&db.pool, p => sqlx::query_as(db.sql(RENEW, RENEW_POSTGRES))
        .bind(now_ms() + lease_ms)
        .bind(&ids)
        .bind(owner.as_str())
        .fetch_all(p)
        .await)?;
    Ok(renewed.into_iter().map(|(id,)| id).collect())
}

// The lease statements find their rows by id. `+status` keeps SQLite from
// using the `deliveries_due` index for `status = 'pending'` instead: that
// plan walks every pending delivery and re-reads the JSON list for each one
// (quadratic; it cut the fan-out benchmark to a fifth). `plans` tests this.
// PostgreSQL's planner picks the primary key for an id list by itself.
const RENEW: &str = "UPDATE deliveries SET lease_until = $1
     WHERE +status = 'pending' AND lease_owner = $3 AND id IN (SELECT value FROM json_each($2))
     RETURNING id";
const RENEW_POSTGRES: &str = "UPDATE deliveries SET lease_until = $1
     WHERE status = 'pending' AND lease_owner = $3 AND id IN (SELECT value FROM json_array_elements_text($2::json))
     RETURNING id";
const RECORD: &str =
    "UPDATE deliveries SET status = s.status, attempt_count = attempt_count + 1, next_attempt_at = s.next_at,
            lease_until = NULL, lease_owner = NULL, updated_at = $2
     FROM (SELECT value ->> 0 AS id, value ->> 1 AS status, value ->> 2 AS next_at FROM json_each($1)) AS s
     WHERE deliveries.id = s.id AND +deliveries.status = 'pending' AND deliveries.lease_owner = $3
     RETURNING id";
const RECORD_POSTGRES: &str =
    "UPDATE deliveries SET status = s.status, attempt_count = attempt_count + 1, next_attempt_at = s.next_at,
            lease_until = NULL, lease_owner = NULL, updated_at = $2
     FROM (SELECT value ->> 0 AS id, value ->> 1 AS status, CAST(value ->> 2 AS BIGINT) AS next_at
           FROM json_array_elements($1::json)) AS s
     WHERE deliveries.id = s.id AND deliveries.status = 'pending' AND deliveries.lease_owner = $3
     RETURNING deliveries.id";
const RELEASE: &str =
    "UPDATE deliveries SET lease_until = NULL, lease_owner = NULL, next_attempt_at = max(next_attempt_at, $1)
     WHERE +status = 'pending' AND lease_owner = $3 AND id IN (SELECT value FROM json_each($2))";
const RELEASE_POSTGRES: &str =
    "UPDATE deliveries SET lease_until = NULL, lease_owner = NULL, next_attempt_at = greatest(next_attempt_at, $1)
     WHERE status = 'pending' AND lease_owner = $3 AND id IN (SELECT value FROM json_array_elements_text($2::json))";
const INSERT_ATTEMPTS: &str =
    "INSERT INTO attempts (delivery_id, attempted_at, duration_ms, status_code, error, response_body)
     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5 FROM json_each($1)";
const INSERT_ATTEMPTS_POSTGRES: &str =
    "INSERT INTO attempts (delivery_id, attempted_at, duration_ms, status_code, error, response_body)
     SELECT value ->> 0, CAST(value ->> 1 AS BIGINT), CAST(value ->> 2 AS BIGINT), CAST(value ->> 3 AS BIGINT),
            value ->> 4, value ->> 5
     FROM json_array_elements($1::json)";

/// The attempts of `items` as JSON rows for `INSERT_ATTEMPTS`.
fn attempt_rows(items: &[&Recorded]) -> Result<String, StorageError> {
    let attempts: Vec<_> = items
        .iter()
        .map(|item| {
            let a = &item.attempt;
            // PostgreSQL's text holds no NUL; an endpoint may answer with one.
            let storable = |text: &Option<String>| text.as_ref().map(|t| t.replace('\0', "\u{fffd}"));
            (
                &item.delivery_id,
                a.attempted_at,
                a.duration_ms,
                a.status_code,
                storable(&a.error),
                storable(&a.response_body),
            )
        })
        .collect();
    json_rows(&attempts)
}

/// On a SQLite file, a batch in which every attempt succeeded (the common
/// case) is recorded by the writer thread (`sqlite_writer.rs`), on the
/// publishes' connection (SQLite empties a connection's page cache whenever
/// another one has written: with the two alternating on one connection, the
/// pages both touch stay cached). Its commit is not fsynced, as on the
/// dispatcher's own pool (`Db::for_dispatch`): `synchronous` is NORMAL for
/// this transaction and FULL again after it, however it ends. Inside the
/// write lock, and before the outcomes are written (which clears the
/// leases), only the deliveries this owner still holds — the condition the
/// update itself checks — get their attempt row and close their hook's
/// failing window; then the outcomes; `COMMIT`. Nothing fails in such a
/// batch, so no hook is disabled and nothing is dead-lettered. As
/// everywhere, the caller learns of the outcome after the commit; decoding
/// the returned ids is all that follows it.
async fn record_successes_on_writer(
    writer: &super::sqlite_writer::SqliteWriter,
    owner: &LeaseOwner,
    items: &[Recorded],
    now: i64,
) -> Result<Vec<RecordResult>, StorageError> {
    use super::sqlite_writer::{bind, lower_synchronous, numbered};
    const HELD: &str = "+d.status = 'pending' AND d.lease_owner = $3";
    static STATEMENTS: std::sync::LazyLock<[String; 3]> = std::sync::LazyLock::new(|| {
        [
            numbered(&format!(
                "INSERT INTO attempts (delivery_id, attempted_at, duration_ms, status_code, error, response_body)
                 SELECT a.value ->> 0, a.value ->> 1, a.value ->> 2, a.value ->> 3, a.value ->> 4, a.value ->> 5
                 FROM json_each($4) AS a
                 WHERE EXISTS (SELECT 1 FROM deliveries d WHERE d.id = a.value ->> 0 AND {HELD})"
            )),
            numbered(&format!(
                "UPDATE hooks SET failing_since = NULL
                 WHERE failing_since IS NOT NULL
                   AND id IN (SELECT d.hook_id FROM deliveries d
                              WHERE d.id IN (SELECT value ->> 0 FROM json_each($1)) AND {HELD})"
            )),
            numbered(RECORD),
        ]
    });
    let states: Vec<_> = items.iter().map(|item| (&item.delivery_id, DeliveryStatus::Succeeded, now)).collect();
    let all: Vec<&Recorded> = items.iter().collect();
    let states = json_rows(&states)?;
    let attempts = attempt_rows(&all)?;
    let owner = owner.as_str().to_owned();
    let written = writer
        .run(move |conn| {
            let args: [&dyn rusqlite::ToSql; 4] = [&states, &now, &owner, &attempts];
            lower_synchronous(conn)?;
            let tx = rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)?;
            let mut written = HashSet::new();
            for (i, sql) in STATEMENTS.iter().enumerate() {
                let mut statement = tx.prepare_cached(sql)?;
                bind(&mut statement, &args)?;
                let mut rows = statement.raw_query();
                while let Some(row) = rows.next()? {
                    // Only the outcomes' update (the last) returns rows: the ids it wrote.
                    if i == STATEMENTS.len() - 1 {
                        written.insert(row.get::<_, String>(0)?);
                    }
                }
            }
            tx.commit()?;
            Ok(written)
        })
        .await?;
    Ok(items
        .iter()
        .map(|item| {
            if written.contains(item.delivery_id.as_str()) {
                RecordResult::Written { disabled: None }
            } else {
                RecordResult::LeaseLost
            }
        })
        .collect())
}

/// One attempt as recorded.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub attempted_at: i64,
    pub duration_ms: i64,
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub response_body: Option<String>,
}

/// What happens to the delivery after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    /// Try again at this time (ms).
    RetryAt(i64),
    /// Dead-lettered; optionally disable the hook with a reason.
    Failed {
        disable_hook: Option<String>,
    },
}

impl Outcome {
    pub fn succeeded(&self) -> bool {
        matches!(self, Outcome::Succeeded)
    }
}

/// An attempt to record, with what follows it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub delivery_id: DeliveryId,
    pub hook_id: String,
    pub attempt: AttemptRecord,
    pub outcome: Outcome,
}

/// What became of one record of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordResult {
    /// Written; with the reason when its hook was disabled by it.
    Written { disabled: Option<String> },
    /// Not written: the lease was no longer this owner's, the delivery had
    /// finished, or it was deleted with its hook.
    LeaseLost,
}

/// Records attempts and their outcomes in one transaction (one fsync for
/// the batch), as a few statements over JSON arrays whatever the batch size.
/// Only rows whose lease `owner` still holds are written, so one row that
/// can't be (lost lease, deleted hook) never fails its batch-mates. Failures
/// also keep each hook's failing window (`hooks.failing_since`): a hook that
/// has failed for `disable_after_ms` is disabled, like one that answered 410.
/// Returns one result per item; the caller tells the directory about
/// disabled hooks.
pub async fn record_batch(
    db: &Db,
    owner: &LeaseOwner,
    items: &[Recorded],
    disable_after_ms: i64,
) -> Result<Vec<RecordResult>, StorageError> {
    // A deadlock's victim is written again rather than left to its lease.
    super::again_if_deadlocked(|| record_batch_once(db, owner, items, disable_after_ms)).await
}

async fn record_batch_once(
    db: &Db,
    owner: &LeaseOwner,
    items: &[Recorded],
    disable_after_ms: i64,
) -> Result<Vec<RecordResult>, StorageError> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let now = now_ms();
    if let Some(writer) = db.writer()
        && items.iter().all(|item| item.outcome == Outcome::Succeeded)
    {
        return record_successes_on_writer(writer, owner, items, now).await;
    }
    // Tuples serialize as JSON arrays: `value ->> 0` is the first element.
    let states: Vec<_> = items
        .iter()
        .map(|item| match &item.outcome {
            Outcome::Succeeded => (&item.delivery_id, DeliveryStatus::Succeeded, now),
            Outcome::RetryAt(at) => (&item.delivery_id, DeliveryStatus::Pending, *at),
            Outcome::Failed { .. } => (&item.delivery_id, DeliveryStatus::Failed, now),
        })
        .collect();
    let states = json_rows(&states)?;
    let mut tx = db.begin_write().await?;
    let record = tx.sql(RECORD, RECORD_POSTGRES);
    let written: Vec<(DeliveryId,)> = on_tx!(&mut tx, t => sqlx::query_as(record)
        .bind(&states)
        .bind(now)
        .bind(owner.as_str())
        .fetch_all(&mut **t)
        .await)?;
    let written: HashSet<DeliveryId> = written.into_iter().map(|(id,)| id).collect();
    let kept: Vec<&Recorded> = items.iter().filter(|item| written.contains(&item.delivery_id)).collect();
    let attempts = attempt_rows(&kept)?;
    let insert = tx.sql(INSERT_ATTEMPTS, INSERT_ATTEMPTS_POSTGRES);
    on_tx!(&mut tx, t => sqlx::query(insert).bind(&attempts).execute(&mut **t).await.map(|_| ()))?;
    let disabled = super::failing::track(&mut tx, db.hooks.process(), &kept, disable_after_ms, now).await?;
    super::operations::dead_lettered(&mut tx, &kept, now).await?;
    tx.commit().await?;
    for hook in disabled.keys() {
        db.hook_changed(hook);
    }
    Ok(items
        .iter()
        .map(|item| {
            if written.contains(&item.delivery_id) {
                RecordResult::Written { disabled: disabled.get(&item.hook_id).cloned() }
            } else {
                RecordResult::LeaseLost
            }
        })
        .collect())
}

/// Gives claimed deliveries back (shutdown, their hook was switched off, or
/// their hook's queue is full): lease cleared, due at `retry_at` at the
/// earliest. Only rows `owner` still holds.
pub async fn release(db: &Db, owner: &LeaseOwner, ids: &[DeliveryId], retry_at: i64) -> Result<(), StorageError> {
    if ids.is_empty() {
        return Ok(());
    }
    let ids = json_rows(ids)?;
    on_pool!(&db.pool, p => sqlx::query(db.sql(RELEASE, RELEASE_POSTGRES))
        .bind(retry_at)
        .bind(&ids)
        .bind(owner.as_str())
        .execute(p)
        .await
        .map(|_| ()))?;
    Ok(())
}

#[cfg(test)]
mod plans {
    use super::{RECORD, RELEASE, RENEW};

    /// Each lease statement looks its rows up by id, never by walking the
    /// pending deliveries.
    #[tokio::test]
    async fn lease_statements_find_rows_by_id() {
        let dir = tempfile::tempdir().expect("dir");
        let db = crate::storage::connect(&format!("sqlite://{}", dir.path().join("p.db").display())).await.expect("db");
        for sql in [RENEW, RECORD, RELEASE] {
            let plan: Vec<(i64, i64, i64, String)> =
                sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
                    .bind(1_i64)
                    .bind("[]")
                    .bind("owner")
                    .fetch_all(crate::storage::backend::sqlite(&db.pool))
                    .await
                    .expect("plan");
            let text: Vec<&str> = plan.iter().map(|(_, _, _, d)| d.as_str()).collect();
            assert!(text.iter().any(|d| d.contains("(id=?)")), "{sql}: {text:?}");
            assert!(!text.iter().any(|d| d.contains("deliveries_due")), "{sql}: {text:?}");
        }
    }
}
