//! `/endpoint/…`: the EventsShop vendor's routes.

use super::representation::{DeletedBody, EndpointCreated, EndpointEnvelope, EndpointListBody, EventsshopEndpoint};
use crate::http::auth::Authenticated;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{IdPath, JsonBody, QueryPairs};
use crate::http::state::AppState;
use app::domain::Vertical;
use app::domain::hook_input::parse_eventsshop;
use app::storage::hooks;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

const VERTICAL: Option<Vertical> = Some(Vertical::Eventsshop);

/// Register an endpoint for the eventsinfo, eventimpact and hoteldemand feeds.
#[utoipa::path(post, path = "/endpoint/", tag = "endpoints", security(("api_key" = [])),
    request_body = super::representation::EventsshopEndpointInput,
    responses(
        (status = 202, description = "Accepted; Basic Auth answers carry the generated token", body = EndpointCreated),
        (status = 429, description = "Rate limit exceeded (see Retry-After), or the account already has --max-hooks-per-account hooks", body = ErrorBody),
    ))]
pub async fn create(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<EndpointCreated>), ApiError> {
    let mut spec = parse_eventsshop(&body, &state.catalogue)?;
    let generated = hooks::settle_generated_token(&mut spec, None)?;
    let hook = hooks::create(&state.db, &state.secrets, &account.id, &spec).await?;
    tracing::info!(hook = %hook.id, "endpoint created");
    Ok((
        StatusCode::ACCEPTED,
        Json(EndpointCreated {
            error: false,
            id: hook.id.to_string(),
            token: generated,
            endpoint: EventsshopEndpoint::new(&hook, &state.catalogue),
        }),
    ))
}

/// List the account's EventsShop endpoints, newest first.
#[utoipa::path(get, path = "/endpoint/", tag = "endpoints", security(("api_key" = [])),
    params(
        ("page" = Option<u32>, Query, description = "Page number, from 1"),
        ("size" = Option<u32>, Query, description = "Page size, 1 to 100 (default 10)"),
        ("isActiveStatus" = Option<bool>, Query, description = "Only active or inactive endpoints"),
        ("search" = Option<String>, Query, description = "Endpoint URL contains this text"),
    ),
    responses(
        (status = 200, description = "A page of endpoints", body = EndpointListBody),
    ))]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    QueryPairs(pairs): QueryPairs,
) -> Result<Json<EndpointListBody>, ApiError> {
    let page = super::page_of(&state, &account.id, Vertical::Eventsshop, &pairs).await?;
    Ok(Json(EndpointListBody {
        error: false,
        endpoints: page.hooks.iter().map(|h| EventsshopEndpoint::new(h, &state.catalogue)).collect(),
        total_data: page.total,
        total_pages: page.total_pages,
        page: page.page,
        size: page.size,
    }))
}

/// One endpoint.
#[utoipa::path(get, path = "/endpoint/{id}", tag = "endpoints", security(("api_key" = [])),
    params(("id" = String, Path, description = "Endpoint id (24 hex)")),
    responses(
        (status = 200, description = "The endpoint", body = EndpointEnvelope),
    ))]
pub async fn get(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    IdPath(id): IdPath,
) -> Result<Json<EndpointEnvelope>, ApiError> {
    let hook = hooks::get(&state.db, &account.id, VERTICAL, &id).await?.ok_or(ApiError::NotFound("Endpoint"))?;
    Ok(Json(EndpointEnvelope { error: false, endpoint: EventsshopEndpoint::new(&hook, &state.catalogue) }))
}

/// Delete an endpoint.
#[utoipa::path(delete, path = "/endpoint/{id}", tag = "endpoints", security(("api_key" = [])),
    params(("id" = String, Path, description = "Endpoint id (24 hex)")),
    responses(
        (status = 200, description = "Deleted", body = DeletedBody),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    IdPath(id): IdPath,
) -> Result<Json<DeletedBody>, ApiError> {
    if !hooks::delete(&state.db, &account.id, VERTICAL, &id).await? {
        return Err(ApiError::NotFound("Endpoint"));
    }
    tracing::info!(hook = %id, "endpoint deleted");
    Ok(Json(DeletedBody { error: false, message: "Endpoint deleted".into(), id: id.to_string() }))
}
