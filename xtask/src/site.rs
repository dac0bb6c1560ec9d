//! `target/site/`: what the browser loads — `pkg/` (JS, WASM, CSS) and the
//! files of `public/` at the root. Files are written only when their bytes
//! changed, and files no longer produced are removed, so an unchanged
//! dashboard leaves the directory untouched (and the binary that embeds it
//! is not rebuilt).

use crate::{OUTPUT_NAME, Paths, Profile, compress, wasm};
use anyhow::{Context, Result};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

pub fn build(paths: &Paths, profile: Profile) -> Result<()> {
    let site = paths.site();
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, bytes) in wasm::build(paths, profile)? {
        files.push((format!("pkg/{name}"), bytes));
    }
    // Plain CSS: copied as it is (no preprocessor, nothing downloaded).
    let css = paths.root.join("style/main.css");
    files.push((format!("pkg/{OUTPUT_NAME}.css"), std::fs::read(&css).with_context(|| css.display().to_string())?));
    collect(&paths.root.join("public"), "", &mut files)?;

    let mut produced = HashSet::new();
    for (relative, bytes) in &files {
        let path = site.join(relative);
        let changed = write_if_changed(&path, bytes)?;
        produced.insert(path.clone());
        if profile == Profile::Release {
            for (copy, compressed) in compress::copies(&path, bytes, changed)? {
                if let Some(compressed) = compressed {
                    write_if_changed(&copy, &compressed)?;
                }
                if copy.exists() {
                    produced.insert(copy);
                }
            }
        }
    }
    remove_others(&site, &produced)?;
    eprintln!("built {}", site.display());
    Ok(())
}

/// The files under `dir`, as `prefix/relative path` with their bytes.
pub fn collect(dir: &Path, prefix: &str, files: &mut Vec<(String, Vec<u8>)>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let relative = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
        if entry.file_type()?.is_dir() {
            collect(&entry.path(), &relative, files)?;
        } else {
            files.push((relative, std::fs::read(entry.path()).with_context(|| entry.path().display().to_string())?));
        }
    }
    Ok(())
}

/// Writes `bytes` unless the file already holds exactly them; true if written.
fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<bool> {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(false);
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))?;
    Ok(true)
}

/// Removes every file under `dir` that this build did not produce.
fn remove_others(dir: &Path, produced: &HashSet<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            remove_others(&path, produced)?;
        } else if !produced.contains(&path) {
            std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
        }
    }
    Ok(())
}
