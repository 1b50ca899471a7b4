//! The work port: what a request leaves for the worker function (a network to provision, change
//! or take down; a v1 identity to provision or take down; a security group to enact or remove; a
//! server intent to follow up; a slice of a sweep), on one queue the platform's background work
//! shares. `sqs` is the production adapter. A message only says which record to look at; the record says what is left to do, so a
//! lost, repeated or late message changes nothing the cleanup function would not also do.

mod slice;
pub mod sqs;

pub use slice::{SliceProject, SweepSlice};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// What a worker is asked to look at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum WorkItem {
    /// Converge a provisioned network (and its hidden identity) on what its record says.
    #[serde(rename_all = "camelCase")]
    Network { network_id: String },
    /// Converge a v1 identity on what its record says (provisioned, or taken down).
    #[serde(rename_all = "camelCase")]
    Identity { identity_id: String },
    /// Converge a security group on what its record says (its rules at Neutron, or removed).
    #[serde(rename_all = "camelCase")]
    SecurityGroup { security_group_id: String },
    /// Follow up a server's intent (written at `version`) once the function that wrote it has
    /// surely ended: settle it if it is still unsettled and nobody wrote over it since.
    #[serde(rename_all = "camelCase")]
    Server { server_id: String, version: u64 },
    /// Match one slice of a sweep (some projects of a region) against its records.
    Slice(Box<SweepSlice>),
}

/// The most a work item may weigh: SQS's largest message.
pub const MAX_ITEM_BYTES: usize = 256 * 1024;

/// Why an item was not done, and so what becomes of its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Worth another try (a dependency failed, a lease is held): offered again after a backoff.
    Retry(String),
    /// Never workable (unreadable): straight to the dead-letter queue with the reason.
    Unworkable(String),
}

/// How many times a message is received before its failure sends it to the dead-letter queue
/// (the queue's own redrive, at the same count, catches a worker that died holding it).
pub const MAX_RECEIVES: u32 = 5;

/// What the runtime does with a message that failed on its `receives`-th receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// Hidden for this long, then offered again.
    Again(std::time::Duration),
    /// Moved to the dead-letter queue with this reason.
    DeadLetter(String),
}

impl Failure {
    pub fn disposition(&self, receives: u32) -> Disposition {
        match self {
            Failure::Unworkable(why) => Disposition::DeadLetter(why.clone()),
            Failure::Retry(why) if receives >= MAX_RECEIVES => {
                Disposition::DeadLetter(format!("failed {receives} times; the last: {why}"))
            }
            // 10 s, 20 s, 40 s, 80 s: a slice's listing is stale after half the grace period anyway.
            Failure::Retry(_) => Disposition::Again(std::time::Duration::from_secs(10 << (receives.clamp(1, 4) - 1))),
        }
    }

    pub fn reason(&self) -> &str {
        match self {
            Failure::Retry(why) | Failure::Unworkable(why) => why,
        }
    }
}

impl WorkItem {
    /// A message body as the queue carries it; an unreadable one is refused with the reason.
    pub fn parse(body: &str) -> Result<WorkItem, String> {
        if body.len() > MAX_ITEM_BYTES {
            return Err(format!("a work item is at most {MAX_ITEM_BYTES} bytes"));
        }
        serde_json::from_str(body).map_err(|e| format!("not a work item: {e}"))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the work queue did not take the item: {0}")]
pub struct QueueError(pub String);

#[async_trait]
pub trait WorkQueue: Send + Sync {
    async fn enqueue(&self, item: &WorkItem) -> Result<(), QueueError>;
    /// Enqueues the item to be delivered no sooner than `delay` from now (at most 15 minutes).
    async fn enqueue_after(&self, item: &WorkItem, delay: std::time::Duration) -> Result<(), QueueError>;
    /// How many messages wait in the dead-letter queue; `None` where there is none to ask.
    async fn dead_letters(&self) -> Result<Option<u64>, QueueError> {
        Ok(None)
    }
}

/// The queue of a function that leaves no work (most of them), and of unit tests that run the
/// worker themselves: it takes every item and keeps it.
#[derive(Default)]
pub struct HeldWork {
    pub items: std::sync::Mutex<Vec<WorkItem>>,
}

impl HeldWork {
    pub fn take(&self) -> Vec<WorkItem> {
        std::mem::take(&mut *self.items.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

#[async_trait]
impl WorkQueue for HeldWork {
    async fn enqueue(&self, item: &WorkItem) -> Result<(), QueueError> {
        self.items.lock().unwrap_or_else(|e| e.into_inner()).push(item.clone());
        Ok(())
    }

    async fn enqueue_after(&self, item: &WorkItem, _: std::time::Duration) -> Result<(), QueueError> {
        self.enqueue(item).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_round_trip_and_garbage_is_refused() {
        let item = WorkItem::Network { network_id: "n1".into() };
        let text = serde_json::to_string(&item).unwrap_or_default();
        assert_eq!(text, r#"{"kind":"network","networkId":"n1"}"#);
        assert_eq!(WorkItem::parse(&text), Ok(item));
        assert!(WorkItem::parse("{}").is_err());
        assert!(WorkItem::parse(&"x".repeat(MAX_ITEM_BYTES + 1)).is_err());
    }

    #[test]
    fn a_failure_is_put_off_longer_each_time_and_dead_lettered_on_its_last_try_or_at_once_when_unreadable() {
        let retry = Failure::Retry("down".into());
        let again = |n| match retry.disposition(n) {
            Disposition::Again(d) => d.as_secs(),
            Disposition::DeadLetter(why) => panic!("{n}: {why}"),
        };
        assert_eq!([again(1), again(2), again(3), again(4)], [10, 20, 40, 80]);
        assert_eq!(retry.disposition(MAX_RECEIVES), Disposition::DeadLetter("failed 5 times; the last: down".into()));
        let unreadable = Failure::Unworkable("not a work item".into());
        assert_eq!(unreadable.disposition(1), Disposition::DeadLetter("not a work item".into()));
    }
}
