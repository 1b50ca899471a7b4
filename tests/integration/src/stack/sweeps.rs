//! The work queue of a cleanup run a test drives: the sweep's slices are kept, each as the queue
//! carries it (its JSON body, read back as the worker reads it), for the test to match with the
//! worker's code; every other item goes on to the stack's queue and its background worker.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use shared::work::{QueueError, SweepSlice, WorkItem, WorkQueue};

pub struct SliceCatcher {
    inner: Arc<dyn WorkQueue>,
    caught: Mutex<Vec<String>>,
}

impl SliceCatcher {
    pub fn new(inner: Arc<dyn WorkQueue>) -> Self {
        SliceCatcher { inner, caught: Mutex::new(Vec::new()) }
    }

    /// The slices caught so far, read from their message bodies.
    pub fn take(&self) -> Vec<SweepSlice> {
        let bodies = std::mem::take(&mut *self.caught.lock().unwrap_or_else(|e| e.into_inner()));
        bodies
            .iter()
            .map(|body| match WorkItem::parse(body) {
                Ok(WorkItem::Slice(slice)) => *slice,
                other => panic!("a caught slice reads back as {other:?}"),
            })
            .collect()
    }
}

#[async_trait]
impl WorkQueue for SliceCatcher {
    async fn enqueue(&self, item: &WorkItem) -> Result<(), QueueError> {
        if let WorkItem::Slice(_) = item {
            let body = serde_json::to_string(item).map_err(|e| QueueError(e.to_string()))?;
            if body.len() > shared::work::MAX_ITEM_BYTES {
                return Err(QueueError(format!("a slice of {} bytes", body.len())));
            }
            self.caught.lock().unwrap_or_else(|e| e.into_inner()).push(body);
            return Ok(());
        }
        self.inner.enqueue(item).await
    }

    async fn enqueue_after(&self, item: &WorkItem, delay: std::time::Duration) -> Result<(), QueueError> {
        self.inner.enqueue_after(item, delay).await
    }

    async fn dead_letters(&self) -> Result<Option<u64>, QueueError> {
        self.inner.dead_letters().await
    }
}
