use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ServiceStatus {
    pub version: String,
    pub database_ok: bool,
}

/// The service's health as the dashboard shows it.
#[server(name = ServiceStatusFn, prefix = "/_rpc", endpoint = "service_status")]
pub async fn service_status() -> Result<ServiceStatus, ServerFnError> {
    let db = use_context::<crate::storage::Db>().ok_or_else(|| ServerFnError::new("the database is not configured"))?;
    let database_ok = crate::storage::ping(&db).await.is_ok();
    Ok(ServiceStatus { version: crate::VERSION.to_owned(), database_ok })
}
