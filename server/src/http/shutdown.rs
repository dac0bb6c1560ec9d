//! Graceful shutdown on SIGINT or SIGTERM: axum then stops accepting
//! connections and lets in-flight requests finish.

use std::future::Future;

/// Registers the signal handlers now (so a signal that arrives before the
/// server is polled is not lost) and returns a future that resolves on one.
#[cfg(unix)]
pub fn install() -> impl Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate()).ok();
    let mut interrupt = signal(SignalKind::interrupt()).ok();
    async move {
        let term = async {
            match terminate.as_mut() {
                Some(s) => s.recv().await,
                None => std::future::pending().await,
            }
        };
        let int = async {
            match interrupt.as_mut() {
                Some(s) => s.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = term => tracing::info!("SIGTERM received, shutting down"),
            _ = int => tracing::info!("SIGINT received, shutting down"),
        }
    }
}

#[cfg(not(unix))]
pub fn install() -> impl Future<Output = ()> {
    async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("Ctrl-C received, shutting down");
    }
}
