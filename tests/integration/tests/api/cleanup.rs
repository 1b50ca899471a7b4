//! The cleanup function's duties, end to end through the local API: sync with changes made at the
//! provider, deletions, cascades, races with creates, idempotent creates and stale claims.

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use integration_tests::stack::*;
use openstack_emulator::Delays;
use serde_json::{json, Value};

fn by_id(list: &Value) -> std::collections::BTreeMap<String, Value> {
    list.as_array()
        .map(|a| a.iter().map(|s| (s["metadata"]["id"].as_str().unwrap_or_default().to_owned(), s.clone())).collect())
        .unwrap_or_default()
}

/// A server stopped, started, failed or deleted directly at the provider is reflected by list after
/// one run (list itself never calls the provider).
#[tokio::test]
async fn list_reflects_changes_made_at_the_provider_after_one_run() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let stopped = stack.settled_server("stopped").await;
    let failed = stack.settled_server("failed").await;
    let vanished = stack.settled_server("vanished").await;
    let started = stack.settled_server("started").await;
    assert_eq!(stack.call("POST", &format!("/api/v2/servers/{started}/stop"), Some(&admin), None).await.status, 202);
    assert_eq!(stack.converge(300, 1).await, Ok(1));
    let pid = |id: &str| stack.provider_id(id).unwrap_or_default();
    assert!(stack.emulator.set_server_state(&pid(&stopped), "stopped", None));
    assert!(stack.emulator.set_server_state(&pid(&failed), "error", Some("No valid host was found.")));
    assert!(stack.emulator.vanish_server(&pid(&vanished)));
    assert!(stack.emulator.set_server_state(&pid(&started), "active", None));

    let before = by_id(&stack.call("GET", "/api/v2/servers", Some(&admin), None).await.body);
    assert_eq!(before[&stopped]["status"]["powerState"], "Running", "list serves the stored state");
    let report = stack.cleanup(300).await;
    assert_eq!((report.records_written, report.records_removed), (3, 1), "{report:?}");
    let after = by_id(&stack.call("GET", "/api/v2/servers", Some(&admin), None).await.body);
    assert_eq!(after[&stopped]["status"]["powerState"], "Stopped");
    assert_eq!(after[&started]["status"]["powerState"], "Running");
    assert_eq!(after[&failed]["metadata"]["provisioningStatus"], "error");
    assert_eq!(after[&failed]["metadata"]["healthStatus"], "degraded");
    assert!(!after.contains_key(&vanished), "a server deleted at the provider is gone from the list");
    let stored = stack.stored(&format!("SERVER#{failed}"), "SERVER").await.unwrap_or_default();
    assert_eq!(stored["providerFault"], "No valid host was found.", "Nova's fault message is kept");
    assert_eq!(stack.create_server(&admin, "vanished").await.status, 201, "its name is free");
    assert_eq!(stack.converge(300, 1).await, Ok(1));
}

/// Regression (found against real Nova): PAUSED, SUSPENDED, SHELVED_OFFLOADED and RESCUE (set by
/// an operator) stayed provisioned, healthy and running through any number of cleanup runs.
#[tokio::test]
async fn servers_paused_suspended_shelved_or_rescued_at_the_provider_are_reflected_and_announced() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let cases =
        [("paused", "Stopped"), ("suspended", "Stopped"), ("shelved_offloaded", "Stopped"), ("rescued", "Running")];
    let mut ids = Vec::new();
    for (state, _) in cases {
        ids.push(stack.settled_server(state).await);
    }
    assert_eq!(stack.converge(300, 1).await, Ok(1));
    for ((state, _), id) in cases.iter().zip(&ids) {
        assert!(stack.emulator.set_server_state(&stack.provider_id(id).unwrap_or_default(), state, None));
    }
    let report = stack.cleanup(300).await;
    assert_eq!(report.records_written, cases.len(), "{report:?}");
    let listed = by_id(&stack.call("GET", "/api/v2/servers", Some(&admin), None).await.body);
    for ((state, power), id) in cases.iter().zip(&ids) {
        let server = &listed[id];
        assert_eq!(server["status"]["powerState"], *power, "{state}: {server}");
        assert_eq!(server["metadata"]["healthStatus"], "degraded", "{state}: {server}");
        assert_eq!(server["metadata"]["provisioningStatus"], "provisioned", "{state}");
    }
    let stored = stack.stored(&format!("SERVER#{}", ids[0]), "SERVER").await.unwrap_or_default();
    assert_eq!(stored["providerFault"], "the server is paused at the provider");
    assert_eq!(report.events_published, 3, "running -> stopped announced for the three held ones: {report:?}");
    assert_eq!(stack.converge(300, 1).await, Ok(1), "the invariants hold: power is Nova's");
}

/// 50 concurrent creates of one name while the cleanup function runs over and over: one server,
/// in both places.
#[tokio::test]
async fn fifty_concurrent_creates_while_cleanup_runs_give_one_server() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    stack.emulator.set_delays(Delays { build_ms: 200, ..Delays::default() });
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sweeping = {
        let done = done.clone();
        let stack = &stack;
        async move {
            let mut runs = 0;
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                stack.cleanup(5).await;
                runs += 1;
            }
            runs
        }
    };
    let creating = async {
        let replies = futures::future::join_all((0..50).map(|_| stack.create_server(&admin, "race"))).await;
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        replies
    };
    let (replies, runs) = futures::future::join(creating, sweeping).await;
    let created = replies.iter().filter(|r| r.status == 201).count();
    let conflicts = replies.iter().filter(|r| r.status == 409).count();
    println!("50 creates with {runs} concurrent cleanup runs: {created} created, {conflicts} conflicts");
    assert_eq!((created, conflicts), (1, 49));
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert!(stack.converge(5, 3).await.is_ok());
    assert_eq!(stack.emulator.servers().len(), 1);
}

/// Delete then an immediate re-create of the same name: 409 until the provider server is gone,
/// then 201.
#[tokio::test]
async fn a_name_is_taken_until_its_server_is_gone_at_the_provider() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let id = stack.settled_server("web").await;
    // Long enough that a loaded machine still runs the first cleanup pass inside it.
    stack.emulator.set_delays(Delays { delete_ms: 2000, ..Delays::default() });
    assert_eq!(stack.call("DELETE", &format!("/api/v2/servers/{id}"), Some(&admin), None).await.status, 202);
    assert_eq!(stack.create_server(&admin, "web").await.status, 409);
    stack.cleanup(300).await;
    assert_eq!(stack.create_server(&admin, "web").await.status, 409, "still deleting at the provider");
    tokio::time::sleep(Duration::from_millis(2050)).await;
    let report = stack.cleanup(300).await;
    assert_eq!(report.records_removed, 1, "{report:?}");
    assert_eq!(stack.create_server(&admin, "web").await.status, 201);
}

/// Deleting a v1 network with 20 servers cascades (Unikorn's foreground delete): all gone at the
/// provider and in the table after at most three runs, and the network goes with its last server.
#[tokio::test]
async fn deleting_a_v1_network_with_twenty_servers_cascades() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let home = stack.v1_home(&admin, ORG, PROJECT).await;
    for i in 0..20 {
        let reply = stack.create_v1_server(&admin, &home, &format!("web-{i}")).await;
        assert_eq!(reply.status, 201, "{}", reply.body);
    }
    let survivor = stack.server("survivor").await;
    let path = format!("{}/networks/{}", home.path, home.network_id);
    assert_eq!(stack.call("DELETE", &path, Some(&admin), None).await.status, 202);
    let shown = stack.call("GET", &path, Some(&admin), None).await;
    assert_eq!(shown.body["metadata"]["provisioningStatus"], "deprovisioning", "{}", shown.body);
    let refused = stack.create_v1_server(&admin, &home, "late").await;
    assert_eq!((refused.status, refused.error_code()), (409, "conflict"), "no new servers on a deleting network");
    let mut runs = 0;
    while stack.call("GET", &path, Some(&admin), None).await.status != 404 {
        runs += 1;
        assert!(runs <= 3, "the network is still there after three runs");
        stack.cleanup(300).await;
    }
    println!("network with 20 servers deleted after {runs} cleanup run(s)");
    assert_eq!(stack.emulator.servers().len(), 1, "only the other network's server is left");
    assert_eq!(stack.violations().await, Vec::<String>::new());
    let list = stack.call("GET", "/api/v2/servers", Some(&admin), None).await;
    let ids: Vec<&str> =
        list.body.as_array().into_iter().flatten().filter_map(|s| s["metadata"]["id"].as_str()).collect();
    assert_eq!(ids, vec![survivor.as_str()]);
}

/// 10 identical keyed creates in parallel: one provider server and ten identical responses; the
/// key with another body is 422.
#[tokio::test]
async fn ten_identical_keyed_creates_give_one_server_and_one_answer() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let body = stack.server_body("keyed", &stack.network_id);
    let send = |body: Value| {
        let request =
            stack.request("POST", "/api/v2/servers", Some(&admin), Some(&body)).header("idempotency-key", "k-1");
        stack.send(request)
    };
    let replies = futures::future::join_all((0..10).map(|_| send(body.clone()))).await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    assert!(replies.iter().all(|r| r.body == replies[0].body && r.header("etag") == replies[0].header("etag")));
    assert_eq!(stack.nova_creates(), 1);
    let again = send(body.clone()).await;
    assert_eq!((again.status, &again.body), (201, &replies[0].body), "a later retry gets the first answer");
    let mut other = body.clone();
    other["metadata"]["name"] = json!("other");
    let reply = send(other).await;
    assert_eq!((reply.status, reply.error_code()), (422, "unprocessable_content"));
    let bad = stack
        .send(stack.request("POST", "/api/v2/servers", Some(&admin), Some(&body)).header("idempotency-key", ""))
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(stack.nova_creates(), 1);
}

/// A name claim whose record is gone (left by older code, or by hand) is released: by the cleanup
/// function, and by a create that needs the name.
#[tokio::test]
async fn stale_claims_are_released() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    for name in ["ghost-a", "ghost-b"] {
        let item = [
            ("PK", format!("CLAIM#{}#{name}", stack.network_id)),
            ("SK", "CLAIM".into()),
            ("serverId", format!("gone-{name}")),
            ("networkId", stack.network_id.clone()),
            ("name", name.into()),
            ("GSI3PK", "ATTENTION".into()),
            ("GSI3SK", format!("CLAIM#2020-01-01T00:00:00.000Z#{}#{name}", stack.network_id)),
        ];
        let mut put = stack.dynamo.put_item().table_name(&stack.table);
        for (k, v) in item {
            put = put.item(k, AttributeValue::S(v));
        }
        put.send().await.unwrap_or_else(|e| panic!("{e}"));
    }
    assert_eq!(stack.create_server(&admin, "ghost-a").await.status, 201, "a create releases a stale claim");
    let report = stack.cleanup(300).await;
    assert_eq!((report.claims_checked, report.claims_released), (1, 1), "{report:?}");
    assert!(stack.stored(&format!("CLAIM#{}#ghost-b", stack.network_id), "CLAIM").await.is_none());
    assert_eq!(stack.create_server(&admin, "ghost-b").await.status, 201);
}
