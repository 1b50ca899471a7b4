//! v1 identities provisioned at the provider as Unikorn's identity controller does: 201 pending,
//! then a project, user, roles, application credential, server group and key pair made by the
//! worker, handed out in `spec.openstack` to holders of `region:identities` read; a delete that
//! removes them all, at the cloud and in the table.

use base64::Engine as _;
use integration_tests::stack::*;
use openstack_emulator::seed;
use serde_json::{json, Value};

/// Polls the read (the worker works the queue in the background) until it shows `stage`.
async fn until_stage(stack: &Stack, path: &str, stage: &str) -> Reply {
    let started = std::time::Instant::now();
    loop {
        let reply = stack.call("GET", path, Some(&stack.admin()), None).await;
        let now = if reply.status == 404 {
            "gone"
        } else {
            reply.body["metadata"]["provisioningStatus"].as_str().unwrap_or("")
        };
        if now == stage {
            return reply;
        }
        if started.elapsed() > std::time::Duration::from_secs(20) {
            let logs = crate::logs::text();
            let errors: Vec<&str> = logs.lines().filter(|l| l.contains("ERROR") || l.contains("WARN")).collect();
            panic!("{path} never {stage}: {}\n{}", reply.body, errors.join("\n"));
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

fn cloud_config(openstack: &Value) -> String {
    let encoded = openstack["cloudConfig"].as_str().unwrap_or_default();
    let bytes =
        base64::engine::general_purpose::URL_SAFE.decode(encoded).unwrap_or_else(|e| panic!("not base64url: {e}"));
    String::from_utf8(bytes).unwrap_or_default()
}

#[tokio::test]
async fn an_identity_is_provisioned_handed_out_and_removed_at_the_cloud() {
    crate::logs::install();
    let stack = Stack::start().await;
    let admin = stack.admin();
    let identities = format!("/api/v1/organizations/{ORG}/projects/{PROJECT}/identities");
    let body = json!({"metadata": {"name": "cluster"}, "spec": {"regionId": REGION}});
    let created = stack.call("POST", &identities, Some(&admin), Some(&body)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["metadata"]["provisioningStatus"], "pending");
    assert!(created.body["spec"].get("openstack").is_none(), "nothing to hand out yet: {}", created.body);
    let id = created.id();
    let path = format!("{identities}/{id}");
    let shown = until_stage(&stack, &path, "provisioned").await;
    let openstack = &shown.body["spec"]["openstack"];

    let cloud = stack.emulator.inventory();
    let name = format!("unikorn-identity-{id}");
    let project = cloud.projects.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("no project {name}"));
    assert_eq!(project.domain_id, seed::DOMAIN_ID);
    assert!(
        project.tags.contains(&format!("organization={ORG}")) && project.tags.contains(&format!("project={PROJECT}"))
    );
    let user = cloud.users.iter().find(|(_, n)| *n == name).map(|(u, _)| u.clone()).unwrap_or_default();
    let group = cloud.server_groups.iter().find(|(_, n, _)| *n == name).unwrap_or_else(|| panic!("no server group"));
    assert_eq!(group.2, project.id, "the server group is in the identity's project");
    assert!(cloud.keypairs.contains(&(user.clone(), "unikorn-openstack-provider".to_owned())), "the user's key pair");
    let credential =
        cloud.credentials.iter().find(|(_, n, u)| *n == name && *u == user).unwrap_or_else(|| panic!("no credential"));

    assert_eq!(openstack["cloud"], "cloud");
    assert_eq!(openstack["userId"], user.as_str());
    assert_eq!(openstack["projectId"], project.id.as_str());
    assert_eq!(openstack["serverGroupId"], group.0.as_str());
    assert_eq!(openstack["sshKeyName"], "unikorn-openstack-provider");
    assert!(openstack["sshPrivateKey"].as_str().is_some_and(|k| k.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----")));
    let config = cloud_config(openstack);
    assert!(config.contains("auth_type: v3applicationcredential"), "{config}");
    assert!(config.contains(&format!("application_credential_id: \"{}\"", credential.0)), "{config}");
    assert!(config.contains("application_credential_secret: \""), "{config}");
    // The secrets are sealed at rest.
    let stored = stack.stored(&format!("IDENTITY#{id}"), "IDENTITY").await.unwrap_or_default().to_string();
    let secret =
        config.split("application_credential_secret: \"").nth(1).and_then(|r| r.split('"').next()).unwrap_or("");
    assert!(!secret.is_empty() && !stored.contains(secret), "the secret is not in the table in the clear");
    // The organization's list hands it out too; a reader without the grant sees nothing of it.
    let listed = stack.call("GET", &format!("/api/v1/organizations/{ORG}/identities"), Some(&admin), None).await;
    assert_eq!(listed.body[0]["spec"]["openstack"], *openstack, "{}", listed.body);
    let other = stack.token("o", &project_acl(ORG, PROJECT, &[("region:networks", &["read"])]));
    assert_eq!(stack.call("GET", &path, Some(&other), None).await.status, 403);

    assert_eq!(stack.call("DELETE", &path, Some(&admin), None).await.status, 202);
    until_stage(&stack, &path, "gone").await;
    let left = stack.emulator.inventory();
    assert!(left.is_empty(), "nothing left at the cloud: {left:?}");
    assert!(stack.stored(&format!("KEYPAIR#{id}"), "KEYPAIR").await.is_none(), "its key pair's record goes too");
}

#[tokio::test]
async fn a_failing_cloud_shows_error_and_the_retry_provisions_once() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    stack.emulator.inject(openstack_emulator::Fault::status("POST", "/compute/v2.1/os-server-groups", 503));
    let (_, path) = stack.v1_identity(&admin, ORG, PROJECT).await;
    until_stage(&stack, &path, "provisioned").await;
    let cloud = stack.emulator.inventory();
    assert_eq!(
        (cloud.projects.len(), cloud.users.len(), cloud.server_groups.len(), cloud.keypairs.len()),
        (1, 1, 1, 1)
    );
    assert_eq!(stack.emulator.counter("POST /identity/v3/projects"), 1);
}

#[tokio::test]
async fn a_v1_network_is_made_in_its_identitys_project_and_one_identity_delete_takes_everything() {
    crate::logs::install();
    let stack = Stack::start().await;
    let admin = stack.admin();
    let (identity, path) = stack.v1_identity(&admin, ORG, PROJECT).await;
    // Made at once, before its identity is provisioned: it waits for the identity's project.
    let body = json!({"metadata": {"name": "net"}, "spec": {"prefix": "10.0.0.0/24", "dnsNameservers": ["8.8.8.8"]}});
    let created = stack.call("POST", &format!("{path}/networks"), Some(&admin), Some(&body)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["metadata"]["provisioningStatus"], "pending");
    assert!(created.body["spec"].get("openstack").is_none(), "nothing at the provider yet: {}", created.body);
    let network_id = created.id();
    let network_path = format!("{path}/networks/{network_id}");
    let shown = until_stage(&stack, &network_path, "provisioned").await;
    let project = until_stage(&stack, &path, "provisioned").await.body["spec"]["openstack"]["projectId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    let cloud = stack.emulator.inventory();
    let name = format!("network-{network_id}");
    let network = cloud.networks.iter().find(|n| n.name == name).unwrap_or_else(|| panic!("no network {name}"));
    let subnet = cloud.subnets.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("no subnet"));
    assert_eq!(network.project_id, project, "in the identity's own project");
    assert_eq!((subnet.cidr.as_str(), subnet.gateway_ip.as_str()), ("10.0.0.0/24", "10.0.0.1"));
    assert!(cloud.routers.iter().any(|r| r.name == name), "its router");
    assert_eq!(cloud.projects.len(), 1, "no project of the network's own: {:?}", cloud.projects);
    assert_eq!(
        shown.body["spec"],
        json!({"prefix": "10.0.0.0/24", "dnsNameservers": ["8.8.8.8"], "regionId": REGION,
            "openstack": {"networkId": network.id, "subnetId": subnet.id}})
    );
    // A smaller prefix than a /24 has no room for Unikorn's DHCP pool: 400, nothing written.
    let items = stack.item_count().await;
    let small = json!({"metadata": {"name": "n"}, "spec": {"prefix": "10.0.0.0/25", "dnsNameservers": []}});
    let refused = stack.call("POST", &format!("{path}/networks"), Some(&admin), Some(&small)).await;
    assert_eq!((refused.status, refused.error_code()), (400, "invalid_request"), "{}", refused.body);
    assert!(refused.description().contains("spec.prefix"), "{}", refused.body);
    assert_eq!(stack.item_count().await, items);

    // A server on it lives in the identity's project and boots with the identity's key.
    let home = V1Home { identity_id: identity.clone(), network_id: network_id.clone(), path: path.clone() };
    let server = stack.create_v1_server(&admin, &home, "web").await;
    assert_eq!(server.status, 201, "{}", server.body);
    let nova = stack.emulator.servers();
    let (_, server_project, ..) =
        nova.iter().find(|s| s.3.get("unikorn:server:id") == Some(&server.id())).cloned().unwrap_or_default();
    assert_eq!(server_project, project);
    let port = stack.emulator.inventory().ports.into_iter().find(|p| p.name == server.id());
    assert_eq!(port.map(|p| p.network_id), Some(network.id.clone()));

    // One delete (uni-compute's cluster teardown): the server, the network and the identity go,
    // at the cloud and in the table.
    assert_eq!(stack.call("DELETE", &path, Some(&admin), None).await.status, 202);
    let dying = stack.call("GET", &network_path, Some(&admin), None).await;
    assert_eq!(dying.body["metadata"]["provisioningStatus"], "deprovisioning", "{}", dying.body);
    stack.until_gone_with_cleanup(&path).await;
    assert_eq!(stack.call("GET", &home.server(&server.id()), Some(&admin), None).await.status, 404);
    assert_eq!(stack.call("GET", &network_path, Some(&admin), None).await.status, 404);
    let left = stack.emulator.inventory();
    assert!(left.is_empty(), "nothing left at the cloud: {left:?}");
    assert!(stack.emulator.servers().is_empty(), "no server left at Nova");
    assert!(stack.violations().await.is_empty(), "{:?}", stack.violations().await);
}

#[tokio::test]
async fn a_v1_network_delete_takes_its_servers_then_only_its_own_objects() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let (identity, path) = stack.v1_identity(&admin, ORG, PROJECT).await;
    let mut networks = Vec::new();
    for (name, prefix) in [("a", "10.0.0.0/24"), ("b", "10.1.0.0/24")] {
        let body = json!({"metadata": {"name": name}, "spec": {"prefix": prefix, "dnsNameservers": []}});
        let id = stack.call("POST", &format!("{path}/networks"), Some(&admin), Some(&body)).await.id();
        until_stage(&stack, &format!("{path}/networks/{id}"), "provisioned").await;
        networks.push(id);
    }
    let home = V1Home { identity_id: identity.clone(), network_id: networks[0].clone(), path: path.clone() };
    let server = stack.create_v1_server(&admin, &home, "web").await.id();

    let doomed = format!("{path}/networks/{}", networks[0]);
    assert_eq!(stack.call("DELETE", &doomed, Some(&admin), None).await.status, 202);
    let dying = stack.call("GET", &doomed, Some(&admin), None).await;
    assert_eq!(dying.body["metadata"]["provisioningStatus"], "deprovisioning", "{}", dying.body);
    assert_eq!(stack.create_v1_server(&admin, &home, "late").await.status, 409, "it takes no new server");
    stack.until_gone_with_cleanup(&doomed).await;
    assert_eq!(stack.call("GET", &home.server(&server), Some(&admin), None).await.status, 404);
    let cloud = stack.emulator.inventory();
    let names = |list: Vec<String>| list.into_iter().filter(|n| n.starts_with("network-")).collect::<Vec<_>>();
    let kept = vec![format!("network-{}", networks[1])];
    assert_eq!(names(cloud.networks.iter().map(|n| n.name.clone()).collect()), kept);
    assert_eq!(names(cloud.subnets.iter().map(|n| n.name.clone()).collect()), kept);
    assert_eq!(names(cloud.routers.iter().map(|n| n.name.clone()).collect()), kept);
    assert_eq!(cloud.projects.len(), 1, "the identity's project stays");
    assert_eq!(
        stack.call("GET", &path, Some(&admin), None).await.body["metadata"]["provisioningStatus"],
        "provisioned"
    );
    assert!(stack.violations().await.is_empty(), "{:?}", stack.violations().await);
}
