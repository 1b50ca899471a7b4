use std::time::Duration;

use integration_tests::stack::*;
use openstack_emulator::{Delays, Fault};
use serde_json::json;

const ACTIONS: &str = "POST /compute/v2.1/servers/{id}/action";
const ACTIONS_PATH: &str = "/compute/v2.1/servers/*/action";
const SHOW: &str = "GET /compute/v2.1/servers/{id}";

/// A provisioned server (read once so the record knows it is ACTIVE).
async fn settled(stack: &Stack, name: &str) -> String {
    let id = stack.server(name).await;
    let shown = stack.call("GET", &format!("/api/v2/servers/{id}"), Some(&stack.admin()), None).await;
    assert_eq!(shown.body["status"]["powerState"], "Running", "{}", shown.body);
    id
}

/// Calls one power route and returns the reply with the provider calls it caused.
async fn power(stack: &Stack, id: &str, verb: &str) -> (integration_tests::stack::Reply, u64) {
    let before: u64 =
        stack.emulator.counters().iter().filter(|(k, _)| !k.starts_with("POST /identity")).map(|(_, v)| v).sum();
    let actions = stack.emulator.counter(ACTIONS);
    let reply = stack.call("POST", &format!("/api/v2/servers/{id}/{verb}"), Some(&stack.admin()), None).await;
    let after: u64 =
        stack.emulator.counters().iter().filter(|(k, _)| !k.starts_with("POST /identity")).map(|(_, v)| v).sum();
    // Action counters ("action os-start") are bookkeeping of the same request: count routes only.
    let routes = after - before - (stack.emulator.counter(ACTIONS) - actions);
    (reply, routes)
}

#[tokio::test]
async fn power_operations_translate_the_provider_state_with_one_call_each() {
    let stack = Stack::start().await;
    let id = settled(&stack, "web").await;
    let cases = [
        ("start", 400, "server cannot be started in its current state"),
        ("softreboot", 202, ""),
        ("hardreboot", 202, ""),
        ("stop", 202, ""),
        ("stop", 400, "server cannot be stopped in its current state"),
        ("softreboot", 400, "server cannot be rebooted in its current state"),
        // A HARD reboot of a SHUTOFF server powers it on, as Nova's does.
        ("hardreboot", 202, ""),
        ("start", 400, "server cannot be started in its current state"),
        ("stop", 202, ""),
    ];
    let mut calls = Vec::new();
    for (verb, status, text) in cases {
        let (reply, provider_calls) = power(&stack, &id, verb).await;
        assert_eq!(reply.status, status, "{verb}: {}", reply.body);
        if status == 400 {
            // Unikorn's answer and wording for a provider refusing the action in this state.
            assert_eq!((reply.error_code(), reply.description()), ("invalid_request", text), "{verb}");
        }
        calls.push((verb, provider_calls));
        let _ = stack.call("GET", &format!("/api/v2/servers/{id}"), Some(&stack.admin()), None).await;
    }
    println!("provider calls per power operation: {calls:?}");
    assert!(calls.iter().all(|(_, n)| *n == 1), "exactly one provider call per operation: {calls:?}");
    assert_eq!(stack.emulator.counter("action os-start"), 2);
    assert_eq!(stack.emulator.counter("action os-stop"), 3);
    assert_eq!(stack.emulator.counter("action reboot"), 4);
}

#[tokio::test]
async fn power_state_moves_through_its_transitional_values() {
    let stack = Stack::start().await;
    let id = settled(&stack, "web").await;
    stack.emulator.set_delays(Delays { action_ms: 300, ..Delays::default() });
    let path = format!("/api/v2/servers/{id}");
    assert_eq!(stack.call("POST", &format!("{path}/stop"), Some(&stack.admin()), None).await.status, 202);
    let stored = stack.stored(&format!("SERVER#{id}"), "SERVER").await.unwrap_or_default();
    assert_eq!(stored["powerState"], "Stopping", "recorded with a conditional write");
    let during = stack.call("GET", &path, Some(&stack.admin()), None).await;
    assert_eq!(during.body["status"]["powerState"], "Stopping");
    tokio::time::sleep(std::time::Duration::from_millis(350)).await;
    let after = stack.call("GET", &path, Some(&stack.admin()), None).await;
    assert_eq!(after.body["status"]["powerState"], "Stopped");
    assert_eq!(stack.call("POST", &format!("{path}/start"), Some(&stack.admin()), None).await.status, 202);
    assert_eq!(stack.call("GET", &path, Some(&stack.admin()), None).await.body["status"]["powerState"], "Pending");
}

#[tokio::test]
async fn a_server_gone_at_the_provider_is_404_and_failures_are_503() {
    let stack = Stack::start().await;
    let id = settled(&stack, "web").await;
    stack.emulator.inject(Fault::status("POST", ACTIONS_PATH, 503));
    let (reply, _) = power(&stack, &id, "stop").await;
    assert_eq!((reply.status, reply.error_code()), (503, "server_error"));
    assert!(reply.header("retry-after").is_some());
    stack.emulator.inject(Fault::delay("POST", ACTIONS_PATH, 3000));
    let (reply, _) = power(&stack, &id, "stop").await;
    assert_eq!((reply.status, reply.error_code()), (503, "server_error"), "provider timeout");

    let (nova_id, ..) = stack.emulator.servers().into_iter().next().unwrap_or_default();
    assert!(stack.emulator.vanish_server(&nova_id));
    let (reply, calls) = power(&stack, &id, "stop").await;
    assert_eq!((reply.status, reply.error_code()), (404, "not_found"));
    assert!(reply.description().contains("no server found"), "{}", reply.description());
    assert_eq!(calls, 1);
}

#[tokio::test]
async fn provisioning_and_dying_servers_are_400_without_a_provider_action() {
    let stack = Stack::start().await;
    stack.emulator.set_delays(Delays { build_ms: 60_000, delete_ms: 60_000, ..Delays::default() });
    let building = stack.server("building").await;
    let (reply, _) = power(&stack, &building, "stop").await;
    assert_eq!((reply.status, reply.description()), (400, "server cannot be stopped in its current state"));
    assert_eq!(stack.emulator.counter(ACTIONS), 0);

    stack.emulator.set_delays(Delays { delete_ms: 60_000, ..Delays::default() });
    let dying = settled(&stack, "dying").await;
    assert_eq!(stack.call("DELETE", &format!("/api/v2/servers/{dying}"), Some(&stack.admin()), None).await.status, 202);
    let shows = stack.emulator.counter(SHOW);
    let (reply, calls) = power(&stack, &dying, "start").await;
    assert_eq!((reply.status, reply.description()), (400, "server cannot be started in its current state"));
    assert_eq!((calls, stack.emulator.counter(ACTIONS), stack.emulator.counter(SHOW)), (0, 0, shows));
}

#[tokio::test]
async fn power_needs_update_and_read_comes_first() {
    let stack = Stack::start().await;
    let id = settled(&stack, "web").await;
    let reader = stack.token("r", &project_acl(ORG, PROJECT, &[("region:servers", &["read"])]));
    let stranger = stack.token("s", &project_acl(ORG, PROJECT_B, &[("region:servers", ALL)]));
    for (token, status) in [(reader, 403), (stranger, 404)] {
        let reply = stack.call("POST", &format!("/api/v2/servers/{id}/stop"), Some(&token), None).await;
        assert_eq!(reply.status, status, "{}", reply.body);
    }
    assert_eq!(stack.emulator.counter(ACTIONS), 0);
    let unknown = stack
        .call("POST", "/api/v2/servers/00000000-0000-4000-8000-00000000abcd/start", Some(&stack.admin()), None)
        .await;
    assert_eq!(unknown.status, 404);
    let malformed = stack.call("POST", "/api/v2/servers/nope/start", Some(&stack.admin()), None).await;
    assert_eq!((malformed.status, malformed.error_code()), (400, "invalid_request"));
}

/// Regression (found under faults): a power action whose record write lost to a concurrent update left the record
/// `Running` forever while the provider had stopped the server.
#[tokio::test]
async fn a_power_action_racing_an_update_is_still_recorded() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let id = stack.settled_server("web").await;
    let path = format!("/api/v2/servers/{id}");
    stack.emulator.inject(Fault::delay("POST", NOVA_ACTIONS, 500));
    let stop = stack.spawn_call("POST", &format!("{path}/stop"), Some(&admin), None);
    tokio::time::sleep(Duration::from_millis(150)).await;
    let mut body = stack.server_body("web", &stack.network_id);
    body["metadata"]["description"] = json!("changed while stopping");
    body["spec"].as_object_mut().map(|s| s.remove("networkId"));
    let update = stack.call("PUT", &path, Some(&admin), Some(&body)).await;
    assert_eq!(update.status, 202, "{}", update.body);
    assert_eq!(stop.await.map(|r| r.status).ok(), Some(202));
    let shown = stack.call("GET", &path, Some(&admin), None).await;
    assert_eq!(shown.body["status"]["powerState"], "Stopped", "{}", shown.body);
    assert_eq!(shown.body["metadata"]["description"], "changed while stopping");
    assert_eq!(stack.violations().await, Vec::<String>::new());
}
