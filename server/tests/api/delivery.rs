//! The delivery engine, end to end: real hookrelay, real receivers.

use crate::helpers::TestApp;
use crate::receiver::Receiver;
use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::Sha256;
use std::time::Duration;

const FAST: &[&str] = &["--allow-private-targets", "--retry-schedule", "0s,150ms,150ms", "--delivery-timeout", "2s"];
pub const WAIT: Duration = Duration::from_secs(20);

pub async fn create_hook(app: &TestApp, key: &str, body: Value) -> String {
    let (status, created) = app.send_json(Method::POST, "/api/v1/hook", key, &body).await;
    assert_eq!(status, 200, "{created}");
    created["hook"]["id"].as_str().expect("id").to_owned()
}

pub fn hook_body(url: &str, shop: &str) -> Value {
    json!({"endPoint": url, "hookType": "dbs", "isActiveStatus": true, "_shop": shop})
}

pub async fn publish(app: &TestApp, key: &str, body: Value) -> Value {
    let (status, accepted) = app.send_json(Method::POST, "/api/v1/events", key, &body).await;
    assert_eq!(status, 202, "{accepted}");
    accepted
}

async fn deliveries(app: &TestApp, key: &str, hook: &str) -> Value {
    let (status, body) =
        app.send_json(Method::GET, &format!("/api/v1/hook/{hook}/deliveries"), key, &Value::Null).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Polls the delivery log until `check` holds.
pub async fn wait_log(app: &TestApp, key: &str, hook: &str, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let log = deliveries(app, key, hook).await;
        if check(&log) {
            return log;
        }
        assert!(tokio::time::Instant::now() < deadline, "delivery log never matched: {log}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn deliveries_verify_with_standard_webhooks_also_during_rotation() {
    let app = TestApp::spawn_with(FAST).await;
    let key = app.create_user("sign@example.com");
    let receiver = Receiver::start().await;
    let hook = create_hook(&app, &key, hook_body(&receiver.url, "s1")).await;
    let (_, secret) = app.send_json(Method::GET, &format!("/api/v1/hook/{hook}/secret"), &key, &Value::Null).await;
    let secret = secret["secret"].as_str().expect("secret").to_owned();
    assert!(secret.starts_with("whsec_"));

    // Quotes, escapes, control characters and non-ASCII text survive storage byte for byte (the signature covers them).
    let data = json!({"price": 42, "note": "\"q\" \\ \n\t\u{1} ünï 😀 </script>", "list": [1, 2.5, null, true]});
    let accepted = publish(&app, &key, json!({"hookType":"dbs","_shop":"s1","data": data})).await;
    assert_eq!(accepted["deliveries"], 1);
    let got = receiver.wait_for(1, WAIT).await;
    let delivery = &got[0];
    standardwebhooks::Webhook::new(&secret)
        .expect("secret")
        .verify(&delivery.body, &delivery.headers)
        .expect("signature verifies");
    assert_eq!(delivery.header("webhook-id"), accepted["id"].as_str().unwrap_or_default());
    assert_eq!(delivery.header("content-type"), "application/json");
    assert!(delivery.header("user-agent").starts_with("hookrelay/"));
    let body = delivery.json();
    assert_eq!(
        (&body["id"], &body["type"], &body["_shop"], &body["data"]),
        (&accepted["id"], &json!("dbs"), &json!("s1"), &data)
    );
    assert!(body["timestamp"].as_str().is_some_and(|t| t.contains('T')));

    // Rotate: the next delivery carries both signatures; each key verifies.
    let (_, rotated) =
        app.send_json(Method::POST, &format!("/api/v1/hook/{hook}/rotate-secret"), &key, &Value::Null).await;
    let new_secret = rotated["secret"].as_str().expect("secret").to_owned();
    assert_ne!(new_secret, secret);
    publish(&app, &key, json!({"hookType":"dbs","data":{}})).await;
    let got = receiver.wait_for(2, WAIT).await;
    let rotated_delivery = &got[1];
    assert_eq!(rotated_delivery.header("webhook-signature").split(' ').count(), 2);
    for s in [&secret, &new_secret] {
        standardwebhooks::Webhook::new(s)
            .expect("secret")
            .verify(&rotated_delivery.body, &rotated_delivery.headers)
            .expect("verifies");
    }
    let (_, now) = app.send_json(Method::GET, &format!("/api/v1/hook/{hook}/secret"), &key, &Value::Null).await;
    assert_eq!(now["secret"], new_secret.as_str());
}

#[tokio::test]
async fn each_auth_type_sends_its_authorization_header() {
    let app = TestApp::spawn_with(FAST).await;
    let key = app.create_user("authhdr@example.com");
    let (basic, oauth, jwt, generated) =
        (Receiver::start().await, Receiver::start().await, Receiver::start().await, Receiver::start().await);
    let mut b = hook_body(&basic.url, "s");
    b["authType"] = json!("basic");
    b["userId"] = json!("alice");
    b["pwdTxt"] = json!("pa:ss word");
    create_hook(&app, &key, b).await;
    let mut o = hook_body(&oauth.url, "s");
    o["authType"] = json!("OAuth 2.0");
    o["token"] = json!("oauth-token-123");
    create_hook(&app, &key, o).await;
    let mut j = hook_body(&jwt.url, "s");
    j["authType"] = json!("jwt");
    j["userId"] = json!("63fda531bde67155fc46fb4");
    j["token"] = json!("jwt-hmac-secret");
    create_hook(&app, &key, j).await;
    let es = json!({"authType":"Basic Auth","endpoint": generated.url,"userName":"bob","password":"pw"});
    let (_, es) = app.send_json(Method::POST, "/endpoint/", &key, &es).await;
    let hook_token = es["token"].as_str().expect("generated token").to_owned();

    publish(&app, &key, json!({"hookType":"dbs","data":{}})).await;
    publish(&app, &key, json!({"hookType":"hoteldemand","data":{}})).await;

    let got = basic.wait_for(1, WAIT).await;
    let expected = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("alice:pa:ss word"));
    assert_eq!(got[0].header("authorization"), expected);
    let got = oauth.wait_for(1, WAIT).await;
    assert_eq!(got[0].header("authorization"), "Bearer oauth-token-123");

    let got = jwt.wait_for(1, WAIT).await;
    let auth = got[0].header("authorization");
    let token = auth.strip_prefix("Bearer ").expect("bearer");
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    let mut mac = Hmac::<Sha256>::new_from_slice(b"jwt-hmac-secret").expect("key");
    mac.update(format!("{}.{}", parts[0], parts[1]).as_bytes());
    let expected_sig = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    assert_eq!(parts[2], expected_sig, "the JWT verifies with the hook's token");
    let claims: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(parts[1]).expect("b64"))
            .expect("claims");
    assert_eq!(claims["sub"], "63fda531bde67155fc46fb4");
    assert_eq!(claims["exp"].as_i64().unwrap_or(0) - claims["iat"].as_i64().unwrap_or(0), 300);
    assert!(claims["jti"].as_str().is_some_and(|j| j.len() == 24));

    let got = generated.wait_for(1, WAIT).await;
    assert_eq!(got[0].header("x-hook-token"), hook_token);
    assert!(got[0].header("authorization").starts_with("Basic "));
}

#[tokio::test]
async fn fan_out_reaches_exactly_the_matching_active_hooks() {
    let app = TestApp::spawn_with(FAST).await;
    let alice = app.create_user("fan-a@example.com");
    let bob = app.create_user("fan-b@example.com");
    let (s1, s2, inactive, other_account, events) = (
        Receiver::start().await,
        Receiver::start().await,
        Receiver::start().await,
        Receiver::start().await,
        Receiver::start().await,
    );
    create_hook(&app, &alice, hook_body(&s1.url, "shop-1")).await;
    create_hook(&app, &alice, hook_body(&s2.url, "shop-2")).await;
    let mut off = hook_body(&inactive.url, "shop-1");
    off["isActiveStatus"] = json!(false);
    create_hook(&app, &alice, off).await;
    create_hook(&app, &bob, hook_body(&other_account.url, "shop-1")).await;
    let es = json!({"authType":"OAuth 2.0","endpoint": events.url,"token":"t"});
    app.send_json(Method::POST, "/endpoint/", &alice, &es).await;

    assert_eq!(publish(&app, &alice, json!({"hookType":"dbs","_shop":"shop-1","data":1})).await["deliveries"], 1);
    assert_eq!(publish(&app, &alice, json!({"hookType":"dbs","data":2})).await["deliveries"], 2);
    assert_eq!(publish(&app, &alice, json!({"hookType":"eventsinfo","data":3})).await["deliveries"], 1);
    s1.wait_for(2, WAIT).await;
    s2.wait_for(1, WAIT).await;
    events.wait_for(1, WAIT).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(s1.received().len(), 2);
    assert_eq!(s2.received().len(), 1);
    assert_eq!(events.received().len(), 1);
    assert!(inactive.received().is_empty());
    assert!(other_account.received().is_empty());

    // Only an admin key may publish for another account.
    let bob_id = {
        let (_, list) = app.send_json(Method::GET, "/api/v1/hooks", &bob, &Value::Null).await;
        list["hooks"][0]["_user"].as_str().expect("id").to_owned()
    };
    let (status, _) = app
        .send_json(Method::POST, "/api/v1/events", &alice, &json!({"hookType":"dbs","data":{},"_user":bob_id}))
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn retries_dead_letters_manual_retry_and_410() {
    let app = TestApp::spawn_with(FAST).await;
    let key = app.create_user("retry@example.com");

    // Fails twice, then succeeds: three attempts, one webhook-id.
    let flaky = Receiver::start().await;
    flaky.script(&[500, 503]);
    let flaky_hook = create_hook(&app, &key, hook_body(&flaky.url, "a")).await;
    let accepted = publish(&app, &key, json!({"hookType":"dbs","_shop":"a","data":{}})).await;
    let got = flaky.wait_for(3, WAIT).await;
    let ids: Vec<String> = got.iter().map(|r| r.header("webhook-id")).collect();
    assert_eq!(ids, vec![accepted["id"].as_str().unwrap_or_default().to_owned(); 3]);
    let log = wait_log(&app, &key, &flaky_hook, |l| l["deliveries"][0]["status"] == "succeeded").await;
    let attempts = log["deliveries"][0]["attempts"].as_array().cloned().unwrap_or_default();
    let codes: Vec<Value> = attempts.iter().map(|a| a["statusCode"].clone()).collect();
    assert_eq!(codes, [json!(500), json!(503), json!(200)]);
    assert!(attempts[0]["error"].as_str().is_some_and(|e| e.contains("500")));

    // Always fails: dead-lettered after the schedule; a manual retry then delivers.
    let down = Receiver::start().await;
    down.set_default(500);
    let down_hook = create_hook(&app, &key, hook_body(&down.url, "b")).await;
    publish(&app, &key, json!({"hookType":"dbs","_shop":"b","data":{}})).await;
    let log = wait_log(&app, &key, &down_hook, |l| l["deliveries"][0]["status"] == "failed").await;
    assert_eq!(log["deliveries"][0]["attempts"].as_array().map(Vec::len), Some(3));
    let delivery_id = log["deliveries"][0]["id"].as_str().expect("id").to_owned();
    down.set_default(200);
    let (status, queued) =
        app.send_json(Method::POST, &format!("/api/v1/deliveries/{delivery_id}/retry"), &key, &Value::Null).await;
    assert_eq!(status, 202, "{queued}");
    let log = wait_log(&app, &key, &down_hook, |l| l["deliveries"][0]["status"] == "succeeded").await;
    assert_eq!(log["deliveries"][0]["attempts"].as_array().map(Vec::len), Some(4));
    // Another account cannot see or retry it.
    let other = app.create_user("retry-other@example.com");
    let (status, _) =
        app.send_json(Method::POST, &format!("/api/v1/deliveries/{delivery_id}/retry"), &other, &Value::Null).await;
    assert_eq!(status, 404);

    // 410 Gone disables the hook.
    let gone = Receiver::start().await;
    gone.set_default(410);
    let gone_hook = create_hook(&app, &key, hook_body(&gone.url, "c")).await;
    publish(&app, &key, json!({"hookType":"dbs","_shop":"c","data":{}})).await;
    wait_log(&app, &key, &gone_hook, |l| l["deliveries"][0]["status"] == "failed").await;
    let (_, hook) = app.send_json(Method::GET, &format!("/api/v1/hook/{gone_hook}"), &key, &Value::Null).await;
    assert_eq!(hook["hook"]["isActiveStatus"], false);
    assert!(hook["hook"]["disabledReason"].as_str().is_some_and(|r| r.contains("410")));
    assert_eq!(gone.received().len(), 1, "no retry after 410");
}

#[tokio::test]
async fn the_same_idempotency_key_gives_one_event_and_one_delivery() {
    let app = TestApp::spawn_with(FAST).await;
    let key = app.create_user("idem@example.com");
    let receiver = Receiver::start().await;
    let hook = create_hook(&app, &key, hook_body(&receiver.url, "s")).await;
    let send = || {
        app.request(Method::POST, "/api/v1/events", &key)
            .header("idempotency-key", "order-42")
            .json(&json!({"hookType":"dbs","data":{"n":1}}))
            .send()
    };
    let first: Value = send().await.expect("r").json().await.expect("json");
    let second = send().await.expect("r");
    assert_eq!(second.status(), 202);
    assert_eq!(second.headers().get("idempotent-replayed").map(axum::http::HeaderValue::as_bytes), Some(&b"true"[..]));
    let second: Value = second.json().await.expect("json");
    assert_eq!(first, second);
    receiver.wait_for(1, WAIT).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.received().len(), 1);
    assert_eq!(deliveries(&app, &key, &hook).await["totalData"], 1);
}

#[tokio::test]
async fn test_events_reach_one_hook() {
    let app = TestApp::spawn_with(FAST).await;
    let key = app.create_user("testevent@example.com");
    let receiver = Receiver::start().await;
    let hook = create_hook(&app, &key, hook_body(&receiver.url, "s")).await;
    let (status, accepted) =
        app.send_json(Method::POST, &format!("/api/v1/hook/{hook}/test"), &key, &Value::Null).await;
    assert_eq!((status, &accepted["deliveries"]), (202, &json!(1)));
    let got = receiver.wait_for(1, WAIT).await;
    assert_eq!(got[0].json()["data"]["test"], true);
}

#[tokio::test]
async fn metrics_count_events_attempts_and_the_queue() {
    let app = TestApp::spawn_with(FAST).await;
    let key = app.create_user("metrics@example.com");
    let receiver = Receiver::start().await;
    create_hook(&app, &key, hook_body(&receiver.url, "s")).await;
    for _ in 0..3 {
        publish(&app, &key, json!({"hookType":"dbs","data":{}})).await;
    }
    receiver.wait_for(3, WAIT).await;
    let expected = [
        "hookrelay_events_accepted_total 3",
        "hookrelay_deliveries_queued_total 3",
        "hookrelay_delivery_attempts_total{outcome=\"succeeded\"} 3",
        "hookrelay_attempt_duration_seconds_count 3",
        "hookrelay_queue_depth 0",
        "hookrelay_oldest_pending_age_seconds 0",
    ];
    // The attempts are counted once recorded (just after the receiver
    // answered), and the queue figures are cached for 2 s: poll until they hold.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let text = app.get("/metrics").send().await.expect("request").text().await.expect("text");
        let missing: Vec<&str> =
            expected.iter().copied().filter(|line| !text.lines().any(|l| l.starts_with(line))).collect();
        if missing.is_empty() {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "missing {missing:?} in:\n{text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_hook_whose_deliveries_all_fail_for_the_window_is_disabled_with_a_reason() {
    let app = TestApp::spawn_with(&[
        "--allow-private-targets",
        "--retry-schedule",
        "0s,300ms,300ms,300ms,300ms,300ms,300ms",
        "--disable-after",
        "1s",
    ])
    .await;
    let key = app.create_user("disable@example.com");
    let receiver = Receiver::start().await;
    receiver.set_default(500);
    let hook = create_hook(&app, &key, hook_body(&receiver.url, "s")).await;
    publish(&app, &key, json!({"hookType":"dbs","data":{}})).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (_, got) = app.send_json(Method::GET, &format!("/api/v1/hook/{hook}"), &key, &Value::Null).await;
        if got["hook"]["isActiveStatus"] == false {
            let reason = got["hook"]["disabledReason"].as_str().unwrap_or_default().to_owned();
            assert!(reason.contains("every delivery attempt failed"), "{reason}");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the hook was never disabled");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Its delivery is no longer retried, and new events do not reach it.
    let log = wait_log(&app, &key, &hook, |l| l["deliveries"][0]["status"] == "failed").await;
    let attempts = log["deliveries"][0]["attempts"].as_array().map(Vec::len).unwrap_or(0);
    assert!(attempts < 7, "stopped before the schedule ran out: {attempts}");
    assert_eq!(publish(&app, &key, json!({"hookType":"dbs","data":{}})).await["deliveries"], 0);
    // Re-enabling clears the reason.
    let (_, patched) =
        app.send_json(Method::PATCH, &format!("/api/v1/hook/{hook}"), &key, &json!({"isActiveStatus": true})).await;
    assert_eq!((&patched["hook"]["isActiveStatus"], &patched["hook"]["disabledReason"]), (&json!(true), &Value::Null));
}

// Multi-threaded: the restart blocks one thread while the receiver keeps answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_an_attempt_in_flight() {
    let mut app = TestApp::process_with(FAST).await;
    let key = app.create_user("sigterm@example.com");
    let receiver = Receiver::start().await;
    receiver.set_delay(Duration::from_millis(1500));
    let hook = create_hook(&app, &key, hook_body(&receiver.url, "s")).await;
    publish(&app, &key, json!({"hookType":"dbs","data":{}})).await;
    receiver.wait_for(1, WAIT).await; // in flight now: the receiver answers in 1.5 s
    let exit = app.stop_and_restart();
    assert!(exit.success(), "{exit:?}");
    let log = deliveries(&app, &key, &hook).await;
    assert_eq!(log["deliveries"][0]["status"], "succeeded", "{log}");
    assert_eq!(log["deliveries"][0]["attempts"].as_array().map(Vec::len), Some(1));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.received().len(), 1, "not sent twice");
}

// Multi-threaded: the restart blocks one thread while the receiver keeps answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_removes_finished_history_older_than_the_setting() {
    let mut app = TestApp::process_with(&["--allow-private-targets", "--retention", "1s"]).await;
    let key = app.create_user("retention@example.com");
    let receiver = Receiver::start().await;
    let hook = create_hook(&app, &key, hook_body(&receiver.url, "s")).await;
    publish(&app, &key, json!({"hookType":"dbs","data":{}})).await;
    wait_log(&app, &key, &hook, |l| l["deliveries"][0]["status"] == "succeeded").await;
    // A delivery still pending is kept however old: this receiver is down.
    let down = Receiver::start().await;
    down.set_default(500);
    let pending_hook = create_hook(&app, &key, hook_body(&down.url, "p")).await;
    publish(&app, &key, json!({"hookType":"dbs","_shop":"p","data":{}})).await;
    down.wait_for(1, WAIT).await;
    // Not synchronisation: the history must grow older than `--retention 1s`.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // The retention task runs at start (then hourly).
    app.stop_and_restart();
    let log = wait_log(&app, &key, &hook, |l| l["totalData"] == 0).await;
    assert_eq!(log["deliveries"], json!([]));
    let kept = deliveries(&app, &key, &pending_hook).await;
    assert_eq!(kept["deliveries"][0]["status"], "pending", "{kept}");
}

/// Under steady traffic the WAL does not keep every frame ever written: a
/// passive checkpoint alone never let it start over (100 MB after 3,000
/// events), so the server catches up with the writers paused once it is
/// long (`checkpoint.rs`). Checked while the traffic is continuous: 5,000
/// events would leave about 165 MB of WAL without it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wal_stays_bounded_under_steady_traffic() {
    if crate::test_db::backend() == crate::test_db::Backend::Postgres {
        return; // no WAL file of ours there
    }
    let app = TestApp::process_with(&["--allow-private-targets", "--rate-limit", "0"]).await;
    let key = app.create_user("wal@example.com");
    let receiver = Receiver::start().await;
    create_hook(&app, &key, hook_body(&receiver.url, "s")).await;
    let wal = app.db_path.with_extension("db-wal");
    let wal_bytes = || std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    let mut largest = 0;
    for n in 0..5_000 {
        publish(&app, &key, json!({"hookType":"dbs","data":{"n": n}})).await;
        largest = largest.max(wal_bytes());
    }
    // The catch-up point (64 MiB of frames) plus what a busy second or two
    // adds before it runs; far under the 261 MB seen without it.
    eprintln!("largest WAL: {largest} bytes");
    assert!(largest > 32 * 1024 * 1024, "the WAL was in use ({largest} bytes)");
    assert!(largest < 150 * 1024 * 1024, "the WAL grew to {largest} bytes");
    receiver.wait_for(5_000, WAIT).await;
}
