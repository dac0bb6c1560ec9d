//! Hookrelay's application crate.
//!
//! Compiled twice: for the browser (feature `hydrate`, WASM) and for the
//! server (feature `ssr`). The shared domain (types and validation) and the UI
//! are in both; the storage layer and security helpers exist only on the server.

#![recursion_limit = "256"]

// The server and the WASM must agree on Leptos's type-erased views, or the
// page does not hydrate: `.cargo/config.toml` sets the flag for every build.
// A build without it (a RUSTFLAGS variable, or a `target.*.rustflags` in
// another cargo config, replaces that setting) stops here instead.
#[cfg(not(erase_components))]
compile_error!(
    "build with `--cfg erase_components` (set in .cargo/config.toml; a RUSTFLAGS variable or a target rustflags setting replaces it)"
);

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
