//! The documented routes, listed once: `documented_routes` registers each
//! handler with its `#[utoipa::path]` operation (utoipa-axum), giving the
//! router and the OpenAPI 3 document from the same list. `GET
//! /api/openapi.json` serves that document.

use super::AppState;
use super::error::{ErrorBody, FieldErrorDoc};
use super::hooks::representation::*;
use super::{deliveries, event_log, events, health, metrics, operations_endpoint};
use axum::Json;
use std::sync::LazyLock;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Every documented route (the router) and the document describing them.
pub fn documented_routes() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    use super::hooks::{eventsshop, flightrates};
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(metrics::metrics))
        .routes(routes!(document))
        .routes(routes!(flightrates::create))
        .routes(routes!(flightrates::list))
        .routes(routes!(flightrates::get, flightrates::replace, flightrates::patch, flightrates::delete))
        .routes(routes!(eventsshop::create, eventsshop::list))
        .routes(routes!(eventsshop::get, eventsshop::delete))
        .routes(routes!(events::publish, event_log::list))
        .routes(routes!(event_log::get))
        .routes(routes!(events::test))
        .routes(routes!(deliveries::list))
        .routes(routes!(deliveries::retry))
        .routes(routes!(deliveries::skip))
        .routes(routes!(deliveries::recover))
        .routes(routes!(deliveries::secret))
        .routes(routes!(operations_endpoint::get, operations_endpoint::put, operations_endpoint::delete))
        .routes(routes!(deliveries::rotate_secret))
        .split_for_parts();
    // After the paths are in: these modify every operation.
    CommonResponses.modify(&mut doc);
    (router, doc)
}

static DOCUMENT: LazyLock<utoipa::openapi::OpenApi> = LazyLock::new(|| documented_routes().1);

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hookrelay",
        description = "Self-hosted webhook registry and delivery. Authenticate with `Authorization: Bearer <API key>` (or the bare key).",
    ),
    components(schemas(
        ErrorBody, FieldErrorDoc, FlightratesHook, FlightratesHookInput, HookEnvelope, HookListBody, DeletedBody,
        EventsshopEndpoint, EventsshopEndpointInput, EndpointCreated, EndpointEnvelope, EndpointListBody,
        health::Health, events::EventAccepted, events::EventInput, deliveries::DeliveryListBody,
        deliveries::DeliveryView, deliveries::AttemptView, deliveries::RetryQueued, deliveries::SigningSecret,
        deliveries::RecoverInput, deliveries::RecoverQueued, event_log::EventListBody, event_log::EventListItem, event_log::EventHead,
        event_log::EventBody, event_log::EventView, event_log::EventDeliveryView,
        operations_endpoint::OperationsBody, operations_endpoint::OperationsView, operations_endpoint::OperationsInput,
    )),
    modifiers(&ApiKeyScheme),
    tags(
        (name = "hooks", description = "FlightRates hooks (`/api/v1/hook…`)"),
        (name = "endpoints", description = "EventsShop endpoints (`/endpoint/…`)"),
        (name = "events", description = "Publishing events and the event log"),
        (name = "deliveries", description = "Delivery log, manual retry and recovery"),
        (name = "signing", description = "Signing secrets (Standard Webhooks)"),
        (name = "operations", description = "The account's operations endpoint: notices of disabled hooks and dead-lettered deliveries"),
        (name = "service", description = "Health and this document"),
    )
)]
pub struct ApiDoc;

struct ApiKeyScheme;

impl Modify for ApiKeyScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key from `hookrelay user create` / `key create` or the dashboard"))
                    .build(),
            ),
        );
    }
}

/// The answers every authenticated operation can give whatever it does —
/// 401 (no or unknown key), 429 (the key's rate limit, or the address's
/// limit on unknown keys), 500 — and with an id, a query or a body 400;
/// with a body 413; with an `{id}` 404. Added here once instead of on every handler.
struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::Operation;
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let error = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build(),
                )
                .build()
        };
        for (path, item) in &mut openapi.paths.paths {
            if matches!(path.as_str(), "/healthz" | "/metrics" | "/api/openapi.json") {
                continue;
            }
            let has_id = path.contains('{');
            let operations: [Option<&mut Operation>; 5] =
                [item.get.as_mut(), item.post.as_mut(), item.put.as_mut(), item.patch.as_mut(), item.delete.as_mut()];
            for op in operations.into_iter().flatten() {
                let has_body = op.request_body.is_some();
                let has_input = has_body || has_id || op.parameters.as_ref().is_some_and(|p| !p.is_empty());
                let responses = &mut op.responses.responses;
                let mut add = |status: &str, description: &str| {
                    responses.entry(status.to_owned()).or_insert_with(|| error(description).into());
                };
                add("401", "No API key, or one that is unknown or revoked");
                add("429", "Over the key's rate limit, or too many unknown keys from this address (see Retry-After)");
                add("500", "A fault of the server (never the caller's input)");
                if has_input {
                    add("400", "A malformed id, query parameter or body (every field error listed)");
                }
                if has_body {
                    add("413", "The body is larger than --max-body-bytes");
                }
                if has_id {
                    add("404", "No such resource in this account");
                }
            }
        }
    }
}

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "service",
    responses((status = 200, description = "OpenAPI 3 document", content_type = "application/json")))]
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(DOCUMENT.clone())
}
