//! Per-hook delivery options, the same for every vertical: `headers` (sent
//! with every delivery), `secretHeaders` (sent the same way, stored sealed
//! and read back masked like `pwdTxt`), `timeoutSeconds`, and the pace:
//! `rateLimit` (deliveries per second) and `maxInFlight` (attempts at
//! once), and `ordered` (one attempt at a time, in publish order). A header Hookrelay sets itself, or a hop-by-hop one, is refused
//! by name.

use super::MASK;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Headers per hook, plain and secret together.
pub const HEADERS_MAX: usize = 20;
pub const HEADER_NAME_MAX: usize = 64;
pub const HEADER_VALUE_MAX: usize = 1024;
/// `timeoutSeconds`: from 1 to 30 (null: the server's `--delivery-timeout`).
pub const TIMEOUT_SECONDS_MIN: u32 = 1;
pub const TIMEOUT_SECONDS_MAX: u32 = 30;
/// `rateLimit`: deliveries per second, 1 to 10,000 (null: no limit).
pub const RATE_LIMIT_MAX: u32 = 10_000;
/// `maxInFlight`: attempts at once, 1 to 1,000 (null: no limit of its own).
pub const MAX_IN_FLIGHT_MAX: u32 = 1_000;

/// Headers Hookrelay sets on every delivery, and the hop-by-hop ones that
/// belong to the connection, not to the request (lowercase).
const RESERVED: &[&str] = &[
    "authorization",
    "content-type",
    "content-length",
    "content-encoding",
    "accept-encoding",
    "host",
    "x-hook-token",
    "user-agent",
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "expect",
];
/// Every `webhook-*` header carries the Standard Webhooks signature.
const RESERVED_PREFIX: &str = "webhook-";

/// True for a header name a hook may not set.
pub fn is_reserved(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with(RESERVED_PREFIX) || RESERVED.contains(&lower.as_str())
}

/// A secret header's value in a request: a new one, or the mask, which
/// keeps the value stored under that name. `Debug` never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretValue {
    Keep,
    Set(String),
}

impl std::fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Keep => "Keep",
            Self::Set(_) => "Set(..)",
        })
    }
}

/// What to do with the stored secret headers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum SecretHeadersChange {
    /// Leave them as they are (a PATCH without `secretHeaders`).
    #[default]
    Keep,
    /// These and no others (empty: none).
    Replace(BTreeMap<String, SecretValue>),
}

/// A validated hook's delivery options.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeliverySpec {
    pub headers: BTreeMap<String, String>,
    pub secret_headers: SecretHeadersChange,
    pub timeout_seconds: Option<u32>,
    pub rate_limit: Option<u32>,
    pub max_in_flight: Option<u32>,
    /// One attempt at a time, in publish order.
    pub ordered: bool,
}

/// A stored hook's delivery options; the secret headers' values never leave
/// storage here, only their names.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredDelivery {
    pub headers: BTreeMap<String, String>,
    pub secret_header_names: Vec<String>,
    pub timeout_seconds: Option<u32>,
    pub rate_limit: Option<u32>,
    pub max_in_flight: Option<u32>,
    #[serde(default)]
    pub ordered: bool,
}

impl DeliverySpec {
    /// The names of the secret headers after this spec is applied to `before`.
    pub fn secret_names_after(&self, before: &StoredDelivery) -> Vec<String> {
        match &self.secret_headers {
            SecretHeadersChange::Keep => before.secret_header_names.clone(),
            SecretHeadersChange::Replace(map) => map.keys().cloned().collect(),
        }
    }

    /// The stored options this spec leaves behind.
    pub fn stored_after(&self, before: &StoredDelivery) -> StoredDelivery {
        StoredDelivery {
            headers: self.headers.clone(),
            secret_header_names: self.secret_names_after(before),
            timeout_seconds: self.timeout_seconds,
            rate_limit: self.rate_limit,
            max_in_flight: self.max_in_flight,
            ordered: self.ordered,
        }
    }
}

/// `headers` / `secretHeaders`: a JSON object of header name → string value.
/// Every problem is named in the message.
pub fn read_headers(value: &Value) -> Result<BTreeMap<String, String>, String> {
    let Value::Object(object) = value else {
        return Err("must be an object of header name → value".into());
    };
    let mut problems = Vec::new();
    let mut headers = BTreeMap::new();
    let mut seen: Vec<String> = Vec::new();
    for (name, value) in object {
        match check_header(name, value) {
            Ok(text) => {
                let lower = name.to_ascii_lowercase();
                if seen.contains(&lower) {
                    problems.push(format!("`{name}` is given twice (header names ignore case)"));
                } else {
                    seen.push(lower);
                    headers.insert(name.clone(), text);
                }
            }
            Err(problem) => problems.push(problem),
        }
    }
    if headers.len() > HEADERS_MAX {
        problems.push(format!("at most {HEADERS_MAX} headers"));
    }
    if problems.is_empty() { Ok(headers) } else { Err(problems.join("; ")) }
}

fn check_header(name: &str, value: &Value) -> Result<String, String> {
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if name.is_empty() || name.len() > HEADER_NAME_MAX || !name.chars().all(token) {
        return Err(format!(
            "`{}` is not a header name (1 to {HEADER_NAME_MAX} letters, digits or !#$%&'*+-.^_`|~)",
            name.escape_debug()
        ));
    }
    if is_reserved(name) {
        return Err(format!("`{name}` is set by Hookrelay and cannot be set per hook"));
    }
    let Value::String(text) = value else {
        return Err(format!("`{name}` must have a string value"));
    };
    let text = text.trim();
    let printable = |c: char| c == '\t' || (' '..='~').contains(&c);
    if text.is_empty() || text.len() > HEADER_VALUE_MAX || !text.chars().all(printable) {
        return Err(format!("`{name}` must have a value of 1 to {HEADER_VALUE_MAX} printable ASCII characters"));
    }
    Ok(text.to_owned())
}

/// `timeoutSeconds`: a whole number from 1 to 30.
pub fn read_timeout(value: &Value) -> Result<u32, String> {
    value
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| (TIMEOUT_SECONDS_MIN..=TIMEOUT_SECONDS_MAX).contains(n))
        .ok_or_else(|| format!("must be a whole number of seconds from {TIMEOUT_SECONDS_MIN} to {TIMEOUT_SECONDS_MAX}"))
}

/// A whole number from 1 to `max` (`rateLimit`, `maxInFlight`).
pub fn read_count(value: &Value, max: u32) -> Result<u32, String> {
    value
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| (1..=max).contains(n))
        .ok_or_else(|| format!("must be a whole number from 1 to {max}, or null for no limit"))
}

/// `secretHeaders` as sent, against the names stored: the mask keeps a
/// stored value, and only a stored one.
pub fn secret_change(
    sent: BTreeMap<String, String>,
    stored_names: &[String],
) -> Result<BTreeMap<String, SecretValue>, String> {
    let mut problems = Vec::new();
    let change = sent
        .into_iter()
        .map(|(name, value)| {
            if value != MASK {
                return (name, SecretValue::Set(value));
            }
            if !stored_names.iter().any(|s| s.eq_ignore_ascii_case(&name)) {
                problems.push(format!("`{name}` is the mask `{MASK}`, but no value is stored under that name"));
            }
            (name, SecretValue::Keep)
        })
        .collect();
    if problems.is_empty() { Ok(change) } else { Err(problems.join("; ")) }
}

/// A name in both `headers` and the secret headers, or too many in all.
pub fn check_together(headers: &BTreeMap<String, String>, secret_names: &[String]) -> Result<(), String> {
    if let Some(both) = headers.keys().find(|h| secret_names.iter().any(|s| s.eq_ignore_ascii_case(h))) {
        return Err(format!("`{both}` is in both headers and secretHeaders"));
    }
    if headers.len() + secret_names.len() > HEADERS_MAX {
        return Err(format!("at most {HEADERS_MAX} headers in headers and secretHeaders together"));
    }
    Ok(())
}

/// The JSON a stored hook shows: plain headers as they are, secret ones masked.
pub fn masked_secret_headers(names: &[String]) -> Map<String, Value> {
    names.iter().map(|n| (n.clone(), Value::String(MASK.to_owned()))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn headers_hookrelay_sets_are_refused_by_name() {
        for name in [
            "Authorization",
            "content-type",
            "Content-Length",
            "HOST",
            "x-hook-token",
            "webhook-id",
            "Webhook-Signature",
            "connection",
            "Transfer-Encoding",
            "user-agent",
        ] {
            let error = read_headers(&json!({ name: "x" })).expect_err(name);
            assert!(error.contains(name), "{error}");
        }
        let ok = read_headers(&json!({"X-Api-Key": " abc ", "X-Tenant": "t-1"})).expect("valid");
        assert_eq!(ok.get("X-Api-Key").map(String::as_str), Some("abc"));
    }

    #[test]
    fn bad_names_values_and_counts_are_each_named() {
        let error =
            read_headers(&json!({"Bad Name": "x", "X-Line": "a\r\nb", "X-Num": 5, "X-Empty": ""})).expect_err("x");
        for part in ["Bad Name", "X-Line", "X-Num", "X-Empty"] {
            assert!(error.contains(part), "{part} in {error}");
        }
        assert!(read_headers(&json!({"X-A": "1", "x-a": "2"})).expect_err("twice").contains("twice"));
        let many: Map<String, Value> = (0..21).map(|i| (format!("X-{i}"), json!("v"))).collect();
        assert!(read_headers(&Value::Object(many)).is_err());
        assert!(read_headers(&json!(["X-A"])).is_err());
    }

    #[test]
    fn timeouts_are_whole_seconds_from_1_to_30() {
        assert_eq!(read_timeout(&json!(1)), Ok(1));
        assert_eq!(read_timeout(&json!(30)), Ok(30));
        assert_eq!(read_count(&json!(20), RATE_LIMIT_MAX), Ok(20));
        assert!(read_count(&json!(0), RATE_LIMIT_MAX).is_err());
        assert!(read_count(&json!(1001), MAX_IN_FLIGHT_MAX).is_err());
        for bad in [json!(0), json!(31), json!(2.5), json!("10"), json!(-1)] {
            assert!(read_timeout(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_mask_keeps_only_a_stored_secret_header() {
        let stored = vec!["X-Secret".to_owned()];
        let sent = BTreeMap::from([("x-secret".to_owned(), MASK.to_owned()), ("X-New".to_owned(), "v".to_owned())]);
        let change = secret_change(sent, &stored).expect("valid");
        assert_eq!(change.get("x-secret"), Some(&SecretValue::Keep));
        assert_eq!(change.get("X-New"), Some(&SecretValue::Set("v".into())));
        let unknown = BTreeMap::from([("X-Other".to_owned(), MASK.to_owned())]);
        assert!(secret_change(unknown, &stored).is_err());
        let plain = BTreeMap::from([("x-SECRET".to_owned(), "v".to_owned())]);
        assert!(check_together(&plain, &stored).is_err());
    }
}
