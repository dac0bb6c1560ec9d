//! `ApiError`: every REST error, rendered as the JSON body of SPEC §2.3:
//! `{"error":true,"statusCode":…,"message":…,"errors":[{"field","message"}],"requestId":…}`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("Authentication failed: {0}")]
    Unauthorized(&'static str),
    #[error("Request data failed validation(s)")]
    Validation(Vec<FieldError>),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("Method not allowed on this resource")]
    MethodNotAllowed,
    #[error("Internal server error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The JSON error body. Also stored in the response's extensions so the
/// request-id middleware can add `requestId` to it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    pub error: bool,
    pub status_code: u16,
    pub message: String,
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
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<app::storage::StorageError> for ApiError {
    fn from(e: app::storage::StorageError) -> Self {
        Self::internal(e)
    }
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
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response.extensions_mut().insert(body);
        response
    }
}

/// Unknown paths under `/api/`.
pub async fn api_not_found() -> ApiError {
    ApiError::NotFound("Route")
}

/// A known path with the wrong method under `/api/`.
pub async fn api_method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
