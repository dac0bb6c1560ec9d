//! The one error every server function answers with, typed on both sides of
//! the wire: the server sets the HTTP status from the variant (a person's
//! mistake is a 4xx, only our faults are 5xx), and the dashboard decides what
//! to show (log in again, not found, the message) from the variant, never
//! from message text. Encoded as JSON, so the `/_rpc/` error bodies are
//! `{"kind":"notFound","message":"Hook"}` and alike (a 429's `message` is
//! `{"message":…,"retryAfterSecs":…}`).

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", content = "message", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum DashboardError {
    /// No session, or it ended: the page offers the login form. 401.
    #[error("Your session has ended. Log in again.")]
    NotSignedIn,
    /// Wrong email or password. 401.
    #[error("Wrong email or password.")]
    WrongCredentials,
    /// The account has no such thing (or it does not exist); names what. 404.
    #[error("{0} not found")]
    NotFound(String),
    /// The input was refused; says why. 400.
    #[error("{0}")]
    Invalid(String),
    /// The request conflicts with the current state (already queued). 409.
    #[error("{0}")]
    Conflict(String),
    /// Over a limit (rate or account limit); says when to try again. 429.
    #[error("{message}")]
    TooMany { message: String, retry_after_secs: u64 },
    /// A cross-site call. 403.
    #[error("Cross-site requests to the dashboard are refused.")]
    CrossSite,
    /// Not this account's to do; says why. 403.
    #[error("{0}")]
    Forbidden(String),
    /// Our fault; the cause is in the server's log, not here. 500.
    #[error("Something went wrong on the server; try again.")]
    Internal,
    /// The call never got a server's answer (network, or an answer this
    /// dashboard cannot read). Only made in the browser.
    #[error("The server could not be reached ({0}). Check your connection and try again.")]
    Unreachable(String),
}

impl DashboardError {
    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            Self::Invalid(_) => 400,
            Self::NotSignedIn | Self::WrongCredentials => 401,
            Self::CrossSite | Self::Forbidden(_) => 403,
            Self::NotFound(_) => 404,
            Self::Conflict(_) => 409,
            Self::TooMany { .. } => 429,
            Self::Internal | Self::Unreachable(_) => 500,
        }
    }

    /// The error's JSON body as the dashboard reads it.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| r#"{"kind":"internal"}"#.to_owned())
    }
}

impl FromServerFnError for DashboardError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // Arguments the server could not read are the caller's mistake.
            ServerFnErrorErr::Args(m) | ServerFnErrorErr::MissingArg(m) => {
                answered(Self::Invalid(format!("The request's arguments are not valid: {m}")))
            }
            ServerFnErrorErr::Request(m) | ServerFnErrorErr::Response(m) => Self::Unreachable(m),
            ServerFnErrorErr::Deserialization(m) if cfg!(feature = "ssr") => {
                answered(Self::Invalid(format!("The request could not be read: {m}")))
            }
            ServerFnErrorErr::Deserialization(m) => Self::Unreachable(m),
            other => {
                #[cfg(feature = "ssr")]
                tracing::error!(error = %other, "server function failed");
                #[cfg(not(feature = "ssr"))]
                let _ = other;
                answered(Self::Internal)
            }
        }
    }
}

/// On the server, sets this request's HTTP status (and `Retry-After` for a
/// 429) from the error, then returns it: every server-function error goes
/// through here once, so its status always matches its kind.
pub fn answered(error: DashboardError) -> DashboardError {
    // A plain HTML form post (no JavaScript yet: the login form) is answered
    // by server_fn with a redirect back to the form, the error in its URL;
    // a status set here would replace that redirect with a JSON page.
    // (Only a call of a server function itself: while a page renders, the
    // context holds the page request, whose errors keep their status.)
    #[cfg(feature = "ssr")]
    let form_post = leptos::prelude::use_context::<http::request::Parts>().is_some_and(|parts| {
        parts.uri.path().starts_with("/_rpc/")
            && parts
                .headers
                .get(http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|a| a.contains("text/html"))
    });
    #[cfg(feature = "ssr")]
    if form_post {
        return error;
    }
    #[cfg(feature = "ssr")]
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        if let Ok(status) = http::StatusCode::from_u16(error.status()) {
            response.set_status(status);
        }
        if let DashboardError::TooMany { retry_after_secs, .. } = &error {
            // Every 429 carries Retry-After (SPEC §2.1), as on the REST API.
            response.insert_header(http::header::RETRY_AFTER, http::HeaderValue::from(*retry_after_secs));
        }
    }
    error
}
