//! Logging: `tracing` to stderr, one line per event, filter from `RUST_LOG`
//! (default `info`). stdout is kept for command output (API keys).
//! Lines are written to stderr in batches by a background thread
//! (`log_writer`), so a request or a delivery attempt never waits on a
//! write to stderr.

use crate::log_writer::{self, FlushOnDrop};
use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// Keep the guard alive until exit: dropping it writes what is buffered.
pub fn init() -> std::io::Result<FlushOnDrop> {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,leptos_axum=warn"));
    let (writer, guard) = log_writer::start(std::io::stderr())?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
    Ok(guard)
}
