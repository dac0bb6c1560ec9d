//! The dashboard's static files (`/pkg/…`, favicon, robots.txt): from
//! inside the binary when it was built with one (`cargo xtask dist`), or
//! from a directory (`--site-root`, development and `cargo leptos`).
//!
//! Embedded files carry a strong ETag and, where it saves bytes, a gzip and
//! a brotli copy made at build time. The bundle (JS, WASM, CSS) has a
//! content hash in its name, so it is cached for a year; other files are
//! revalidated.

use super::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// One file of the site, embedded by `build.rs`.
pub struct EmbeddedFile {
    /// The URL path it answers (the bundle's with its hash).
    pub path: &'static str,
    /// Hex digest of the uncompressed bytes.
    pub etag: &'static str,
    /// Named by content hash: cacheable for ever.
    pub immutable: bool,
    pub identity: &'static [u8],
    pub gzip: Option<&'static [u8]>,
    pub brotli: Option<&'static [u8]>,
}

mod embedded {
    use super::EmbeddedFile;
    include!(concat!(env!("OUT_DIR"), "/embedded_site.rs"));
}

/// Where the dashboard's files come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SiteSource {
    Embedded { bundle: &'static str },
    Directory(String),
}

impl SiteSource {
    /// `--site-root` when given; else the embedded site; else `target/site`.
    pub fn choose(site_root: Option<&str>) -> Self {
        match (site_root, embedded::BUNDLE_NAME) {
            (Some(dir), _) => Self::Directory(dir.to_owned()),
            (None, Some(bundle)) => Self::Embedded { bundle },
            (None, None) => Self::Directory("target/site".to_owned()),
        }
    }

    /// `choose`, and says in the log which it is.
    pub fn for_serving(site_root: Option<&str>) -> Self {
        let site = Self::choose(site_root);
        match &site {
            Self::Directory(dir) => tracing::info!(site_root = %dir, "dashboard files served from a directory"),
            Self::Embedded { bundle } => tracing::info!(bundle, "dashboard files served from inside the binary"),
        }
        site
    }

    /// The name the page asks for: `pkg/<name>.js`, `.wasm`, `.css`.
    pub fn bundle_name(&self) -> &str {
        match self {
            Self::Embedded { bundle } => bundle,
            Self::Directory(_) => app::OUTPUT_NAME,
        }
    }

    pub fn directory(&self) -> Option<&str> {
        match self {
            Self::Embedded { .. } => None,
            Self::Directory(dir) => Some(dir),
        }
    }
}

/// Everything no route matched: a static file if there is one, else the
/// dashboard's 404 page.
pub async fn fallback(State(state): State<AppState>, request: Request) -> Response {
    if state.site.directory().is_some() {
        let uri = request.uri().clone();
        return leptos_axum::file_and_error_handler::<AppState, _>(app::shell)(uri, State(state), request).await;
    }
    if matches!(*request.method(), Method::GET | Method::HEAD)
        && let Some(file) = embedded::FILES.iter().find(|file| file.path == request.uri().path())
    {
        return respond(file, request.headers());
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

fn respond(file: &EmbeddedFile, request: &HeaderMap) -> Response {
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
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(file.path)));
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
    (headers, Body::from(body)).into_response()
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
        assert_eq!(SiteSource::choose(Some("/srv/site")), SiteSource::Directory("/srv/site".into()));
        assert_eq!(SiteSource::choose(Some("/srv/site")).bundle_name(), app::OUTPUT_NAME);
    }
}
