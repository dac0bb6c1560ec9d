//! A real HTTP receiver on a loopback port that records every request and
//! answers with scripted statuses.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
    /// When the request arrived (before the scripted delay).
    pub at: tokio::time::Instant,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
    pub fn header(&self, name: &str) -> String {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
    }
}

#[derive(Default)]
struct Inner {
    received: Vec<Received>,
    script: VecDeque<u16>,
    default_status: u16,
    delay: Duration,
    /// Requests being answered now, and the most there ever were at once.
    open: usize,
    most_open: usize,
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
    /// While true, requests are recorded but not answered.
    holding: Arc<tokio::sync::watch::Sender<bool>>,
}

#[derive(Clone)]
struct Shared {
    inner: Arc<Mutex<Inner>>,
    holding: Arc<tokio::sync::watch::Sender<bool>>,
}

impl Receiver {
    /// Answers 200 unless scripted otherwise.
    pub async fn start() -> Receiver {
        let inner = Arc::new(Mutex::new(Inner { default_status: 200, ..Inner::default() }));
        let holding = Arc::new(tokio::sync::watch::Sender::new(false));
        let app = Router::new().fallback(record).with_state(Shared { inner: inner.clone(), holding: holding.clone() });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind receiver");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { url: format!("http://{addr}/hook"), inner, holding }
    }

    /// Holds every request (recorded on arrival, not answered) until `release`:
    /// attempts stay in flight for as long as a test needs.
    pub fn hold(&self) {
        self.holding.send_replace(true);
    }

    pub fn release(&self) {
        self.holding.send_replace(false);
    }

    /// The next answers, in order; then `default_status`.
    pub fn script(&self, statuses: &[u16]) {
        self.inner.lock().expect("lock").script.extend(statuses);
    }

    pub fn set_default(&self, status: u16) {
        self.inner.lock().expect("lock").default_status = status;
    }

    /// Answer only after `delay` (a slow endpoint).
    pub fn set_delay(&self, delay: Duration) {
        self.inner.lock().expect("lock").delay = delay;
    }

    /// The most requests that were open (arrived, not yet answered) at once.
    pub fn most_at_once(&self) -> usize {
        self.inner.lock().expect("lock").most_open
    }

    /// Distinct event ids received, and how many requests carried each.
    pub fn by_event(&self) -> std::collections::HashMap<String, usize> {
        let mut counts = std::collections::HashMap::new();
        for r in self.received() {
            *counts.entry(r.header("webhook-id")).or_insert(0) += 1;
        }
        counts
    }

    /// Requests that arrived after `instant`.
    pub fn arrived_after(&self, instant: tokio::time::Instant) -> usize {
        self.received().iter().filter(|r| r.at > instant).count()
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().expect("lock").received.clone()
    }

    /// Waits until at least `n` requests arrived (or panics after `within`).
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            assert!(tokio::time::Instant::now() < deadline, "expected {n} requests, got {}", got.len());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn record(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let (status, delay) = {
        let mut inner = shared.inner.lock().expect("lock");
        inner.received.push(Received { headers, body, at: tokio::time::Instant::now() });
        inner.open += 1;
        inner.most_open = inner.most_open.max(inner.open);
        (inner.script.pop_front().unwrap_or(inner.default_status), inner.delay)
    };
    // Closed when answered, or when the sender goes away (a killed process).
    let _open = OpenRequest(shared.inner.clone());
    tokio::time::sleep(delay).await;
    let mut holding = shared.holding.subscribe();
    let _ = holding.wait_for(|held| !*held).await;
    StatusCode::from_u16(status).unwrap_or(StatusCode::OK)
}

/// One request being answered: counted in `open` until dropped.
struct OpenRequest(Arc<Mutex<Inner>>);

impl Drop for OpenRequest {
    fn drop(&mut self) {
        if let Ok(mut inner) = self.0.lock() {
            inner.open -= 1;
        }
    }
}
