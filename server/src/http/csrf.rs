//! Cross-site request refusal for the dashboard's server functions
//! (`/_rpc/…`): besides the SameSite=Strict session cookie, a call must come
//! from the dashboard's own origin. Browsers say where a request comes from
//! in `Sec-Fetch-Site` and `Origin`; either one pointing elsewhere is a 403.
//! Clients that send neither (curl, tests) are not browsers and carry no
//! ambient cookie, so they are let through to the session check.

use super::error::ApiError;
use axum::extract::Request;
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub async fn refuse_cross_site_rpc(req: Request, next: Next) -> Response {
    if req.uri().path().starts_with("/_rpc/") && is_cross_site(req.headers()) {
        tracing::warn!(path = %req.uri().path(), "cross-site server function call refused");
        return ApiError::Forbidden("cross-site requests to the dashboard are refused").into_response();
    }
    next.run(req).await
}

fn is_cross_site(headers: &HeaderMap) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = header("sec-fetch-site")
        && !matches!(site, "same-origin" | "none")
    {
        return true;
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
    use super::is_cross_site;
    use axum::http::{HeaderMap, HeaderValue};

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_static(v));
        }
        map
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
