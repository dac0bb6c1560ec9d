//! `POST /api/v1/hook/{id}/recover`: a hook's failed deliveries in a window
//! go out again, each with its own `webhook-id`; nothing else moves.

use crate::delivery::{WAIT, create_hook, hook_body, publish, wait_log};
use crate::helpers::{TestApp, assert_error};
use crate::receiver::Receiver;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::HashSet;

/// One attempt per delivery: a failure is final until recovered.
const FLAGS: &[&str] = &["--allow-private-targets", "--retry-schedule", "0s", "--delivery-timeout", "2s"];

fn rfc3339(offset: chrono::Duration) -> String {
    (chrono::Utc::now() + offset).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn statuses(log: &Value) -> Vec<&str> {
    log["deliveries"].as_array().expect("deliveries").iter().map(|d| d["status"].as_str().expect("status")).collect()
}

#[tokio::test]
async fn recovering_a_window_sends_each_failed_delivery_again_with_its_webhook_id() {
    let app = TestApp::spawn_with(FLAGS).await;
    let key = app.create_user("recover@example.com");
    let receiver = Receiver::start().await;
    let hook = create_hook(&app, &key, hook_body(&receiver.url, "s1")).await;
    let other_receiver = Receiver::start().await;
    other_receiver.set_default(500);
    let other_hook = create_hook(&app, &key, hook_body(&other_receiver.url, "s2")).await;

    // One event succeeds; three fail (their only attempt answered 500).
    publish(&app, &key, json!({"hookType":"dbs","_shop":"s1","data":{"n":0}})).await;
    receiver.wait_for(1, WAIT).await;
    receiver.set_default(500);
    let mut failed = HashSet::new();
    for n in 1..=3 {
        let accepted = publish(&app, &key, json!({"hookType":"dbs","_shop":"s1","data":{"n":n}})).await;
        failed.insert(accepted["id"].as_str().expect("id").to_owned());
    }
    publish(&app, &key, json!({"hookType":"dbs","_shop":"s2","data":{"other":true}})).await;
    wait_log(&app, &key, &hook, |log| statuses(log).iter().filter(|s| **s == "failed").count() == 3).await;
    wait_log(&app, &key, &other_hook, |log| statuses(log) == ["failed"]).await;
    assert_eq!(receiver.received().len(), 4);

    receiver.set_default(200);
    let path = format!("/api/v1/hook/{hook}/recover");
    let (status, body) =
        app.send_json(Method::POST, &path, &key, &json!({"since": rfc3339(chrono::Duration::hours(-1))})).await;
    assert_eq!((status, body.clone()), (202, json!({"error": false, "queued": 3})), "{body}");
    let got = receiver.wait_for(7, WAIT).await;
    let again: Vec<String> = got[4..].iter().map(|r| r.header("webhook-id")).collect();
    assert_eq!(again.iter().cloned().collect::<HashSet<_>>(), failed, "the same events, each once, same webhook-id");
    wait_log(&app, &key, &hook, |log| statuses(log).iter().all(|s| *s == "succeeded")).await;

    // Nothing failed is left in the window; the other hook's failure stayed put.
    let (status, body) =
        app.send_json(Method::POST, &path, &key, &json!({"since": rfc3339(chrono::Duration::hours(-1))})).await;
    assert_eq!((status, &body["queued"]), (202, &json!(0)));
    let (_, other_log) =
        app.send_json(Method::GET, &format!("/api/v1/hook/{other_hook}/deliveries"), &key, &Value::Null).await;
    assert_eq!(statuses(&other_log), ["failed"], "the other hook's failure was not recovered");
    assert_eq!(other_log["deliveries"][0]["attempts"].as_array().map(Vec::len), Some(1), "{other_log}");
    assert_eq!(other_receiver.received().len(), 1);
    assert_eq!(receiver.received().len(), 7, "no delivery sent twice");
}

#[tokio::test]
async fn a_window_outside_its_bounds_is_refused() {
    let app = TestApp::spawn_with(FLAGS).await;
    let key = app.create_user("recover-window@example.com");
    let receiver = Receiver::start().await;
    receiver.set_default(500);
    let hook = create_hook(&app, &key, hook_body(&receiver.url, "s1")).await;
    publish(&app, &key, json!({"hookType":"dbs","_shop":"s1","data":{}})).await;
    wait_log(&app, &key, &hook, |log| statuses(log) == ["failed"]).await;
    let path = format!("/api/v1/hook/{hook}/recover");
    let post = |body: Value| app.request(Method::POST, &path, &key).json(&body).send();

    let hour_ago = rfc3339(chrono::Duration::hours(-1));
    for (body, field) in [
        (json!({"since": rfc3339(chrono::Duration::days(-15))}), "since"),
        (json!({"since": rfc3339(chrono::Duration::days(1))}), "since"),
        (json!({"since": "last tuesday"}), "since"),
        (json!({}), "since"),
        (json!({"since": 1_700_000_000}), "since"),
        (json!({"since": hour_ago, "until": rfc3339(chrono::Duration::hours(-2))}), "until"),
        (json!({"since": hour_ago, "untill": hour_ago}), "untill"),
    ] {
        let res = post(body.clone()).await.expect("request");
        let error = assert_error(res, 400).await;
        assert_eq!(error["errors"][0]["field"], field, "{body} → {error}");
    }
    // A window that ended before the failure re-queues nothing.
    let (status, body) = app
        .send_json(
            Method::POST,
            &path,
            &key,
            &json!({"since": rfc3339(chrono::Duration::days(-2)), "until": rfc3339(chrono::Duration::days(-1))}),
        )
        .await;
    assert_eq!((status, &body["queued"]), (202, &json!(0)), "{body}");

    let stranger = app.create_user("recover-stranger@example.com");
    let res =
        app.request(Method::POST, &path, &stranger).json(&json!({"since": hour_ago})).send().await.expect("request");
    assert_error(res, 404).await;
    let res = app
        .request(Method::POST, "/api/v1/hook/nope/recover", &key)
        .json(&json!({"since": hour_ago}))
        .send()
        .await
        .expect("request");
    assert_error(res, 400).await;
    let res = app
        .request(Method::POST, &path, &key)
        .body("{not json")
        .header("content-type", "application/json")
        .send()
        .await
        .expect("request");
    assert_error(res, 400).await;
    assert_eq!(receiver.received().len(), 1, "no refused recovery sent anything");
}
