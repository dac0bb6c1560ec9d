//! The `hookrelay` service as a library: the binary (`main.rs`) parses the
//! command line and calls into it, and the API tests build the same
//! [`Application`] in their own process on port 0 (zero2prod style).
//!
//! Only what those two callers need is public: the command line
//! ([`cli`]), the commands, logging, and the application's start-up.

mod batch;
mod checkpoint;
pub mod cli;
pub mod commands;
mod delivery;
mod http;
mod ingest;
mod log_writer;
mod metrics;
mod operations;
mod secret_key;
pub mod telemetry;
mod watched;
mod write_gate;

pub use http::{Application, ServeError, serve};
