//! Group commit for attempt records: attempt tasks hand their record to one
//! writer task, which writes whatever has queued up in one transaction (one
//! fsync) and then acknowledges each. An attempt's permits are released only
//! after its record is durable.

use app::storage::deliveries::{self, Recorded};
use app::storage::{Db, StorageError};
use tokio::sync::{mpsc, oneshot};

const MAX_BATCH: usize = 256;

type Reply = oneshot::Sender<Result<Option<String>, String>>;

#[derive(Clone)]
pub struct Writer(mpsc::Sender<(Recorded, Reply)>);

impl Writer {
    /// Records one attempt (batched with others); returns the reason when its hook was disabled.
    pub async fn record(&self, item: Recorded) -> Result<Option<String>, String> {
        let (tx, rx) = oneshot::channel();
        self.0.send((item, tx)).await.map_err(|_| "the record writer has stopped".to_owned())?;
        rx.await.map_err(|_| "the record writer dropped the attempt".to_owned())?
    }
}

pub fn spawn(db: Db, disable_after_ms: i64) -> Writer {
    let (tx, mut rx) = mpsc::channel::<(Recorded, Reply)>(MAX_BATCH * 4);
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
            let items: Vec<Recorded> = batch.iter().map(|(item, _)| item.clone()).collect();
            let result: Result<Vec<Option<String>>, StorageError> =
                deliveries::record_batch(&db, &items, disable_after_ms).await;
            match result {
                Ok(disabled) => {
                    for ((_, reply), reason) in batch.drain(..).zip(disabled) {
                        let _ = reply.send(Ok(reason));
                    }
                }
                Err(e) => {
                    let message = e.to_string();
                    for (_, reply) in batch.drain(..) {
                        let _ = reply.send(Err(message.clone()));
                    }
                }
            }
        }
    });
    Writer(tx)
}
