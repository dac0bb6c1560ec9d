//! `/api/v1/hook…`: the FlightRates vendor's routes and the rest of the resource.

use super::representation::{DeletedBody, FlightratesHook, HookEnvelope, HookListBody};
use crate::http::auth::Authenticated;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{IdPath, JsonBody, QueryPairs};
use crate::http::state::AppState;
use app::domain::Vertical;
use app::domain::hook_input::{Mode, parse_flightrates};
use app::storage::hooks;
use axum::Json;
use axum::extract::State;

const VERTICAL: Option<Vertical> = Some(Vertical::Flightrates);

/// Create a hook (the vendor's "Create Hook").
#[utoipa::path(post, path = "/api/v1/hook", tag = "hooks", security(("api_key" = [])),
    request_body = super::representation::FlightratesHookInput,
    responses(
        (status = 200, description = "Created", body = HookEnvelope),
        (status = 429, description = "Rate limit exceeded (see Retry-After), or the account already has --max-hooks-per-account hooks", body = ErrorBody),
    ))]
pub async fn create(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    JsonBody(body): JsonBody,
) -> Result<Json<HookEnvelope>, ApiError> {
    let spec = parse_flightrates(&body, Mode::Create, &state.catalogue)?;
    let hook = hooks::create(&state.db, &state.secrets, &account.id, &spec).await?;
    tracing::info!(hook = %hook.id, "hook created");
    Ok(Json(HookEnvelope::new(&account, &hook)))
}

/// List the account's hooks, newest first.
#[utoipa::path(get, path = "/api/v1/hooks", tag = "hooks", security(("api_key" = [])),
    params(
        ("page" = Option<u32>, Query, description = "Page number, from 1 (default 1)"),
        ("size" = Option<u32>, Query, description = "Page size, 1 to 100 (default 10)"),
        ("_shop" = Option<String>, Query, description = "Only this shop's hooks"),
        ("hookType" = Option<String>, Query, description = "Only hooks of this type"),
        ("isActiveStatus" = Option<bool>, Query, description = "Only active (true) or inactive (false) hooks"),
        ("search" = Option<String>, Query, description = "Endpoint URL contains this text (case-insensitive)"),
    ),
    responses(
        (status = 200, description = "A page of hooks", body = HookListBody),
    ))]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    QueryPairs(pairs): QueryPairs,
) -> Result<Json<HookListBody>, ApiError> {
    let page = super::page_of(&state, &account.id, Vertical::Flightrates, &pairs).await?;
    Ok(Json(HookListBody {
        error: false,
        hooks: page.hooks.iter().map(|h| FlightratesHook::new(&account, h)).collect(),
        total_data: page.total,
        total_pages: page.total_pages,
        page: page.page,
        size: page.size,
    }))
}

/// One hook.
#[utoipa::path(get, path = "/api/v1/hook/{id}", tag = "hooks", security(("api_key" = [])),
    params(("id" = String, Path, description = "Hook id (24 hex)")),
    responses(
        (status = 200, description = "The hook", body = HookEnvelope),
    ))]
pub async fn get(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    IdPath(id): IdPath,
) -> Result<Json<HookEnvelope>, ApiError> {
    let hook = hooks::get(&state.db, &account.id, VERTICAL, &id).await?.ok_or(ApiError::NotFound("Hook"))?;
    Ok(Json(HookEnvelope::new(&account, &hook)))
}

/// Replace a hook: mandatory fields required, absent optional ones cleared,
/// `"*******"` keeps a stored secret.
#[utoipa::path(put, path = "/api/v1/hook/{id}", tag = "hooks", security(("api_key" = [])),
    params(("id" = String, Path, description = "Hook id (24 hex)")),
    request_body = super::representation::FlightratesHookInput,
    responses(
        (status = 200, description = "Replaced", body = HookEnvelope),
    ))]
pub async fn replace(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    IdPath(id): IdPath,
    JsonBody(body): JsonBody,
) -> Result<Json<HookEnvelope>, ApiError> {
    update(&state, &account, &id, &body, false).await
}

/// Change some fields of a hook; `null` clears an optional field.
#[utoipa::path(patch, path = "/api/v1/hook/{id}", tag = "hooks", security(("api_key" = [])),
    params(("id" = String, Path, description = "Hook id (24 hex)")),
    request_body = super::representation::FlightratesHookInput,
    responses(
        (status = 200, description = "Updated", body = HookEnvelope),
    ))]
pub async fn patch(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    IdPath(id): IdPath,
    JsonBody(body): JsonBody,
) -> Result<Json<HookEnvelope>, ApiError> {
    update(&state, &account, &id, &body, true).await
}

async fn update(
    state: &AppState,
    account: &app::storage::accounts::Account,
    id: &app::domain::ResourceId,
    body: &serde_json::Value,
    patch: bool,
) -> Result<Json<HookEnvelope>, ApiError> {
    let existing = hooks::get(&state.db, &account.id, VERTICAL, id).await?.ok_or(ApiError::NotFound("Hook"))?;
    let current = existing.state();
    let mode = if patch { Mode::Patch(&current) } else { Mode::Replace(&current) };
    let spec = parse_flightrates(body, mode, &state.catalogue)?;
    let hook =
        hooks::update(&state.db, &state.secrets, &account.id, id, &spec).await?.ok_or(ApiError::NotFound("Hook"))?;
    tracing::info!(hook = %hook.id, "hook updated");
    Ok(Json(HookEnvelope::new(account, &hook)))
}

/// Delete a hook.
#[utoipa::path(delete, path = "/api/v1/hook/{id}", tag = "hooks", security(("api_key" = [])),
    params(("id" = String, Path, description = "Hook id (24 hex)")),
    responses(
        (status = 200, description = "Deleted", body = DeletedBody),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    IdPath(id): IdPath,
) -> Result<Json<DeletedBody>, ApiError> {
    if !hooks::delete(&state.db, &account.id, VERTICAL, &id).await? {
        return Err(ApiError::NotFound("Hook"));
    }
    tracing::info!(hook = %id, "hook deleted");
    Ok(Json(DeletedBody { error: false, message: "Hook deleted".into(), id: id.to_string() }))
}
