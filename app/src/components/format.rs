//! Formatting for people, identical on the server and in the browser (so
//! hydration sees the same text): times in UTC, durations, counts.

/// `2026-11-23 14:05:09 UTC` from unix milliseconds.
pub fn time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// `14:00` (UTC) from unix milliseconds: the chart's hour labels.
pub fn hour(ms: i64) -> String {
    let rem = ms.div_euclid(1000).rem_euclid(86_400);
    format!("{:02}:00", rem / 3600)
}

/// Days since 1970-01-01 to (year, month, day) — Howard Hinnant's algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let m = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_are_utc_calendar_dates() {
        assert_eq!(super::time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(super::time(1_709_210_096_000), "2024-02-29 12:34:56 UTC");
        assert_eq!(super::hour(1_709_210_096_000), "12:00");
    }
}
