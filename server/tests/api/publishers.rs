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
    /// The publisher stops (its server was killed); what it had is kept.
    Stop,
}

/// `n` events from `publishers` concurrent clients, publisher `p` sending
/// to `urls[p % urls.len()]`; `accepted` counts the 202s as they come.
/// Returns the accepted event ids.
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
                    let body = match sent {
                        Ok(res) if res.status() == 202 => res.json::<Value>().await.ok(),
                        _ => None,
                    };
                    let Some(body) = body else {
                        assert!(on_failure == OnFailure::Stop, "publish {i} of publisher {p} was not accepted");
                        break;
                    };
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
