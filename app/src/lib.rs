//! Hookrelay's application crate.
//!
//! Compiled twice: for the browser (feature `hydrate`, WASM) and for the
//! server (feature `ssr`). The shared domain (types and validation) and the UI
//! are in both; the storage layer and security helpers exist only on the server.

#![recursion_limit = "256"]

pub mod components;
pub mod domain;
pub mod pages;
pub mod server_fns;
mod shell;

pub use shell::{App, shell};

#[cfg(feature = "ssr")]
pub mod security;
#[cfg(feature = "ssr")]
pub mod storage;

/// The product version, shown in the UI and sent as `user-agent`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The name cargo-leptos gives the WASM/JS/CSS bundle (`/pkg/hookrelay.*`).
pub const OUTPUT_NAME: &str = "hookrelay";
