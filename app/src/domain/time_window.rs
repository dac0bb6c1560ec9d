//! Times in requests: an RFC 3339 instant (`since`, `until`) as unix
//! milliseconds, and the window of failed deliveries a recovery re-queues
//! (`POST /api/v1/hook/{id}/recover` and the dashboard's "Retry all failed
//! since…" share these rules).

use super::{FieldError, Unknown, unknown_names};
use serde_json::Value;

/// How far back a recovery may reach: 14 days.
pub const RECOVER_MAX_AGE_MS: i64 = 14 * 24 * 60 * 60 * 1000;

/// Leeway for the client's clock and the request's time in flight, so that
/// "exactly 14 days ago" or "now" as a client computed it still passes.
const CLOCK_LEEWAY_MS: i64 = 5 * 60 * 1000;

const RECOVER_FIELDS: &[&str] = &["since", "until"];

/// An RFC 3339 time (`2026-12-01T10:00:00Z`, any offset, optional
/// fractions) or, as a browser's date-time input sends it, a time without
/// an offset (`2026-12-01T10:00`, read as UTC) → unix milliseconds.
pub fn parse_instant(field: &str, text: &str) -> Result<i64, FieldError> {
    let text = text.trim();
    let with_offset = chrono::DateTime::parse_from_rfc3339(text).map(|t| t.timestamp_millis());
    with_offset
        .or_else(|_| {
            chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
                .or_else(|_| chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M"))
                .map(|t| t.and_utc().timestamp_millis())
        })
        .map_err(|_| FieldError::new(field, "must be an RFC 3339 time such as 2026-12-01T10:00:00Z"))
}

/// The failed deliveries a recovery re-queues: those created in
/// `[since_ms, until_ms)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecoverWindow {
    pub since_ms: i64,
    pub until_ms: i64,
}

impl RecoverWindow {
    /// The window from its texts (`until` absent = now), or every problem:
    /// `since` at most 14 days back and not in the future, `until` after `since`.
    pub fn from_texts(since: &str, until: Option<&str>, now_ms: i64) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let since_ms = parse_instant("since", since).map_err(|e| errors.push(e)).ok();
        let until_ms = match until {
            // Now; a `since` a little ahead of this clock is an empty window, not an error.
            None => Some(since_ms.map_or(now_ms, |since| now_ms.max(since + 1))),
            Some(text) => parse_instant("until", text).map_err(|e| errors.push(e)).ok(),
        };
        if let Some(since) = since_ms {
            if since < now_ms - RECOVER_MAX_AGE_MS - CLOCK_LEEWAY_MS {
                errors.push(FieldError::new("since", "must be within the last 14 days"));
            } else if since > now_ms + CLOCK_LEEWAY_MS {
                errors.push(FieldError::new("since", "must not be in the future"));
            }
        }
        if let (Some(since), Some(until)) = (since_ms, until_ms)
            && until <= since
        {
            errors.push(FieldError::new("until", "must be later than `since`"));
        }
        match (since_ms, until_ms) {
            (Some(since_ms), Some(until_ms)) if errors.is_empty() => Ok(Self { since_ms, until_ms }),
            _ => Err(errors),
        }
    }

    /// `{"since": "<RFC 3339>", "until": "<RFC 3339>"?}`, every problem listed.
    pub fn from_json(body: &Value, now_ms: i64) -> Result<Self, Vec<FieldError>> {
        let Some(object) = body.as_object() else {
            return Err(vec![FieldError::new("body", "must be a JSON object with `since` (and `until`)")]);
        };
        let mut errors: Vec<FieldError> =
            unknown_names(object.keys().map(String::as_str), RECOVER_FIELDS, Unknown::Field);
        let text = |name: &str, errors: &mut Vec<FieldError>| match object.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                errors.push(FieldError::new(name, "must be a string (an RFC 3339 time)"));
                None
            }
        };
        let since = text("since", &mut errors);
        let until = text("until", &mut errors);
        if since.is_none() && !errors.iter().any(|e| e.field == "since") {
            errors.push(FieldError::new("since", "is required (an RFC 3339 time at most 14 days back)"));
        }
        let window = since.map(|since| Self::from_texts(&since, until.as_deref(), now_ms));
        match window {
            Some(Ok(window)) if errors.is_empty() => Ok(window),
            Some(Err(more)) => {
                errors.extend(more);
                Err(errors)
            }
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_796_000_000_000;
    const DAY: i64 = 24 * 60 * 60 * 1000;

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn instants_in_every_accepted_spelling() {
        assert_eq!(parse_instant("since", "1970-01-01T00:00:01Z"), Ok(1000));
        assert_eq!(parse_instant("since", "1970-01-01T01:00:01.5+01:00"), Ok(1500));
        assert_eq!(parse_instant("since", "1970-01-01T00:01"), Ok(60_000), "a browser's date-time input, as UTC");
        assert_eq!(parse_instant("since", " 1970-01-01T00:00:02 "), Ok(2000));
        for bad in ["", "yesterday", "2026-13-01T00:00:00Z", "1700000000", "2026-12-01"] {
            assert!(parse_instant("since", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_window_reaches_back_at_most_14_days_and_ends_after_it_starts() {
        let iso = |ms: i64| {
            chrono::DateTime::from_timestamp_millis(ms)
                .expect("in range")
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        };
        let ok = RecoverWindow::from_texts(&iso(NOW - 14 * DAY), None, NOW).expect("exactly 14 days");
        assert_eq!(ok, RecoverWindow { since_ms: NOW - 14 * DAY, until_ms: NOW });
        let ok = RecoverWindow::from_texts(&iso(NOW - DAY), Some(&iso(NOW - 1000)), NOW).expect("a day");
        assert_eq!(ok.until_ms, NOW - 1000);
        let old = RecoverWindow::from_texts(&iso(NOW - 15 * DAY), None, NOW).expect_err("too old");
        assert_eq!(fields(&old), ["since"]);
        let future = RecoverWindow::from_texts(&iso(NOW + DAY), None, NOW).expect_err("future");
        assert_eq!(fields(&future), ["since"]);
        let ahead = RecoverWindow::from_texts(&iso(NOW + 1000), None, NOW).expect("a clock a second ahead");
        assert_eq!(ahead.until_ms, NOW + 1001);
        let reversed = RecoverWindow::from_texts(&iso(NOW - DAY), Some(&iso(NOW - 2 * DAY)), NOW).expect_err("x");
        assert_eq!(fields(&reversed), ["until"]);
    }

    #[test]
    fn json_bodies_list_every_problem() {
        let ok = RecoverWindow::from_json(&json!({"since": "2026-11-27T00:00:00Z"}), NOW).expect("valid");
        assert_eq!(ok.until_ms, NOW);
        let errors = RecoverWindow::from_json(&json!({"sinse": "x", "until": 5}), NOW).expect_err("bad");
        assert_eq!(fields(&errors), ["sinse", "until", "since"]);
        assert!(errors[0].message.contains("did you mean `since`"));
        let errors = RecoverWindow::from_json(&json!({"since": "soon", "until": "later"}), NOW).expect_err("bad");
        assert_eq!(fields(&errors), ["since", "until"]);
        assert!(RecoverWindow::from_json(&json!([1]), NOW).is_err());
        assert!(RecoverWindow::from_json(&json!({"since": null}), NOW).is_err());
    }
}
