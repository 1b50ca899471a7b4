//! Networks from Unikorn's body, end to end on the emulator: 201 pending, provisioned by the worker
//! off the request path (a project, user, roles, application credential and raised quotas in
//! Keystone, Nova and Neutron; a network, subnet, router and interface in Neutron), read back
//! through the emulator; servers made in the network's project; updates reaching the subnet;
//! deletes refused while in use and complete when free, leaving nothing at the cloud.

use integration_tests::stack::*;
use openstack_emulator::seed;
use serde_json::json;

/// The emulator's seeded external network, which the region offers (its first).
const EXTERNAL: &str = seed::EXTERNAL_NETWORK;

#[tokio::test]
async fn a_network_from_unikorns_body_is_provisioned_in_a_project_of_its_own() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let id = stack.provisioned_network(&admin, "made", PROJECT).await;
    let shown = stack.network_stage(&id, "provisioned").await;
    assert_eq!(shown.body["status"]["prefix"], "192.168.0.0/24", "{}", shown.body);
    assert_eq!(shown.body["status"]["regionId"], REGION);
    assert_eq!(shown.body["spec"]["dnsNameservers"], json!(["8.8.8.8"]));
    assert!(shown.body["spec"].get("routes").is_none(), "no routes, none shown: {}", shown.body);
    assert_eq!(shown.body["metadata"]["healthStatus"], "unknown");

    let cloud = stack.emulator.inventory();
    let stored = stack.stored(&format!("NETWORK#{id}"), "NETWORK").await.unwrap_or_default();
    let identity = stored["identityId"].as_str().unwrap_or_default().to_owned();
    let name = format!("unikorn-identity-{identity}");
    let project = cloud.projects.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("no project {name}"));
    assert_eq!(project.domain_id, seed::DOMAIN_ID);
    assert!(
        project.tags.contains(&format!("organization={ORG}")) && project.tags.contains(&format!("project={PROJECT}"))
    );
    let user = cloud.users.iter().find(|(_, n)| *n == name).map(|(id, _)| id.clone()).unwrap_or_default();
    let roles = |who: &str| -> Vec<String> {
        cloud.assignments.iter().filter(|(p, u, _)| *p == project.id && u == who).map(|(_, _, r)| r.clone()).collect()
    };
    assert_eq!(roles(seed::REGION_USER_ID), vec!["manager-role"], "the region's user holds manager there");
    assert_eq!(roles(&user), vec!["load-balancer_member-role", "member-role"], "the cluster roles");
    assert!(cloud.credentials.iter().any(|(_, n, u)| *n == name && *u == user), "its application credential");
    assert!(cloud.compute_quotas.iter().any(|(p, q)| *p == project.id && q.instances.is_none()), "Nova quota lifted");
    assert!(cloud.network_quotas_raised.contains(&project.id), "Neutron quota lifted");

    let network =
        cloud.networks.iter().find(|n| n.name == format!("network-{id}")).unwrap_or_else(|| panic!("no network"));
    assert_eq!(network.project_id, project.id);
    let subnet = cloud.subnets.iter().find(|s| s.network_id == network.id).unwrap_or_else(|| panic!("no subnet"));
    assert_eq!((subnet.cidr.as_str(), subnet.gateway_ip.as_str()), ("192.168.0.0/24", "192.168.0.1"));
    assert_eq!(subnet.allocation_pools, vec![("192.168.0.128".to_owned(), "192.168.0.254".to_owned())]);
    assert_eq!(subnet.dns_nameservers, vec!["8.8.8.8"]);
    let router =
        cloud.routers.iter().find(|r| r.name == format!("network-{id}")).unwrap_or_else(|| panic!("no router"));
    assert_eq!(router.external_network_id.as_deref(), Some(EXTERNAL));
    assert!(cloud.ports.iter().any(|p| p.device_id == router.id && p.subnet_id == subnet.id), "router interface");
    // No secret in the table in the clear.
    let stored_identity = stack.stored(&format!("IDENTITY#{identity}"), "IDENTITY").await.unwrap_or_default();
    let text = stored_identity.to_string();
    let secret = cloud.credentials.iter().find(|(_, n, _)| *n == name).map(|(id, ..)| id.clone()).unwrap_or_default();
    assert!(text.contains(&secret), "the credential id is kept");
    assert!(stored_identity["objects"]["sealedPassword"].is_string(), "the password is sealed: {text}");
}

#[tokio::test]
async fn servers_live_in_their_networks_project_and_the_network_is_held_until_they_go() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let id = stack.provisioned_network(&admin, "made", PROJECT).await;
    let body = stack.server_body("web", &id);
    let created = stack.call("POST", "/api/v2/servers", Some(&admin), Some(&body)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let server = created.id();
    let cloud = stack.emulator.inventory();
    let network = cloud
        .networks
        .iter()
        .find(|n| n.name == format!("network-{id}"))
        .cloned()
        .unwrap_or_else(|| panic!("no network"));
    let (_, project, ..) = stack
        .emulator
        .servers()
        .into_iter()
        .find(|s| s.3.get("unikorn:server:id") == Some(&server))
        .unwrap_or_default();
    assert_eq!(project, network.project_id, "the server is in the network's own project");
    let port = cloud.ports.iter().find(|p| p.name == server).unwrap_or_else(|| panic!("no port"));
    assert_eq!(port.network_id, network.id);
    assert!(port.ip_address.starts_with("192.168.0."), "{}", port.ip_address);
    let shown = stack.call("GET", &format!("/api/v2/servers/{server}"), Some(&admin), None).await;
    assert_eq!(shown.body["status"]["privateIP"], port.ip_address.as_str(), "{}", shown.body);
    // Cleanup syncs it in its own project (regression: a sweep of the region's project alone took
    // it for vanished and removed its record, leaving the server at Nova).
    let pid = stack.provider_id(&server).unwrap_or_default();
    stack.emulator.set_server_state(&pid, "stopped", None);
    let report = stack.cleanup(0).await;
    assert_eq!((report.records_removed, report.orphans_deleted), (0, 0), "{report:?}");
    let synced = stack.call("GET", &format!("/api/v2/servers/{server}"), Some(&admin), None).await;
    assert_eq!(synced.body["status"]["powerState"], "Stopped", "{}", synced.body);
    assert!(stack.provider_id(&server).is_some(), "the server is still at Nova");

    let path = format!("/api/v2/networks/{id}");
    let refused = stack.call("DELETE", &path, Some(&admin), None).await;
    assert_eq!((refused.status, refused.error_code()), (403, "forbidden"), "{}", refused.body);
    assert_eq!(refused.description(), "network is in use and cannot be deleted");
    assert_eq!(stack.call("DELETE", &format!("/api/v2/servers/{server}"), Some(&admin), None).await.status, 202);
    let started = std::time::Instant::now();
    while stack.call("GET", &format!("/api/v2/servers/{server}"), Some(&admin), None).await.status != 404 {
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "the server never went");
        stack.cleanup(0).await;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let accepted = stack.call("DELETE", &path, Some(&admin), None).await;
    assert_eq!(accepted.status, 202, "{}", accepted.body);
    stack.network_stage(&id, "gone").await;
    let left = stack.emulator.inventory();
    assert!(left.is_empty(), "nothing left at the cloud: {left:?}");
    assert!(stack.emulator.servers().is_empty(), "no server left at Nova");
}

#[tokio::test]
async fn an_update_changes_the_subnet_and_keeps_prefix_and_region() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let id = stack.provisioned_network(&admin, "made", PROJECT).await;
    let body = json!({"metadata": {"name": "renamed", "tags": [{"name": "team", "value": "a"}]},
        "spec": {"dnsNameservers": ["1.1.1.1", "9.9.9.9"], "routes": [{"prefix": "10.20.0.0/16", "nexthop": "192.168.0.5"}]}});
    let path = format!("/api/v2/networks/{id}");
    let reply = stack.call("PUT", &path, Some(&admin), Some(&body)).await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    assert_eq!(reply.body["metadata"]["name"], "renamed");
    assert_eq!(reply.body["status"]["prefix"], "192.168.0.0/24");
    assert_eq!(reply.body["spec"]["routes"], json!([{"prefix": "10.20.0.0/16", "nexthop": "192.168.0.5"}]));
    stack.network_stage(&id, "provisioned").await;
    let subnet = stack.emulator.inventory().subnets.into_iter().next().unwrap_or_else(|| panic!("no subnet"));
    assert_eq!(subnet.dns_nameservers, vec!["1.1.1.1", "9.9.9.9"]);
    assert_eq!(subnet.host_routes, vec![("10.20.0.0/16".to_owned(), "192.168.0.5".to_owned())]);
    let listed = stack.call("GET", "/api/v2/networks?tag=team=a", Some(&admin), None).await;
    let ids: Vec<&str> =
        listed.body.as_array().into_iter().flatten().filter_map(|n| n["metadata"]["id"].as_str()).collect();
    assert_eq!(ids, vec![id.as_str()], "{}", listed.body);
    let other = stack
        .call("GET", &format!("/api/v2/networks?regionID=elsewhere&organizationID={ORG}"), Some(&admin), None)
        .await;
    assert_eq!(other.body, json!([]), "{}", other.body);
    let reader = stack.token("r", &project_acl(ORG, PROJECT, &[("region:networks:v2", &["read", "delete"])]));
    let refused = stack.call("PUT", &path, Some(&reader), Some(&body)).await;
    assert_eq!(refused.status, 403, "update needs update (Unikorn's later rule): {}", refused.body);
}

#[tokio::test]
async fn references_hold_a_network_until_they_go() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let id = stack.provisioned_network(&admin, "made", PROJECT).await;
    let reference = format!("/api/v2/networks/{id}/references/computeinstances.compute.unikorn-cloud.org%2Fabc");
    for _ in 0..2 {
        let added = stack.call("PUT", &reference, Some(&admin), None).await;
        assert_eq!(added.status, 201, "{}", added.body);
        assert_eq!(added.header("cache-control").as_deref(), Some("no-cache"));
    }
    let path = format!("/api/v2/networks/{id}");
    let refused = stack.call("DELETE", &path, Some(&admin), None).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    let bad = stack.call("PUT", &format!("{path}/references/Not%20Valid"), Some(&admin), None).await;
    assert_eq!((bad.status, bad.error_code()), (400, "invalid_request"), "{}", bad.body);
    let long = format!("{path}/references/{}", "a".repeat(300));
    assert_eq!(stack.call("PUT", &long, Some(&admin), None).await.status, 400);
    let reader = stack.token("r", &project_acl(ORG, PROJECT, &[("region:networks:v2", &["read"])]));
    assert_eq!(
        stack.call("DELETE", &reference, Some(&reader), None).await.status,
        403,
        "references need their own grant"
    );
    assert_eq!(stack.call("DELETE", &reference, Some(&admin), None).await.status, 204);
    assert_eq!(stack.call("DELETE", &reference, Some(&admin), None).await.status, 204, "an absent reference is fine");
    assert_eq!(stack.call("DELETE", &path, Some(&admin), None).await.status, 202);
    let late = stack.call("PUT", &reference, Some(&admin), None).await;
    assert!(late.status == 400 || late.status == 404, "a network being deleted takes no reference: {}", late.body);
    stack.network_stage(&id, "gone").await;
}

#[tokio::test]
async fn bad_network_bodies_are_refused_naming_the_field_and_nothing_is_made() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let spec = |extra: serde_json::Value| {
        let mut spec = json!({"organizationId": ORG, "projectId": PROJECT, "regionId": REGION, "prefix": "10.0.0.0/24", "dnsNameservers": []});
        for (k, v) in extra.as_object().cloned().unwrap_or_default() {
            spec[k] = v;
        }
        json!({"metadata": {"name": "n"}, "spec": spec})
    };
    let cases = [
        ("small prefix", spec(json!({"prefix": "10.0.0.0/25"})), 400, "minimum network prefix size is /24"),
        ("IPv6 prefix", spec(json!({"prefix": "fd00::/64"})), 400, "spec.prefix"),
        ("not a prefix", spec(json!({"prefix": "ten"})), 400, "spec.prefix"),
        ("bad nameserver", spec(json!({"dnsNameservers": ["8.8.8"]})), 400, "spec.dnsNameservers[0]"),
        ("too many nameservers", spec(json!({"dnsNameservers": vec!["1.1.1.1"; 9]})), 400, "at most 8"),
        ("bad route", spec(json!({"routes": [{"prefix": "x", "nexthop": "10.0.0.1"}]})), 400, "spec.routes[0].prefix"),
        ("bad next hop", spec(json!({"routes": [{"prefix": "10.1.0.0/16", "nexthop": "y"}]})), 400, "next-hop"),
        ("reservations", spec(json!({"reservations": {"prefixLength": 24}})), 422, "reservation prefix length"),
        ("reservations out of range", spec(json!({"reservations": {"prefixLength": 31}})), 400, "at most 30"),
        ("both kinds", spec(json!({"providerNetworkId": "x"})), 400, "spec.providerNetworkId"),
        (
            "no nameservers",
            json!({"metadata": {"name": "n"}, "spec": {"organizationId": ORG, "projectId": PROJECT, "regionId": REGION, "prefix": "10.0.0.0/24"}}),
            400,
            "spec.dnsNameservers",
        ),
        ("unknown region", spec(json!({"regionId": "mars"})), 404, "mars"),
    ];
    let before = stack.item_count().await;
    for (label, body, status, words) in cases {
        let reply = stack.call("POST", "/api/v2/networks", Some(&admin), Some(&body)).await;
        assert_eq!(reply.status, status, "{label}: {}", reply.body);
        reply.error_code();
        assert!(reply.description().contains(words), "{label}: {}", reply.body);
    }
    let denied = stack.token("x", &project_acl(ORG, PROJECT, &[("region:networks:v2", &["read"])]));
    let reply = stack.call("POST", "/api/v2/networks", Some(&denied), Some(&spec(json!({})))).await;
    assert_eq!(reply.status, 403, "{}", reply.body);
    assert_eq!(stack.item_count().await, before, "nothing written");
    assert!(stack.emulator.inventory().is_empty(), "nothing made at the cloud");
    assert_eq!(stack.emulator.counter("POST /identity/v3/projects"), 0);
}

#[tokio::test]
async fn a_failing_cloud_shows_error_with_its_reason_and_the_retry_provisions_once() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    stack.emulator.inject(openstack_emulator::Fault::status("POST", "/network/v2.0/routers", 503));
    let body = json!({"metadata": {"name": "n"}, "spec": {"organizationId": ORG, "projectId": PROJECT,
        "regionId": REGION, "prefix": "10.0.0.0/24", "dnsNameservers": []}});
    let id = stack.call("POST", "/api/v2/networks", Some(&admin), Some(&body)).await.id();
    let failed = stack.network_stage(&id, "error").await;
    assert!(!failed.body["metadata"].to_string().is_empty());
    // The queue offers the item again: it completes, and nothing is made twice.
    stack.network_stage(&id, "provisioned").await;
    let cloud = stack.emulator.inventory();
    assert_eq!((cloud.projects.len(), cloud.users.len(), cloud.networks.len(), cloud.routers.len()), (1, 1, 1, 1));
    assert_eq!(stack.emulator.counter("POST /identity/v3/projects"), 1);
}

/// A project the product made whose identity record is gone (a run that raced a teardown, a record
/// removed by hand) is emptied and removed by the next cleanup run: its router, subnet, network,
/// user and the project itself.
#[tokio::test]
async fn a_project_whose_records_are_gone_is_swept_by_cleanup() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let id = stack.provisioned_network(&admin, "made", PROJECT).await;
    let other = stack.provisioned_network(&admin, "kept", PROJECT).await;
    let stored = stack.stored(&format!("NETWORK#{id}"), "NETWORK").await.unwrap_or_default();
    let identity = stored["identityId"].as_str().unwrap_or_default().to_owned();
    for (pk, sk) in [(format!("NETWORK#{id}"), "NETWORK"), (format!("IDENTITY#{identity}"), "IDENTITY")] {
        stack
            .dynamo
            .delete_item()
            .table_name(&stack.table)
            .key("PK", aws_sdk_dynamodb::types::AttributeValue::S(pk))
            .key("SK", aws_sdk_dynamodb::types::AttributeValue::S(sk.into()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    // Another deployment's project on the same cloud, named as ours: its records are not in our
    // table, and it is not ours to sweep.
    stack.emulator.add_project(openstack_emulator::keystone_admin::Project {
        id: "elsewhere".into(),
        name: format!("unikorn-identity-{}", uuid::Uuid::new_v4()),
        domain_id: seed::DOMAIN_ID.into(),
        tags: vec!["region-servers=another-table".into()],
    });
    let report = stack.cleanup(0).await;
    assert_eq!(report.orphan_projects_removed, 1, "{report:?}");
    assert!(
        stack.emulator.inventory().projects.iter().any(|p| p.id == "elsewhere"),
        "another deployment's project stays"
    );
    let cloud = stack.emulator.inventory();
    let name = format!("unikorn-identity-{identity}");
    assert!(!cloud.projects.iter().any(|p| p.name == name), "the project is gone");
    assert!(!cloud.users.iter().any(|(_, n)| *n == name), "its user is gone");
    assert!(!cloud.networks.iter().any(|n| n.name == format!("network-{id}")), "its network is gone");
    assert_eq!(
        (cloud.projects.len(), cloud.networks.len(), cloud.subnets.len(), cloud.routers.len()),
        (2, 1, 1, 1),
        "the other network's are kept"
    );
    assert_eq!(stack.network_stage(&other, "provisioned").await.status, 200);
    assert_eq!(stack.cleanup(0).await.orphan_projects_removed, 0, "nothing more to sweep");
}
