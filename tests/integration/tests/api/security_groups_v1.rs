//! v1 security groups through the API: Unikorn's `securityGroupWrite` under an identity, made by
//! the worker in the identity's project, named by the identity's servers (their ports carry it),
//! listed across the organization with v2's, deleted in the foreground (it waits for the servers
//! naming it), taken with its identity, and bad rules refused with nothing written.

use integration_tests::stack::*;
use serde_json::{json, Value};

fn write(rules: Value) -> Value {
    json!({"metadata": {"name": "web"}, "spec": {"rules": rules}})
}

/// The ingress rule keys Neutron holds for the group made for `id`, and its project.
fn at_neutron(stack: &Stack, id: &str) -> Option<(String, Vec<String>)> {
    stack.at_neutron(id).into_iter().next()
}

fn server_naming(stack: &Stack, home: &V1Home, name: &str, group: &str) -> Value {
    let mut body = stack.v1_server_body(name, &home.network_id);
    body["spec"]["securityGroups"] = json!([{"id": group}]);
    body
}

#[tokio::test]
async fn a_v1_group_is_made_in_its_identitys_project_named_by_its_servers_and_deleted_in_the_foreground() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let home = stack.v1_provisioned_home(&admin, ORG, PROJECT).await;
    let rules = json!([{"direction": "ingress", "protocol": "tcp", "port": {"number": 22}},
        {"direction": "ingress", "protocol": "tcp", "port": {"range": {"start": 8000, "end": 8080}}, "cidr": "10.0.0.0/8"}]);
    let groups = format!("{}/securitygroups", home.path);
    let created = stack.call("POST", &groups, Some(&admin), Some(&write(rules.clone()))).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["metadata"]["provisioningStatus"], "pending");
    assert_eq!(created.body["spec"]["rules"], rules, "read back as written");
    assert!(created.body.get("status").is_none(), "v1 reads have no status: {}", created.body);
    let id = created.id();
    let path = format!("{groups}/{id}");
    stack.until_stage(&path, "provisioned").await;
    let project =
        stack.call("GET", &home.path, Some(&admin), None).await.body["spec"]["openstack"]["projectId"].clone();
    let (made_in, keys) = at_neutron(&stack, &id).unwrap_or_else(|| panic!("no group at Neutron"));
    assert_eq!(json!(made_in), project, "in the identity's project");
    assert_eq!(keys, vec!["ingress,tcp,22-22,0.0.0.0/0", "ingress,tcp,8000-8080,10.0.0.0/8"]);

    // The organization's list shows v1's and v2's groups.
    let v2 = stack.security_group(&stack.network_id, "v2").await;
    let listed = stack.call("GET", &format!("/api/v1/organizations/{ORG}/securitygroups"), Some(&admin), None).await;
    let mut ids: Vec<&str> =
        listed.body.as_array().into_iter().flatten().filter_map(|g| g["metadata"]["id"].as_str()).collect();
    ids.sort();
    let mut expected = vec![id.as_str(), v2.id.as_str()];
    expected.sort();
    assert_eq!(ids, expected, "{}", listed.body);
    let filtered =
        stack.call("GET", &format!("/api/v1/organizations/{ORG}/securitygroups?networkID=x"), Some(&admin), None).await;
    assert_eq!(filtered.status, 400, "the path is the scope: {}", filtered.body);

    // PUT replaces the rules; the worker brings Neutron along.
    let udp = json!([{"direction": "ingress", "protocol": "udp", "port": {"number": 53}}]);
    let changed = stack.call("PUT", &path, Some(&admin), Some(&write(udp.clone()))).await;
    assert_eq!((changed.status, changed.body["spec"]["rules"].clone()), (202, udp), "{}", changed.body);
    stack.until_stage(&path, "provisioned").await;
    assert_eq!(at_neutron(&stack, &id).map(|g| g.1), Some(vec!["ingress,udp,53-53,0.0.0.0/0".to_owned()]));

    // A server of the identity names it: its port is in the Neutron group.
    let group = stack.call("GET", &path, Some(&admin), None).await;
    assert_eq!(group.status, 200);
    let neutron_group =
        stack.emulator.inventory().security_groups.into_iter().find(|g| g.1 == format!("securitygroup-{id}"));
    let server =
        stack.call("POST", &home.servers(), Some(&admin), Some(&server_naming(&stack, &home, "web", &id))).await;
    assert_eq!(server.status, 201, "{}", server.body);
    assert_eq!(server.body["spec"]["securityGroups"], json!([{"id": id}]));
    let port = stack.emulator.inventory().ports.into_iter().find(|p| p.name == server.id());
    let port = port.unwrap_or_else(|| panic!("no port for the server"));
    assert_eq!(port.project_id, made_in, "in the identity's project");
    assert_eq!(port.security_groups, neutron_group.map(|g| g.0).into_iter().collect::<Vec<_>>());

    // Another identity's server cannot name it.
    let other = stack.v1_provisioned_home(&admin, ORG, PROJECT).await;
    let before = stack.item_count().await;
    let foreign =
        stack.call("POST", &other.servers(), Some(&admin), Some(&server_naming(&stack, &other, "db", &id))).await;
    assert_eq!((foreign.status, foreign.error_code()), (422, "unprocessable_content"), "{}", foreign.body);
    assert_eq!(
        foreign.description(),
        "spec.securityGroups[0].id: a referenced security group must belong to the same identity as the server"
    );
    assert_eq!(stack.item_count().await, before, "nothing written");

    // Deleted while a server names it: 202, deprovisioning, and it waits for the server.
    assert_eq!(stack.call("DELETE", &path, Some(&admin), None).await.status, 202);
    assert_eq!(stack.call("GET", &path, Some(&admin), None).await.stage(), "deprovisioning");
    let late =
        stack.call("POST", &home.servers(), Some(&admin), Some(&server_naming(&stack, &home, "late", &id))).await;
    assert_eq!((late.status, late.error_code()), (409, "conflict"), "{}", late.body);
    stack.cleanup(0).await;
    assert_eq!(stack.call("GET", &path, Some(&admin), None).await.stage(), "deprovisioning", "still named");
    assert!(at_neutron(&stack, &id).is_some(), "still at Neutron while the port uses it");
    assert_eq!(stack.call("DELETE", &home.server(&server.id()), Some(&admin), None).await.status, 202);
    stack.until_stage(&home.server(&server.id()), "gone").await;
    // The first cleanup run that finds it free (its mark is older than the grace) removes it.
    stack.cleanup(0).await;
    assert_eq!(stack.call("GET", &path, Some(&admin), None).await.status, 404);
    assert!(at_neutron(&stack, &id).is_none(), "removed at Neutron once free");
}

#[tokio::test]
async fn an_identity_delete_takes_its_groups_and_bad_rules_write_nothing() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let home = stack.v1_provisioned_home(&admin, ORG, PROJECT).await;
    let groups = format!("{}/securitygroups", home.path);
    let before = stack.item_count().await;
    let bad = [
        (json!([{"direction": "ingress", "protocol": "tcp", "port": {}}]), "spec.rules[0].port"),
        (json!([{"direction": "ingress", "protocol": "tcp", "port": {"number": 0}}]), "spec.rules[0].port.number"),
        (
            json!([{"direction": "ingress", "protocol": "tcp", "port": {"number": 22}, "cidr": "10.0.0.0/33"}]),
            "spec.rules[0].cidr",
        ),
        (json!([{"direction": "sideways", "protocol": "tcp"}]), "spec.rules[0].direction"),
        (json!([{"direction": "ingress", "protocol": "icmp", "port": {"number": 8}}]), "spec.rules[0]"),
        (json!([{"direction": "ingress", "protocol": "tcp", "prefix": "10.0.0.0/8"}]), "prefix"),
    ];
    for (rules, field) in bad {
        let reply = stack.call("POST", &groups, Some(&admin), Some(&write(rules.clone()))).await;
        assert_eq!((reply.status, reply.error_code()), (400, "invalid_request"), "{rules}: {}", reply.body);
        assert!(reply.description().contains(field), "{rules}: {}", reply.body);
    }
    let too_many: Vec<Value> =
        (1..=101).map(|p| json!({"direction": "ingress", "protocol": "tcp", "port": {"number": p}})).collect();
    let reply = stack.call("POST", &groups, Some(&admin), Some(&write(json!(too_many)))).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(stack.item_count().await, before, "nothing written");
    assert!(stack.emulator.inventory().security_groups.is_empty(), "nothing made");

    // A server on a bound network lives in the region's project, where the group is not.
    let created = stack.call("POST", &groups, Some(&admin), Some(&write(json!([])))).await;
    assert_eq!(created.status, 201, "{}", created.body);
    stack.until_stage(&format!("{groups}/{}", created.id()), "provisioned").await;
    let body = json!({"metadata": {"name": "bound"}, "spec": {"prefix": "10.0.1.0/24", "dnsNameservers": [],
        "providerNetworkId": PROVIDER_NETWORK}});
    let bound = stack.call("POST", &format!("{}/networks", home.path), Some(&admin), Some(&body)).await;
    assert_eq!(bound.status, 201, "{}", bound.body);
    let on_bound = V1Home { network_id: bound.id(), ..home.clone() };
    let refused = stack
        .call("POST", &home.servers(), Some(&admin), Some(&server_naming(&stack, &on_bound, "b", &created.id())))
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.description().contains("the project the server lives in"), "{}", refused.body);

    assert_eq!(stack.call("DELETE", &home.path, Some(&admin), None).await.status, 202);
    stack.until_gone_with_cleanup(&home.path).await;
    assert_eq!(stack.call("GET", &format!("{groups}/{}", created.id()), Some(&admin), None).await.status, 404);
    let left = stack.emulator.inventory();
    assert!(left.is_empty(), "nothing left at the cloud: {left:?}");
}
