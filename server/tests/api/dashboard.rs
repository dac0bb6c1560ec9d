//! The dashboard's server side over HTTP: login sessions, cookies, and the
//! guards on its server functions (the browser side is in end2end/).

use crate::helpers::TestApp;

/// Logs in through the login server function as a plain form post; returns
/// the `name=value` of the session cookie, or `None` when refused.
pub async fn log_in(app: &TestApp, email: &str, password: &str) -> Option<String> {
    let res = no_redirects()
        .post(format!("{}/_rpc/login", app.url))
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .expect("request");
    let set_cookie = res.headers().get("set-cookie").map(|v| v.to_str().expect("ascii").to_owned());
    let set_cookie = set_cookie?;
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.contains(flag), "{set_cookie} lacks {flag}");
    }
    Some(set_cookie.split(';').next().expect("pair").to_owned())
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

#[tokio::test]
async fn a_wrong_password_opens_no_session_and_the_right_one_does() {
    let app = TestApp::spawn().await;
    app.create_user("dash@example.com");
    assert_eq!(log_in(&app, "dash@example.com", "wrong password").await, None);
    assert_eq!(log_in(&app, "nobody@example.com", "a long password").await, None);
    let cookie = log_in(&app, "DASH@example.com ", "a long password").await.expect("session");

    // Only the token's hash is stored.
    let token = cookie.split_once('=').expect("pair").1.to_owned();
    assert!(token.len() >= 40, "{token}");
    let bytes = app.database_bytes();
    assert!(!bytes.windows(token.len()).any(|w| w == token.as_bytes()), "session token stored in plain text");

    let call = |cookie: Option<&str>| {
        let mut req = app.client.post(format!("{}/_rpc/current_user", app.url));
        if let Some(cookie) = cookie {
            req = req.header("cookie", cookie);
        }
        req.send()
    };
    let me: serde_json::Value = call(Some(&cookie)).await.expect("request").json().await.expect("json");
    assert_eq!(me["email"], "dash@example.com");

    // Logout ends it on the server: the old cookie is dead.
    let res =
        no_redirects().post(format!("{}/_rpc/logout", app.url)).header("cookie", &cookie).send().await.expect("logout");
    assert!(res.headers().get("set-cookie").expect("cleared").to_str().expect("ascii").contains("Max-Age=0"));
    let me: serde_json::Value = call(Some(&cookie)).await.expect("request").json().await.expect("json");
    assert_eq!(me, serde_json::Value::Null);
}

#[tokio::test]
async fn login_attempts_per_email_are_limited() {
    let app = TestApp::spawn().await;
    app.create_user("guess@example.com");
    for _ in 0..5 {
        assert_eq!(log_in(&app, "guess@example.com", "wrong guess").await, None);
    }
    // The sixth attempt within the minute is refused before the password is checked, even the right one.
    let res = no_redirects()
        .post(format!("{}/_rpc/login", app.url))
        .form(&[("email", "guess@example.com"), ("password", "a long password")])
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 429);
    assert!(res.headers().get("set-cookie").is_none());
    assert!(res.text().await.expect("body").contains("Too many login attempts"));
    // Other accounts are not affected.
    app.create_user("other@example.com");
    assert!(log_in(&app, "other@example.com", "a long password").await.is_some());
}

#[tokio::test]
async fn server_functions_need_a_session_and_refuse_other_sites() {
    let app = TestApp::spawn().await;
    app.create_user("guard@example.com");
    let res = app.client.post(format!("{}/_rpc/overview", app.url)).send().await.expect("request");
    assert_eq!(res.status(), 401);
    let res = app
        .client
        .post(format!("{}/_rpc/list_keys", app.url))
        .header("cookie", "hookrelay_session=forged")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 401);

    let cookie = log_in(&app, "guard@example.com", "a long password").await.expect("session");
    let res =
        app.client.post(format!("{}/_rpc/overview", app.url)).header("cookie", &cookie).send().await.expect("request");
    assert_eq!(res.status(), 200);
    let figures: serde_json::Value = res.json().await.expect("json");
    assert_eq!(figures["hours"].as_array().map(Vec::len), Some(24));

    for (name, value) in [("origin", "https://evil.example"), ("sec-fetch-site", "cross-site")] {
        let res = app
            .client
            .post(format!("{}/_rpc/overview", app.url))
            .header("cookie", &cookie)
            .header(name, value)
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), 403, "{name}: {value}");
    }
}

/// Every response carries the hardening headers; a dashboard page has a
/// policy whose fresh nonce is on its inline scripts and allows no other.
#[tokio::test]
async fn responses_carry_the_browser_hardening_headers() {
    let app = TestApp::spawn().await;
    let mut nonces = Vec::new();
    for _ in 0..2 {
        let page = app.get("/login").send().await.expect("page");
        assert_eq!(page.status(), 200);
        let header = |name: &str| page.headers().get(name).map(|v| v.to_str().expect("ascii").to_owned());
        assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"));
        assert_eq!(header("x-frame-options").as_deref(), Some("DENY"));
        assert_eq!(header("referrer-policy").as_deref(), Some("same-origin"));
        let policy = header("content-security-policy").expect("a policy on the page");
        assert!(policy.contains("frame-ancestors 'none'") && policy.contains("'wasm-unsafe-eval'"), "{policy}");
        assert!(!policy.contains("unsafe-inline"), "{policy}");
        let nonce = policy.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).expect("nonce").to_owned();
        let body = page.text().await.expect("body");
        assert!(body.contains(&format!("nonce=\"{nonce}\"")), "the inline scripts carry the nonce");
        nonces.push(nonce);
    }
    assert_ne!(nonces[0], nonces[1], "a fresh nonce per page");

    for path in ["/api/v1/hooks", "/healthz", "/api/openapi.json"] {
        let res = app.get(path).send().await.expect("response");
        let headers = res.headers();
        assert_eq!(
            headers.get("x-content-type-options").map(axum::http::HeaderValue::as_bytes),
            Some(&b"nosniff"[..]),
            "{path}"
        );
        assert_eq!(
            headers.get("content-security-policy").map(axum::http::HeaderValue::as_bytes),
            Some(&b"default-src 'none'; frame-ancestors 'none'"[..]),
            "{path}"
        );
    }
}
