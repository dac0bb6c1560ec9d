//! Delivery stays correct while people operate it: deletes, switch-offs and
//! edits racing real traffic, lost leases, slow tenants, a bad publish in a
//! batch. Real hookrelay, real loopback receivers.

use crate::helpers::{Arg, TestApp, assert_exactly_once, create_hook};
use crate::lifecycle::chrono_ms;
use crate::publishers::{OnFailure, publish_events};
use crate::receiver::Receiver;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::time::Instant;

pub const WAIT: Duration = Duration::from_secs(60);

/// Loopback receivers, no rate limit, a 2 s timeout unless `extra` sets one.
pub fn flags(extra: &[&'static str]) -> Vec<&'static str> {
    let mut all = vec!["--allow-private-targets", "--rate-limit", "0"];
    if !extra.contains(&"--delivery-timeout") {
        all.extend(["--delivery-timeout", "2s"]);
    }
    all.extend_from_slice(extra);
    all
}

/// Publishes `n` events from `publishers` concurrent clients; returns the accepted ids.
async fn publish_many(
    app: &TestApp,
    key: &str,
    n: usize,
    publishers: usize,
    accepted: Arc<AtomicUsize>,
) -> HashSet<String> {
    publish_events(vec![app.url.clone()], key.to_owned(), n, publishers, accepted, OnFailure::Panic).await
}

async fn wait_until(what: &str, check: impl FnMut() -> bool) {
    crate::helpers::wait_until(what, WAIT, check).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_hook_gets_nothing_more_while_the_other_gets_everything_once() {
    let app = TestApp::spawn_with(&flags(&[])).await;
    let key = app.create_user("delete-race@example.com");
    let (doomed, kept) = (Receiver::start().await, Receiver::start().await);
    doomed.set_delay(Duration::from_millis(5));
    kept.set_delay(Duration::from_millis(5));
    let doomed_hook = create_hook(&app, &key, &doomed.url).await;
    create_hook(&app, &key, &kept.url).await;

    let accepted = Arc::new(AtomicUsize::new(0));
    let stream =
        tokio::spawn(publish_events(vec![app.url.clone()], key.clone(), 2_400, 8, accepted.clone(), OnFailure::Panic));
    // Delete while the stream runs and deliveries queue up.
    wait_until("some events accepted and delivered", || {
        accepted.load(Ordering::SeqCst) >= 600 && !doomed.received().is_empty()
    })
    .await;
    let (status, _) = app.send_json(Method::DELETE, &format!("/api/v1/hook/{doomed_hook}"), &key, &Value::Null).await;
    assert_eq!(status, 200);
    let deleted_at = Instant::now();
    let ids = stream.await.expect("stream");
    assert!(ids.len() >= 2_400, "{}", ids.len());

    wait_until("the kept hook got every event", || kept.by_event().len() >= ids.len()).await;
    assert_eq!(doomed.arrived_after(deleted_at + Duration::from_millis(500)), 0, "the deleted hook kept receiving");
    // And still so once a whole lease (timeout 2 s + 5 s) has passed.
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert_exactly_once(&kept, &ids);
    assert_eq!(doomed.arrived_after(deleted_at + Duration::from_millis(500)), 0);
    let left =
        app.db().await.number("SELECT count(*) FROM deliveries WHERE hook_id = $1", &[Arg::Text(&doomed_hook)]).await;
    assert_eq!(left, 0, "the deleted hook's deliveries are gone with it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_switched_off_hook_is_paused_and_gets_everything_when_switched_on() {
    // Held attempts must not time out while the switch-off is answered on a
    // busy machine: a timed-out attempt is (rightly) retried, not what this tests.
    let app = TestApp::spawn_with(&flags(&["--delivery-timeout", "10s"])).await;
    let key = app.create_user("pause@example.com");
    let receiver = Receiver::start().await;
    receiver.set_delay(Duration::from_millis(200));
    // Attempts stay on the wire until the switch-off has answered.
    receiver.hold();
    let hook = create_hook(&app, &key, &receiver.url).await;
    let ids = publish_many(&app, &key, 300, 6, Arc::new(AtomicUsize::new(0))).await;
    receiver.wait_for(1, WAIT).await;

    let path = format!("/api/v1/hook/{hook}");
    let (status, _) = app.send_json(Method::PATCH, &path, &key, &json!({"isActiveStatus": false})).await;
    assert_eq!(status, 200);
    let off_at = Instant::now();
    receiver.release();
    // The queued ones went back to the outbox and those on the wire were recorded.
    let db = app.db().await;
    let deadline = Instant::now() + WAIT;
    loop {
        let leased = db
            .number(
                "SELECT count(*) FROM deliveries WHERE hook_id = $1 AND lease_owner IS NOT NULL",
                &[Arg::Text(&hook)],
            )
            .await;
        if leased == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{leased} deliveries still leased to a paused hook");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A window for anything that should not come.
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(receiver.arrived_after(off_at + Duration::from_millis(500)), 0, "a paused hook received deliveries");
    let sent = receiver.received().len();
    assert!(sent < ids.len(), "everything was sent before the pause; the test proves nothing");

    // The waiting deliveries are pending with no attempt counted for the pause.
    let waiting = db
        .number("SELECT count(*) FROM deliveries WHERE hook_id = $1 AND status = 'pending'", &[Arg::Text(&hook)])
        .await;
    let with_attempts = db
        .number(
            "SELECT count(*) FROM deliveries WHERE hook_id = $1 AND status = 'pending' AND attempt_count > 0",
            &[Arg::Text(&hook)],
        )
        .await;
    assert_eq!((waiting, with_attempts), (i64::try_from(ids.len() - sent).expect("n"), 0));

    let (status, _) = app.send_json(Method::PATCH, &path, &key, &json!({"isActiveStatus": true})).await;
    assert_eq!(status, 200);
    wait_until("every event after switching on", || receiver.by_event().len() >= ids.len()).await;
    assert_exactly_once(&receiver, &ids);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_sends_every_later_attempt_to_the_new_url() {
    let app = TestApp::spawn_with(&flags(&["--max-per-destination", "2"])).await;
    let key = app.create_user("edit@example.com");
    let (old, new) = (Receiver::start().await, Receiver::start().await);
    old.set_delay(Duration::from_millis(50));
    let hook = create_hook(&app, &key, &old.url).await;
    let ids = publish_many(&app, &key, 200, 4, Arc::new(AtomicUsize::new(0))).await;
    old.wait_for(5, WAIT).await;

    let (status, body) =
        app.send_json(Method::PATCH, &format!("/api/v1/hook/{hook}"), &key, &json!({"endPoint": new.url})).await;
    assert_eq!(status, 200, "{body}");
    let edited_at = Instant::now();
    wait_until("every event at one URL or the other", || {
        let mut seen: HashSet<String> = old.by_event().into_keys().collect();
        seen.extend(new.by_event().into_keys());
        seen.len() >= ids.len()
    })
    .await;
    // Attempts already on the wire at the edit may land (50 ms each); none start later.
    assert_eq!(old.arrived_after(edited_at + Duration::from_millis(300)), 0, "the old URL kept receiving");
    assert!(!new.received().is_empty(), "the new URL received nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_is_not_written_over_a_lease_another_holder_took() {
    let app = TestApp::spawn_with(&flags(&["--delivery-timeout", "5s"])).await;
    let key = app.create_user("stolen@example.com");
    let receiver = Receiver::start().await;
    receiver.hold();
    let hook = create_hook(&app, &key, &receiver.url).await;
    let (_, accepted) =
        app.send_json(Method::POST, "/api/v1/events", &key, &json!({"hookType": "dbs", "data": {}})).await;
    receiver.wait_for(1, WAIT).await;

    // Another process takes the lease while the attempt is on the wire.
    let db = app.db().await;
    let until = chrono_ms() + 600_000;
    let event = accepted["id"].as_str().expect("id");
    let taken = db
        .execute(
            "UPDATE deliveries SET lease_owner = 'another-process', lease_until = $1 WHERE event_id = $2",
            &[Arg::Int(until), Arg::Text(event)],
        )
        .await;
    assert_eq!(taken, 1);
    receiver.release();

    wait_until("the dropped record is counted", || {
        app.logs().iter().any(|l| l.contains("attempt not recorded: the lease was lost"))
    })
    .await;
    let metrics = app.get("/metrics").send().await.expect("metrics").text().await.expect("text");
    assert!(metrics.contains("hookrelay_records_dropped_total 1"), "{metrics}");
    let (_, log) = app.send_json(Method::GET, &format!("/api/v1/hook/{hook}/deliveries"), &key, &Value::Null).await;
    assert_eq!(log["deliveries"][0]["status"], "pending", "{log}");
    assert_eq!(log["deliveries"][0]["attempts"], json!([]), "{log}");
    let theirs = db
        .number(
            "SELECT count(*) FROM deliveries WHERE event_id = $1 AND lease_owner = 'another-process'",
            &[Arg::Text(event)],
        )
        .await;
    assert_eq!(theirs, 1, "the lease stays with the process that took it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_delivery_is_not_sent_twice_when_its_lease_lapses() {
    let app = TestApp::spawn_with(&flags(&["--delivery-timeout", "5s"])).await;
    let key = app.create_user("lapse@example.com");
    let receiver = Receiver::start().await;
    receiver.hold();
    let hook = create_hook(&app, &key, &receiver.url).await;
    app.send_json(Method::POST, "/api/v1/events", &key, &json!({"hookType": "dbs", "data": {}})).await;
    receiver.wait_for(1, WAIT).await;

    // The lease lapses while the attempt is in flight: the outbox poll (every
    // 500 ms) claims it again, but this process already holds it. (A renewal
    // may put the lease back first, so lapse it until the claim happened.)
    let db = app.db().await;
    let deadline = Instant::now() + WAIT;
    while !app.logs().iter().any(|l| l.contains("claimed deliveries this process already holds")) {
        db.execute("UPDATE deliveries SET lease_until = 0", &[]).await;
        assert!(Instant::now() < deadline, "the lapsed lease was never claimed again");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    receiver.release();
    let deadline = Instant::now() + WAIT;
    loop {
        let (_, log) = app.send_json(Method::GET, &format!("/api/v1/hook/{hook}/deliveries"), &key, &Value::Null).await;
        if log["deliveries"][0]["status"] == "succeeded" {
            assert_eq!(log["deliveries"][0]["attempts"].as_array().map(Vec::len), Some(1), "{log}");
            break;
        }
        assert!(Instant::now() < deadline, "never succeeded: {log}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(receiver.received().len(), 1, "the held delivery was sent twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_destinations_do_not_delay_a_fast_hook() {
    // The slow receivers hold every request far longer than the bound the
    // fast hook is held to: a fast delivery queued behind a slow one would
    // wait at least SLOW, so the bound can leave room for a loaded CI machine.
    const SLOW: Duration = Duration::from_secs(8);
    const BOUND: Duration = Duration::from_secs(4);
    let app = TestApp::spawn_with(&flags(&["--delivery-timeout", "15s"])).await;
    let key = app.create_user("fair@example.com");
    let (slow, fast) = (Receiver::start().await, Receiver::start().await);
    slow.set_delay(SLOW);
    for i in 0..12 {
        create_hook(&app, &key, &format!("{}/{i}", slow.url)).await;
    }
    create_hook(&app, &key, &fast.url).await;

    let mut accepted_at = Vec::new();
    for i in 0..40 {
        let (status, body) =
            app.send_json(Method::POST, "/api/v1/events", &key, &json!({"hookType": "dbs", "data": {"i": i}})).await;
        assert_eq!(status, 202, "{body}");
        assert_eq!(body["deliveries"], 13);
        accepted_at.push((body["id"].as_str().expect("id").to_owned(), Instant::now()));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    fast.wait_for(40, WAIT).await;
    let arrivals: std::collections::HashMap<String, Instant> =
        fast.received().iter().map(|r| (r.header("webhook-id"), r.at)).collect();
    for (id, at) in &accepted_at {
        let arrived = arrivals.get(id).expect("arrived");
        let waited = arrived.saturating_duration_since(*at);
        assert!(waited < BOUND, "event {id} reached the fast hook {waited:?} after its 202");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_user_in_a_publish_fails_alone() {
    let app = TestApp::spawn_with(&flags(&[])).await;
    let out = app.cli(&["user", "create", "--email", "admin@example.com", "--password", "a long password", "--admin"]);
    assert!(out.status.success());
    let admin = String::from_utf8(out.stdout).expect("utf-8").trim().to_owned();
    let key = app.create_user("batchmate@example.com");
    let receiver = Receiver::start().await;
    create_hook(&app, &key, &receiver.url).await;

    let good: Vec<_> = (0..40)
        .map(|i| {
            app.request(Method::POST, "/api/v1/events", &key).json(&json!({"hookType": "dbs", "data": {"i": i}})).send()
        })
        .collect();
    let bad = app
        .request(Method::POST, "/api/v1/events", &admin)
        .json(&json!({"hookType": "dbs", "data": {}, "_user": "0123456789abcdef01234567"}))
        .send();
    let (good, bad) = tokio::join!(futures::future::join_all(good), bad);
    let body = crate::helpers::assert_error(bad.expect("bad publish"), 400).await;
    assert_eq!(body["errors"][0]["field"], "_user", "{body}");
    for res in good {
        assert_eq!(res.expect("publish").status(), 202);
    }
    receiver.wait_for(40, WAIT).await;
}
