//! Concurrent publishers for the tests that race publishing against
//! something else (edits, deletes, a killed process).

use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What a publisher does when a publish is not accepted.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum OnFailure {
    /// The test fails: every publish must be accepted.
    Panic,
    /// A publisher whose server stops answering (it was killed) stops; what
    /// it had is kept. An HTTP answer other than 202 still fails the test.
    Stop,
}

/// `n` events (a multiple of `publishers`) from `publishers` concurrent
/// clients, publisher `p` sending to `urls[p % urls.len()]`; `accepted`
/// counts the 202s as they come. Returns the accepted event ids.
pub async fn publish_events(
    urls: Vec<String>,
    key: String,
    n: usize,
    publishers: usize,
    accepted: Arc<AtomicUsize>,
    on_failure: OnFailure,
) -> HashSet<String> {
    let client = reqwest::Client::new();
    let tasks: Vec<_> = (0..publishers)
        .map(|p| {
            let (client, url, key, accepted) =
                (client.clone(), urls[p % urls.len()].clone(), key.clone(), accepted.clone());
            tokio::spawn(async move {
                let mut ids = Vec::new();
                for i in 0..n / publishers {
                    let sent = client
                        .post(format!("{url}/api/v1/events"))
                        .bearer_auth(&key)
                        .json(&json!({"hookType": "dbs", "_shop": "s", "data": {"p": p, "i": i}}))
                        .send()
                        .await;
                    // No answer at all: the server is gone (killed), which only a Stop test expects.
                    let Ok(res) = sent else {
                        assert!(on_failure == OnFailure::Stop, "publish {i} of publisher {p} got no answer");
                        break;
                    };
                    // An answer other than 202 from a live server is always a failure.
                    let status = res.status();
                    let body: Value = res.json().await.unwrap_or_default();
                    assert_eq!(status, 202, "publish {i} of publisher {p}: {body}");
                    ids.push(body["id"].as_str().expect("id").to_owned());
                    accepted.fetch_add(1, Ordering::SeqCst);
                }
                ids
            })
        })
        .collect();
    let mut all = HashSet::new();
    for t in tasks {
        all.extend(t.await.expect("publisher"));
    }
    all
}
