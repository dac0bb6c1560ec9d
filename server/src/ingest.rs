//! Group commit for publishing: concurrent `POST /api/v1/events` requests
//! hand their event to one writer task, which stores whatever has queued up
//! in one transaction (one fsync) and answers each request only after the
//! commit. Many requests, one fsync: durable 202s at a higher rate.

use app::storage::Db;
use app::storage::events::{self, PublishRequest, Published};
use tokio::sync::{mpsc, oneshot};

const MAX_BATCH: usize = 512;

type Reply = oneshot::Sender<Result<Published, String>>;

#[derive(Clone)]
pub struct Ingest(mpsc::Sender<(PublishRequest, Reply)>);

impl Ingest {
    /// Stores the event (batched with others); resolves after the commit.
    pub async fn publish(&self, request: PublishRequest) -> Result<Published, String> {
        let (tx, rx) = oneshot::channel();
        self.0.send((request, tx)).await.map_err(|_| "the ingest writer has stopped".to_owned())?;
        rx.await.map_err(|_| "the ingest writer dropped the event".to_owned())?
    }
}

pub fn spawn(db: Db) -> Ingest {
    let (tx, mut rx) = mpsc::channel::<(PublishRequest, Reply)>(MAX_BATCH * 2);
    tokio::spawn(async move {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while let Some(first) = rx.recv().await {
            batch.push(first);
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
            let requests: Vec<PublishRequest> = batch.iter().map(|(r, _)| r.clone()).collect();
            match events::publish_batch(&db, &requests).await {
                Ok(results) => {
                    for ((_, reply), result) in batch.drain(..).zip(results) {
                        let _ = reply.send(Ok(result));
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, events = batch.len(), "storing a batch of events failed");
                    let message = e.to_string();
                    for (_, reply) in batch.drain(..) {
                        let _ = reply.send(Err(message.clone()));
                    }
                }
            }
        }
    });
    Ingest(tx)
}
