//! The server process itself: start-up, health, routing, errors, shutdown.

use crate::helpers::{TestApp, assert_error};

#[tokio::test]
async fn healthz_answers_once_the_database_does() {
    let app = TestApp::spawn().await;
    let res = app.get("/healthz").send().await.expect("request");
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<serde_json::Value>().await.expect("json"), serde_json::json!({"status": "ok"}));
}

#[tokio::test]
async fn the_database_is_created_in_wal_mode_with_migrations_applied() {
    if crate::helpers::backend() == crate::helpers::Backend::Postgres {
        // PostgreSQL's own start-up is `migrations_run_on_an_empty_postgres_database`.
        return;
    }
    let app = TestApp::spawn().await;
    assert!(app.db_path.exists());
    let pool = sqlx::SqlitePool::connect(&app.db_url).await.expect("open db");
    let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode").fetch_one(&pool).await.expect("pragma");
    assert_eq!(mode, "wal");
    let (tables,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('accounts', 'api_keys')")
            .fetch_one(&pool)
            .await
            .expect("tables");
    assert_eq!(tables, 2);
}

#[tokio::test]
async fn the_dashboard_is_server_rendered() {
    let app = TestApp::spawn().await;
    app.create_user("ssr@example.com");
    // Signed out: the login form (server-rendered, so it works without the WASM).
    let res = app.get("/").header("accept", "text/html").send().await.expect("request");
    assert_eq!(res.status(), 200);
    assert_eq!(res.url().path(), "/login", "a signed-out visitor is sent to the login form");
    let html = res.text().await.expect("html");
    assert!(html.contains("<form") && html.contains("name=\"password\""), "{html}");

    let cookie = crate::dashboard::log_in(&app, "ssr@example.com", "a long password").await.expect("logged in");
    let res = app.get("/").header("cookie", &cookie).send().await.expect("request");
    assert_eq!(res.status(), 200);
    let html = res.text().await.expect("html");
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains("Hookrelay") && html.contains("Service status"), "{html}");
    assert!(html.contains("/pkg/hookrelay.js") && html.contains("/pkg/hookrelay.wasm"), "{html}");
    assert!(html.contains("reachable"), "the status resource was not resolved during SSR: {html}");

    let res = app.get("/no-such-page").send().await.expect("request");
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn api_errors_are_json_with_a_request_id() {
    let app = TestApp::spawn().await;
    let key = app.create_user("errors@example.com");

    let res = app.get("/api/v1/no-such-route").bearer_auth(&key).send().await.expect("request");
    assert_error(res, 404).await;

    let res = app.client.delete(format!("{}/api/v1/hooks", app.url)).bearer_auth(&key).send().await.expect("request");
    assert_error(res, 405).await;

    let res = app.get("/api/v1/hooks?page=0&size=abc").bearer_auth(&key).send().await.expect("request");
    let body = assert_error(res, 400).await;
    let fields: Vec<&str> =
        body["errors"].as_array().into_iter().flatten().filter_map(|e| e["field"].as_str()).collect();
    assert_eq!(fields, ["page", "size"], "{body}");
}

#[tokio::test]
async fn one_log_line_per_request_without_secrets() {
    let app = TestApp::spawn().await;
    let key = app.create_user("logs@example.com");
    let res = app.get("/api/v1/hooks?page=2").bearer_auth(&key).send().await.expect("request");
    let request_id = res.headers().get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    assert_eq!(res.status(), 200);
    let request_id = request_id.expect("x-request-id header");
    // The log line is written just after the response; give it a moment.
    let mut lines = Vec::new();
    for _ in 0..50 {
        lines = app.logs().into_iter().filter(|l| l.contains(&request_id)).collect();
        if !lines.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("/api/v1/hooks") && lines[0].contains("status=200"), "{lines:?}");
    assert!(app.logs().iter().all(|l| !l.contains(&key)));
}

#[tokio::test]
async fn sigterm_shuts_down_gracefully() {
    let mut app = TestApp::process_with(&[]).await;
    assert!(app.pid() > 0);
    let status = app.terminate();
    assert!(status.success(), "exit status {status:?}");
}

/// A client that never finishes its request does not hold the stop open:
/// after SIGTERM the process exits once the drain bound has passed (10 s),
/// cleanly; a second signal ends it at once.
#[tokio::test]
async fn a_half_sent_request_does_not_hold_shutdown_open() {
    use tokio::io::AsyncWriteExt;
    let mut app = TestApp::process_with(&[]).await;
    let addr = app.url.trim_start_matches("http://").to_owned();
    let mut stalled = tokio::net::TcpStream::connect(&addr).await.expect("connect");
    stalled.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.expect("write");
    // The server has the connection (a full request on another one answers).
    let res = reqwest::get(format!("{}/healthz", app.url)).await.expect("healthz");
    assert_eq!(res.status(), 200);
    let pid = app.pid().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().expect("kill").success());
    let status = app.wait_exit(std::time::Duration::from_secs(40)).await.expect("exited after the drain bound");
    assert!(status.success(), "exit status {status:?}");
    drop(stalled);

    let mut app = TestApp::process_with(&[]).await;
    let mut stalled = tokio::net::TcpStream::connect(app.url.trim_start_matches("http://")).await.expect("connect");
    stalled.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.expect("write");
    let res = reqwest::get(format!("{}/healthz", app.url)).await.expect("healthz");
    assert_eq!(res.status(), 200);
    let pid = app.pid().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().expect("kill").success());
    crate::helpers::wait_until("the first signal is logged", std::time::Duration::from_secs(10), || {
        app.logs().iter().any(|l| l.contains("SIGTERM received"))
    })
    .await;
    assert!(std::process::Command::new("kill").args(["-INT", &pid]).status().expect("kill").success());
    let status = app.wait_exit(std::time::Duration::from_secs(5)).await.expect("exited on the second signal");
    assert_eq!(status.code(), Some(130), "{status:?}");
    drop(stalled);
}
