//! Server state-change events on EventBridge (moto), read back from the SQS queue its rule fills.

use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use integration_tests::stack::*;
use serde_json::{json, Value};
use shared::domain::StateEvent;
use shared::events::{BusError, EventBus};

fn transitions(events: &[Value]) -> Vec<(Value, Value)> {
    events.iter().map(|e| (e["previous"].clone(), e["current"].clone())).collect()
}

fn t(previous: Option<&str>, current: &str) -> (Value, Value) {
    (previous.map_or(Value::Null, |p| json!(p)), json!(current))
}

#[tokio::test]
async fn a_servers_life_is_published_once_per_transition() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let id = stack.server("web").await;
    let path = format!("/api/v2/servers/{id}");
    stack.cleanup(0).await;
    stack.call("POST", &format!("{path}/stop"), Some(&admin), None).await;
    stack.cleanup(0).await;
    stack.call("POST", &format!("{path}/start"), Some(&admin), None).await;
    stack.cleanup(0).await;
    stack.call("DELETE", &path, Some(&admin), None).await;
    stack.cleanup(0).await;
    for _ in 0..3 {
        let report = stack.cleanup(0).await;
        assert_eq!(report.events_published, 0, "repeated runs publish nothing more: {report:?}");
    }
    let events = stack.delivered_events().await;
    println!("events of {id} as read from the queue:\n{}", serde_json::to_string_pretty(&events).unwrap_or_default());
    assert_eq!(
        transitions(&events),
        vec![
            t(None, "provisioning"),
            t(Some("provisioning"), "running"),
            t(Some("running"), "stopped"),
            t(Some("stopped"), "running"),
            t(Some("running"), "deprovisioning"),
            t(Some("deprovisioning"), "deleted"),
        ],
        "exactly the transitions, once each"
    );
    conforms_to_the_documented_schema(&events);
    let mut ids: Vec<&str> = events.iter().filter_map(|e| e["eventId"].as_str()).collect();
    ids.dedup();
    assert_eq!(ids.len(), events.len(), "no duplicate event ids");
    let sequences: Vec<u64> = events.iter().filter_map(|e| e["sequence"].as_u64()).collect();
    assert!(sequences.windows(2).all(|w| w[0] < w[1]), "{sequences:?}");
    assert!(events.iter().all(|e| e["serverId"] == id.as_str()
        && e["organizationId"] == ORG
        && e["projectId"] == PROJECT
        && e["networkId"] == stack.network_id.as_str()));
    // Each transition names the action it completed or started.
    let actions = stack.actions(&id).await;
    let listed: Vec<String> = actions
        .iter()
        .map(|a| format!("{} {} {} {} {}", a["id"], a["command"], a["status"], a["subject"], a["providerRequestId"]))
        .collect();
    println!("action list of the same server (newest first):\n{}", listed.join("\n"));
    let action_ids: Vec<&str> = actions.iter().filter_map(|a| a["id"].as_str()).collect();
    for event in &events {
        let action = event["actionId"].as_str().unwrap_or_default();
        assert!(action_ids.contains(&action), "{event} names an action of the server");
    }
    assert_eq!(stack.delivered_events().await, Vec::<Value>::new(), "the queue is drained: nothing more came");
}

/// Every delivered detail has exactly the fields `openapi.yaml`'s `serverStateChange` documents
/// (every required one), with states from `serverState`.
fn conforms_to_the_documented_schema(events: &[Value]) {
    let text = std::fs::read_to_string(integration_tests::repo_root().join("openapi.yaml")).unwrap_or_default();
    let spec: Value = serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("openapi.yaml: {e}"));
    let schema = &spec["components"]["schemas"]["serverStateChange"];
    let states = spec["components"]["schemas"]["serverState"]["enum"].as_array().cloned().unwrap_or_default();
    let documented = schema["properties"].as_object().cloned().unwrap_or_default();
    let required = schema["required"].as_array().cloned().unwrap_or_default();
    assert!(!documented.is_empty() && !states.is_empty(), "the schema is documented");
    for event in events {
        let fields = event.as_object().cloned().unwrap_or_default();
        for key in fields.keys() {
            assert!(documented.contains_key(key), "{key} is not documented: {event}");
        }
        for key in &required {
            assert!(fields.contains_key(key.as_str().unwrap_or_default()), "{key} is missing: {event}");
        }
        assert!(states.contains(&event["previous"]) && states.contains(&event["current"]), "{event}");
    }
}

/// A bus that refuses the calls numbered in `fail` outright and the first entry of call `partial`,
/// passing everything else on. (A cleanup run the tests drive publishes twice: in its pass, and
/// after its sweep's slices, as the next pass would.)
struct Flaky<'a> {
    inner: &'a dyn EventBus,
    calls: AtomicUsize,
    fail: &'a [usize],
    partial: usize,
}

#[async_trait]
impl EventBus for Flaky<'_> {
    async fn publish(&self, events: &[StateEvent]) -> Result<Vec<bool>, BusError> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        if self.fail.contains(&call) {
            return Err(BusError("injected: PutEvents failed".into()));
        }
        if call == self.partial {
            // A partial failure: EventBridge rejects one entry (FailedEntryCount 1).
            let mut accepted = self.inner.publish(&events[1..]).await?;
            accepted.insert(0, false);
            return Ok(accepted);
        }
        self.inner.publish(events).await
    }
}

#[tokio::test]
async fn a_failed_put_events_loses_nothing_and_duplicates_nothing() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let id = stack.server("web").await;
    stack.call("POST", &format!("/api/v2/servers/{id}/stop"), Some(&admin), None).await;
    let bus = stack.bus().await;
    // The first run's two publishings fail; the second run's first refuses one entry, its second fails.
    let flaky = Flaky { inner: bus.as_ref(), calls: AtomicUsize::new(0), fail: &[0, 1, 3], partial: 2 };
    let failed = stack.cleanup_on(&flaky, 0).await;
    assert_eq!(failed.events_published, 0, "{failed:?}");
    assert!(failed.events_left >= 3, "created, running, stopped wait in the outbox: {failed:?}");
    assert_eq!(stack.delivered_events().await, Vec::<Value>::new(), "nothing reached the bus");

    let partial = stack.cleanup_on(&flaky, 0).await;
    assert_eq!(partial.events_left, 1, "one entry refused: {partial:?}");
    let healed = stack.cleanup(0).await;
    assert_eq!((healed.events_published, healed.events_left), (1, 0), "{healed:?}");
    let events = stack.delivered_events().await;
    let mut got = transitions(&events);
    got.sort_by_key(|(p, c)| (p.to_string(), c.to_string()));
    let mut want = vec![t(None, "provisioning"), t(Some("provisioning"), "running"), t(Some("running"), "stopped")];
    want.sort_by_key(|(p, c)| (p.to_string(), c.to_string()));
    assert_eq!(got, want, "every transition once, none lost: {events:?}");
}
