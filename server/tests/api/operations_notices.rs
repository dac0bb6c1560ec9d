//! Operational notifications over HTTP: an account's operations endpoint
//! hears, signed with its own secret, when Hookrelay disables one of its
//! hooks (410 Gone) and when a delivery is dead-lettered; a failing
//! operations endpoint is tried again; removing it stops the notices.

use crate::delivery::{WAIT, create_hook, hook_body, publish, wait_log};
use crate::helpers::{TestApp, assert_error, eventually};
use crate::receiver::{Received, Receiver};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

/// One attempt per delivery: a failure is dead-lettered at once.
const FLAGS: &[&str] = &["--allow-private-targets", "--retry-schedule", "0s", "--delivery-timeout", "2s"];
const PATH: &str = "/api/v1/account/operations";

/// Sets the account's operations endpoint; returns its signing secret.
async fn set_operations(app: &TestApp, key: &str, url: &str) -> String {
    let (status, body) = app.send_json(Method::PUT, PATH, key, &json!({"endpoint": url})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["operations"]["endpoint"], url);
    body["operations"]["secret"].as_str().expect("secret").to_owned()
}

fn verified(secret: &str, notice: &Received) -> Value {
    standardwebhooks::Webhook::new(secret).expect("secret").verify(&notice.body, &notice.headers).expect("signed");
    notice.json()
}

#[tokio::test]
async fn a_disabled_hook_and_a_dead_letter_are_told_to_the_operations_endpoint() {
    let app = TestApp::spawn_with(FLAGS).await;
    let key = app.create_user("ops@example.com");
    let ops = Receiver::start().await;
    let (status, empty) = app.send_json(Method::GET, PATH, &key, &Value::Null).await;
    assert_eq!((status, &empty["operations"]), (200, &json!({"endpoint": null, "secret": null})));
    let secret = set_operations(&app, &key, &ops.url).await;
    assert!(secret.starts_with("whsec_"));

    // A hook whose endpoint answers 410 is disabled: one hook.disabled notice.
    let gone = Receiver::start().await;
    gone.set_default(410);
    let gone_hook = create_hook(&app, &key, hook_body(&gone.url, "gone")).await;
    publish(&app, &key, json!({"hookType":"dbs","_shop":"gone","data":{}})).await;
    let got = ops.wait_for(2, WAIT).await;
    let notices: Vec<Value> = got.iter().map(|n| verified(&secret, n)).collect();
    let disabled = notices.iter().find(|n| n["type"] == "hook.disabled").expect("a hook.disabled notice");
    assert_eq!(disabled["data"]["hookId"], gone_hook.as_str());
    assert!(disabled["data"]["reason"].as_str().is_some_and(|r| r.contains("410")), "{disabled}");
    // The 410'd delivery itself was dead-lettered too.
    assert!(notices.iter().any(|n| n["type"] == "delivery.dead_lettered" && n["data"]["hookId"] == gone_hook.as_str()));

    // A delivery that used up its attempts: one delivery.dead_lettered notice with its ids.
    let failing = Receiver::start().await;
    failing.set_default(500);
    let failing_hook = create_hook(&app, &key, hook_body(&failing.url, "fail")).await;
    let accepted = publish(&app, &key, json!({"hookType":"dbs","_shop":"fail","data":{}})).await;
    let got = ops.wait_for(3, WAIT).await;
    let dead = verified(&secret, &got[2]);
    assert_eq!(dead["type"], "delivery.dead_lettered");
    assert_eq!((&dead["data"]["hookId"], &dead["data"]["eventId"]), (&json!(failing_hook), &accepted["id"]));
    assert_eq!((&dead["data"]["lastStatusCode"], &dead["data"]["attempts"]), (&json!(500), &json!(1)));
    assert!(dead["data"]["deliveryId"].as_str().is_some_and(|d| d.len() == 24));
    assert!(dead["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')));

    // Removed: the next dead letter is nobody's business.
    let (status, removed) = app.send_json(Method::DELETE, PATH, &key, &Value::Null).await;
    assert_eq!((status, &removed["operations"]["endpoint"]), (200, &Value::Null));
    publish(&app, &key, json!({"hookType":"dbs","_shop":"fail","data":{}})).await;
    wait_log(&app, &key, &failing_hook, |log| {
        log["deliveries"].as_array().is_some_and(|d| d.len() == 2 && d.iter().all(|d| d["status"] == "failed"))
    })
    .await;
    // A notice is written in the transaction that records the failure: none was.
    let pending = app.db().await.number("SELECT count(*) FROM operations_notices", &[]).await;
    assert_eq!(pending, 0, "no notice is owed once the endpoint is removed");
    assert_eq!(ops.received().len(), 3);
}

#[tokio::test]
async fn a_failing_operations_endpoint_is_tried_again_and_bad_settings_are_refused() {
    let app = TestApp::spawn_with(FLAGS).await;
    let key = app.create_user("ops-retry@example.com");
    let ops = Receiver::start().await;
    ops.script(&[503]);
    let first = set_operations(&app, &key, &format!("{}/first", ops.url)).await;
    // Changing the URL keeps the secret.
    let secret = set_operations(&app, &key, &ops.url).await;
    assert_eq!(secret, first);
    let failing = Receiver::start().await;
    failing.set_default(500);
    create_hook(&app, &key, hook_body(&failing.url, "s")).await;
    publish(&app, &key, json!({"hookType":"dbs","_shop":"s","data":{}})).await;
    // First answered 503, then again after the 5 s backoff: the same notice, same webhook-id.
    let got = ops.wait_for(2, Duration::from_secs(20)).await;
    assert_eq!(got[0].header("webhook-id"), got[1].header("webhook-id"));
    assert_eq!(verified(&secret, &got[1])["type"], "delivery.dead_lettered");

    for body in [json!({"endpoint": "//nope"}), json!({}), json!({"endpoint": 5}), json!({"endpont": "https://e.com"})]
    {
        let res = app.request(Method::PUT, PATH, &key).json(&body).send().await.expect("request");
        assert_error(res, 400).await;
    }
    let res = app.get(PATH).send().await.expect("request");
    assert_error(res, 401).await;
}

#[tokio::test]
async fn the_operations_endpoint_is_held_to_the_ssrf_guard() {
    // No --allow-private-targets: loopback is refused, for hooks and notices alike.
    let app = TestApp::spawn_with(&["--retry-schedule", "0s", "--delivery-timeout", "2s"]).await;
    let key = app.create_user("ops-ssrf@example.com");
    let ops = Receiver::start().await;
    set_operations(&app, &key, &ops.url).await;
    let hook = create_hook(&app, &key, hook_body("http://127.0.0.1:9/hook", "s")).await;
    publish(&app, &key, json!({"hookType":"dbs","_shop":"s","data":{}})).await;
    wait_log(&app, &key, &hook, |log| log["deliveries"][0]["status"] == "failed").await;
    // The dead letter's notice is owed and tried, and never reaches the loopback receiver.
    let db = app.db().await;
    eventually("the notice was tried", WAIT, || async {
        (db.number("SELECT coalesce(max(attempts), 0) FROM operations_notices", &[]).await >= 1).then_some(())
    })
    .await;
    assert!(ops.received().is_empty(), "a notice reached a loopback address");
}
