//! What the server gives the server functions (through Leptos context) and
//! the checks every one of them starts with: the session and its account.

use super::error::{DashboardError, answered};
use crate::domain::{Catalogue, ResourceId};
use crate::security::SecretBox;
use crate::storage::accounts::Account;
use crate::storage::{Db, sessions};
use leptos::prelude::*;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// (account, hook) → the queued test event's id, `None` without such a hook.
pub type SendTest =
    Arc<dyn Fn(ResourceId, ResourceId) -> BoxFuture<Result<Option<String>, DashboardError>> + Send + Sync>;

/// (email, client address) → `Err(seconds to wait)` when over a limit.
pub type LoginLimit = Arc<dyn Fn(&str, &str) -> Result<(), u64> + Send + Sync>;

/// The client's address as the limits count it (the server puts it on every
/// request: the peer, or what a trusted proxy says; IPv6 by its /64).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientAddress(pub String);

/// This request's client address; "unknown" when the server gave none.
pub fn client_address() -> String {
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<ClientAddress>().map(|c| c.0.clone()))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "hookrelay_session";

/// The server's parts the dashboard uses, provided by `hookrelay serve`.
#[derive(Clone)]
pub struct Services {
    pub db: Db,
    pub secrets: SecretBox,
    pub catalogue: Arc<Catalogue>,
    /// Attempts a delivery gets (a manual retry leaves exactly one).
    pub attempts_in_schedule: i64,
    /// Queues a test event for one of the account's hooks through the same
    /// path as `POST /api/v1/hook/{id}/test`; returns the event id, or
    /// `None` when the account has no such hook.
    pub send_test: SendTest,
    /// Tells the dispatcher that a delivery was queued again.
    pub wake: Arc<dyn Fn() + Send + Sync>,
    /// Login attempts per email and client address: `Err(seconds to wait)` when over a limit.
    pub login_allowed: LoginLimit,
}

pub fn services() -> Result<Services, DashboardError> {
    use_context::<Services>().ok_or_else(|| internal("the server's services are not in the Leptos context"))
}

/// The session token from the request's cookie, if any.
pub fn session_token() -> Option<String> {
    session_token_in(&use_context::<http::request::Parts>()?.headers)
}

/// The session token in these request headers' cookie, if any.
pub fn session_token_in(headers: &http::HeaderMap) -> Option<String> {
    headers.get_all(http::header::COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|header| {
        cookie::Cookie::split_parse(header)
            .filter_map(Result::ok)
            .find(|c| c.name() == SESSION_COOKIE && !c.value().is_empty())
            .map(|c| c.value().to_owned())
    })
}

/// The signed-in account, or an error that makes the page go to the login form.
pub async fn require_account() -> Result<(Services, Account), DashboardError> {
    let services = services()?;
    let account = match session_token() {
        Some(token) => sessions::account(&services.db, &token).await.map_err(internal)?,
        None => None,
    };
    match account {
        Some(account) => Ok((services, account)),
        None => {
            // A direct call gets a 401; a page being rendered goes to the login form.
            let direct = use_context::<http::request::Parts>().is_some_and(|p| p.uri.path().starts_with("/_rpc/"));
            if direct {
                Err(answered(DashboardError::NotSignedIn))
            } else {
                leptos_axum::redirect("/login");
                Err(DashboardError::NotSignedIn)
            }
        }
    }
}

/// Logs the cause and gives the browser a 500 without internals.
pub fn internal(e: impl std::fmt::Display) -> DashboardError {
    tracing::error!(error = %e, "server function failed");
    answered(DashboardError::Internal)
}

/// A storage error as the browser should see it: the user's own mistakes
/// (an account limit, text the database cannot hold) with their 4xx and
/// message, anything else as `internal`.
pub fn storage_error(e: crate::storage::StorageError) -> DashboardError {
    use crate::storage::StorageError;
    match &e {
        StorageError::LimitReached { .. } => {
            answered(DashboardError::TooMany { message: e.to_string(), retry_after_secs: 60 })
        }
        StorageError::UnstorableText => answered(DashboardError::Invalid(e.to_string())),
        StorageError::Changed(_) => answered(DashboardError::Conflict(e.to_string())),
        _ => internal(e),
    }
}

/// A 404 for ids the account does not own (or that do not exist).
pub fn not_found(what: &str) -> DashboardError {
    answered(DashboardError::NotFound(what.to_owned()))
}

/// A 400 saying what is wrong with the input.
pub fn invalid(why: impl Into<String>) -> DashboardError {
    answered(DashboardError::Invalid(why.into()))
}

/// Parses an id from the browser; a malformed one is simply not found.
pub fn parse_id(id: &str, what: &str) -> Result<ResourceId, DashboardError> {
    ResourceId::parse(id).map_err(|_| not_found(what))
}
