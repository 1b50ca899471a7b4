//! Regression tests for the consistency defects found under faults (issue 9), each reproduced
//! through the local API on moto and the emulator.

use std::time::Duration;

use integration_tests::stack::*;
use openstack_emulator::{Delays, Fault};
use serde_json::json;
use shared::store::NetworkStore;

const NOVA_ACTIONS: &str = "/compute/v2.1/servers/*/action";

/// Defect 1: a delete that arrives while the provider is still creating must not free the record
/// (and the name) while a provider server is on its way, nor may the create answer for a server
/// that no longer exists.
#[tokio::test]
async fn a_delete_during_a_slow_create_leaves_no_orphan() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    stack.emulator.inject(Fault::delay("POST", "/compute/v2.1/servers", 1200));
    let body = stack.server_body("web", &stack.network_id);
    let creating = stack.spawn_call("POST", "/api/v2/servers", Some(&admin), Some(&body));
    // Wait for the record (written before the provider is asked).
    let mut id = None;
    for _ in 0..100 {
        let found = stack.scan().await.into_iter().find_map(|item| {
            let pk = item.get("PK").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            pk.strip_prefix("SERVER#").map(str::to_owned)
        });
        if found.is_some() {
            id = found;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let id = id.unwrap_or_else(|| panic!("the create never wrote its record"));
    let deleted = stack.call("DELETE", &format!("/api/v2/servers/{id}"), Some(&admin), None).await;
    assert_eq!(deleted.status, 202, "{}", deleted.body);
    assert!(stack.stored(&format!("SERVER#{id}"), "SERVER").await.is_some(), "the record outlives a create in flight");
    assert_eq!(stack.create_server(&admin, "web").await.status, 409, "the name stays taken meanwhile");

    let created = creating.await.unwrap_or_else(|e| panic!("{e}"));
    let (status, body) = (created.status, created.body);
    assert!(
        status == 201 && body["metadata"]["provisioningStatus"] == "deprovisioning" || status == 409,
        "a create overtaken by a delete answers the server as being deleted, never as live: {status} {body}"
    );
    assert_eq!(stack.emulator.counter("DELETE /compute/v2.1/servers/{id}"), 1, "the create carried the delete out");
    assert_eq!(stack.converge(300, 3).await, Ok(1), "nothing left behind: no orphan, no record, no claim");
    assert_eq!(stack.create_server(&admin, "web").await.status, 201, "the name is free again");
}

/// Defect 2: every reader that sees a deletion finish used to uncount the server again.
#[tokio::test]
async fn concurrent_readers_uncount_a_finished_deletion_once() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let keep = stack.server("keep").await;
    let gone = stack.server("gone").await;
    stack.emulator.set_delays(Delays { delete_ms: 300, ..Delays::default() });
    assert_eq!(stack.call("DELETE", &format!("/api/v2/servers/{gone}"), Some(&admin), None).await.status, 202);
    tokio::time::sleep(Duration::from_millis(350)).await;
    let path = format!("/api/v2/servers/{gone}");
    let reads = futures::future::join_all((0..10).map(|_| stack.call("GET", &path, Some(&admin), None))).await;
    assert!(reads.iter().all(|r| r.status == 404), "{:?}", reads.iter().map(|r| r.status).collect::<Vec<_>>());
    let count = stack.deps.store.network_server_count(&stack.network_id).await.ok().flatten();
    assert_eq!(count, Some(1), "exactly the live server is counted");
    // The network still has a live server: deleting it only marks it (cascade), it is not gone.
    let network = format!("/api/v2/networks/{}", stack.network_id);
    assert_eq!(stack.call("DELETE", &network, Some(&admin), None).await.status, 202);
    assert_eq!(stack.call("GET", &format!("/api/v2/servers/{keep}"), Some(&admin), None).await.status, 200);
    assert!(stack.deps.store.get_network(&stack.network_id).await.ok().flatten().is_some());
}

/// Defect 3: a power action whose record write lost to a concurrent update left the record
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

/// Defect 4: a resize whose record write lost left Nova waiting in VERIFY_RESIZE forever.
#[tokio::test]
async fn a_resize_racing_an_update_is_completed() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let id = stack.settled_server("web").await;
    let path = format!("/api/v2/servers/{id}");
    stack.emulator.inject(Fault::delay("POST", NOVA_ACTIONS, 500));
    let mut resize = stack.server_body("web", &stack.network_id);
    resize["spec"].as_object_mut().map(|s| s.remove("networkId"));
    resize["spec"]["flavorId"] = json!(openstack_emulator::seed::FLAVOR_LARGE);
    let resizing = stack.spawn_call("PUT", &path, Some(&admin), Some(&resize));
    tokio::time::sleep(Duration::from_millis(150)).await;
    let mut describe = resize.clone();
    describe["metadata"]["description"] = json!("changed while resizing");
    let update = stack.call("PUT", &path, Some(&admin), Some(&describe)).await;
    assert_eq!(update.status, 202, "{}", update.body);
    assert_eq!(resizing.await.map(|r| r.status).ok(), Some(202));
    let runs = stack.converge(0, 3).await;
    assert!(runs.is_ok(), "{runs:?}");
    let pid = stack.provider_id(&id).unwrap_or_default();
    assert_eq!(stack.emulator.server_status(&pid).as_deref(), Some("ACTIVE"), "confirmed, not left in VERIFY_RESIZE");
    let shown = stack.call("GET", &path, Some(&admin), None).await;
    assert_eq!(shown.body["spec"]["flavorId"], openstack_emulator::seed::FLAVOR_LARGE);
    assert_eq!(shown.body["metadata"]["description"], "changed while resizing");
}

/// Defect 5: lists long enough to make DynamoDB refuse the item were a 500.
#[tokio::test]
async fn oversized_lists_are_refused_before_anything_is_written() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let before = stack.item_count().await;
    let groups: Vec<String> = (0..3000).map(|i| format!("group-{i}")).collect();
    let sources: Vec<String> = (0..45_000).map(|i| format!("10.{}.{}.0/24", i / 256 % 256, i % 256)).collect();
    for (field, value, name) in [
        ("securityGroups", json!(groups), "spec.networking.securityGroups"),
        ("allowedSourceAddresses", json!(sources), "spec.networking.allowedSourceAddresses"),
    ] {
        let mut body = stack.server_body("big", &stack.network_id);
        body["spec"]["networking"] = json!({ field: value });
        let reply = stack.call("POST", "/api/v2/servers", Some(&admin), Some(&body)).await;
        assert_eq!((reply.status, reply.error_code()), (400, "invalid_request"), "{field}");
        assert!(reply.description().starts_with(name), "{}", reply.description());
    }
    let id = stack.server("small").await;
    let after_create = stack.item_count().await;
    let mut body = stack.server_body("small", &stack.network_id);
    body["spec"].as_object_mut().map(|s| s.remove("networkId"));
    body["spec"]["networking"] = json!({"securityGroups": groups});
    let reply = stack.call("PUT", &format!("/api/v2/servers/{id}"), Some(&admin), Some(&body)).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(stack.nova_creates(), 1);
    assert_eq!(after_create, before + 2, "only the valid server was written");
}

/// Defect 6: an unreadable `If-Match` was treated as absent and the update applied unconditionally.
#[tokio::test]
async fn an_if_match_that_is_not_an_entity_tag_is_400_and_changes_nothing() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let id = stack.server("web").await;
    let path = format!("/api/v2/servers/{id}");
    let mut body = stack.server_body("web", &stack.network_id);
    body["spec"].as_object_mut().map(|s| s.remove("networkId"));
    body["metadata"]["description"] = json!("must not apply");
    let before = stack.stored(&format!("SERVER#{id}"), "SERVER").await.unwrap_or_default();
    for value in [&b"\"\xe9t\xe9\""[..], b"3", b"\"1\", 2"] {
        let header = reqwest::header::HeaderValue::from_bytes(value).unwrap_or_else(|e| panic!("{e}"));
        let request = stack.request("PUT", &path, Some(&admin), Some(&body)).header("if-match", header);
        let reply = stack.send(request).await;
        assert_eq!((reply.status, reply.error_code()), (400, "invalid_request"), "{value:?}: {}", reply.body);
        assert!(reply.description().starts_with("If-Match"), "{}", reply.description());
    }
    let after = stack.stored(&format!("SERVER#{id}"), "SERVER").await.unwrap_or_default();
    assert_eq!(before["version"], after["version"], "nothing was written");
}

/// Defect 7: a provider status outside the mapped set was a 500.
#[tokio::test]
async fn an_unexpected_provider_status_is_502_with_the_providers_message() {
    let stack = Stack::start().await;
    let id = stack.settled_server("web").await;
    stack.emulator.inject(Fault::status("POST", NOVA_ACTIONS, 418));
    let reply = stack.call("POST", &format!("/api/v2/servers/{id}/stop"), Some(&stack.admin()), None).await;
    assert_eq!((reply.status, reply.error_code()), (502, "server_error"), "{}", reply.body);
    assert!(
        reply.description().contains("418") && reply.description().contains("injected fault"),
        "{}",
        reply.description()
    );
}

/// Defect 8: unknown query parameters, too many filter values and huge page tokens.
#[tokio::test]
async fn query_parameters_are_bounded_and_unknown_ones_refused() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let id = stack.settled_server("web").await;
    let many: Vec<String> = (0..101).map(|i| format!("networkID=n{i}")).collect();
    let token = "A".repeat(10_000);
    for path in [
        format!("/api/v2/servers/{id}/consolesessions?verbose=1"),
        format!("/api/v2/servers/{id}/sshkey?format=pem"),
        format!("/api/v2/servers/{id}?x=1"),
        format!("/api/v2/servers?{}", many.join("&")),
        format!("/api/v2/servers?pageToken={token}"),
    ] {
        let reply = stack.call("GET", &path, Some(&admin), None).await;
        assert_eq!(
            (reply.status, reply.error_code()),
            (400, "invalid_request"),
            "{}: {}",
            &path[..60.min(path.len())],
            reply.body
        );
    }
    let hundred: Vec<String> = (0..100).map(|i| format!("networkID=n{i}")).collect();
    assert_eq!(
        stack.call("GET", &format!("/api/v2/servers?{}", hundred.join("&")), Some(&admin), None).await.status,
        200
    );
}
