//! Per-API-key rate limiting (GCRA via `governor`): a steady rate per
//! second plus a burst. Over the limit → 429 with `Retry-After`.

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::num::NonZeroU32;
use std::sync::Arc;

#[derive(Clone)]
pub struct RateLimiter {
    inner: Option<Arc<DefaultKeyedRateLimiter<String>>>,
}

impl RateLimiter {
    /// `per_second == 0` turns limiting off.
    pub fn new(per_second: u32, burst: u32) -> Self {
        let inner = NonZeroU32::new(per_second).map(|rate| {
            let burst = NonZeroU32::new(burst.max(per_second)).unwrap_or(rate);
            Arc::new(governor::RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)))
        });
        Self { inner }
    }

    /// `per_minute` steady, up to `burst` at once (dashboard logins per email).
    pub fn per_minute(per_minute: NonZeroU32, burst: NonZeroU32) -> Self {
        Self { inner: Some(Arc::new(governor::RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst)))) }
    }

    /// `Err(seconds to wait)` when `key` is over its limit.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        let Some(limiter) = &self.inner else {
            return Ok(());
        };
        match limiter.check_key(&key.to_owned()) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                Err(seconds.max(1))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_allowed_then_limited_per_key() {
        let limiter = RateLimiter::new(1, 3);
        for _ in 0..3 {
            assert!(limiter.check("a").is_ok());
        }
        assert_eq!(limiter.check("a"), Err(1));
        assert!(limiter.check("b").is_ok(), "keys are limited separately");
        let off = RateLimiter::new(0, 0);
        assert!((0..1000).all(|_| off.check("a").is_ok()));
    }
}
