//! One integration-test binary: every test spawns the real `hookrelay`
//! binary on a free loopback port with its own temporary SQLite file.

mod helpers;
mod receiver;

mod auth;
mod cli;
mod crash;
mod dashboard;
mod delivery;
mod hooks_crud;
mod hooks_limits;
mod hooks_secrets;
mod hooks_validation;
mod openapi;
mod operations;
mod property;
mod server;
