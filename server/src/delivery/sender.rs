//! One delivery attempt: build the signed, authenticated request, send it,
//! and read the first 4 KiB of the answer.

use super::ssrf;
use app::security::{SecretBox, signing};
use app::storage::deliveries::ClaimedDelivery;
use app::storage::target::{HookTarget, SealedSecret, TargetAuth};
use base64::Engine;
use std::time::{Duration, SystemTime};

pub const RESPONSE_SNIPPET: usize = 4096;

/// What the endpoint answered.
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<Duration>,
    pub body: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("{0}")]
    Blocked(#[from] ssrf::Blocked),
    #[error("bad endpoint URL: {0}")]
    BadUrl(#[from] url::ParseError),
    /// A sealed secret would not open, or a signature could not be made.
    #[error("cannot prepare the request: {0}")]
    Prepare(#[from] app::security::SecurityError),
    /// The hook's sealed secret headers opened, but are not a JSON object.
    #[error("cannot prepare the request: the stored secret headers are unreadable")]
    SecretHeaders,
    #[error("{0}")]
    Http(String),
}

pub async fn send(
    client: &reqwest::Client,
    secrets: &SecretBox,
    guard: bool,
    delivery: &ClaimedDelivery,
    target: &HookTarget,
) -> Result<Answer, SendError> {
    let url = reqwest::Url::parse(&target.endpoint)?;
    if guard {
        ssrf::check_literal(&url)?;
    }
    let sealed = Opener(secrets);
    let timestamp = chrono::Utc::now().timestamp();
    let request = client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", delivery.event_id.as_str())
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signatures(&sealed, target, delivery, timestamp)?)
        .body(delivery.payload.to_string());
    let request = authorize(request, &sealed, target, delivery, timestamp)?;
    let request = custom_headers(request, &sealed, target)?;
    let request = match target.timeout {
        Some(timeout) => request.timeout(timeout),
        None => request,
    };
    let response = request.send().await.map_err(|e| SendError::Http(describe(&e.without_url())))?;
    Ok(read_answer(response).await)
}

/// Opens a hook's sealed fields (each bound to the hook and the field).
/// Opens a target's sealed secrets with the at-rest key.
struct Opener<'a>(&'a SecretBox);

impl Opener<'_> {
    fn open(&self, secret: &SealedSecret) -> Result<String, SendError> {
        Ok(secret.open(self.0)?)
    }

    fn open_or_empty(&self, secret: &Option<SealedSecret>) -> Result<String, SendError> {
        secret.as_ref().map_or(Ok(String::new()), |s| self.open(s))
    }
}

/// Standard Webhooks signature(s): during a rotation both keys sign.
fn signatures(
    sealed: &Opener<'_>,
    target: &HookTarget,
    delivery: &ClaimedDelivery,
    timestamp: i64,
) -> Result<String, SendError> {
    let body = delivery.payload.as_bytes();
    let mut signatures = Vec::new();
    if let Some(secret) = &target.signing_secret {
        signatures.push(sign(&sealed.open(secret)?, delivery.event_id.as_str(), timestamp, body)?);
    }
    if let Some((previous, until)) = &target.previous_signing_secret
        && *until > app::storage::now_ms()
    {
        signatures.push(sign(&sealed.open(previous)?, delivery.event_id.as_str(), timestamp, body)?);
    }
    Ok(signatures.join(" "))
}

/// The hook's own auth (`Authorization` by auth type) and `x-hook-token`.
fn authorize(
    mut request: reqwest::RequestBuilder,
    sealed: &Opener<'_>,
    target: &HookTarget,
    delivery: &ClaimedDelivery,
    timestamp: i64,
) -> Result<reqwest::RequestBuilder, SendError> {
    match &target.auth {
        TargetAuth::None => {}
        TargetAuth::Basic { username, password } => {
            let password = sealed.open_or_empty(password)?;
            let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
            request = request.header("authorization", format!("Basic {encoded}"));
        }
        TargetAuth::OAuth2 { token } => {
            if let Some(token) = token {
                request = request.header("authorization", format!("Bearer {}", sealed.open(token)?));
            }
        }
        TargetAuth::Jwt { subject, secret } => {
            let secret = sealed.open_or_empty(secret)?;
            let jwt = signing::jwt_hs256(&secret, subject, delivery.id.as_str(), timestamp)?;
            request = request.header("authorization", format!("Bearer {jwt}"));
        }
    }
    if let Some(token) = &target.hook_token {
        request = request.header("x-hook-token", sealed.open(token)?);
    }
    Ok(request)
}

/// The hook's own headers, plain then secret (their names were checked
/// against the ones Hookrelay sets when the hook was saved).
fn custom_headers(
    mut request: reqwest::RequestBuilder,
    sealed: &Opener<'_>,
    target: &HookTarget,
) -> Result<reqwest::RequestBuilder, SendError> {
    for (name, value) in &target.headers {
        request = request.header(name.as_str(), value.as_str());
    }
    if let Some(secret) = &target.secret_headers {
        let headers: std::collections::BTreeMap<String, String> =
            serde_json::from_str(&sealed.open(secret)?).map_err(|_| SendError::SecretHeaders)?;
        for (name, value) in headers {
            request = request.header(name, value);
        }
    }
    Ok(request)
}

/// The status, `Retry-After` and the first `RESPONSE_SNIPPET` bytes of the body.
async fn read_answer(mut response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, SystemTime::now()));
    let mut snippet = Vec::new();
    while snippet.len() < RESPONSE_SNIPPET {
        match response.chunk().await {
            Ok(Some(chunk)) => snippet.extend_from_slice(&chunk[..chunk.len().min(RESPONSE_SNIPPET - snippet.len())]),
            _ => break,
        }
    }
    Answer { status, retry_after, body: String::from_utf8_lossy(&snippet).into_owned() }
}

/// `Retry-After` is either delay-seconds or an HTTP date (RFC 9110 §10.2.3).
fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String, SendError> {
    Ok(signing::sign(secret, id, timestamp, body)?)
}

/// The error and its causes in one line (the SSRF refusal is a cause deep inside).
fn describe(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() { "timed out".to_owned() } else { e.to_string() };
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::parse_retry_after;
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    #[test]
    fn retry_after_takes_seconds_and_http_dates() {
        let now = UNIX_EPOCH + Duration::from_secs(1_445_412_480); // Wed, 21 Oct 2015 07:28:00 GMT
        assert_eq!(parse_retry_after(" 120 ", now), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:29:30 GMT", now), Some(Duration::from_secs(90)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert!(parse_retry_after("-5", SystemTime::now()).is_none());
    }
}
