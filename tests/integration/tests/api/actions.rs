//! Per-server action history (`/api/v2/servers/{id}/actions`): every mutating call records an
//! action, sync completes it, errors carry Nova's message, and the history outlives the server.

use integration_tests::stack::*;
use openstack_emulator::{seed, Fault};
use serde_json::{json, Value};

fn summary(actions: &[Value]) -> Vec<(String, String)> {
    actions
        .iter()
        .map(|a| (a["command"].as_str().unwrap_or("?").to_owned(), a["status"].as_str().unwrap_or("?").to_owned()))
        .collect()
}

fn owned(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(c, s)| ((*c).to_owned(), (*s).to_owned())).collect()
}

#[tokio::test]
async fn every_verb_records_an_action_that_sync_completes_and_the_history_outlives_the_server() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let id = stack.server("web").await;
    let path = format!("/api/v2/servers/{id}");
    let first = stack.actions(&id).await;
    assert_eq!(summary(&first), owned(&[("create_server", "running")]), "{first:?}");
    assert_eq!(first[0]["subject"], "admin");
    assert!(first[0]["providerRequestId"].as_str().is_some_and(|r| r.starts_with("req-")), "{}", first[0]);
    stack.cleanup(0).await;
    assert_eq!(summary(&stack.actions(&id).await), owned(&[("create_server", "success")]), "sync saw ACTIVE");

    let update = |flavor: &str, image: &str| json!({"metadata": {"name": "web"}, "spec": {"flavorId": flavor, "imageId": image}});
    let steps: Vec<(&str, &str, Option<Value>)> = vec![
        ("POST", "stop", None),
        ("POST", "start", None),
        ("POST", "softreboot", None),
        ("POST", "hardreboot", None),
        ("PUT", "", Some(update(seed::FLAVOR_LARGE, seed::IMAGE_UBUNTU))),
        ("PUT", "", Some(update(seed::FLAVOR_LARGE, seed::IMAGE_LARGE))),
    ];
    for (method, verb, body) in steps {
        let target = if verb.is_empty() { path.clone() } else { format!("{path}/{verb}") };
        let reply = stack.call(method, &target, Some(&admin), body.as_ref()).await;
        assert_eq!(reply.status, 202, "{method} {verb}: {}", reply.body);
        let running = stack.actions(&id).await;
        assert_eq!(running[0]["status"], "running", "{verb}: {}", running[0]);
        // Sync completes it when it sees the target state (a resize also confirms first).
        for _ in 0..3 {
            stack.cleanup(0).await;
        }
        let done = stack.actions(&id).await;
        assert_eq!(done[0]["status"], "success", "{method} {verb}: {}", done[0]);
        assert!(done[0]["finished"].is_string() && done[0]["providerRequestId"].is_string(), "{}", done[0]);
    }
    let snapshot = stack
        .call("POST", &format!("{path}/snapshot"), Some(&admin), Some(&json!({"metadata": {"name": "snap"}})))
        .await;
    assert_eq!(snapshot.status, 201, "{}", snapshot.body);
    assert_eq!(stack.call("DELETE", &path, Some(&admin), None).await.status, 202);
    stack.cleanup(0).await;
    assert_eq!(stack.call("GET", &path, Some(&admin), None).await.status, 404, "the server is gone");

    let history = stack.actions(&id).await;
    println!("action list of {id}:\n{}", serde_json::to_string_pretty(&history).unwrap_or_default());
    assert_eq!(
        summary(&history),
        owned(&[
            ("delete_server", "success"),
            ("create_image", "success"),
            ("rebuild", "success"),
            ("resize", "success"),
            ("hard_reboot", "success"),
            ("soft_reboot", "success"),
            ("start_server", "success"),
            ("stop_server", "success"),
            ("create_server", "success"),
        ]),
        "newest first, readable after the server is gone"
    );
    let ids: Vec<&str> = history.iter().filter_map(|a| a["id"].as_str()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "ids sort newest first: {ids:?}");

    let one = stack.call("GET", &format!("{path}/actions/{}", ids[3]), Some(&admin), None).await;
    assert_eq!((one.status, one.body["command"].clone()), (200, json!("resize")), "{}", one.body);
    let reader = stack.token("reader", &project_acl(ORG, PROJECT, &[("region:servers", &["read"])]));
    assert_eq!(stack.call("GET", &format!("{path}/actions"), Some(&reader), None).await.status, 200);
    let stranger = stack.token("stranger", &project_acl(ORG, PROJECT_B, &[("region:servers", ALL)]));
    assert_eq!(stack.call("GET", &format!("{path}/actions"), Some(&stranger), None).await.status, 404);
    let filtered = stack.call("GET", &format!("{path}/actions?status=error"), Some(&admin), None).await;
    assert_eq!((filtered.status, filtered.body.clone()), (200, json!([])));
    let bad = stack.call("GET", &format!("{path}/actions?status=done"), Some(&admin), None).await;
    assert_eq!((bad.status, bad.error_code()), (400, "invalid_request"));
    let unknown =
        stack.call("GET", &format!("{path}/actions/5b8d2c1e-3f4a-4e6b-9c7d-000000000000"), Some(&admin), None).await;
    assert_eq!(unknown.status, 404);
    let never = "/api/v2/servers/5b8d2c1e-3f4a-4e6b-9c7d-000000000000/actions";
    assert_eq!(stack.call("GET", never, Some(&admin), None).await.status, 404, "no server, no history");
}

#[tokio::test]
async fn failures_carry_novas_message_and_what_the_provider_does_alone_is_recorded() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    // A refused call ends its action at once, with Nova's own fault text.
    let id = stack.settled_server("web").await;
    stack.emulator.inject(Fault::status("POST", "/compute/v2.1/servers/*/action", 409));
    let reply = stack.call("POST", &format!("/api/v2/servers/{id}/stop"), Some(&admin), None).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    let refused = stack.actions(&id).await;
    assert_eq!((refused[0]["command"].clone(), refused[0]["status"].clone()), (json!("stop_server"), json!("error")));
    assert_eq!(refused[0]["error"]["code"], "provider_conflict");
    assert_eq!(refused[0]["error"]["message"], "injected fault 409", "Nova's message: {}", refused[0]);

    // A create Nova puts into error fails with the fault Nova reports (a fault that is not about
    // capacity: those are placed again, see capacity.rs).
    let failing = stack.server("doomed").await;
    let pid = stack.provider_id(&failing).unwrap_or_default();
    assert!(stack.emulator.set_server_state(
        &pid,
        "error",
        Some("Build of instance aborted: Failure prepping block device.")
    ));
    stack.cleanup(0).await;
    let failed = stack.actions(&failing).await;
    assert_eq!(summary(&failed), owned(&[("create_server", "error")]), "{failed:?}");
    assert_eq!(failed[0]["error"]["code"], "provider_fault");
    assert!(
        failed[0]["error"]["message"].as_str().is_some_and(|m| m.contains("Failure prepping block device")),
        "{}",
        failed[0]
    );

    // The provider stopping a server by itself, and a server vanishing, are provider changes.
    let pid = stack.provider_id(&id).unwrap_or_default();
    assert!(stack.emulator.set_server_state(&pid, "stopped", None));
    stack.cleanup(0).await;
    let changed = stack.actions(&id).await;
    assert_eq!(
        (changed[0]["command"].clone(), changed[0]["subject"].clone()),
        (json!("provider_change"), json!("cleanup"))
    );
    assert!(stack.emulator.vanish_server(&pid));
    stack.cleanup(0).await;
    let vanished = stack.actions(&id).await;
    assert_eq!(summary(&vanished[..1]), owned(&[("provider_change", "success")]), "{vanished:?}");

    // A provider server of ours without a record is deleted, and that is recorded under its id.
    let orphan_id = "7d2c4e1a-9b3f-4a6d-8e5c-00000000a0a0";
    let cred = stack.deps.regions.project_credential(REGION).unwrap_or_else(|e| panic!("{e}"));
    let create = shared::provider::ServerCreate {
        name: "orphan".into(),
        image_id: seed::IMAGE_UBUNTU.into(),
        flavor_id: seed::FLAVOR_SMALL.into(),
        attach: shared::provider::Attach::Network(openstack_emulator::seed::TENANT_NETWORK.into()),
        metadata: [
            ("unikorn:server:id".to_owned(), orphan_id.to_owned()),
            ("unikorn:organization:id".to_owned(), ORG.to_owned()),
            ("unikorn:project:id".to_owned(), PROJECT.to_owned()),
        ]
        .into(),
        user_data: None,
        key_name: None,
    };
    use shared::provider::Compute;
    stack.deps.provider.create_server(&cred, &create).await.unwrap_or_else(|e| panic!("{e}"));
    let report = stack.cleanup(0).await;
    assert_eq!(report.orphans_deleted, 1, "{report:?}");
    let orphan = stack.actions(orphan_id).await;
    assert_eq!(summary(&orphan), owned(&[("remove_orphan", "success")]), "{orphan:?}");
    assert!(orphan[0]["providerRequestId"].is_string(), "{}", orphan[0]);
    let stranger = stack.token("stranger", &project_acl(ORG, PROJECT_B, &[("region:servers", ALL)]));
    let hidden = stack.call("GET", &format!("/api/v2/servers/{orphan_id}/actions"), Some(&stranger), None).await;
    assert_eq!(hidden.status, 404, "visible only in the project its metadata named");
}
