//! A v1 identity on real Keystone and Nova, with the region's credential: its project, user,
//! application credential, server group (Nova 2.64's `policy`) and key pair (its own user's), as
//! its read hands them out; then a delete that leaves nothing; each read back as the services' admin.

use base64::Engine as _;

use super::real_api::{admin_get, RealApi};
use super::*;

/// Runs the worker's own step (as the queue would) until the identity reaches `stage` (or is gone).
async fn converge_until(api: &RealApi, path: &str, id: &str, stage: &str) -> Value {
    let started = Instant::now();
    loop {
        let converged = shared::usecase::identities::converge_identity(&api.deps, id).await;
        let (status, shown) = api.call("GET", path, None).await;
        if status == 404 && stage == "gone" || shown["metadata"]["provisioningStatus"] == stage {
            return shown;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "identity {id} never {stage}: {converged:?} {shown}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test]
async fn a_v1_identity_is_provisioned_handed_out_and_removed_on_real_openstack() {
    let Some(real) = Real::connect().await else { return };
    let api = RealApi::start(&real).await;
    let (org, project) = (integration_tests::stack::ORG, integration_tests::stack::PROJECT);
    let identities = format!("/api/v1/organizations/{org}/projects/{project}/identities");
    let body = serde_json::json!({"metadata": {"name": "real-cluster"}, "spec": {"regionId": integration_tests::stack::REGION}});
    let (status, created) = api.call("POST", &identities, Some(&body)).await;
    assert_eq!(status, 201, "{created}");
    let id = created["metadata"]["id"].as_str().unwrap_or_default().to_owned();
    let path = format!("{identities}/{id}");
    let shown = converge_until(&api, &path, &id, "provisioned").await;
    let openstack = &shown["spec"]["openstack"];
    let name = format!("unikorn-identity-{id}");

    let projects = admin_get(&real, "auth_url", &format!("/projects?name={name}")).await;
    assert_eq!(projects["projects"][0]["id"], openstack["projectId"], "{projects}");
    let users = admin_get(&real, "auth_url", &format!("/users?name={name}")).await;
    assert_eq!(users["users"][0]["id"], openstack["userId"], "{users}");
    let user = openstack["userId"].as_str().unwrap_or_default();
    let group_id = openstack["serverGroupId"].as_str().unwrap_or_default();
    let groups = admin_get(&real, "nova", "/v2.1/os-server-groups?all_projects=True").await;
    let group = groups["server_groups"].as_array().into_iter().flatten().find(|g| g["id"] == group_id).cloned();
    let group = group.unwrap_or_else(|| panic!("no server group {group_id}: {groups}"));
    assert_eq!((group["name"].as_str(), group["policy"].as_str()), (Some(name.as_str()), Some("soft-anti-affinity")));
    assert_eq!(group["project_id"], openstack["projectId"]);
    let keypairs = admin_get(&real, "nova", &format!("/v2.1/os-keypairs?user_id={user}")).await;
    assert_eq!(keypairs["keypairs"][0]["keypair"]["name"], "unikorn-openstack-provider", "{keypairs}");
    // The cloud config authenticates at real Keystone with the application credential it holds.
    let config =
        base64::engine::general_purpose::URL_SAFE.decode(openstack["cloudConfig"].as_str().unwrap_or_default());
    let config = String::from_utf8(config.unwrap_or_default()).unwrap_or_default();
    let field = |key: &str| -> String {
        config
            .lines()
            .find_map(|l| l.trim().strip_prefix(&format!("{key}: ")))
            .map(|v| v.trim_matches('"').to_owned())
            .unwrap_or_default()
    };
    let auth = serde_json::json!({"auth": {"identity": {"methods": ["application_credential"], "application_credential":
        {"id": field("application_credential_id"), "secret": field("application_credential_secret")}}}});
    let token = reqwest::Client::new().post(format!("{}/auth/tokens", field("auth_url"))).json(&auth).send().await;
    assert_eq!(token.map(|r| r.status().as_u16()).ok(), Some(201), "the handed-out credential authenticates: {config}");

    assert_eq!(api.call("DELETE", &path, None).await.0, 202);
    converge_until(&api, &path, &id, "gone").await;
    let left = |v: &Value, key: &str| v[key].as_array().map(Vec::len).unwrap_or(0);
    assert_eq!(left(&admin_get(&real, "auth_url", &format!("/users?name={name}")).await, "users"), 0);
    assert_eq!(left(&admin_get(&real, "auth_url", &format!("/projects?name={name}")).await, "projects"), 0);
    let groups = admin_get(&real, "nova", "/v2.1/os-server-groups?all_projects=True").await;
    assert!(!groups["server_groups"].as_array().into_iter().flatten().any(|g| g["id"] == group_id), "{groups}");
    let keypairs = admin_get(&real, "nova", &format!("/v2.1/os-keypairs?user_id={user}")).await;
    assert_eq!(left(&keypairs, "keypairs"), 0, "{keypairs}");
}

/// Runs the worker's own step until the v1 network reaches `stage`.
async fn network_until(api: &RealApi, path: &str, id: &str, stage: &str) -> Value {
    let started = Instant::now();
    loop {
        let converged = shared::usecase::networks::converge(&api.deps, id).await;
        let (_, shown) = api.call("GET", path, None).await;
        if shown["metadata"]["provisioningStatus"] == stage {
            return shown;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "network {id} never {stage}: {converged:?} {shown}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// uni-compute's path: an identity, a v1 network in the identity's project (Neutron network,
/// subnet, router), a server on it in that project booted with the identity's key; then one
/// `DELETE` of the identity takes the server, the network and the identity, leaving nothing.
#[tokio::test]
async fn a_v1_identity_with_a_network_and_a_server_goes_with_one_delete_on_real_openstack() {
    let Some(real) = Real::connect().await else { return };
    let api = RealApi::start(&real).await;
    let (org, project) = (integration_tests::stack::ORG, integration_tests::stack::PROJECT);
    let identities = format!("/api/v1/organizations/{org}/projects/{project}/identities");
    let body =
        serde_json::json!({"metadata": {"name": "real-v1"}, "spec": {"regionId": integration_tests::stack::REGION}});
    let (_, created) = api.call("POST", &identities, Some(&body)).await;
    let id = created["metadata"]["id"].as_str().unwrap_or_default().to_owned();
    let path = format!("{identities}/{id}");
    let shown = converge_until(&api, &path, &id, "provisioned").await;
    let identity_project = shown["spec"]["openstack"]["projectId"].as_str().unwrap_or_default().to_owned();

    let body =
        serde_json::json!({"metadata": {"name": "net"}, "spec": {"prefix": "192.168.60.0/24", "dnsNameservers": []}});
    let (status, created) = api.call("POST", &format!("{path}/networks"), Some(&body)).await;
    assert_eq!(status, 201, "{created}");
    let network_id = created["metadata"]["id"].as_str().unwrap_or_default().to_owned();
    let network_path = format!("{path}/networks/{network_id}");
    let shown = network_until(&api, &network_path, &network_id, "provisioned").await;
    let name = format!("network-{network_id}");
    let networks = admin_get(&real, "neutron", &format!("/v2.0/networks?name={name}")).await;
    assert_eq!(networks["networks"][0]["project_id"], identity_project.as_str(), "{networks}");
    assert_eq!(shown["spec"]["openstack"]["networkId"], networks["networks"][0]["id"], "{shown}");
    let subnets = admin_get(&real, "neutron", &format!("/v2.0/subnets?name={name}")).await;
    assert_eq!(subnets["subnets"][0]["id"], shown["spec"]["openstack"]["subnetId"], "{subnets}");
    assert_eq!(subnets["subnets"][0]["gateway_ip"], "192.168.60.1");

    // A v1 security group (Unikorn's body), made in the identity's project; the server names it.
    let group = serde_json::json!({"metadata": {"name": "ssh"}, "spec": {"rules": [
        {"direction": "ingress", "protocol": "tcp", "port": {"number": 22}, "cidr": "10.0.0.0/8"}]}});
    let (status, group) = api.call("POST", &format!("{path}/securitygroups"), Some(&group)).await;
    assert_eq!(status, 201, "{group}");
    let group_id = group["metadata"]["id"].as_str().unwrap_or_default().to_owned();
    let converged = shared::usecase::security_groups::converge_security_group(&api.deps, &group_id).await;
    assert!(converged.is_ok(), "{converged:?}");
    let group_name = format!("securitygroup-{group_id}");
    let groups = admin_get(&real, "neutron", &format!("/v2.0/security-groups?name={group_name}")).await;
    assert_eq!(groups["security_groups"][0]["project_id"], identity_project.as_str(), "{groups}");
    let group_at_neutron = groups["security_groups"][0]["id"].clone();
    let server = serde_json::json!({"metadata": {"name": "worker-0"}, "spec": {"flavorId": real.id("flavor_small"),
        "imageId": real.id("image_id"), "networks": [{"id": network_id}], "securityGroups": [{"id": group_id}]}});
    let (status, made) = api.call("POST", &format!("{path}/servers"), Some(&server)).await;
    assert_eq!(status, 201, "{made}");
    let server_id = made["metadata"]["id"].as_str().unwrap_or_default().to_owned();
    let nova =
        admin_get(&real, "nova", &format!("/v2.1/servers/detail?all_tenants=1&project_id={identity_project}")).await;
    let ours = nova["servers"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|s| s["metadata"]["unikorn:server:id"] == server_id.as_str());
    assert!(ours, "the server is in the identity's project: {nova}");
    let ports = admin_get(&real, "neutron", &format!("/v2.0/ports?name={server_id}")).await;
    assert_eq!(ports["ports"][0]["security_groups"], serde_json::json!([group_at_neutron]), "{ports}");
    assert!(
        super::networks::region_keypair(&real, &format!("unikorn-identity-{id}")).await,
        "booted with the identity's key"
    );

    assert_eq!(api.call("DELETE", &path, None).await.0, 202);
    let started = Instant::now();
    while api.call("GET", &path, None).await.0 != 404 {
        assert!(started.elapsed() < Duration::from_secs(180), "the identity never went");
        api.cleanup(300).await;
        let _ = shared::usecase::identities::converge_identity(&api.deps, &id).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let left = |v: &Value, key: &str| v[key].as_array().map(Vec::len).unwrap_or(0);
    assert_eq!(left(&admin_get(&real, "neutron", &format!("/v2.0/networks?name={name}")).await, "networks"), 0);
    assert_eq!(left(&admin_get(&real, "neutron", &format!("/v2.0/subnets?name={name}")).await, "subnets"), 0);
    assert_eq!(left(&admin_get(&real, "neutron", &format!("/v2.0/routers?name={name}")).await, "routers"), 0);
    let groups = admin_get(&real, "neutron", &format!("/v2.0/security-groups?name={group_name}")).await;
    assert_eq!(left(&groups, "security_groups"), 0, "the identity's group went with it: {groups}");
    let ident = format!("unikorn-identity-{id}");
    assert_eq!(left(&admin_get(&real, "auth_url", &format!("/projects?name={ident}")).await, "projects"), 0);
    assert_eq!(left(&admin_get(&real, "auth_url", &format!("/users?name={ident}")).await, "users"), 0);
    let nova =
        admin_get(&real, "nova", &format!("/v2.1/servers/detail?all_tenants=1&project_id={identity_project}")).await;
    assert_eq!(left(&nova, "servers"), 0, "{nova}");
    assert!(!super::networks::region_keypair(&real, &ident).await, "the key pair the server booted with is gone");
}
