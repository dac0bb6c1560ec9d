//! The paced scenario: ten hooks each limited to 100 deliveries a second
//! (`rateLimit`) and one without a limit, all matching every event. Each
//! paced hook's achieved rate (its receipts over their span) should be
//! within 5 % of its limit, and the free hook should get its deliveries at
//! full speed, not at the paced hooks' pace.

use super::{Args, Cluster, Receipts, publish_all, start_receiver, summary, wait_for_deliveries};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PACED_HOOKS: usize = 10;
const RATE: u32 = 100;
/// Events published: each paced hook takes EVENTS / RATE seconds.
const EVENTS: usize = 1_000;

pub async fn run(args: &Args) {
    let cluster = Cluster::start(args);
    let receipts: Receipts = Arc::default();
    let receiver = start_receiver(receipts.clone()).await;
    let client = reqwest::Client::builder().pool_max_idle_per_host(args.concurrency).build().expect("client");
    for i in 0..=PACED_HOOKS {
        let pace = if i < PACED_HOOKS { serde_json::json!(RATE) } else { serde_json::Value::Null };
        let res = client
            .post(format!("{}/api/v1/hook", cluster.first().url))
            .header("authorization", &cluster.key)
            .json(&serde_json::json!({"endPoint": format!("{receiver}/{i}"), "hookType": "dbs", "isActiveStatus": true,
                                      "_shop": "bench", "rateLimit": pace}))
            .send()
            .await
            .expect("create hook");
        assert!(res.status().is_success(), "create hook: {}", res.status());
    }
    let t0 = Instant::now();
    let published = publish_all(args, &cluster, &client, EVENTS).await;
    let ingest = t0.elapsed();
    let expected = published.len() * (PACED_HOOKS + 1);
    wait_for_deliveries(&receipts, expected, Duration::from_secs(60)).await;
    let (_, deliveries, duplicates) = summary(&receipts);
    println!("\n== paced: {PACED_HOOKS} hooks at rateLimit {RATE}/s + 1 without, {EVENTS} events ==");
    println!(
        "ingest            {:.0} events/s ({:.2} s)",
        published.len() as f64 / ingest.as_secs_f64(),
        ingest.as_secs_f64()
    );
    let log = receipts.lock().expect("lock");
    let rate_of = |path: &str| {
        let times = log.per_path.get(path).cloned().unwrap_or_default();
        let (first, last) = (times.iter().min().copied(), times.iter().max().copied());
        let span = first.zip(last).map_or(0.0, |(f, l)| l.duration_since(f).as_secs_f64());
        let rate = if span > 0.0 { (times.len().saturating_sub(1)) as f64 / span } else { f64::NAN };
        (times.len(), span, rate, last.map(|l| l.duration_since(t0).as_secs_f64()))
    };
    let mut worst: f64 = 0.0;
    for i in 0..PACED_HOOKS {
        let (n, span, rate, _) = rate_of(&format!("/hook/{i}"));
        let off = (rate - f64::from(RATE)) / f64::from(RATE) * 100.0;
        worst = worst.max(off.abs());
        println!("paced hook {i}      {n} in {span:.2} s: {rate:.1}/s ({off:+.1} % of {RATE}/s)");
    }
    let (n, span, rate, done) = rate_of(&format!("/hook/{PACED_HOOKS}"));
    println!(
        "free hook         {n} in {span:.2} s: {rate:.0}/s, all in by {:.2} s after the first publish",
        done.unwrap_or(f64::NAN)
    );
    println!("worst paced rate  {worst:.1} % off its limit (target: within 5 %)");
    println!("delivered         {deliveries} of {expected}, duplicates {duplicates}");
    println!("peak RSS          {}", cluster.peak_rss());
}
