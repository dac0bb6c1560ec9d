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
    // The router and the document come from one list (`openapi.rs`): every
    // documented operation is routed (a made-up id is the resource's 404,
    // never the router's "Route not found" or a 405).
    let key = app.create_user("openapi@example.com");
    let paths = doc["paths"].as_object().expect("paths");
    let mut operations = 0;
    for (path, item) in paths {
        for method in item.as_object().expect("path item").keys() {
            let url = path.replace("{id}", "000000000000000000000000");
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let res =
                app.request(method.clone(), &url, &key).json(&serde_json::json!({})).send().await.expect("request");
            let status = res.status().as_u16();
            let body = res.text().await.expect("body");
            assert_ne!(status, 405, "{method} {path} documented but not routed");
            assert!(!body.contains("Route not found"), "{method} {path} documented but not routed: {body}");
            assert!(
                doc["paths"][path][method.as_str().to_lowercase()]["responses"].is_object(),
                "{method} {path} has no responses"
            );
            operations += 1;
        }
    }
    assert_eq!(operations, 26, "the REST API has 26 operations");
    // And what is not documented is not routed under /api/.
    let res = app.request(reqwest::Method::GET, "/api/v1/undocumented", &key).send().await.expect("request");
    assert_eq!(res.status(), 404);
    // Every error answer refers to the error body schema.
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    assert!(doc["components"]["securitySchemes"]["api_key"].is_object());
    let refs = text.matches("#/components/schemas/ErrorBody").count();
    assert!(refs >= 30, "error responses documented: {refs}");
}
