//! Security groups converge without a human: a worker killed after Neutron made a group (before
//! its id was recorded) or removed it (before its record went), and a 503 or a lost answer at each
//! Neutron step of a create, an update and a delete, end with the group provisioned (one Neutron
//! group holding exactly its rules) or gone (none), read back from the emulator.

use integration_tests::stack::*;
use openstack_emulator::Fault;
use serde_json::{json, Value};
use shared::crash;

/// Every Neutron group made for `id`: its ingress rule keys each.
fn at_neutron(stack: &Stack, id: &str) -> Vec<Vec<String>> {
    stack.at_neutron(id).into_iter().map(|(_, keys)| keys).collect()
}

fn rules(ports: &[u16]) -> Value {
    Value::Array(ports.iter().map(|p| json!({"direction": "ingress", "protocol": "tcp", "port": p})).collect())
}

async fn create(stack: &Stack, ports: &[u16]) -> String {
    let body = json!({"metadata": {"name": "g"}, "spec": {"networkId": stack.network_id, "rules": rules(ports)}});
    let reply = stack.call("POST", "/api/v2/securitygroups", Some(&stack.admin()), Some(&body)).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    format!("/api/v2/securitygroups/{}", reply.id())
}

fn id_of(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or_default()
}

fn keys(ports: &[u16]) -> Vec<String> {
    let mut keys: Vec<String> = ports.iter().map(|p| format!("ingress,tcp,{p}-{p},0.0.0.0/0")).collect();
    keys.sort();
    keys
}

#[tokio::test]
async fn a_worker_killed_after_neutron_made_or_removed_a_group_leaves_one_cleanup_completes() {
    let stack = Stack::start().await;
    stack.deps.crash.arm(crash::GROUP_AFTER_CREATE);
    let path = create(&stack, &[22]).await;
    stack.reached(crash::GROUP_AFTER_CREATE).await;
    stack.settles_at(&path, "provisioned", crash::GROUP_AFTER_CREATE).await;
    assert_eq!(at_neutron(&stack, id_of(&path)), vec![keys(&[22])], "one group, found by name, not made twice");

    stack.deps.crash.arm(crash::GROUP_AFTER_DELETE);
    assert_eq!(stack.call("DELETE", &path, Some(&stack.admin()), None).await.status, 202);
    stack.reached(crash::GROUP_AFTER_DELETE).await;
    stack.settles_at(&path, "gone", crash::GROUP_AFTER_DELETE).await;
    assert!(at_neutron(&stack, id_of(&path)).is_empty(), "nothing left of it");
}

/// Each Neutron step of a create, an update and a delete answered 503, or its answer lost, once:
/// the group ends provisioned with exactly its rules in one Neutron group, or gone with none.
#[tokio::test]
async fn a_fault_or_a_lost_answer_at_any_neutron_step_ends_provisioned_or_gone_with_nothing_twice() {
    let stack = Stack::start().await;
    let faults = |method: &str, path: &str| {
        [("503", Fault::status(method, path, 503)), ("lost answer", Fault::dropped(method, path))]
    };
    let make = [
        ("POST", "/network/v2.0/security-groups"),
        ("GET", "/network/v2.0/security-group-rules"),
        ("POST", "/network/v2.0/security-group-rules"),
    ];
    let change = [
        ("GET", "/network/v2.0/security-group-rules"),
        ("DELETE", "/network/v2.0/security-group-rules/*"),
        ("POST", "/network/v2.0/security-group-rules"),
    ];
    let mut cases = 0;
    for (method, route) in make {
        for (kind, fault) in faults(method, route) {
            stack.emulator.inject(fault);
            let path = create(&stack, &[22, 80]).await;
            let label = format!("create: {kind} at {method} {route}");
            stack.until_stage(&path, "provisioned").await;
            stack.emulator.clear_faults();
            assert_eq!(at_neutron(&stack, id_of(&path)), vec![keys(&[22, 80])], "{label}");
            cases += 1;
        }
    }
    for (method, route) in change {
        for (kind, fault) in faults(method, route) {
            let path = create(&stack, &[22, 80]).await;
            stack.until_stage(&path, "provisioned").await;
            stack.emulator.inject(fault);
            let body = json!({"metadata": {"name": "g"}, "spec": {"rules": rules(&[22, 443])}});
            assert_eq!(stack.call("PUT", &path, Some(&stack.admin()), Some(&body)).await.status, 202);
            let label = format!("update: {kind} at {method} {route}");
            stack.until_stage(&path, "provisioned").await;
            stack.emulator.clear_faults();
            assert_eq!(at_neutron(&stack, id_of(&path)), vec![keys(&[22, 443])], "{label}");
            cases += 1;
        }
    }
    for (kind, fault) in faults("DELETE", "/network/v2.0/security-groups/*") {
        let path = create(&stack, &[22]).await;
        stack.until_stage(&path, "provisioned").await;
        stack.emulator.inject(fault);
        assert_eq!(stack.call("DELETE", &path, Some(&stack.admin()), None).await.status, 202);
        stack.until_stage(&path, "gone").await;
        stack.emulator.clear_faults();
        assert!(at_neutron(&stack, id_of(&path)).is_empty(), "delete: {kind}: nothing left");
        cases += 1;
    }
    println!("group fault matrix: {cases} cases converged, nothing made twice or left");
}
