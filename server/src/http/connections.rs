//! Accepting connections: each served by hyper (HTTP/1.1, as before) with
//! a header-read timeout (75 s), so a client that
//! never finishes its request head cannot hold a connection for ever
//! (`axum::serve` gives hyper no timer, so hyper's own default timeout
//! never applied: a slowloris client kept a socket and a task each). On
//! stop: no new connections; open ones finish the request in progress
//! and close (`run_until_stopped` bounds that wait).

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::time::Duration;
use tokio::net::TcpListener;

/// How long a client has to send a request's head (line and headers),
/// from the connection's start or the end of its previous request — so
/// also how long an idle keep-alive connection stays open. 75 s, nginx's
/// `keepalive_timeout`: longer than the idle timeout of the proxies that
/// keep connections to a backend (AWS ALB, nginx upstreams: 60 s), which
/// must close first or a request crossing the close gets a 502.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(75);

/// Serves `router` on `listener` until `stop` resolves, then waits for the
/// open connections to finish their requests.
pub async fn serve(listener: TcpListener, router: Router, stop: impl Future<Output = ()>) {
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT);
    let graceful = GracefulShutdown::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // One client's connection gone before it was accepted.
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    // Out of file descriptors, say: wait, without spinning
                    // and without missing the stop.
                    tracing::error!(error = %e, "accepting a connection failed; retrying in a second");
                    tokio::select! {
                        () = &mut stop => break,
                        () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    }
                }
            },
        };
        // The peer address feeds the per-client limits (`client.rs`).
        let service = tower::ServiceExt::map_request(
            router.clone(),
            move |mut request: axum::http::Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            },
        );
        let connection = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A connection ending in an error (reset, timed out, bad
            // request head) is the client's business.
            let _ = connection.await;
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    matches!(e.kind(), ConnectionRefused | ConnectionAborted | ConnectionReset)
}
