//! The dashboard's server functions answer a person's mistake with its 4xx
//! and a typed JSON error body (`{"kind":…,"message":…}`), as a monitoring
//! system and the dashboard both read it; only our faults are 5xx.

use crate::dashboard::log_in;
use crate::helpers::{TestApp, create_hook};
use serde_json::{Value, json};
use std::time::Duration;

/// Calls `/_rpc/<name>` as a form post; returns the status and the body
/// (JSON when it is JSON, else the text as a string).
async fn call(app: &TestApp, name: &str, cookie: Option<&str>, form: &[(&str, &str)]) -> (u16, Value) {
    let mut req = app.client.post(format!("{}/_rpc/{name}", app.url)).form(form);
    if let Some(cookie) = cookie {
        req = req.header("cookie", cookie);
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let text = res.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

#[tokio::test]
async fn each_mistake_has_its_status_and_kind() {
    let app = TestApp::spawn().await;
    app.create_user("typed@example.com");

    let (status, body) =
        call(&app, "login", None, &[("email", "typed@example.com"), ("password", "wrong password")]).await;
    assert_eq!((status, &body["kind"]), (401, &json!("wrongCredentials")), "{body}");

    let (status, body) = call(&app, "overview", None, &[]).await;
    assert_eq!((status, &body["kind"]), (401, &json!("notSignedIn")), "{body}");

    let cookie = log_in(&app, "typed@example.com", "a long password").await.expect("session");
    let session = cookie.clone();
    let cookie = Some(cookie.as_str());

    // Another account's (or no) hook: 404, whether the id is well formed or not.
    for id in ["000000000000000000000000", "not an id"] {
        let (status, body) = call(&app, "hook_detail", cookie, &[("id", id)]).await;
        assert_eq!((status, &body), (404, &json!({"kind": "notFound", "message": "Hook"})), "{id}");
    }
    let (status, body) = call(&app, "revoke_key", cookie, &[("id", "nope")]).await;
    assert_eq!((status, &body["kind"]), (404, &json!("notFound")), "{body}");

    // Input the server cannot read, or refuses: 400 with a reason.
    let (status, body) = call(&app, "hook_detail", cookie, &[]).await;
    assert_eq!((status, &body["kind"]), (400, &json!("invalid")), "{body}");
    let (status, body) = call(&app, "set_hook_active", cookie, &[("id", "x"), ("active", "maybe")]).await;
    assert_eq!((status, &body["kind"]), (400, &json!("invalid")), "{body}");
    let (status, body) = call(&app, "create_key", cookie, &[("name", "bad\u{7}name")]).await;
    assert_eq!(
        (status, &body),
        (400, &json!({"kind": "invalid", "message": "The name must not contain control characters."}))
    );
    let (status, body) = call(&app, "list_hooks", cookie, &[("query", "not json")]).await;
    assert!((400..500).contains(&status), "{status} {body}");

    // Cross-site: 403 in the same form.
    let res = app
        .client
        .post(format!("{}/_rpc/overview", app.url))
        .header("cookie", &session)
        .header("origin", "https://evil.example")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 403);
    assert_eq!(res.headers().get("serverfnerror").map(|v| v.to_str().ok()), Some(Some("/_rpc/overview")));
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["kind"], "crossSite");

    // And a call that is fine still answers 200.
    let (status, _) = call(&app, "overview", cookie, &[]).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_waiting_delivery_is_skipped_and_skipping_it_again_is_a_conflict() {
    let app = TestApp::spawn().await;
    let key = app.create_user("conflict@example.com");
    let cookie = log_in(&app, "conflict@example.com", "a long password").await.expect("session");
    let cookie = Some(cookie.as_str());
    // Nothing listens on port 9: the attempt fails and the delivery waits
    // for its next retry.
    let hook = create_hook(&app, &key, "http://127.0.0.1:9/never").await;
    let (status, body) = call(&app, "send_test_event", cookie, &[("id", &hook)]).await;
    assert_eq!(status, 200, "{body}");
    let delivery = crate::helpers::eventually("the failed attempt recorded", Duration::from_secs(20), || async {
        let (status, page) = call(&app, "list_deliveries", cookie, &[("id", &hook), ("page", "1")]).await;
        assert_eq!(status, 200, "{page}");
        let d = &page["deliveries"][0];
        (d["attempts"].as_array().is_some_and(|a| !a.is_empty()))
            .then(|| d["id"].as_str().unwrap_or_default().to_owned())
    })
    .await;
    // Waiting for its next attempt (nothing in flight): it can be skipped.
    let (status, body) = call(&app, "skip_delivery", cookie, &[("id", &delivery)]).await;
    assert_eq!(status, 200, "{body}");
    // Skipped (failed) already: skipping again is a conflict.
    let (status, body) = call(&app, "skip_delivery", cookie, &[("id", &delivery)]).await;
    assert_eq!((status, &body["kind"]), (409, &json!("conflict")), "{body}");
}
