//! `#[server]` functions: the dashboard's calls into the server. They live
//! under `/_rpc/` so they never collide with the REST API under `/api/`.
//! Each one checks the session and the account owning the data, then calls
//! the same validation and storage as the REST API; none holds SQL.
//! Cross-site calls are refused before they get here (server `http/csrf.rs`).

mod auth;
#[cfg(feature = "ssr")]
pub mod context;
pub mod error;
mod events;
mod hooks;
mod keys;
mod operations;
mod ordered;
mod overview;
mod status;
pub mod types;

pub use auth::*;
pub use error::DashboardError;
pub use events::*;
pub use hooks::*;
pub use keys::*;
pub use operations::*;
pub use ordered::*;
pub use overview::*;
pub use status::{ServiceStatus, ServiceStatusFn, service_status};
