//! The event port: where observed server transitions are published. `eventbridge` is the
//! production adapter; only the cleanup function links it (it drains the outbox the record writes
//! fill, so a transition is published even when the function that wrote it could not).

pub mod eventbridge;

use async_trait::async_trait;

use crate::domain::StateEvent;

/// The `source` of every event.
pub const SOURCE: &str = "region-servers";
/// The `detail-type` of a transition.
pub const DETAIL_TYPE: &str = "Server State Change";
/// EventBridge takes at most this many entries per `PutEvents`.
pub const BATCH: usize = 10;

/// Why a whole batch was not published (the outcome of each entry is unknown).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the event bus did not take the events: {0}")]
pub struct BusError(pub String);

#[async_trait]
pub trait EventBus: Send + Sync {
    /// Publishes at most [`BATCH`] events; answers, entry by entry, whether the bus accepted it.
    async fn publish(&self, events: &[StateEvent]) -> Result<Vec<bool>, BusError>;
}

/// A bus that keeps what it is given, for unit tests.
#[derive(Default)]
pub struct MemoryBus {
    pub published: std::sync::Mutex<Vec<StateEvent>>,
}

#[async_trait]
impl EventBus for MemoryBus {
    async fn publish(&self, events: &[StateEvent]) -> Result<Vec<bool>, BusError> {
        self.published.lock().unwrap_or_else(|e| e.into_inner()).extend(events.iter().cloned());
        Ok(vec![true; events.len()])
    }
}
