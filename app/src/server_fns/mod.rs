//! `#[server]` functions: the dashboard's calls into the server. They live
//! under `/_rpc/` so they never collide with the REST API under `/api/`.
//! Each one checks the session and the account owning the data, then calls
//! the same validation and storage as the REST API; none holds SQL.
//! Cross-site calls are refused before they get here (server `http/csrf.rs`).

mod auth;
#[cfg(feature = "ssr")]
pub mod context;
mod hooks;
mod keys;
mod overview;
mod status;
pub mod types;

pub use auth::*;
pub use hooks::*;
pub use keys::*;
pub use overview::*;
pub use status::{ServiceStatus, ServiceStatusFn, service_status};

use leptos::prelude::ServerFnError;

/// The message of the error every server function gives without a valid session.
pub const NOT_SIGNED_IN: &str = "not signed in";

/// What to show a person for a failed call.
pub fn error_text(e: &ServerFnError) -> String {
    match e {
        ServerFnError::ServerError(message) => message.clone(),
        other => format!("The server could not be reached ({other}). Check your connection and try again."),
    }
}
