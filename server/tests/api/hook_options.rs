//! Per-hook delivery options over HTTP: `headers` and `secretHeaders` go
//! out with every delivery (secret values masked in every answer, sealed in
//! the database, never logged), names Hookrelay sets are refused, and
//! `timeoutSeconds` bounds the hook's own attempts.

use crate::delivery::{WAIT, publish, wait_log};
use crate::helpers::{TestApp, assert_error};
use crate::receiver::Receiver;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

const FLAGS: &[&str] = &["--allow-private-targets", "--retry-schedule", "0s", "--delivery-timeout", "10s"];
const SECRET: &str = "sk-Vb7nQ2xLp9Rt4Zw";

fn hook(url: &str, extra: Value) -> Value {
    let mut body = json!({"endPoint": url, "hookType": "dbs", "isActiveStatus": true, "_shop": "s"});
    for (k, v) in extra.as_object().expect("object") {
        body[k] = v.clone();
    }
    body
}

#[tokio::test]
async fn headers_go_out_with_every_delivery_and_secret_ones_stay_secret() {
    let app = TestApp::spawn_with(FLAGS).await;
    let key = app.create_user("headers@example.com");
    let receiver = Receiver::start().await;
    let body = hook(
        &receiver.url,
        json!({"headers": {"X-Tenant": "acme"}, "secretHeaders": {"X-Api-Key": SECRET},
                                          "timeoutSeconds": 5}),
    );
    let (status, created) = app.send_json(Method::POST, "/api/v1/hook", &key, &body).await;
    assert_eq!(status, 200, "{created}");
    let hook_view = &created["hook"];
    assert_eq!(hook_view["headers"], json!({"X-Tenant": "acme"}));
    assert_eq!(hook_view["secretHeaders"], json!({"X-Api-Key": "*******"}));
    assert_eq!(hook_view["timeoutSeconds"], 5);
    let id = hook_view["id"].as_str().expect("id").to_owned();

    publish(&app, &key, json!({"hookType":"dbs","_shop":"s","data":{}})).await;
    let got = receiver.wait_for(1, WAIT).await;
    assert_eq!(got[0].header("x-tenant"), "acme");
    assert_eq!(got[0].header("x-api-key"), SECRET);
    assert!(got[0].header("webhook-signature").starts_with("v1,"), "Hookrelay's own headers are still there");

    // PATCH with the mask keeps the stored value; other fields stay.
    let path = format!("/api/v1/hook/{id}");
    let (status, patched) = app
        .send_json(Method::PATCH, &path, &key, &json!({"secretHeaders": {"X-Api-Key": "*******", "X-Extra": "e"}}))
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["hook"]["secretHeaders"], json!({"X-Api-Key": "*******", "X-Extra": "*******"}));
    assert_eq!(
        (&patched["hook"]["headers"], &patched["hook"]["timeoutSeconds"]),
        (&json!({"X-Tenant": "acme"}), &json!(5))
    );
    publish(&app, &key, json!({"hookType":"dbs","_shop":"s","data":{}})).await;
    let got = receiver.wait_for(2, WAIT).await;
    assert_eq!((got[1].header("x-api-key"), got[1].header("x-extra")), (SECRET.to_owned(), "e".to_owned()));

    // Nowhere in plain text: not in any answer, the database or the log.
    let (_, read) = app.send_json(Method::GET, &path, &key, &Value::Null).await;
    let (_, list) = app.send_json(Method::GET, "/api/v1/hooks", &key, &Value::Null).await;
    for text in [read.to_string(), list.to_string(), patched.to_string(), created.to_string()] {
        assert!(!text.contains(SECRET), "{text}");
    }
    let bytes = app.database_bytes();
    assert!(!bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()), "the secret header is sealed at rest");
    assert!(app.logs().iter().all(|l| !l.contains(SECRET)), "never logged");

    // PUT without them clears them.
    let (status, replaced) = app.send_json(Method::PUT, &path, &key, &hook(&receiver.url, json!({}))).await;
    assert_eq!(status, 200, "{replaced}");
    assert_eq!(
        (&replaced["hook"]["headers"], &replaced["hook"]["secretHeaders"], &replaced["hook"]["timeoutSeconds"]),
        (&json!({}), &json!({}), &Value::Null)
    );
    publish(&app, &key, json!({"hookType":"dbs","_shop":"s","data":{}})).await;
    let got = receiver.wait_for(3, WAIT).await;
    assert!(got[2].header("x-api-key").is_empty() && got[2].header("x-tenant").is_empty());
}

#[tokio::test]
async fn headers_hookrelay_sets_and_bad_options_are_refused_by_name() {
    let app = TestApp::spawn_with(FLAGS).await;
    let key = app.create_user("headers-refused@example.com");
    for (extra, field, names) in [
        (json!({"headers": {"Authorization": "Bearer x"}}), "headers", "Authorization"),
        (json!({"headers": {"webhook-id": "x"}}), "headers", "webhook-id"),
        (json!({"secretHeaders": {"Content-Length": "1"}}), "secretHeaders", "Content-Length"),
        (json!({"headers": {"Host": "evil"}}), "headers", "Host"),
        (json!({"headers": {"X-Hook-Token": "t"}}), "headers", "X-Hook-Token"),
        (json!({"headers": {"Transfer-Encoding": "chunked"}}), "headers", "Transfer-Encoding"),
        (json!({"headers": {"X-Bad\nName": "v"}}), "headers", "X-Bad"),
        (json!({"headers": {"X-Line": "a\r\nInjected: 1"}}), "headers", "X-Line"),
        (json!({"headers": ["X-A"]}), "headers", "object"),
        (json!({"secretHeaders": {"X-K": "*******"}}), "secretHeaders", "no value is stored"),
        (json!({"headers": {"X-K": "a"}, "secretHeaders": {"x-k": "b"}}), "secretHeaders", "X-K"),
        (json!({"timeoutSeconds": 0}), "timeoutSeconds", "1 to 30"),
        (json!({"timeoutSeconds": 31}), "timeoutSeconds", "1 to 30"),
        (json!({"timeoutSeconds": "5"}), "timeoutSeconds", "1 to 30"),
    ] {
        let res = app
            .request(Method::POST, "/api/v1/hook", &key)
            .json(&hook("https://example.com/h", extra.clone()))
            .send()
            .await
            .expect("request");
        let error = assert_error(res, 400).await;
        let found = error["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .find(|e| e["field"] == field)
            .unwrap_or_else(|| panic!("no {field} error for {extra}: {error}"));
        assert!(found["message"].as_str().is_some_and(|m| m.contains(names)), "{extra} → {error}");
    }
    // EventsShop endpoints take the same options.
    let body = json!({"authType": "OAuth 2.0", "endpoint": "https://example.com/es", "token": "t",
                      "headers": {"X-Feed": "events"}, "secretHeaders": {"X-Key": SECRET}, "timeoutSeconds": 3});
    let (status, created) = app.send_json(Method::POST, "/endpoint/", &key, &body).await;
    assert_eq!(status, 202, "{created}");
    assert_eq!(created["endpoint"]["headers"], json!({"X-Feed": "events"}));
    assert_eq!(created["endpoint"]["secretHeaders"], json!({"X-Key": "*******"}));
    assert_eq!(created["endpoint"]["timeoutSeconds"], 3);
    let res = app.request(Method::POST, "/endpoint/", &key)
        .json(&json!({"authType": "OAuth 2.0", "endpoint": "https://example.com/es", "token": "t", "headers": {"Authorization": "x"}}))
        .send().await.expect("request");
    assert_error(res, 400).await;
}

#[tokio::test]
async fn a_hook_timeout_ends_its_own_attempts_and_no_one_elses() {
    let app = TestApp::spawn_with(FLAGS).await;
    let key = app.create_user("timeouts@example.com");
    let slow = Receiver::start().await;
    slow.set_delay(Duration::from_secs(3));
    let hasty = hook(&format!("{}/hasty", slow.url), json!({"timeoutSeconds": 1, "_shop": "t"}));
    let (status, created) = app.send_json(Method::POST, "/api/v1/hook", &key, &hasty).await;
    assert_eq!(status, 200, "{created}");
    let hasty_id = created["hook"]["id"].as_str().expect("id").to_owned();
    let patient = hook(&format!("{}/patient", slow.url), json!({"_shop": "t"}));
    let (_, created) = app.send_json(Method::POST, "/api/v1/hook", &key, &patient).await;
    let patient_id = created["hook"]["id"].as_str().expect("id").to_owned();

    publish(&app, &key, json!({"hookType":"dbs","_shop":"t","data":{}})).await;
    let failed = wait_log(&app, &key, &hasty_id, |log| log["deliveries"][0]["status"] == "failed").await;
    let attempt = &failed["deliveries"][0]["attempts"][0];
    assert!(attempt["error"].as_str().is_some_and(|e| e.contains("timed out")), "{attempt}");
    let took = attempt["durationMs"].as_i64().expect("duration");
    assert!(
        (900..2_900).contains(&took),
        "the hook's 1 s timeout, not the receiver's 3 s or the server's 10 s: {took} ms"
    );
    // The hook without its own timeout waits the receiver out (the server's 10 s).
    wait_log(&app, &key, &patient_id, |log| log["deliveries"][0]["status"] == "succeeded").await;
}
