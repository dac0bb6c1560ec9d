//! Request extractors whose every rejection is an `ApiError` (JSON body,
//! 400/413), never axum's plain-text default.

use super::error::{ApiError, FieldError};
use super::state::AppState;
use app::domain::{DeliveryId, ResourceId};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, RawQuery, Request};
use axum::http::request::Parts;
use futures_util::StreamExt;
use serde_json::Value;

/// A JSON body parsed into a `Value` (the domain parser then reports every
/// field problem at once). Malformed JSON is a 400, an oversized body a 413.
pub struct JsonBody(pub Value);

impl FromRequest<AppState> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let bytes = read_limited(req, state.max_body_bytes).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::Validation(vec![FieldError::new("body", "is empty: send a JSON object")]));
        }
        serde_json::from_slice(&bytes).map(JsonBody).map_err(|e| {
            ApiError::Validation(vec![FieldError::new(
                "body",
                format!("is not valid JSON ({} at line {}, column {})", describe(&e), e.line(), e.column()),
            )])
        })
    }
}

/// How much of an oversized body is still read (and dropped) so the client
/// finishes sending and sees the 413, rather than a connection reset; a
/// limit set higher than this is read in full.
const DRAIN_CAP: usize = 16 * 1024 * 1024;

/// Reads the body up to `limit` bytes; larger bodies are drained (up to
/// `DRAIN_CAP`, or the limit if that is higher) and answered with 413.
async fn read_limited(req: Request, limit: usize) -> Result<Bytes, ApiError> {
    let drain_cap = DRAIN_CAP.max(limit);
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > drain_cap) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let mut stream = req.into_body().into_data_stream();
    let mut buf = Vec::with_capacity(declared.unwrap_or(0).min(limit));
    let mut seen = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| ApiError::Validation(vec![FieldError::new("body", "could not be read")]))?;
        seen += chunk.len();
        if seen > drain_cap {
            break;
        }
        if seen <= limit {
            buf.extend_from_slice(&chunk);
        }
    }
    if seen > limit { Err(ApiError::PayloadTooLarge { limit }) } else { Ok(Bytes::from(buf)) }
}

fn describe(e: &serde_json::Error) -> &'static str {
    use serde_json::error::Category;
    match e.classify() {
        Category::Eof => "it ends too early",
        Category::Syntax => "syntax error",
        Category::Data | Category::Io => "unreadable data",
    }
}

/// The `{id}` path segment, checked to be a 24-hex id.
pub struct IdPath(pub ResourceId);

impl FromRequestParts<AppState> for IdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::Validation(vec![FieldError::new("id", "could not be read from the path")]))?;
        ResourceId::parse(&raw)
            .map(IdPath)
            .map_err(|e| ApiError::Validation(vec![FieldError::new("id", e.to_string())]))
    }
}

/// The `{id}` path segment of a delivery. One that is not a delivery id
/// (malformed, or not even UTF-8) names no delivery of this account: 404,
/// as JSON like every other answer.
pub struct DeliveryIdPath(pub DeliveryId);

impl FromRequestParts<AppState> for DeliveryIdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .ok()
            .and_then(|Path(raw)| DeliveryId::parse(&raw).ok())
            .map(DeliveryIdPath)
            .ok_or(ApiError::NotFound("Delivery"))
    }
}

/// Query parameters as (name, value) pairs; never fails.
pub struct QueryPairs(pub Vec<(String, String)>);

impl FromRequestParts<AppState> for QueryPairs {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let RawQuery(raw) = RawQuery::from_request_parts(parts, state).await.unwrap_or(RawQuery(None));
        let pairs = form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).into_owned().collect();
        Ok(Self(pairs))
    }
}
