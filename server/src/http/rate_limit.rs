//! Keyed rate limiting (GCRA via `governor`): a steady rate plus a burst per
//! key (an API key, a client address, an email). Over the limit → the
//! seconds to wait, which handlers answer as 429 with `Retry-After`.
//!
//! Memory is bounded: keys whose bucket has refilled are pruned every
//! [`PRUNE_EVERY`], and once the table holds `max_keys` keys that are all
//! still in use, every key not yet admitted shares one overflow bucket (a
//! flood of made-up keys — emails, say — can slow the newcomers down, never
//! grow the table or lift the limit).

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota};
use sha2::{Digest, Sha256};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Keys one limiter keeps at most (about 100 bytes each).
pub const MAX_KEYS: usize = 10_000;
/// How often refilled keys are dropped from the table.
const PRUNE_EVERY: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct RateLimiter {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    /// Keyed by a 16-byte digest of the key: an entry costs the same however
    /// long the email or cookie a client sends.
    keyed: DefaultKeyedRateLimiter<[u8; 16]>,
    overflow: DefaultDirectRateLimiter,
    max_keys: usize,
    started: Instant,
    /// Milliseconds after `started` of the last prune.
    last_pruned_ms: AtomicU64,
}

impl RateLimiter {
    /// `per_second == 0` turns limiting off.
    pub fn per_second(per_second: u32, burst: u32) -> Self {
        let quota = NonZeroU32::new(per_second).map(|rate| {
            let burst = NonZeroU32::new(burst.max(per_second)).unwrap_or(rate);
            Quota::per_second(rate).allow_burst(burst)
        });
        Self::with_quota(quota, MAX_KEYS)
    }

    /// `per_minute` steady, up to `burst` at once; `per_minute == 0` is off.
    pub fn per_minute(per_minute: u32, burst: u32) -> Self {
        let quota = NonZeroU32::new(per_minute).map(|rate| {
            let burst = NonZeroU32::new(burst.max(per_minute)).unwrap_or(rate);
            Quota::per_minute(rate).allow_burst(burst)
        });
        Self::with_quota(quota, MAX_KEYS)
    }

    fn with_quota(quota: Option<Quota>, max_keys: usize) -> Self {
        let inner = quota.map(|quota| {
            Arc::new(Inner {
                keyed: governor::RateLimiter::keyed(quota),
                overflow: governor::RateLimiter::direct(quota),
                max_keys,
                started: Instant::now(),
                last_pruned_ms: AtomicU64::new(0),
            })
        });
        Self { inner }
    }

    #[cfg(test)]
    fn with_max_keys(mut self, max_keys: usize) -> Self {
        if let Some(inner) = self.inner.take() {
            let inner = Arc::into_inner(inner).expect("not shared yet");
            self.inner = Some(Arc::new(Inner { max_keys, ..inner }));
        }
        self
    }

    /// `Err(seconds to wait)` when `key` is over its limit.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        let Some(inner) = &self.inner else {
            return Ok(());
        };
        inner.prune_if_due(false);
        if inner.keyed.len() >= inner.max_keys {
            inner.prune_if_due(true);
        }
        let verdict = if inner.keyed.len() >= inner.max_keys {
            inner.overflow.check()
        } else {
            inner.keyed.check_key(&digest(key))
        };
        verdict.map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            seconds.max(1)
        })
    }

    /// Keys held now (for tests of the memory bound).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.inner.as_ref().map_or(0, |inner| inner.keyed.len())
    }
}

fn digest(key: &str) -> [u8; 16] {
    let full = Sha256::digest(key.as_bytes());
    let mut short = [0u8; 16];
    short.copy_from_slice(&full[..16]);
    short
}

impl Inner {
    /// Drops refilled keys, at most once per [`PRUNE_EVERY`] (once a second
    /// when the table is full). One caller prunes; the others go on.
    fn prune_if_due(&self, full: bool) {
        let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let last = self.last_pruned_ms.load(Ordering::Relaxed);
        let every = if full { 1_000 } else { u64::try_from(PRUNE_EVERY.as_millis()).unwrap_or(u64::MAX) };
        if now.saturating_sub(last) < every {
            return;
        }
        if self.last_pruned_ms.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok() {
            self.keyed.retain_recent();
            self.keyed.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_allowed_then_limited_per_key() {
        let limiter = RateLimiter::per_second(1, 3);
        for _ in 0..3 {
            assert!(limiter.check("a").is_ok());
        }
        assert_eq!(limiter.check("a"), Err(1));
        assert!(limiter.check("b").is_ok(), "keys are limited separately");
        let off = RateLimiter::per_second(0, 0);
        assert!((0..1000).all(|_| off.check("a").is_ok()));
    }

    #[test]
    fn a_flood_of_distinct_keys_keeps_the_table_bounded_and_the_limit_on() {
        let limiter = RateLimiter::per_minute(5, 5);
        let mut refused = 0;
        for i in 0..100_000 {
            if limiter.check(&format!("user{i}@example.com")).is_err() {
                refused += 1;
            }
        }
        assert!(limiter.len() <= MAX_KEYS, "the table grew to {}", limiter.len());
        // Past the bound, newcomers share one bucket of 5 a minute.
        assert!(refused >= 100_000 - MAX_KEYS - 5, "only {refused} refused");
    }

    #[test]
    fn refilled_keys_are_pruned_so_new_ones_get_their_own_bucket() {
        // 1000/s: a key's bucket refills within a few milliseconds.
        let limiter = RateLimiter::per_second(1_000, 1).with_max_keys(10);
        for i in 0..10 {
            assert!(limiter.check(&format!("k{i}")).is_ok());
        }
        assert_eq!(limiter.len(), 10);
        let deadline = Instant::now() + Duration::from_secs(10);
        // Once the table is full and a second has gone by, a new key prunes the refilled ones.
        while limiter.len() >= 10 {
            assert!(Instant::now() < deadline, "never pruned");
            let _ = limiter.check("newcomer");
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(limiter.check("another").is_ok());
    }
}
