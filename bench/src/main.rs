//! `hookrelay-bench`: starts the release `hookrelay` on a temporary SQLite
//! file (or, with `--postgres`, a throw-away PostgreSQL database, served by
//! `--processes` processes) and a loopback receiver, publishes events, and
//! prints ingest rate, end-to-end delivery rate, ingest→receipt latency,
//! duplicates, missing deliveries and the servers' peak RSS. Run it with
//! `scripts/bench`.

// A measuring harness, not product code: a failed step aborts the run with
// its reason (`expect`), and statistics on measured counts cast freely.
#![allow(
    clippy::expect_used,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap,
    clippy::too_many_lines
)]

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use clap::Parser;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod ladder;
mod paced;

#[derive(Parser, Debug)]
#[command(about = "End-to-end benchmark of hookrelay")]
struct Args {
    /// The hookrelay binary to measure.
    #[arg(long, default_value = "target/release/hookrelay")]
    binary: String,
    /// Which scenario: all, throughput, fanout, latency, retention, login-flood, paced, ladder
    /// (CPU per event at 50, 200, 400 and 1,000 events/s and saturated).
    #[arg(long, default_value = "all")]
    scenario: String,
    /// Events for the throughput scenario (1 hook).
    #[arg(long, default_value_t = 20_000)]
    events: usize,
    /// Events for the fan-out scenario.
    #[arg(long, default_value_t = 5_000)]
    fanout_events: usize,
    /// Hooks for the fan-out scenario.
    #[arg(long, default_value_t = 10)]
    hooks: usize,
    /// Concurrent publishers.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Events per second in the latency scenario.
    #[arg(long, default_value_t = 400)]
    rate: u64,
    /// Seconds the latency scenario runs.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Wrong dashboard logins per second in the login-flood scenario.
    #[arg(long, default_value_t = 200)]
    logins: u64,
    /// Old (past retention) deliveries seeded for the retention scenario.
    #[arg(long, default_value_t = 500_000)]
    old_deliveries: u64,
    /// Run on PostgreSQL: an admin URL (e.g. postgres://postgres@127.0.0.1:5432/test);
    /// each scenario gets a database of its own, dropped after it.
    #[arg(long)]
    postgres: Option<String>,
    /// `hookrelay` processes serving one PostgreSQL database; publishers alternate between them.
    #[arg(long, default_value_t = 1)]
    processes: usize,
}

/// What the receiver saw: receipts per (hook path, event id) — more than one
/// is a duplicate — and receipt instants per event id.
#[derive(Default)]
struct ReceiptLog {
    per_delivery: HashMap<(String, String), u32>,
    per_event: HashMap<String, Vec<Instant>>,
    /// Receipt instants per hook path (the paced scenario's rates).
    per_path: HashMap<String, Vec<Instant>>,
}

type Receipts = Arc<Mutex<ReceiptLog>>;

#[tokio::main]
async fn main() {
    let args = Args::parse();
    println!(
        "hookrelay-bench: binary {}, {} CPUs, {}",
        args.binary,
        std::thread::available_parallelism().map(std::num::NonZero::get).unwrap_or(1),
        match &args.postgres {
            Some(_) => format!("PostgreSQL, {} process(es)", args.processes),
            None => "SQLite, 1 process".to_owned(),
        }
    );
    assert!(args.processes >= 1, "--processes must be at least 1");
    assert!(args.processes == 1 || args.postgres.is_some(), "several processes need --postgres");
    if matches!(args.scenario.as_str(), "all" | "throughput") {
        burst(&args, "throughput: 1 hook", args.events, 1).await;
    }
    if matches!(args.scenario.as_str(), "all" | "fanout") {
        burst(&args, &format!("fan-out: {} hooks", args.hooks), args.fanout_events, args.hooks).await;
    }
    if matches!(args.scenario.as_str(), "all" | "latency") {
        steady(&args).await;
    }
    if matches!(args.scenario.as_str(), "all" | "ladder") {
        ladder::run(&args).await;
    }
    if matches!(args.scenario.as_str(), "all" | "paced") {
        paced::run(&args).await;
    }
    if matches!(args.scenario.as_str(), "all" | "login-flood") {
        login_flood(&args, "default login limits", &[]).await;
        // Every attempt reaches argon2: what the blocking pool alone buys.
        login_flood(
            &args,
            "login limits lifted",
            &[
                ("HOOKRELAY_LOGIN_LIMIT", "1000000"),
                ("HOOKRELAY_LOGIN_LIMIT_PER_ADDRESS", "1000000"),
                ("HOOKRELAY_DASHBOARD_RATE_LIMIT", "0"),
            ],
        )
        .await;
    }
    if matches!(args.scenario.as_str(), "all" | "retention") {
        if args.postgres.is_some() {
            println!("\n== retention: seeded straight into SQLite; not run on PostgreSQL ==");
        } else {
            retention(&args).await;
        }
    }
}

/// The servers of one scenario: one or more processes on one database.
struct Cluster {
    servers: Vec<Server>,
    key: String,
    _pg: Option<PgDatabase>,
}

impl Cluster {
    fn start(args: &Args) -> Cluster {
        let Some(admin) = &args.postgres else {
            let server = Server::start(&args.binary);
            return Cluster { key: server.key.clone(), servers: vec![server], _pg: None };
        };
        let pg = PgDatabase::create(admin);
        let dir = tempfile::tempdir().expect("temp dir");
        let key_file = dir.path().join("bench.key").display().to_string();
        let key = create_user(&args.binary, &pg.url);
        let mut servers = Vec::new();
        for _ in 0..args.processes {
            let dir = tempfile::tempdir().expect("dir");
            servers.push(Server::launch_with(
                &args.binary,
                dir,
                &pg.url,
                key.clone(),
                &[("HOOKRELAY_SECRET_KEY_FILE", &key_file)],
            ));
        }
        drop(dir);
        Cluster { servers, key, _pg: Some(pg) }
    }

    /// The server publisher `n` sends to.
    fn url(&self, n: usize) -> &str {
        &self.servers[n % self.servers.len()].url
    }

    fn first(&self) -> &Server {
        &self.servers[0]
    }

    /// Starts measuring the CPU the servers and this harness use from now.
    fn cpu_meter(&self) -> CpuMeter {
        let pids: Vec<u32> = self.servers.iter().map(|s| s.child.id()).collect();
        CpuMeter::start(pids)
    }

    /// Each process's peak RSS, in MiB.
    fn peak_rss(&self) -> String {
        let each: Vec<String> = self.servers.iter().map(|s| format!("{:.1}", s.peak_rss_mib())).collect();
        format!("{} MiB", each.join(" + "))
    }
}

/// A throw-away PostgreSQL database, dropped (forcibly) afterwards.
struct PgDatabase {
    admin: String,
    name: String,
    url: String,
}

impl PgDatabase {
    fn create(admin: &str) -> Self {
        let name = format!("hookrelay_bench_{}", std::process::id());
        let url = match admin.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => panic!("{admin}: no database name"),
        };
        psql(admin, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        psql(admin, &format!("CREATE DATABASE {name}"));
        Self { admin: admin.to_owned(), name, url }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        psql(&self.admin, &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
    }
}

fn psql(url: &str, sql: &str) {
    let out = Command::new("psql").args(["-w", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql]).output();
    let out = out.expect("run psql");
    assert!(out.status.success(), "psql {sql}: {}", String::from_utf8_lossy(&out.stderr));
}

fn create_user(binary: &str, db: &str) -> String {
    let out = Command::new(binary)
        .args(["user", "create", "--email", "bench@example.com", "--password", "bench password", "--database-url", db])
        .output()
        .expect("run hookrelay user create");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

struct Server {
    child: Child,
    url: String,
    key: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(binary: &str) -> Server {
        let (dir, db, key) = Self::prepare(binary);
        Self::launch(binary, dir, &db, key)
    }

    /// A new database with one account; returns its directory, URL and API key.
    fn prepare(binary: &str) -> (tempfile::TempDir, String, String) {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = format!("sqlite://{}", dir.path().join("bench.db").display());
        let key = create_user(binary, &db);
        (dir, db, key)
    }

    fn launch(binary: &str, dir: tempfile::TempDir, db: &str, key: String) -> Server {
        Self::launch_with(binary, dir, db, key, &[])
    }

    fn launch_with(binary: &str, dir: tempfile::TempDir, db: &str, key: String, env: &[(&str, &str)]) -> Server {
        let mut child = Command::new(binary)
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--database-url",
                db,
                "--allow-private-targets",
                "--rate-limit",
                "0",
            ])
            .env("RUST_LOG", "warn,hookrelay=info")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn hookrelay");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on ").nth(1) {
                    let _ = tx.send(rest.split_whitespace().next().unwrap_or_default().to_owned());
                }
            }
        });
        let url = rx.recv_timeout(Duration::from_secs(30)).expect("hookrelay did not start");
        Server { child, url, key, _dir: dir }
    }

    /// Peak resident set size (VmHWM), in MiB.
    fn peak_rss_mib(&self) -> f64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(str::to_owned))
            .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
            .map(|kb| kb / 1024.0)
            .unwrap_or(f64::NAN)
    }
}

async fn start_receiver(receipts: Receipts) -> String {
    async fn receive(
        State(receipts): State<Receipts>,
        uri: axum::http::Uri,
        headers: HeaderMap,
        _body: Bytes,
    ) -> StatusCode {
        let now = Instant::now();
        let id = headers.get("webhook-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let mut log = receipts.lock().expect("lock");
        *log.per_delivery.entry((uri.path().to_owned(), id.clone())).or_default() += 1;
        log.per_path.entry(uri.path().to_owned()).or_default().push(now);
        log.per_event.entry(id).or_default().push(now);
        StatusCode::NO_CONTENT
    }
    let app = Router::new().fallback(receive).with_state(receipts);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind receiver");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    url
}

async fn create_hooks(client: &reqwest::Client, server: &Server, receiver: &str, n: usize) {
    create_hooks_with_key(client, &server.url, &server.key, receiver, n).await;
}

async fn create_hooks_with_key(client: &reqwest::Client, url: &str, key: &str, receiver: &str, n: usize) {
    for i in 0..n {
        let res = client
            .post(format!("{url}/api/v1/hook"))
            .header("authorization", key)
            .json(&serde_json::json!({"endPoint": format!("{receiver}/{i}"), "hookType": "dbs", "isActiveStatus": true, "_shop": "bench"}))
            .send()
            .await
            .expect("create hook");
        assert!(res.status().is_success(), "create hook: {}", res.status());
    }
}

/// Publishes one event; returns its id and the instant the request started.
async fn publish(client: &reqwest::Client, url: &str, key: &str, n: usize) -> Option<(String, Instant)> {
    let started = Instant::now();
    let res = client
        .post(format!("{url}/api/v1/events"))
        .header("authorization", key)
        .json(&serde_json::json!({"hookType": "dbs", "_shop": "bench", "data": {"n": n, "price": 123.45, "route": "LHR-JFK"}}))
        .send()
        .await
        .ok()?;
    if res.status() != 202 {
        return None;
    }
    let body: serde_json::Value = res.json().await.ok()?;
    Some((body["id"].as_str()?.to_owned(), started))
}

/// Publishes `events` events, `--concurrency` at a time; the accepted ones.
async fn publish_all(
    args: &Args,
    cluster: &Cluster,
    client: &reqwest::Client,
    events: usize,
) -> Vec<(String, Instant)> {
    futures_util::stream::iter(0..events)
        .map(|n| publish(client, cluster.url(n), &cluster.key, n))
        .buffer_unordered(args.concurrency)
        .filter_map(|r| async move { r })
        .collect()
        .await
}

async fn burst(args: &Args, name: &str, events: usize, hooks: usize) {
    let cluster = Cluster::start(args);
    let receipts: Receipts = Arc::default();
    let receiver = start_receiver(receipts.clone()).await;
    let client = reqwest::Client::builder().pool_max_idle_per_host(args.concurrency).build().expect("client");
    create_hooks_with_key(&client, &cluster.first().url, &cluster.key, &receiver, hooks).await;

    let cpu = cluster.cpu_meter();
    let t0 = Instant::now();
    let published = publish_all(args, &cluster, &client, events).await;
    let ingest = t0.elapsed();
    let expected = published.len() * hooks;
    wait_for_deliveries(&receipts, expected, Duration::from_secs(120)).await;
    let (last, deliveries, duplicates) = summary(&receipts);
    let end_to_end = last.map(|l| l.duration_since(t0)).unwrap_or_default();
    let missing = expected.saturating_sub(deliveries);
    println!("\n== {name}: {events} events, {} publishers ==", args.concurrency);
    println!("accepted          {} of {events} ({} rejected)", published.len(), events - published.len());
    println!(
        "ingest            {:.0} events/s ({:.2} s)",
        published.len() as f64 / ingest.as_secs_f64(),
        ingest.as_secs_f64()
    );
    println!(
        "delivered         {deliveries} of {expected} in {:.2} s: {:.0} deliveries/s end to end ({:.0} events/s)",
        end_to_end.as_secs_f64(),
        deliveries as f64 / end_to_end.as_secs_f64(),
        (deliveries / hooks.max(1)) as f64 / end_to_end.as_secs_f64()
    );
    latency_report(&published, &receipts);
    cpu.report();
    println!("duplicates        {duplicates}");
    println!("missing           {missing}");
    println!("peak RSS          {}", cluster.peak_rss());
}

async fn steady(args: &Args) {
    let cluster = Cluster::start(args);
    let receipts: Receipts = Arc::default();
    let receiver = start_receiver(receipts.clone()).await;
    let client = reqwest::Client::new();
    create_hooks_with_key(&client, &cluster.first().url, &cluster.key, &receiver, 1).await;
    let total = (args.rate * args.seconds) as usize;
    let cpu = cluster.cpu_meter();
    let published = publish_steadily(&cluster, &client, args.rate, args.seconds).await;
    wait_for_deliveries(&receipts, published.len(), Duration::from_secs(30)).await;
    let (_, deliveries, duplicates) = summary(&receipts);
    println!("\n== steady: {} events/s for {} s, 1 hook ==", args.rate, args.seconds);
    println!("accepted          {} of {total}", published.len());
    println!("delivered         {deliveries}");
    latency_report(&published, &receipts);
    cpu.report();
    println!("duplicates        {duplicates}");
    println!("missing           {}", published.len().saturating_sub(deliveries));
    println!("peak RSS          {}", cluster.peak_rss());
}

/// Publishes `rate` events a second for `seconds`, each on its own task at
/// its tick; the accepted ones, with the instant each request started.
async fn publish_steadily(
    cluster: &Cluster,
    client: &reqwest::Client,
    rate: u64,
    seconds: u64,
) -> Vec<(String, Instant)> {
    let published = Arc::new(Mutex::new(Vec::new()));
    for t in steadily(rate, seconds, |n| {
        let (client, published, url, key) =
            (client.clone(), published.clone(), cluster.url(n).to_owned(), cluster.key.clone());
        async move {
            if let Some(p) = publish(&client, &url, &key, n).await {
                published.lock().expect("lock").push(p);
            }
        }
    })
    .await
    {
        let _ = t.await;
    }
    published.lock().expect("lock").clone()
}

/// Starts `task(n)` for n = 0, 1, … at `rate` a second for `seconds`, each
/// on its own (a slow answer does not hold the next one back), and returns
/// them to be awaited.
async fn steadily<F, T>(rate: u64, seconds: u64, mut task: F) -> Vec<tokio::task::JoinHandle<T::Output>>
where
    F: FnMut(usize) -> T,
    T: std::future::Future + Send + 'static,
    T::Output: Send + 'static,
{
    let total = (rate * seconds) as usize;
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut tasks = Vec::with_capacity(total);
    for n in 0..total {
        ticker.tick().await;
        tasks.push(tokio::spawn(task(n)));
    }
    tasks
}

/// Waits until `expected` distinct deliveries arrived, or `limit` passed.
async fn wait_for_deliveries(receipts: &Receipts, expected: usize, limit: Duration) {
    let deadline = Instant::now() + limit;
    while delivered(receipts) < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// REST latency under a login flood: `rate` events/s are published (each
/// request timed, 202 to answer) while `logins` wrong dashboard logins/s
/// arrive, each with a different email.
async fn login_flood(args: &Args, label: &str, env: &[(&str, &str)]) {
    let (dir, db, key) = Server::prepare(&args.binary);
    let server = Server::launch_with(&args.binary, dir, &db, key, env);
    let receipts: Receipts = Arc::default();
    let receiver = start_receiver(receipts.clone()).await;
    let client = reqwest::Client::new();
    create_hooks_with_key(&client, &server.url, &server.key, &receiver, 1).await;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let login_statuses: Arc<Mutex<HashMap<u16, usize>>> = Arc::default();
    let flood = {
        let (client, url, stop, statuses) = (client.clone(), server.url.clone(), stop.clone(), login_statuses.clone());
        let every = Duration::from_secs_f64(1.0 / args.logins.max(1) as f64);
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(every);
            let mut n = 0u64;
            let mut tasks = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                ticker.tick().await;
                n += 1;
                let (client, url, statuses) = (client.clone(), url.clone(), statuses.clone());
                tasks.push(tokio::spawn(async move {
                    let email = format!("guess{n}@example.com");
                    let res = client
                        .post(format!("{url}/_rpc/login"))
                        .form(&[("email", email.as_str()), ("password", "not the password")])
                        .send()
                        .await;
                    let status = res.map_or(0, |r| r.status().as_u16());
                    *statuses.lock().expect("lock").entry(status).or_default() += 1;
                }));
            }
            for t in tasks {
                let _ = t.await;
            }
        })
    };
    // Let the flood reach its rate before measuring.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let cpu_before = cpu_seconds(server.child.id());
    let total = (args.rate * args.seconds) as usize;
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / args.rate as f64));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let timings = Arc::new(Mutex::new(Vec::with_capacity(total)));
    let mut tasks = Vec::with_capacity(total);
    for n in 0..total {
        ticker.tick().await;
        let (client, timings, url, key) = (client.clone(), timings.clone(), server.url.clone(), server.key.clone());
        tasks.push(tokio::spawn(async move {
            let started = Instant::now();
            let ok = publish(&client, &url, &key, n).await.is_some();
            timings.lock().expect("lock").push((ok, started.elapsed().as_secs_f64() * 1000.0));
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let cpu = cpu_seconds(server.child.id()) - cpu_before;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = flood.await;
    let timings = timings.lock().expect("lock").clone();
    let accepted = timings.iter().filter(|(ok, _)| *ok).count();
    let mut ms: Vec<f64> = timings.iter().map(|(_, ms)| *ms).collect();
    ms.sort_by(f64::total_cmp);
    let pct = |p: f64| ms.get(((ms.len().max(1) - 1) as f64 * p).round() as usize).copied().unwrap_or(f64::NAN);
    let mut statuses: Vec<(u16, usize)> = login_statuses.lock().expect("lock").iter().map(|(k, v)| (*k, *v)).collect();
    statuses.sort_unstable();
    println!(
        "\n== login flood ({label}): {} wrong logins/s while publishing {} events/s for {} s ==",
        args.logins, args.rate, args.seconds
    );
    println!("accepted          {accepted} of {total}");
    println!(
        "REST publish      p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pct(0.50),
        pct(0.90),
        pct(0.99),
        ms.last().copied().unwrap_or(f64::NAN)
    );
    let shown: Vec<String> = statuses.iter().map(|(status, n)| format!("{n}× {status}")).collect();
    println!("login answers     {}", shown.join(", "));
    println!(
        "server CPU        {:.2} s in {} s ({:.0} % of a core)",
        cpu,
        args.seconds,
        cpu * 100.0 / args.seconds as f64
    );
    println!("peak RSS          {:.1} MiB", server.peak_rss_mib());
}

/// The CPU seconds the servers and the harness (its publishers and its
/// receiver, this process) used since `start`, beside the wall time: both
/// share the machine's cores, so a figure the harness limits shows as such.
struct CpuMeter {
    pids: Vec<u32>,
    server: f64,
    harness: f64,
    t0: Instant,
}

impl CpuMeter {
    fn start(pids: Vec<u32>) -> CpuMeter {
        let server = pids.iter().map(|pid| cpu_seconds(*pid)).sum();
        CpuMeter { pids, server, harness: cpu_seconds(std::process::id()), t0: Instant::now() }
    }

    /// "CPU  server … s (…% of the N cores), harness … s (…%), idle …%".
    fn report(&self) {
        let wall = self.t0.elapsed().as_secs_f64();
        let server = self.pids.iter().map(|pid| cpu_seconds(*pid)).sum::<f64>() - self.server;
        let harness = cpu_seconds(std::process::id()) - self.harness;
        let cores = std::thread::available_parallelism().map_or(1, usize::from) as f64;
        let share = |cpu: f64| cpu * 100.0 / (wall * cores);
        println!(
            "CPU               server {server:.2} s ({:.0} % of the {cores} cores), harness {harness:.2} s ({:.0} %), idle {:.0} % over {wall:.2} s",
            share(server),
            share(harness),
            (100.0 - share(server) - share(harness)).max(0.0),
        );
    }
}

/// User + system CPU seconds of a process so far (`/proc/<pid>/stat`).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // /proc counts in USER_HZ, 100 per second on Linux whatever the kernel's HZ.
    (ticks(11) + ticks(12)) / 100.0
}

/// Distinct deliveries received (each (hook, event) once).
fn delivered(receipts: &Receipts) -> usize {
    receipts.lock().expect("lock").per_delivery.len()
}

/// (last receipt, distinct deliveries received, duplicate receipts).
fn summary(receipts: &Receipts) -> (Option<Instant>, usize, usize) {
    let r = receipts.lock().expect("lock");
    let last = r.per_event.values().flatten().max().copied();
    let duplicates = r.per_delivery.values().map(|n| (*n as usize).saturating_sub(1)).sum();
    (last, r.per_delivery.len(), duplicates)
}

/// Publish start → first receipt, per event, sorted, in ms.
fn latencies_ms(published: &[(String, Instant)], receipts: &Receipts) -> Vec<f64> {
    let r = receipts.lock().expect("lock");
    let mut ms: Vec<f64> = published
        .iter()
        .filter_map(|(id, start)| {
            r.per_event.get(id).and_then(|v| v.iter().min()).map(|t| t.duration_since(*start).as_secs_f64() * 1000.0)
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    ms
}

/// The `p` quantile of sorted figures (NaN when there are none).
fn quantile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Publish start → first receipt, per event.
fn latency_report(published: &[(String, Instant)], receipts: &Receipts) {
    let ms = latencies_ms(published, receipts);
    if ms.is_empty() {
        println!("latency           no receipts");
        return;
    }
    println!(
        "ingest→receipt    p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        quantile(&ms, 0.50),
        quantile(&ms, 0.90),
        quantile(&ms, 0.99),
        ms[ms.len() - 1]
    );
}

/// Retention under load: `old_deliveries` events, deliveries and attempts
/// past the 30-day retention are seeded straight into the database; the
/// server prunes them at start (in chunks) while events are published at
/// `rate`/s. Prints publish (202) latency while it runs and how long the
/// pass took.
async fn retention(args: &Args) {
    let (dir, db, key) = Server::prepare(&args.binary);
    let seeded = Instant::now();
    seed_old_history(&db, args.old_deliveries).await;
    println!(
        "\n== retention: {} old deliveries pruned while publishing {} events/s ==",
        args.old_deliveries, args.rate
    );
    println!("seeded            {:.1} s", seeded.elapsed().as_secs_f64());
    let started = Instant::now();
    let server = Server::launch(&args.binary, dir, &db, key);
    let receipts: Receipts = Arc::default();
    let receiver = start_receiver(receipts.clone()).await;
    let client = reqwest::Client::new();
    create_hooks(&client, &server, &receiver, 1).await;
    let interval = Duration::from_secs_f64(1.0 / args.rate as f64);
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    // Publish until the pass is over (at most 120 s).
    while !pass_done(&db).await && started.elapsed() < Duration::from_secs(120) {
        for n in 0..(args.rate as usize / 10).max(1) {
            ticker.tick().await;
            let (client, url, key, latencies) =
                (client.clone(), server.url.clone(), server.key.clone(), latencies.clone());
            tasks.push(tokio::spawn(async move {
                let t = Instant::now();
                if publish(&client, &url, &key, n).await.is_some() {
                    latencies.lock().expect("lock").push(t.elapsed().as_secs_f64() * 1000.0);
                }
            }));
        }
    }
    let pass = started.elapsed();
    for t in tasks {
        let _ = t.await;
    }
    let mut ms = latencies.lock().expect("lock").clone();
    ms.sort_by(f64::total_cmp);
    println!("pass              {:.1} s (server start to nothing old left)", pass.as_secs_f64());
    if !ms.is_empty() {
        let pct = |p: f64| ms[((ms.len() - 1) as f64 * p).round() as usize];
        println!(
            "publish (202)     {} during the pass: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            ms.len(),
            pct(0.5),
            pct(0.99),
            ms[ms.len() - 1]
        );
    }
    println!("peak RSS          {:.1} MiB", server.peak_rss_mib());
}

fn sqlite_options(db: &str) -> sqlx::sqlite::SqliteConnectOptions {
    use std::str::FromStr;
    sqlx::sqlite::SqliteConnectOptions::from_str(db).expect("db url").busy_timeout(Duration::from_secs(30))
}

/// Old history for the retention scenario: a hook of the bench account
/// and `n` events 60 days old, each with one succeeded delivery and attempt.
async fn seed_old_history(db: &str, n: u64) {
    let pool = sqlx::SqlitePool::connect_with(sqlite_options(db)).await.expect("open bench db");
    let old = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_millis() as i64
        - 60 * 86_400_000;
    let mut tx = pool.begin().await.expect("begin");
    sqlx::query(
        "INSERT INTO hooks (id, account_id, vertical, endpoint, auth_type, hook_type, shop, created_at, updated_at)
         SELECT '0000000000000000000000aa', id, 'flightrates', 'https://example.com/old', 'none', 'old', 'old', ?1, ?1
         FROM accounts LIMIT 1",
    )
    .bind(old)
    .execute(&mut *tx)
    .await
    .expect("old hook");
    for (table, sql) in [
        ("events", "INSERT INTO events (id, account_id, hook_type, shop, payload, created_at)
                    SELECT printf('%024x', n), (SELECT id FROM accounts LIMIT 1), 'old', 'old', '{\"old\":true}', ?2
                    FROM (WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < ?1) SELECT n FROM c)"),
        ("deliveries", "INSERT INTO deliveries (id, event_id, hook_id, account_id, status, attempt_count, next_attempt_at,
                                               created_at, updated_at)
                        SELECT id, id, '0000000000000000000000aa', account_id, 'succeeded', 1, ?2, ?2, ?2 FROM events
                        WHERE hook_type = 'old' AND ?1 > 0"),
        ("attempts", "INSERT INTO attempts (delivery_id, attempted_at, duration_ms, status_code)
                      SELECT id, ?2, 3, 200 FROM deliveries WHERE hook_id = '0000000000000000000000aa' AND ?1 > 0"),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(n as i64)
            .bind(old)
            .execute(&mut *tx)
            .await
            .unwrap_or_else(|e| panic!("seeding {table}: {e}"));
    }
    tx.commit().await.expect("commit");
    // Setup, not the measurement: the seeded pages reach the disk before
    // the server starts, so their write-back does not land in the figures.
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&pool).await.expect("checkpoint");
    pool.close().await;
    let synced = std::process::Command::new("sync").status();
    assert!(synced.is_ok_and(|s| s.success()), "sync after seeding");
}

/// True once no seeded event is left.
async fn pass_done(db: &str) -> bool {
    let Ok(pool) = sqlx::SqlitePool::connect_with(sqlite_options(db).read_only(true)).await else { return false };
    let left: Result<(i64,), _> =
        sqlx::query_as("SELECT count(*) FROM (SELECT 1 FROM events WHERE hook_type = 'old' LIMIT 1)")
            .fetch_one(&pool)
            .await;
    pool.close().await;
    matches!(left, Ok((0,)))
}
