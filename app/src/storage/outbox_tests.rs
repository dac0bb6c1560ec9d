//! The outbox's storage contract, tested on the storage functions directly
//! and on both backends (a SQLite file, a throw-away PostgreSQL database):
//! publish queues one delivery per matching active hook; a claim leases
//! each due delivery to one owner; only the lease holder records or gives
//! back; a recorded retry waits for its time; retention prunes finished
//! history and keeps what is pending. The API tests cover the same through
//! HTTP; these pin the seam the dispatcher is built on.

use super::backend::on_pool;
use super::deliveries::{self, AttemptRecord, ClaimedDelivery, LeaseOwner, Outcome, RecordResult, Recorded};
use super::events::{PublishRequest, Published, publish_batch};
use super::fixtures::{self, event, hook};
use super::schema_twins::ThrowAway;
use super::{Db, connect, hooks, now_ms, retention};
use crate::domain::ResourceId;
use std::future::Future;

const LEASE_MS: i64 = 60_000;

/// Runs `test` on a fresh SQLite file, then on a fresh PostgreSQL database.
async fn on_each_backend<F, Fut>(test: F)
where
    F: Fn(Db) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("dir");
    let sqlite = connect(&format!("sqlite://{}", dir.path().join("outbox.db").display())).await.expect("sqlite");
    test(sqlite).await;
    let pg = ThrowAway::create().await;
    let postgres = connect(&pg.url).await.expect("postgres");
    test(postgres.clone()).await;
    on_pool!(&postgres.pool, p => p.close().await);
    pg.drop().await;
}

/// Publishes `requests` without a lease; returns each one's delivery count.
async fn publish(db: &Db, requests: &[PublishRequest]) -> Vec<u64> {
    publish_batch(db, requests, None)
        .await
        .expect("publish")
        .into_iter()
        .map(|p| match p {
            Published::New { deliveries, .. } => deliveries,
            _ => panic!("not stored as new"),
        })
        .collect()
}

/// An account with one "dbs" hook.
async fn account_with_one_hook(db: &Db) -> ResourceId {
    let account = fixtures::account(db, "outbox@example.com").await;
    hook(db, &account, "dbs").await;
    account
}

/// Records `records` as `owner` (never disabling a hook for failing).
async fn record_all(db: &Db, owner: &LeaseOwner, records: &[Recorded]) -> Vec<RecordResult> {
    deliveries::record_batch(db, owner, records, i64::MAX / 2).await.expect("record")
}

async fn claim_all(db: &Db, owner: &LeaseOwner, lease_ms: i64) -> Vec<ClaimedDelivery> {
    deliveries::claim(db, owner, lease_ms, 1000, 1000, &[], None).await.expect("claim")
}

fn record(delivery: &ClaimedDelivery, outcome: Outcome) -> Recorded {
    Recorded {
        delivery_id: delivery.id.clone(),
        hook_id: delivery.hook_id.clone(),
        attempt: AttemptRecord {
            attempted_at: now_ms(),
            duration_ms: 3,
            status_code: Some(if outcome.succeeded() { 200 } else { 500 }),
            error: None,
            response_body: Some("ok".into()),
        },
        outcome,
    }
}

async fn count(db: &Db, table: &str) -> i64 {
    let sql = sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}"));
    let (n,): (i64,) = on_pool!(&db.pool, p => sqlx::query_as(sql).fetch_one(p).await).expect("count");
    n
}

#[tokio::test]
async fn publish_queues_one_delivery_per_matching_active_hook() {
    on_each_backend(|db| async move {
        let account = fixtures::account(&db, "outbox@example.com").await;
        let (a, b) = (hook(&db, &account, "dbs").await, hook(&db, &account, "dbs").await);
        let other = hook(&db, &account, "other").await;
        let off = hook(&db, &account, "dbs").await;
        hooks::set_active(&db, &account, &off, false).await.expect("switch off");

        let counts = publish(&db, &[event(&account, "dbs"), event(&account, "dbs"), event(&account, "other")]).await;
        assert_eq!(counts, [2, 2, 1]);
        let claimed = claim_all(&db, &LeaseOwner::new().expect("owner"), LEASE_MS).await;
        let mut per_hook: Vec<&str> = claimed.iter().map(|d| d.hook_id.as_str()).collect();
        per_hook.sort_unstable();
        let mut expected = vec![a.as_str(), a.as_str(), b.as_str(), b.as_str(), other.as_str()];
        expected.sort_unstable();
        assert_eq!(per_hook, expected, "no delivery for the switched-off hook {off}");
        assert!(claimed.iter().all(|d| d.attempt_count == 0 && d.payload.starts_with("{\"type\":")));
    })
    .await;
}

#[tokio::test]
async fn a_claim_leases_each_delivery_to_one_owner_until_the_lease_expires() {
    on_each_backend(|db| async move {
        let account = account_with_one_hook(&db).await;
        publish(&db, &[event(&account, "dbs"), event(&account, "dbs")]).await;
        let (first, second) = (LeaseOwner::new().expect("owner"), LeaseOwner::new().expect("owner"));

        // A lease already in the past: taken, but claimable again at once.
        let expired = claim_all(&db, &first, -1).await;
        assert_eq!(expired.len(), 2);
        let taken = claim_all(&db, &second, LEASE_MS).await;
        assert_eq!(taken.len(), 2, "an expired lease is how a crashed holder's work comes back");
        assert!(claim_all(&db, &first, LEASE_MS).await.is_empty(), "a live lease is nobody else's to take");

        // The first holder's late record is dropped; the second's is written.
        let late = record(&expired[0], Outcome::Succeeded);
        let out = record_all(&db, &first, &[late]).await;
        assert_eq!(out, [RecordResult::LeaseLost]);
        let done = record(&taken[0], Outcome::Succeeded);
        let out = record_all(&db, &second, std::slice::from_ref(&done)).await;
        assert_eq!(out, [RecordResult::Written { disabled: None }]);
        // A finished delivery is never recorded again, not even by its holder.
        let out = record_all(&db, &second, &[done]).await;
        assert_eq!(out, [RecordResult::LeaseLost]);
    })
    .await;
}

#[tokio::test]
async fn a_retry_waits_for_its_time_and_a_release_gives_work_back() {
    on_each_backend(|db| async move {
        let account = account_with_one_hook(&db).await;
        publish(&db, &[event(&account, "dbs"), event(&account, "dbs")]).await;
        let owner = LeaseOwner::new().expect("owner");
        let claimed = claim_all(&db, &owner, LEASE_MS).await;
        assert_eq!(claimed.len(), 2);

        let later = record(&claimed[0], Outcome::RetryAt(now_ms() + 3_600_000));
        let out = record_all(&db, &owner, &[later]).await;
        assert_eq!(out, [RecordResult::Written { disabled: None }]);
        deliveries::release(&db, &owner, &[claimed[1].id.clone()], now_ms()).await.expect("release");
        // Released by a stranger: nothing happens to a lease it does not hold.
        let stranger = LeaseOwner::new().expect("owner");
        deliveries::release(&db, &stranger, &[claimed[0].id.clone()], 0).await.expect("release");

        let again = claim_all(&db, &stranger, LEASE_MS).await;
        let ids: Vec<_> = again.iter().map(|d| d.id.clone()).collect();
        assert_eq!(ids, [claimed[1].id.clone()], "only the released one is due; the retry waits an hour");
        assert_eq!(again[0].attempt_count, 0);
    })
    .await;
}

#[tokio::test]
async fn a_claim_skips_switched_off_and_saturated_hooks_and_caps_each_hook() {
    on_each_backend(|db| async move {
        let account = fixtures::account(&db, "outbox@example.com").await;
        let (busy, calm) = (hook(&db, &account, "dbs").await, hook(&db, &account, "dbs").await);
        publish(&db, &(0..5).map(|_| event(&account, "dbs")).collect::<Vec<_>>()).await;
        let owner = LeaseOwner::new().expect("owner");

        let capped = deliveries::claim(&db, &owner, LEASE_MS, 100, 2, &[busy.as_str()], None).await.expect("claim");
        assert_eq!(capped.len(), 2, "at most two of the calm hook's, none of the saturated one's");
        assert!(capped.iter().all(|d| d.hook_id == calm.as_str()));

        let only = [busy.as_str()];
        let theirs = deliveries::claim(&db, &owner, LEASE_MS, 100, 1, &[], Some(&only)).await.expect("claim");
        assert_eq!(theirs.len(), 1, "only the listed hook's, at most one");
        assert!(theirs.iter().all(|d| d.hook_id == busy.as_str()));
        deliveries::release(&db, &owner, &[theirs[0].id.clone()], 0).await.expect("release");

        hooks::set_active(&db, &account, &busy, false).await.expect("switch off");
        let rest = claim_all(&db, &owner, LEASE_MS).await;
        assert_eq!(rest.len(), 3, "the calm hook's other three; the switched-off hook's five wait");
        assert!(rest.iter().all(|d| d.hook_id == calm.as_str()));
        hooks::set_active(&db, &account, &busy, true).await.expect("switch on");
        assert_eq!(claim_all(&db, &owner, LEASE_MS).await.len(), 5, "switched on, they go");
    })
    .await;
}

#[tokio::test]
async fn a_publish_with_a_lease_hands_its_deliveries_over_already_claimed() {
    on_each_backend(|db| async move {
        let account = account_with_one_hook(&db).await;
        let owner = LeaseOwner::new().expect("owner");
        let out = publish_batch(&db, &[event(&account, "dbs")], Some((&owner, LEASE_MS))).await.expect("publish");
        let [Published::New { deliveries: 1, leased }] = out.as_slice() else { panic!("one new delivery") };
        assert_eq!(leased.len(), 1);
        assert!(claim_all(&db, &LeaseOwner::new().expect("owner"), LEASE_MS).await.is_empty());
        let out = record_all(&db, &owner, &[record(&leased[0], Outcome::Succeeded)]).await;
        assert_eq!(out, [RecordResult::Written { disabled: None }]);
    })
    .await;
}

#[tokio::test]
async fn retention_prunes_finished_history_and_keeps_pending_work() {
    on_each_backend(|db| async move {
        let account = account_with_one_hook(&db).await;
        publish(&db, &[event(&account, "dbs"), event(&account, "dbs")]).await;
        let owner = LeaseOwner::new().expect("owner");
        let claimed = claim_all(&db, &owner, LEASE_MS).await;
        let done = record(&claimed[0], Outcome::Succeeded);
        let failed_once = record(&claimed[1], Outcome::RetryAt(now_ms() + 3_600_000));
        record_all(&db, &owner, &[done, failed_once]).await;

        let mut pass = retention::Pass::new(now_ms() + 1);
        while !pass.is_done() {
            pass.step(&db).await.expect("step");
        }
        assert_eq!(count(&db, "deliveries").await, 1, "the pending delivery stays");
        assert_eq!(count(&db, "events").await, 1, "and so does its event");
        assert_eq!(count(&db, "attempts").await, 0, "every attempt was older than the cutoff");
        let again = claim_all(&db, &owner, LEASE_MS).await;
        assert!(again.is_empty(), "the kept delivery still waits for its retry time");
    })
    .await;
}

/// The hook's `failing_since`, set while its deliveries fail.
async fn failing_since(db: &Db) -> Option<i64> {
    let (at,): (Option<i64>,) =
        on_pool!(&db.pool, p => sqlx::query_as("SELECT failing_since FROM hooks").fetch_one(p).await).expect("hook");
    at
}

#[tokio::test]
async fn successes_close_the_failing_window_and_a_lost_lease_writes_no_attempt() {
    on_each_backend(|db| async move {
        let account = account_with_one_hook(&db).await;
        publish(&db, &[event(&account, "dbs"), event(&account, "dbs")]).await;
        let owner = LeaseOwner::new().expect("owner");
        let claimed = claim_all(&db, &owner, LEASE_MS).await;
        assert_eq!(claimed.len(), 2);

        // A failure opens the window; the retry is due at once.
        let failed = record(&claimed[0], Outcome::RetryAt(now_ms() - 1));
        assert_eq!(record_all(&db, &owner, &[failed]).await, [RecordResult::Written { disabled: None }]);
        assert!(failing_since(&db).await.is_some(), "a failure opens the window");
        let retried = claim_all(&db, &owner, LEASE_MS).await;
        assert_eq!(retried.len(), 1);

        // A batch of successes: the one this owner holds is written and
        // closes the window; the one recorded by a stranger (no lease) is not.
        let stranger = LeaseOwner::new().expect("owner");
        let ours = record(&retried[0], Outcome::Succeeded);
        assert_eq!(record_all(&db, &owner, &[ours]).await, [RecordResult::Written { disabled: None }]);
        assert_eq!(failing_since(&db).await, None, "a success closes the window");
        let theirs = record(&claimed[1], Outcome::Succeeded);
        let attempts_before = count(&db, "attempts").await;
        assert_eq!(record_all(&db, &stranger, &[theirs]).await, [RecordResult::LeaseLost]);
        assert_eq!(count(&db, "attempts").await, attempts_before, "no attempt row without the lease");

        // A lost lease never closes a window it has no part in: the
        // delivery is still pending (its retry an hour away), only the
        // lease is not the stranger's.
        let failed = record(&claimed[1], Outcome::RetryAt(now_ms() + 3_600_000));
        assert_eq!(record_all(&db, &owner, &[failed]).await, [RecordResult::Written { disabled: None }]);
        let opened = failing_since(&db).await;
        assert!(opened.is_some());
        let stray = record(&claimed[1], Outcome::Succeeded);
        assert_eq!(record_all(&db, &stranger, &[stray]).await, [RecordResult::LeaseLost]);
        assert_eq!(failing_since(&db).await, opened, "a success without the lease leaves the window open");
    })
    .await;
}

/// The dispatcher's all-succeeded records run on the writer thread's
/// connection, the publishes' (one page cache for both), with
/// `synchronous = NORMAL`; the connection must be back at FULL afterwards,
/// or the next 202 would follow a commit that was not fsynced.
#[tokio::test]
async fn a_record_on_the_shared_connection_leaves_it_fsyncing() {
    use super::deliveries::LeaseOwner;
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("sync.db").display());
    let db = connect(&url).await.expect("sqlite");
    let dispatch = db.for_dispatch(&url).await.expect("dispatch handle");
    let account = account_with_one_hook(&db).await;
    publish(&db, &[event(&account, "dbs")]).await;
    // Published through the dispatcher's handle too: the same writer.
    publish(&dispatch, &[event(&account, "dbs")]).await;
    let owner = LeaseOwner::new().expect("owner");
    let claimed = claim_all(&dispatch, &owner, LEASE_MS).await;
    assert_eq!(claimed.len(), 2);
    // Twice: the second run reuses the prepared statements.
    for delivery in &claimed {
        let done = record(delivery, Outcome::Succeeded);
        assert_eq!(record_all(&dispatch, &owner, &[done]).await, [RecordResult::Written { disabled: None }]);
    }
    assert_eq!(count(&db, "attempts").await, 2);
    let level = db
        .writer()
        .expect("a SQLite file has a writer")
        .run(|conn| Ok(conn.query_row("PRAGMA synchronous", [], |r| r.get::<_, i64>(0))?))
        .await
        .expect("pragma");
    assert_eq!(level, 2, "FULL (2) again after the record's transaction");
}
