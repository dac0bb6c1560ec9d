//! Each hook's own pace (`rateLimit`, `maxInFlight`): may it start another
//! attempt now, and when only its rate holds it back, from when on. The
//! dispatcher sleeps until that moment instead of polling, and a paced
//! hook's queue waits without taking anyone else's slots or workers.
//!
//! The rate is a schedule with no burst: attempt *n* may start one interval
//! after attempt *n − 1* was due, so a dispatcher that wakes a little late
//! keeps to the schedule and the average holds; after an idle spell the
//! schedule starts again from the next attempt.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// What a hook may do now.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Go,
    /// Its rate allows the next attempt at this instant.
    WaitUntil(Instant),
    /// `maxInFlight` attempts are running: the next waits for one to end.
    Full,
}

#[derive(Debug, Default)]
struct HookPace {
    /// When the next attempt is due on the hook's rate schedule.
    due: Option<Instant>,
    in_flight: u32,
}

/// The pace of every hook with attempts running or a rate schedule going.
#[derive(Debug, Default)]
pub struct Pacer {
    hooks: HashMap<String, HookPace>,
}

const TICK: Duration = Duration::from_millis(1);

fn interval(rate: u32) -> Duration {
    Duration::from_secs(1) / rate.max(1)
}

impl Pacer {
    pub fn check(&self, hook: &str, rate: Option<u32>, max_in_flight: Option<u32>, now: Instant) -> Verdict {
        let Some(pace) = self.hooks.get(hook) else { return Verdict::Go };
        if max_in_flight.is_some_and(|max| pace.in_flight >= max) {
            return Verdict::Full;
        }
        // Timers tick in milliseconds: what is due within the next one goes
        // now, so rates above 1,000/s are reached too.
        match (rate, pace.due) {
            (Some(_), Some(due)) if due > now + TICK => Verdict::WaitUntil(due),
            _ => Verdict::Go,
        }
    }

    /// An attempt of `hook` started at `now`. Hooks without limits of their
    /// own are not tracked at all.
    pub fn started(&mut self, hook: &str, rate: Option<u32>, max_in_flight: Option<u32>, now: Instant) {
        if rate.is_none() && max_in_flight.is_none() {
            return;
        }
        let pace = self.hooks.entry(hook.to_owned()).or_default();
        pace.in_flight += 1;
        pace.due = rate.map(|rate| {
            let step = interval(rate);
            // Less than an interval behind the schedule (woken late): keep to it.
            // Further behind (the hook was idle): start a new one from now, no burst.
            let from = match pace.due {
                Some(due) if due + step > now => due,
                _ => now,
            };
            from + step
        });
    }

    /// Forgets hooks with nothing running whose schedule is behind them
    /// (idle, edited or deleted hooks).
    pub fn prune(&mut self, now: Instant) {
        self.hooks.retain(|_, pace| pace.in_flight > 0 || pace.due.is_some_and(|due| due > now));
    }

    /// An attempt of `hook` ended.
    pub fn finished(&mut self, hook: &str, now: Instant) {
        if let Some(pace) = self.hooks.get_mut(hook) {
            pace.in_flight = pace.in_flight.saturating_sub(1);
            if pace.in_flight == 0 && pace.due.is_none_or(|due| due <= now) {
                self.hooks.remove(hook);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_spaces_attempts_by_its_interval_and_catches_up_one_step_at_most() {
        let mut pacer = Pacer::default();
        let t0 = Instant::now();
        assert_eq!(pacer.check("h", Some(20), None, t0), Verdict::Go);
        pacer.started("h", Some(20), None, t0);
        assert_eq!(pacer.check("h", Some(20), None, t0), Verdict::WaitUntil(t0 + Duration::from_millis(50)));
        // Woken 10 ms late: the next one is still due on the original schedule.
        let late = t0 + Duration::from_millis(60);
        assert_eq!(pacer.check("h", Some(20), None, late), Verdict::Go);
        pacer.started("h", Some(20), None, late);
        assert_eq!(pacer.check("h", Some(20), None, late), Verdict::WaitUntil(t0 + Duration::from_millis(100)));
        // After a long idle, one attempt goes, not a burst.
        let idle = t0 + Duration::from_secs(10);
        pacer.started("h", Some(20), None, idle);
        assert!(matches!(pacer.check("h", Some(20), None, idle), Verdict::WaitUntil(_)));
        // A fast rate: what is due within the next millisecond goes at once.
        let mut fast = Pacer::default();
        fast.started("f", Some(5_000), None, t0);
        assert_eq!(fast.check("f", Some(5_000), None, t0), Verdict::Go);
        // Another hook is not held back.
        assert_eq!(pacer.check("other", Some(20), None, idle), Verdict::Go);
    }

    #[test]
    fn max_in_flight_holds_the_next_until_one_ends() {
        let mut pacer = Pacer::default();
        let now = Instant::now();
        pacer.started("h", None, Some(2), now);
        pacer.started("h", None, Some(2), now);
        assert_eq!(pacer.check("h", None, Some(2), now), Verdict::Full);
        assert_eq!(pacer.check("h", None, Some(3), now), Verdict::Go);
        pacer.finished("h", now);
        assert_eq!(pacer.check("h", None, Some(2), now), Verdict::Go);
        pacer.finished("h", now);
        assert!(pacer.hooks.is_empty(), "nothing kept for an idle hook");
        pacer.started("free", None, None, now);
        assert!(pacer.hooks.is_empty(), "hooks without limits are not tracked");
    }
}
