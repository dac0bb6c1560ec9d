//! Bad input: 400 with every failing field, in words a person understands.

use crate::helpers::{TestApp, assert_error};
use crate::hooks_crud::vendor_example;
use reqwest::Method;
use serde_json::{Value, json};

fn fields(body: &Value) -> Vec<String> {
    body["errors"].as_array().into_iter().flatten().filter_map(|e| e["field"].as_str().map(str::to_owned)).collect()
}

fn message(body: &Value, field: &str) -> String {
    body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["field"] == field)
        .and_then(|e| e["message"].as_str())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn missing_mandatory_fields_are_all_listed() {
    let app = TestApp::spawn().await;
    let key = app.create_user("missing@example.com");
    let res = app.request(Method::POST, "/api/v1/hook", &key).json(&json!({})).send().await.expect("r");
    let body = assert_error(res, 400).await;
    assert_eq!(fields(&body), ["endPoint", "hookType", "isActiveStatus", "_shop"]);
    assert!(body["errors"].as_array().into_iter().flatten().all(|e| e["message"] == "is required"), "{body}");

    let res = app.request(Method::POST, "/endpoint/", &key).json(&json!({})).send().await.expect("r");
    let body = assert_error(res, 400).await;
    assert_eq!(fields(&body), ["authType", "endpoint"]);
}

#[tokio::test]
async fn each_kind_of_bad_input_is_a_clear_400() {
    let app = TestApp::spawn().await;
    let key = app.create_user("bad@example.com");
    let with = |field: &str, value: Value| {
        let mut body = vendor_example();
        body[field] = value;
        body
    };
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        ("string boolean", with("isActiveStatus", json!("true")), "isActiveStatus", "not a string"),
        ("number for a string", with("_shop", json!(42)), "_shop", "must be a string"),
        ("unknown field", with("endpoint", json!("https://x.com")), "endpoint", "did you mean `endPoint`"),
        ("bad enum", with("authType", json!("digest")), "authType", "must be one of"),
        ("unknown hook type", with("hookType", json!("weather")), "hookType", "must be one of: dbs"),
        ("over-long userId", with("userId", json!("u".repeat(257))), "userId", "at most 256"),
        (
            "over-long URL",
            with("endPoint", json!(format!("https://e.com/{}", "a".repeat(2050)))),
            "endPoint",
            "at most 2048",
        ),
        (
            "URL with credentials",
            with("endPoint", json!("https://user:pw@example.com/h")),
            "endPoint",
            "user name or password",
        ),
        ("non-http scheme", with("endPoint", json!("ftp://example.com/h")), "endPoint", "http or https"),
        ("relative URL", with("endPoint", json!("/my-hook")), "endPoint", "absolute"),
        (
            "basic without password",
            with("authType", json!("basic")).tap_remove("pwdTxt"),
            "pwdTxt",
            "required when authType is basic",
        ),
    ];
    for (what, body, field, expected) in cases {
        let res = app.request(Method::POST, "/api/v1/hook", &key).json(&body).send().await.expect("r");
        let err = assert_error(res, 400).await;
        assert!(fields(&err).contains(&field.to_owned()), "{what}: {err}");
        assert!(message(&err, field).contains(expected), "{what}: {err}");
    }

    // Bodies that are not a JSON object at all.
    let raw: [(&str, &str); 6] = [
        ("array", "[]"),
        ("string", "\"hook\""),
        ("number", "12"),
        ("malformed", "{\"endPoint\": "),
        ("trailing comma", "{\"a\":1,}"),
        ("empty", ""),
    ];
    for (what, text) in raw {
        for path in ["/api/v1/hook", "/endpoint/"] {
            let res = app
                .request(Method::POST, path, &key)
                .header("content-type", "application/json")
                .body(text)
                .send()
                .await
                .expect("r");
            let err = assert_error(res, 400).await;
            assert_eq!(fields(&err), ["body"], "{what} on {path}: {err}");
            assert!(!message(&err, "body").is_empty());
        }
    }
    let res = app.request(Method::POST, "/api/v1/hook", &key).body(vec![0xff, 0xfe, 0x00]).send().await.expect("r");
    assert_error(res, 400).await;
}

#[tokio::test]
async fn eventsshop_checks_auth_types_and_their_credentials() {
    let app = TestApp::spawn().await;
    let key = app.create_user("esbad@example.com");
    let cases = [
        (json!({"authType":"jwt","endpoint":"https://e.com/x"}), vec!["authType"]),
        (json!({"authType":"Basic Auth","endpoint":"https://e.com/x"}), vec!["userName", "password"]),
        (json!({"authType":"OAuth 2.0","endpoint":"javascript:alert(1)"}), vec!["endpoint", "token"]),
        (json!({"authType":"OAuth 2.0","endpoint":"https://e.com/x","token":"has space"}), vec!["token"]),
        (json!({"authType":"OAuth 2.0","endPoint":"https://e.com/x","token":"t"}), vec!["endpoint", "endPoint"]),
    ];
    for (body, expected) in cases {
        let res = app.request(Method::POST, "/endpoint/", &key).json(&body).send().await.expect("r");
        let err = assert_error(res, 400).await;
        let mut got = fields(&err);
        got.sort();
        let mut expected: Vec<String> = expected.into_iter().map(str::to_owned).collect();
        expected.sort();
        assert_eq!(got, expected, "{body}: {err}");
    }
}

trait TapRemove {
    fn tap_remove(self, field: &str) -> Self;
}

impl TapRemove for Value {
    fn tap_remove(mut self, field: &str) -> Self {
        self.as_object_mut().map(|o| o.remove(field));
        self
    }
}

/// A body of thousands of made-up fields answers ten of them and a count
/// of the rest, in a few kilobytes, not one error (and one list of the
/// known fields) per name; a huge name is cut, not compared.
#[tokio::test]
async fn thousands_of_unknown_fields_answer_briefly() {
    let app = TestApp::spawn().await;
    let key = app.create_user("flood-fields@example.com");
    let mut body = vendor_example();
    for i in 0..20_000 {
        body[format!("made-up-{i:05}")] = json!(0);
    }
    body["x".repeat(200_000)] = json!(0);
    let res = app.request(Method::POST, "/api/v1/hook", &key).json(&body).send().await.expect("r");
    assert_eq!(res.status(), 400);
    let text = res.text().await.expect("body");
    assert!(text.len() < 8 * 1024, "{} bytes", text.len());
    let body: Value = serde_json::from_str(&text).expect("JSON");
    let listed = fields(&body);
    assert_eq!(listed.len(), 11, "{body}");
    assert!(listed.iter().all(|f| f.chars().count() <= 65), "{listed:?}");
    let last = body["errors"][10]["message"].as_str().unwrap_or_default();
    assert!(last.contains("nor are the 19990 after it"), "{last}");
    // Nothing was stored.
    let (_, list) = app.send_json(Method::GET, "/api/v1/hooks", &key, &Value::Null).await;
    assert_eq!(list["totalData"], 0, "{list}");
}

/// The deliveries list takes `page` and `size` only: anything else is a
/// 400 naming it, as on the other lists; a delivery id that is not even
/// UTF-8 is a JSON 404 on retry and skip.
#[tokio::test]
async fn delivery_routes_answer_json_for_bad_ids_and_parameters() {
    let app = TestApp::spawn().await;
    let key = app.create_user("delivery-params@example.com");
    let hook = crate::helpers::create_hook(&app, &key, "https://example.com/hook").await;
    let res = app.request(Method::GET, &format!("/api/v1/hook/{hook}/deliveries?pgae=2&status=failed"), &key);
    let body = assert_error(res.send().await.expect("r"), 400).await;
    assert_eq!(fields(&body), ["pgae", "status"]);
    assert!(message(&body, "pgae").contains("did you mean `page`"), "{body}");
    let res = app.request(Method::GET, &format!("/api/v1/hook/{hook}/deliveries?page=1&size=5"), &key);
    assert_eq!(res.send().await.expect("r").status(), 200);
    for action in ["retry", "skip"] {
        for id in ["%FF", "not-an-id", "0123456789abcdef01234567"] {
            let res = app.request(Method::POST, &format!("/api/v1/deliveries/{id}/{action}"), &key);
            assert_error(res.send().await.expect("r"), 404).await;
        }
    }
}
