//! How long a hook change made through one process takes to reach another
//! process's directory on PostgreSQL (LISTEN/NOTIFY, `directory::listen`):
//! the window docs/DECISIONS.md speaks of, measured on the local server.

use super::schema_twins::ThrowAway;
use super::{connect, directory, fixtures, hooks};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hook_change_reaches_another_process_within_milliseconds() {
    let pg = ThrowAway::create().await;
    let (a, b) = (connect(&pg.url).await.expect("a"), connect(&pg.url).await.expect("b"));
    let listening = tokio::spawn(directory::listen(b.clone(), std::future::pending()));
    let account = fixtures::account(&a, "n@example.com").await;
    let hook = fixtures::hook(&a, &account, "dbs").await;
    let id = hook.as_str();

    let mut latencies = Vec::new();
    for round in 0..23 {
        b.hooks().load(&b, &[id]).await.expect("load");
        assert!(b.hooks().cached(id).is_some());
        hooks::set_active(&a, &account, &hook, round % 2 == 1).await.expect("switch");
        // From the answer: the window in which `b` could still start an attempt with the old state.
        let changed = Instant::now();
        while b.hooks().cached(id).is_some() {
            assert!(changed.elapsed() < Duration::from_secs(5), "process b never heard of the change");
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        // The first rounds also wait for the listener to be up.
        if round >= 3 {
            latencies.push(changed.elapsed());
        }
    }
    listening.abort();
    pg.drop().await;
    latencies.sort();
    let (median, max) = (latencies[latencies.len() / 2], latencies[latencies.len() - 1]);
    eprintln!("hook change answered → other process: median {median:?}, max {max:?} over {} changes", latencies.len());
    assert!(max < Duration::from_secs(1), "median {median:?}, max {max:?}");
}
