//! Several `hookrelay` processes on one PostgreSQL database (SPEC §1): one
//! outbox claimed with `FOR UPDATE SKIP LOCKED` and owner-tokened leases,
//! hook changes heard across processes, a killed process's work taken over.
//! These run in the PostgreSQL pass of the suite (`HOOKRELAY_TEST_BACKEND=postgres`);
//! on SQLite, one process owns its database file, so they return at once.

use crate::helpers::{Arg, Backend, TestApp, assert_exactly_once, backend, create_hook};
use crate::publishers::{OnFailure, publish_events};
use crate::receiver::Receiver;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::time::Instant;

const WAIT: Duration = Duration::from_secs(60);
/// Loopback receivers, no rate limit, a 2 s timeout (a lease: 2 s + 5 s).
const FLAGS: [&str; 5] = ["--allow-private-targets", "--rate-limit", "0", "--delivery-timeout", "2s"];

/// `FLAGS` for a process that does not listen to other processes' hook
/// changes (`--fault deaf-to-hook-changes`): only the fence tells it.
fn deaf_flags() -> Vec<&'static str> {
    let mut deaf = FLAGS.to_vec();
    deaf.extend(["--fault", "deaf-to-hook-changes"]);
    deaf
}

fn on_postgres(test: &str) -> bool {
    let yes = backend() == Backend::Postgres;
    if !yes {
        eprintln!("{test}: several processes need PostgreSQL; runs in the PostgreSQL pass");
    }
    yes
}

async fn wait_for_all(receiver: &Receiver, accepted: &HashSet<String>) {
    let deadline = Instant::now() + WAIT;
    loop {
        let arrived = receiver.by_event();
        let missing = accepted.iter().filter(|id| !arrived.contains_key(*id)).count();
        if missing == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "{missing} of {} accepted events never arrived", accepted.len());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// How many deliveries a process's dispatcher sent (from its /metrics).
async fn delivered_by(app: &TestApp) -> u64 {
    let text = app.get("/metrics").send().await.expect("metrics").text().await.expect("text");
    text.lines()
        .filter(|l| l.starts_with("hookrelay_delivery_attempts_total"))
        // Counters print as integers ("12", or "12.0" from some encoders).
        .filter_map(|l| l.rsplit(' ').next()?.trim_end_matches(".0").parse::<u64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_database_deliver_every_event_once() {
    if !on_postgres("two_processes_on_one_database_deliver_every_event_once") {
        return;
    }
    let a = TestApp::spawn_with(&FLAGS).await;
    let b = a.another_process(&FLAGS);
    let key = a.create_user("two@example.com");
    let receiver = Receiver::start().await;
    create_hook(&a, &key, &receiver.url).await;

    let accepted = Arc::new(AtomicUsize::new(0));
    let ids =
        publish_events(vec![a.url.clone(), b.url.clone()], key.clone(), 3_000, 8, accepted, OnFailure::Stop).await;
    assert_eq!(ids.len(), 3_000);
    wait_for_all(&receiver, &ids).await;
    // Every delivery recorded as succeeded: from then on no process can
    // claim one again (claims take pending rows only), so a duplicate would
    // have had to come from a lease held twice.
    let db = a.db().await;
    let deadline = Instant::now() + WAIT;
    while db.number("SELECT count(*) FROM deliveries WHERE status <> 'succeeded'", &[]).await > 0 {
        assert!(Instant::now() < deadline, "deliveries left unrecorded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(db.number("SELECT count(*) FROM deliveries", &[]).await, 3_000);
    assert_exactly_once(&receiver, &ids);
    let (from_a, from_b) = (delivered_by(&a).await, delivered_by(&b).await);
    assert!(from_a > 0 && from_b > 0, "both processes deliver: {from_a} and {from_b}");
    assert_eq!(from_a + from_b, 3_000, "one attempt per event across both processes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_killed_mid_stream_loses_nothing_the_other_delivers_it() {
    if !on_postgres("a_process_killed_mid_stream_loses_nothing_the_other_delivers_it") {
        return;
    }
    let mut a = TestApp::process_with(&FLAGS).await;
    let b = a.another_process(&FLAGS);
    let key = a.create_user("kill@example.com");
    let receiver = Receiver::start().await;
    create_hook(&a, &key, &receiver.url).await;
    // No answers until `a` is dead: its deliveries are on the wire
    // (unrecorded) or queued in its memory, all leased to it.
    receiver.hold();

    let accepted = Arc::new(AtomicUsize::new(0));
    let stream = tokio::spawn({
        let (urls, key, accepted) = (vec![a.url.clone(), b.url.clone()], key.clone(), accepted.clone());
        async move { publish_events(urls, key, 1_200, 8, accepted, OnFailure::Stop).await }
    });
    let deadline = Instant::now() + WAIT;
    while accepted.load(Ordering::SeqCst) < 400 {
        assert!(Instant::now() < deadline, "publishing stalled");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    a.kill();
    let (accepted_then, arrived_then) = (accepted.load(Ordering::SeqCst), receiver.by_event().len());
    assert!(arrived_then < accepted_then, "everything arrived before the kill; the test proves nothing");
    eprintln!("killed with {accepted_then} accepted and {arrived_then} arrived");
    receiver.release();
    let ids = stream.await.expect("stream");
    // `b` claims what `a` had leased once those leases expire.
    wait_for_all(&receiver, &ids).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hook_deleted_through_one_process_gets_nothing_more_from_the_other() {
    if !on_postgres("a_hook_deleted_through_one_process_gets_nothing_more_from_the_other") {
        return;
    }
    let a = TestApp::spawn_with(&FLAGS).await;
    let b = a.another_process(&FLAGS);
    let key = a.create_user("cross-delete@example.com");
    let (doomed, kept) = (Receiver::start().await, Receiver::start().await);
    doomed.set_delay(Duration::from_millis(5));
    kept.set_delay(Duration::from_millis(5));
    let doomed_hook = create_hook(&a, &key, &doomed.url).await;
    create_hook(&a, &key, &kept.url).await;

    // Everything is published through `b`, so `b` holds and sends it.
    let accepted = Arc::new(AtomicUsize::new(0));
    let stream = tokio::spawn({
        let (urls, key, accepted) = (vec![b.url.clone()], key.clone(), accepted.clone());
        async move { publish_events(urls, key, 1_600, 8, accepted, OnFailure::Stop).await }
    });
    crate::helpers::wait_until("deliveries under way", WAIT, || doomed.received().len() >= 50).await;
    let (status, _) = a.send_json(Method::DELETE, &format!("/api/v1/hook/{doomed_hook}"), &key, &Value::Null).await;
    assert_eq!(status, 200);
    let deleted_at = Instant::now();
    let ids = stream.await.expect("stream");
    wait_for_all(&kept, &ids).await;
    assert_eq!(doomed.arrived_after(deleted_at + Duration::from_millis(500)), 0, "the deleted hook kept receiving");
    assert_exactly_once(&kept, &ids);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hook_paused_through_one_process_waits_in_the_other_until_switched_on() {
    if !on_postgres("a_hook_paused_through_one_process_waits_in_the_other_until_switched_on") {
        return;
    }
    let a = TestApp::spawn_with(&FLAGS).await;
    // Deaf to notifications: the fence alone must pause it, and a claim
    // alone must tell it the hook is on again.
    let b = a.another_process(&deaf_flags());
    let key = a.create_user("cross-switch@example.com");
    let receiver = Receiver::start().await;
    let hook = create_hook(&a, &key, &receiver.url).await;
    let path = format!("/api/v1/hook/{hook}");
    // `b` has the hook in memory as active: it delivers one event first.
    let (status, _) = b.send_json(Method::POST, "/api/v1/events", &key, &json!({"hookType": "dbs", "data": {}})).await;
    assert_eq!(status, 202);
    receiver.wait_for(1, WAIT).await;
    // Off through `a` (paused): a test event queued through `b` waits.
    let (status, _) = a.send_json(Method::PATCH, &path, &key, &json!({"isActiveStatus": false})).await;
    assert_eq!(status, 200);
    let (status, queued) = b.send_json(Method::POST, &format!("{path}/test"), &key, &Value::Null).await;
    assert_eq!(status, 202, "{queued}");
    // Handed back by `b` (or never taken): pending, unleased, no attempt counted.
    let db = a.db().await;
    let waiting = "SELECT count(*) FROM deliveries WHERE hook_id = $1 AND status = 'pending'
                   AND lease_owner IS NULL AND attempt_count = 0";
    let deadline = Instant::now() + WAIT;
    while db.number(waiting, &[Arg::Text(&hook)]).await != 1 {
        assert!(Instant::now() < deadline, "the paused hook's delivery was not handed back");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(receiver.received().len(), 1, "a paused hook received a delivery");
    // On again through `a`: the waiting delivery goes out.
    let (status, _) = a.send_json(Method::PATCH, &path, &key, &json!({"isActiveStatus": true})).await;
    assert_eq!(status, 200);
    receiver.wait_for(2, WAIT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_through_one_process_sends_the_others_later_attempts_to_the_new_url() {
    if !on_postgres("an_edit_through_one_process_sends_the_others_later_attempts_to_the_new_url") {
        return;
    }
    let a = TestApp::spawn_with(&FLAGS).await;
    // `b` hears no notifications: only the fence (revision checked before
    // each send) can tell it of the edit within this test (copies live 30 s).
    let b = a.another_process(&deaf_flags());
    let key = a.create_user("cross-edit@example.com");
    let (old, new) = (Receiver::start().await, Receiver::start().await);
    old.set_delay(Duration::from_millis(5));
    let hook = create_hook(&a, &key, &old.url).await;
    // Published through `b`, which holds the hook in memory with the old URL.
    let accepted = Arc::new(AtomicUsize::new(0));
    let stream = tokio::spawn({
        let (urls, key, accepted) = (vec![b.url.clone()], key.clone(), accepted.clone());
        async move { publish_events(urls, key, 1_600, 8, accepted, OnFailure::Stop).await }
    });
    crate::helpers::wait_until("deliveries under way", WAIT, || old.received().len() >= 50).await;
    let body = json!({"endPoint": new.url});
    let (status, _) = a.send_json(Method::PATCH, &format!("/api/v1/hook/{hook}"), &key, &body).await;
    assert_eq!(status, 200);
    let edited_at = Instant::now();
    let ids = stream.await.expect("stream");
    let deadline = Instant::now() + WAIT;
    loop {
        let (at_old, at_new) = (old.by_event(), new.by_event());
        if ids.iter().all(|id| at_old.contains_key(id) || at_new.contains_key(id)) {
            break;
        }
        assert!(Instant::now() < deadline, "not every event arrived at one of the URLs");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(old.arrived_after(edited_at + Duration::from_millis(500)), 0, "the old URL kept receiving");
    assert!(!new.received().is_empty(), "the new URL got nothing");
}

#[tokio::test]
async fn rate_limits_are_per_process() {
    if !on_postgres("rate_limits_are_per_process") {
        return;
    }
    let flags = ["--rate-limit", "1", "--rate-limit-burst", "2"];
    let a = TestApp::spawn_with(&flags).await;
    let b = a.another_process(&flags);
    let key = a.create_user("limits@example.com");
    let statuses = |app: &TestApp| {
        let requests: Vec<_> = (0..3).map(|_| app.request(Method::GET, "/api/v1/hooks", &key).send()).collect();
        futures::future::join_all(requests)
    };
    let at_a: Vec<u16> = statuses(&a).await.into_iter().map(|r| r.expect("request").status().as_u16()).collect();
    assert_eq!(at_a.iter().filter(|s| **s == 429).count(), 1, "{at_a:?}");
    // The other process has a budget of its own (docs/DECISIONS.md).
    let at_b: Vec<u16> = statuses(&b).await.into_iter().map(|r| r.expect("request").status().as_u16()).collect();
    assert_eq!(at_b.iter().filter(|s| **s == 200).count(), 2, "{at_b:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_to_copies_a_sqlite_installation_and_delivery_goes_on_on_postgres() {
    use crate::helpers::TestDatabase;
    if !on_postgres("migrate_to_copies_a_sqlite_installation_and_delivery_goes_on_on_postgres") {
        return;
    }
    let flags =
        ["--allow-private-targets", "--rate-limit", "0", "--delivery-timeout", "1s", "--retry-schedule", "0s,1s,1s,1s"];
    let dir = tempfile::tempdir().expect("dir");
    let sqlite = Arc::new(TestDatabase::of(Backend::Sqlite, dir.path()));
    let mut old = TestApp::spawn_on(sqlite.clone(), tempfile::tempdir().expect("dir"), &flags, &[]);
    let key = old.create_user("move@example.com");
    let receiver = Receiver::start().await;
    let body = json!({"endPoint": receiver.url, "hookType": "dbs", "isActiveStatus": true, "_shop": "s",
                      "authType": "basic", "userId": "acme", "pwdTxt": "moved secret",
                      "headers": {"X-Tenant": "acme"}, "secretHeaders": {"X-Api-Key": "moved header"}, "rateLimit": 500});
    let (status, created) = old.send_json(Method::POST, "/api/v1/hook", &key, &body).await;
    assert_eq!(status, 200, "{created}");
    let ops = json!({"endpoint": "https://ops.example.com/moved"});
    let (_, ops_before) = old.send_json(Method::PUT, "/api/v1/account/operations", &key, &ops).await;
    // Nothing answers: the events stay pending in SQLite.
    receiver.hold();
    let mut ids = HashSet::new();
    for i in 0..40 {
        let (status, accepted) =
            old.send_json(Method::POST, "/api/v1/events", &key, &json!({"hookType": "dbs", "data": {"i": i}})).await;
        assert_eq!(status, 202);
        ids.insert(accepted["id"].as_str().expect("id").to_owned());
    }
    let keyed = publish_keyed(&old, &key).await;
    ids.insert(keyed["id"].as_str().expect("id").to_owned());
    receiver.wait_for(1, WAIT).await;
    assert!(old.stop().success());
    let before = receiver.by_event().len();
    receiver.release();

    let target = TestDatabase::of(Backend::Postgres, tempfile::tempdir().expect("dir").path());
    let migrate = |to: &str| {
        std::process::Command::new(crate::helpers::BIN)
            .args(["migrate-to", "--database-url", &sqlite.url, "--to", to])
            .output()
            .expect("run migrate-to")
    };
    let out = migrate(&target.url);
    assert!(out.status.success(), "migrate-to failed: {}", String::from_utf8_lossy(&out.stderr));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("copied 1 accounts") && said.contains("1 hooks"), "{said}");
    // A second copy into the same database is refused, nothing doubled.
    let again = migrate(&target.url);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds accounts"));

    // Served from PostgreSQL with the same key: the same API key works, the
    // sealed password opens, and every pending delivery goes out.
    let key_file = sqlite.key_file.display().to_string();
    let target = Arc::new(target);
    let new = TestApp::spawn_on(
        target,
        tempfile::tempdir().expect("dir"),
        &flags,
        &[("HOOKRELAY_SECRET_KEY_FILE", &key_file)],
    );
    let (status, list) = new.send_json(Method::GET, "/api/v1/hooks", &key, &Value::Null).await;
    assert_eq!(status, 200);
    assert_eq!(list["hooks"][0]["pwdTxt"], "*******", "{list}");
    wait_for_all(&receiver, &ids).await;
    assert!(before < ids.len(), "everything arrived before the move; the test proves nothing");
    // The idempotency key came along: the same key answers the first event again.
    assert_eq!(publish_keyed(&new, &key).await["id"], keyed["id"]);
    let expected = format!("Basic {}", base64_of("acme:moved secret"));
    let last = receiver.received().pop().expect("a delivery");
    assert_eq!(last.header("authorization"), expected);
    // The hook's options and the account's operations endpoint came along, secrets still sealed with the same key.
    assert_eq!((last.header("x-tenant"), last.header("x-api-key")), ("acme".to_owned(), "moved header".to_owned()));
    assert_eq!(list["hooks"][0]["rateLimit"], 500);
    let (_, ops_after) = new.send_json(Method::GET, "/api/v1/account/operations", &key, &Value::Null).await;
    assert_eq!(ops_after["operations"], ops_before["operations"]);
}

/// Publishes with the idempotency key `moved-1`; the 202's body.
async fn publish_keyed(app: &TestApp, key: &str) -> Value {
    let res = app
        .request(Method::POST, "/api/v1/events", key)
        .header("idempotency-key", "moved-1")
        .json(&json!({"hookType": "dbs", "data": {"keyed": true}}))
        .send()
        .await
        .expect("publish");
    assert_eq!(res.status(), 202);
    res.json().await.expect("json")
}

fn base64_of(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// PostgreSQL's text cannot hold NUL (SQLite's can): input carrying one is
/// the caller's mistake on both backends, never a 500.
#[tokio::test]
async fn text_with_nul_characters_gets_a_4xx_or_matches_nothing() {
    let app = TestApp::spawn().await;
    let key = app.create_user("nul@example.com");
    for query in ["_shop=a%00b", "hookType=db%00s", "search=%00"] {
        let (status, body) = app.send_json(Method::GET, &format!("/api/v1/hooks?{query}"), &key, &Value::Null).await;
        assert!(status == 200 || status == 400, "{query}: {status} {body}");
        if status == 200 {
            assert_eq!(body["totalData"], 0, "{query}: {body}");
        }
    }
    let body = json!({"endPoint": "https://example.com/a\u{0}b", "hookType": "dbs", "isActiveStatus": true,
                      "_shop": "s\u{0}", "authType": "basic", "userId": "u\u{0}", "pwdTxt": "p\u{0}"});
    let (status, answer) = app.send_json(Method::POST, "/api/v1/hook", &key, &body).await;
    assert_eq!(status, 400, "{answer}");
    let (status, answer) = app
        .send_json(
            Method::POST,
            "/api/v1/events",
            &key,
            &json!({"hookType": "dbs", "_shop": "a\u{0}", "data": {"x": "\u{0}"}}),
        )
        .await;
    assert_eq!(status, 400, "{answer}");
    let (status, answer) =
        app.send_json(Method::POST, "/api/v1/events", &key, &json!({"hookType": "dbs", "data": {"x": "\u{0}"}})).await;
    assert_eq!(status, 202, "NUL inside the event's data is JSON-escaped and stored: {answer}");
}

/// Hooks deleted while events that match them are being published: every
/// publish is still a 202 (on PostgreSQL the delete can commit between the
/// publish's read of the hook and its delivery's foreign-key check).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishing_never_fails_while_matching_hooks_are_deleted() {
    let app = TestApp::spawn_with(&FLAGS).await;
    let key = app.create_user("churn@example.com");
    let receiver = Receiver::start().await;
    let accepted = Arc::new(AtomicUsize::new(0));
    let stream = tokio::spawn({
        let (urls, key, accepted) = (vec![app.url.clone()], key.clone(), accepted.clone());
        async move { publish_events(urls, key, 1_600, 8, accepted, OnFailure::Stop).await }
    });
    let mut churned = 0;
    while !stream.is_finished() {
        let hook = create_hook(&app, &key, &receiver.url).await;
        let (status, _) = app.send_json(Method::DELETE, &format!("/api/v1/hook/{hook}"), &key, &Value::Null).await;
        assert_eq!(status, 200);
        churned += 1;
    }
    let ids = stream.await.expect("stream");
    assert!(churned >= 5, "only {churned} hooks were created and deleted during the stream");
    // A publisher stops at its first non-202: all of them finished.
    assert_eq!(ids.len(), 1_600, "{} of 1,600 publishes were accepted", ids.len());
}
