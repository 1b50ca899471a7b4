//! EventBridge: `PutEvents` on the bus the template creates (`EVENT_BUS_NAME`).

use async_trait::async_trait;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use aws_sdk_eventbridge::Client;

use super::{BusError, EventBus, DETAIL_TYPE, SOURCE};
use crate::domain::StateEvent;

pub struct EventBridgeBus {
    client: Client,
    bus: String,
}

impl EventBridgeBus {
    pub fn new(client: Client, bus: impl Into<String>) -> Self {
        EventBridgeBus { client, bus: bus.into() }
    }

    fn entry(&self, event: &StateEvent) -> Result<PutEventsRequestEntry, BusError> {
        let detail = serde_json::to_string(event).map_err(|e| BusError(format!("cannot encode an event: {e}")))?;
        let seconds = event.time.timestamp();
        Ok(PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus)
            .source(SOURCE)
            .detail_type(DETAIL_TYPE)
            .detail(detail)
            .time(aws_sdk_eventbridge::primitives::DateTime::from_secs(seconds))
            .build())
    }
}

#[async_trait]
impl EventBus for EventBridgeBus {
    async fn publish(&self, events: &[StateEvent]) -> Result<Vec<bool>, BusError> {
        let entries = events.iter().map(|e| self.entry(e)).collect::<Result<Vec<_>, _>>()?;
        let out = self
            .client
            .put_events()
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| BusError(aws_sdk_eventbridge::error::DisplayErrorContext(&e).to_string()))?;
        // Entries answer in request order; a failed one carries an error code instead of an id.
        let mut accepted: Vec<bool> =
            out.entries().iter().map(|e| e.error_code().is_none() && e.event_id().is_some()).collect();
        accepted.resize(events.len(), false);
        Ok(accepted)
    }
}
