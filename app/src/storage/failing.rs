//! Which hooks to disable after a batch of attempts, in O(1) per attempt.
//!
//! `hooks.failing_since` is when the hook's current run of failed attempts
//! began (NULL after a success). A batch moves it in one statement; a hook
//! whose run is older than `--disable-after` is disabled, as is one whose
//! endpoint answered 410 Gone. A disabled hook's pending deliveries end as
//! failed (recoverable by manual retry), and its account's operations
//! endpoint is owed a notice (`operations.rs`).

use super::StorageError;
use super::backend::{Tx, on_tx};
use super::deliveries::{Outcome, Recorded};
use super::json_rows;
use std::collections::HashMap;

/// One hook's effect of a batch: `reset` when it succeeded in the batch
/// (then `fail_at` is the first failure after its last success), else
/// `fail_at` is its first failure in the batch.
#[derive(Debug, Default, PartialEq, Eq, serde::Serialize)]
struct Run {
    reset: bool,
    fail_at: Option<i64>,
}

/// The failing-window change of each hook in `items` (in attempt order).
fn runs<'a>(items: &[&'a Recorded]) -> HashMap<&'a str, Run> {
    let mut runs: HashMap<&str, Run> = HashMap::new();
    for item in items {
        let run = runs.entry(item.hook_id.as_str()).or_default();
        if item.outcome.succeeded() {
            *run = Run { reset: true, fail_at: None };
        } else if run.fail_at.is_none() {
            run.fail_at = Some(item.attempt.attempted_at);
        }
    }
    runs
}

/// Moves the failing windows and disables the hooks that are due; returns
/// each disabled hook with its reason.
pub async fn track(
    tx: &mut Tx,
    process: &str,
    items: &[&Recorded],
    disable_after_ms: i64,
    now: i64,
) -> Result<HashMap<String, String>, StorageError> {
    if items.is_empty() {
        return Ok(HashMap::new());
    }
    let mut rows: Vec<(&str, bool, Option<i64>)> =
        runs(items).into_iter().map(|(hook, run)| (hook, run.reset, run.fail_at)).collect();
    // Hook rows are touched in id order, and only those whose window moves
    // (not the common all-succeeded case): two processes recording for the
    // same hooks on PostgreSQL wait for each other, never deadlock.
    rows.sort_unstable();
    let json = json_rows(&rows)?;
    // The new value is worked out from the row being updated (on
    // PostgreSQL re-read after its lock, so two processes recording for one
    // hook never write over each other's window).
    let sql = tx.sql(
        "UPDATE hooks SET failing_since = CASE WHEN s.reset THEN s.fail_at ELSE coalesce(hooks.failing_since, s.fail_at) END
         FROM (SELECT value ->> 0 AS id, value ->> 1 AS reset, value ->> 2 AS fail_at FROM json_each($1)) AS s
         WHERE hooks.id = s.id
           AND (CASE WHEN s.reset THEN s.fail_at ELSE coalesce(hooks.failing_since, s.fail_at) END) IS NOT hooks.failing_since",
        "UPDATE hooks SET failing_since = CASE WHEN s.reset THEN s.fail_at ELSE coalesce(hooks.failing_since, s.fail_at) END
         FROM (SELECT value ->> 0 AS id, CAST(value ->> 1 AS BOOLEAN) AS reset, CAST(value ->> 2 AS BIGINT) AS fail_at
               FROM json_array_elements($1::json)) AS s
         WHERE hooks.id = s.id
           AND (CASE WHEN s.reset THEN s.fail_at ELSE coalesce(hooks.failing_since, s.fail_at) END)
               IS DISTINCT FROM hooks.failing_since",
    );
    on_tx!(&mut *tx, t => sqlx::query(sql).bind(&json).execute(&mut **t).await.map(|_| ()))?;

    let mut disabled: HashMap<String, String> = HashMap::new();
    for item in items {
        if let Outcome::Failed { disable_hook: Some(reason) } = &item.outcome {
            disabled.insert(item.hook_id.clone(), reason.clone());
        }
    }
    let failing: Vec<&str> = rows.iter().filter(|(_, _, at)| at.is_some()).map(|(hook, _, _)| *hook).collect();
    if failing.is_empty() && disabled.is_empty() {
        // Nothing failed in this batch: no hook can have reached its limit.
        return Ok(HashMap::new());
    }
    let reason = format!("every delivery attempt failed for {}", describe_ms(disable_after_ms));
    let failing = json_rows(&failing)?;
    let sql = tx.sql(
        "SELECT id FROM hooks WHERE id IN (SELECT value FROM json_each($1)) AND is_active
           AND failing_since IS NOT NULL AND failing_since <= $2",
        "SELECT id FROM hooks WHERE id IN (SELECT value FROM json_array_elements_text($1::json)) AND is_active
           AND failing_since IS NOT NULL AND failing_since <= $2",
    );
    let due: Vec<(String,)> = on_tx!(&mut *tx, t => sqlx::query_as(sql)
        .bind(&failing)
        .bind(now - disable_after_ms)
        .fetch_all(&mut **t)
        .await)?;
    for (hook,) in due {
        disabled.entry(hook).or_insert_with(|| reason.clone());
    }
    let mut order: Vec<(String, String)> = disabled.into_iter().collect();
    order.sort_unstable();
    let mut switched_off = HashMap::new();
    for (hook, reason) in order {
        if disable(tx, &hook, &reason, now).await? {
            tx.notify_hook_changed(process, &hook).await?;
            switched_off.insert(hook, reason);
        }
    }
    Ok(switched_off)
}

/// Disables the hook with a reason; its pending deliveries end as failed.
/// False when it was already off.
async fn disable(tx: &mut Tx, hook: &str, reason: &str, now: i64) -> Result<bool, StorageError> {
    // A hook already off (switched off by its owner, or disabled by another
    // process meanwhile) keeps its state and reason, and nobody is told twice.
    let switched = on_tx!(&mut *tx, t => sqlx::query(
        "UPDATE hooks SET revision = revision + 1, is_active = FALSE, disabled_reason = $1, updated_at = $2
         WHERE id = $3 AND is_active",
    )
        .bind(reason)
        .bind(now)
        .bind(hook)
        .execute(&mut **t)
        .await
        .map(|r| r.rows_affected()))?;
    if switched == 0 {
        return Ok(false);
    }
    let sql = tx.sql(
        "UPDATE deliveries SET status = 'failed', lease_until = NULL, lease_owner = NULL, updated_at = $1
         WHERE hook_id = $2 AND +status = 'pending'",
        "UPDATE deliveries SET status = 'failed', lease_until = NULL, lease_owner = NULL, updated_at = $1
         WHERE hook_id = $2 AND status = 'pending'",
    );
    on_tx!(&mut *tx, t => sqlx::query(sql).bind(now).bind(hook).execute(&mut **t).await.map(|_| ()))?;
    super::operations::hook_disabled(tx, hook, reason, now).await?;
    Ok(true)
}

fn describe_ms(ms: i64) -> String {
    const DAY: i64 = 86_400_000;
    match ms {
        ms if ms >= DAY && ms % DAY == 0 => format!("{} days", ms / DAY),
        ms if ms >= 3_600_000 && ms % 3_600_000 == 0 => format!("{} hours", ms / 3_600_000),
        ms if ms >= 1000 => format!("{} seconds", ms / 1000),
        ms => format!("{ms} ms"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::deliveries::AttemptRecord;

    fn item(hook: &str, at: i64, ok: bool) -> Recorded {
        Recorded {
            delivery_id: crate::domain::DeliveryId::parse(&format!("{at:024x}")).expect("id"),
            hook_id: hook.to_owned(),
            attempt: AttemptRecord {
                attempted_at: at,
                duration_ms: 1,
                status_code: None,
                error: None,
                response_body: None,
            },
            outcome: if ok { Outcome::Succeeded } else { Outcome::RetryAt(at + 1) },
        }
    }

    #[test]
    fn a_success_resets_the_run_and_later_failures_start_a_new_one() {
        let items = [item("a", 1, false), item("a", 2, true), item("a", 3, false), item("a", 4, false)];
        let refs: Vec<&Recorded> = items.iter().collect();
        assert_eq!(runs(&refs)["a"], Run { reset: true, fail_at: Some(3) });
    }

    #[test]
    fn failures_only_keep_the_first_and_a_final_success_clears() {
        let items = [item("a", 5, false), item("a", 6, false), item("b", 7, false), item("b", 8, true)];
        let refs: Vec<&Recorded> = items.iter().collect();
        let runs = runs(&refs);
        assert_eq!(runs["a"], Run { reset: false, fail_at: Some(5) });
        assert_eq!(runs["b"], Run { reset: true, fail_at: None });
    }

    #[test]
    fn windows_read_as_words() {
        assert_eq!(describe_ms(5 * 86_400_000), "5 days");
        assert_eq!(describe_ms(7_200_000), "2 hours");
        assert_eq!(describe_ms(2_000), "2 seconds");
        assert_eq!(describe_ms(300), "300 ms");
    }
}
