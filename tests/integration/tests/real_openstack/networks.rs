//! Networks from Unikorn's body on real Keystone, Neutron and Nova, with the region's credential:
//! the network's own project and user in the region's domain, its VLAN provider network, subnet,
//! router and interface, a server in its project, a delete refused in use, and a teardown that
//! leaves nothing; each read back through the services' own APIs as their admin.

use super::real_api::{admin_get, RealApi};
use super::*;

/// Runs the worker's own step (as the queue would) until the network reaches `stage` (or is gone).
async fn converge_until(api: &RealApi, id: &str, stage: &str) -> Value {
    let started = Instant::now();
    loop {
        let converged = shared::usecase::networks::converge(&api.deps, id).await;
        let (status, shown) = api.call("GET", &format!("/api/v2/networks/{id}"), None).await;
        if status == 404 && stage == "gone" || shown["metadata"]["provisioningStatus"] == stage {
            return shown;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "network {id} never {stage}: {converged:?} {shown}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test]
async fn a_network_from_unikorns_body_is_made_used_and_taken_down_on_real_openstack() {
    let Some(real) = Real::connect().await else { return };
    let api = RealApi::start(&real).await;
    let body = serde_json::json!({"metadata": {"name": "real-made"}, "spec": {"organizationId": integration_tests::stack::ORG,
        "projectId": integration_tests::stack::PROJECT, "regionId": integration_tests::stack::REGION,
        "prefix": "192.168.40.0/24", "dnsNameservers": ["192.0.2.53"],
        "routes": [{"prefix": "10.77.0.0/16", "nexthop": "192.168.40.9"}]}});
    let (status, created) = api.call("POST", "/api/v2/networks", Some(&body)).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["metadata"]["provisioningStatus"], "pending");
    let id = created["metadata"]["id"].as_str().unwrap_or_default().to_owned();
    converge_until(&api, &id, "provisioned").await;

    let name = format!("network-{id}");
    let networks = admin_get(&real, "neutron", &format!("/v2.0/networks?name={name}")).await;
    let network = networks["networks"][0].clone();
    let project = network["project_id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(network["provider:network_type"], "vlan", "{network}");
    assert_eq!(network["provider:physical_network"], "physnet2");
    assert!(network["provider:segmentation_id"].as_u64().is_some_and(|v| (300..=399).contains(&v)), "{network}");
    let keystone_project = admin_get(&real, "auth_url", &format!("/projects/{project}")).await;
    assert_eq!(keystone_project["project"]["domain_id"], "default", "{keystone_project}");
    let identity_name = keystone_project["project"]["name"].as_str().unwrap_or_default().to_owned();
    assert!(identity_name.starts_with("unikorn-identity-"), "{keystone_project}");
    let users = admin_get(&real, "auth_url", &format!("/users?name={identity_name}")).await;
    assert_eq!(users["users"].as_array().map(Vec::len), Some(1), "{users}");
    let subnets = admin_get(&real, "neutron", &format!("/v2.0/subnets?name={name}")).await;
    let subnet = &subnets["subnets"][0];
    assert_eq!(
        (subnet["cidr"].as_str(), subnet["gateway_ip"].as_str()),
        (Some("192.168.40.0/24"), Some("192.168.40.1"))
    );
    assert_eq!(subnet["allocation_pools"], serde_json::json!([{"start": "192.168.40.128", "end": "192.168.40.254"}]));
    assert_eq!(subnet["dns_nameservers"], serde_json::json!(["192.0.2.53"]));
    assert_eq!(subnet["host_routes"], serde_json::json!([{"destination": "10.77.0.0/16", "nexthop": "192.168.40.9"}]));
    let routers = admin_get(&real, "neutron", &format!("/v2.0/routers?name={name}")).await;
    let router = &routers["routers"][0];
    assert_eq!(router["external_gateway_info"]["network_id"], real.id("external_network_id").as_str(), "{router}");
    let interfaces = admin_get(
        &real,
        "neutron",
        &format!(
            "/v2.0/ports?device_id={}&device_owner=network:router_interface",
            router["id"].as_str().unwrap_or_default()
        ),
    )
    .await;
    assert_eq!(interfaces["ports"][0]["fixed_ips"][0]["ip_address"], "192.168.40.1", "{interfaces}");

    let server = serde_json::json!({"metadata": {"name": "on-made"}, "spec": {"networkId": id,
        "flavorId": real.id("flavor_small"), "imageId": real.id("image_id")}});
    let (status, made) = api.call("POST", "/api/v2/servers", Some(&server)).await;
    assert_eq!(status, 201, "{made}");
    let server_id = made["metadata"]["id"].as_str().unwrap_or_default().to_owned();
    let running = api.until(&server_id, |s| s["status"]["powerState"] == "Running").await;
    assert!(running["status"]["privateIP"].as_str().is_some_and(|ip| ip.starts_with("192.168.40.")), "{running}");
    let nova = admin_get(&real, "nova", &format!("/v2.1/servers/detail?all_tenants=1&project_id={project}")).await;
    let ours = nova["servers"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["metadata"]["unikorn:server:id"] == server_id.as_str());
    assert!(ours.is_some(), "the server is in the network's project: {nova}");
    assert!(region_keypair(&real, &identity_name).await, "the server booted with the identity's key pair");

    let path = format!("/api/v2/networks/{id}");
    let (status, refused) = api.call("DELETE", &path, None).await;
    assert_eq!(status, 403, "in use: {refused}");
    assert_eq!(api.call("DELETE", &format!("/api/v2/servers/{server_id}"), None).await.0, 202);
    let started = Instant::now();
    while api.call("GET", &format!("/api/v2/servers/{server_id}"), None).await.0 != 404 {
        assert!(started.elapsed() < Duration::from_secs(90), "the server never went");
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    let (status, accepted) = api.call("DELETE", &path, None).await;
    assert_eq!(status, 202, "{accepted}");
    converge_until(&api, &id, "gone").await;
    let left = |v: &Value, key: &str| v[key].as_array().map(Vec::len).unwrap_or(0);
    assert_eq!(left(&admin_get(&real, "neutron", &format!("/v2.0/networks?name={name}")).await, "networks"), 0);
    assert_eq!(left(&admin_get(&real, "neutron", &format!("/v2.0/subnets?name={name}")).await, "subnets"), 0);
    assert_eq!(left(&admin_get(&real, "neutron", &format!("/v2.0/routers?name={name}")).await, "routers"), 0);
    assert_eq!(left(&admin_get(&real, "auth_url", &format!("/users?name={identity_name}")).await, "users"), 0);
    assert_eq!(left(&admin_get(&real, "auth_url", &format!("/projects?name={identity_name}")).await, "projects"), 0);
    // The key pair the server booted with belongs to the region's user, not to the project: the
    // teardown removes it (Keystone's project delete does not).
    assert!(!region_keypair(&real, &identity_name).await, "the network's key pair is left at Nova");
}

/// Whether the region's user holds the key pair of the network's identity (Nova, as its admin).
pub(super) async fn region_keypair(real: &Real, identity_name: &str) -> bool {
    let region_user = real.env["demo"]["user_id"].as_str().unwrap_or_default();
    let keypairs = admin_get(real, "nova", &format!("/v2.1/os-keypairs?user_id={region_user}")).await;
    assert!(keypairs["keypairs"].is_array(), "Nova lists the region user's key pairs: {keypairs}");
    let name = format!("unikorn-{}", identity_name.trim_start_matches("unikorn-identity-"));
    keypairs["keypairs"].as_array().into_iter().flatten().any(|k| k["keypair"]["name"].as_str() == Some(&name))
}
