//! Hooks from the dashboard: list, create/edit (the REST API's validation),
//! toggle, delete, signing secret, test event, delivery log, retry and
//! recovery of failed deliveries.

use super::error::DashboardError;
use super::types::{DeliveryPage, FormSetup, HookDetail, HookPage, HookQuery, SaveOutcome};
use crate::domain::hook_form::HookForm;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// Page size of the hooks list and of the delivery log.
pub const PAGE_SIZE: u32 = 10;

/// The account's hook with this id (from the browser), or a not-found error.
#[cfg(feature = "ssr")]
async fn own_hook(
    services: &super::context::Services,
    account: &crate::storage::accounts::Account,
    id: &str,
) -> Result<crate::storage::hooks::Hook, DashboardError> {
    use super::context::{internal, not_found, parse_id};
    let id = parse_id(id, "Hook")?;
    crate::storage::hooks::get(&services.db, &account.id, None, &id)
        .await
        .map_err(internal)?
        .ok_or_else(|| not_found("Hook"))
}

#[cfg(feature = "ssr")]
mod convert {
    use super::super::types::{AttemptView, DeliveryView, HookDetail};
    use crate::domain::hook_form::HookForm;
    use crate::storage::deliveries::{AttemptRow, DeliveryRow};
    use crate::storage::hooks::Hook;

    pub fn detail(hook: &Hook) -> HookDetail {
        let form = HookForm {
            endpoint: hook.endpoint.clone(),
            auth_type: hook.auth_type,
            username: hook.username.clone().unwrap_or_default(),
            password: String::new(),
            token: String::new(),
            hook_type: hook.hook_type.clone().unwrap_or_default(),
            shop: hook.shop.clone().unwrap_or_default(),
            is_active: hook.is_active,
            ..HookForm::default()
        }
        .masked(hook.secrets.password, hook.secrets.token)
        .with_delivery(&hook.delivery);
        HookDetail {
            id: hook.id.to_string(),
            vertical: hook.vertical.as_str().to_owned(),
            form,
            has_password: hook.secrets.password,
            has_token: hook.secrets.token,
            token_generated: hook.token_generated,
            disabled_reason: hook.disabled_reason.clone(),
            delivery: hook.delivery.clone(),
            created_at: hook.created_at,
        }
    }

    pub fn delivery((d, attempts): (DeliveryRow, Vec<AttemptRow>)) -> DeliveryView {
        DeliveryView {
            id: d.id,
            event_id: d.event_id,
            status: d.status,
            created_at: d.created_at,
            next_attempt_at: d.next_attempt_at,
            attempts: attempts.into_iter().map(AttemptView::from).collect(),
        }
    }
}

#[server(name = ListHooksFn, prefix = "/_rpc", endpoint = "list_hooks", input = Json)]
pub async fn list_hooks(query: HookQuery) -> Result<HookPage, DashboardError> {
    use super::context::{internal, require_account};
    use super::types::HookSummary;
    use crate::storage::{hooks, stats};
    let (services, account) = require_account().await?;
    let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let filter = hooks::HookFilter {
        hook_type: text(&query.hook_type),
        shop: text(&query.shop),
        is_active: match query.active.as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        endpoint_contains: text(&query.search),
    };
    let page = query.page.max(1);
    let (found, total) =
        hooks::list(&services.db, &account.id, None, &filter, page, PAGE_SIZE).await.map_err(internal)?;
    let ids: Vec<&str> = found.iter().map(|h| h.id.as_str()).collect();
    let last = stats::last_delivery_status(&services.db, &account.id, &ids).await.map_err(internal)?;
    let hooks = found
        .iter()
        .map(|h| HookSummary {
            id: h.id.to_string(),
            endpoint: h.endpoint.clone(),
            hook_type: h.hook_type.clone(),
            auth_type: h.auth_type.label().to_owned(),
            shop: h.shop.clone(),
            is_active: h.is_active,
            disabled_reason: h.disabled_reason.clone(),
            last_status: last.get(h.id.as_str()).cloned(),
        })
        .collect();
    Ok(HookPage {
        hooks,
        total,
        page,
        total_pages: total.div_ceil(u64::from(PAGE_SIZE)),
        hook_types: services.catalogue.hook_types(account.vertical).to_vec(),
    })
}

#[server(name = SetHookActiveFn, prefix = "/_rpc", endpoint = "set_hook_active")]
pub async fn set_hook_active(id: String, active: bool) -> Result<(), DashboardError> {
    use super::context::{internal, not_found, parse_id, require_account};
    let (services, account) = require_account().await?;
    let id = parse_id(&id, "Hook")?;
    if !crate::storage::hooks::set_active(&services.db, &account.id, &id, active).await.map_err(internal)? {
        return Err(not_found("Hook"));
    }
    tracing::info!(hook = %id, active, "hook switched from the dashboard");
    Ok(())
}

/// What the create form (no id) or the edit form (an id) starts from.
#[server(name = FormSetupFn, prefix = "/_rpc", endpoint = "form_setup")]
pub async fn form_setup(id: Option<String>) -> Result<FormSetup, DashboardError> {
    use super::context::require_account;
    let (services, account) = require_account().await?;
    let hook = match id {
        None => None,
        Some(id) => Some(own_hook(&services, &account, &id).await?),
    };
    let vertical = hook.as_ref().map_or(account.vertical, |h| h.vertical);
    Ok(FormSetup {
        vertical: vertical.as_str().to_owned(),
        hook_types: services.catalogue.hook_types(vertical).to_vec(),
        hook: hook.as_ref().map(convert::detail),
    })
}

/// Creates (no id) or replaces (an id) a hook after the same validation as
/// the REST API; validation failures come back per field.
#[server(name = SaveHookFn, prefix = "/_rpc", endpoint = "save_hook", input = Json)]
pub async fn save_hook(id: Option<String>, form: HookForm) -> Result<SaveOutcome, DashboardError> {
    use super::context::{internal, not_found, require_account, storage_error};
    use crate::domain::Mode;
    use crate::storage::hooks;
    let (services, account) = require_account().await?;
    let existing = match &id {
        None => None,
        Some(id) => Some(own_hook(&services, &account, id).await?),
    };
    let vertical = existing.as_ref().map_or(account.vertical, |h| h.vertical);
    let state = existing.as_ref().map(hooks::Hook::state);
    let mode = state.as_ref().map_or(Mode::Create, Mode::Replace);
    let mut spec = match form.validate(vertical, mode, &services.catalogue) {
        Ok(spec) => spec,
        Err(errors) => return Ok(SaveOutcome::Invalid(errors)),
    };
    let generated_token = hooks::settle_generated_token(&mut spec, existing.as_ref()).map_err(internal)?;
    let saved = match &existing {
        None => hooks::create(&services.db, &services.secrets, &account.id, &spec).await.map_err(storage_error)?,
        Some(hook) => hooks::update(&services.db, &services.secrets, &account.id, &hook.id, &spec)
            .await
            .map_err(storage_error)?
            .ok_or_else(|| not_found("Hook"))?,
    };
    tracing::info!(hook = %saved.id, created = existing.is_none(), "hook saved from the dashboard");
    Ok(SaveOutcome::Saved { id: saved.id.to_string(), generated_token })
}

#[server(name = HookDetailFn, prefix = "/_rpc", endpoint = "hook_detail")]
pub async fn hook_detail(id: String) -> Result<HookDetail, DashboardError> {
    use super::context::require_account;
    let (services, account) = require_account().await?;
    Ok(convert::detail(&own_hook(&services, &account, &id).await?))
}

#[server(name = DeleteHookFn, prefix = "/_rpc", endpoint = "delete_hook")]
pub async fn delete_hook(id: String) -> Result<(), DashboardError> {
    use super::context::{internal, not_found, parse_id, require_account};
    let (services, account) = require_account().await?;
    let id = parse_id(&id, "Hook")?;
    if !crate::storage::hooks::delete(&services.db, &account.id, None, &id).await.map_err(internal)? {
        return Err(not_found("Hook"));
    }
    tracing::info!(hook = %id, "hook deleted from the dashboard");
    Ok(())
}

/// The hook's signing secret (`whsec_…`), for "Reveal".
#[server(name = RevealSecretFn, prefix = "/_rpc", endpoint = "reveal_secret")]
pub async fn reveal_secret(id: String) -> Result<String, DashboardError> {
    use super::context::{internal, not_found, parse_id, require_account};
    let (services, account) = require_account().await?;
    let id = parse_id(&id, "Hook")?;
    crate::storage::hooks::signing_secret(&services.db, &services.secrets, &account.id, &id)
        .await
        .map_err(internal)?
        .ok_or_else(|| not_found("Hook"))
}

/// A new signing secret; the old one keeps signing for 24 hours.
#[server(name = RotateSecretFn, prefix = "/_rpc", endpoint = "rotate_secret")]
pub async fn rotate_secret(id: String) -> Result<String, DashboardError> {
    use super::context::{internal, not_found, parse_id, require_account};
    const OVERLAP_MS: i64 = 24 * 60 * 60 * 1000;
    let (services, account) = require_account().await?;
    let id = parse_id(&id, "Hook")?;
    let fresh =
        crate::storage::hooks::rotate_signing_secret(&services.db, &services.secrets, &account.id, &id, OVERLAP_MS)
            .await
            .map_err(internal)?
            .ok_or_else(|| not_found("Hook"))?;
    tracing::info!(hook = %id, "signing secret rotated from the dashboard");
    Ok(fresh)
}

/// Queues a test event for the hook; returns the event id.
#[server(name = SendTestEventFn, prefix = "/_rpc", endpoint = "send_test_event")]
pub async fn send_test_event(id: String) -> Result<String, DashboardError> {
    use super::context::{not_found, parse_id, require_account};
    let (services, account) = require_account().await?;
    let id = parse_id(&id, "Hook")?;
    (services.send_test)(account.id.clone(), id).await?.ok_or_else(|| not_found("Hook"))
}

#[server(name = ListDeliveriesFn, prefix = "/_rpc", endpoint = "list_deliveries")]
pub async fn list_deliveries(id: String, page: u32) -> Result<DeliveryPage, DashboardError> {
    use super::context::{internal, require_account};
    let (services, account) = require_account().await?;
    let hook = own_hook(&services, &account, &id).await?;
    let page = page.max(1);
    let (rows, total) = crate::storage::deliveries::list_for_hook(&services.db, &account.id, &hook.id, page, PAGE_SIZE)
        .await
        .map_err(internal)?;
    Ok(DeliveryPage {
        deliveries: rows.into_iter().map(convert::delivery).collect(),
        total,
        page,
        total_pages: total.div_ceil(u64::from(PAGE_SIZE)),
    })
}

/// Queues a finished delivery for one more attempt, or makes a pending one
/// waiting for its next attempt due now.
#[server(name = RetryDeliveryFn, prefix = "/_rpc", endpoint = "retry_delivery")]
pub async fn retry_delivery(id: String) -> Result<(), DashboardError> {
    use super::context::{internal, not_found, require_account};
    use crate::storage::deliveries::{RetryResult, retry};
    let (services, account) = require_account().await?;
    let Ok(id) = crate::domain::DeliveryId::parse(&id) else { return Err(not_found("Delivery")) };
    match retry(&services.db, &account.id, &id, services.attempts_in_schedule).await.map_err(internal)? {
        RetryResult::Queued => {
            (services.wake)();
            Ok(())
        }
        RetryResult::InFlight => Err(super::error::answered(DashboardError::Conflict(
            "This delivery is being attempted right now.".to_owned(),
        ))),
        RetryResult::NotFound => Err(not_found("Delivery")),
    }
}

/// "Retry all failed since…": re-queues the hook's failed deliveries created
/// since `since` (at most 14 days back); returns how many.
#[server(name = RecoverFailedFn, prefix = "/_rpc", endpoint = "recover_failed")]
pub async fn recover_failed(id: String, since: String) -> Result<u64, DashboardError> {
    use super::context::{internal, invalid, require_account};
    use crate::domain::time_window::RecoverWindow;
    let (services, account) = require_account().await?;
    let hook = own_hook(&services, &account, &id).await?;
    let window = RecoverWindow::from_texts(&since, None, crate::storage::now_ms()).map_err(|errors| {
        invalid(errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))
    })?;
    let queued =
        crate::storage::deliveries::recover(&services.db, &account.id, &hook.id, window, services.attempts_in_schedule)
            .await
            .map_err(internal)?;
    if queued > 0 {
        (services.wake)();
    }
    tracing::info!(hook = %hook.id, queued, "failed deliveries recovered from the dashboard");
    Ok(queued)
}
