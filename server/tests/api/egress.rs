//! Where deliveries may go and how they get there: the SSRF guard on
//! loopback targets, an explicit egress proxy, and environment proxies never
//! used. Real hookrelay, real receivers.

use crate::delivery::{WAIT, create_hook, hook_body, publish, wait_log};
use crate::helpers::TestApp;
use crate::receiver::Receiver;
use serde_json::json;

#[tokio::test]
async fn the_ssrf_guard_refuses_loopback_targets() {
    let app = TestApp::spawn_with(&["--retry-schedule", "0s", "--delivery-timeout", "2s"]).await;
    let key = app.create_user("ssrf@example.com");
    let receiver = Receiver::start().await;
    let by_ip = create_hook(&app, &key, hook_body(&receiver.url, "ip")).await;
    let by_name = create_hook(&app, &key, hook_body(&receiver.url.replace("127.0.0.1", "localhost"), "name")).await;
    publish(&app, &key, json!({"hookType":"dbs","data":{}})).await;
    for hook in [&by_ip, &by_name] {
        let log = wait_log(&app, &key, hook, |l| l["deliveries"][0]["status"] == "failed").await;
        let error = log["deliveries"][0]["attempts"][0]["error"].as_str().unwrap_or_default().to_owned();
        assert!(error.contains("destination address not allowed"), "{error}");
        // The tenant's log names no address (their DNS is no view of our network).
        assert!(!error.contains("127.0.0.1") && !error.contains("::1"), "{error}");
    }
    // The operator's log names the host and the address.
    wait_for_log(&app, |line| {
        line.contains("SSRF guard refused") && line.contains("localhost") && line.contains("loopback")
    })
    .await;
    // Both deliveries are failed (one attempt each, `--retry-schedule 0s`):
    // nothing more can go out, so the receiver's log is final here.
    assert!(receiver.received().is_empty(), "the receiver must never be reached");
}

/// Waits until a line of the server's log matches.
async fn wait_for_log(app: &TestApp, matches: impl Fn(&str) -> bool) {
    crate::helpers::wait_until("a matching log line", WAIT, || app.logs().iter().any(|line| matches(line))).await;
}

/// `--egress-proxy` is the one proxy deliveries use: the name is left to it.
/// The proxy itself may have a private name (here `localhost`, with the
/// SSRF guard on): it is the operator's, not a tenant's destination.
#[tokio::test]
async fn the_egress_proxy_flag_carries_deliveries() {
    let proxy = Receiver::start().await;
    let proxy_url = proxy.url.trim_end_matches("/hook").replace("127.0.0.1", "localhost");
    let app = TestApp::spawn_with(&["--retry-schedule", "0s", "--egress-proxy", &proxy_url]).await;
    let key = app.create_user("egress@example.com");
    create_hook(&app, &key, hook_body("http://hookrelay-proxy-test.invalid/hook", "p")).await;
    publish(&app, &key, json!({"hookType":"dbs","data":{}})).await;
    let got = proxy.wait_for(1, WAIT).await;
    assert!(got[0].header("webhook-signature").starts_with("v1,"), "a signed delivery reached the proxy");
}

/// A proxy from the environment would resolve the destination itself, past
/// the SSRF guard: deliveries never use one. Here the "proxy" is a loopback
/// receiver and the destination a name that does not resolve: through the
/// proxy it would arrive there; without it the attempt fails on lookup.
#[tokio::test]
async fn a_proxy_in_the_environment_never_carries_a_delivery() {
    let proxy = Receiver::start().await;
    let proxy_url = proxy.url.trim_end_matches("/hook").to_owned();
    let env: Vec<(&str, &str)> = ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
        .into_iter()
        .map(|name| (name, proxy_url.as_str()))
        .collect();
    let app = TestApp::process_with_env(&["--retry-schedule", "0s", "--delivery-timeout", "2s"], &env).await;
    let key = app.create_user("proxy@example.com");
    let hook = create_hook(&app, &key, hook_body("http://hookrelay-proxy-test.invalid/hook", "p")).await;
    publish(&app, &key, json!({"hookType":"dbs","data":{}})).await;
    let log = wait_log(&app, &key, &hook, |l| l["deliveries"][0]["attempts"][0].is_object()).await;
    assert!(proxy.received().is_empty(), "the delivery went through the environment's proxy");
    assert!(log["deliveries"][0]["attempts"][0]["statusCode"].is_null(), "{log}");
}
