//! Precompressed copies (`.gz`, `.br`) beside each file of the release
//! site, made once at build time so the server never compresses per
//! request. A copy is kept only when it saves something.

use anyhow::Result;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The `.gz` and `.br` paths of `path`, each with new bytes to write when
/// the original `changed` or the copy is missing (`None`: leave it as it is;
/// a copy that would save nothing is not made).
pub fn copies(path: &Path, original: &[u8], changed: bool) -> Result<Vec<(PathBuf, Option<Vec<u8>>)>> {
    let mut out = Vec::new();
    for suffix in ["gz", "br"] {
        let mut name = path.as_os_str().to_owned();
        name.push(format!(".{suffix}"));
        let copy = PathBuf::from(name);
        if !changed && is_newer(&copy, path) {
            out.push((copy, None));
            continue;
        }
        let bytes = if suffix == "gz" { gzip(original)? } else { brotli(original)? };
        if bytes.len() < original.len() {
            out.push((copy, Some(bytes)));
        } else if copy.exists() {
            std::fs::remove_file(&copy)?;
        }
    }
    Ok(out)
}

fn gzip(original: &[u8]) -> Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(original)?;
    Ok(encoder.finish()?)
}

fn brotli(original: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams { quality: 11, lgwin: 22, ..Default::default() };
    brotli::BrotliCompress(&mut &original[..], &mut out, &params)?;
    Ok(out)
}

/// Whether `copy` exists and was written after `original` (a copy left by
/// an interrupted build is older, and made again).
fn is_newer(copy: &Path, original: &Path) -> bool {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    matches!((modified(copy), modified(original)), (Some(c), Some(o)) if c >= o)
}
