//! The limits that keep one client from costing everyone else, tried the
//! way an attacker would: floods of logins, server-function calls and
//! made-up API keys, and an account creating without end. Each over-limit
//! answer is a 429 (with `Retry-After` where waiting helps) and leaves
//! everyone else served.

use crate::dashboard::log_in;
use crate::helpers::TestApp;
use reqwest::Method;
use serde_json::{Value, json};

fn retry_after(res: &reqwest::Response) -> u64 {
    res.headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("a 429 without Retry-After: {:?}", res.headers()))
}

async fn login_status(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.client
        .post(format!("{}/_rpc/login", app.url))
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn logins_from_one_address_are_limited_whatever_the_email() {
    // 3 a minute: one refills every 20 s, far longer than three argon2 checks take.
    let app = TestApp::spawn_with(&["--login-limit-per-address", "3"]).await;
    app.create_user("victim@example.com");
    let mut statuses = Vec::new();
    for i in 0..3 {
        let res = login_status(&app, &format!("made-up-{i}@example.com"), "wrong password").await;
        statuses.push(res.status().as_u16());
    }
    assert!(statuses.iter().all(|s| *s == 401), "wrong logins are 401s: {statuses:?}");
    let res = login_status(&app, "made-up-9@example.com", "wrong password").await;
    assert_eq!(res.status(), 429);
    assert!(retry_after(&res) >= 1);
    assert!(res.text().await.expect("body").contains("Too many login attempts"));
    // The address is refused even with the right password until it waits.
    assert_eq!(login_status(&app, "victim@example.com", "a long password").await.status(), 429);
}

#[tokio::test]
async fn a_flood_of_server_function_calls_gets_429s_and_the_rest_are_served() {
    let app = TestApp::spawn_with(&["--dashboard-rate-limit", "5"]).await;
    app.create_user("flood@example.com");
    let cookie = log_in(&app, "flood@example.com", "a long password").await.expect("session");
    let mut ok = 0;
    let mut limited = None;
    for _ in 0..60 {
        let res = app
            .client
            .post(format!("{}/_rpc/current_user", app.url))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("request");
        match res.status().as_u16() {
            200 => ok += 1,
            429 => limited = Some(res),
            other => panic!("unexpected {other}"),
        }
    }
    let limited = limited.expect("no call was limited");
    assert!(retry_after(&limited) >= 1);
    assert!(limited.text().await.expect("body").contains("Too many requests"));
    // Burst 4 × 5/s, plus what refilled meanwhile (never all 60).
    assert!((20..60).contains(&ok), "{ok} calls served");

    // Another session is not held back by this one's flood.
    app.create_user("calm@example.com");
    let other = log_in(&app, "calm@example.com", "a long password").await.expect("session");
    let res =
        app.client.post(format!("{}/_rpc/current_user", app.url)).header("cookie", &other).send().await.expect("call");
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn made_up_api_keys_are_limited_per_address_and_real_keys_still_work() {
    let app = TestApp::spawn_with(&["--unknown-key-rate-limit", "2"]).await;
    let key = app.create_user("keys@example.com");
    let mut first_429 = None;
    for i in 0..30 {
        let res = app.request(Method::GET, "/api/v1/hooks", &format!("hr_madeup{i:04}")).send().await.expect("request");
        match res.status().as_u16() {
            401 => {}
            429 => {
                first_429.get_or_insert(i);
                assert!(retry_after(&res) >= 1);
                let body: Value = res.json().await.expect("json");
                assert_eq!(body["statusCode"], 429, "{body}");
            }
            other => panic!("unexpected {other}"),
        }
    }
    let first = first_429.expect("never limited");
    assert!(first >= 8, "limited from attempt {first}, inside the burst of 8");
    let (status, _) = app.send_json(Method::GET, "/api/v1/hooks", &key, &Value::Null).await;
    assert_eq!(status, 200, "a real key from the same address is served");
}

fn hook(n: usize) -> Value {
    json!({"endPoint": format!("https://example.com/h{n}"), "hookType": "dbs", "isActiveStatus": true, "_shop": "s"})
}

#[tokio::test]
async fn an_account_cannot_create_hooks_past_its_limit_even_all_at_once() {
    let app = TestApp::spawn_with(&["--max-hooks-per-account", "5", "--rate-limit", "0"]).await;
    let key = app.create_user("quota@example.com");
    let tasks: Vec<_> = (0..20)
        .map(|n| {
            let (client, url, key) = (app.client.clone(), app.url.clone(), key.clone());
            tokio::spawn(async move {
                let res = client
                    .post(format!("{url}/api/v1/hook"))
                    .bearer_auth(key)
                    .json(&hook(n))
                    .send()
                    .await
                    .expect("post");
                let status = res.status().as_u16();
                (status, res.json::<Value>().await.expect("json"))
            })
        })
        .collect();
    let mut created = 0;
    for task in tasks {
        let (status, body) = task.await.expect("task");
        match status {
            200 => created += 1,
            429 => assert!(body["message"].as_str().is_some_and(|m| m.contains("5 hooks")), "{body}"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(created, 5);
    let (_, list) = app.send_json(Method::GET, "/api/v1/hooks", &key, &Value::Null).await;
    assert_eq!(list["hooks"].as_array().map(Vec::len), Some(5), "{list}");
    // The other route family counts against the same limit.
    let res = app
        .request(Method::POST, "/endpoint", &key)
        .json(&json!({"authType": "Basic Auth", "endpoint": "https://example.com/es", "userName": "a", "password": "pa55word"}))
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 429);
    assert!(retry_after(&res) >= 1, "every 429 carries Retry-After");

    // Deleting one makes room again; another account is not affected.
    let id = list["hooks"][0]["id"].as_str().expect("id");
    let (status, _) = app.send_json(Method::DELETE, &format!("/api/v1/hook/{id}"), &key, &Value::Null).await;
    assert_eq!(status, 200);
    let (status, _) = app.send_json(Method::POST, "/api/v1/hook", &key, &hook(99)).await;
    assert_eq!(status, 200);
    let other = app.create_user("roomy@example.com");
    let (status, _) = app.send_json(Method::POST, "/api/v1/hook", &other, &hook(1)).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn an_account_cannot_create_api_keys_past_its_limit() {
    let app = TestApp::spawn_with(&["--max-keys-per-account", "3"]).await;
    app.create_user("keyquota@example.com");
    let cookie = log_in(&app, "keyquota@example.com", "a long password").await.expect("session");
    let create = || {
        app.client.post(format!("{}/_rpc/create_key", app.url)).header("cookie", &cookie).form(&[("name", "ci")]).send()
    };
    // The account's first key plus two more.
    for _ in 0..2 {
        assert_eq!(create().await.expect("call").status(), 200);
    }
    let res = create().await.expect("call");
    assert_eq!(res.status(), 429);
    assert!(retry_after(&res) >= 1);
    assert!(res.text().await.expect("body").contains("3 active API keys"));
}

/// Slowloris: a client that opens a connection and never finishes its
/// request head is cut off after the header-read timeout (75 s), and
/// everyone else is served meanwhile. Before, such a connection stayed
/// open for ever, each holding a socket and a task.
#[tokio::test]
async fn a_request_head_never_finished_is_cut_off() {
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let app = TestApp::spawn().await;
    let addr = app.url.trim_start_matches("http://").to_owned();
    let mut slow = tokio::net::TcpStream::connect(&addr).await.expect("connect");
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1").await.expect("half a head");
    let started = Instant::now();

    // Others are served while it hangs.
    let res = app.get("/healthz").send().await.expect("healthz");
    assert_eq!(res.status(), 200);

    let mut buf = [0u8; 512];
    let read = tokio::time::timeout(Duration::from_secs(120), slow.read(&mut buf)).await;
    let waited = started.elapsed();
    match read {
        // Closed (0 bytes), reset, or an error answer ending the connection.
        Ok(Ok(_) | Err(_)) => {}
        Err(_) => panic!("a connection with half a request head was still open after {waited:?}"),
    }
    assert!(waited >= Duration::from_secs(70), "cut off after {waited:?}, before the timeout");
}
