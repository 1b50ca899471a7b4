//! A server's networking at the provider, read back through Neutron's API: the port made for it
//! (security groups, allowed source addresses), its public IP, their life with updates, deletes
//! and cleanup, and v1's allowed address pairs and public IP allocation.

use integration_tests::neutron::{groups_of, pairs_of, NeutronApi, FIPS, PORTS};
use integration_tests::stack::*;
use openstack_emulator::seed;
use serde_json::{json, Value};

fn body(stack: &Stack, name: &str, networking: Value) -> Value {
    json!({"metadata": {"name": name}, "spec": {"networkId": stack.network_id, "flavorId": seed::FLAVOR_SMALL,
        "imageId": seed::IMAGE_UBUNTU, "networking": networking}})
}

fn update(networking: Value) -> Value {
    json!({"metadata": {"name": "web"}, "spec": {"flavorId": seed::FLAVOR_SMALL, "imageId": seed::IMAGE_UBUNTU,
        "networking": networking}})
}

async fn public_ips_of(neutron: &NeutronApi, port: &Value) -> Vec<Value> {
    neutron.floating_ips_of(port["id"].as_str().unwrap_or_default()).await
}

#[tokio::test]
async fn each_networking_field_alone_and_together_is_what_the_port_holds() {
    let stack = Stack::start().await;
    let neutron = NeutronApi::connect(&stack.emulator).await;
    let admin = stack.admin();
    let (web_group, ssh_group) =
        (stack.security_group(&stack.network_id, "web").await, stack.security_group(&stack.network_id, "ssh").await);
    let (web, ssh) = (web_group.neutron_id.clone(), ssh_group.neutron_id.clone());
    let mut both = vec![web.clone(), ssh.clone()];
    both.sort();
    let cases = [
        ("groups", json!({"securityGroups": [ssh_group.id, web_group.id]}), both, vec![], false),
        (
            "sources",
            json!({"allowedSourceAddresses": ["10.9.0.0/16", "192.0.2.7/32"]}),
            vec![],
            vec!["10.9.0.0/16", "192.0.2.7/32"],
            false,
        ),
        ("public", json!({"publicIP": true}), vec![], vec![], true),
        (
            "all",
            json!({"securityGroups": [web_group.id], "publicIP": true, "allowedSourceAddresses": ["10.9.0.0/16"]}),
            vec![web.clone()],
            vec!["10.9.0.0/16"],
            true,
        ),
        ("none", json!({}), vec![], vec![], false),
    ];
    for (name, networking, groups, pairs, public) in cases {
        let reply = stack.call("POST", "/api/v2/servers", Some(&admin), Some(&body(&stack, name, networking))).await;
        assert_eq!(reply.status, 201, "{name}: {}", reply.body);
        let port = neutron.port_of(&reply.id()).await;
        if groups.is_empty() {
            // Nothing asked for: the project's default group, as Neutron gives every new port.
            assert_eq!(groups_of(&port).len(), 1, "{name}: {port}");
            assert!(!groups_of(&port).contains(&web), "{name}: {port}");
        } else {
            let mut held = groups_of(&port);
            held.sort();
            assert_eq!(held, groups, "{name}");
        }
        assert_eq!(pairs_of(&port), pairs, "{name}");
        // Neutron received only the attributes asked for: its policy refuses even an empty
        // `allowed_address_pairs` from a project that does not own the network.
        let sent =
            stack.emulator.requests().into_iter().rev().find(|r| r.method == "POST" && r.path.ends_with("/ports"));
        let sent = sent.and_then(|r| r.body).unwrap_or_else(|| panic!("{name}: no port create"));
        assert_eq!(sent["port"].get("allowed_address_pairs").is_some(), !pairs.is_empty(), "{name}: {sent}");
        assert_eq!(sent["port"].get("security_groups").is_some(), !groups.is_empty(), "{name}: {sent}");
        let ips = public_ips_of(&neutron, &port).await;
        assert_eq!(ips.len(), usize::from(public), "{name}: {ips:?}");
        let shown = stack.call("GET", &format!("/api/v2/servers/{}", reply.id()), Some(&admin), None).await;
        assert_eq!(shown.body["status"]["privateIP"], port["fixed_ips"][0]["ip_address"], "{name}");
        assert_eq!(shown.body["status"]["macAddress"], port["mac_address"], "{name}");
        let public_ip = ips.first().map(|ip| ip["floating_ip_address"].clone()).unwrap_or(Value::Null);
        assert_eq!(shown.body["status"]["publicIP"], public_ip, "{name}");
    }
    assert_eq!(stack.converge(0, 1).await, Ok(1), "nothing for cleanup to do");
}

#[tokio::test]
async fn updates_turn_the_public_ip_on_off_and_on_and_change_groups_and_sources() {
    let stack = Stack::start().await;
    let neutron = NeutronApi::connect(&stack.emulator).await;
    let admin = stack.admin();
    let id = stack.settled_server("web").await;
    let path = format!("/api/v2/servers/{id}");
    let port = neutron.port_of(&id).await;
    assert!(public_ips_of(&neutron, &port).await.is_empty());

    let mut addresses = Vec::new();
    for public in [true, false, true] {
        let reply = stack.call("PUT", &path, Some(&admin), Some(&update(json!({"publicIP": public})))).await;
        assert_eq!(reply.status, 202, "{}", reply.body);
        let ips = public_ips_of(&neutron, &port).await;
        assert_eq!(ips.len(), usize::from(public), "publicIP {public}: {ips:?}");
        let expected = ips.first().map(|ip| ip["floating_ip_address"].clone()).unwrap_or(Value::Null);
        assert_eq!(reply.body["status"]["publicIP"], expected, "the answer shows it");
        let shown = stack.call("GET", &path, Some(&admin), None).await;
        assert_eq!(shown.body["status"]["publicIP"], expected, "a later read shows it");
        addresses.extend(ips);
    }
    assert_eq!(neutron.floating_ips().await.len(), 1, "the address turned off was released: {addresses:?}");

    let ssh = stack.security_group(&stack.network_id, "ssh").await;
    let networking = json!({"securityGroups": [ssh.id], "allowedSourceAddresses": ["10.1.0.0/16"]});
    let reply = stack.call("PUT", &path, Some(&admin), Some(&update(networking))).await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    let port = neutron.port_of(&id).await;
    assert_eq!(groups_of(&port), vec![ssh.neutron_id.clone()]);
    assert_eq!(pairs_of(&port), vec!["10.1.0.0/16".to_owned()]);
    assert!(public_ips_of(&neutron, &port).await.is_empty(), "publicIP left out is off");
    assert_eq!(neutron.ports_named(&id).await.len(), 1, "still one port, updated in place");

    // A missing group is refused (404, as its read) before anything changes.
    let bad = json!({"securityGroups": ["7d4f9a0b-0000-4000-8000-000000000000"], "publicIP": true});
    let reply = stack.call("PUT", &path, Some(&admin), Some(&update(bad))).await;
    assert_eq!((reply.status, reply.error_code()), (404, "not_found"), "{}", reply.body);
    assert_eq!(groups_of(&neutron.port_of(&id).await), vec![ssh.neutron_id.clone()]);
    assert!(neutron.floating_ips().await.is_empty());
    assert_eq!(stack.converge(0, 1).await, Ok(1));
}

/// The project's default security group, as Neutron lists it.
async fn default_group(neutron: &NeutronApi) -> String {
    let (status, body) = neutron.call("GET", "/network/v2.0/security-groups?name=default", None).await;
    assert_eq!(status, 200, "{body}");
    body["security_groups"][0]["id"].as_str().unwrap_or_else(|| panic!("no default group: {body}")).to_owned()
}

/// Regression: an update that removed every security group answered 202 and echoed the empty list,
/// but the port stayed in its groups, and cleanup reported nothing to repair. No group means the
/// project's default group, on every update and after every cleanup run.
#[tokio::test]
async fn groups_removed_on_update_leave_the_port_in_the_default_group_and_cleanup_repairs_it() {
    let stack = Stack::start().await;
    let neutron = NeutronApi::connect(&stack.emulator).await;
    let admin = stack.admin();
    let default = vec![default_group(&neutron).await];
    let group = stack.security_group(&stack.network_id, "web").await;
    let web = vec![group.neutron_id.clone()];
    let made = json!({"securityGroups": [group.id]});
    let reply = stack.call("POST", "/api/v2/servers", Some(&admin), Some(&body(&stack, "web", made.clone()))).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let id = reply.id();
    let path = format!("/api/v2/servers/{id}");
    let shown = stack.call("GET", &path, Some(&admin), None).await;
    assert_eq!(shown.body["status"]["powerState"], "Running", "{}", shown.body);
    for none in [json!({}), json!({"securityGroups": []})] {
        assert_eq!(groups_of(&neutron.port_of(&id).await), web, "in web before {none}");
        let reply = stack.call("PUT", &path, Some(&admin), Some(&update(none.clone()))).await;
        assert_eq!(reply.status, 202, "{none}: {}", reply.body);
        assert_eq!(groups_of(&neutron.port_of(&id).await), default, "{none}: out of web, in default");
        let back = stack.call("PUT", &path, Some(&admin), Some(&update(made.clone()))).await;
        assert_eq!(back.status, 202, "{}", back.body);
    }

    // Drift behind the API's back on a server that asks for no group: cleanup puts it back.
    let reply = stack.call("PUT", &path, Some(&admin), Some(&update(json!({})))).await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    let port_path = format!("{PORTS}/{}", neutron.port_of(&id).await["id"].as_str().unwrap_or_default());
    let drift = json!({"port": {"security_groups": [seed::SECURITY_GROUP_WEB]}});
    assert_eq!(neutron.call("PUT", &port_path, Some(drift)).await.0, 200);
    let report = stack.cleanup(3600).await;
    assert_eq!(report.ports_repaired, 1, "{report:?}");
    assert_eq!(groups_of(&neutron.port_of(&id).await), default);
    assert_eq!(stack.cleanup(3600).await.ports_repaired, 0, "nothing left to repair");
}

#[tokio::test]
async fn delete_leaves_no_port_and_no_public_ip() {
    let stack = Stack::start().await;
    let neutron = NeutronApi::connect(&stack.emulator).await;
    let admin = stack.admin();
    let web = stack.security_group(&stack.network_id, "web").await;
    let all = json!({"securityGroups": [web.id], "publicIP": true, "allowedSourceAddresses": ["10.9.0.0/16"]});
    let reply = stack.call("POST", "/api/v2/servers", Some(&admin), Some(&body(&stack, "web", all))).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let id = reply.id();
    assert_eq!(neutron.floating_ips().await.len(), 1);
    let ports_before = neutron.ports().await.len();
    assert_eq!(stack.call("DELETE", &format!("/api/v2/servers/{id}"), Some(&admin), None).await.status, 202);
    // The server goes first; its public IP and port go once the provider has no server.
    let gone = stack.call("GET", &format!("/api/v2/servers/{id}"), Some(&admin), None).await;
    assert_eq!(gone.status, 404, "{}", gone.body);
    assert!(neutron.ports_named(&id).await.is_empty(), "no port left");
    assert!(neutron.floating_ips().await.is_empty(), "no public IP left");
    assert_eq!(neutron.ports().await.len(), ports_before - 1, "nothing else removed");
    assert_eq!(stack.converge(0, 1).await, Ok(1));
}

#[tokio::test]
async fn cleanup_removes_what_gone_records_left_and_puts_drifted_ports_back() {
    let stack = Stack::start().await;
    let neutron = NeutronApi::connect(&stack.emulator).await;
    let id = stack.settled_server("web").await;
    let port = neutron.port_of(&id).await;
    // Left by a record that is gone: a port named after it, and an unbound public IP.
    let gone = "0c9e8d7f-6a5b-4c3d-9e1f-2a3b4c5d6e7f";
    let (status, orphan) =
        neutron.call("POST", PORTS, Some(json!({"port": {"name": gone, "network_id": seed::TENANT_NETWORK}}))).await;
    assert_eq!(status, 201, "{orphan}");
    let fip = json!({"floatingip": {"floating_network_id": seed::EXTERNAL_NETWORK, "description": gone}});
    assert_eq!(neutron.call("POST", FIPS, Some(fip)).await.0, 201);
    // Not ours: a port with another name, a public IP described otherwise.
    let other = json!({"port": {"name": "router-uplink", "network_id": seed::TENANT_NETWORK}});
    assert_eq!(neutron.call("POST", PORTS, Some(other)).await.0, 201);
    let theirs = json!({"floatingip": {"floating_network_id": seed::EXTERNAL_NETWORK, "description": "vpn"}});
    assert_eq!(neutron.call("POST", FIPS, Some(theirs)).await.0, 201);
    // Drift behind the API's back: a group and a pair added to our server's port.
    let drift = json!({"port": {"security_groups": [seed::SECURITY_GROUP_SSH],
        "allowed_address_pairs": [{"ip_address": "0.0.0.0/0"}]}});
    let port_path = format!("{PORTS}/{}", port["id"].as_str().unwrap_or_default());
    assert_eq!(neutron.call("PUT", &port_path, Some(drift)).await.0, 200);

    // Within the grace period nothing that may be a create's is touched; the drift is repaired.
    let report = stack.cleanup(3600).await;
    assert_eq!((report.orphan_ports_deleted, report.orphan_public_ips_deleted), (0, 0), "{report:?}");
    assert_eq!(report.ports_repaired, 1, "{report:?}");
    assert_eq!(
        report.network_list_calls,
        2 * report.identities_synced,
        "one ports and one public IP listing per identity: {report:?}"
    );
    let repaired = neutron.port_of(&id).await;
    assert!(pairs_of(&repaired).is_empty() && groups_of(&repaired) != vec![seed::SECURITY_GROUP_SSH.to_owned()]);

    let report = stack.cleanup(0).await;
    assert_eq!((report.orphan_ports_deleted, report.orphan_public_ips_deleted), (1, 1), "{report:?}");
    assert!(neutron.ports_named(gone).await.is_empty());
    assert_eq!(neutron.ports_named("router-uplink").await.len(), 1, "not ours: left alone");
    let left: Vec<Value> = neutron.floating_ips().await;
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["description"], "vpn");
    assert_eq!(neutron.ports_named(&id).await.len(), 1, "a live server's port stays");
}

#[tokio::test]
async fn v1_allowed_address_pairs_with_their_mac_and_public_ip_allocation_reach_the_port() {
    let stack = Stack::start().await;
    let neutron = NeutronApi::connect(&stack.emulator).await;
    let admin = stack.admin();
    let home = stack.v1_home(&admin, ORG, PROJECT).await;
    let body = json!({"metadata": {"name": "router"}, "spec": {"flavorId": seed::FLAVOR_SMALL, "imageId": seed::IMAGE_UBUNTU,
        "networks": [{"id": home.network_id, "allowedAddressPairs": [
            {"cidr": "10.8.0.0/16", "macAddress": "FA:16:3E:AA:BB:CC"}, {"cidr": "10.7.0.0/16"}]}],
        "publicIPAllocation": {"enabled": true}}});
    let reply = stack.call("POST", &home.servers(), Some(&admin), Some(&body)).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let pairs = &reply.body["spec"]["networks"][0]["allowedAddressPairs"];
    assert_eq!(pairs, &json!([{"cidr": "10.8.0.0/16", "macAddress": "fa:16:3e:aa:bb:cc"}, {"cidr": "10.7.0.0/16"}]));
    let port = neutron.port_of(&reply.id()).await;
    let mut sent: Vec<(String, String)> = port["allowed_address_pairs"]
        .as_array()
        .map(|l| {
            l.iter()
                .map(|p| {
                    (
                        p["ip_address"].as_str().unwrap_or_default().to_owned(),
                        p["mac_address"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    sent.sort();
    let own = port["mac_address"].as_str().unwrap_or_default().to_owned();
    assert_eq!(sent, vec![("10.7.0.0/16".to_owned(), own), ("10.8.0.0/16".to_owned(), "fa:16:3e:aa:bb:cc".to_owned())]);
    assert_eq!(public_ips_of(&neutron, &port).await.len(), 1);

    // Allocation turned off through v1's update: released.
    let mut off = body.clone();
    off["spec"]["publicIPAllocation"] = json!({"enabled": false});
    let reply = stack.call("PUT", &home.server(&reply.id()), Some(&admin), Some(&off)).await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    assert!(public_ips_of(&neutron, &port).await.is_empty());
    assert_eq!(stack.converge(0, 1).await, Ok(1));
}

/// The public address is asked for beside the server, not after it: when Nova refuses the server,
/// the address allocated meanwhile goes with the port, and nothing is left at the provider.
#[tokio::test]
async fn a_refused_create_leaves_no_public_ip_allocated_beside_it() {
    let stack = Stack::start().await;
    let neutron = NeutronApi::connect(&stack.emulator).await;
    let admin = stack.admin();
    let web = stack.security_group(&stack.network_id, "web").await;
    let ports_before = neutron.ports().await.len();
    stack.emulator.inject(openstack_emulator::Fault::status("POST", "/compute/v2.1/servers", 409));
    let all = json!({"securityGroups": [web.id], "publicIP": true});
    let reply = stack.call("POST", "/api/v2/servers", Some(&admin), Some(&body(&stack, "refused", all))).await;
    assert_eq!((reply.status, reply.error_code()), (409, "conflict"), "{}", reply.body);
    assert_eq!(stack.emulator.counter("POST /network/v2.0/floatingips"), 1, "allocated beside the server");
    assert!(neutron.floating_ips().await.is_empty(), "the address was released");
    assert_eq!(neutron.ports().await.len(), ports_before, "and the port");
}
