//! `hookrelay serve` inside the test process: the same `Application` the
//! binary builds, from the same flags, bound to port 0 on loopback.
//!
//! Each app gets its own tokio runtime on its own threads, and those threads
//! log into the app's own subscriber (set per thread at start), so a test
//! reads its server's log lines as it would a process's stderr while other
//! tests run beside it. Stopping drops the runtime without draining, as a
//! `kill` would; tests of signals, crashes and the environment spawn the
//! binary instead (`helpers.rs`).

use clap::Parser;
use std::io::Write;
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::oneshot;

/// The binary's default filter (`telemetry.rs`): tests read the same lines.
const FILTER: &str = "info,sqlx=warn,leptos_axum=warn";

/// A running in-process server; dropping it stops it.
pub struct Running {
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// Builds and starts the application with `serve` flags; returns it with its URL.
pub fn start(args: &[String], logs: Arc<Mutex<Vec<String>>>) -> (Running, String) {
    let argv = ["hookrelay", "serve"].into_iter().map(str::to_owned).chain(args.iter().cloned());
    let serve = match hookrelay::cli::Cli::try_parse_from(argv).map(|cli| cli.command) {
        Ok(Some(hookrelay::cli::Command::Serve(serve))) => *serve,
        other => panic!("not `serve` flags: {other:?}"),
    };
    let (started_tx, started_rx) = mpsc::channel();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let sink = logs.clone();
    let thread = std::thread::spawn(move || {
        let dispatch = tracing::Dispatch::new(
            tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new(FILTER))
                .with_writer(move || LineSink { logs: sink.clone(), buffer: Vec::new() })
                .with_ansi(false)
                .with_target(false)
                .finish(),
        );
        let for_workers = dispatch.clone();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            // Every thread of this runtime, blocking pool included, logs to this app.
            .on_thread_start(move || std::mem::forget(tracing::dispatcher::set_default(&for_workers)))
            .build()
            .expect("a runtime for the app");
        let _default = tracing::dispatcher::set_default(&dispatch);
        runtime.block_on(async move {
            let app = match hookrelay::Application::build(serve).await {
                Ok(app) => app,
                Err(e) => {
                    let _ = started_tx.send(Err(e.to_string()));
                    return;
                }
            };
            let _ = started_tx.send(app.addr().map_err(|e| e.to_string()));
            let never = std::future::pending::<()>();
            tokio::select! {
                served = app.run_until_stopped(never) => {
                    if let Err(e) = served {
                        tracing::error!("the in-process server stopped: {e}");
                    }
                }
                _ = stop_rx => {}
            }
        });
        // What is still in flight is dropped, not drained: a kill, not a SIGTERM.
        runtime.shutdown_background();
    });
    let running = Running { stop: Some(stop_tx), thread: Some(thread) };
    match started_rx.recv_timeout(Duration::from_secs(30)) {
        Ok(Ok(addr)) => (running, format!("http://{addr}")),
        Ok(Err(e)) => panic!("hookrelay did not start: {e}; log: {:?}", logs.lock().map(|l| l.clone())),
        Err(_) => panic!("hookrelay did not start in 30 s: {:?}", logs.lock().map(|l| l.clone())),
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One log event's bytes; on drop they become lines in the app's log (and
/// on the test's stderr, shown when the test fails).
struct LineSink {
    logs: Arc<Mutex<Vec<String>>>,
    buffer: Vec<u8>,
}

impl Write for LineSink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LineSink {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.buffer);
        let mut logs = self.logs.lock().expect("log lock");
        for line in text.lines() {
            eprintln!("[hookrelay] {line}");
            logs.push(line.to_owned());
        }
    }
}
