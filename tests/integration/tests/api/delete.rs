use std::time::Duration;

use integration_tests::stack::*;
use openstack_emulator::{Delays, Fault};
use shared::store::NetworkStore;

const NOVA_DELETE: &str = "DELETE /compute/v2.1/servers/{id}";

#[tokio::test]
async fn delete_releases_the_name_only_when_the_provider_server_is_gone() {
    let stack = Stack::start().await;
    stack.emulator.set_delays(Delays { delete_ms: 400, ..Delays::default() });
    let admin = stack.admin();
    let id = stack.server("web").await;
    let path = format!("/api/v2/servers/{id}");
    let reply = stack.call("DELETE", &path, Some(&admin), None).await;
    assert_eq!((reply.status, reply.body.clone()), (202, serde_json::Value::Null));
    assert_eq!(stack.emulator.counter(NOVA_DELETE), 1, "Nova delete issued");

    let stored = stack.stored(&format!("SERVER#{id}"), "SERVER").await.unwrap_or_default();
    assert_eq!(stored["provisioningStatus"], "deprovisioning");
    assert!(stored["deletionTime"].is_string());
    let shown = stack.call("GET", &path, Some(&admin), None).await;
    assert_eq!(shown.body["metadata"]["provisioningStatus"], "deprovisioning");
    assert!(shown.body["metadata"]["deletionTime"].is_string());

    let early = stack.create_server(&admin, "web").await;
    assert_eq!(early.status, 409, "the dying server still holds its name: {}", early.body);
    assert_eq!(stack.nova_creates(), 1);

    tokio::time::sleep(std::time::Duration::from_millis(450)).await;
    let later = stack.create_server(&admin, "web").await;
    assert_eq!(later.status, 201, "the name is free once Nova is done: {}", later.body);
    assert_eq!(stack.call("GET", &path, Some(&admin), None).await.status, 404);
    assert!(stack.stored(&format!("SERVER#{id}"), "SERVER").await.is_none());
}

#[tokio::test]
async fn a_server_gone_at_once_is_removed_at_once() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let id = stack.server("quick").await;
    let before = stack.item_count().await;
    assert_eq!(stack.call("DELETE", &format!("/api/v2/servers/{id}"), Some(&admin), None).await.status, 202);
    assert_eq!(stack.item_count().await, before - 2, "record and claim removed");
    assert_eq!(stack.call("GET", &format!("/api/v2/servers/{id}"), Some(&admin), None).await.status, 404);
    assert!(stack.emulator.servers().is_empty());
}

#[tokio::test]
async fn a_failed_provider_delete_is_503_and_can_be_retried() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let id = stack.server("sticky").await;
    stack.emulator.inject(Fault::status("DELETE", "/compute/v2.1/servers/*", 500));
    let path = format!("/api/v2/servers/{id}");
    let reply = stack.call("DELETE", &path, Some(&admin), None).await;
    assert_eq!((reply.status, reply.error_code()), (503, "server_error"));
    let stored = stack.stored(&format!("SERVER#{id}"), "SERVER").await.unwrap_or_default();
    assert_eq!(stored["provisioningStatus"], "deprovisioning", "the intent is recorded");
    assert_eq!(stack.call("DELETE", &path, Some(&admin), None).await.status, 202, "a retry finishes it");
    assert_eq!(stack.call("GET", &path, Some(&admin), None).await.status, 404);
}

#[tokio::test]
async fn a_server_already_gone_at_the_provider_is_deleted_cleanly() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let id = stack.server("vanished").await;
    let (nova_id, ..) = stack.emulator.servers().into_iter().next().unwrap_or_default();
    assert!(stack.emulator.vanish_server(&nova_id));
    assert_eq!(stack.call("DELETE", &format!("/api/v2/servers/{id}"), Some(&admin), None).await.status, 202);
    assert_eq!(stack.call("GET", &format!("/api/v2/servers/{id}"), Some(&admin), None).await.status, 404);
    assert_eq!(stack.create_server(&admin, "vanished").await.status, 201);
}

/// Regression (found under faults): a delete that arrives while the provider is still creating must not free the record
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

/// Regression (found under faults): every reader that sees a deletion finish used to uncount the server again.
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
    // The network still has a live server: it is in use (Unikorn's 403), and nothing changes.
    let network = format!("/api/v2/networks/{}", stack.network_id);
    assert_eq!(stack.call("DELETE", &network, Some(&admin), None).await.status, 403);
    assert_eq!(stack.call("GET", &format!("/api/v2/servers/{keep}"), Some(&admin), None).await.status, 200);
    assert!(stack.deps.store.get_network(&stack.network_id).await.ok().flatten().is_some());
}

/// Regression (found against real Nova): deleting a locked server answered 409, yet the record
/// stayed deprovisioning with a running action, every cleanup run re-issued the delete, and the
/// server was deleted once an operator unlocked it. A definite refusal undoes the intent.
#[tokio::test]
async fn a_delete_the_provider_refuses_is_undone_and_never_carried_out_later() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let id = stack.settled_server("web").await;
    let provider_id = stack.provider_id(&id).unwrap_or_default();
    stack.emulator.inject(Fault::status("DELETE", "/compute/v2.1/servers/*", 409));
    let reply = stack.call("DELETE", &format!("/api/v2/servers/{id}"), Some(&admin), None).await;
    assert_eq!((reply.status, reply.error_code()), (409, "conflict"), "{}", reply.body);
    assert!(reply.description().contains(&id), "{}", reply.description());
    assert!(!reply.description().contains(&provider_id), "our id, not Nova's: {}", reply.description());
    let shown = stack.call("GET", &format!("/api/v2/servers/{id}"), Some(&admin), None).await;
    assert_eq!(shown.body["metadata"]["provisioningStatus"], "provisioned", "{}", shown.body);
    let actions = stack.actions(&id).await;
    let delete = actions.iter().find(|a| a["command"] == "delete_server").cloned().unwrap_or_default();
    assert_eq!(delete["status"], "error", "{actions:?}");
    // The cleanup run leaves it: no delete is re-issued behind the caller's back.
    assert_eq!(stack.converge(0, 2).await, Ok(1));
    assert_eq!(stack.emulator.servers().len(), 1, "the server is still there");
}
