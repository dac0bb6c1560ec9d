//! The hydrate bundle: the `frontend` crate compiled to WASM, its JS glue
//! from wasm-bindgen, and in release `wasm-opt -Oz` (skipped when the
//! bound WASM is byte for byte the one optimised last time).

use crate::{OUTPUT_NAME, Paths, Profile, cargo, run};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;
use wasm_bindgen_cli_support::Bindgen;

const TARGET: &str = "wasm32-unknown-unknown";

/// Builds the WASM and returns the files for `pkg/`: `hookrelay.js`,
/// `hookrelay.wasm` (the name Leptos asks for when `LEPTOS_OUTPUT_NAME` is
/// set) and any JS snippets, as paths relative to `pkg/` with their bytes.
pub fn build(paths: &Paths, profile: Profile) -> Result<Vec<(String, Vec<u8>)>> {
    let wasm = compile(paths, profile)?;
    let staging = paths.target.join("xtask-bindgen");
    if staging.exists() {
        std::fs::remove_dir_all(&staging).with_context(|| format!("clearing {}", staging.display()))?;
    }
    Bindgen::new()
        .input_path(&wasm)
        .out_name(OUTPUT_NAME)
        .web(true)?
        .typescript(false)
        .generate(&staging)
        .with_context(|| format!("wasm-bindgen on {}", wasm.display()))?;

    let bound = read(&staging.join(format!("{OUTPUT_NAME}_bg.wasm")))?;
    let wasm_bytes = match profile {
        Profile::Release => optimised(paths, bound)?,
        Profile::Debug => bound,
    };
    let mut files = vec![
        (format!("{OUTPUT_NAME}.wasm"), wasm_bytes),
        (format!("{OUTPUT_NAME}.js"), read(&staging.join(format!("{OUTPUT_NAME}.js")))?),
    ];
    let snippets = staging.join("snippets");
    if snippets.exists() {
        crate::site::collect(&snippets, "snippets", &mut files)?;
    }
    Ok(files)
}

fn compile(paths: &Paths, profile: Profile) -> Result<PathBuf> {
    let mut command = cargo(paths);
    command.args(["build", "--locked", "-p", "frontend", "--lib", "--target", TARGET]);
    let dir = match profile {
        Profile::Debug => "debug",
        Profile::Release => {
            command.args(["--profile", "wasm-release"]);
            "wasm-release"
        }
    };
    run(&mut command)?;
    Ok(paths.target.join(TARGET).join(dir).join("frontend.wasm"))
}

/// `wasm-opt -Oz` on the bound WASM, or the last result if the input is
/// the same as last time.
fn optimised(paths: &Paths, bound: Vec<u8>) -> Result<Vec<u8>> {
    let (last_in, last_out) = (paths.target.join("xtask-opt-input.wasm"), paths.target.join("xtask-opt-output.wasm"));
    if last_out.exists() && std::fs::read(&last_in).is_ok_and(|last| last == bound) {
        return read(&last_out);
    }
    // The input is remembered only once its output is complete: an
    // interrupted run never pairs new JS glue with an old optimised WASM.
    let _ = std::fs::remove_file(&last_in);
    let pending = paths.target.join("xtask-opt-pending.wasm");
    std::fs::write(&pending, &bound).with_context(|| format!("writing {}", pending.display()))?;
    optimise(paths, &pending, &last_out)?;
    std::fs::rename(&pending, &last_in).with_context(|| format!("writing {}", last_in.display()))?;
    read(&last_out)
}

/// `wasm-opt` from npm's binaryen (`end2end/node_modules`): Debian's is too
/// old and breaks hydration. The features are those rustc enables for
/// wasm32-unknown-unknown.
fn optimise(paths: &Paths, input: &Path, output: &Path) -> Result<()> {
    let local = paths.root.join("end2end/node_modules/.bin/wasm-opt");
    let program = if local.exists() { local } else { PathBuf::from("wasm-opt") };
    let mut command = Command::new(&program);
    command
        .args(["-Oz", "--enable-bulk-memory", "--enable-mutable-globals", "--enable-nontrapping-float-to-int"])
        .args(["--enable-sign-ext", "--enable-reference-types", "--enable-multivalue"])
        .arg(input)
        .arg("-o")
        .arg(output);
    match command.status() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => bail!("{command:?} failed ({status})"),
        Err(e) => bail!("cannot run {} ({e}): run `(cd end2end && npm ci)` for binaryen's wasm-opt", program.display()),
    }
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}
