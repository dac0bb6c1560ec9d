//! A hook's own pace, measured where it lands: `rateLimit` spaces the
//! hook's deliveries at the receiver while a hook beside it goes at full
//! speed, and `maxInFlight` bounds how many of its attempts run at once.

use crate::delivery::{WAIT, publish};
use crate::helpers::TestApp;
use crate::publishers::{OnFailure, publish_events};
use crate::receiver::{Received, Receiver};
use reqwest::Method;
use serde_json::json;
use std::time::Duration;

const FLAGS: &[&str] = &["--allow-private-targets", "--retry-schedule", "0s,1s", "--rate-limit", "0"];

async fn create(app: &TestApp, key: &str, url: &str, shop: &str, pace: serde_json::Value) -> String {
    let mut body = json!({"endPoint": url, "hookType": "dbs", "isActiveStatus": true, "_shop": shop});
    for (k, v) in pace.as_object().expect("object") {
        body[k] = v.clone();
    }
    let (status, created) = app.send_json(Method::POST, "/api/v1/hook", key, &body).await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["hook"]["rateLimit"], pace.get("rateLimit").cloned().unwrap_or(serde_json::Value::Null));
    created["hook"]["id"].as_str().expect("id").to_owned()
}

fn span(got: &[Received]) -> Duration {
    let first = got.iter().map(|r| r.at).min().expect("first");
    let last = got.iter().map(|r| r.at).max().expect("last");
    last - first
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_hook_is_paced_while_the_one_beside_it_goes_at_full_speed() {
    let app = TestApp::spawn_with(FLAGS).await;
    let key = app.create_user("pace@example.com");
    let (paced, free) = (Receiver::start().await, Receiver::start().await);
    create(&app, &key, &paced.url, "s", json!({"rateLimit": 20})).await;
    create(&app, &key, &free.url, "s", json!({})).await;

    // From 8 publishers at once: the free hook's span is then set by the
    // delivery path, not by one client's round trips on a loaded machine.
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let ids = publish_events(vec![app.url.clone()], key.clone(), 200, 8, accepted, OnFailure::Panic).await;
    assert_eq!(ids.len(), 200);
    let fast = free.wait_for(200, WAIT).await;
    let slow = paced.wait_for(200, Duration::from_secs(40)).await;
    assert_eq!((fast.len(), slow.len()), (200, 200), "each event once to each hook");
    for receiver in [&paced, &free] {
        assert!(receiver.by_event().values().all(|n| *n == 1), "an event arrived twice");
    }
    let (fast_span, slow_span) = (span(&fast), span(&slow));
    // 200 at 20/s: the first goes at once, the last 199 intervals of 50 ms later.
    assert!(slow_span >= Duration::from_millis(9_500), "the rate-limited hook got its 200 in {slow_span:?}");
    assert!(fast_span < slow_span / 2, "the free hook waited on the paced one: {fast_span:?} vs {slow_span:?}");
    // Never more than the rate in any second (one interval of catch-up allowed).
    let mut times: Vec<_> = slow.iter().map(|r| r.at).collect();
    times.sort();
    for (i, start) in times.iter().enumerate() {
        let in_second = times[i..].iter().take_while(|t| **t < *start + Duration::from_secs(1)).count();
        // Counted where they land: a request delayed on the way (two cores
        // shared with a second test pass) arrives close to the next one.
        assert!(in_second <= 22, "{in_second} deliveries within one second of a hook limited to 20/s");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_in_flight_bounds_the_hooks_attempts_at_once() {
    let app = TestApp::spawn_with(FLAGS).await;
    let key = app.create_user("in-flight@example.com");
    let slow = Receiver::start().await;
    slow.set_delay(Duration::from_millis(400));
    create(&app, &key, &slow.url, "s", json!({"maxInFlight": 2})).await;
    for n in 0..8 {
        publish(&app, &key, json!({"hookType": "dbs", "_shop": "s", "data": {"n": n}})).await;
    }
    let got = slow.wait_for(8, WAIT).await;
    let mut times: Vec<_> = got.iter().map(|r| r.at).collect();
    times.sort();
    // Two at a time, each held 400 ms: a third never arrives while two are open.
    for window in times.windows(3) {
        assert!(window[2] - window[0] >= Duration::from_millis(350), "three attempts at once: {times:?}");
    }
    assert!(span(&got) >= Duration::from_millis(1_050), "8 attempts two at a time take 4 rounds of 400 ms");
}
