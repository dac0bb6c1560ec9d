//! Group commit: many tasks submit items to one writer task, which writes
//! whatever has queued up as one batch (one transaction, one fsync) and then
//! answers each submitter with its own result. Used for publishing
//! (`ingest.rs`) and for attempt records (`delivery/writer.rs`).

use std::future::Future;
use tokio::sync::{mpsc, oneshot};

type Reply<R> = oneshot::Sender<Result<R, String>>;

pub struct Batcher<T, R>(mpsc::Sender<(T, Reply<R>)>);

impl<T, R> Clone for Batcher<T, R> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T: Send + 'static, R: Send + 'static> Batcher<T, R> {
    /// Starts the writer task. `write` gets up to `max` items and must return
    /// one result per item, in order, or one error for the whole batch.
    pub fn spawn<F, Fut>(max: usize, mut write: F) -> Self
    where
        F: FnMut(Vec<T>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Vec<R>, String>> + Send,
    {
        let (tx, mut rx) = mpsc::channel::<(T, Reply<R>)>(max * 2);
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut items = vec![first.0];
                let mut replies = vec![first.1];
                while items.len() < max {
                    match rx.try_recv() {
                        Ok((item, reply)) => {
                            items.push(item);
                            replies.push(reply);
                        }
                        Err(_) => break,
                    }
                }
                match write(items).await {
                    Ok(results) => {
                        for (reply, result) in replies.into_iter().zip(results) {
                            let _ = reply.send(Ok(result));
                        }
                    }
                    Err(message) => {
                        for reply in replies {
                            let _ = reply.send(Err(message.clone()));
                        }
                    }
                }
            }
        });
        Self(tx)
    }

    /// Submits one item and waits until its batch is written.
    pub async fn submit(&self, item: T) -> Result<R, String> {
        let (tx, rx) = oneshot::channel();
        self.0.send((item, tx)).await.map_err(|_| "the writer has stopped".to_owned())?;
        rx.await.map_err(|_| "the writer dropped the item".to_owned())?
    }
}
