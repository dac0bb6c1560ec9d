//! The account's operations endpoint from the dashboard's settings page
//! (the same validation and storage as `/api/v1/account/operations`).

use super::error::DashboardError;
use leptos::prelude::*;

/// The account's operations endpoint, if set.
#[server(name = OperationsSettingsFn, prefix = "/_rpc", endpoint = "operations_settings")]
pub async fn operations_settings() -> Result<Option<String>, DashboardError> {
    use super::context::{internal, require_account};
    let (services, account) = require_account().await?;
    crate::storage::operations::endpoint(&services.db, &account.id).await.map_err(internal)
}

/// Sets the operations endpoint (a URL checked like a hook's).
#[server(name = SaveOperationsEndpointFn, prefix = "/_rpc", endpoint = "save_operations_endpoint")]
pub async fn save_operations_endpoint(endpoint: String) -> Result<(), DashboardError> {
    use super::context::{invalid, require_account, storage_error};
    use crate::domain::operations_input::parse_operations_endpoint;
    let (services, account) = require_account().await?;
    let endpoint = parse_operations_endpoint(&serde_json::json!({ "endpoint": endpoint }))
        .map_err(|errors| invalid(errors.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join("; ")))?;
    crate::storage::operations::set_endpoint(&services.db, &services.secrets, &account.id, &endpoint)
        .await
        .map_err(storage_error)?;
    tracing::info!("operations endpoint set from the dashboard");
    Ok(())
}

/// Removes the operations endpoint.
#[server(name = RemoveOperationsEndpointFn, prefix = "/_rpc", endpoint = "remove_operations_endpoint")]
pub async fn remove_operations_endpoint() -> Result<(), DashboardError> {
    use super::context::{internal, require_account};
    let (services, account) = require_account().await?;
    crate::storage::operations::clear(&services.db, &account.id).await.map_err(internal)?;
    tracing::info!("operations endpoint removed from the dashboard");
    Ok(())
}

/// The operations signing secret (`whsec_…`), for "Reveal".
#[server(name = RevealOperationsSecretFn, prefix = "/_rpc", endpoint = "reveal_operations_secret")]
pub async fn reveal_operations_secret() -> Result<String, DashboardError> {
    use super::context::{internal, not_found, require_account};
    let (services, account) = require_account().await?;
    crate::storage::operations::signing_secret(&services.db, &services.secrets, &account.id)
        .await
        .map_err(internal)?
        .ok_or_else(|| not_found("Operations endpoint"))
}
