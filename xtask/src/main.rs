//! Builds the dashboard and the binary without cargo-leptos:
//!
//! - `cargo xtask site [--release]`: `target/site/` — the hydrate WASM with
//!   its JS glue (wasm-bindgen as a library, so its version is the crate's),
//!   `wasm-opt -Oz` from npm's binaryen in release, the CSS and `public/`;
//!   in release also a `.gz` and a `.br` beside each file.
//! - `cargo xtask dist`: the release site, then the release `hookrelay`
//!   with that site packed onto its end (one file to deploy; `sitepack`).
//! - `cargo xtask binary`: only the second half, around the release site
//!   already in `target/site` (the scripts build the server beside the
//!   site, then this: the server is not compiled again, only packed).
//! - `cargo xtask dev`: the debug site and the debug `hookrelay` (which
//!   serves `--site-root target/site`), built the way `cargo leptos build`
//!   builds them, so `cargo test` and clippy reuse the same artifacts.
//!
//! The file names match cargo-leptos's (`pkg/hookrelay.{js,wasm,css}`), so
//! `cargo leptos watch` keeps working for development.

mod compress;
mod site;
mod wasm;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The bundle name the server looks for (`app::OUTPUT_NAME`).
const OUTPUT_NAME: &str = "hookrelay";

#[derive(Parser)]
#[command(about = "Build Hookrelay's dashboard and binary")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Build target/site (the dashboard's files).
    Site {
        /// Optimised WASM (profile wasm-release, wasm-opt -Oz) and compressed copies.
        #[arg(long)]
        release: bool,
    },
    /// Build the release binary with the release dashboard inside it.
    Dist,
    /// Build the release binary around the release dashboard already in target/site.
    Binary,
    /// Build the debug dashboard and the debug binary (what the tests run).
    Dev,
}

/// Where things are: the workspace and its target directory.
pub struct Paths {
    pub root: PathBuf,
    pub target: PathBuf,
}

impl Paths {
    fn find() -> Self {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
        Self { root, target }
    }

    pub fn site(&self) -> PathBuf {
        self.target.join("site")
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    Debug,
    Release,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let paths = Paths::find();
    match cli.command {
        Task::Site { release } => site::build(&paths, if release { Profile::Release } else { Profile::Debug }),
        Task::Dist => {
            site::build(&paths, Profile::Release)?;
            build_server(&paths, Profile::Release)
        }
        Task::Binary => {
            let wasm = paths.site().join(format!("pkg/{OUTPUT_NAME}.wasm.br"));
            if !wasm.exists() {
                bail!("no release dashboard in {}: run `cargo xtask site --release` first", paths.site().display());
            }
            build_server(&paths, Profile::Release)
        }
        Task::Dev => {
            site::build(&paths, Profile::Debug)?;
            build_server(&paths, Profile::Debug)
        }
    }
}

/// The cargo command with the environment cargo-leptos would give it:
/// `LEPTOS_OUTPUT_NAME` (Leptos reads it at compile time), and no
/// `RUSTFLAGS`, so that `.cargo/config.toml`'s `--cfg erase_components`
/// applies to the server and the WASM alike (the test command builds with
/// the same flags, so its builds share these artifacts).
pub fn cargo(paths: &Paths) -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(&paths.root).env("LEPTOS_OUTPUT_NAME", OUTPUT_NAME);
    // `cargo run` gave this process its package's variables (CARGO_PKG_NAME
    // = xtask, …). Build scripts such as ring's rerun when those change, so
    // a build started from here would compile ring, rustls, reqwest and the
    // server again after the same build from a plain shell: without them the
    // two share every artifact.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("CARGO_PKG_")
            || name.starts_with("CARGO_MANIFEST_")
            || ["CARGO_CRATE_NAME", "CARGO_BIN_NAME", "CARGO_PRIMARY_PACKAGE", "CARGO_TARGET_TMPDIR", "OUT_DIR"]
                .contains(&name.as_ref())
        {
            command.env_remove(name.as_ref());
        }
    }
    command.env_remove("RUSTFLAGS").env_remove("CARGO_ENCODED_RUSTFLAGS");
    command
}

pub fn run(command: &mut Command) -> Result<()> {
    let shown = format!("{command:?}");
    let status = command.status().with_context(|| format!("could not start {shown}"))?;
    if !status.success() {
        bail!("{shown} failed ({status})");
    }
    Ok(())
}

/// The `hookrelay` binary; in release with the site packed onto it.
fn build_server(paths: &Paths, profile: Profile) -> Result<()> {
    let mut command = cargo(paths);
    command.args(["build", "--locked", "-p", "server", "--bin", "hookrelay"]);
    if profile == Profile::Release {
        command.arg("--release");
    }
    run(&mut command)?;
    let dir = if profile == Profile::Release { "release" } else { "debug" };
    let binary = paths.target.join(dir).join("hookrelay");
    if profile == Profile::Release {
        pack_site(&binary, &paths.site())?;
    }
    eprintln!("built {}", binary.display());
    Ok(())
}

/// Packs `site` onto the end of `binary` (replacing a site packed before).
/// Written beside it and renamed over it: cargo hard-links the binary to
/// its own copy in `deps/`, which must stay as cargo built it.
fn pack_site(binary: &Path, site: &Path) -> Result<()> {
    let executable = std::fs::read(binary).with_context(|| binary.display().to_string())?;
    let packed = sitepack::append(&executable, site).with_context(|| format!("packing {}", site.display()))?;
    let staged = binary.with_extension("packing");
    std::fs::write(&staged, &packed).with_context(|| staged.display().to_string())?;
    let permissions = std::fs::metadata(binary)?.permissions();
    std::fs::set_permissions(&staged, permissions)?;
    std::fs::rename(&staged, binary)
        .with_context(|| format!("renaming {} over {}", staged.display(), binary.display()))?;
    Ok(())
}
