//! The CPU ladder: what one event costs the server at the rates most
//! deployments live at, beside what it costs at saturation. Each rung is a
//! fresh server with one hook: steady 50, 200, 400 and 1,000 events/s for
//! `--seconds`, then `--events` published as fast as `--concurrency`
//! publishers go. For each: the server's CPU (user + system, from
//! `/proc/<pid>/stat`) per 1,000 events and as a share of a core over the
//! rung, p50/p99 publish → receipt, peak RSS, and the harness's own CPU
//! (publishers and receiver share the machine, so a figure the harness
//! limits shows as such). Each steady rung then measures its floor: the
//! server's CPU per `GET /robots.txt` (a static file from memory: no
//! database, no delivery, no other thread) at the same rate, i.e. what any
//! HTTP request costs on this machine at that rate. An event is one
//! request in and one request out plus its commit; since the cost of a
//! request falls as the rate rises, two floors at that rate is an upper
//! bound on what the two exchanges alone cost.

use super::{
    Args, Cluster, Receipts, cpu_seconds, create_hooks_with_key, latencies_ms, publish_all, publish_steadily, quantile,
    start_receiver, steadily, summary, wait_for_deliveries,
};
use std::sync::Arc;
use std::time::{Duration, Instant};

const RATES: [u64; 4] = [50, 200, 400, 1_000];

/// One rung's figures.
struct Rung {
    label: String,
    events: usize,
    missing: usize,
    duplicates: usize,
    /// Server CPU seconds over the rung.
    server_cpu: f64,
    harness_cpu: f64,
    seconds: f64,
    p50: f64,
    p99: f64,
    rss: String,
    /// Server CPU ms per static-file request at the same rate (steady rungs).
    floor_ms: Option<f64>,
}

pub async fn run(args: &Args) {
    let mut rungs = Vec::new();
    for rate in RATES {
        rungs.push(rung(args, &format!("{rate}/s"), Pace::Steady(rate)).await);
    }
    rungs.push(rung(args, "saturated", Pace::Saturated).await);
    let saturated_ms = rungs.last().map_or(f64::NAN, |r| per_event_ms(r.server_cpu, r.events));

    println!(
        "\n== ladder: CPU per event, 1 hook, {} s per steady rung, {} events saturated ==",
        args.seconds, args.events
    );
    println!(
        "{:<10} {:>7} {:>9} {:>14} {:>9} {:>11} {:>8} {:>8} {:>10} {:>14} {:>8} {:>9} {:>8}",
        "rate",
        "events",
        "events/s",
        "CPU s/1k ev",
        "core %",
        "× saturated",
        "p50 ms",
        "p99 ms",
        "RSS MiB",
        "harness s/1k",
        "missing",
        "floor ms",
        "÷ floor"
    );
    for r in &rungs {
        // Milliseconds per event = seconds per 1,000 events.
        let per_1k = per_event_ms(r.server_cpu, r.events);
        println!(
            "{:<10} {:>7} {:>9.0} {:>14.3} {:>9.1} {:>11.2} {:>8.2} {:>8.2} {:>10} {:>14.3} {:>8} {:>9} {:>8}",
            r.label,
            r.events,
            r.events as f64 / r.seconds,
            per_1k,
            r.server_cpu * 100.0 / r.seconds,
            per_1k / saturated_ms,
            r.p50,
            r.p99,
            r.rss,
            per_event_ms(r.harness_cpu, r.events),
            if r.duplicates > 0 { format!("{} (+{} dup)", r.missing, r.duplicates) } else { r.missing.to_string() },
            r.floor_ms.map_or_else(|| "-".to_owned(), |f| format!("{f:.3}")),
            r.floor_ms.map_or_else(|| "-".to_owned(), |f| format!("{:.2}", per_1k / f)),
        );
    }
}

fn per_event_ms(cpu: f64, events: usize) -> f64 {
    cpu * 1000.0 / events.max(1) as f64
}

enum Pace {
    Steady(u64),
    Saturated,
}

async fn rung(args: &Args, label: &str, pace: Pace) -> Rung {
    let cluster = Cluster::start(args);
    let receipts: Receipts = Arc::default();
    let receiver = start_receiver(receipts.clone()).await;
    let client = reqwest::Client::builder().pool_max_idle_per_host(args.concurrency).build().expect("client");
    create_hooks_with_key(&client, &cluster.first().url, &cluster.key, &receiver, 1).await;
    let pids: Vec<u32> = cluster.servers.iter().map(|s| s.child.id()).collect();
    let server_cpu = || pids.iter().map(|pid| cpu_seconds(*pid)).sum::<f64>();
    let (server_before, harness_before, t0) = (server_cpu(), cpu_seconds(std::process::id()), Instant::now());
    let published = match pace {
        Pace::Steady(rate) => publish_steadily(&cluster, &client, rate, args.seconds).await,
        Pace::Saturated => publish_all(args, &cluster, &client, args.events).await,
    };
    wait_for_deliveries(&receipts, published.len(), Duration::from_secs(60)).await;
    let seconds = t0.elapsed().as_secs_f64();
    let (server, harness) = (server_cpu() - server_before, cpu_seconds(std::process::id()) - harness_before);
    let rss = cluster.peak_rss().trim_end_matches(" MiB").to_owned();
    let floor_ms = match pace {
        Pace::Steady(rate) => Some(floor(&client, &cluster, &server_cpu, rate, args.seconds).await),
        Pace::Saturated => None,
    };
    let (_, deliveries, duplicates) = summary(&receipts);
    let ms = latencies_ms(&published, &receipts);
    let figures = Rung {
        label: label.to_owned(),
        events: published.len(),
        missing: published.len().saturating_sub(deliveries),
        duplicates,
        server_cpu: server,
        harness_cpu: harness,
        seconds,
        p50: quantile(&ms, 0.50),
        p99: quantile(&ms, 0.99),
        rss,
        floor_ms,
    };
    println!(
        "ladder {label}: {} events in {seconds:.1} s, server {server:.2} CPU s, harness {harness:.2} CPU s",
        figures.events
    );
    figures
}

/// Server CPU ms per `GET /robots.txt` sent steadily at `rate` for
/// `seconds`, on the rung's own server once its deliveries are in.
async fn floor(
    client: &reqwest::Client,
    cluster: &Cluster,
    server_cpu: &impl Fn() -> f64,
    rate: u64,
    seconds: u64,
) -> f64 {
    if !settle(server_cpu).await {
        println!("ladder {rate}/s: the server did not go idle within 10 s; its floor counts what it was doing");
    }
    let before = server_cpu();
    let tasks = steadily(rate, seconds, |n| {
        // Spread over the servers as the events were (`--processes`).
        let (client, url) = (client.clone(), format!("{}/robots.txt", cluster.url(n)));
        async move {
            let answer = client.get(&url).send().await.expect("GET /robots.txt");
            assert!(answer.status().is_success(), "GET /robots.txt: {}", answer.status());
            answer.bytes().await.expect("robots.txt body");
        }
    })
    .await;
    let total = tasks.len();
    for t in tasks {
        t.await.expect("floor request");
    }
    per_event_ms(server_cpu() - before, total)
}

/// Waits (at most 10 s) until the servers are idle: under 10 ms of CPU in
/// half a second, so that the work the events left behind (the last
/// record batch, the once-a-second WAL checkpoint of their pages) is not
/// counted in the floor. False if they never were.
async fn settle(server_cpu: &impl Fn() -> f64) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let before = server_cpu();
        tokio::time::sleep(Duration::from_millis(500)).await;
        if server_cpu() - before <= 0.010 {
            return true;
        }
    }
    false
}
