//! API-key authentication on the REST API.

use crate::helpers::{TestApp, assert_error};

#[tokio::test]
async fn a_key_works_bare_and_as_bearer() {
    let app = TestApp::spawn().await;
    let key = app.create_user("auth@example.com");
    for value in [key.clone(), format!("Bearer {key}"), format!("bearer {key}")] {
        let res = app.get("/api/v1/hooks").header("authorization", value).send().await.expect("request");
        assert_eq!(res.status(), 200);
        let body: serde_json::Value = res.json().await.expect("json");
        assert_eq!(
            body,
            serde_json::json!({"error": false, "hooks": [], "totalData": 0, "totalPages": 0, "page": 1, "size": 10})
        );
    }
}

#[tokio::test]
async fn missing_wrong_or_malformed_keys_get_401_json() {
    let app = TestApp::spawn().await;
    let key = app.create_user("auth401@example.com");

    let res = app.get("/api/v1/hooks").send().await.expect("request");
    assert_eq!(res.headers().get("www-authenticate").map(axum::http::HeaderValue::as_bytes), Some(&b"Bearer"[..]));
    let body = assert_error(res, 401).await;
    assert!(body["message"].as_str().unwrap_or_default().contains("Authorization"), "{body}");

    let wrong = format!("{}x", &key[..key.len() - 1]);
    for value in [wrong.as_str(), "Bearer", "Basic dXNlcjpwYXNz", "Bearer hr_nope", "   "] {
        let res = app.get("/api/v1/hooks").header("authorization", value).send().await.expect("request");
        assert_error(res, 401).await;
    }
}

#[tokio::test]
async fn keys_are_stored_only_as_hashes() {
    let app = TestApp::spawn().await;
    let key = app.create_user("hash@example.com");
    let res = app.get("/api/v1/hooks").bearer_auth(&key).send().await.expect("request");
    assert_eq!(res.status(), 200);
    let bytes = app.database_bytes();
    let needle = key.as_bytes();
    assert!(!bytes.windows(needle.len()).any(|w| w == needle), "the API key is in the database in clear");
    assert!(!bytes.windows(15).any(|w| w == b"a long password"), "the password is in the database in clear");
    assert!(app.logs().iter().all(|l| !l.contains(&key)), "the API key was logged");
}
