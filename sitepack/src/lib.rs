//! The dashboard's files appended to the `hookrelay` executable, so the
//! release binary is one file to deploy without compiling the server a
//! second time around the finished site (`cargo xtask binary` appends,
//! the server reads its own executable at start).
//!
//! Layout, from the end of the file backwards:
//!
//! ```text
//! <executable> <blobs> <index> <blobs length: u64 LE> <index length: u64 LE> <MAGIC>
//! ```
//!
//! The index is text, one line per file after a `bundle <name>` line:
//! `<url path> <etag> <immutable 0|1> <offset> <length> <gzip offset|-> <gzip length|->
//! <brotli offset|-> <brotli length|->`, offsets relative to the first blob.
//! Stripping a binary with `strip` drops what follows the ELF sections.

use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// Ends every executable with a site appended.
pub const MAGIC: &[u8; 8] = b"HRSITE\x00\x01";
const TRAILER: u64 = 8 + 8 + 8;
/// The bundle's base name in `pkg/` (`app::OUTPUT_NAME`).
pub const BUNDLE: &str = "hookrelay";

/// Where some bytes are in the executable file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub offset: u64,
    pub len: u64,
}

/// One file of the site.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The URL path it answers (the bundle's with its content hash).
    pub path: String,
    /// Hex digest of the uncompressed bytes.
    pub etag: String,
    /// Named by content hash: cacheable for ever.
    pub immutable: bool,
    pub identity: Span,
    pub gzip: Option<Span>,
    pub brotli: Option<Span>,
}

/// The site found at the end of an executable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packed {
    /// `hookrelay.<16 hex>`: what the page asks for in `/pkg/`.
    pub bundle: String,
    pub files: Vec<Entry>,
}

#[derive(Debug)]
pub enum Error {
    Io(std::io::Error),
    /// The trailer is there but what it points at is not a packed site.
    Damaged(&'static str),
    /// The site directory lacks the bundle, or names a file the format cannot hold.
    Site(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Io(e) => write!(f, "{e}"),
            Self::Damaged(what) => write!(f, "the dashboard appended to the executable is damaged: {what}"),
            Self::Site(what) => write!(f, "{what}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}

/// The site packed at the end of `file`, if there is one.
pub fn read(file: &mut File) -> Result<Option<Packed>, Error> {
    let file_len = file.metadata()?.len();
    if file_len < TRAILER {
        return Ok(None);
    }
    let mut trailer = [0u8; 24];
    file.seek(SeekFrom::Start(file_len - TRAILER))?;
    file.read_exact(&mut trailer)?;
    if &trailer[16..] != MAGIC {
        return Ok(None);
    }
    let blobs_len = u64_at(&trailer, 0);
    let index_len = u64_at(&trailer, 8);
    let start = blobs_len
        .checked_add(index_len)
        .and_then(|n| n.checked_add(TRAILER))
        .and_then(|n| file_len.checked_sub(n))
        .ok_or(Error::Damaged("lengths larger than the file"))?;
    let mut index = vec![0u8; usize::try_from(index_len).map_err(|_| Error::Damaged("index length"))?];
    file.seek(SeekFrom::Start(start + blobs_len))?;
    file.read_exact(&mut index)?;
    let index = String::from_utf8(index).map_err(|_| Error::Damaged("index is not text"))?;
    parse_index(&index, start, blobs_len).map(Some)
}

fn u64_at(bytes: &[u8; 24], at: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}

fn parse_index(index: &str, start: u64, blobs_len: u64) -> Result<Packed, Error> {
    let mut lines = index.lines();
    let bundle =
        lines.next().and_then(|l| l.strip_prefix("bundle ")).ok_or(Error::Damaged("no bundle line"))?.to_owned();
    let mut files = Vec::new();
    for line in lines {
        let parts: Vec<&str> = line.split(' ').collect();
        let [path, etag, immutable, offset, len, gz_offset, gz_len, br_offset, br_len] = parts[..] else {
            return Err(Error::Damaged("an index line without nine fields"));
        };
        let span = |offset: &str, len: &str| -> Result<Option<Span>, Error> {
            if offset == "-" {
                return Ok(None);
            }
            let (Ok(offset), Ok(len)) = (offset.parse::<u64>(), len.parse::<u64>()) else {
                return Err(Error::Damaged("a span that is not a number"));
            };
            if offset.checked_add(len).is_none_or(|end| end > blobs_len) {
                return Err(Error::Damaged("a span beyond the blobs"));
            }
            Ok(Some(Span { offset: start + offset, len }))
        };
        files.push(Entry {
            path: path.to_owned(),
            etag: etag.to_owned(),
            immutable: immutable == "1",
            identity: span(offset, len)?.ok_or(Error::Damaged("a file without its bytes"))?,
            gzip: span(gz_offset, gz_len)?,
            brotli: span(br_offset, br_len)?,
        });
    }
    Ok(Packed { bundle, files })
}

/// `executable` without a site packed onto it (itself when there is none).
pub fn strip(executable: &[u8]) -> &[u8] {
    let Some(trailer_at) = executable.len().checked_sub(24) else {
        return executable;
    };
    if &executable[trailer_at + 16..] != MAGIC {
        return executable;
    }
    let mut trailer = [0u8; 24];
    trailer.copy_from_slice(&executable[trailer_at..]);
    let packed = u64_at(&trailer, 0).saturating_add(u64_at(&trailer, 8)).saturating_add(TRAILER);
    match usize::try_from(packed).ok().and_then(|n| executable.len().checked_sub(n)) {
        Some(end) => &executable[..end],
        None => executable,
    }
}

/// `executable` (any site already on it replaced) with the release site in
/// `site` packed onto it: each file with its `.gz`/`.br` copies when they
/// exist, a strong ETag, and the bundle (`pkg/hookrelay.{js,wasm,css}`)
/// renamed after a hash of its contents so it can be cached for ever.
pub fn append(executable: &[u8], site: &Path) -> Result<Vec<u8>, Error> {
    let mut relative = Vec::new();
    collect(site, site, &mut relative)?;
    relative.sort();
    if !relative.iter().any(|f| f == &format!("pkg/{BUNDLE}.wasm")) {
        return Err(Error::Site(format!("{} holds no built dashboard (pkg/{BUNDLE}.wasm)", site.display())));
    }
    // One hash over the bundle names it: a new build gets new URLs.
    let mut bundle_hash = Sha256::new();
    for ext in ["js", "wasm", "css"] {
        bundle_hash.update(std::fs::read(site.join(format!("pkg/{BUNDLE}.{ext}")))?);
    }
    let bundle = format!("{BUNDLE}.{}", &hex(&bundle_hash.finalize())[..16]);

    let mut out = strip(executable).to_vec();
    let start = out.len();
    let mut index = format!("bundle {bundle}\n");
    for name in &relative {
        if name.contains(char::is_whitespace) {
            return Err(Error::Site(format!("{name}: a file name with white space")));
        }
        let path = site.join(name);
        let bytes = std::fs::read(&path)?;
        let etag = hex(&Sha256::digest(&bytes))[..32].to_owned();
        let (url, immutable) = match name.strip_prefix(&format!("pkg/{BUNDLE}.")) {
            Some(ext) if ["js", "wasm", "css"].contains(&ext) => (format!("/pkg/{bundle}.{ext}"), 1),
            _ => (format!("/{name}"), 0),
        };
        let mut blob = |bytes: &[u8]| {
            let offset = out.len() - start;
            out.extend_from_slice(bytes);
            format!("{offset} {}", bytes.len())
        };
        let identity = blob(&bytes);
        let mut copy = |suffix: &str| -> Result<String, Error> {
            let mut copy_path = path.as_os_str().to_owned();
            copy_path.push(suffix);
            match std::fs::read(Path::new(&copy_path)) {
                Ok(compressed) => Ok(blob(&compressed)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok("- -".to_owned()),
                Err(e) => Err(e.into()),
            }
        };
        let gzip = copy(".gz")?;
        let brotli = copy(".br")?;
        let _ = writeln!(index, "{url} {etag} {immutable} {identity} {gzip} {brotli}");
    }
    let blobs_len = (out.len() - start) as u64;
    out.extend_from_slice(index.as_bytes());
    out.extend_from_slice(&blobs_len.to_le_bytes());
    out.extend_from_slice(&(index.len() as u64).to_le_bytes());
    out.extend_from_slice(MAGIC);
    Ok(out)
}

/// Paths relative to `site`, `/`-separated, without the compressed copies.
fn collect(site: &Path, dir: &Path, files: &mut Vec<String>) -> Result<(), Error> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(site, &path, files)?;
        } else if !matches!(path.extension().and_then(|e| e.to_str()), Some("gz" | "br"))
            && let Ok(relative) = path.strip_prefix(site)
        {
            let parts: Vec<_> = relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
            files.push(parts.join("/"));
        }
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used, clippy::unwrap_used)]
    use super::*;
    use std::io::Write;
    use std::os::unix::fs::FileExt;

    fn site() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("pkg")).unwrap();
        for (name, bytes) in [
            ("pkg/hookrelay.js", &b"js"[..]),
            ("pkg/hookrelay.wasm", b"\0asm"),
            ("pkg/hookrelay.wasm.br", b"br!"),
            ("pkg/hookrelay.wasm.gz", b"gz!"),
            ("pkg/hookrelay.css", b"body{}"),
            ("favicon.ico", b"ico"),
        ] {
            std::fs::write(dir.path().join(name), bytes).unwrap();
        }
        dir
    }

    fn read_back(bytes: &[u8]) -> (File, Option<Packed>) {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(bytes).unwrap();
        let packed = read(&mut file).unwrap();
        (file, packed)
    }

    fn bytes_of(file: &File, span: Span) -> Vec<u8> {
        let mut buf = vec![0; usize::try_from(span.len).unwrap()];
        file.read_exact_at(&mut buf, span.offset).unwrap();
        buf
    }

    #[test]
    fn a_packed_site_reads_back_with_hashed_bundle_names() {
        let site = site();
        let packed = append(b"\x7fELF the program", site.path()).unwrap();
        let (file, found) = read_back(&packed);
        let found = found.expect("a site");
        assert!(found.bundle.starts_with("hookrelay.") && found.bundle.len() == "hookrelay.".len() + 16);
        let wasm = found.files.iter().find(|f| f.path == format!("/pkg/{}.wasm", found.bundle)).unwrap();
        assert!(wasm.immutable);
        assert_eq!(bytes_of(&file, wasm.identity), b"\0asm");
        assert_eq!(bytes_of(&file, wasm.brotli.unwrap()), b"br!");
        assert_eq!(bytes_of(&file, wasm.gzip.unwrap()), b"gz!");
        let icon = found.files.iter().find(|f| f.path == "/favicon.ico").unwrap();
        assert!(!icon.immutable && icon.gzip.is_none());
        assert_eq!(bytes_of(&file, icon.identity), b"ico");
        assert_eq!(found.files.len(), 4, "compressed copies are not files of their own");
    }

    #[test]
    fn packing_again_replaces_the_old_site() {
        let site = site();
        let once = append(b"program", site.path()).unwrap();
        std::fs::write(site.path().join("pkg/hookrelay.js"), b"new js").unwrap();
        let twice = append(&once, site.path()).unwrap();
        assert_eq!(strip(&twice), b"program");
        let (_, first) = read_back(&once);
        let (_, second) = read_back(&twice);
        assert_ne!(first.unwrap().bundle, second.unwrap().bundle, "new contents, new name");
    }

    #[test]
    fn a_plain_executable_has_no_site_and_a_damaged_one_is_an_error() {
        assert_eq!(read_back(b"just a program").1, None);
        assert_eq!(strip(b"just a program"), b"just a program");
        let mut bad = b"program".to_vec();
        bad.extend_from_slice(&u64::MAX.to_le_bytes());
        bad.extend_from_slice(&5u64.to_le_bytes());
        bad.extend_from_slice(MAGIC);
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&bad).unwrap();
        assert!(matches!(read(&mut file), Err(Error::Damaged(_))));
    }

    #[test]
    fn a_site_without_the_bundle_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(append(b"program", dir.path()), Err(Error::Site(_))));
    }
}
