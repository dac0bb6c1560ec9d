//! The limits that keep one client from costing everyone else: per API key
//! (REST), per client address for API keys that do not exist, per session
//! and per address for the dashboard's server functions, and for dashboard
//! logins per address, per email from one address, and per email from all
//! addresses (so guessing is slow, and locking someone out takes many
//! addresses). Every limiter is bounded in memory (`rate_limit.rs`).

use super::error::rpc_error_response;
use super::rate_limit::RateLimiter;
use app::server_fns::DashboardError;
use app::server_fns::context::{ClientAddress, session_token_in};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// The limits' settings (flags in `cli::LimitArgs`).
#[derive(Clone, Copy, Debug)]
pub struct LimitSettings {
    pub api_key_per_second: u32,
    pub api_key_burst: u32,
    pub unknown_keys_per_second: u32,
    pub dashboard_calls_per_second: u32,
    pub logins_per_minute: u32,
    pub logins_per_address_per_minute: u32,
}

#[derive(Clone)]
pub struct Limits {
    pub api_key: RateLimiter,
    pub unknown_key: RateLimiter,
    dashboard_session: RateLimiter,
    dashboard_address: RateLimiter,
    login_address: RateLimiter,
    login_email_address: RateLimiter,
    login_email: RateLimiter,
}

impl Limits {
    pub fn new(s: &LimitSettings) -> Self {
        let per_second =
            |rate: u32, burst_factor: u32| RateLimiter::per_second(rate, rate.saturating_mul(burst_factor));
        Self {
            api_key: RateLimiter::per_second(s.api_key_per_second, s.api_key_burst),
            unknown_key: per_second(s.unknown_keys_per_second, 4),
            dashboard_session: per_second(s.dashboard_calls_per_second, 4),
            // Several sessions (people, tabs) may share an address; made-up
            // session cookies do not lift the limit beyond this.
            dashboard_address: per_second(s.dashboard_calls_per_second.saturating_mul(5), 4),
            login_address: RateLimiter::per_minute(s.logins_per_address_per_minute, s.logins_per_address_per_minute),
            login_email_address: RateLimiter::per_minute(s.logins_per_minute, s.logins_per_minute),
            login_email: RateLimiter::per_minute(s.logins_per_address_per_minute, s.logins_per_address_per_minute),
        }
    }

    /// A dashboard login for `email` from `address`: `Err(seconds to wait)`.
    pub fn login(&self, email: &str, address: &str) -> Result<(), u64> {
        self.login_address.check(address)?;
        self.login_email_address.check(&format!("{email}\u{0}{address}"))?;
        self.login_email.check(email)
    }
}

/// Server-function calls (`/_rpc/…`) per session and per client address;
/// over either → 429 with `Retry-After`, in the error form the dashboard reads.
pub async fn limit_dashboard_calls(State(limits): State<Limits>, req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with("/_rpc/") {
        return next.run(req).await;
    }
    let address = req.extensions().get::<ClientAddress>().map_or("unknown", |c| c.0.as_str());
    let verdict = limits.dashboard_address.check(address).and_then(|()| match session_token_in(req.headers()) {
        Some(session) => limits.dashboard_session.check(&session),
        None => Ok(()),
    });
    match verdict {
        Ok(()) => next.run(req).await,
        Err(wait) => {
            tracing::warn!(path = %req.uri().path(), "dashboard calls throttled");
            too_many_calls(req.uri().path(), wait)
        }
    }
}

/// A 429 in the dashboard's error form, with `Retry-After`.
fn too_many_calls(path: &str, wait: u64) -> Response {
    let error = DashboardError::TooMany {
        message: format!("Too many requests. Try again in {wait} seconds."),
        retry_after_secs: wait,
    };
    let mut response = rpc_error_response(path, &error);
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(wait));
    response
}
