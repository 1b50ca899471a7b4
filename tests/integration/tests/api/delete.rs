use integration_tests::stack::*;
use openstack_emulator::{Delays, Fault};

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
