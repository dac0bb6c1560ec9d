//! The retry schedule: entry n is the delay before attempt n, so its length
//! is the number of attempts. `--retry-schedule 0s,5s,5m,30m,2h,5h,10h,10h`.

use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetrySchedule(Vec<Duration>);

pub const DEFAULT: &str = "0s,5s,5m,30m,2h,5h,10h,10h";

/// The longest delay a retry schedule may hold before one attempt.
pub const MAX_DELAY: Duration = Duration::from_secs(365 * 86_400);
/// The most attempts a retry schedule may give a delivery.
pub const MAX_ATTEMPTS: usize = 100;
/// The bounds of `--delivery-timeout`.
const TIMEOUT_MIN: Duration = Duration::from_millis(1);
const TIMEOUT_MAX: Duration = Duration::from_secs(3600);

/// What is wrong with a `--retry-schedule`.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error("the retry schedule needs at least one entry")]
    Empty,
    #[error("the retry schedule has {0} entries; at most {MAX_ATTEMPTS} attempts are allowed")]
    TooMany(usize),
    #[error("`{0}`: a delay before an attempt may be at most 365 days")]
    TooLong(String),
    #[error("`{entry}`: {source} (expected a duration such as 250ms, 5s, 5m, 2h or 1d)")]
    Entry { entry: String, source: humantime::DurationError },
}

impl RetrySchedule {
    pub fn parse(spec: &str) -> Result<Self, ScheduleError> {
        let delays = spec
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|entry| match parse_duration(entry) {
                Ok(delay) if delay > MAX_DELAY => Err(ScheduleError::TooLong(entry.to_owned())),
                Ok(delay) => Ok(delay),
                Err(source) => Err(ScheduleError::Entry { entry: entry.to_owned(), source }),
            })
            .collect::<Result<Vec<_>, _>>()?;
        if delays.is_empty() {
            return Err(ScheduleError::Empty);
        }
        if delays.len() > MAX_ATTEMPTS {
            return Err(ScheduleError::TooMany(delays.len()));
        }
        Ok(Self(delays))
    }

    /// How many attempts a delivery gets.
    pub fn attempts(&self) -> usize {
        self.0.len()
    }

    /// The delay before attempt `n` (1-based), if the schedule has one.
    pub fn delay_before(&self, attempt: usize) -> Option<Duration> {
        attempt.checked_sub(1).and_then(|i| self.0.get(i)).copied()
    }
}

/// `250ms`, `5s`, `5m`, `2h`, `1d`, `1h 30m` (humantime's syntax).
pub fn parse_duration(s: &str) -> Result<Duration, humantime::DurationError> {
    humantime::parse_duration(s.trim())
}

/// What is wrong with a `--delivery-timeout`.
#[derive(Debug, thiserror::Error)]
pub enum TimeoutError {
    #[error("{0} (expected a duration such as 500ms, 15s or 1m)")]
    Unreadable(#[from] humantime::DurationError),
    #[error("must be from 1ms to 1h")]
    OutOfRange,
}

/// `--delivery-timeout`: a duration from 1 ms to 1 h.
pub fn parse_delivery_timeout(s: &str) -> Result<Duration, TimeoutError> {
    let timeout = parse_duration(s)?;
    if (TIMEOUT_MIN..=TIMEOUT_MAX).contains(&timeout) { Ok(timeout) } else { Err(TimeoutError::OutOfRange) }
}

/// `delay` scaled by a random factor in [0.8, 1.2].
pub fn jitter(delay: Duration) -> Duration {
    let r = app::security::random::bytes::<8>().map(u64::from_le_bytes).unwrap_or(0);
    let fraction = (r >> 11) as f64 / (1u64 << 53) as f64;
    delay.mul_f64(0.8 + 0.4 * fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_default_and_units() {
        let s = RetrySchedule::parse(DEFAULT).expect("parse");
        assert_eq!(s.attempts(), 8);
        assert_eq!(s.delay_before(1), Some(Duration::ZERO));
        assert_eq!(s.delay_before(3), Some(Duration::from_secs(300)));
        assert_eq!(s.delay_before(9), None);
        assert_eq!(parse_duration("250ms").ok(), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("5d").ok(), Some(Duration::from_secs(5 * 86_400)));
        assert_eq!(parse_duration("1h 30m").ok(), Some(Duration::from_secs(5400)));
        assert!(parse_duration("5 fortnights").is_err());
        assert!(parse_duration("soon").is_err());
        assert!(RetrySchedule::parse("5s,soon").is_err());
        assert!(RetrySchedule::parse("").is_err());
    }

    #[test]
    fn absurd_schedules_and_timeouts_are_refused() {
        assert!(
            matches!(RetrySchedule::parse("0s,580000000000y"), Err(ScheduleError::TooLong(e)) if e == "580000000000y")
        );
        assert!(RetrySchedule::parse("0s,365d").is_ok());
        let many = vec!["1s"; MAX_ATTEMPTS + 1].join(",");
        assert!(matches!(RetrySchedule::parse(&many), Err(ScheduleError::TooMany(101))));
        assert!(parse_delivery_timeout("15s").is_ok());
        assert!(matches!(parse_delivery_timeout("0s"), Err(TimeoutError::OutOfRange)));
        assert!(parse_delivery_timeout("18446744073709551615s").is_err());
        assert!(matches!(parse_delivery_timeout("2h"), Err(TimeoutError::OutOfRange)));
    }

    #[test]
    fn jitter_stays_within_twenty_percent() {
        for _ in 0..1000 {
            let d = jitter(Duration::from_secs(100)).as_secs_f64();
            assert!((80.0..=120.0).contains(&d), "{d}");
        }
    }
}
