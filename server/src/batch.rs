//! Group commit: many tasks submit items to one writer task, which writes
//! whatever has queued up as one batch (one transaction, one fsync) and then
//! answers each submitter with its own result. Used for publishing
//! (`ingest.rs`) and for attempt records (`delivery/writer.rs`).
//!
//! No item fails its batch-mates: when a batch's write fails as a whole,
//! each of its items is written again on its own, so only the item that
//! cannot be written gets the error.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
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

pub struct Batcher<T, R, E>(mpsc::Sender<(T, Reply<R, E>)>);

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
    pub fn new<F, Fut>(max: usize, mut write: F) -> (Self, impl Future<Output = ()> + Send + 'static)
    where
        F: FnMut(Arc<[T]>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Vec<R>, E>> + Send,
    {
        let (tx, mut rx) = mpsc::channel::<(T, Reply<R, E>)>(max * 2);
        let task = async move {
            while let Some(first) = rx.recv().await {
                let mut batch = vec![first];
                while batch.len() < max {
                    match rx.try_recv() {
                        Ok(next) => batch.push(next),
                        Err(_) => break,
                    }
                }
                let (items, replies): (Vec<T>, Vec<Reply<R, E>>) = batch.into_iter().unzip();
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
        let (tx, rx) = oneshot::channel();
        self.0.send((item, tx)).await.map_err(|_| BatchError::Stopped)?;
        rx.await.map_err(|_| BatchError::Stopped)?
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

    #[tokio::test]
    async fn a_stopped_writer_is_reported() {
        let (batcher, task) =
            Batcher::<i32, i32, String>::new(4, |items: Arc<[i32]>| async move { Ok(items.to_vec()) });
        drop(task);
        assert!(matches!(batcher.submit(1).await, Err(BatchError::Stopped)));
    }
}
