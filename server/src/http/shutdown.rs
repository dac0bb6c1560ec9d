//! Graceful shutdown on SIGINT or SIGTERM: axum then stops accepting
//! connections and lets in-flight requests finish (for at most
//! `startup::HTTP_DRAIN`); a second signal exits at once.

use std::future::Future;

/// Registers the signal handlers now (so a signal that arrives before the
/// server is polled is not lost) and returns a future that resolves on one.
/// A second signal after that ends the process at once (exit 130): the
/// graceful stop is bounded anyway, and nothing accepted depends on it
/// (leases bring unfinished work back after a restart).
#[cfg(unix)]
pub fn install() -> impl Future<Output = ()> {
    use tokio::signal::unix::{Signal, SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate()).ok();
    let mut interrupt = signal(SignalKind::interrupt()).ok();
    async fn next(signal: &mut Option<Signal>) {
        match signal.as_mut() {
            Some(s) => {
                s.recv().await;
            }
            None => std::future::pending().await,
        }
    }
    async move {
        tokio::select! {
            () = next(&mut terminate) => tracing::info!("SIGTERM received, shutting down"),
            () = next(&mut interrupt) => tracing::info!("SIGINT received, shutting down"),
        }
        tokio::spawn(async move {
            tokio::select! {
                () = next(&mut terminate) => {}
                () = next(&mut interrupt) => {}
            }
            tracing::warn!("a second stop signal: exiting now");
            std::process::exit(130);
        });
    }
}

#[cfg(not(unix))]
pub fn install() -> impl Future<Output = ()> {
    async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("Ctrl-C received, shutting down");
    }
}
