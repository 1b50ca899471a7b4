//! Cleanup runs and the stack's event bus in moto.

use std::sync::Arc;

use serde_json::Value;
use shared::events::eventbridge::EventBridgeBus;
use shared::events::EventBus;
use shared::usecase::cleanup::Report;

use super::{dynamodb_endpoint, Stack};

impl Stack {
    /// One cleanup pass, as the scheduled function runs it, with the given grace period (0: every
    /// record is old enough to be settled), publishing to the stack's bus.
    pub async fn cleanup(&self, grace_seconds: i64) -> Report {
        let bus = self.bus().await;
        self.cleanup_on(bus.as_ref(), grace_seconds).await
    }

    /// [`Stack::cleanup`] publishing through `bus` (a wrapper that injects failures), its sweep
    /// fanned out as deployed ([`crate::sweeps::fanned_pass`]).
    pub async fn cleanup_on<B: EventBus>(&self, bus: &B, grace_seconds: i64) -> Report {
        let mut deps = self.deps.clone();
        deps.timing.grace = chrono::Duration::seconds(grace_seconds);
        // Servers without capacity are placed again at once (the backoff is unit-tested).
        deps.timing.reschedule_backoff = chrono::Duration::zero();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        crate::sweeps::fanned_pass(&deps, bus, deadline).await
    }

    /// The name of the stack's event bus (made by [`Stack::bus`]).
    pub fn bus_name(&self) -> String {
        format!("bus-{}", self.table)
    }

    async fn plumbing(&self) -> &(Arc<EventBridgeBus>, String) {
        self.events
            .get_or_init(|| async {
                let name = self.bus_name();
                let sdk = shared::aws::Sdk::from_env().unwrap_or_else(|e| panic!("{e}"));
                let endpoint = dynamodb_endpoint();
                let url = local_api::events::ensure_bus_to_queue(&sdk, &endpoint, &name, &format!("q-{}", self.table))
                    .await
                    .unwrap_or_else(|e| panic!("event bus: {e}"));
                (Arc::new(EventBridgeBus::new(sdk.eventbridge(Some(&endpoint)), name)), url)
            })
            .await
    }

    /// The stack's EventBridge bus (in moto), whose rule sends every event to the stack's queue.
    pub async fn bus(&self) -> Arc<EventBridgeBus> {
        self.plumbing().await.0.clone()
    }

    /// The events the bus delivered to the queue since the last call (their `detail`s), in the
    /// order they arrived.
    pub async fn delivered_events(&self) -> Vec<Value> {
        let url = self.plumbing().await.1.clone();
        let messages = local_api::events::Sqs::new(&dynamodb_endpoint())
            .drain(&url)
            .await
            .unwrap_or_else(|e| panic!("queue: {e}"));
        messages.into_iter().map(|m| m["detail"].clone()).collect()
    }
}
