//! The registry's happy paths, paging, filters and account isolation.

use crate::helpers::{TestApp, assert_error};
use reqwest::Method;
use serde_json::{Value, json};

pub fn vendor_example() -> Value {
    json!({"endPoint":"https://example.com/my-hook","authType":"jwt","userId":"63fda531bde67155fc46fb4",
           "pwdTxt":"uuxx","token":"eyJhbGciOiJIUzI1NiIsInR5cCI6I","hookType":"dbs",
           "isActiveStatus":true,"_shop":"63fdc414cccc3592d31b3ac8"})
}

fn is_hex24(v: &Value) -> bool {
    v.as_str().is_some_and(|s| s.len() == 24 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

#[tokio::test]
async fn the_flightrates_example_gets_the_vendors_200() {
    let app = TestApp::spawn().await;
    let key = app.create_user("fr@example.com");
    let (status, body) = app.send_json(Method::POST, "/api/v1/hook", &key, &vendor_example()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["error"], false);
    let hook = &body["hook"];
    assert!(is_hex24(&hook["_user"]) && is_hex24(&hook["id"]), "{hook}");
    assert_eq!(hook["userName"], "fr@example.com");
    for (field, expected) in [
        ("endPoint", json!("https://example.com/my-hook")),
        ("authType", json!("jwt")),
        ("userId", json!("63fda531bde67155fc46fb4")),
        ("pwdTxt", json!("*******")),
        ("token", json!("*******")),
        ("hookType", json!("dbs")),
        ("isActiveStatus", json!(true)),
        ("_shop", json!("63fdc414cccc3592d31b3ac8")),
        ("vertical", json!("flightrates")),
        ("isCustomerCreated", json!(true)),
    ] {
        assert_eq!(hook[field], expected, "{field} in {hook}");
    }
    // The vendor's field order comes first.
    let keys: Vec<&str> = hook.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
    assert_eq!(
        &keys[..13],
        [
            "_user",
            "userName",
            "endPoint",
            "authType",
            "userId",
            "pwdTxt",
            "token",
            "hookType",
            "isActiveStatus",
            "_shop",
            "vertical",
            "isCustomerCreated",
            "id"
        ]
    );

    let mut mangled = vendor_example();
    mangled["endPoint"] = json!("//my-hook");
    let res = app.request(Method::POST, "/api/v1/hook", &key).json(&mangled).send().await.expect("request");
    let body = assert_error(res, 400).await;
    assert_eq!(body["message"], "Request data failed validation(s)");
    assert_eq!(body["errors"][0]["field"], "endPoint", "{body}");
    assert_eq!(body["errors"].as_array().map(Vec::len), Some(1), "{body}");
}

#[tokio::test]
async fn the_eventsshop_examples_get_202_and_basic_auth_a_new_uuid_token() {
    let app = TestApp::spawn().await;
    let key = app.create_user("es@example.com");
    let basic = json!({"authType":"Basic Auth","endpoint":"https://example.com/events","userName":"acme","password":"pa55word"});
    let (status, body) = app.send_json(Method::POST, "/endpoint/", &key, &basic).await;
    assert_eq!(status, 202, "{body}");
    assert!(is_hex24(&body["id"]), "{body}");
    let token = body["token"].as_str().expect("generated token");
    assert!(uuid_like(token), "{token}");
    assert_eq!(body["endpoint"]["authType"], "Basic Auth");
    assert_eq!(body["endpoint"]["password"], "*******");
    assert_eq!(body["endpoint"]["token"], "*******");
    assert_eq!(body["endpoint"]["hookTypes"], json!(["eventsinfo", "eventimpact", "hoteldemand"]));

    let (_, again) = app.send_json(Method::POST, "/endpoint/", &key, &basic).await;
    assert_ne!(again["token"], body["token"], "each hook gets its own token");

    let oauth = json!({"authType":"OAuth 2.0","endpoint":"https://example.com/events","token":"abc.def.ghi"});
    let (status, created) = app.send_json(Method::POST, "/endpoint/", &key, &oauth).await;
    assert_eq!(status, 202, "{created}");
    assert!(created.get("token").is_none(), "no generated token for OAuth 2.0: {created}");
    assert_eq!(created["endpoint"]["authType"], "OAuth 2.0");

    // Read back, list, delete.
    let id = created["id"].as_str().expect("id");
    let (status, got) = app.send_json(Method::GET, &format!("/endpoint/{id}"), &key, &Value::Null).await;
    assert_eq!((status, &got["endpoint"]["id"]), (200, &json!(id)));
    let (status, list) = app.send_json(Method::GET, "/endpoint/", &key, &Value::Null).await;
    assert_eq!((status, &list["totalData"]), (200, &json!(3)), "{list}");
    let (status, _) = app.send_json(Method::DELETE, &format!("/endpoint/{id}"), &key, &Value::Null).await;
    assert_eq!(status, 200);
    let res = app.request(Method::GET, &format!("/endpoint/{id}"), &key).send().await.expect("request");
    assert_error(res, 404).await;
    // EventsShop ids are not FlightRates hooks.
    let other = body["id"].as_str().expect("id");
    let res = app.request(Method::GET, &format!("/api/v1/hook/{other}"), &key).send().await.expect("request");
    assert_error(res, 404).await;
}

fn uuid_like(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && s.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit())
}

#[tokio::test]
async fn get_put_patch_delete_round_trip() {
    let app = TestApp::spawn().await;
    let key = app.create_user("crud@example.com");
    let (_, created) = app.send_json(Method::POST, "/api/v1/hook", &key, &vendor_example()).await;
    let id = created["hook"]["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/hook/{id}");

    let (status, got) = app.send_json(Method::GET, &path, &key, &Value::Null).await;
    assert_eq!(status, 200);
    assert_eq!(got["hook"], created["hook"]);

    // PUT what GET returned (masked secrets): kept, and the endpoint changes.
    let mut put = got["hook"].clone();
    for field in
        ["_user", "userName", "vertical", "isCustomerCreated", "id", "disabledReason", "createdAt", "updatedAt"]
    {
        put.as_object_mut().map(|o| o.remove(field));
    }
    put["endPoint"] = json!("https://example.com/other");
    let (status, replaced) = app.send_json(Method::PUT, &path, &key, &put).await;
    assert_eq!(status, 200, "{replaced}");
    assert_eq!(replaced["hook"]["endPoint"], "https://example.com/other");
    assert_eq!(replaced["hook"]["token"], "*******");
    assert_eq!(replaced["hook"]["authType"], "jwt");

    // PUT without the optional fields clears them; jwt then lacks its token.
    let bare =
        json!({"endPoint":"https://example.com/x","authType":"jwt","hookType":"dbs","isActiveStatus":true,"_shop":"s"});
    let res = app.request(Method::PUT, &path, &key).json(&bare).send().await.expect("request");
    let body = assert_error(res, 400).await;
    let fields: Vec<&str> =
        body["errors"].as_array().into_iter().flatten().filter_map(|e| e["field"].as_str()).collect();
    assert_eq!(fields, ["userId", "token"], "{body}");

    // PATCH one field.
    let (status, patched) = app.send_json(Method::PATCH, &path, &key, &json!({"isActiveStatus": false})).await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["hook"]["isActiveStatus"], false);
    assert_eq!(patched["hook"]["endPoint"], "https://example.com/other");

    // PATCH to no auth and clear the secrets.
    let (status, patched) =
        app.send_json(Method::PATCH, &path, &key, &json!({"authType": "none", "token": null, "pwdTxt": null})).await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!((&patched["hook"]["token"], &patched["hook"]["pwdTxt"]), (&Value::Null, &Value::Null));

    let (status, deleted) = app.send_json(Method::DELETE, &path, &key, &Value::Null).await;
    assert_eq!((status, &deleted["id"]), (200, &json!(id)));
    for method in [Method::GET, Method::DELETE] {
        let res = app.request(method, &path, &key).send().await.expect("request");
        assert_error(res, 404).await;
    }
    let res = app.request(Method::GET, "/api/v1/hook/not-an-id", &key).send().await.expect("request");
    let body = assert_error(res, 400).await;
    assert_eq!(body["errors"][0]["field"], "id");
}

#[tokio::test]
async fn list_pages_and_filters_in_the_vendors_shape() {
    let app = TestApp::spawn().await;
    let key = app.create_user("list@example.com");
    for i in 0..23 {
        let mut body = vendor_example();
        body["_shop"] = json!(if i % 2 == 0 { "shop-even" } else { "shop-odd" });
        body["isActiveStatus"] = json!(i % 3 != 0);
        body["endPoint"] = json!(format!("https://example.com/hook/{i}"));
        let (status, res) = app.send_json(Method::POST, "/api/v1/hook", &key, &body).await;
        assert_eq!(status, 200, "{res}");
    }
    let (status, page1) = app.send_json(Method::GET, "/api/v1/hooks?page=1&size=10", &key, &Value::Null).await;
    assert_eq!(status, 200);
    assert_eq!(
        (&page1["error"], &page1["totalData"], &page1["totalPages"], &page1["page"], &page1["size"]),
        (&json!(false), &json!(23), &json!(3), &json!(1), &json!(10))
    );
    assert_eq!(page1["hooks"].as_array().map(Vec::len), Some(10));
    assert_eq!(page1["hooks"][0]["endPoint"], "https://example.com/hook/22", "newest first");
    let (_, page3) = app.send_json(Method::GET, "/api/v1/hooks?page=3&size=10", &key, &Value::Null).await;
    assert_eq!(page3["hooks"].as_array().map(Vec::len), Some(3));
    let (_, page9) = app.send_json(Method::GET, "/api/v1/hooks?page=9", &key, &Value::Null).await;
    assert_eq!((page9["hooks"].as_array().map(Vec::len), &page9["totalData"]), (Some(0), &json!(23)));

    let (_, even) = app.send_json(Method::GET, "/api/v1/hooks?_shop=shop-even&size=100", &key, &Value::Null).await;
    assert_eq!(even["totalData"], 12);
    assert!(even["hooks"].as_array().into_iter().flatten().all(|h| h["_shop"] == "shop-even"));
    let (_, inactive) = app.send_json(Method::GET, "/api/v1/hooks?isActiveStatus=false", &key, &Value::Null).await;
    assert_eq!(inactive["totalData"], 8);
    let (_, both) = app
        .send_json(Method::GET, "/api/v1/hooks?isActiveStatus=false&_shop=shop-odd&hookType=dbs", &key, &Value::Null)
        .await;
    assert_eq!(both["totalData"], 4, "{both}");
    let (_, search) = app.send_json(Method::GET, "/api/v1/hooks?search=HOOK/1", &key, &Value::Null).await;
    assert_eq!(search["totalData"], 11, "1 and 10..=19: {search}");

    let res = app
        .request(Method::GET, "/api/v1/hooks?isActiveStatus=maybe&hookType=nope&shopp=x", &key)
        .send()
        .await
        .expect("r");
    let body = assert_error(res, 400).await;
    assert_eq!(body["errors"].as_array().map(Vec::len), Some(3), "{body}");
}

#[tokio::test]
async fn another_accounts_ids_are_404_everywhere_and_its_list_is_empty() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice@example.com");
    let bob = app.create_user("bob@example.com");
    let (_, hook) = app.send_json(Method::POST, "/api/v1/hook", &alice, &vendor_example()).await;
    let hook_id = hook["hook"]["id"].as_str().expect("id").to_owned();
    let endpoint = json!({"authType":"OAuth 2.0","endpoint":"https://example.com/e","token":"t0ken"});
    let (_, created) = app.send_json(Method::POST, "/endpoint/", &alice, &endpoint).await;
    let endpoint_id = created["id"].as_str().expect("id").to_owned();

    let hook_path = format!("/api/v1/hook/{hook_id}");
    for (method, body) in [
        (Method::GET, Value::Null),
        (Method::PUT, vendor_example()),
        (Method::PATCH, json!({"isActiveStatus": false})),
        (Method::DELETE, Value::Null),
    ] {
        let res = app.request(method.clone(), &hook_path, &bob).json(&body).send().await.expect("request");
        assert_error(res, 404).await;
    }
    for method in [Method::GET, Method::DELETE] {
        let res = app.request(method, &format!("/endpoint/{endpoint_id}"), &bob).send().await.expect("request");
        assert_error(res, 404).await;
    }
    let (_, list) = app.send_json(Method::GET, "/api/v1/hooks", &bob, &Value::Null).await;
    assert_eq!((&list["totalData"], &list["hooks"]), (&json!(0), &json!([])));
    let (_, list) = app.send_json(Method::GET, "/endpoint/", &bob, &Value::Null).await;
    assert_eq!(list["totalData"], 0);

    // Alice's hook is untouched.
    let (status, still) = app.send_json(Method::GET, &hook_path, &alice, &Value::Null).await;
    assert_eq!((status, &still["hook"]["isActiveStatus"]), (200, &json!(true)));
}
