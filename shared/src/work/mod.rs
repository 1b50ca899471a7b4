//! The work port: what a request leaves for the worker function (a network to provision, change
//! or take down; a v1 identity to provision or take down; a security group to enact or remove), on one queue the platform's background work shares. `sqs` is the production
//! adapter. A message only says which record to look at; the record says what is left to do, so a
//! lost, repeated or late message changes nothing the cleanup function would not also do.

pub mod sqs;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// What a worker is asked to look at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
}

impl WorkItem {
    /// A message body as the queue carries it; an unreadable one is refused with the reason.
    pub fn parse(body: &str) -> Result<WorkItem, String> {
        if body.len() > 4096 {
            return Err("a work item is at most 4096 bytes".into());
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
        assert!(WorkItem::parse(&"x".repeat(5000)).is_err());
    }
}
