//! What follows an attempt, as a pure function of the answer, the attempt's
//! number and the retry schedule: succeeded, retry at a time, dead-lettered,
//! or dead-lettered and the hook disabled (410 Gone). Whether the record is
//! then written (the lease may have been lost) is the writer's business.

use super::schedule::RetrySchedule;
use super::sender::{Answer, SendError};
use app::storage::deliveries::Outcome;
use std::time::Duration;

/// The longest a `Retry-After` answer can push the next attempt back.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// The attempt's result as far as the decision goes: an HTTP answer, or
/// none (timeout, connection error, SSRF refusal, a request that could not
/// be prepared), which all follow the schedule.
pub enum Answered {
    Status { status: u16, retry_after: Option<Duration> },
    NoAnswer,
}

impl From<&Result<Answer, SendError>> for Answered {
    fn from(result: &Result<Answer, SendError>) -> Self {
        match result {
            Ok(answer) => Answered::Status { status: answer.status, retry_after: answer.retry_after },
            Err(_) => Answered::NoAnswer,
        }
    }
}

/// Decides what follows attempt number `attempt` (1-based) that ended at
/// `now_ms`. `jitter` spreads a scheduled delay (±20 % in production).
pub fn decide(
    answered: Answered,
    attempt: usize,
    schedule: &RetrySchedule,
    now_ms: i64,
    jitter: fn(Duration) -> Duration,
) -> Outcome {
    let retry = |asked: Option<Duration>| match schedule.delay_before(attempt + 1) {
        Some(delay) => {
            let delay = asked.map_or_else(|| jitter(delay), |asked| asked.min(MAX_RETRY_AFTER));
            Outcome::RetryAt(now_ms.saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX / 2)))
        }
        None => Outcome::Failed { disable_hook: None },
    };
    match answered {
        Answered::Status { status: 200..=299, .. } => Outcome::Succeeded,
        Answered::Status { status: 410, .. } => {
            Outcome::Failed { disable_hook: Some("the endpoint answered 410 Gone".into()) }
        }
        // 429 and 503 may say when to come back; any other answer follows the schedule.
        Answered::Status { status: 429 | 503, retry_after } => retry(retry_after),
        Answered::Status { .. } | Answered::NoAnswer => retry(None),
    }
}

/// The word for an outcome in logs and metrics.
pub fn label(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Succeeded => "succeeded",
        Outcome::RetryAt(_) => "retrying",
        Outcome::Failed { .. } => "failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::sender::Answer;
    use crate::delivery::ssrf::Blocked;

    const NOW: i64 = 1_000_000;

    fn schedule() -> RetrySchedule {
        RetrySchedule::parse("0s,5s,5m").expect("schedule")
    }

    fn status(status: u16, retry_after: Option<Duration>) -> Answered {
        Answered::Status { status, retry_after }
    }

    fn decide_plain(answered: Answered, attempt: usize) -> Outcome {
        decide(answered, attempt, &schedule(), NOW, |d| d)
    }

    #[test]
    fn any_2xx_succeeds() {
        for code in [200, 201, 202, 204, 299] {
            assert_eq!(decide_plain(status(code, None), 1), Outcome::Succeeded);
        }
    }

    #[test]
    fn a_3xx_is_not_followed_and_is_retried() {
        assert_eq!(decide_plain(status(301, None), 1), Outcome::RetryAt(NOW + 5_000));
        assert_eq!(decide_plain(status(308, None), 2), Outcome::RetryAt(NOW + 300_000));
    }

    #[test]
    fn gone_dead_letters_and_disables_the_hook() {
        let Outcome::Failed { disable_hook: Some(reason) } = decide_plain(status(410, None), 1) else {
            panic!("410 must disable the hook");
        };
        assert!(reason.contains("410"));
    }

    #[test]
    fn retry_after_is_honoured_capped_at_a_day() {
        let asked = Some(Duration::from_secs(120));
        assert_eq!(decide_plain(status(429, asked), 1), Outcome::RetryAt(NOW + 120_000));
        // An HTTP date arrives here as the delay until then (sender::parse_retry_after).
        assert_eq!(decide_plain(status(503, Some(Duration::from_secs(90))), 1), Outcome::RetryAt(NOW + 90_000));
        let huge = Some(Duration::from_secs(10 * 24 * 3600));
        assert_eq!(decide_plain(status(429, huge), 1), Outcome::RetryAt(NOW + 24 * 3600 * 1000));
        // Without Retry-After a 429 follows the schedule.
        assert_eq!(decide_plain(status(429, None), 1), Outcome::RetryAt(NOW + 5_000));
    }

    #[test]
    fn a_5xx_follows_the_schedule_with_jitter() {
        let outcome = decide(status(500, None), 1, &schedule(), NOW, |d| d * 2);
        assert_eq!(outcome, Outcome::RetryAt(NOW + 10_000));
    }

    #[test]
    fn timeouts_connection_errors_and_ssrf_refusals_are_retried() {
        let timeout = SendError::Http("timed out".into());
        assert_eq!(decide_plain(Answered::from(&Err::<Answer, _>(timeout)), 1), Outcome::RetryAt(NOW + 5_000));
        let refused = SendError::Http("error sending request: connection refused".into());
        assert_eq!(decide_plain(Answered::from(&Err::<Answer, _>(refused)), 2), Outcome::RetryAt(NOW + 300_000));
        let blocked = SendError::Blocked(Blocked);
        assert_eq!(decide_plain(Answered::from(&Err::<Answer, _>(blocked)), 1), Outcome::RetryAt(NOW + 5_000));
    }

    #[test]
    fn the_last_attempt_dead_letters_whatever_the_answer() {
        assert_eq!(decide_plain(status(500, None), 3), Outcome::Failed { disable_hook: None });
        assert_eq!(decide_plain(status(429, Some(Duration::from_secs(1))), 3), Outcome::Failed { disable_hook: None });
        let timeout = SendError::Http("timed out".into());
        assert_eq!(decide_plain(Answered::from(&Err::<Answer, _>(timeout)), 3), Outcome::Failed { disable_hook: None });
        assert_eq!(decide_plain(status(200, None), 3), Outcome::Succeeded);
    }
}
