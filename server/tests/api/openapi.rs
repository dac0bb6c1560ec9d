//! The OpenAPI document.

use crate::helpers::TestApp;

#[tokio::test]
async fn openapi_json_is_valid_openapi_3_listing_every_route() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/openapi.json").send().await.expect("request");
    assert_eq!(res.status(), 200);
    let text = res.text().await.expect("body");
    let spec = oas3::from_json(&text).expect("a valid OpenAPI 3.1 document");
    assert!(spec.openapi.starts_with("3."), "{}", spec.openapi);

    let doc: serde_json::Value = serde_json::from_str(&text).expect("json");
    let expected = [
        ("/healthz", "get"),
        ("/api/openapi.json", "get"),
        ("/api/v1/hook", "post"),
        ("/api/v1/hooks", "get"),
        ("/api/v1/hook/{id}", "get"),
        ("/api/v1/hook/{id}", "put"),
        ("/api/v1/hook/{id}", "patch"),
        ("/api/v1/hook/{id}", "delete"),
        ("/endpoint/", "post"),
        ("/endpoint/", "get"),
        ("/endpoint/{id}", "get"),
        ("/endpoint/{id}", "delete"),
        ("/api/v1/events", "post"),
        ("/api/v1/hook/{id}/test", "post"),
        ("/api/v1/hook/{id}/secret", "get"),
        ("/api/v1/hook/{id}/rotate-secret", "post"),
        ("/api/v1/hook/{id}/deliveries", "get"),
        ("/api/v1/deliveries/{id}/retry", "post"),
        ("/metrics", "get"),
    ];
    for (path, method) in expected {
        let op = &doc["paths"][path][method];
        assert!(op.is_object(), "{method} {path} missing");
        assert!(op["responses"].is_object(), "{method} {path} has no responses");
    }
    // Every error answer refers to the error body schema.
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    assert!(doc["components"]["securitySchemes"]["api_key"].is_object());
    let refs = text.matches("#/components/schemas/ErrorBody").count();
    assert!(refs >= 30, "error responses documented: {refs}");
}
