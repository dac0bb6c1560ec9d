//! The operations sender: delivers the notices `storage::operations` keeps
//! (a hook disabled by Hookrelay, a delivery dead-lettered) to each
//! account's operations endpoint — a JSON `{"type","timestamp","data"}`
//! signed the Standard Webhooks way with the account's operations secret,
//! through the same SSRF-guarded client as deliveries. A notice that is
//! not answered 2xx is tried again with backoff and given up on after
//! `BACKOFF.len()` failures (about 8 hours). Notices are claimed with a
//! lease, so several processes never send one twice while each lives.

use app::security::{SecretBox, signing};
use app::storage::Db;
use app::storage::deliveries::LeaseOwner;
use app::storage::operations::{self, DueNotice};
use std::time::Duration;
use tokio::sync::watch;

/// The delay before the next try after each failure; after the last, the notice is dropped.
const BACKOFF: [Duration; 8] = [
    Duration::from_secs(5),
    Duration::from_secs(30),
    Duration::from_secs(120),
    Duration::from_secs(600),
    Duration::from_secs(1_800),
    Duration::from_secs(3_600),
    Duration::from_secs(7_200),
    Duration::from_secs(14_400),
];
/// How often the sender looks for due notices.
const POLL: Duration = Duration::from_secs(1);
/// One try's whole time; a batch is sent at once, so it ends within this.
const TIMEOUT: Duration = Duration::from_secs(10);
/// A claimed notice is this process's for a minute: far longer than its batch.
const LEASE_MS: i64 = 60_000;
const BATCH: i64 = 16;

/// Everything one attempt needs.
pub struct Sender {
    pub db: Db,
    pub secrets: SecretBox,
    pub client: reqwest::Client,
    /// Check literal addresses against the SSRF ranges (the resolver checks names).
    pub guard: bool,
    pub owner: LeaseOwner,
    /// SQLite's busy writers take turns here (`write_gate.rs`).
    pub gate: crate::write_gate::WriteGate,
}

/// Sends due notices until `stop` turns true.
pub async fn run(sender: Sender, mut stop: watch::Receiver<bool>) {
    loop {
        if *stop.borrow() {
            return;
        }
        let claim = operations::claim_due(&sender.db, &sender.owner, LEASE_MS, BATCH);
        match sender.gate.run(claim).await {
            // At once, each bounded by TIMEOUT: one slow endpoint delays nobody for long.
            Ok(due) => {
                futures_util::future::join_all(due.iter().map(|n| sender.deliver(n))).await;
            }
            Err(e) => tracing::error!(error = %e, "operations: claiming notices failed"),
        }
        tokio::select! {
            () = tokio::time::sleep(POLL) => {}
            _ = stop.changed() => {}
        }
    }
}

impl Sender {
    /// Runs the sender as one of the tasks `serve` cannot run without.
    pub fn spawn(self, watched: &mut crate::watched::Watched, stop: &watch::Receiver<bool>) {
        watched.spawn("operations sender", run(self, stop.clone()));
    }

    async fn deliver(&self, notice: &DueNotice) {
        let outcome = self.send(notice).await;
        let attempt = usize::try_from(notice.attempts).unwrap_or(usize::MAX);
        let retry_at = match &outcome {
            Ok(status) if (200..300).contains(status) => None,
            _ => match BACKOFF.get(attempt) {
                Some(delay) => Some(app::storage::now_ms() + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX / 2)),
                None => {
                    tracing::warn!(notice = %notice.id, kind = %notice.kind, "operations: notice given up after {} attempts", attempt + 1);
                    None
                }
            },
        };
        let written = match retry_at {
            Some(next) => self.gate.run(operations::retry_at(&self.db, &self.owner, &notice.id, next)).await,
            None => self.gate.run(operations::finish(&self.db, &self.owner, &notice.id)).await,
        };
        match outcome {
            Ok(status) => {
                tracing::info!(notice = %notice.id, kind = %notice.kind, status, "operations notice answered");
            }
            Err(error) => {
                tracing::info!(notice = %notice.id, kind = %notice.kind, %error, "operations notice not delivered");
            }
        }
        if let Err(e) = written {
            tracing::error!(notice = %notice.id, error = %e, "operations: recording a notice's attempt failed");
        }
    }

    /// One attempt: the endpoint's HTTP status, or why there was none.
    async fn send(&self, notice: &DueNotice) -> Result<u16, String> {
        let url = reqwest::Url::parse(&notice.endpoint).map_err(|e| e.to_string())?;
        if self.guard {
            crate::delivery::ssrf::check_literal(&url).map_err(|e| e.to_string())?;
        }
        let data: serde_json::Value = serde_json::from_str(&notice.payload).map_err(|e| e.to_string())?;
        let timestamp = chrono::Utc::now();
        let body = serde_json::json!({
            "type": notice.kind,
            "timestamp": timestamp.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "data": data,
        })
        .to_string();
        let secret = notice.secret(&self.secrets).map_err(|e| e.to_string())?;
        let signature =
            signing::sign(&secret, &notice.id, timestamp.timestamp(), body.as_bytes()).map_err(|e| e.to_string())?;
        let response = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", notice.id.as_str())
            .header("webhook-timestamp", timestamp.timestamp().to_string())
            .header("webhook-signature", signature)
            .timeout(TIMEOUT)
            .body(body)
            .send()
            .await
            .map_err(|e| e.without_url().to_string())?;
        Ok(response.status().as_u16())
    }
}
