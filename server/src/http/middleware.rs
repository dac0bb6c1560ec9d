//! Layers around every route: request ids, one log line per request,
//! panics turned into a JSON 500, `requestId` added to error bodies, and
//! the browser-hardening headers (the dashboard's pages set their own
//! nonce-based Content-Security-Policy in `app::shell`; every other
//! response gets one that allows nothing), plus HSTS when the public URL
//! is https.

use super::error::{ApiError, ErrorBody};
use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Response, header};
use axum::middleware::{Next, from_fn};
use axum::response::IntoResponse;
use std::time::Duration;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use tracing::Span;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// `hsts`: the dashboard is public over https (`--public-url https://…`).
pub fn apply(router: Router, hsts: bool) -> Router {
    let hsts = hsts.then(|| {
        SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        )
    });
    router.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
            .layer(
                TraceLayer::new_for_http()
                    // Path only: no query string, no headers (they may carry keys).
                    .make_span_with(|req: &Request| {
                        let request_id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("");
                        tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id)
                    })
                    .on_request(())
                    .on_response(|res: &Response<Body>, latency: Duration, _span: &Span| {
                        tracing::info!(
                            status = res.status().as_u16(),
                            latency_ms = latency.as_secs_f64() * 1000.0,
                            "request"
                        );
                    })
                    .on_failure(()),
            )
            .layer(PropagateRequestIdLayer::new(REQUEST_ID))
            .layer(SetResponseHeaderLayer::overriding(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ))
            .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
            .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
            .layer(SetResponseHeaderLayer::if_not_present(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
            ))
            .option_layer(hsts)
            .layer(from_fn(add_request_id_to_errors))
            .layer(CatchPanicLayer::custom(|_panic| ApiError::Internal("a handler panicked".into()).into_response())),
    )
}

/// Re-renders an `ApiError` body with the request's id so a user can quote it.
async fn add_request_id_to_errors(req: Request, next: Next) -> axum::response::Response {
    let request_id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let mut response = next.run(req).await;
    if let (Some(mut body), Some(id)) = (response.extensions_mut().remove::<ErrorBody>(), request_id) {
        body.request_id = Some(id);
        if let Ok(bytes) = serde_json::to_vec(&body) {
            response.headers_mut().remove(axum::http::header::CONTENT_LENGTH);
            *response.body_mut() = Body::from(bytes);
        }
    }
    response
}
