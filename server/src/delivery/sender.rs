//! One delivery attempt: build the signed, authenticated request, send it,
//! and read the first 4 KiB of the answer.

use super::ssrf;
use app::domain::AuthType;
use app::domain::ResourceId;
use app::security::{SecretBox, signing};
use app::storage::deliveries::ClaimedDelivery;
use app::storage::hooks::context;
use base64::Engine;
use std::time::Duration;

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
    let url =
        reqwest::Url::parse(&delivery.endpoint).map_err(|e| SendError::Prepare(format!("bad endpoint URL: {e}")))?;
    if guard {
        ssrf::check_literal(&url)?;
    }
    let hook_id = ResourceId::parse(&delivery.hook_id).map_err(|_| SendError::Prepare("bad hook id".into()))?;
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
    if let Some(secret) = open(&delivery.signing_secret_enc, "signing")? {
        signatures.push(sign(&secret, &delivery.event_id, timestamp, body)?);
    }
    let now_ms = app::storage::now_ms();
    if delivery.previous_signing_expires_at.is_some_and(|t| t > now_ms)
        && let Some(previous) = open(&delivery.previous_signing_secret_enc, "signing")?
    {
        signatures.push(sign(&previous, &delivery.event_id, timestamp, body)?);
    }

    let mut request = client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", &delivery.event_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signatures.join(" "))
        .body(delivery.payload.clone());

    let token = open(&delivery.token_enc, "token")?;
    match delivery.auth() {
        AuthType::None => {}
        AuthType::Basic => {
            let user = delivery.username.clone().unwrap_or_default();
            let password = open(&delivery.password_enc, "password")?.unwrap_or_default();
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
            let sub = delivery.username.clone().unwrap_or_default();
            let jwt = signing::jwt_hs256(&secret, &sub, &delivery.id, timestamp)
                .map_err(|e| SendError::Prepare(e.to_string()))?;
            request = request.header("authorization", format!("Bearer {jwt}"));
        }
    }
    if delivery.token_generated
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
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let mut snippet = Vec::new();
    while snippet.len() < RESPONSE_SNIPPET {
        match response.chunk().await {
            Ok(Some(chunk)) => snippet.extend_from_slice(&chunk[..chunk.len().min(RESPONSE_SNIPPET - snippet.len())]),
            _ => break,
        }
    }
    Ok(Answer { status, retry_after, body: String::from_utf8_lossy(&snippet).into_owned() })
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
