use std::time::Duration;

use integration_tests::stack::*;
use openstack_emulator::{seed, Delays, Fault};
use serde_json::json;

fn update(flavor: &str, image: &str) -> serde_json::Value {
    json!({"metadata": {"name": "web"}, "spec": {"flavorId": flavor, "imageId": image}})
}

/// A stack with one running server whose Nova actions take 300 ms, so their steps can be watched.
async fn resizing() -> (Stack, String) {
    let stack = Stack::start().await;
    let id = stack.server("web").await;
    let _ = stack.call("GET", &format!("/api/v2/servers/{id}"), Some(&stack.admin()), None).await;
    stack.emulator.set_delays(Delays { action_ms: 300, ..Delays::default() });
    (stack, id)
}

#[tokio::test]
async fn a_flavor_change_resizes_and_confirms_once_nova_asks() {
    let (stack, id) = resizing().await;
    let admin = stack.admin();
    let path = format!("/api/v2/servers/{id}");
    let reply = stack.call("PUT", &path, Some(&admin), Some(&update(seed::FLAVOR_LARGE, seed::IMAGE_UBUNTU))).await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    assert_eq!(reply.body["spec"]["flavorId"], seed::FLAVOR_LARGE);
    assert_eq!(stack.emulator.counter("action resize"), 1);
    let sent = stack.emulator.requests().into_iter().filter_map(|r| r.body).find(|b| b.get("resize").is_some());
    assert_eq!(sent.map(|b| b["resize"]["flavorRef"].clone()), Some(json!(seed::FLAVOR_LARGE)));
    let nova_id = stack.emulator.servers().into_iter().next().map(|s| s.0).unwrap_or_default();
    assert_eq!(stack.emulator.server_status(&nova_id).as_deref(), Some("RESIZE"));

    let _ = stack.call("GET", &path, Some(&admin), None).await;
    assert_eq!(stack.emulator.counter("action confirmResize"), 0, "nothing to confirm yet");
    tokio::time::sleep(std::time::Duration::from_millis(350)).await;
    let settled = stack.call("GET", &path, Some(&admin), None).await;
    assert_eq!(stack.emulator.counter("action confirmResize"), 1, "confirmed when Nova reached VERIFY_RESIZE");
    assert_eq!(stack.emulator.server_status(&nova_id).as_deref(), Some("ACTIVE"));
    let after = stack.call("GET", &path, Some(&admin), None).await;
    assert_eq!(after.body["status"]["powerState"], "Running", "{}", settled.body);
    assert_eq!(stack.emulator.counter("action confirmResize"), 1, "confirmed once");
}

#[tokio::test]
async fn an_image_change_rebuilds() {
    let (stack, id) = resizing().await;
    let admin = stack.admin();
    let path = format!("/api/v2/servers/{id}");
    let reply = stack.call("PUT", &path, Some(&admin), Some(&update(seed::FLAVOR_LARGE, seed::IMAGE_UBUNTU))).await;
    assert_eq!(reply.status, 202);
    tokio::time::sleep(std::time::Duration::from_millis(350)).await;
    let _ = stack.call("GET", &path, Some(&admin), None).await;
    let reply = stack.call("PUT", &path, Some(&admin), Some(&update(seed::FLAVOR_LARGE, seed::IMAGE_LARGE))).await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    assert_eq!(stack.emulator.counter("action rebuild"), 1);
    let nova_id = stack.emulator.servers().into_iter().next().map(|s| s.0).unwrap_or_default();
    assert_eq!(stack.emulator.server_status(&nova_id).as_deref(), Some("REBUILD"));
    tokio::time::sleep(std::time::Duration::from_millis(350)).await;
    let shown = stack.call("GET", &path, Some(&admin), None).await;
    assert_eq!(shown.body["spec"]["imageId"], seed::IMAGE_LARGE);
    assert_eq!(shown.body["status"]["powerState"], "Running");
}

#[tokio::test]
async fn provider_refusals_of_resize_and_rebuild_are_translated() {
    let stack = Stack::start().await;
    let id = stack.server("web").await;
    let admin = stack.admin();
    let path = format!("/api/v2/servers/{id}");
    let both = stack.call("PUT", &path, Some(&admin), Some(&update(seed::FLAVOR_LARGE, seed::IMAGE_LARGE))).await;
    assert_eq!((both.status, both.error_code()), (422, "unprocessable_content"));
    let _ = stack.call("GET", &path, Some(&admin), None).await;
    stack.emulator.set_delays(Delays { action_ms: 60_000, ..Delays::default() });
    assert_eq!(stack.call("POST", &format!("{path}/stop"), Some(&admin), None).await.status, 202);
    let busy = stack.call("PUT", &path, Some(&admin), Some(&update(seed::FLAVOR_LARGE, seed::IMAGE_UBUNTU))).await;
    assert_eq!((busy.status, busy.error_code()), (400, "invalid_request"), "{}", busy.body);
    assert!(busy.description().contains("cannot be resized"));
    let stored = stack.stored(&format!("SERVER#{id}"), "SERVER").await.unwrap_or_default();
    assert_eq!(stored["flavorId"], seed::FLAVOR_SMALL, "a refused resize changes nothing");
}

/// Regression (found under faults): a resize whose record write lost left Nova waiting in VERIFY_RESIZE forever.
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
