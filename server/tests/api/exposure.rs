//! How the service is reached from outside: `/metrics` behind a token,
//! `--public-url` for the dashboard's cross-site check behind a proxy that
//! rewrites `Host`, and HSTS when that URL is https.

use crate::helpers::TestApp;

#[tokio::test]
async fn metrics_need_the_token_when_one_is_set() {
    let app = TestApp::process_with_env(&[], &[("HOOKRELAY_METRICS_TOKEN", "scrape-me-please")]).await;
    let res = app.get("/metrics").send().await.expect("request");
    assert_eq!(res.status(), 401);
    let body: serde_json::Value = res.json().await.expect("json error");
    assert_eq!(body["statusCode"], 401);
    let res = app.get("/metrics").bearer_auth("wrong").send().await.expect("request");
    assert_eq!(res.status(), 401);
    let res = app.get("/metrics").bearer_auth("scrape-me-please").send().await.expect("request");
    assert_eq!(res.status(), 200);
    assert!(res.text().await.expect("text").contains("hookrelay_queue_depth"));
    assert!(app.logs().iter().all(|l| !l.contains("scrape-me-please")), "the token was logged");

    // Without a token /metrics stays open (the default, for a loopback scraper).
    let open = TestApp::spawn().await;
    assert_eq!(open.get("/metrics").send().await.expect("request").status(), 200);
}

#[tokio::test]
async fn behind_a_proxy_the_public_url_is_the_dashboards_origin() {
    let app = TestApp::spawn_with(&["--public-url", "https://hooks.example.com"]).await;
    let call = |origin: &str| {
        app.client.post(format!("{}/_rpc/current_user", app.url)).header("origin", origin.to_owned()).send()
    };
    // The proxy forwards to 127.0.0.1 with its own Host; the browser's Origin is the public one.
    assert_eq!(call("https://hooks.example.com").await.expect("call").status(), 200);
    assert_eq!(call("http://hooks.example.com").await.expect("call").status(), 403);
    let own_host = call(&app.url).await.expect("call");
    assert_eq!(own_host.status(), 403, "the internal address is not the dashboard's origin");

    let page = app.get("/login").send().await.expect("page");
    let hsts = page.headers().get("strict-transport-security").expect("HSTS over https").to_str().expect("ascii");
    assert!(hsts.contains("max-age=31536000"), "{hsts}");

    let plain = TestApp::spawn().await;
    let page = plain.get("/login").send().await.expect("page");
    assert!(page.headers().get("strict-transport-security").is_none(), "no HSTS over plain http");
}

#[tokio::test]
async fn a_public_url_that_is_not_an_origin_is_refused_at_start() {
    let (status, stderr) = crate::helpers::serve_with_args_expecting_refusal(
        "sqlite::memory:",
        &["--public-url", "https://hooks.example.com/dashboard"],
        &[],
    );
    assert!(!status.success());
    assert!(stderr.contains("origin only"), "{stderr}");
}
