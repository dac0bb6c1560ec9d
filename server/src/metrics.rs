//! Prometheus metrics (`GET /metrics`): counters and a latency histogram
//! updated by the API and the dispatcher; queue depth and the oldest pending
//! delivery's age read from the database at scrape time (so they are true
//! across processes and restarts).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    /// `succeeded`, `retrying` or `failed`.
    pub outcome: String,
}

#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    pub events_accepted: Counter,
    pub deliveries_queued: Counter,
    pub attempts: Family<OutcomeLabel, Counter>,
    pub attempt_seconds: Histogram,
    pub records_dropped: Counter,
    pub queue_depth: Gauge,
    pub oldest_pending_seconds: Gauge<f64, AtomicU64>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("hookrelay");
        let events_accepted = Counter::default();
        let deliveries_queued = Counter::default();
        let attempts = Family::<OutcomeLabel, Counter>::default();
        let attempt_seconds = Histogram::new(exponential_buckets(0.001, 2.0, 16));
        let records_dropped = Counter::default();
        let queue_depth = Gauge::default();
        let oldest_pending_seconds = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "events_accepted",
            "Events accepted by POST /api/v1/events and test sends",
            events_accepted.clone(),
        );
        registry.register("deliveries_queued", "Deliveries written to the outbox", deliveries_queued.clone());
        registry.register("delivery_attempts", "Delivery attempts by what followed them", attempts.clone());
        registry.register(
            "attempt_duration_seconds",
            "Time from sending a delivery to its answer",
            attempt_seconds.clone(),
        );
        registry.register(
            "records_dropped",
            "Attempt records not written: the lease was lost to another holder or the delivery was deleted with its hook",
            records_dropped.clone(),
        );
        registry.register("queue_depth", "Deliveries pending (due or scheduled for a retry)", queue_depth.clone());
        registry.register(
            "oldest_pending_age_seconds",
            "Age of the oldest pending delivery (0 when none)",
            oldest_pending_seconds.clone(),
        );
        Self {
            registry: Arc::new(registry),
            events_accepted,
            deliveries_queued,
            attempts,
            attempt_seconds,
            records_dropped,
            queue_depth,
            oldest_pending_seconds,
        }
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics(..)")
    }
}

impl Metrics {
    pub fn attempt(&self, outcome: &str, seconds: f64) {
        self.attempts.get_or_create(&OutcomeLabel { outcome: outcome.to_owned() }).inc();
        self.attempt_seconds.observe(seconds);
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
