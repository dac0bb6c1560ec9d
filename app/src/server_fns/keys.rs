//! API keys from the dashboard: list, create (the key is shown once), revoke.

use super::error::DashboardError;
use super::types::KeyView;
use leptos::prelude::*;

#[server(name = ListKeysFn, prefix = "/_rpc", endpoint = "list_keys")]
pub async fn list_keys() -> Result<Vec<KeyView>, DashboardError> {
    use super::context::{internal, require_account};
    let (services, account) = require_account().await?;
    let keys = crate::storage::api_keys::list(&services.db, &account.id).await.map_err(internal)?;
    Ok(keys
        .into_iter()
        .map(|k| KeyView {
            id: k.id,
            prefix: k.display_prefix,
            name: k.name,
            created_at: k.created_at,
            revoked_at: k.revoked_at,
        })
        .collect())
}

/// Creates a key and returns it: the only time it is shown.
#[server(name = CreateKeyFn, prefix = "/_rpc", endpoint = "create_key")]
pub async fn create_key(name: String) -> Result<String, DashboardError> {
    use super::context::{invalid, require_account, storage_error};
    let (services, account) = require_account().await?;
    let name = name.trim();
    if name.chars().any(char::is_control) {
        return Err(invalid("The name must not contain control characters."));
    }
    if name.chars().count() > 100 {
        return Err(invalid("The name can be at most 100 characters."));
    }
    let key = crate::storage::api_keys::create(&services.db, &account.id, name).await.map_err(storage_error)?;
    tracing::info!(account = %account.id, "API key created from the dashboard");
    Ok(key)
}

#[server(name = RevokeKeyFn, prefix = "/_rpc", endpoint = "revoke_key")]
pub async fn revoke_key(id: String) -> Result<(), DashboardError> {
    use super::context::{internal, not_found, parse_id, require_account};
    let (services, account) = require_account().await?;
    // A malformed id (one PostgreSQL cannot even compare, like a NUL) names no key.
    let id = parse_id(&id, "API key")?;
    if !crate::storage::api_keys::revoke(&services.db, &account.id, id.as_str()).await.map_err(internal)? {
        return Err(not_found("API key"));
    }
    tracing::info!(account = %account.id, key = %id, "API key revoked from the dashboard");
    Ok(())
}
