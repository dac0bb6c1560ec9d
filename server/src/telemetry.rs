//! Logging: `tracing` to stderr, one line per event, filter from `RUST_LOG`
//! (default `info`). stdout is kept for command output (API keys).
//! Lines are written by a background thread (`tracing-appender`), so a
//! request or a delivery attempt never waits on a write to stderr.

use std::io::IsTerminal;
use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;

/// Keep the guard alive until exit: dropping it flushes what is queued.
pub fn init() -> WorkerGuard {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,leptos_axum=warn"));
    // Not lossy: when the queue is full, logging waits rather than dropping lines.
    let (writer, guard) = NonBlockingBuilder::default().lossy(false).finish(std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
    guard
}
