//! `#[server]` functions: the dashboard's calls into the server. They live
//! under `/_rpc/` so they never collide with the REST API under `/api/`.
//! Each one calls the storage layer; none holds SQL.

mod status;

pub use status::{ServiceStatus, ServiceStatusFn, service_status};
