//! `hookrelay user create` / `key create`.

use crate::helpers::{BIN, TestApp};
use std::process::Command;

fn is_api_key(s: &str) -> bool {
    s.len() == 46 && s.starts_with("hr_") && s[3..].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[tokio::test]
async fn user_create_prints_only_the_key_on_stdout() {
    let app = TestApp::spawn().await;
    let out = app.cli(&["user", "create", "--email", "Ops@Example.com", "--password", "s3cret-pass", "--admin"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    assert_eq!(stdout.lines().count(), 1, "stdout: {stdout:?}");
    assert!(is_api_key(stdout.trim()), "not a key: {stdout:?}");
    // The key and the password are never logged.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains(stdout.trim()));
    assert!(!stderr.contains("s3cret-pass"));
}

#[tokio::test]
async fn key_create_prints_another_working_key() {
    let app = TestApp::spawn().await;
    let first = app.create_user("keys@example.com");
    let out = app.cli(&["key", "create", "--email", "KEYS@example.com", "--name", "ci"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let second = String::from_utf8(out.stdout).expect("utf-8").trim().to_owned();
    assert!(is_api_key(&second));
    assert_ne!(first, second);
    for key in [&first, &second] {
        let res = app.get("/api/v1/hooks").bearer_auth(key).send().await.expect("request");
        assert_eq!(res.status(), 200);
    }
}

#[tokio::test]
async fn duplicate_email_is_a_clear_error() {
    let app = TestApp::spawn().await;
    app.create_user("dup@example.com");
    let out = app.cli(&["user", "create", "--email", "DUP@example.com", "--password", "another password"]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("already exists"), "{stderr}");
}

#[tokio::test]
async fn bad_input_and_unknown_accounts_fail_without_a_key() {
    let app = TestApp::spawn().await;
    let cases: [(&[&str], &str); 4] = [
        (&["user", "create", "--email", "not-an-email", "--password", "long enough"], "email"),
        (&["user", "create", "--email", "a@example.com", "--password", "short"], "at least 8"),
        (
            &["user", "create", "--email", "a@example.com", "--password", "long enough", "--vertical", "hotels"],
            "vertical",
        ),
        (&["key", "create", "--email", "nobody@example.com"], "no account"),
    ];
    for (args, expected) in cases {
        let out = app.cli(args);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(out.stdout.is_empty(), "{args:?} printed {:?}", out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

#[test]
fn help_lists_every_command_and_env_var() {
    let out = Command::new(BIN).arg("--help").output().expect("run");
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in ["serve", "user", "key", "--listen", "HOOKRELAY_LISTEN", "--database-url", "DATABASE_URL"] {
        assert!(help.contains(needle), "--help lacks {needle}: {help}");
    }
}

#[test]
fn a_runtime_of_no_threads_is_refused_with_the_flag_named() {
    for args in [&["serve", "--runtime-threads", "0"][..], &["serve", "--runtime-threads", "many"]] {
        let out = Command::new(BIN).args(args).output().expect("run");
        assert_eq!(out.status.code(), Some(2), "a usage error for {args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("--runtime-threads"), "{stderr}");
    }
}

/// Values past any sane setting are refused at start with the flag named,
/// rather than accepted and panicking later (at shutdown, at the first
/// delivery, at the first retry) or doing what nobody meant (a retention of
/// nothing; an empty metrics token that protects nothing).
#[test]
fn absurd_delivery_settings_are_refused_with_the_flag_named() {
    let cases: [(&[&str], &str); 12] = [
        (&["--retention", "0s"], "--retention"),
        (&["--metrics-token", ""], "--metrics-token"),
        (&["--metrics-token", "   "], "--metrics-token"),
        (&["--metrics-token", "scrape-me\r"], "--metrics-token"),
        (&["--delivery-timeout", "18446744073709551615s"], "--delivery-timeout"),
        (&["--delivery-timeout", "0s"], "--delivery-timeout"),
        (&["--workers", "18446744073709551615"], "--workers"),
        (&["--workers", "0"], "--workers"),
        (&["--max-per-destination", "18446744073709551615"], "--max-per-destination"),
        (&["--retry-schedule", "0s,580000000000y"], "--retry-schedule"),
        (&["--hook-types", "flightrates=dbs;eventsshop=dbs"], "--hook-types"),
        (&["--max-body-bytes", "0"], "--max-body-bytes"),
    ];
    let dir = tempfile::tempdir().expect("dir");
    let db = format!("sqlite://{}", dir.path().join("refused.db").display());
    for (args, flag) in cases {
        // Were a value accepted, the server would start (on a free port and
        // a throw-away database) and the helper fails the test.
        let (status, stderr) = crate::helpers::serve_with_args_expecting_refusal(&db, args, &[]);
        assert_eq!(status.code(), Some(2), "a usage error for {args:?}: {stderr}");
        assert!(stderr.contains(flag), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    // The compose-file spelling: the variable set, empty.
    let (status, stderr) =
        crate::helpers::serve_with_args_expecting_refusal(&db, &[], &[("HOOKRELAY_METRICS_TOKEN", "")]);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--metrics-token"), "{stderr}");
}

/// A refused metrics token is a secret all the same: the refusal names the
/// flag and why, never the value (stderr ends up in the logs).
#[test]
fn a_refused_metrics_token_is_not_echoed() {
    let dir = tempfile::tempdir().expect("dir");
    let db = format!("sqlite://{}", dir.path().join("refused.db").display());
    let flag: (&[&str], &[(&str, &str)]) = (&["--metrics-token", "scrape-me-secret\r"], &[]);
    let env: (&[&str], &[(&str, &str)]) = (&[], &[("HOOKRELAY_METRICS_TOKEN", " scrape-me-secret")]);
    for (args, env) in [flag, env] {
        let (status, stderr) = crate::helpers::serve_with_args_expecting_refusal(&db, args, env);
        assert_eq!(status.code(), Some(2), "{args:?} {env:?}: {stderr}");
        assert!(stderr.contains("--metrics-token"), "{stderr}");
        assert!(!stderr.contains("scrape-me-secret"), "the token was echoed: {stderr}");
    }
}

/// Runs `serve` and `user create` in `dir` on `url`, checks that each failed
/// without a panic, and returns what each wrote on stderr.
fn refusals_of_database_url(dir: &std::path::Path, url: &str) -> Vec<String> {
    [&["serve", "--listen", "127.0.0.1:0"][..], &["user", "create", "--email", "refused@example.com"]]
        .into_iter()
        .map(|args| {
            let out = Command::new(BIN)
                .current_dir(dir)
                .args(args)
                .args(["--database-url", url])
                .env("HOOKRELAY_USER_PASSWORD", "a long enough password")
                .output()
                .expect("run");
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(!out.status.success(), "{args:?} {url}: {stderr}");
            assert!(!stderr.contains("panicked"), "{args:?} {url}: {stderr}");
            stderr
        })
        .collect()
}

/// A mistyped database URL is refused with a clear message that names its
/// scheme, not the URL (which may hold a password); `user create` too.
#[test]
fn a_database_url_of_another_scheme_is_refused_without_echoing_it() {
    let dir = tempfile::tempdir().expect("dir");
    for url in ["postgress://hookrelay:s3cret-pw@127.0.0.1/db", "mysql://root:s3cret-pw@127.0.0.1/db"] {
        for stderr in refusals_of_database_url(dir.path(), url) {
            assert!(stderr.contains("is not one Hookrelay runs on"), "{url}: {stderr}");
            assert!(!stderr.contains("s3cret-pw"), "{stderr}");
        }
    }
    // Nothing was created in the working directory.
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
}

/// An in-memory SQLite database would accept events that no restart keeps
/// and that `user create` (another process) cannot reach: refused at start
/// with a message that says what to use instead, and nothing is created.
#[test]
fn an_in_memory_database_is_refused_with_what_to_use_instead() {
    let dir = tempfile::tempdir().expect("dir");
    for url in ["sqlite::memory:", "sqlite://:memory:", "sqlite://hookrelay.db?mode=memory"] {
        for stderr in refusals_of_database_url(dir.path(), url) {
            assert!(stderr.contains("in-memory SQLite database"), "{url}: {stderr}");
            assert!(stderr.contains("sqlite://hookrelay.db"), "{stderr}");
        }
    }
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0, "no file left behind");
}
