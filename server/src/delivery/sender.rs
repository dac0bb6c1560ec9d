//! One delivery attempt: build the signed, authenticated request, send it,
//! and read the first 4 KiB of the answer.

use super::ssrf;
use app::domain::AuthType;
use app::domain::ResourceId;
use app::security::{SecretBox, signing};
use app::storage::deliveries::ClaimedDelivery;
use app::storage::hooks::context;
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
    #[error("cannot prepare the request: {0}")]
    Prepare(String),
    #[error("{0}")]
    Http(String),
}

pub async fn send(
    client: &reqwest::Client,
    secrets: &SecretBox,
    guard: bool,
    delivery: &ClaimedDelivery,
) -> Result<Answer, SendError> {
    let url = reqwest::Url::parse(&delivery.hook.endpoint)
        .map_err(|e| SendError::Prepare(format!("bad endpoint URL: {e}")))?;
    if guard {
        ssrf::check_literal(&url)?;
    }
    let hook_id = ResourceId::parse(&delivery.hook.hook_id).map_err(|_| SendError::Prepare("bad hook id".into()))?;
    let open = |sealed: &Option<Vec<u8>>, field: &str| -> Result<Option<String>, SendError> {
        sealed
            .as_ref()
            .map(|s| secrets.open(s, &context(&hook_id, field)))
            .transpose()
            .map_err(|e| SendError::Prepare(e.to_string()))
    };
    let timestamp = chrono::Utc::now().timestamp();
    let body = delivery.payload.as_bytes();

    // Standard Webhooks signature(s): during a rotation both keys sign.
    let mut signatures = Vec::new();
    if let Some(secret) = open(&delivery.hook.signing_secret_enc, "signing")? {
        signatures.push(sign(&secret, &delivery.event_id, timestamp, body)?);
    }
    let now_ms = app::storage::now_ms();
    if delivery.hook.previous_signing_expires_at.is_some_and(|t| t > now_ms)
        && let Some(previous) = open(&delivery.hook.previous_signing_secret_enc, "signing")?
    {
        signatures.push(sign(&previous, &delivery.event_id, timestamp, body)?);
    }

    let mut request = client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", &delivery.event_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signatures.join(" "))
        .body(delivery.payload.to_string());

    let token = open(&delivery.hook.token_enc, "token")?;
    match delivery.hook.auth() {
        AuthType::None => {}
        AuthType::Basic => {
            let user = delivery.hook.username.clone().unwrap_or_default();
            let password = open(&delivery.hook.password_enc, "password")?.unwrap_or_default();
            let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            request = request.header("authorization", format!("Basic {encoded}"));
        }
        AuthType::OAuth2 => {
            if let Some(token) = &token {
                request = request.header("authorization", format!("Bearer {token}"));
            }
        }
        AuthType::Jwt => {
            let secret = token.clone().unwrap_or_default();
            let sub = delivery.hook.username.clone().unwrap_or_default();
            let jwt = signing::jwt_hs256(&secret, &sub, &delivery.id, timestamp)
                .map_err(|e| SendError::Prepare(e.to_string()))?;
            request = request.header("authorization", format!("Bearer {jwt}"));
        }
    }
    if delivery.hook.token_generated
        && let Some(token) = &token
    {
        request = request.header("x-hook-token", token);
    }

    let mut response = request.send().await.map_err(|e| SendError::Http(describe(&e.without_url())))?;
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
    Ok(Answer { status, retry_after, body: String::from_utf8_lossy(&snippet).into_owned() })
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
    signing::sign(secret, id, timestamp, body).map_err(|e| SendError::Prepare(e.to_string()))
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
