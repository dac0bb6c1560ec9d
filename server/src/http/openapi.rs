//! `GET /api/openapi.json`: the OpenAPI 3 document, generated from the
//! handlers' `#[utoipa::path]` annotations and the response types.

use super::error::{ErrorBody, FieldErrorDoc};
use super::hooks::representation::*;
use super::{deliveries, events, health, hooks, metrics};
use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hookrelay",
        description = "Self-hosted webhook registry and delivery. Authenticate with `Authorization: Bearer <API key>` (or the bare key).",
    ),
    paths(
        health::healthz,
        metrics::metrics,
        document,
        hooks::flightrates::create,
        hooks::flightrates::list,
        hooks::flightrates::get,
        hooks::flightrates::replace,
        hooks::flightrates::patch,
        hooks::flightrates::delete,
        hooks::eventsshop::create,
        hooks::eventsshop::list,
        hooks::eventsshop::get,
        hooks::eventsshop::delete,
        events::publish,
        events::test,
        deliveries::list,
        deliveries::retry,
        deliveries::secret,
        deliveries::rotate_secret,
    ),
    components(schemas(
        ErrorBody, FieldErrorDoc, FlightratesHook, FlightratesHookInput, HookEnvelope, HookListBody, DeletedBody,
        EventsshopEndpoint, EventsshopEndpointInput, EndpointCreated, EndpointEnvelope, EndpointListBody,
        health::Health, events::EventAccepted, events::EventInput, deliveries::DeliveryListBody,
        deliveries::DeliveryView, deliveries::AttemptView, deliveries::RetryQueued, deliveries::SigningSecret,
    )),
    modifiers(&ApiKeyScheme),
    tags(
        (name = "hooks", description = "FlightRates hooks (`/api/v1/hook…`)"),
        (name = "endpoints", description = "EventsShop endpoints (`/endpoint/…`)"),
        (name = "events", description = "Publishing events"),
        (name = "deliveries", description = "Delivery log and manual retry"),
        (name = "signing", description = "Signing secrets (Standard Webhooks)"),
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

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "service",
    responses((status = 200, description = "OpenAPI 3 document", content_type = "application/json")))]
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
