//! Ordered delivery (`"ordered": true`), checked where it lands: the
//! receiver reads each event's sequence number (`data.n`, published one
//! after another) and sees them strictly in order, one request at a time,
//! a failing one retried before the next goes; a dead-lettered or skipped
//! one lets the next go; and the order holds across a `kill -9`.

use crate::delivery::{WAIT, create_hook, hook_body, publish};
use crate::helpers::{TestApp, eventually};
use crate::receiver::{Received, Receiver};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

/// The sequence numbers in arrival order, with back-to-back repeats (the
/// retries of one delivery) folded into one.
fn arrival_order(got: &[Received]) -> Vec<u64> {
    let mut order: Vec<u64> = Vec::new();
    for r in got {
        let n = r.json()["data"]["n"].as_u64().expect("a sequence number");
        if order.last() != Some(&n) {
            order.push(n);
        }
    }
    order
}

async fn ordered_hook(app: &TestApp, key: &str, url: &str, shop: &str) -> String {
    let mut body = hook_body(url, shop);
    body["ordered"] = json!(true);
    let id = create_hook(app, key, body).await;
    let (status, hook) = app.send_json(Method::GET, &format!("/api/v1/hook/{id}"), key, &Value::Null).await;
    assert_eq!((status, &hook["hook"]["ordered"]), (200, &json!(true)), "{hook}");
    id
}

async fn publish_numbered(app: &TestApp, key: &str, shop: &str, numbers: std::ops::Range<u64>) -> Vec<String> {
    let mut ids = Vec::new();
    for n in numbers {
        // One after another: each is accepted before the next is sent.
        let accepted = publish(app, key, json!({"hookType": "dbs", "_shop": shop, "data": {"n": n}})).await;
        ids.push(accepted["id"].as_str().expect("event id").to_owned());
    }
    ids
}

async fn deliveries_of(app: &TestApp, key: &str, hook: &str) -> Vec<Value> {
    let (status, body) =
        app.send_json(Method::GET, &format!("/api/v1/hook/{hook}/deliveries?size=100"), key, &Value::Null).await;
    assert_eq!(status, 200, "{body}");
    body["deliveries"].as_array().expect("deliveries").clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ordered_hook_gets_its_events_one_at_a_time_in_publish_order_through_failures() {
    let flags = ["--allow-private-targets", "--retry-schedule", "0s,100ms,100ms,100ms,100ms", "--rate-limit", "0"];
    let app = TestApp::spawn_with(&flags).await;
    let key = app.create_user("ordered@example.com");
    let (ordered, beside) = (Receiver::start().await, Receiver::start().await);
    // Slow enough that two requests at once would overlap at the receiver.
    ordered.set_delay(Duration::from_millis(5));
    // Events 0–4 go; 5 fails twice, then goes; 6–9 go; 10 fails all five
    // attempts (dead-lettered); the rest go.
    let mut script = vec![200; 5];
    script.extend([500, 503, 200]);
    script.extend([200; 4]);
    script.extend([500; 5]);
    ordered.script(&script);
    let hook = ordered_hook(&app, &key, &ordered.url, "s").await;
    create_hook(&app, &key, hook_body(&beside.url, "s")).await;

    publish_numbered(&app, &key, "s", 0..60).await;
    // 60 events, 2 retries of event 5 and 4 of event 10.
    let got = ordered.wait_for(66, Duration::from_secs(60)).await;
    beside.wait_for(60, WAIT).await;
    assert_eq!(arrival_order(&got), (0..60).collect::<Vec<_>>(), "out of publish order");
    assert_eq!(ordered.most_at_once(), 1, "two attempts of an ordered hook overlapped");
    let tenth: Vec<_> = got.iter().filter(|r| r.json()["data"]["n"] == 10).collect();
    assert_eq!(tenth.len(), 5, "event 10 had its five attempts");

    let deliveries = eventually("the last delivery recorded", WAIT, || async {
        let all = deliveries_of(&app, &key, &hook).await;
        all.iter().all(|d| d["status"] != "pending").then_some(all)
    })
    .await;
    assert_eq!(ordered.received().len(), 66, "a delivery was sent more often than its attempts");
    let failed: Vec<_> = deliveries.iter().filter(|d| d["status"] == "failed").collect();
    assert_eq!(failed.len(), 1, "only event 10's delivery is dead-lettered: {deliveries:?}");
    assert_eq!(failed[0]["attempts"].as_array().map(Vec::len), Some(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_head_holds_the_rest_until_retried_now_or_skipped() {
    // A failed attempt waits an hour for the next: only Retry or Skip moves it.
    let flags = ["--allow-private-targets", "--retry-schedule", "0s,1h,1h", "--rate-limit", "0"];
    let app = TestApp::spawn_with(&flags).await;
    let key = app.create_user("blocked@example.com");
    let (ordered, beside) = (Receiver::start().await, Receiver::start().await);
    ordered.set_default(503);
    let hook = ordered_hook(&app, &key, &ordered.url, "s").await;
    create_hook(&app, &key, hook_body(&beside.url, "other")).await;
    publish_numbered(&app, &key, "s", 0..3).await;

    let head = eventually("the head's failed attempt recorded", WAIT, || async {
        let all = deliveries_of(&app, &key, &hook).await;
        all.iter().find(|d| d["attempts"].as_array().is_some_and(|a| !a.is_empty())).map(|d| d["id"].clone())
    })
    .await;
    let head = head.as_str().expect("id").to_owned();
    // Another hook's event goes through meanwhile; still nothing is sent
    // from behind the head.
    publish(&app, &key, json!({"hookType": "dbs", "_shop": "other", "data": {"n": 99}})).await;
    beside.wait_for(1, WAIT).await;
    let all = deliveries_of(&app, &key, &hook).await;
    let untried = all.iter().filter(|d| d["attempts"].as_array().is_some_and(Vec::is_empty)).count();
    assert_eq!((ordered.received().len(), untried), (1, 2), "the later events waited behind the head: {all:?}");

    // Retry now: due at once; it goes, and so do the two behind it.
    ordered.set_default(200);
    let (status, body) =
        app.send_json(Method::POST, &format!("/api/v1/deliveries/{head}/retry"), &key, &json!({})).await;
    assert_eq!((status, &body["status"]), (202, &json!("pending")), "{body}");
    let got = ordered.wait_for(4, WAIT).await;
    assert_eq!(arrival_order(&got), vec![0, 1, 2]);

    // Skip: the next head fails, is skipped, and the one behind it goes.
    ordered.set_default(503);
    publish_numbered(&app, &key, "s", 3..5).await;
    let got = ordered.wait_for(5, WAIT).await;
    assert_eq!(got[4].json()["data"]["n"], 3);
    let skipped = eventually("event 3's failed attempt recorded", WAIT, || async {
        let all = deliveries_of(&app, &key, &hook).await;
        all.iter()
            .find(|d| d["status"] == "pending" && d["attempts"].as_array().is_some_and(|a| !a.is_empty()))
            .map(|d| d["id"].as_str().unwrap_or_default().to_owned())
    })
    .await;
    ordered.set_default(200);
    let (status, body) =
        app.send_json(Method::POST, &format!("/api/v1/deliveries/{skipped}/skip"), &key, &json!({})).await;
    assert_eq!((status, &body["status"]), (200, &json!("failed")), "{body}");
    ordered.wait_for(6, WAIT).await;
    eventually("event 4's delivery recorded", WAIT, || async {
        let all = deliveries_of(&app, &key, &hook).await;
        all.iter().all(|d| d["status"] != "pending").then_some(())
    })
    .await;
    let got = ordered.received();
    assert_eq!(got.len(), 6, "the skipped event is not sent again");
    assert_eq!(arrival_order(&got), vec![0, 1, 2, 3, 4]);

    // Skip refuses what is not pending, and what is not the caller's.
    let (status, body) =
        app.send_json(Method::POST, &format!("/api/v1/deliveries/{skipped}/skip"), &key, &json!({})).await;
    assert_eq!(status, 409, "{body}");
    let stranger = app.create_user("stranger@example.com");
    let (status, _) =
        app.send_json(Method::POST, &format!("/api/v1/deliveries/{head}/skip"), &stranger, &json!({})).await;
    assert_eq!(status, 404);
    let (status, _) = app.send_json(Method::POST, "/api/v1/deliveries/not-an-id/skip", &key, &json!({})).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn ordered_must_be_a_boolean_and_can_be_switched_by_patch() {
    let app = TestApp::spawn_with(&["--allow-private-targets"]).await;
    let key = app.create_user("flag@example.com");
    let mut body = hook_body("https://example.com/hook", "s");
    body["ordered"] = json!("yes");
    let (status, error) = app.send_json(Method::POST, "/api/v1/hook", &key, &body).await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["errors"][0]["field"], "ordered", "{error}");
    let id = create_hook(&app, &key, hook_body("https://example.com/hook", "s")).await;
    let (status, hook) = app.send_json(Method::GET, &format!("/api/v1/hook/{id}"), &key, &Value::Null).await;
    assert_eq!((status, &hook["hook"]["ordered"]), (200, &json!(false)));
    let path = format!("/api/v1/hook/{id}");
    let (status, hook) = app.send_json(Method::PATCH, &path, &key, &json!({"ordered": true})).await;
    assert_eq!((status, &hook["hook"]["ordered"]), (200, &json!(true)), "{hook}");
    let (status, hook) = app.send_json(Method::PATCH, &path, &key, &json!({"maxInFlight": 5})).await;
    assert_eq!((status, &hook["hook"]["ordered"]), (200, &json!(true)), "a PATCH without it keeps it: {hook}");
    let (status, body) = app
        .send_json(
            Method::POST,
            "/endpoint/",
            &key,
            &json!({
                "authType": "OAuth 2.0", "endpoint": "https://example.com/e", "token": "t", "ordered": true
            }),
        )
        .await;
    assert_eq!(status, 202, "EventsShop hooks take it too: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_order_holds_across_a_kill_9() {
    let mut app = TestApp::process_with(&[
        "--allow-private-targets",
        "--rate-limit",
        "0",
        "--delivery-timeout",
        "2s",
        "--retry-schedule",
        "0s,200ms,200ms,200ms,1s,1s",
    ])
    .await;
    let key = app.create_user("ordered-crash@example.com");
    let receiver = Receiver::start().await;
    receiver.set_delay(Duration::from_millis(40));
    // A failure on the way: event 4 goes on its second attempt.
    receiver.script(&[200, 200, 200, 200, 500]);
    ordered_hook(&app, &key, &receiver.url, "s").await;
    publish_numbered(&app, &key, "s", 0..40).await;
    receiver.wait_for(12, WAIT).await;
    app.crash_and_restart();
    // The delivery in flight at the crash may arrive twice (at least once),
    // back to back; nothing comes out of order.
    let got = eventually("all 40 events after the restart", Duration::from_secs(60), || {
        let got = receiver.received();
        let done = arrival_order(&got).last() == Some(&39);
        async move { done.then_some(got) }
    })
    .await;
    assert_eq!(arrival_order(&got), (0..40).collect::<Vec<_>>(), "out of publish order across the crash");
    assert_eq!(receiver.most_at_once(), 1, "two attempts of an ordered hook overlapped");
}
