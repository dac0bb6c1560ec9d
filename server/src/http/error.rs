//! `ApiError`: every REST error, rendered as the JSON body of SPEC §2.3:
//! `{"error":true,"statusCode":…,"message":…,"errors":[{"field","message"}],"requestId":…}`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

pub use app::domain::FieldError;
use app::server_fns::{DashboardError, error::answered};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("Authentication failed: {0}")]
    Unauthorized(&'static str),
    #[error("Request data failed validation(s)")]
    Validation(Vec<FieldError>),
    #[error("Forbidden: {0}")]
    Forbidden(&'static str),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("Conflict: {0}")]
    Conflict(&'static str),
    #[error("Method not allowed on this resource")]
    MethodNotAllowed,
    #[error("Request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("Too many requests: slow down and retry after {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// An account limit (hooks, keys): retrying does not help, deleting does.
    #[error("Limit reached: {0}")]
    LimitReached(String),
    #[error("Internal server error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// `Retry-After` on an account-limit 429.
pub const LIMIT_RETRY_AFTER_SECS: u64 = 60;

/// The JSON error body. Also stored in the response's extensions so the
/// request-id middleware can add `requestId` to it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    pub error: bool,
    pub status_code: u16,
    pub message: String,
    #[schema(value_type = Vec<FieldErrorDoc>)]
    pub errors: Vec<FieldError>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl ApiError {
    pub fn internal(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Internal(Box::new(e))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Validation(_) => StatusCode::BAD_REQUEST,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RateLimited { .. } | Self::LimitReached(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<Vec<FieldError>> for ApiError {
    fn from(errors: Vec<FieldError>) -> Self {
        Self::Validation(errors)
    }
}

impl From<app::storage::StorageError> for ApiError {
    fn from(e: app::storage::StorageError) -> Self {
        match e {
            // The caller's text, not our fault: PostgreSQL cannot store NUL.
            app::storage::StorageError::UnstorableText => {
                Self::Validation(vec![FieldError::new("body", "text must not contain NUL (\\u0000) characters")])
            }
            e @ app::storage::StorageError::LimitReached { .. } => Self::LimitReached(e.to_string()),
            app::storage::StorageError::Changed(_) => {
                Self::Conflict("a stored secret header changed meanwhile; reload and try again")
            }
            e => Self::internal(e),
        }
    }
}

impl ApiError {
    /// The same error as the dashboard's server functions answer it, with
    /// its HTTP status set on the call's response (`answered`).
    pub fn into_dashboard(self) -> DashboardError {
        let error = match self {
            Self::Unauthorized(_) => DashboardError::NotSignedIn,
            Self::Validation(errors) => DashboardError::Invalid(
                errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "),
            ),
            e @ Self::Forbidden(_) => DashboardError::Forbidden(e.to_string()),
            Self::NotFound(what) => DashboardError::NotFound(what.to_owned()),
            Self::Conflict(why) => DashboardError::Conflict(why.to_owned()),
            e @ Self::MethodNotAllowed => DashboardError::Invalid(e.to_string()),
            e @ Self::PayloadTooLarge { .. } => DashboardError::Invalid(e.to_string()),
            e @ Self::RateLimited { retry_after_secs } => {
                DashboardError::TooMany { message: e.to_string(), retry_after_secs }
            }
            e @ Self::LimitReached(_) => {
                DashboardError::TooMany { message: e.to_string(), retry_after_secs: LIMIT_RETRY_AFTER_SECS }
            }
            Self::Internal(source) => {
                tracing::error!(error = %source, "server function failed");
                DashboardError::Internal
            }
        };
        answered(error)
    }
}

/// A server function's error answered before the function runs (a
/// middleware's refusal), shaped as the function itself would answer it: the
/// JSON of `DashboardError`, its status and the `serverfnerror` header, so
/// the dashboard shows the message.
pub fn rpc_error_response(path: &str, error: &DashboardError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response =
        (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], error.to_json())
            .into_response();
    if let Ok(path) = HeaderValue::from_str(path) {
        response.headers_mut().insert("serverfnerror", path);
    }
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(source) = &self {
            // Logged inside the request's span, so the line carries the request id.
            tracing::error!(error = %source, "internal error");
        }
        let status = self.status();
        let errors = match &self {
            Self::Validation(errors) => errors.clone(),
            _ => Vec::new(),
        };
        let body = ErrorBody {
            error: true,
            status_code: status.as_u16(),
            message: self.to_string(),
            errors,
            request_id: None,
        };
        let mut response = (status, Json(body.clone())).into_response();
        match &self {
            Self::Unauthorized(_) => {
                response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Self::RateLimited { retry_after_secs } => {
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            // SPEC §2.1: every 429 carries Retry-After. Waiting alone does
            // not free room; the message says to delete one.
            Self::LimitReached(_) => {
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(LIMIT_RETRY_AFTER_SECS));
            }
            _ => {}
        }
        response.extensions_mut().insert(body);
        response
    }
}

/// OpenAPI view of `FieldError` (the domain type lives in the WASM-safe `app` crate).
#[derive(utoipa::ToSchema)]
#[schema(as = FieldError)]
#[allow(dead_code)]
pub struct FieldErrorDoc {
    /// The JSON field (or `body`, `id`, a query parameter).
    field: String,
    /// What is wrong, in words a person understands.
    message: String,
}

/// Unknown paths under `/api/`.
pub async fn api_not_found() -> ApiError {
    ApiError::NotFound("Route")
}

/// A known path with the wrong method under `/api/`.
pub async fn api_method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
