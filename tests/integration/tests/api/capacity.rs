//! Quota and capacity answered as what they are: a create beyond the project's quota is 409
//! naming the quota and leaves nothing; a server the provider has no host for before it ever
//! booted is placed again by the cleanup function, at most three times, each attempt an action,
//! then is in error `capacity` with the provider's reason and an event carrying it; the
//! provider's rate limiting is backed off and then answered 503 with its `Retry-After`.

use integration_tests::neutron::NeutronApi;
use integration_tests::stack::{Stack, NOVA_CREATE};
use integration_tests::{action_outcomes, outcome, Outcome};
use openstack_emulator::state::Fault;
use openstack_emulator::ComputeQuota;
use serde_json::{json, Value};

/// A server created while the provider finds no host for the next `failures` creates, and the
/// cleanup passes after it: the server as then read, its actions (oldest first) and its events.
async fn placed_after(failures: u32) -> (Stack, Value, Vec<Outcome>, Vec<Value>) {
    let stack = Stack::start().await;
    stack.emulator.fail_next_creates(failures);
    let id = stack.server("tight").await;
    for _ in 0..6 {
        stack.cleanup(0).await;
    }
    let shown = stack.call("GET", &format!("/api/v2/servers/{id}"), Some(&stack.admin()), None).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    let actions = action_outcomes(&stack.actions(&id).await);
    let events = stack.delivered_events().await.into_iter().filter(|e| e["serverId"] == json!(id)).collect();
    (stack, shown.body, actions, events)
}

#[tokio::test]
async fn one_two_or_three_hosts_missing_in_a_row_end_running_on_one_server() {
    for failures in 1..=3u32 {
        let (stack, server, actions, events) = placed_after(failures).await;
        assert_eq!(
            (server["metadata"]["provisioningStatus"].clone(), server["status"]["powerState"].clone()),
            (json!("provisioned"), json!("Running")),
            "after {failures}: {server}"
        );
        let mut expected = vec![outcome("create_server", "error", "capacity")];
        for attempt in 1..=failures {
            let last = attempt == failures;
            expected.push(if last {
                outcome("reschedule", "success", "")
            } else {
                outcome("reschedule", "error", "capacity")
            });
        }
        assert_eq!(actions, expected, "after {failures}");
        assert_eq!(stack.emulator.counter(NOVA_CREATE), u64::from(failures) + 1, "one create per attempt");
        let id = server["metadata"]["id"].as_str().unwrap_or_default();
        let alive: Vec<_> = stack
            .emulator
            .servers()
            .into_iter()
            .filter(|(_, _, _, m)| m.get("unikorn:server:id").map(String::as_str) == Some(id))
            .collect();
        assert_eq!(alive.len(), 1, "the failed servers are gone: {alive:?}");
        assert_eq!(alive[0].2, "ACTIVE");
        let states: Vec<Value> = events.iter().map(|e| e["current"].clone()).collect();
        assert!(!states.contains(&json!("error")), "never announced in error while it is placed again: {states:?}");
    }
}

#[tokio::test]
async fn four_hosts_missing_in_a_row_leave_the_server_in_error_with_the_reason() {
    let (stack, server, actions, events) = placed_after(4).await;
    assert_eq!(server["metadata"]["provisioningStatus"], "error", "{server}");
    let mut expected = vec![outcome("create_server", "error", "capacity")];
    expected.extend((0..3).map(|_| outcome("reschedule", "error", "capacity")));
    assert_eq!(actions, expected);
    assert_eq!(stack.emulator.counter(NOVA_CREATE), 4, "the first create and three attempts, no more");
    let last = events.last().cloned().unwrap_or_default();
    assert_eq!((last["current"].clone(), last["reason"].clone()), (json!("error"), json!("capacity")), "{events:?}");
    let id = server["metadata"]["id"].as_str().unwrap_or_default();
    let failed = stack.call("GET", &format!("/api/v2/servers/{id}/actions"), Some(&stack.admin()), None).await;
    let message = failed.body[0]["error"]["message"].as_str().unwrap_or_default().to_owned();
    assert!(message.starts_with("No valid host was found"), "the provider's reason: {}", failed.body);
}

#[tokio::test]
async fn a_server_that_booted_once_is_never_placed_again() {
    let stack = Stack::start().await;
    let id = stack.settled_server("booted").await;
    let pid = stack.provider_id(&id).unwrap_or_default();
    assert!(stack.emulator.set_server_state(&pid, "error", Some("No valid host was found.")));
    for _ in 0..3 {
        stack.cleanup(0).await;
    }
    let shown = stack.call("GET", &format!("/api/v2/servers/{id}"), Some(&stack.admin()), None).await;
    assert_eq!(shown.body["metadata"]["provisioningStatus"], "error", "{}", shown.body);
    assert_eq!(stack.emulator.counter(NOVA_CREATE), 1, "no second create");
}

#[tokio::test]
async fn a_create_beyond_the_projects_quota_is_409_naming_it_and_leaves_nothing() {
    let stack = Stack::start().await;
    let project = stack.emulator.servers().first().map(|s| s.1.clone());
    let first = stack.server("one").await;
    let project = project.or_else(|| stack.emulator.servers().first().map(|s| s.1.clone())).unwrap_or_default();
    stack.emulator.set_quota(&project, ComputeQuota { instances: Some(1), ..ComputeQuota::default() });
    let items = stack.item_count().await;
    let refused = stack.create_server(&stack.admin(), "two").await;
    assert_eq!((refused.status, refused.error_code()), (409, "conflict"), "{}", refused.body);
    assert!(refused.description().contains("instances quota"), "{}", refused.description());
    assert!(refused.description().contains("Quota exceeded for instances"), "the provider's words kept");
    assert_eq!(stack.item_count().await, items, "no record, no claim");
    let neutron = NeutronApi::connect(&stack.emulator).await;
    let ports: Vec<Value> = neutron.ports().await.into_iter().filter(|p| p["name"] != json!(first)).collect();
    assert!(ports.iter().all(|p| p["name"].as_str().is_none_or(|n| n.len() != 36)), "its port is released: {ports:?}");
    // Cores and ram the same way.
    stack.emulator.set_quota(&project, ComputeQuota { ram: Some(1), ..ComputeQuota::default() });
    let refused = stack.create_server(&stack.admin(), "three").await;
    assert!(refused.status == 409 && refused.description().contains("ram quota"), "{}", refused.body);
}

#[tokio::test]
async fn the_providers_rate_limit_is_backed_off_then_answered_503_with_its_wait() {
    let stack = Stack::start().await;
    // One 429 with a short wait: backed off and sent again, the caller never sees it.
    stack.emulator.inject(Fault::throttled("POST", "/compute/v2.1/servers", 1));
    let started = std::time::Instant::now();
    let created = stack.create_server(&stack.admin(), "patient").await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert!(started.elapsed() >= std::time::Duration::from_millis(900), "it waited the provider's second");
    assert_eq!(stack.emulator.counter(NOVA_CREATE), 2);
    // Still limited after the retries: 503 with the provider's wait, and no server left behind.
    let mut fault = Fault::throttled("POST", "/compute/v2.1/servers", 1);
    fault.effect.count = 3;
    stack.emulator.inject(fault);
    let items = stack.item_count().await;
    let refused = stack.create_server(&stack.admin(), "impatient").await;
    assert_eq!((refused.status, refused.error_code()), (503, "server_error"), "{}", refused.body);
    assert_eq!(refused.header("retry-after").as_deref(), Some("1"));
    assert_eq!(stack.emulator.counter(NOVA_CREATE), 5, "three sends, not a tight loop");
    assert_eq!(stack.item_count().await, items, "nothing left behind");
    // A provider asking for longer than the adapter waits is answered at once.
    stack.emulator.inject(Fault::throttled("POST", "/compute/v2.1/servers", 30));
    let refused = stack.create_server(&stack.admin(), "later").await;
    assert_eq!((refused.status, refused.header("retry-after").as_deref()), (503, Some("30")));
    assert_eq!(stack.emulator.counter(NOVA_CREATE), 6);
}

#[tokio::test]
async fn a_placement_the_quota_refuses_ends_in_error_quota() {
    let stack = Stack::start().await;
    stack.emulator.fail_next_creates(1);
    let id = stack.server("squeezed").await;
    let project = stack.emulator.servers().first().map(|s| s.1.clone()).unwrap_or_default();
    stack.emulator.set_quota(&project, ComputeQuota { instances: Some(0), ..ComputeQuota::default() });
    for _ in 0..3 {
        stack.cleanup(0).await;
    }
    let shown = stack.call("GET", &format!("/api/v2/servers/{id}"), Some(&stack.admin()), None).await;
    assert_eq!(shown.body["metadata"]["provisioningStatus"], "error", "{}", shown.body);
    let actions = stack.actions(&id).await;
    assert_eq!(
        (actions[0]["command"].clone(), actions[0]["error"]["code"].clone()),
        (json!("reschedule"), json!("quota"))
    );
    assert_eq!(stack.emulator.counter(NOVA_CREATE), 2, "refused once, not asked again");
    let events = stack.delivered_events().await;
    let last = events.iter().rev().find(|e| e["serverId"] == json!(id)).cloned().unwrap_or_default();
    assert_eq!((last["current"].clone(), last["reason"].clone()), (json!("error"), json!("quota")), "{events:?}");
    // Its owner deletes it like any other.
    let deleted = stack.call("DELETE", &format!("/api/v2/servers/{id}"), Some(&stack.admin()), None).await;
    assert!(deleted.status < 300, "{}", deleted.body);
    stack.cleanup(0).await;
    let gone = stack.call("GET", &format!("/api/v2/servers/{id}"), Some(&stack.admin()), None).await;
    assert_eq!(gone.status, 404, "{}", gone.body);
}
