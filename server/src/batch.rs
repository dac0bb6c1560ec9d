//! Group commit: many tasks submit items to one writer task, which writes
//! whatever has queued up as one batch (one transaction, one fsync) and then
//! answers each submitter with its own result. Used for publishing
//! (`ingest.rs`) and for attempt records (`delivery/writer.rs`).
//!
//! No item fails its batch-mates: when a batch's write fails as a whole,
//! each of its items is written again on its own, so only the item that
//! cannot be written gets the error.
//!
//! A batcher may *linger*: after a small batch's first item it waits a
//! moment for more before writing (unless an item is submitted with
//! `submit_now`). That turns the one-item batches of ordinary rates into
//! shared ones where nobody waits for the write's answer to go on
//! (attempt records, `delivery/writer.rs`); publishing never lingers.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Why a submitted item was not written.
#[derive(Debug)]
pub enum BatchError<E> {
    /// The write failed (shared by the items of a batch that failed alone).
    Write(Arc<E>),
    /// The writer task has stopped (the process is shutting down or it died).
    Stopped,
}

impl<E: fmt::Display> fmt::Display for BatchError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BatchError::Write(e) => e.fmt(f),
            BatchError::Stopped => f.write_str("the writer has stopped"),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for BatchError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BatchError::Write(e) => Some(e.as_ref()),
            BatchError::Stopped => None,
        }
    }
}

type Reply<R, E> = oneshot::Sender<Result<R, BatchError<E>>>;

/// An item, where its answer goes, and whether someone waits on it to go on.
struct Queued<T, R, E> {
    item: T,
    reply: Reply<R, E>,
    now: bool,
}

pub struct Batcher<T, R, E>(mpsc::Sender<Queued<T, R, E>>);

/// How long a writer waits for more items after a small batch's first.
#[derive(Clone, Copy, Debug)]
pub struct Linger {
    /// The longest wait, from the moment the batch's first item was taken.
    pub up_to: Duration,
    /// A batch already this large is written at once.
    pub unless_at_least: usize,
}

impl<T, R, E> Clone for Batcher<T, R, E> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T, R, E> Batcher<T, R, E>
where
    T: Clone + Send + Sync + 'static,
    R: Send + 'static,
    E: Send + Sync + 'static,
{
    /// The batcher and its writer task (for the caller to spawn and watch;
    /// it ends when every `Batcher` clone is dropped). `write` gets up to
    /// `max` items and must return one result per item, in order, or one
    /// error for the whole batch. Items are shared, not copied, with the
    /// write (copied only to write them again one by one after a failure).
    pub fn new<F, Fut>(max: usize, write: F) -> (Self, impl Future<Output = ()> + Send + 'static)
    where
        F: FnMut(Arc<[T]>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Vec<R>, E>> + Send,
    {
        Self::lingering(max, None, write)
    }

    /// As `new`, with a writer that lingers (see the module's comment).
    pub fn lingering<F, Fut>(
        max: usize,
        linger: Option<Linger>,
        mut write: F,
    ) -> (Self, impl Future<Output = ()> + Send + 'static)
    where
        F: FnMut(Arc<[T]>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Vec<R>, E>> + Send,
    {
        let (tx, mut rx) = mpsc::channel::<Queued<T, R, E>>(max * 2);
        let task = async move {
            while let Some(first) = rx.recv().await {
                let mut batch = vec![first];
                take_queued(&mut rx, &mut batch, max);
                if let Some(linger) = linger {
                    gather(&mut rx, &mut batch, max, linger).await;
                }
                let (items, replies): (Vec<T>, Vec<Reply<R, E>>) = batch.into_iter().map(|q| (q.item, q.reply)).unzip();
                let items: Arc<[T]> = items.into();
                let single = items.len() == 1;
                match write(items.clone()).await {
                    Ok(results) => answer(replies, results),
                    Err(e) if single => answer_error(replies, e),
                    // Written again one by one: only the bad item fails.
                    Err(_) => {
                        for (item, reply) in items.iter().zip(replies) {
                            match write(Arc::from([item.clone()])).await {
                                Ok(results) => answer(vec![reply], results),
                                Err(e) => answer_error(vec![reply], e),
                            }
                        }
                    }
                }
            }
        };
        (Self(tx), task)
    }

    /// Submits one item and waits until its batch is written.
    pub async fn submit(&self, item: T) -> Result<R, BatchError<E>> {
        self.queue(item, false).await
    }

    /// As `submit`, and its batch is written without lingering: for an
    /// item something else waits on.
    pub async fn submit_now(&self, item: T) -> Result<R, BatchError<E>> {
        self.queue(item, true).await
    }

    async fn queue(&self, item: T, now: bool) -> Result<R, BatchError<E>> {
        let (reply, answer) = oneshot::channel();
        self.0.send(Queued { item, reply, now }).await.map_err(|_| BatchError::Stopped)?;
        answer.await.map_err(|_| BatchError::Stopped)?
    }
}

/// Adds what is queued already, up to `max`.
fn take_queued<Q>(rx: &mut mpsc::Receiver<Q>, batch: &mut Vec<Q>, max: usize) {
    while batch.len() < max {
        match rx.try_recv() {
            Ok(next) => batch.push(next),
            Err(_) => break,
        }
    }
}

/// Waits for more items while the batch is small, nobody waits on one of
/// its items, and `linger.up_to` has not passed.
async fn gather<T, R, E>(
    rx: &mut mpsc::Receiver<Queued<T, R, E>>,
    batch: &mut Vec<Queued<T, R, E>>,
    max: usize,
    linger: Linger,
) {
    let until = tokio::time::Instant::now() + linger.up_to;
    while batch.len() < max.min(linger.unless_at_least) && !batch.iter().any(|q| q.now) {
        match tokio::time::timeout_at(until, rx.recv()).await {
            Ok(Some(next)) => {
                batch.push(next);
                take_queued(rx, batch, max);
            }
            // Time is up, or every sender is gone (the batch is written all the same).
            Ok(None) | Err(_) => break,
        }
    }
}

fn answer<R, E>(replies: Vec<Reply<R, E>>, results: Vec<R>) {
    for (reply, result) in replies.into_iter().zip(results) {
        let _ = reply.send(Ok(result));
    }
}

fn answer_error<R, E>(replies: Vec<Reply<R, E>>, error: E) {
    let error = Arc::new(error);
    for reply in replies {
        let _ = reply.send(Err(BatchError::Write(error.clone())));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_bad_item_fails_alone_and_its_batch_mates_are_written() {
        let (batcher, task) = Batcher::<i32, i32, String>::new(16, |items: Arc<[i32]>| async move {
            if items.contains(&13) { Err("13 cannot be written".to_owned()) } else { Ok(items.to_vec()) }
        });
        tokio::spawn(task);
        let submits: Vec<_> = (10..16)
            .map(|n| {
                let b = batcher.clone();
                tokio::spawn(async move { b.submit(n).await })
            })
            .collect();
        for (n, handle) in (10..16).zip(submits) {
            let result = handle.await.expect("join");
            if n == 13 {
                assert!(matches!(result, Err(BatchError::Write(_))));
            } else {
                assert_eq!(result.ok(), Some(n));
            }
        }
    }

    fn lingering(up_to_ms: u64) -> (Batcher<i32, usize, String>, impl Future<Output = ()> + Send + 'static) {
        // Each item is answered with the size of the batch it was written in.
        let linger = Linger { up_to: Duration::from_millis(up_to_ms), unless_at_least: 3 };
        Batcher::lingering(16, Some(linger), |items: Arc<[i32]>| async move { Ok(vec![items.len(); items.len()]) })
    }

    #[tokio::test(start_paused = true)]
    async fn a_lingering_writer_waits_for_company_but_not_past_its_limit() {
        let (batcher, task) = lingering(50);
        tokio::spawn(task);
        let first = tokio::spawn({
            let b = batcher.clone();
            async move { b.submit(1).await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        let second = batcher.submit(2).await;
        assert_eq!((first.await.expect("join").ok(), second.ok()), (Some(2), Some(2)), "written together");
        // Alone, it is written once the limit has passed.
        let started = tokio::time::Instant::now();
        assert_eq!(batcher.submit(3).await.ok(), Some(1));
        assert_eq!(started.elapsed(), Duration::from_millis(50));
    }

    #[tokio::test(start_paused = true)]
    async fn an_item_someone_waits_on_and_a_full_enough_batch_are_written_at_once() {
        let (batcher, task) = lingering(50);
        tokio::spawn(task);
        let started = tokio::time::Instant::now();
        assert_eq!(batcher.submit_now(1).await.ok(), Some(1));
        assert_eq!(started.elapsed(), Duration::ZERO);
        let three: Vec<_> = (0..3)
            .map(|n| {
                let b = batcher.clone();
                tokio::spawn(async move { b.submit(n).await })
            })
            .collect();
        for handle in three {
            assert_eq!(handle.await.expect("join").ok(), Some(3));
        }
        assert_eq!(started.elapsed(), Duration::ZERO, "three is enough: no wait");
    }

    #[tokio::test]
    async fn a_stopped_writer_is_reported() {
        let (batcher, task) =
            Batcher::<i32, i32, String>::new(4, |items: Arc<[i32]>| async move { Ok(items.to_vec()) });
        drop(task);
        assert!(matches!(batcher.submit(1).await, Err(BatchError::Stopped)));
    }
}
