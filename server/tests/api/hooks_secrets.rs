//! Secrets never leave in a response, a log line, or the database in clear.

use crate::helpers::TestApp;
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn secrets_are_masked_encrypted_and_never_logged() {
    let app = TestApp::spawn().await;
    let key = app.create_user("secrets@example.com");
    let password = "pw-Zq8sPzUu3vF1";
    let token = "tok-Hh3kLm9XcVb2nQ";
    let jwt_secret = "jwt-Ww5rTy7UiOp0aS";
    let bodies = [
        (
            "/api/v1/hook",
            json!({"endPoint":"https://e.com/basic","authType":"basic","userId":"u","pwdTxt":password,"hookType":"dbs","isActiveStatus":true,"_shop":"s"}),
        ),
        (
            "/api/v1/hook",
            json!({"endPoint":"https://e.com/oauth","authType":"oauth2","token":token,"hookType":"dbs","isActiveStatus":true,"_shop":"s"}),
        ),
        (
            "/api/v1/hook",
            json!({"endPoint":"https://e.com/jwt","authType":"jwt","userId":"sub","token":jwt_secret,"hookType":"dbs","isActiveStatus":true,"_shop":"s"}),
        ),
        (
            "/endpoint/",
            json!({"authType":"Basic Auth","endpoint":"https://e.com/es","userName":"n","password":password}),
        ),
        ("/endpoint/", json!({"authType":"OAuth 2.0","endpoint":"https://e.com/es2","token":token})),
    ];
    let mut responses = String::new();
    let mut generated = Vec::new();
    for (path, body) in &bodies {
        let res = app.request(Method::POST, path, &key).json(body).send().await.expect("r");
        assert!(res.status().is_success(), "{path}");
        let text = res.text().await.expect("body");
        let parsed: Value = serde_json::from_str(&text).expect("json");
        if let Some(t) = parsed["token"].as_str() {
            generated.push(t.to_owned());
        } else {
            responses.push_str(&text);
        }
    }
    // A PATCH that sets a new secret, then reads.
    let (_, list) = app.send_json(Method::GET, "/api/v1/hooks", &key, &Value::Null).await;
    let id = list["hooks"][0]["id"].as_str().expect("id").to_owned();
    let res = app
        .request(Method::PATCH, &format!("/api/v1/hook/{id}"), &key)
        .json(&json!({"token": token}))
        .send()
        .await
        .expect("r");
    responses.push_str(&res.text().await.expect("body"));
    responses.push_str(&serde_json::to_string(&list).expect("json"));
    for path in ["/endpoint/".to_owned(), format!("/api/v1/hook/{id}")] {
        let res = app.request(Method::GET, &path, &key).send().await.expect("r");
        responses.push_str(&res.text().await.expect("body"));
    }

    let db = app.database_bytes();
    let logs = app.logs().join("\n");
    let mut secrets = vec![password.to_owned(), token.to_owned(), jwt_secret.to_owned()];
    secrets.extend(generated.iter().cloned());
    for secret in &secrets {
        assert!(!responses.contains(secret.as_str()), "{secret} in a response");
        assert!(!logs.contains(secret.as_str()), "{secret} in the log");
        assert!(!db.windows(secret.len()).any(|w| w == secret.as_bytes()), "{secret} in the database in clear");
    }
    assert!(responses.contains("*******"));
}
