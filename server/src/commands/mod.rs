//! The non-server subcommands.

pub mod migrate;
pub mod rotate;
pub mod users;

use app::domain::{EmailError, PasswordError, UnknownVertical};
use app::security::SecurityError;
use app::storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("email {0}")]
    Email(#[from] EmailError),
    #[error("password {0}")]
    Password(#[from] PasswordError),
    #[error(transparent)]
    Vertical(#[from] UnknownVertical),
    #[error("no account with email {0}")]
    NoSuchAccount(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Security(#[from] SecurityError),
    #[error(transparent)]
    Serve(#[from] crate::http::ServeError),
    #[error("cannot copy: {0}")]
    Copy(#[from] app::storage::migrate::CopyError),
    #[error("{0}")]
    Usage(&'static str),
}
