//! Publishing: the event and one delivery per matching hook, written in one
//! transaction (the outbox) before the API answers.
//!
//! Delivery ids are made like resource ids (seconds, then random bytes) by
//! the database (`NEW_DELIVERY_ID`): new rows land at the right edge of the
//! id indexes instead of on a random page each, which keeps inserts cheap
//! with the small page cache.

use super::backend::{Backend, Tx, on_tx};
use super::deliveries::{ClaimedDelivery, LeaseOwner};
use super::{Db, StorageError, json_rows, now_ms};
use crate::domain::{DeliveryId, EventId, ResourceId, Vertical};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

pub enum Published {
    /// Stored now: how many deliveries were queued and, when the batch was
    /// stored with a lease, those deliveries ready to send.
    New { deliveries: u64, leased: Vec<ClaimedDelivery> },
    /// The idempotency key was used in the last 24 h: the first answer, verbatim.
    Replayed(String),
    /// No account has the id the request named (an admin's `_user`):
    /// nothing was stored for it, and the rest of its batch went ahead.
    UnknownAccount,
}

/// A lease for new deliveries: stored already claimed by `owner` until
/// `until` (ms), so the dispatcher can send them without a claim query.
#[derive(Debug, Clone, Copy)]
pub struct NewLease<'a> {
    pub owner: &'a LeaseOwner,
    pub until: i64,
}

pub const IDEMPOTENCY_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

/// One publish request for `publish_batch` (owned, so it can cross tasks).
#[derive(Debug, Clone)]
pub struct PublishRequest {
    pub id: EventId,
    pub account_id: ResourceId,
    pub hook_type: String,
    pub vertical: Vertical,
    pub shop: Option<String>,
    /// The exact JSON body every delivery sends.
    pub payload: String,
    /// `Some`: only this hook of the account, whatever its state (test events).
    pub only_hook: Option<ResourceId>,
    pub idempotency_key: Option<String>,
    /// The answer to remember for the idempotency key, given the delivery count.
    pub answer: fn(&EventId, u64) -> String,
}

impl PublishRequest {
    /// Neither an idempotency key nor a single target hook: stored with the
    /// other plain requests of its batch in two statements.
    fn is_plain(&self) -> bool {
        self.idempotency_key.is_none() && self.only_hook.is_none()
    }
}

/// Stores several publish requests in one transaction (one fsync): each
/// event with its deliveries, or, for an idempotency key seen in the last
/// 24 h, nothing but the first answer. A request naming an unknown account
/// is skipped (`UnknownAccount`) without failing the others.
///
/// With `lease` (owner, duration), the new deliveries are stored already
/// claimed by that owner and returned, so the dispatcher can send them
/// without a claim query (the in-process fast path); if the process dies the
/// lease expires and they are claimed again like any other.
pub async fn publish_batch(
    db: &Db,
    requests: &[PublishRequest],
    lease: Option<(&LeaseOwner, i64)>,
) -> Result<Vec<Published>, StorageError> {
    // On PostgreSQL a hook matched by the batch may be deleted by another
    // transaction before the batch commits: its delivery's foreign key then
    // fails the whole transaction. Done again, the batch no longer sees the
    // hook, and the events are stored without deliveries to it (what a
    // publish after the delete gets). A deadlock victim is run again too.
    // SQLite's single writer never races.
    let mut tries = 0;
    loop {
        match publish_once(db, requests, lease).await {
            Err(e) if tries < 3 && (e.is_foreign_key_violation() || e.is_deadlock()) => tries += 1,
            done => return done,
        }
    }
}

async fn publish_once(
    db: &Db,
    requests: &[PublishRequest],
    lease: Option<(&LeaseOwner, i64)>,
) -> Result<Vec<Published>, StorageError> {
    let now = now_ms();
    let lease = lease.map(|(owner, ms)| NewLease { owner, until: now + ms });
    // The writer thread, whichever handle asks (the dispatcher's too).
    if let Some(writer) = db.writer()
        && requests.iter().all(PublishRequest::is_plain)
    {
        let plain: Vec<&PublishRequest> = requests.iter().collect();
        return publish_plain_on_writer(writer, &plain, now, lease).await;
    }
    let mut tx = db.begin_write().await?;
    lock_idempotency_keys(&mut tx, requests).await?;
    // Plain events (the bulk of the traffic) are stored together in two
    // statements; test events and those with an idempotency key one by one.
    let plain: Vec<&PublishRequest> = requests.iter().filter(|r| r.is_plain()).collect();
    let mut plain_out = publish_plain(&mut tx, &plain, now, lease).await?.into_iter();
    let mut out = Vec::with_capacity(requests.len());
    for request in requests {
        if request.is_plain() {
            out.push(plain_out.next().ok_or(StorageError::Corrupt("publish batch"))?);
        } else {
            out.push(publish_one(&mut tx, request, now, lease).await?);
        }
    }
    tx.commit().await?;
    Ok(out)
}

/// On PostgreSQL another process may publish with the same idempotency key
/// at the same moment: each key of the batch is locked (in one order, so
/// two batches cannot deadlock) until the commit, so the second waits and
/// then finds the first's answer. SQLite has one writer at a time already.
async fn lock_idempotency_keys(tx: &mut Tx, requests: &[PublishRequest]) -> Result<(), StorageError> {
    let Tx::Postgres(t) = tx else { return Ok(()) };
    let mut keys: Vec<String> =
        requests.iter().filter_map(|r| r.idempotency_key.as_ref().map(|k| format!("{}:{k}", r.account_id))).collect();
    if keys.is_empty() {
        return Ok(());
    }
    keys.sort();
    keys.dedup();
    sqlx::query(
        "SELECT pg_advisory_xact_lock(hashtextextended(k, 0))
         FROM (SELECT value AS k FROM json_array_elements_text($1::json) ORDER BY 1) AS keys",
    )
    .bind(json_rows(&keys)?)
    .execute(&mut **t)
    .await?;
    Ok(())
}

/// A new delivery id, made by the database: seconds (of `$2`, ms) as 8 hex
/// digits, then 16 random hex digits.
const NEW_DELIVERY_ID_SQLITE: &str = "printf('%08x', $2 / 1000) || lower(hex(randomblob(8)))";
const NEW_DELIVERY_ID_POSTGRES: &str = "lpad(to_hex($2 / 1000), 8, '0') || substr(md5(gen_random_uuid()::text), 1, 16)";

/// Stores events without an idempotency key or a single target hook: all
/// events in one `INSERT`, all their deliveries (one per matching active
/// hook) in one `INSERT … SELECT`, rows passed as JSON arrays. Returns one
/// result per request, in order.
async fn publish_plain(
    tx: &mut Tx,
    requests: &[&PublishRequest],
    now: i64,
    lease: Option<NewLease<'_>>,
) -> Result<Vec<Published>, StorageError> {
    if requests.is_empty() {
        return Ok(Vec::new());
    }
    let (events, matches) = plain_rows(requests)?;
    let insert_events = tx.sql(INSERT_EVENTS_SQLITE, INSERT_EVENTS_POSTGRES);
    let stored: Vec<(String,)> =
        on_tx!(&mut *tx, t => sqlx::query_as(insert_events).bind(&events).bind(now).fetch_all(&mut **t).await)?;
    let insert_deliveries = deliveries_for_events(tx.backend(), "$1");
    let created: Vec<NewDelivery> = on_tx!(&mut *tx, t => sqlx::query_as(
        sqlx::AssertSqlSafe(insert_deliveries))
        .bind(&matches)
        .bind(now)
        .bind(lease.map(|l| l.until))
        .bind(lease.map(|l| l.owner.as_str()))
        .fetch_all(&mut **t)
        .await)?;
    plain_results(requests, &stored.into_iter().map(|(id,)| id).collect(), created, lease)
}

/// A delivery made by the insert: id, event, hook, lease owner (none for an ordered hook's).
type NewDelivery = (DeliveryId, EventId, String, Option<String>);

/// `$1`: the events as JSON rows, `$2`: now. Only events of existing
/// accounts: one unknown `_user` fails alone.
const INSERT_EVENTS_SQLITE: &str = "INSERT INTO events (id, account_id, hook_type, shop, payload, created_at)
     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, $2 FROM json_each($1)
     WHERE EXISTS (SELECT 1 FROM accounts a WHERE a.id = value ->> 1)
     RETURNING id";
const INSERT_EVENTS_POSTGRES: &str = "INSERT INTO events (id, account_id, hook_type, shop, payload, created_at)
     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, $2 FROM json_array_elements($1::json)
     WHERE EXISTS (SELECT 1 FROM accounts a WHERE a.id = value ->> 1)
     RETURNING id";

/// The events' rows and the rows their deliveries are matched by, as JSON
/// arrays (tuples serialize as arrays: `value ->> 0` is the first element).
fn plain_rows(requests: &[&PublishRequest]) -> Result<(String, String), StorageError> {
    let events: Vec<_> =
        requests.iter().map(|r| (r.id.as_str(), r.account_id.as_str(), &r.hook_type, &r.shop, &r.payload)).collect();
    let matches: Vec<_> = requests
        .iter()
        .map(|r| (r.id.as_str(), r.account_id.as_str(), &r.hook_type, &r.shop, r.vertical.as_str()))
        .collect();
    Ok((json_rows(&events)?, json_rows(&matches)?))
}

/// One result per request, in order, from the events stored and the deliveries made.
fn plain_results(
    requests: &[&PublishRequest],
    stored: &HashSet<String>,
    created: Vec<NewDelivery>,
    lease: Option<NewLease<'_>>,
) -> Result<Vec<Published>, StorageError> {
    let index: HashMap<&str, usize> = requests.iter().enumerate().map(|(i, r)| (r.id.as_str(), i)).collect();
    let mut counts = vec![0u64; requests.len()];
    let mut leased: Vec<Vec<ClaimedDelivery>> = vec![Vec::new(); requests.len()];
    let payloads: Vec<Arc<str>> =
        if lease.is_some() { requests.iter().map(|r| Arc::from(r.payload.as_str())).collect() } else { Vec::new() };
    for (id, event_id, hook_id, lease_owner) in created {
        let i = *index.get(event_id.as_str()).ok_or(StorageError::Corrupt("delivery event"))?;
        counts[i] += 1;
        if lease_owner.is_some() {
            leased[i].push(ClaimedDelivery { id, event_id, hook_id, attempt_count: 0, payload: payloads[i].clone() });
        }
    }
    Ok(requests
        .iter()
        .zip(counts.into_iter().zip(leased))
        .map(|(request, (deliveries, leased))| {
            if stored.contains(request.id.as_str()) {
                Published::New { deliveries, leased }
            } else {
                Published::UnknownAccount
            }
        })
        .collect())
}

/// On a SQLite file a batch of plain events is stored by the writer thread
/// (`sqlite_writer.rs`): `BEGIN IMMEDIATE`, the two inserts, `COMMIT`, as
/// one job. What follows the commit only reads the returned rows; an error
/// there (a column that does not decode) would answer 500 for events
/// already stored, as a lost answer after any commit would.
async fn publish_plain_on_writer(
    writer: &super::sqlite_writer::SqliteWriter,
    requests: &[&PublishRequest],
    now: i64,
    lease: Option<NewLease<'_>>,
) -> Result<Vec<Published>, StorageError> {
    use super::sqlite_writer::{bind, numbered};
    static STATEMENTS: std::sync::LazyLock<[String; 2]> = std::sync::LazyLock::new(|| {
        [numbered(INSERT_EVENTS_SQLITE), numbered(&deliveries_for_events(Backend::Sqlite, "$5"))]
    });
    let (events, matches) = plain_rows(requests)?;
    let until = lease.map(|l| l.until);
    let owner = lease.map(|l| l.owner.as_str().to_owned());
    let (stored, created) = writer
        .run(move |conn| {
            let args: [&dyn rusqlite::ToSql; 5] = [&events, &now, &until, &owner, &matches];
            let tx = rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)?;
            let mut stored = HashSet::new();
            {
                let mut insert = tx.prepare_cached(&STATEMENTS[0])?;
                bind(&mut insert, &args)?;
                let mut rows = insert.raw_query();
                while let Some(row) = rows.next()? {
                    stored.insert(row.get::<_, String>(0)?);
                }
            }
            let mut created: Vec<(String, String, String, Option<String>)> = Vec::new();
            {
                let mut insert = tx.prepare_cached(&STATEMENTS[1])?;
                bind(&mut insert, &args)?;
                let mut rows = insert.raw_query();
                while let Some(row) = rows.next()? {
                    created.push((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?));
                }
            }
            tx.commit()?;
            Ok((stored, created))
        })
        .await?;
    let created = created
        .into_iter()
        .map(|(id, event, hook, owner)| {
            let id = DeliveryId::try_from(id).map_err(|_| StorageError::Corrupt("delivery id"))?;
            let event = EventId::try_from(event).map_err(|_| StorageError::Corrupt("event id"))?;
            Ok((id, event, hook, owner))
        })
        .collect::<Result<Vec<NewDelivery>, StorageError>>()?;
    plain_results(requests, &stored, created, lease)
}

async fn publish_one(
    tx: &mut Tx,
    r: &PublishRequest,
    now: i64,
    lease: Option<NewLease<'_>>,
) -> Result<Published, StorageError> {
    let (known,): (bool,) = on_tx!(&mut *tx, t => sqlx::query_as("SELECT EXISTS (SELECT 1 FROM accounts WHERE id = $1)")
        .bind(r.account_id.as_str())
        .fetch_one(&mut **t)
        .await)?;
    if !known {
        return Ok(Published::UnknownAccount);
    }
    if let Some(first) = first_answer(tx, r, now).await? {
        return Ok(Published::Replayed(first));
    }
    on_tx!(&mut *tx, t => sqlx::query(
        "INSERT INTO events (id, account_id, hook_type, shop, payload, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(r.id.as_str())
    .bind(r.account_id.as_str())
    .bind(&r.hook_type)
    .bind(&r.shop)
    .bind(&r.payload)
    .bind(now)
    .execute(&mut **t)
    .await
    .map(|_| ()))?;
    let sql = deliveries_for_one(tx.backend(), r.only_hook.is_some());
    let only_hook = r.only_hook.as_ref().map(ResourceId::as_str);
    let created: Vec<(DeliveryId, String, Option<String>)> = on_tx!(&mut *tx, t => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(r.id.as_str())
        .bind(now)
        .bind(r.account_id.as_str())
        .bind(&r.hook_type)
        .bind(r.vertical.as_str())
        .bind(&r.shop)
        .bind(lease.map(|l| l.until))
        .bind(lease.map(|l| l.owner.as_str()))
        .bind(only_hook)
        .fetch_all(&mut **t)
        .await)?;
    let inserted = u64::try_from(created.len()).unwrap_or(u64::MAX);
    let mut leased = Vec::new();
    if lease.is_some() {
        let payload: Arc<str> = Arc::from(r.payload.as_str());
        leased = created
            .into_iter()
            .filter(|(_, _, lease_owner)| lease_owner.is_some())
            .map(|(id, hook_id, _)| ClaimedDelivery {
                id,
                event_id: r.id.clone(),
                hook_id,
                attempt_count: 0,
                payload: payload.clone(),
            })
            .collect();
    }
    if let Some(key) = &r.idempotency_key {
        remember_answer(tx, r, key, (r.answer)(&r.id, inserted), now).await?;
    }
    Ok(Published::New { deliveries: inserted, leased })
}

/// The answer given to the first request with this idempotency key, within
/// the window (older ones are forgotten here).
async fn first_answer(tx: &mut Tx, r: &PublishRequest, now: i64) -> Result<Option<String>, StorageError> {
    let Some(key) = &r.idempotency_key else { return Ok(None) };
    on_tx!(&mut *tx, t => sqlx::query(
        "DELETE FROM idempotency_keys WHERE account_id = $1 AND key = $2 AND created_at <= $3",
    )
    .bind(r.account_id.as_str())
    .bind(key)
    .bind(now - IDEMPOTENCY_WINDOW_MS)
    .execute(&mut **t)
    .await
    .map(|_| ()))?;
    let seen: Option<(String,)> = on_tx!(&mut *tx, t => sqlx::query_as(
        "SELECT response FROM idempotency_keys WHERE account_id = $1 AND key = $2",
    )
    .bind(r.account_id.as_str())
    .bind(key)
    .fetch_optional(&mut **t)
    .await)?;
    Ok(seen.map(|(response,)| response))
}

/// Keeps the answer for later requests with the same idempotency key.
async fn remember_answer(
    tx: &mut Tx,
    r: &PublishRequest,
    key: &str,
    answer: String,
    now: i64,
) -> Result<(), StorageError> {
    on_tx!(&mut *tx, t => sqlx::query(
        "INSERT INTO idempotency_keys (account_id, key, response, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(r.account_id.as_str())
    .bind(key)
    .bind(&answer)
    .bind(now)
    .execute(&mut **t)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// One delivery per matching active hook for each event of the JSON array
/// in `rows_param` (`[event id, account, hook type, shop, vertical]`), due at `$2`,
/// leased until `$3` by `$4` (or not leased).
fn deliveries_for_events(backend: Backend, rows_param: &str) -> String {
    let (new_id, rows) = match backend {
        Backend::Sqlite => (NEW_DELIVERY_ID_SQLITE, format!("json_each({rows_param})")),
        Backend::Postgres => (
            NEW_DELIVERY_ID_POSTGRES,
            format!("json_array_elements({rows_param}::json) WITH ORDINALITY AS x(value, key)"),
        ),
    };
    // In the events' order (the publish order ordered hooks keep: rowid /
    // `seq` follow insert order). An ordered hook's deliveries are stored
    // unleased: the claim takes them one at a time, never the hand-over.
    format!(
        "INSERT INTO deliveries (id, event_id, hook_id, account_id, status, attempt_count, next_attempt_at,
                                 lease_until, lease_owner, created_at, updated_at)
         SELECT {new_id}, e.event_id, h.id, h.account_id, 'pending', 0, $2,
                CASE WHEN h.ordered THEN NULL ELSE $3 END, CASE WHEN h.ordered THEN NULL ELSE $4 END, $2, $2
         FROM (SELECT value ->> 0 AS event_id, value ->> 1 AS account_id, value ->> 2 AS hook_type,
                      value ->> 3 AS shop, value ->> 4 AS vertical, key AS n FROM {rows}) AS e
         JOIN hooks h ON h.account_id = e.account_id AND h.is_active = TRUE
                     AND (h.hook_type = e.hook_type OR (h.hook_type IS NULL AND h.vertical = e.vertical))
                     AND (e.shop IS NULL OR h.shop IS NULL OR h.shop = e.shop)
         ORDER BY e.n
         RETURNING id, event_id, hook_id, lease_owner"
    )
}

/// The deliveries of one event `$1` (account `$3`, hook type `$4`,
/// vertical `$5`, shop `$6`): to every matching active hook, or with
/// `only_hook` to hook `$9` whatever its state (a test event).
fn deliveries_for_one(backend: Backend, only_hook: bool) -> String {
    let new_id = match backend {
        Backend::Sqlite => NEW_DELIVERY_ID_SQLITE,
        Backend::Postgres => NEW_DELIVERY_ID_POSTGRES,
    };
    let hooks = if only_hook {
        "h.account_id = $3 AND h.id = $9"
    } else {
        "h.account_id = $3 AND h.is_active = TRUE
         AND (h.hook_type = $4 OR (h.hook_type IS NULL AND h.vertical = $5))
         AND ($6 IS NULL OR h.shop IS NULL OR h.shop = $6)"
    };
    format!(
        "INSERT INTO deliveries (id, event_id, hook_id, account_id, status, attempt_count, next_attempt_at,
                                 lease_until, lease_owner, created_at, updated_at)
         SELECT {new_id}, $1, h.id, h.account_id, 'pending', 0, $2,
                CASE WHEN h.ordered THEN NULL ELSE $7 END, CASE WHEN h.ordered THEN NULL ELSE $8 END, $2, $2
         FROM hooks h
         WHERE {hooks}
         RETURNING id, hook_id, lease_owner"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(account: &ResourceId) -> PublishRequest {
        PublishRequest {
            id: crate::security::random::new_id().expect("id").into(),
            account_id: account.clone(),
            hook_type: "dbs".into(),
            vertical: Vertical::Flightrates,
            shop: None,
            payload: "{}".into(),
            only_hook: None,
            idempotency_key: None,
            answer: |_, _| String::new(),
        }
    }

    #[tokio::test]
    async fn an_unknown_account_fails_alone_in_its_batch() {
        let dir = tempfile::tempdir().expect("dir");
        let db = crate::storage::connect(&format!("sqlite://{}", dir.path().join("t.db").display())).await.expect("db");
        let known = crate::storage::fixtures::account(&db, "a@example.com").await;
        let unknown = ResourceId::parse("0123456789abcdef01234567").expect("id");
        let mut keyed = request(&unknown);
        keyed.idempotency_key = Some("k".into());
        let batch = [request(&known), request(&unknown), request(&known), keyed];
        let out = publish_batch(&db, &batch, None).await.expect("the batch is written");
        assert!(matches!(out[0], Published::New { .. }));
        assert!(matches!(out[1], Published::UnknownAccount));
        assert!(matches!(out[2], Published::New { .. }));
        assert!(matches!(out[3], Published::UnknownAccount));
    }

    /// A URL that names its VFS: the pool and the writer thread open the
    /// file through the same one (they must agree on how it is locked).
    #[tokio::test]
    async fn a_database_url_naming_its_vfs_is_written_through_it() {
        assert_eq!(
            crate::storage::backend::sqlite_vfs("sqlite://a.db?mode=rwc&vfs=unix-dotfile").as_deref(),
            Some("unix-dotfile")
        );
        assert_eq!(crate::storage::backend::sqlite_vfs("sqlite://a.db?mode=rwc"), None);
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}?vfs=unix", dir.path().join("t.db").display());
        let db = crate::storage::connect(&url).await.expect("db");
        let known = crate::storage::fixtures::account(&db, "a@example.com").await;
        crate::storage::fixtures::hook(&db, &known, "dbs").await;
        let out = publish_batch(&db, &[request(&known)], None).await.expect("written");
        assert!(matches!(out[0], Published::New { deliveries: 1, .. }));
    }

    #[tokio::test]
    async fn plain_batches_on_the_writer_keep_each_requests_answer() {
        // Every request plain: on a SQLite file the writer thread stores the batch.
        let dir = tempfile::tempdir().expect("dir");
        let db = crate::storage::connect(&format!("sqlite://{}", dir.path().join("t.db").display())).await.expect("db");
        let known = crate::storage::fixtures::account(&db, "a@example.com").await;
        crate::storage::fixtures::hook(&db, &known, "dbs").await;
        let unknown = ResourceId::parse("0123456789abcdef01234567").expect("id");
        let batch = [request(&known), request(&unknown), request(&known)];
        let owner = LeaseOwner::new().expect("owner");
        let out = publish_batch(&db, &batch, Some((&owner, 60_000))).await.expect("the batch is written");
        let handed: Vec<Vec<&EventId>> = out
            .iter()
            .map(|p| match p {
                Published::New { deliveries: 1, leased } => leased.iter().map(|d| &d.event_id).collect(),
                Published::UnknownAccount => Vec::new(),
                _ => panic!("neither new with one delivery nor an unknown account"),
            })
            .collect();
        // Each answer is its own request's: the delivery handed over is of that event.
        assert_eq!(handed, [vec![&batch[0].id], vec![], vec![&batch[2].id]]);
        // Committed: the events are there, and a second batch reuses the statements.
        let again = publish_batch(&db, &[request(&known)], None).await.expect("again");
        assert!(matches!(again[0], Published::New { deliveries: 1, .. }));
        let (events,): (i64,) = crate::storage::backend::on_pool!(&db.pool, p => sqlx::query_as("SELECT count(*) FROM events").fetch_one(p).await)
            .expect("count");
        assert_eq!(events, 3, "two events of the first batch and one of the second");
    }
}
