//! Shared helpers: start the service, run its CLI, make requests.
//!
//! `TestApp::spawn*` builds the service's `Application` in this process on
//! port 0 (`in_process.rs`); `TestApp::process*` spawns the real binary, for
//! the tests of signals, crashes, the environment and several processes.
//!
//! Every test runs on the backend `HOOKRELAY_TEST_BACKEND` names: `sqlite`
//! (the default: a temporary SQLite file) or `postgres` (a throw-away
//! database on `HOOKRELAY_TEST_POSTGRES`, by default
//! `postgres://postgres@127.0.0.1:5432/test`, created for the test and
//! dropped after it). `scripts/test` runs the suite once with each.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_hookrelay");

pub use crate::test_db::{Arg, Backend, DirectDb, TestDatabase, backend};

/// How a test's server runs.
enum Server {
    Process(Child),
    /// Held for its `Drop`, which stops the server.
    InProcess {
        _running: crate::in_process::Running,
    },
}

/// A running `hookrelay serve` with its own database in a temp directory.
pub struct TestApp {
    pub url: String,
    pub db_url: String,
    pub db_path: PathBuf,
    pub key_file: PathBuf,
    pub client: reqwest::Client,
    logs: Arc<Mutex<Vec<String>>>,
    server: Server,
    extra: Vec<String>,
    env: Vec<(String, String)>,
    // Dropped after the process (fields drop in order): the database last.
    _dir: tempfile::TempDir,
    _db: Arc<TestDatabase>,
}

/// Starts `hookrelay serve` on a free port; returns the child, its URL and its log lines.
fn start(db_url: &str, extra: &[String], env: &[(String, String)]) -> (Child, String, Arc<Mutex<Vec<String>>>) {
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--database-url", db_url])
        .args(extra)
        .env("RUST_LOG", "info")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn hookrelay");
    let logs = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().expect("stderr");
    let sink = logs.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("listening on http://").nth(1) {
                let addr = rest.split_whitespace().next().unwrap_or_default().to_owned();
                let _ = tx.send(addr);
            }
            eprintln!("[hookrelay] {line}");
            sink.lock().expect("log lock").push(line);
        }
    });
    match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(addr) => (child, format!("http://{addr}"), logs),
        Err(_) => {
            let _ = child.kill();
            panic!("hookrelay did not start: {:?}", logs.lock().map(|l| l.clone()));
        }
    }
}

/// Starts the application in this process; the database's environment
/// (its key file) becomes the matching flag.
fn start_in_process(db: &TestDatabase, extra: &[String]) -> (Server, String, Arc<Mutex<Vec<String>>>) {
    let mut args: Vec<String> =
        ["--listen", "127.0.0.1:0", "--database-url", &db.url].into_iter().map(str::to_owned).collect();
    for (name, value) in &db.env {
        assert_eq!(name, "HOOKRELAY_SECRET_KEY_FILE", "no flag for {name}: use TestApp::process_with_env");
        args.extend(["--secret-key-file".to_owned(), value.clone()]);
    }
    args.extend(extra.iter().cloned());
    let logs = Arc::new(Mutex::new(Vec::new()));
    let (running, url) = crate::in_process::start(&args, logs.clone());
    (Server::InProcess { _running: running }, url, logs)
}

impl TestApp {
    /// The service in this process, default flags.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(&[]).await
    }

    /// The service in this process with extra `serve` flags.
    pub async fn spawn_with(extra: &[&str]) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = Arc::new(TestDatabase::new(dir.path()));
        let extra: Vec<String> = extra.iter().map(|s| (*s).to_owned()).collect();
        let started = start_in_process(&db, &extra);
        let env = db.env.clone();
        Self::assemble(started, extra, env, dir, db)
    }

    /// The real binary as a child process with extra `serve` flags.
    pub async fn process_with(extra: &[&str]) -> TestApp {
        Self::process_with_env(extra, &[]).await
    }

    /// The real binary with extra `serve` flags and environment variables.
    pub async fn process_with_env(extra: &[&str], env: &[(&str, &str)]) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = Arc::new(TestDatabase::new(dir.path()));
        Self::spawn_on(db, dir, extra, env)
    }

    /// Another `hookrelay serve` process on this app's database (PostgreSQL:
    /// several processes share one database), with its own flags.
    pub fn another_process(&self, extra: &[&str]) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let env: Vec<(&str, &str)> = self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        Self::spawn_on(self._db.clone(), dir, extra, &env)
    }

    /// The real binary on a database the test made (`TestDatabase::of`), whose files are under `dir`.
    pub fn spawn_on(db: Arc<TestDatabase>, dir: tempfile::TempDir, extra: &[&str], env: &[(&str, &str)]) -> TestApp {
        let extra: Vec<String> = extra.iter().map(|s| (*s).to_owned()).collect();
        let mut all_env = db.env.clone();
        all_env.extend(env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        let (child, url, logs) = start(&db.url, &extra, &all_env);
        Self::assemble((Server::Process(child), url, logs), extra, all_env, dir, db)
    }

    /// A started server with what it needs to start again.
    fn assemble(
        (server, url, logs): (Server, String, Arc<Mutex<Vec<String>>>),
        extra: Vec<String>,
        env: Vec<(String, String)>,
        dir: tempfile::TempDir,
        db: Arc<TestDatabase>,
    ) -> TestApp {
        TestApp {
            url,
            db_url: db.url.clone(),
            db_path: db.path.clone(),
            key_file: db.key_file.clone(),
            // A request that hangs fails its test (with the app's log) instead
            // of holding the whole run until CI's limit.
            client: reqwest::Client::builder().timeout(Duration::from_secs(120)).build().expect("an HTTP client"),
            logs,
            server,
            extra,
            env,
            _dir: dir,
            _db: db,
        }
    }

    /// The child process; signals and exit codes need one.
    fn child(&mut self) -> &mut Child {
        match &mut self.server {
            Server::Process(child) => child,
            Server::InProcess { .. } => panic!("this test signals its server: start it with TestApp::process_with"),
        }
    }

    /// A new process on the same database, with the same flags.
    fn restart_process(&mut self) {
        let (child, url, logs) = start(&self.db_url, &self.extra, &self.env);
        self.server = Server::Process(child);
        self.url = url;
        self.logs = logs;
    }

    /// `kill -9` the server (no chance to clean up), then start it again on the same database.
    pub fn crash_and_restart(&mut self) {
        self.kill();
        self.restart_process();
    }

    /// `kill -9` the server and leave it dead (another process carries on).
    pub fn kill(&mut self) {
        let child = self.child();
        let _ = child.kill();
        let _ = child.wait();
    }

    /// SIGTERM, wait for a clean exit, then start again on the same database.
    pub fn stop_and_restart(&mut self) -> std::process::ExitStatus {
        let exit = self.stop();
        self.restart_process();
        exit
    }

    /// Runs a `hookrelay` CLI command against this app's database (with the
    /// app's environment: its key file setting).
    pub fn cli(&self, args: &[&str]) -> Output {
        self.cli_with_env(args, &[])
    }

    /// `cli` with more environment variables.
    pub fn cli_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        Command::new(BIN)
            .args(args)
            .args(["--database-url", &self.db_url])
            .env("RUST_LOG", "info")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .envs(env.iter().copied())
            .output()
            .expect("run hookrelay")
    }

    /// Creates an account and returns its API key.
    pub fn create_user(&self, email: &str) -> String {
        let out = self.cli(&["user", "create", "--email", email, "--password", "a long password"]);
        assert!(out.status.success(), "user create failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("utf-8").trim().to_owned()
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.get(format!("{}{path}", self.url))
    }

    pub fn request(&self, method: reqwest::Method, path: &str, key: &str) -> reqwest::RequestBuilder {
        self.client.request(method, format!("{}{path}", self.url)).bearer_auth(key)
    }

    /// Sends `body` as JSON with `key`, returns status and parsed body.
    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        key: &str,
        body: &serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let res = self.request(method, path, key).json(body).send().await.expect("request");
        let status = res.status().as_u16();
        let text = res.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
    }

    /// Every byte of the database and its WAL (PostgreSQL: a `pg_dump` of it).
    pub fn database_bytes(&self) -> Vec<u8> {
        if backend() == Backend::Postgres {
            let out = Command::new("pg_dump").args(["-w", "-d", &self.db_url]).output().expect("run pg_dump");
            assert!(out.status.success(), "pg_dump: {}", String::from_utf8_lossy(&out.stderr));
            return out.stdout;
        }
        let mut bytes = std::fs::read(&self.db_path).expect("db");
        for suffix in ["-wal", "-shm"] {
            if let Ok(more) = std::fs::read(format!("{}{suffix}", self.db_path.display())) {
                bytes.extend(more);
            }
        }
        bytes
    }

    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().expect("log lock").clone()
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        self.stop()
    }

    pub fn pid(&mut self) -> u32 {
        self.child().id()
    }

    /// Waits (up to `within`) for the server to exit by itself.
    pub async fn wait_exit(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let deadline = tokio::time::Instant::now() + within;
        while tokio::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.child().try_wait() {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }

    /// Starts the server again on the same database after `stop`.
    pub fn start_again(&mut self) {
        self.restart_process();
    }

    /// SIGTERM and wait, keeping the database and its directory (for a restart by hand).
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let pid = self.child().id().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status().expect("kill -TERM");
        assert!(status.success());
        self.child().wait().expect("wait")
    }

    /// A direct connection to the server's database (another holder of leases, in tests).
    pub async fn db(&self) -> DirectDb {
        match backend() {
            Backend::Sqlite => {
                let options = sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(&self.db_path)
                    .busy_timeout(Duration::from_secs(10));
                DirectDb::Sqlite(sqlx::SqlitePool::connect_with(options).await.expect("open the test database"))
            }
            Backend::Postgres => DirectDb::Postgres(
                sqlx::postgres::PgPoolOptions::new()
                    .max_connections(2)
                    .connect(&self.db_url)
                    .await
                    .expect("open the test database"),
            ),
        }
    }

    /// `hookrelay serve` on this app's database with extra arguments and
    /// environment, expecting it to refuse to start (the app's own key
    /// settings apply first; `env` may override them).
    pub fn serve_expecting_refusal(&self, args: &[&str], env: &[(&str, &str)]) -> (std::process::ExitStatus, String) {
        let mut all: Vec<(&str, &str)> = self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        all.extend_from_slice(env);
        serve_with_args_expecting_refusal(&self.db_url, args, &all)
    }
}

/// Runs `hookrelay serve` on `db_url` with extra arguments, expecting it
/// to refuse to start: returns its exit status and what it wrote to stderr.
pub fn serve_with_args_expecting_refusal(
    db_url: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> (std::process::ExitStatus, String) {
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--database-url", db_url])
        .args(args)
        .envs(env.iter().copied())
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn hookrelay");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let mut err = String::new();
            if let Some(mut stderr) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut stderr, &mut err);
            }
            return (status, err);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("hookrelay started although it should have refused");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Polls `check` until it holds; fails the test after `within`.
pub async fn wait_until(what: &str, within: Duration, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + within;
    while !check() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Asks `probe` until it answers `Some`; fails the test after `within`.
/// For conditions only an async call can see (an HTTP answer, a query).
pub async fn eventually<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    within: Duration,
    mut probe: impl FnMut() -> F,
) -> T {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // An in-process server stops when its `Running` drops.
        if let Server::Process(child) = &mut self.server {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Asserts the SPEC §2.3 error body and returns it.
pub async fn assert_error(response: reqwest::Response, status: u16) -> serde_json::Value {
    assert_eq!(response.status().as_u16(), status);
    let request_id = response.headers().get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body: serde_json::Value = response.json().await.expect("JSON error body");
    assert_eq!(body["error"], true, "{body}");
    assert_eq!(body["statusCode"], status, "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert!(body["errors"].is_array(), "{body}");
    assert_eq!(body["requestId"].as_str(), request_id.as_deref(), "{body}");
    body
}

/// An active FlightRates hook (`dbs`, shop `s`, no auth) sending to `url`; returns its id.
pub async fn create_hook(app: &TestApp, key: &str, url: &str) -> String {
    let body = serde_json::json!({"endPoint": url, "hookType": "dbs", "isActiveStatus": true, "_shop": "s"});
    let (status, created) = app.send_json(reqwest::Method::POST, "/api/v1/hook", key, &body).await;
    assert_eq!(status, 200, "{created}");
    created["hook"]["id"].as_str().expect("id").to_owned()
}

/// Every accepted event arrived at `receiver`, each exactly once, and nothing else did.
pub fn assert_exactly_once(receiver: &crate::receiver::Receiver, accepted: &std::collections::HashSet<String>) {
    let counts = receiver.by_event();
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "{} delivered more than once: {:?}", twice.len(), &twice[..twice.len().min(5)]);
    let missing = accepted.iter().filter(|id| !counts.contains_key(*id)).count();
    assert_eq!(missing, 0, "accepted events never arrived");
    let unknown = counts.keys().filter(|id| !accepted.contains(*id)).count();
    assert_eq!(unknown, 0, "deliveries of events that were never accepted");
}
