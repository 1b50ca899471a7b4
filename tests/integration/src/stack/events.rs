//! Cleanup runs and the stack's event bus in moto.

use std::sync::Arc;

use serde_json::Value;
use shared::events::eventbridge::EventBridgeBus;
use shared::events::EventBus;
use shared::usecase::cleanup::fan_out::{work_slice, FanOut, SliceBudget, SliceDone};
use shared::usecase::cleanup::Report;

use super::{dynamodb_endpoint, Stack};

impl Stack {
    /// One cleanup pass, as the scheduled function runs it, with the given grace period (0: every
    /// record is old enough to be settled), publishing to the stack's bus.
    pub async fn cleanup(&self, grace_seconds: i64) -> Report {
        let bus = self.bus().await;
        self.cleanup_on(bus.as_ref(), grace_seconds).await
    }

    /// [`Stack::cleanup`] publishing through `bus` (a wrapper that injects failures). The sweep is
    /// fanned out as deployed: planned (a sweep of its own, slices of at most four records, so a
    /// region's projects spread over several), each slice carried as the queue carries it and
    /// matched by the worker's code, here, one after another; then the outbox is published again,
    /// as the next pass would publish what the slices wrote. The run's report holds it all.
    pub async fn cleanup_on<B: EventBus>(&self, bus: &B, grace_seconds: i64) -> Report {
        let mut deps = self.deps.clone();
        deps.timing.grace = chrono::Duration::seconds(grace_seconds);
        // Servers without capacity are placed again at once (the backoff is unit-tested).
        deps.timing.reschedule_backoff = chrono::Duration::zero();
        let slices = Arc::new(super::sweeps::SliceCatcher::new(deps.work.clone()));
        deps.work = slices.clone();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let fan = FanOut {
            sweep: uuid::Uuid::new_v4().to_string(),
            budget: SliceBudget { records: 4, ..SliceBudget::default() },
        };
        let mut report = shared::usecase::cleanup::run_fanned_out(&deps, bus, deadline, &fan)
            .await
            .unwrap_or_else(|e| panic!("cleanup: {e}"));
        for slice in slices.take() {
            match work_slice(&deps, &slice).await {
                Ok(SliceDone::Finished(matched)) => report.absorb(*matched),
                Ok(other) => panic!("slice {} not matched: {other:?}", slice.slice),
                Err(why) => report.failures.push(why),
            }
        }
        // What is left is what this second publishing leaves.
        report.events_left = 0;
        shared::usecase::cleanup::publish_outbox(&deps, bus, deadline, &mut report)
            .await
            .unwrap_or_else(|e| panic!("cleanup: {e}"));
        report
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
