//! One integration-test binary: every test starts the service on a free
//! loopback port with its own temporary database (a SQLite file, or with
//! `HOOKRELAY_TEST_BACKEND=postgres` a throw-away PostgreSQL database):
//! in this process on its own runtime, or as the real `hookrelay` binary
//! where signals, crashes or several processes are the point (`helpers.rs`).

// A test's failed step is its failure: `expect` says which step.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod helpers;
mod in_process;
mod publishers;
mod receiver;
mod test_db;

mod abuse;
mod auth;
mod cli;
mod crash;
mod dashboard;
mod delivery;
mod egress;
mod event_log;
mod exposure;
mod hook_options;
mod hooks_crud;
mod hooks_limits;
mod hooks_secrets;
mod hooks_validation;
mod lifecycle;
mod openapi;
mod operations;
mod operations_notices;
mod ordered;
mod pace;
mod postgres;
mod property;
mod recover;
mod server;
mod server_fn_errors;
