//! One attempt, as a task of its own: look the hook up as it is now, send,
//! free the destination's slot, decide what follows, record it.

use super::held::Slot;
use super::outcome::{self, Answered};
use super::{DispatcherConfig, schedule, sender, writer};
use app::domain::DeliveryId;
use app::security::SecretBox;
use app::storage::deliveries::{AttemptRecord, ClaimedDelivery, RecordResult, Recorded};
use app::storage::directory::HookNow;
use app::storage::{Db, now_ms};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{Notify, OwnedSemaphorePermit};

/// What every attempt needs, shared.
pub struct AttemptContext {
    pub db: Db,
    pub secrets: SecretBox,
    pub client: reqwest::Client,
    pub config: DispatcherConfig,
    pub writer: writer::Writer,
    /// Several processes (PostgreSQL): confirms a hook's copy before each send.
    pub fence: Option<super::fence::Fence>,
    /// Woken when an attempt frees a slot or gets its record written.
    pub slot_freed: Notify,
}

/// How an attempt task ended, for the dispatcher's books.
pub enum TaskEnd {
    /// Sent (and recorded, or its record dropped): the lease is gone.
    Done(DeliveryId),
    /// Not sent: its hook was switched off meanwhile; give the lease back.
    HandBack(DeliveryId),
    /// Not sent: its hook was deleted meanwhile (so was the delivery).
    Dropped(DeliveryId),
}

/// Permits an attempt holds: its destination's slot and a global worker
/// until the answer is in; an unrecorded-answer permit until its record is written.
pub struct Permits {
    pub slot: Slot,
    pub worker: OwnedSemaphorePermit,
    pub unrecorded: OwnedSemaphorePermit,
}

pub async fn run(ctx: Arc<AttemptContext>, delivery: ClaimedDelivery, permits: Permits) -> TaskEnd {
    // The hook as it is now: an edit, switch-off or delete that has answered wins.
    let target = match hook_now(&ctx, &delivery.hook_id).await {
        Ok(HookNow::Active(target)) => target,
        Ok(HookNow::Inactive) => return TaskEnd::HandBack(delivery.id),
        Ok(HookNow::Gone) => return TaskEnd::Dropped(delivery.id),
        Err(e) => {
            tracing::error!(delivery = %delivery.id, error = %e, "cannot read the hook; giving the delivery back");
            // Not at once: a database that fails would make it a tight loop.
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            return TaskEnd::HandBack(delivery.id);
        }
    };
    let attempted_at = now_ms();
    let started = Instant::now();
    let result = sender::send(&ctx.client, &ctx.secrets, !ctx.config.allow_private_targets, &delivery, &target).await;
    let elapsed = started.elapsed();
    drop((permits.slot, permits.worker));
    ctx.slot_freed.notify_one();

    let number = usize::try_from(delivery.attempt_count).unwrap_or(0) + 1;
    let outcome = outcome::decide(Answered::from(&result), number, &ctx.config.schedule, now_ms(), schedule::jitter);
    let duration_ms = i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX);
    let attempt = attempt_record(result, attempted_at, duration_ms);
    tracing::info!(
        delivery = %delivery.id,
        event = %delivery.event_id,
        hook = %delivery.hook_id,
        attempt = number,
        status = attempt.status_code,
        duration_ms,
        outcome = outcome::label(&outcome),
        error = attempt.error.as_deref().unwrap_or(""),
        "delivery attempt"
    );
    ctx.config.metrics.attempt(outcome::label(&outcome), elapsed.as_secs_f64());
    let recorded = Recorded { delivery_id: delivery.id.clone(), hook_id: delivery.hook_id.clone(), attempt, outcome };
    // Something waits for this attempt's end — an ordered hook's next
    // delivery, or a `maxInFlight` hook's slot (freed when the task ends):
    // its record goes without lingering.
    record(&ctx, recorded, target.ordered || target.max_in_flight.is_some()).await;
    drop(permits.unrecorded);
    ctx.slot_freed.notify_one();
    TaskEnd::Done(delivery.id)
}

/// The hook as it is now. With other processes (the fence), a copy whose
/// revision the database no longer has is dropped and read again.
async fn hook_now(ctx: &AttemptContext, hook_id: &str) -> Result<HookNow, LookupError> {
    let directory = ctx.db.hooks();
    let now = directory.current(&ctx.db, hook_id).await?;
    let (Some(fence), HookNow::Active(target)) = (&ctx.fence, &now) else { return Ok(now) };
    if fence.submit(hook_id.to_owned()).await? == Some(target.revision) {
        return Ok(now);
    }
    // Changed through another process, its notice not here yet: read it
    // again (that read begins after the fence's, so it is at least as new).
    directory.changed_if_at(hook_id, target.revision);
    Ok(directory.current(&ctx.db, hook_id).await?)
}

#[derive(Debug, thiserror::Error)]
enum LookupError {
    #[error(transparent)]
    Storage(#[from] app::storage::StorageError),
    #[error("cannot confirm the hook's revision: {0}")]
    Fence(#[from] crate::batch::BatchError<app::storage::StorageError>),
}

/// What the attempt log keeps of an answer (or of its failure).
fn attempt_record(
    result: Result<sender::Answer, sender::SendError>,
    attempted_at: i64,
    duration_ms: i64,
) -> AttemptRecord {
    match result {
        Ok(answer) => AttemptRecord {
            attempted_at,
            duration_ms,
            status_code: Some(answer.status),
            error: (!(200..300).contains(&answer.status))
                .then(|| format!("the endpoint answered HTTP {}", answer.status)),
            response_body: Some(answer.body),
        },
        Err(e) => AttemptRecord {
            attempted_at,
            duration_ms,
            status_code: None,
            error: Some(e.to_string()),
            response_body: None,
        },
    }
}

async fn record(ctx: &AttemptContext, recorded: Recorded, awaited: bool) {
    let (delivery, hook) = (recorded.delivery_id.clone(), recorded.hook_id.clone());
    let written = if awaited { ctx.writer.submit_now(recorded).await } else { ctx.writer.submit(recorded).await };
    match written {
        Ok(RecordResult::Written { disabled: Some(reason) }) => tracing::warn!(hook = %hook, reason, "hook disabled"),
        Ok(RecordResult::Written { disabled: None }) => {}
        Ok(RecordResult::LeaseLost) => {
            ctx.config.metrics.records_dropped.inc();
            tracing::warn!(delivery = %delivery, "attempt not recorded: the lease was lost or the delivery was deleted");
        }
        // The lease will expire and the delivery will be attempted again: at-least-once.
        Err(e) => tracing::error!(delivery = %delivery, error = %e, "recording a delivery attempt failed"),
    }
}
