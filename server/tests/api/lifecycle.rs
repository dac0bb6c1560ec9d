//! The process itself: refusing to start with a lost or wrong key, stopping
//! when the dispatcher dies, failing the health check when it stalls, and
//! rotating the at-rest key. Real hookrelay.

use crate::helpers::{TestApp, create_hook};
use crate::operations::{WAIT, flags};
use crate::receiver::Receiver;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;
use tokio::time::Instant;

#[tokio::test]
async fn a_lost_or_wrong_key_refuses_to_start() {
    let mut app = TestApp::process_with(&flags(&[])).await;
    let key = app.create_user("lostkey@example.com");
    let body = json!({"endPoint": "https://example.com/h", "hookType": "dbs", "isActiveStatus": true, "_shop": "s",
                      "authType": "basic", "userId": "u", "pwdTxt": "hunter2"});
    let (status, _) = app.send_json(Method::POST, "/api/v1/hook", &key, &body).await;
    assert_eq!(status, 200);
    assert!(app.stop().success());

    let key_file = app.key_file.clone();
    let original = std::fs::read(&key_file).expect("key file");
    std::fs::remove_file(&key_file).expect("lose the key file");
    let (status, stderr) = app.serve_expecting_refusal(&[], &[]);
    assert!(!status.success());
    assert!(stderr.contains("key file") && stderr.contains("is missing") && stderr.contains("Restore"), "{stderr}");
    assert!(!key_file.exists(), "a new key file was written over the lost one");

    // Another key (mistyped, or another install's) is refused too.
    let other = base64_key([9u8; 32]);
    let (status, stderr) = app.serve_expecting_refusal(&[], &[("HOOKRELAY_SECRET_KEY", &other)]);
    assert!(!status.success());
    assert!(stderr.contains("not the key this database"), "{stderr}");

    // A key on the command line is refused (every local user can read argv).
    let (status, stderr) = app.serve_expecting_refusal(&["--secret-key", &other], &[]);
    assert!(!status.success());
    assert!(stderr.contains("never taken from the command line"), "{stderr}");

    // Restored readable by others (a plain copy: 0644), it is refused with the fix.
    std::fs::write(&key_file, original).expect("restore");
    std::fs::set_permissions(&key_file, std::os::unix::fs::PermissionsExt::from_mode(0o644)).expect("chmod");
    let (status, stderr) = app.serve_expecting_refusal(&[], &[]);
    assert!(!status.success());
    assert!(stderr.contains("users other than its owner") && stderr.contains("chmod 600"), "{stderr}");
    // Readable by its group (0640) is refused too.
    std::fs::set_permissions(&key_file, std::os::unix::fs::PermissionsExt::from_mode(0o640)).expect("chmod");
    let (status, stderr) = app.serve_expecting_refusal(&[], &[]);
    assert!(!status.success());
    assert!(stderr.contains("mode 640") && stderr.contains("chmod 600"), "{stderr}");

    // Private to its owner, it starts, and the hook's secrets are still there.
    std::fs::set_permissions(&key_file, std::os::unix::fs::PermissionsExt::from_mode(0o600)).expect("chmod");
    app.start_again();
    let (status, list) = app.send_json(Method::GET, "/api/v1/hooks", &key, &Value::Null).await;
    assert_eq!(status, 200);
    assert_eq!(list["hooks"][0]["pwdTxt"], "*******", "{list}");
}

#[tokio::test]
async fn a_dispatcher_that_dies_stops_the_process() {
    let mut app = TestApp::process_with(&flags(&["--fault", "dispatcher-panic"])).await;
    let key = app.create_user("panic@example.com");
    let receiver = Receiver::start().await;
    create_hook(&app, &key, &receiver.url).await;
    app.send_json(Method::POST, "/api/v1/events", &key, &json!({"hookType": "dbs", "data": {}})).await;
    let status = app.wait_exit(WAIT).await.expect("the process must exit when its dispatcher dies");
    assert!(!status.success(), "{status}");
    assert!(app.logs().iter().any(|l| l.contains("dispatcher") && l.contains("panicked")), "{:?}", app.logs());
}

#[tokio::test]
async fn a_stalled_dispatcher_fails_the_health_check() {
    let app = TestApp::spawn_with(&flags(&["--fault", "dispatcher-stall", "--delivery-timeout", "1s"])).await;
    let key = app.create_user("stall@example.com");
    assert_eq!(app.get("/healthz").send().await.expect("healthz").status(), 200);
    let receiver = Receiver::start().await;
    create_hook(&app, &key, &receiver.url).await;
    app.send_json(Method::POST, "/api/v1/events", &key, &json!({"hookType": "dbs", "data": {}})).await;
    // A lease is 1 s + 5 s: after that without progress, /healthz says so.
    let deadline = Instant::now() + WAIT;
    loop {
        let res = app.get("/healthz").send().await.expect("healthz");
        if res.status() == 503 {
            let body: Value = res.json().await.expect("json");
            assert_eq!(body["status"], "stalled");
            break;
        }
        assert!(Instant::now() < deadline, "/healthz never reported the stalled dispatcher");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub fn chrono_ms() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock");
    i64::try_from(now.as_millis()).expect("ms")
}

fn base64_key(bytes: [u8; 32]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[tokio::test]
async fn rotating_the_at_rest_key_reseals_every_secret() {
    use base64::Engine;
    use std::os::unix::fs::PermissionsExt;
    let mut app = TestApp::process_with(&flags(&[])).await;
    let key = app.create_user("rotate@example.com");
    let receiver = Receiver::start().await;
    let body = json!({"endPoint": receiver.url, "hookType": "dbs", "isActiveStatus": true, "_shop": "s",
                      "authType": "basic", "userId": "u", "pwdTxt": "hunter2-before-rotation",
                      "secretHeaders": {"X-Api-Key": "sk-before-rotation"}});
    let (status, _) = app.send_json(Method::POST, "/api/v1/hook", &key, &body).await;
    assert_eq!(status, 200);
    let ops = json!({"endpoint": "https://ops.example.com/hookrelay"});
    let (_, ops_before) = app.send_json(Method::PUT, "/api/v1/account/operations", &key, &ops).await;
    let ops_secret = ops_before["operations"]["secret"].as_str().expect("operations secret").to_owned();
    let (_, list) = app.send_json(Method::GET, "/api/v1/hooks", &key, &Value::Null).await;
    let hook = list["hooks"][0]["id"].as_str().expect("id").to_owned();
    let (_, secret) = app.send_json(Method::GET, &format!("/api/v1/hook/{hook}/secret"), &key, &Value::Null).await;
    let signing_before = secret["secret"].as_str().expect("secret").to_owned();
    assert!(app.stop().success());

    let key_file = app.key_file.clone();
    let old_key = std::fs::read_to_string(&key_file).expect("key file");
    // With the key in HOOKRELAY_SECRET_KEY the new one must be given: nothing changes without it.
    let out = app.cli_with_env(&["rotate-secret-key"], &[("HOOKRELAY_SECRET_KEY", old_key.trim())]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("HOOKRELAY_NEW_SECRET_KEY"), "{out:?}");
    assert_eq!(std::fs::read_to_string(&key_file).expect("key file"), old_key);

    let out = app.cli(&["rotate-secret-key"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // The password, the secret headers, the signing secret and the operations secret.
    assert!(stderr.contains("Re-sealed 4 secrets of 1 hooks"), "{stderr}");
    let new_key = std::fs::read_to_string(&key_file).expect("key file");
    assert_ne!(new_key, old_key);
    assert_eq!(base64::engine::general_purpose::STANDARD.decode(new_key.trim()).expect("base64").len(), 32);
    assert_eq!(std::fs::metadata(&key_file).expect("meta").permissions().mode() & 0o777, 0o600);
    assert!(!std::path::Path::new(&format!("{}.new", key_file.display())).exists(), "staged key left behind");
    let kept = format!("{}.old", key_file.display());
    assert_eq!(std::fs::read_to_string(&kept).expect("old key kept for the old backups"), old_key);
    assert_eq!(std::fs::metadata(&kept).expect("meta").permissions().mode() & 0o777, 0o600);

    // The old key no longer opens the database.
    let (status, stderr) = app.serve_expecting_refusal(&[], &[("HOOKRELAY_SECRET_KEY", old_key.trim())]);
    assert!(!status.success());
    assert!(stderr.contains("not the key this database"), "{stderr}");

    // With the new key everything is as it was: the signing secret, and the password on the wire.
    app.start_again();
    let (_, secret) = app.send_json(Method::GET, &format!("/api/v1/hook/{hook}/secret"), &key, &Value::Null).await;
    assert_eq!(secret["secret"], signing_before.as_str());
    let (status, _) =
        app.send_json(Method::POST, "/api/v1/events", &key, &json!({"hookType": "dbs", "data": {"n": 1}})).await;
    assert_eq!(status, 202);
    let got = receiver.wait_for(1, WAIT).await;
    let expected = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("u:hunter2-before-rotation"));
    assert_eq!(got[0].header("authorization"), expected);
    assert_eq!(got[0].header("x-api-key"), "sk-before-rotation");
    let (_, ops_after) = app.send_json(Method::GET, "/api/v1/account/operations", &key, &Value::Null).await;
    assert_eq!(ops_after["operations"]["secret"], ops_secret.as_str());

    // Rotating again with a key the operator chose works too.
    assert!(app.stop().success());
    let chosen = base64_key([7u8; 32]);
    let out = app.cli_with_env(&["rotate-secret-key"], &[("HOOKRELAY_NEW_SECRET_KEY", &chosen)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read_to_string(&key_file).expect("key file").trim(), chosen);
    app.start_again();
    let (_, secret) = app.send_json(Method::GET, &format!("/api/v1/hook/{hook}/secret"), &key, &Value::Null).await;
    assert_eq!(secret["secret"], signing_before.as_str());
}

/// A SQLite database opened read-only (here `?mode=ro`; a file, directory
/// or mount the process may not write gives the same) is refused at start
/// with the reason, rather than serving and answering every write with 500.
#[tokio::test]
async fn a_database_that_takes_no_writes_refuses_to_start() {
    let mut app = TestApp::process_with(&[]).await;
    if !app.db_url.starts_with("sqlite:") {
        return; // PostgreSQL has no read-only open to test here.
    }
    app.create_user("readonly@example.com");
    assert!(app.stop().success());
    let read_only = format!("{}?mode=ro", app.db_url);
    let (status, stderr) = crate::helpers::serve_with_args_expecting_refusal(&read_only, &[], &[]);
    assert!(!status.success());
    assert!(stderr.contains("does not take writes"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
