//! `kill -9` while hundreds of events are in flight loses none of them.

use crate::helpers::TestApp;
use crate::receiver::Receiver;
use reqwest::Method;
use serde_json::json;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_accepted_event_arrives_after_a_sigkill() {
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
    let key = app.create_user("crash@example.com");
    let receiver = Receiver::start().await;
    let (status, _) = app
        .send_json(
            Method::POST,
            "/api/v1/hook",
            &key,
            &json!({"endPoint": receiver.url, "hookType":"dbs","isActiveStatus":true,"_shop":"s"}),
        )
        .await;
    assert_eq!(status, 200);

    // Publish 400 events from 16 concurrent publishers; kill -9 part-way.
    let counter = Arc::new(AtomicUsize::new(0));
    let publishers: Vec<_> =
        (0..16).map(|p| tokio::spawn(publish_until_gone(app.url.clone(), key.clone(), p, counter.clone()))).collect();
    // Let 250 events get accepted while deliveries are under way, then crash.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while counter.load(Ordering::SeqCst) < 250 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    app.crash_and_restart();
    let mut accepted = HashSet::new();
    for p in publishers {
        accepted.extend(p.await.expect("publisher"));
    }
    assert!(accepted.len() >= 250, "too few events were accepted before the crash: {}", accepted.len());
    let delivered_before = receiver.received().len();
    eprintln!("crashed with {} accepted, {delivered_before} requests received so far", accepted.len());

    // After the restart every accepted event arrives (leases expire after timeout + 5 s).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(45);
    loop {
        let arrived: HashSet<String> = receiver.received().iter().map(|r| r.header("webhook-id")).collect();
        let missing: Vec<&String> = accepted.iter().filter(|id| !arrived.contains(*id)).collect();
        if missing.is_empty() {
            eprintln!("{} accepted events all arrived ({} requests in all)", accepted.len(), receiver.received().len());
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} accepted events never arrived: {:?}",
            missing.len(),
            &missing[..missing.len().min(5)]
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Publishes 25 events as publisher `p` until the server stops answering;
/// returns the ids of those accepted (each counted in `counter`).
async fn publish_until_gone(url: String, key: String, p: usize, counter: Arc<AtomicUsize>) -> Vec<String> {
    let client = reqwest::Client::new();
    let mut accepted = Vec::new();
    for i in 0..25 {
        let res = client
            .post(format!("{url}/api/v1/events"))
            .bearer_auth(&key)
            .json(&json!({"hookType":"dbs","data":{"publisher":p,"n":i}}))
            .send()
            .await;
        match res {
            Ok(r) if r.status() == 202 => {
                let body: serde_json::Value = r.json().await.unwrap_or_default();
                if let Some(id) = body["id"].as_str() {
                    accepted.push(id.to_owned());
                    counter.fetch_add(1, Ordering::SeqCst);
                }
            }
            _ => break, // the server is gone: nothing more is accepted
        }
    }
    accepted
}
