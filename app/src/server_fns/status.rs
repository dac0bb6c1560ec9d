use super::error::DashboardError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ServiceStatus {
    pub version: String,
    pub database_ok: bool,
}

/// The service's health as the dashboard shows it.
#[server(name = ServiceStatusFn, prefix = "/_rpc", endpoint = "service_status")]
pub async fn service_status() -> Result<ServiceStatus, DashboardError> {
    let db = use_context::<crate::storage::Db>()
        .ok_or_else(|| super::context::internal("the database is not in the Leptos context"))?;
    let database_ok = crate::storage::ping(&db).await.is_ok();
    Ok(ServiceStatus { version: crate::VERSION.to_owned(), database_ok })
}
