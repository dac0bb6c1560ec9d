//! Cross-site request refusal for the dashboard's server functions
//! (`/_rpc/…`): besides the SameSite=Strict session cookie, a call must come
//! from the dashboard's own origin. Browsers say where a request comes from
//! in `Sec-Fetch-Site` and `Origin`; either one pointing elsewhere is a 403.
//! Clients that send neither (curl, tests) are not browsers and carry no
//! ambient cookie, so they are let through to the session check.
//!
//! "Own origin" is `--public-url` when set (behind a proxy that rewrites
//! `Host`), else the request's `Host`.

use super::error::rpc_error_response;
use super::exposure::Exposure;
use app::server_fns::DashboardError;
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;

pub async fn refuse_cross_site_rpc(State(exposure): State<Arc<Exposure>>, req: Request, next: Next) -> Response {
    if req.uri().path().starts_with("/_rpc/") && is_cross_site(req.headers(), exposure.public_origin.as_ref()) {
        tracing::warn!(path = %req.uri().path(), "cross-site server function call refused");
        return rpc_error_response(req.uri().path(), &DashboardError::CrossSite);
    }
    next.run(req).await
}

fn is_cross_site(headers: &HeaderMap, public_origin: Option<&url::Origin>) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = header("sec-fetch-site")
        && !matches!(site, "same-origin" | "none")
    {
        return true;
    }
    if let (Some(origin), Some(public)) = (header("origin"), public_origin) {
        return !origin.eq_ignore_ascii_case(&public.ascii_serialization());
    }
    match (header("origin"), header("host")) {
        (Some(origin), Some(host)) => {
            let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
            !origin_host.eq_ignore_ascii_case(host)
        }
        // An opaque origin ("null") or an Origin without a Host.
        (Some(_), None) => true,
        (None, _) => false,
    }
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue};

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_static(v));
        }
        map
    }

    fn is_cross_site(headers: &HeaderMap) -> bool {
        super::is_cross_site(headers, None)
    }

    #[test]
    fn with_a_public_url_the_origin_must_be_it_whatever_the_host() {
        let public = url::Url::parse("https://hooks.example.com").unwrap().origin();
        let behind_proxy = headers(&[("host", "127.0.0.1:3000"), ("origin", "https://hooks.example.com")]);
        assert!(super::is_cross_site(&behind_proxy, None), "Host alone says cross-site");
        assert!(!super::is_cross_site(&behind_proxy, Some(&public)));
        let other = headers(&[("host", "hooks.example.com"), ("origin", "http://hooks.example.com")]);
        assert!(super::is_cross_site(&other, Some(&public)), "scheme differs");
        assert!(!super::is_cross_site(&headers(&[("host", "127.0.0.1:3000")]), Some(&public)));
    }

    #[test]
    fn same_origin_passes_and_other_sites_do_not() {
        assert!(!is_cross_site(&headers(&[("host", "127.0.0.1:3000")])));
        assert!(!is_cross_site(&headers(&[
            ("host", "127.0.0.1:3000"),
            ("origin", "http://127.0.0.1:3000"),
            ("sec-fetch-site", "same-origin")
        ])));
        assert!(is_cross_site(&headers(&[("host", "127.0.0.1:3000"), ("sec-fetch-site", "cross-site")])));
        assert!(is_cross_site(&headers(&[("host", "127.0.0.1:3000"), ("sec-fetch-site", "same-site")])));
        assert!(is_cross_site(&headers(&[("host", "127.0.0.1:3000"), ("origin", "https://evil.example")])));
        assert!(is_cross_site(&headers(&[("host", "127.0.0.1:3000"), ("origin", "null")])));
    }
}
