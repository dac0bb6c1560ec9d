//! Embeds the dashboard's files in the binary when `HOOKRELAY_EMBED_SITE`
//! names a built site (`cargo xtask dist` sets it): writes
//! `$OUT_DIR/embedded_site.rs` with one `EmbeddedFile` per file, its
//! precompressed copies, a strong ETag and the bundle's hashed name.
//! Without the variable nothing is embedded and the binary serves
//! `--site-root` from disk (debug builds, `cargo leptos`).

use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const BUNDLE: &str = "hookrelay";
const EMPTY: &str = "pub static FILES: &[EmbeddedFile] = &[];\npub const BUNDLE_NAME: Option<&str> = None;\n";

fn main() {
    println!("cargo::rerun-if-env-changed=HOOKRELAY_EMBED_SITE");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default()).join("embedded_site.rs");
    let code = match std::env::var_os("HOOKRELAY_EMBED_SITE") {
        Some(dir) => embed(Path::new(&dir)),
        None => EMPTY.to_owned(),
    };
    if let Err(e) = std::fs::write(&out, code) {
        panic!("cannot write {}: {e}", out.display());
    }
}

fn embed(site: &Path) -> String {
    println!("cargo::rerun-if-changed={}", site.display());
    let mut files = Vec::new();
    if site.is_dir() {
        collect(site, site, &mut files);
    }
    files.sort();
    // Not built yet (the scripts compile the server beside the dashboard):
    // nothing embedded this time; the site's files appearing later make
    // cargo run this again (`cargo xtask binary` checks the site is whole).
    if !files.iter().any(|f| f == &format!("pkg/{BUNDLE}.wasm")) {
        println!("cargo::warning=HOOKRELAY_EMBED_SITE={} holds no dashboard yet", site.display());
        return EMPTY.to_owned();
    }
    // One hash over the bundle names it: a new build gets new URLs, so the
    // old ones may be cached for ever.
    let mut bundle_hash = Sha256::new();
    for ext in ["js", "wasm", "css"] {
        bundle_hash.update(read(&site.join(format!("pkg/{BUNDLE}.{ext}"))));
    }
    let bundle_name = format!("{BUNDLE}.{}", &hex(&bundle_hash.finalize())[..16]);

    let mut code = String::from("pub static FILES: &[EmbeddedFile] = &[\n");
    for relative in &files {
        let path = site.join(relative);
        let bytes = read(&path);
        let etag = &hex(&Sha256::digest(&bytes))[..32];
        let (url, immutable) = match relative.strip_prefix(&format!("pkg/{BUNDLE}.")) {
            Some(ext) if ["js", "wasm", "css"].contains(&ext) => (format!("/pkg/{bundle_name}.{ext}"), true),
            _ => (format!("/{relative}"), false),
        };
        let variant = |suffix: &str| {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            let name = PathBuf::from(name);
            if name.exists() {
                format!("Some(include_bytes!({:?}))", name.display().to_string())
            } else {
                "None".into()
            }
        };
        let _ = writeln!(
            code,
            "    EmbeddedFile {{ path: {url:?}, etag: {etag:?}, immutable: {immutable}, identity: include_bytes!({:?}), \
             gzip: {}, brotli: {} }},",
            path.display().to_string(),
            variant(".gz"),
            variant(".br"),
        );
    }
    let _ = writeln!(code, "];\npub const BUNDLE_NAME: Option<&str> = Some({bundle_name:?});");
    code
}

/// Paths relative to `site`, `/`-separated, without the compressed copies.
fn collect(site: &Path, dir: &Path, files: &mut Vec<String>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(site, &path, files);
        } else if !matches!(path.extension().and_then(|e| e.to_str()), Some("gz" | "br"))
            && let Ok(relative) = path.strip_prefix(site)
        {
            let parts: Vec<_> = relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
            files.push(parts.join("/"));
        }
    }
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}
