//! The dashboard's static files (`/pkg/…`, favicon, robots.txt): from
//! inside the binary when a site was packed onto it (`cargo xtask dist`,
//! the `sitepack` crate), or from a directory (`--site-root`, development
//! and `cargo leptos`).
//!
//! Embedded files carry a strong ETag and, where it saves bytes, a gzip and
//! a brotli copy made at build time. The bundle (JS, WASM, CSS) has a
//! content hash in its name, so it is cached for a year; other files are
//! revalidated.

use super::AppState;
use axum::body::Body;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sitepack::{Entry, Packed, Span};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

/// The site packed onto this executable (`cargo xtask binary`): its index,
/// and its files' bytes read once at start (a few MiB), so each response is
/// a slice of them — no copy, no read per request, whatever the load.
#[derive(Debug)]
pub struct EmbeddedSite {
    packed: Packed,
    /// The packed files, from the first one's first byte.
    bytes: Bytes,
    /// Where `bytes` starts in the executable.
    start: u64,
}

impl EmbeddedSite {
    /// The site packed onto the running executable, if there is one.
    fn of_this_executable() -> Result<Option<Self>, SiteError> {
        // /proc/self/exe opens the inode that is running, even if a new
        // binary has been renamed over its path since.
        let opened = File::open("/proc/self/exe").or_else(|_| std::env::current_exe().and_then(File::open));
        let mut file = opened.map_err(|e| SiteError(sitepack::Error::Io(e)))?;
        let Some(packed) = sitepack::read(&mut file).map_err(SiteError)? else { return Ok(None) };
        let spans = packed.files.iter().flat_map(|f| [Some(f.identity), f.gzip, f.brotli]).flatten();
        let (start, end) =
            spans.fold((u64::MAX, 0), |(lo, hi), s| (lo.min(s.offset), hi.max(s.offset.saturating_add(s.len))));
        let len = usize::try_from(end.saturating_sub(start)).map_err(|_| damaged("files larger than memory"))?;
        let mut bytes = vec![0; len];
        if len > 0 {
            file.read_exact_at(&mut bytes, start).map_err(|e| SiteError(sitepack::Error::Io(e)))?;
        }
        Ok(Some(Self { packed, bytes: Bytes::from(bytes), start }))
    }

    fn find(&self, path: &str) -> Option<&Entry> {
        self.packed.files.iter().find(|file| file.path == path)
    }

    /// The bytes of `span` (checked against the file when it was read).
    fn slice(&self, span: Span) -> Option<Bytes> {
        let from = usize::try_from(span.offset.checked_sub(self.start)?).ok()?;
        let to = from.checked_add(usize::try_from(span.len).ok()?)?;
        (to <= self.bytes.len()).then(|| self.bytes.slice(from..to))
    }
}

fn damaged(what: &'static str) -> SiteError {
    SiteError(sitepack::Error::Damaged(what))
}

/// The dashboard packed onto the executable cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("{0} (rebuild it with `cargo xtask dist`, or serve a directory with --site-root)")]
pub struct SiteError(sitepack::Error);

/// Where the dashboard's files come from.
#[derive(Clone, Debug)]
pub enum SiteSource {
    Embedded(Arc<EmbeddedSite>),
    Directory(String),
}

impl SiteSource {
    /// `--site-root` when given; else the site packed onto the executable;
    /// else `target/site`.
    pub fn choose(site_root: Option<&str>) -> Result<Self, SiteError> {
        if let Some(dir) = site_root {
            return Ok(Self::Directory(dir.to_owned()));
        }
        Ok(match EmbeddedSite::of_this_executable()? {
            Some(site) => Self::Embedded(Arc::new(site)),
            None => Self::Directory("target/site".to_owned()),
        })
    }

    /// `choose`, and says in the log which it is.
    pub fn for_serving(site_root: Option<&str>) -> Result<Self, SiteError> {
        let site = Self::choose(site_root)?;
        match &site {
            Self::Directory(dir) => tracing::info!(site_root = %dir, "dashboard files served from a directory"),
            Self::Embedded(site) => {
                tracing::info!(bundle = %site.packed.bundle, "dashboard files served from inside the binary");
            }
        }
        Ok(site)
    }

    /// The name the page asks for: `pkg/<name>.js`, `.wasm`, `.css`.
    pub fn bundle_name(&self) -> &str {
        match self {
            Self::Embedded(site) => &site.packed.bundle,
            Self::Directory(_) => app::OUTPUT_NAME,
        }
    }

    pub fn directory(&self) -> Option<&str> {
        match self {
            Self::Embedded(_) => None,
            Self::Directory(dir) => Some(dir),
        }
    }
}

/// Everything no route matched: a static file if there is one, else the
/// dashboard's 404 page.
pub async fn fallback(State(state): State<AppState>, request: Request) -> Response {
    let embedded = match &state.site {
        SiteSource::Directory(_) => {
            let uri = request.uri().clone();
            return leptos_axum::file_and_error_handler::<AppState, _>(app::shell)(uri, State(state), request).await;
        }
        SiteSource::Embedded(site) => site.clone(),
    };
    if matches!(*request.method(), Method::GET | Method::HEAD)
        && let Some(file) = embedded.find(request.uri().path())
    {
        return respond(&embedded, file, request.headers());
    }
    let options = state.leptos_options.clone();
    let context = state.clone();
    let render = leptos_axum::render_app_to_stream_in_order_with_context(
        move || leptos::prelude::provide_context(context.clone()),
        move || app::shell(options.clone()),
    );
    // Another build's bundle name (a rolling deploy): not found here, and
    // never cached as such by a browser or a CDN.
    let bundle = request.uri().path().starts_with("/pkg/");
    let mut response = render(request).await;
    if bundle {
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

#[derive(Clone, Copy)]
enum Encoding {
    Brotli,
    Gzip,
    Identity,
}

fn respond(site: &EmbeddedSite, file: &Entry, request: &HeaderMap) -> Response {
    let accepted = request.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("");
    let (encoding, body) = match (file.brotli, file.gzip) {
        (Some(br), _) if accepts(accepted, "br") => (Encoding::Brotli, br),
        (_, Some(gz)) if accepts(accepted, "gzip") => (Encoding::Gzip, gz),
        _ => (Encoding::Identity, file.identity),
    };
    // A strong ETag names these exact bytes, so each encoding has its own.
    let etag = match encoding {
        Encoding::Brotli => format!("\"{}-br\"", file.etag),
        Encoding::Gzip => format!("\"{}-gz\"", file.etag),
        Encoding::Identity => format!("\"{}\"", file.etag),
    };
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(&file.path)));
    let cache = if file.immutable { "public, max-age=31536000, immutable" } else { "no-cache" };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    if file.gzip.is_some() || file.brotli.is_some() {
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    if matches_etag(request.get(header::IF_NONE_MATCH), &etag) {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    match encoding {
        Encoding::Brotli => headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br")),
        Encoding::Gzip => headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip")),
        Encoding::Identity => None,
    };
    match site.slice(body) {
        Some(bytes) => (headers, Body::from(bytes)).into_response(),
        None => {
            tracing::error!(path = %file.path, "a dashboard file lies outside the packed bytes");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Whether `Accept-Encoding` allows `coding`: listed without q=0, or not
/// listed and `*` is (an explicit q=0 for the coding wins over `*`).
fn accepts(accept_encoding: &str, coding: &str) -> bool {
    let items: Vec<(&str, bool)> = accept_encoding
        .split(',')
        .map(|item| {
            let mut parts = item.split(';').map(str::trim);
            let name = parts.next().unwrap_or("");
            let refused = parts.any(|p| {
                let (key, value) = p.split_once('=').unwrap_or((p, ""));
                key.trim().eq_ignore_ascii_case("q") && value.trim().parse::<f32>().is_ok_and(|q| q <= 0.0)
            });
            (name, !refused)
        })
        .collect();
    match items.iter().find(|(name, _)| name.eq_ignore_ascii_case(coding)) {
        Some((_, allowed)) => *allowed,
        None => items.iter().any(|(name, allowed)| *name == "*" && *allowed),
    }
}

fn matches_etag(if_none_match: Option<&HeaderValue>, etag: &str) -> bool {
    let Some(value) = if_none_match.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    value.split(',').map(str::trim).any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("js") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("ico") => "image/x-icon",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("txt") => "text/plain; charset=utf-8",
        Some("json") => "application/json",
        Some("html") => "text/html; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_encoding_is_read_with_its_weights() {
        assert!(accepts("gzip, deflate, br", "br"));
        assert!(accepts("gzip;q=1.0, br;q=0.5", "br"));
        assert!(!accepts("gzip, br;q=0", "br"));
        assert!(accepts("*", "gzip"));
        assert!(!accepts("identity", "gzip"));
        assert!(!accepts("", "br"));
        assert!(!accepts("br;q=0, *", "br"), "an explicit refusal wins over *");
        assert!(!accepts("gzip, BR;Q=0", "br"));
    }

    #[test]
    fn if_none_match_compares_whole_tags() {
        let tag = "\"abc-br\"";
        assert!(matches_etag(Some(&HeaderValue::from_static("\"x\", \"abc-br\"")), tag));
        assert!(matches_etag(Some(&HeaderValue::from_static("*")), tag));
        assert!(!matches_etag(Some(&HeaderValue::from_static("\"abc\"")), tag));
        assert!(!matches_etag(None, tag));
    }

    #[test]
    fn an_explicit_site_root_wins_over_the_embedded_site() {
        let site = SiteSource::choose(Some("/srv/site")).expect("a directory");
        assert_eq!(site.directory(), Some("/srv/site"));
        assert_eq!(site.bundle_name(), app::OUTPUT_NAME);
    }
}
