//! One integration-test binary: every test spawns the real `hookrelay`
//! binary on a free loopback port with its own temporary database: a SQLite
//! file, or with `HOOKRELAY_TEST_BACKEND=postgres` a throw-away PostgreSQL
//! database (`helpers.rs`).

mod helpers;
mod test_db;
mod receiver;

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
