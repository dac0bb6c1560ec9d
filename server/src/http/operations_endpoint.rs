//! `GET|PUT|DELETE /api/v1/account/operations`: the account's operations
//! endpoint, which hears (signed with its own secret) when Hookrelay
//! disables one of the account's hooks or dead-letters one of its
//! deliveries (`crate::operations` sends them).

use super::auth::Authenticated;
use super::error::ApiError;
use super::extract::JsonBody;
use super::state::AppState;
use app::domain::operations_input::parse_operations_endpoint;
use app::storage::accounts::Account;
use app::storage::operations;
use axum::Json;
use axum::extract::State;
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OperationsView {
    /// Where the notices go; null when none is set.
    pub endpoint: Option<String>,
    /// `whsec_…`: verify the notices' `webhook-signature` with it; null without an endpoint.
    pub secret: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OperationsBody {
    pub error: bool,
    pub operations: OperationsView,
}

/// Body of `PUT /api/v1/account/operations`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct OperationsInput {
    /// Absolute http(s) URL that receives `hook.disabled` and `delivery.dead_lettered` notices.
    #[schema(example = "https://ops.example.com/hookrelay")]
    endpoint: String,
}

async fn view(state: &AppState, account: &Account) -> Result<Json<OperationsBody>, ApiError> {
    let endpoint = operations::endpoint(&state.db, &account.id).await?;
    let secret = operations::signing_secret(&state.db, &state.secrets, &account.id).await?;
    Ok(Json(OperationsBody { error: false, operations: OperationsView { endpoint, secret } }))
}

/// The account's operations endpoint and its signing secret.
#[utoipa::path(get, path = "/api/v1/account/operations", tag = "operations", security(("api_key" = [])),
    responses((status = 200, description = "The operations endpoint (null when none is set)", body = OperationsBody)))]
pub async fn get(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
) -> Result<Json<OperationsBody>, ApiError> {
    view(&state, &account).await
}

/// Set the account's operations endpoint (its signing secret is made the first time and kept).
#[utoipa::path(put, path = "/api/v1/account/operations", tag = "operations", security(("api_key" = [])),
    request_body = OperationsInput,
    responses((status = 200, description = "Set", body = OperationsBody)))]
pub async fn put(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    JsonBody(body): JsonBody,
) -> Result<Json<OperationsBody>, ApiError> {
    let endpoint = parse_operations_endpoint(&body)?;
    operations::set_endpoint(&state.db, &state.secrets, &account.id, &endpoint).await?;
    tracing::info!("operations endpoint set");
    view(&state, &account).await
}

/// Remove the account's operations endpoint (and the notices it was still owed).
#[utoipa::path(delete, path = "/api/v1/account/operations", tag = "operations", security(("api_key" = [])),
    responses((status = 200, description = "Removed", body = OperationsBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
) -> Result<Json<OperationsBody>, ApiError> {
    operations::clear(&state.db, &account.id).await?;
    tracing::info!("operations endpoint removed");
    view(&state, &account).await
}
