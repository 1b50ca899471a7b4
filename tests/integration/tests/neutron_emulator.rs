//! The emulator's Neutron against the official samples and Neutron's behaviour: every field it
//! answers exists in the sample with the same JSON type, the fields a client reads are there,
//! errors come in `NeutronError` bodies, filters and `limit`/`marker` paging work as Neutron's do,
//! and Nova's view of a server follows its port.

use integration_tests::neutron::{NeutronApi, FIPS, PORTS};
use integration_tests::sample;
use integration_tests::samples::assert_like_sample;
use openstack_emulator::{seed, Emulator};
use serde_json::{json, Value};

struct Neutron {
    emulator: Emulator,
    api: NeutronApi,
    http: reqwest::Client,
}

impl Neutron {
    async fn start() -> Neutron {
        let emulator = Emulator::start_demo().await.unwrap_or_else(|e| panic!("emulator: {e}"));
        let api = NeutronApi::connect(&emulator).await;
        Neutron { emulator, api, http: reqwest::Client::new() }
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.api.call(method, path, body).await
    }
}

const PORT_READS: &[&str] =
    &["id", "name", "network_id", "device_id", "fixed_ips", "mac_address", "security_groups", "allowed_address_pairs"];

#[tokio::test]
async fn neutron_answers_in_the_shape_of_the_official_samples() {
    let n = Neutron::start().await;
    let samples = "neutron/v2/samples";
    let body = json!({"port": {"network_id": seed::TENANT_NETWORK, "name": "web-1",
        "security_groups": [seed::SECURITY_GROUP_WEB], "allowed_address_pairs": [{"ip_address": "10.9.0.0/16"}]}});
    let (status, created) = n.call("POST", PORTS, Some(body)).await;
    assert_eq!(status, 201, "{created}");
    let official = sample(&format!("{samples}/ports/port-create-response.json"));
    assert_like_sample(&created["port"], &official["port"], PORT_READS, "port create");
    let port = &created["port"];
    assert_eq!(port["security_groups"], json!([seed::SECURITY_GROUP_WEB]));
    assert_eq!(
        port["allowed_address_pairs"],
        json!([{"ip_address": "10.9.0.0/16", "mac_address": port["mac_address"]}])
    );
    let id = port["id"].as_str().unwrap_or_default().to_owned();

    let (_, shown) = n.call("GET", &format!("{PORTS}/{id}"), None).await;
    let official = sample(&format!("{samples}/ports/port-show-response.json"));
    assert_like_sample(&shown["port"], &official["port"], PORT_READS, "port show");
    let (_, listed) = n.call("GET", &format!("{PORTS}?name=web-1"), None).await;
    let official = sample(&format!("{samples}/ports/ports-list-response.json"));
    assert_like_sample(&listed["ports"][0], &official["ports"][0], PORT_READS, "port list");
    let update = json!({"port": {"security_groups": [seed::SECURITY_GROUP_SSH], "allowed_address_pairs": []}});
    let (status, updated) = n.call("PUT", &format!("{PORTS}/{id}"), Some(update)).await;
    assert_eq!(status, 200, "{updated}");
    let official = sample(&format!("{samples}/ports/port-update-response.json"));
    assert_like_sample(&updated["port"], &official["port"], PORT_READS, "port update");
    assert_eq!(
        (updated["port"]["security_groups"].clone(), updated["port"]["allowed_address_pairs"].clone()),
        (json!([seed::SECURITY_GROUP_SSH]), json!([]))
    );

    let fip = json!({"floatingip": {"floating_network_id": seed::EXTERNAL_NETWORK, "port_id": id}});
    let (status, fip) = n.call("POST", FIPS, Some(fip)).await;
    assert_eq!(status, 201, "{fip}");
    let official = sample(&format!("{samples}/floatingips/floatingip-create-response.json"));
    let fip_reads = &["id", "floating_ip_address", "floating_network_id", "port_id", "fixed_ip_address"];
    assert_like_sample(&fip["floatingip"], &official["floatingip"], fip_reads, "floating IP create");
    assert_eq!(fip["floatingip"]["fixed_ip_address"], port["fixed_ips"][0]["ip_address"]);
    let (_, fips) = n.call("GET", &format!("{FIPS}?port_id={id}"), None).await;
    let official = sample(&format!("{samples}/floatingips/floating-ips-list-response.json"));
    assert_like_sample(&fips["floatingips"][0], &official["floatingips"][0], fip_reads, "floating IP list");

    let (_, external) = n.call("GET", "/network/v2.0/networks?router:external=true", None).await;
    // The list sample predates tags; the show sample has every field a listed network carries.
    let official = sample(&format!("{samples}/networks/network-show-response.json"));
    let reads = &["id", "name", "router:external", "tags"];
    assert_like_sample(&external["networks"][0], &official["network"], reads, "networks");
    let ids: Vec<&Value> = external["networks"].as_array().into_iter().flatten().map(|n| &n["id"]).collect();
    assert_eq!(ids, [&json!(seed::EXTERNAL_NETWORK), &json!(seed::EXTERNAL_NETWORK_LEGACY)], "only external networks");
    let (_, group) = n.call("GET", &format!("/network/v2.0/security-groups/{}", seed::SECURITY_GROUP_WEB), None).await;
    let official = sample(&format!("{samples}/security-groups/security-group-show-response.json"));
    assert_like_sample(&group["security_group"], &official["security_group"], &["id", "name"], "security group");
}

#[tokio::test]
async fn neutron_refuses_as_neutron_does() {
    let n = Neutron::start().await;
    let error = |body: &Value| body["NeutronError"]["type"].as_str().unwrap_or_default().to_owned();
    let missing_group = json!({"port": {"network_id": seed::TENANT_NETWORK, "security_groups": ["nope"]}});
    let (status, body) = n.call("POST", PORTS, Some(missing_group)).await;
    assert_eq!((status, error(&body)), (404, "SecurityGroupNotFound".into()), "{body}");
    assert!(body["NeutronError"]["message"].as_str().is_some_and(|m| m.contains("nope")), "{body}");
    let (status, body) = n.call("POST", PORTS, Some(json!({"port": {"network_id": "nowhere"}}))).await;
    assert_eq!((status, error(&body)), (404, "NetworkNotFound".into()), "{body}");
    let (status, body) = n.call("POST", PORTS, Some(json!({"port": {"name": "x"}}))).await;
    assert_eq!((status, error(&body)), (400, "HTTPBadRequest".into()), "{body}");
    let bad_pair =
        json!({"port": {"network_id": seed::TENANT_NETWORK, "allowed_address_pairs": [{"ip_address": "10.0.0.0/99"}]}});
    assert_eq!(n.call("POST", PORTS, Some(bad_pair)).await.0, 400);
    let (status, body) = n.call("GET", &format!("{PORTS}/missing"), None).await;
    assert_eq!((status, error(&body)), (404, "PortNotFound".into()), "{body}");
    assert_eq!(n.call("POST", PORTS, None).await.0 / 100, 4, "no body");
    assert_eq!(n.call("GET", &format!("{PORTS}?limit=0"), None).await.0, 400);

    // A floating IP on a tenant network is refused; a port holds one floating IP at most.
    let on_tenant = json!({"floatingip": {"floating_network_id": seed::TENANT_NETWORK}});
    assert_eq!(n.call("POST", FIPS, Some(on_tenant)).await.0, 400);
    let (_, port) = n.call("POST", PORTS, Some(json!({"port": {"network_id": seed::TENANT_NETWORK}}))).await;
    let port_id = port["port"]["id"].as_str().unwrap_or_default().to_owned();
    let fip = json!({"floatingip": {"floating_network_id": seed::EXTERNAL_NETWORK, "port_id": port_id}});
    assert_eq!(n.call("POST", FIPS, Some(fip.clone())).await.0, 201);
    let (status, body) = n.call("POST", FIPS, Some(fip)).await;
    assert_eq!((status, error(&body)), (409, "FloatingIPPortAlreadyAssociated".into()), "{body}");
    let (status, body) = n.call("DELETE", &format!("{FIPS}/missing"), None).await;
    assert_eq!((status, error(&body)), (404, "FloatingIPNotFound".into()), "{body}");

    // Another project sees none of it.
    let body = json!({"auth": {"identity": {"methods": ["application_credential"],
        "application_credential": {"id": seed::OTHER_APP_CRED_ID, "secret": seed::OTHER_APP_CRED_SECRET}}}});
    let response = n.http.post(format!("{}/auth/tokens", n.emulator.auth_url())).json(&body).send().await;
    let response = response.unwrap_or_else(|e| panic!("{e}"));
    let token = response.headers()["x-subject-token"].to_str().unwrap_or_default().to_owned();
    let foreign = n.http.get(format!("{}{PORTS}/{port_id}", n.emulator.url)).header("X-Auth-Token", token).send().await;
    assert_eq!(foreign.map(|r| r.status().as_u16()).ok(), Some(404));
}

#[tokio::test]
async fn ports_page_by_marker_and_filter_by_device() {
    let n = Neutron::start().await;
    let mut made = Vec::new();
    for i in 0..5 {
        let body = json!({"port": {"network_id": seed::TENANT_NETWORK, "name": format!("p{i}"), "device_id": if i < 2 { "dev-a" } else { "" }}});
        let (_, port) = n.call("POST", PORTS, Some(body)).await;
        made.push(port["port"]["id"].as_str().unwrap_or_default().to_owned());
    }
    made.sort();
    let mut seen = Vec::new();
    let mut path = format!("{PORTS}?limit=2");
    loop {
        let (status, page) = n.call("GET", &path, None).await;
        assert_eq!(status, 200, "{page}");
        seen.extend(page["ports"].as_array().into_iter().flatten().filter_map(|p| p["id"].as_str().map(str::to_owned)));
        let Some(next) = page["ports_links"][0]["href"].as_str() else { break };
        path = next.trim_start_matches(&n.emulator.url).to_owned();
    }
    assert_eq!(seen, made, "every port once, in id order");
    let (_, by_device) = n.call("GET", &format!("{PORTS}?device_id=dev-a"), None).await;
    assert_eq!(by_device["ports"].as_array().map(Vec::len), Some(2), "{by_device}");
}

#[tokio::test]
async fn nova_boots_on_a_port_and_reports_its_addresses() {
    let n = Neutron::start().await;
    let (_, port) =
        n.call("POST", PORTS, Some(json!({"port": {"network_id": seed::TENANT_NETWORK, "name": "web"}}))).await;
    let port = &port["port"];
    let port_id = port["id"].as_str().unwrap_or_default().to_owned();
    let boot = json!({"server": {"name": "web", "imageRef": seed::IMAGE_UBUNTU, "flavorRef": seed::FLAVOR_SMALL,
        "networks": [{"port": port_id}]}});
    let (status, server) = n.call("POST", "/compute/v2.1/servers", Some(boot.clone())).await;
    assert_eq!(status, 202, "{server}");
    let server_id = server["server"]["id"].as_str().unwrap_or_default().to_owned();
    let (status, again) = n.call("POST", "/compute/v2.1/servers", Some(boot)).await;
    assert_eq!(status, 409, "a bound port cannot boot a second server: {again}");
    let fip = json!({"floatingip": {"floating_network_id": seed::EXTERNAL_NETWORK, "port_id": port_id}});
    let (_, fip) = n.call("POST", FIPS, Some(fip)).await;
    let (_, shown) = n.call("GET", &format!("/compute/v2.1/servers/{server_id}"), None).await;
    let addresses = &shown["server"]["addresses"]["tenant"];
    assert_eq!(addresses[0]["addr"], port["fixed_ips"][0]["ip_address"], "{shown}");
    assert_eq!(
        (addresses[0]["OS-EXT-IPS:type"].as_str(), addresses[0]["OS-EXT-IPS-MAC:mac_addr"].clone()),
        (Some("fixed"), port["mac_address"].clone())
    );
    assert_eq!(
        (addresses[1]["OS-EXT-IPS:type"].as_str(), addresses[1]["addr"].clone()),
        (Some("floating"), fip["floatingip"]["floating_ip_address"].clone())
    );
    let (_, bound) = n.call("GET", &format!("{PORTS}/{port_id}"), None).await;
    assert_eq!(
        (bound["port"]["device_id"].as_str(), bound["port"]["device_owner"].as_str()),
        (Some(server_id.as_str()), Some("compute:nova"))
    );

    // Deleting the server unbinds the port it was given (Nova does not delete it) and deletes the
    // ports Nova made for a network.
    let by_network = json!({"server": {"name": "auto", "imageRef": seed::IMAGE_UBUNTU, "flavorRef": seed::FLAVOR_SMALL,
        "networks": [{"uuid": seed::TENANT_NETWORK}]}});
    let (_, auto) = n.call("POST", "/compute/v2.1/servers", Some(by_network)).await;
    let auto_id = auto["server"]["id"].as_str().unwrap_or_default().to_owned();
    let (_, made) = n.call("GET", &format!("{PORTS}?device_id={auto_id}"), None).await;
    assert_eq!(made["ports"].as_array().map(Vec::len), Some(1), "{made}");
    for id in [&server_id, &auto_id] {
        assert_eq!(n.call("DELETE", &format!("/compute/v2.1/servers/{id}"), None).await.0, 204);
    }
    let (_, kept) = n.call("GET", &format!("{PORTS}/{port_id}"), None).await;
    assert_eq!(kept["port"]["device_id"], "", "{kept}");
    let (_, gone) = n.call("GET", &format!("{PORTS}?device_id={auto_id}"), None).await;
    assert_eq!(gone["ports"], json!([]), "{gone}");
    let (status, _) = n
        .call(
            "POST",
            "/compute/v2.1/servers",
            Some(json!({"server": {"name": "x",
        "imageRef": seed::IMAGE_UBUNTU, "flavorRef": seed::FLAVOR_SMALL, "networks": [{"uuid": "nowhere"}]}})),
        )
        .await;
    assert_eq!(status, 400, "an unknown network");
}
