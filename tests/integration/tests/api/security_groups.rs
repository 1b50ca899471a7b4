//! v2 security groups through the API: Unikorn's bodies, 201 `pending`, the worker's group at
//! Neutron in the network's project with the rules asked for (read back from the emulator's
//! Neutron), an update that replaces them, a delete, a network that takes its groups with it, a
//! bound network refused while it has groups, and bad input refused with nothing written.

use integration_tests::stack::*;
use serde_json::{json, Value};

const MISSING: &str = "00000000-0000-4000-8000-000000000000";

/// The rules Neutron holds for the group made for `id`, and its project.
fn neutron_rules(stack: &Stack, id: &str) -> Option<(String, Vec<String>)> {
    stack.at_neutron(id).into_iter().next()
}

fn body(network: &str, rules: Value) -> Value {
    json!({"metadata": {"name": "web"}, "spec": {"networkId": network, "rules": rules}})
}

#[tokio::test]
async fn a_group_is_made_in_its_networks_project_updated_and_removed() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let network = stack.provisioned_network(&admin, "made", PROJECT).await;
    let rules = json!([{"direction": "ingress", "protocol": "tcp", "port": 22},
        {"direction": "ingress", "protocol": "tcp", "port": 8000, "portMax": 8080, "prefix": "10.0.0.0/8"}]);
    let created =
        stack.call("POST", "/api/v2/securitygroups", Some(&admin), Some(&body(&network, rules.clone()))).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["metadata"]["provisioningStatus"], "pending");
    assert_eq!(created.body["spec"]["rules"], rules, "read back as asked");
    assert_eq!(created.body["status"], json!({"regionId": REGION, "networkId": network}));
    let id = created.id();
    stack.until_stage(&format!("/api/v2/securitygroups/{id}"), "provisioned").await;
    let (project, keys) = neutron_rules(&stack, &id).unwrap_or_else(|| panic!("no group at Neutron"));
    let network_project = stack
        .emulator
        .inventory()
        .networks
        .iter()
        .find(|n| n.name == format!("network-{network}"))
        .map(|n| n.project_id.clone());
    assert_eq!(Some(project), network_project, "in the network's project");
    assert_eq!(keys, vec!["ingress,tcp,22-22,0.0.0.0/0", "ingress,tcp,8000-8080,10.0.0.0/8"]);

    let listed = stack.call("GET", &format!("/api/v2/securitygroups?networkID={network}"), Some(&admin), None).await;
    assert_eq!(listed.body.as_array().map(Vec::len), Some(1), "{}", listed.body);
    let other = stack.call("GET", &format!("/api/v2/securitygroups?networkID={MISSING}"), Some(&admin), None).await;
    assert_eq!(other.body, json!([]));

    let update = json!({"metadata": {"name": "web"}, "spec": {"rules": [{"direction": "ingress", "protocol": "udp", "port": 53}]}});
    let path = format!("/api/v2/securitygroups/{id}");
    let changed = stack.call("PUT", &path, Some(&admin), Some(&update)).await;
    assert_eq!(changed.status, 202, "{}", changed.body);
    stack.until_stage(&format!("/api/v2/securitygroups/{id}"), "provisioned").await;
    assert_eq!(neutron_rules(&stack, &id).map(|(_, k)| k), Some(vec!["ingress,udp,53-53,0.0.0.0/0".to_owned()]));

    // A delete removes it at Neutron; a network takes the groups left on it with it.
    assert_eq!(stack.call("DELETE", &path, Some(&admin), None).await.status, 202);
    stack.until_stage(&format!("/api/v2/securitygroups/{id}"), "gone").await;
    assert!(neutron_rules(&stack, &id).is_none(), "removed at Neutron");
    let second = stack.call("POST", "/api/v2/securitygroups", Some(&admin), Some(&body(&network, json!([])))).await;
    stack.until_stage(&format!("/api/v2/securitygroups/{}", second.id()), "provisioned").await;
    assert_eq!(stack.call("DELETE", &format!("/api/v2/networks/{network}"), Some(&admin), None).await.status, 202);
    stack.network_stage(&network, "gone").await;
    let gone = stack.call("GET", &format!("/api/v2/securitygroups/{}", second.id()), Some(&admin), None).await;
    assert_eq!(gone.status, 404, "the network took its group: {}", gone.body);
    let left = stack.emulator.inventory();
    assert!(left.is_empty(), "nothing left at the cloud: {left:?}");
}

#[tokio::test]
async fn bad_groups_are_refused_with_nothing_written() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let network = stack.create_network(&admin, "bound", ORG, PROJECT).await;
    let items = stack.item_count().await;
    for (rules, says) in [
        (json!([{"direction": "sideways", "protocol": "tcp"}]), "spec.rules[0].direction"),
        (json!([{"direction": "ingress", "protocol": "sctp"}]), "spec.rules[0].protocol"),
        (json!([{"direction": "ingress", "protocol": "tcp", "port": 70000}]), "1 to 65535"),
        (json!([{"direction": "ingress", "protocol": "tcp", "port": 80, "portMax": 80}]), "start < end"),
        (json!([{"direction": "ingress", "protocol": "icmp", "port": 8}]), "layer 3 protocol"),
        (json!([{"direction": "ingress", "protocol": "tcp", "prefix": "10.0.0.1"}]), "spec.rules[0].prefix"),
        (json!([{"direction": "ingress", "protocol": "tcp", "cidr": "10.0.0.0/8"}]), "cidr"),
        (
            json!((0..101).map(|_| json!({"direction": "ingress", "protocol": "any"})).collect::<Vec<_>>()),
            "at most 100",
        ),
    ] {
        let reply =
            stack.call("POST", "/api/v2/securitygroups", Some(&admin), Some(&body(&network, rules.clone()))).await;
        assert_eq!((reply.status, reply.error_code()), (400, "invalid_request"), "{rules}: {}", reply.body);
        assert!(reply.description().contains(says), "{rules}: {}", reply.body);
    }
    let missing = stack.call("POST", "/api/v2/securitygroups", Some(&admin), Some(&body(MISSING, json!([])))).await;
    assert_eq!(missing.status, 404, "{}", missing.body);
    let reader = stack.token("r", &project_acl(ORG, PROJECT, &[("region:networks:v2", &["read"])]));
    let denied = stack.call("POST", "/api/v2/securitygroups", Some(&reader), Some(&body(&network, json!([])))).await;
    assert_eq!(denied.status, 403, "{}", denied.body);
    assert_eq!(stack.item_count().await, items, "nothing written");
    // A bound network's group lives in the region's project: the network is not deleted under it.
    let group = stack.call("POST", "/api/v2/securitygroups", Some(&admin), Some(&body(&network, json!([])))).await;
    assert_eq!(group.status, 201, "{}", group.body);
    stack.until_stage(&format!("/api/v2/securitygroups/{}", group.id()), "provisioned").await;
    let refused = stack.call("DELETE", &format!("/api/v2/networks/{network}"), Some(&admin), None).await;
    assert_eq!((refused.status, refused.description()), (403, "network is in use and cannot be deleted"));
    assert_eq!(
        stack.call("DELETE", &format!("/api/v2/securitygroups/{}", group.id()), Some(&admin), None).await.status,
        202
    );
    stack.until_stage(&format!("/api/v2/securitygroups/{}", group.id()), "gone").await;
    assert_eq!(stack.call("DELETE", &format!("/api/v2/networks/{network}"), Some(&admin), None).await.status, 202);
    assert!(stack.emulator.inventory().security_groups.is_empty(), "removed at Neutron");
}

/// A rule Neutron refuses leaves the group `error` with Neutron's reason recorded on it, never
/// `provisioned` with part of its rules; once Neutron takes the rule, the next run completes it.
#[tokio::test]
async fn a_rule_neutron_refuses_is_error_with_its_reason_never_a_partial_set() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    stack
        .emulator
        .inject(openstack_emulator::Fault::status("POST", "/network/v2.0/security-group-rules", 400).forever());
    let rules = json!([{"direction": "ingress", "protocol": "tcp", "port": 22},
        {"direction": "ingress", "protocol": "tcp", "port": 443}]);
    let created =
        stack.call("POST", "/api/v2/securitygroups", Some(&admin), Some(&body(&stack.network_id, rules))).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let path = format!("/api/v2/securitygroups/{}", created.id());
    stack.until_stage(&path, "error").await;
    let stored = stack.stored(&format!("SECGROUP#{}", created.id()), "SECGROUP").await.unwrap_or_default();
    let reason = stored["lifecycle"]["reason"].as_str().unwrap_or_default().to_owned();
    println!("recorded reason: {reason}");
    assert!(reason.contains("400"), "Neutron's refusal is on the group: {stored}");
    let (_, keys) = neutron_rules(&stack, &created.id()).unwrap_or_else(|| panic!("no group at Neutron"));
    assert!(keys.is_empty(), "no rule made: {keys:?}");
    stack.emulator.clear_faults();
    stack.settles_at(&path, "provisioned", "once Neutron takes the rules").await;
    let (_, keys) = neutron_rules(&stack, &created.id()).unwrap_or_else(|| panic!("no group at Neutron"));
    assert_eq!(keys, vec!["ingress,tcp,22-22,0.0.0.0/0", "ingress,tcp,443-443,0.0.0.0/0"]);
}
