//! Body size and rate limits: 413 and 429, never a 5xx.

use crate::helpers::{TestApp, assert_error};
use crate::hooks_crud::vendor_example;
use reqwest::Method;

#[tokio::test]
async fn a_two_mib_body_gets_413() {
    let app = TestApp::spawn().await;
    let key = app.create_user("big@example.com");
    let mut body = vendor_example();
    body["_shop"] = serde_json::Value::String("x".repeat(2 * 1024 * 1024));
    let bytes = serde_json::to_vec(&body).expect("json");
    for path in ["/api/v1/hook", "/endpoint/"] {
        let res = app
            .request(Method::POST, path, &key)
            .header("content-type", "application/json")
            .body(bytes.clone())
            .send()
            .await
            .expect("request");
        let err = assert_error(res, 413).await;
        assert!(err["message"].as_str().unwrap_or_default().contains("1048576"), "{err}");
    }
    // Just under the limit is read (and then judged on its fields). A new
    // client: the server closes a connection whose oversized body it refused.
    body["_shop"] = serde_json::Value::String("x".repeat(1024 * 1024 - 400));
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/hook", app.url))
        .bearer_auth(&key)
        .json(&body)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 400, "a big-but-allowed body is validated, not refused");
}

#[tokio::test]
async fn a_burst_over_the_rate_limit_gets_429_with_retry_after() {
    let app = TestApp::spawn_with(&["--rate-limit", "5", "--rate-limit-burst", "10"]).await;
    let key = app.create_user("burst@example.com");
    let other = app.create_user("calm@example.com");
    let requests = (0..60).map(|_| app.request(Method::GET, "/api/v1/hooks", &key).send());
    let responses = futures::future::join_all(requests).await;
    let mut limited = 0;
    let mut ok = 0;
    for res in responses {
        let res = res.expect("request");
        match res.status().as_u16() {
            200 => ok += 1,
            429 => {
                let retry_after: u64 = res
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse().ok())
                    .expect("Retry-After seconds");
                assert!((1..=60).contains(&retry_after));
                assert_error(res, 429).await;
                limited += 1;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(ok >= 10, "the burst is allowed: {ok}");
    assert!(limited >= 30, "most of the flood is limited: {limited}");
    // Another key is not affected.
    let res = app.request(Method::GET, "/api/v1/hooks", &other).send().await.expect("request");
    assert_eq!(res.status(), 200);
}
