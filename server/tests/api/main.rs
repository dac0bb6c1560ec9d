//! One integration-test binary: every test spawns the real `hookrelay`
//! binary on a free loopback port with its own temporary database: a SQLite
//! file, or with `HOOKRELAY_TEST_BACKEND=postgres` a throw-away PostgreSQL
//! database (`helpers.rs`).

// A test's failed step is its failure: `expect` says which step.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod helpers;
mod receiver;
mod test_db;

mod abuse;
mod auth;
mod cli;
mod crash;
mod dashboard;
mod delivery;
mod egress;
mod exposure;
mod hooks_crud;
mod hooks_limits;
mod hooks_secrets;
mod hooks_validation;
mod lifecycle;
mod openapi;
mod operations;
mod postgres;
mod property;
mod server;
mod server_fn_errors;
