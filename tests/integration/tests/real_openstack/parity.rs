//! The emulator against the real services: one scenario, driven over raw HTTP on both, compared.

use super::*;

/// One cloud as the scenario drives it: raw HTTP, endpoints from the token's catalog.
struct Cloud {
    http: reqwest::Client,
    token: String,
    compute: String,
    network: String,
    ids: BTreeMap<&'static str, String>,
}

impl Cloud {
    async fn connect(auth_url: &str, cred: (&str, &str), ids: BTreeMap<&'static str, String>) -> Cloud {
        let http = reqwest::Client::new();
        let body = serde_json::json!({"auth": {"identity": {"methods": ["application_credential"],
            "application_credential": {"id": cred.0, "secret": cred.1}}}});
        let response =
            http.post(format!("{auth_url}/auth/tokens")).json(&body).send().await.unwrap_or_else(|e| panic!("{e}"));
        let token = response.headers()["x-subject-token"].to_str().unwrap_or_default().to_owned();
        let catalog: Value = response.json().await.unwrap_or_default();
        let url = |kind: &str| {
            let entry =
                catalog["token"]["catalog"].as_array().and_then(|c| c.iter().find(|e| e["type"] == kind).cloned());
            let endpoints = entry.map(|e| e["endpoints"].clone()).unwrap_or_default();
            let public = endpoints.as_array().and_then(|l| l.iter().find(|e| e["interface"] == "public").cloned());
            public.and_then(|e| e["url"].as_str().map(|u| u.trim_end_matches('/').to_owned())).unwrap_or_default()
        };
        Cloud { compute: url("compute"), network: url("network"), http, token, ids }
    }

    async fn call(&self, method: &str, url: String, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::GET);
        let mut request = self
            .http
            .request(method, url)
            .header("X-Auth-Token", &self.token)
            .header("OpenStack-API-Version", "compute 2.100");
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap_or_else(|e| panic!("{e}"));
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Polls the server until `done`, recording each distinct (status, task state) seen.
    async fn states_until(&self, id: &str, done: &str, seen: &mut Vec<String>) {
        let started = Instant::now();
        loop {
            let (_, shown) = self.call("GET", format!("{}/servers/{id}", self.compute), None).await;
            let state = format!(
                "{}/{}",
                shown["server"]["status"].as_str().unwrap_or("?"),
                shown["server"]["OS-EXT-STS:task_state"].as_str().unwrap_or("-")
            );
            if seen.last() != Some(&state) {
                seen.push(state.clone());
            }
            if state == format!("{done}/-") {
                return;
            }
            assert!(started.elapsed() < Duration::from_secs(60), "never {done}: {seen:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Polls until the server is deleted (404).
    async fn gone(&self, server: &str) {
        let started = Instant::now();
        while self.call("GET", format!("{}/servers/{server}", self.compute), None).await.0 != 404 {
            assert!(started.elapsed() < Duration::from_secs(60), "server {server} never deleted");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The scenario: what the client reads at each step, as (step, status, shape) lines.
    async fn scenario(&self) -> Vec<String> {
        let id = |k: &str| self.ids[k].clone();
        let keys =
            |v: &Value| v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>().join(",")).unwrap_or_default();
        let mut out = Vec::new();
        let (status, missing) =
            self.call("GET", format!("{}/servers/00000000-0000-4000-8000-000000000000", self.compute), None).await;
        out.push(format!("missing server: {status} {}", keys(&missing)));
        let (status, missing) =
            self.call("GET", format!("{}/v2.0/ports/00000000-0000-4000-8000-000000000000", self.network), None).await;
        out.push(format!("missing port: {status} {} {}", keys(&missing), missing["NeutronError"]["type"]));
        let port = serde_json::json!({"port": {"name": "scenario", "network_id": id("network"),
            "security_groups": [id("group")], "allowed_address_pairs": [{"ip_address": "10.9.0.0/16"}]}});
        let (status, port) = self.call("POST", format!("{}/v2.0/ports", self.network), Some(port)).await;
        let p = &port["port"];
        out.push(format!(
            "port: {status} fixed ip {} mac {} pair mac is the port's {}",
            p["fixed_ips"][0]["ip_address"].is_string(),
            p["mac_address"].is_string(),
            p["allowed_address_pairs"][0]["mac_address"] == p["mac_address"]
        ));
        let port_id = p["id"].as_str().unwrap_or_default().to_owned();
        // A boot no host can take (real Nova: m1.nohost's disk; the emulator: its switch): ERROR
        // with the scheduler's fault, the port never bound, and free for the next boot once the
        // failed server is deleted (what placing a server again relies on).
        let boot = serde_json::json!({"server": {"name": "scenario-nohost", "imageRef": id("image"),
            "flavorRef": id("nohost"), "networks": [{"port": port_id}]}});
        let (status, created) = self.call("POST", format!("{}/servers", self.compute), Some(boot)).await;
        out.push(format!("boot without a host: {status}"));
        let nohost = created["server"]["id"].as_str().unwrap_or_default().to_owned();
        self.states_until(&nohost, "ERROR", &mut Vec::new()).await;
        let (_, shown) = self.call("GET", format!("{}/servers/{nohost}", self.compute), None).await;
        let (s, fault) = (&shown["server"], &shown["server"]["fault"]);
        out.push(format!(
            "no host: fault {} {}, power state {}, addresses {}",
            fault["code"], fault["message"], s["OS-EXT-STS:power_state"], s["addresses"]
        ));
        let (_, unbound) = self.call("GET", format!("{}/v2.0/ports/{port_id}", self.network), None).await;
        out.push(format!("port of a server without a host: device_id {}", unbound["port"]["device_id"]));
        let url = format!("{}/servers/{nohost}", self.compute);
        out.push(format!("delete without a host: {}", self.call("DELETE", url, None).await.0));
        self.gone(&nohost).await;
        let boot = serde_json::json!({"server": {"name": "scenario", "imageRef": id("image"), "flavorRef": id("flavor"),
            "networks": [{"port": port_id}], "metadata": {"unikorn:server:id": "scenario"}}});
        let (status, created) = self.call("POST", format!("{}/servers", self.compute), Some(boot)).await;
        out.push(format!("boot: {status} {}", keys(&created["server"]).contains("id")));
        let server = created["server"]["id"].as_str().unwrap_or_default().to_owned();
        let mut states = Vec::new();
        self.states_until(&server, "ACTIVE", &mut states).await;
        // Task states pass too fast to compare one by one; the status sequence is what the client reads.
        let first = states.first().and_then(|s| s.split('/').next()).unwrap_or("?").to_owned();
        out.push(format!("boot ends ACTIVE, first seen {first}"));
        let (_, shown) = self.call("GET", format!("{}/servers/{server}", self.compute), None).await;
        let s = &shown["server"];
        for field in ["id", "status", "OS-EXT-STS:task_state", "addresses", "metadata", "created", "fault"] {
            if field != "fault" {
                out.push(format!("server has {field}: {}", s.get(field).is_some()));
            }
        }
        out.push(format!("flavor original_name: {}", s["flavor"]["original_name"].is_string()));
        out.push(format!("image id: {}", s["image"]["id"].is_string()));
        let stop = serde_json::json!({"os-stop": null});
        let action = format!("{}/servers/{server}/action", self.compute);
        out.push(format!("stop: {}", self.call("POST", action.clone(), Some(stop.clone())).await.0));
        let mut states = Vec::new();
        self.states_until(&server, "SHUTOFF", &mut states).await;
        let (status, again) = self.call("POST", action.clone(), Some(stop)).await;
        out.push(format!("stop again: {status} {}", keys(&again)));
        let (status, console) =
            self.call("POST", action, Some(serde_json::json!({"os-getConsoleOutput": {"length": 5}}))).await;
        out.push(format!("console of a stopped server: {status} {}", keys(&console)));
        let (status, page) = self.call("GET", format!("{}/servers/detail?limit=1", self.compute), None).await;
        out.push(format!("list limit 1: {status} {} servers", page["servers"].as_array().map_or(0, Vec::len)));
        let fip = serde_json::json!({"floatingip": {"floating_network_id": id("external"), "port_id": port_id, "description": "scenario"}});
        let (status, fip) = self.call("POST", format!("{}/v2.0/floatingips", self.network), Some(fip)).await;
        out.push(format!("floating ip: {status} address {}", fip["floatingip"]["floating_ip_address"].is_string()));
        let (_, by_port) = self.call("GET", format!("{}/v2.0/floatingips?port_id={port_id}", self.network), None).await;
        out.push(format!("floating ips of the port: {}", by_port["floatingips"].as_array().map_or(0, Vec::len)));
        let fip_id = fip["floatingip"]["id"].as_str().unwrap_or_default();
        out.push(format!(
            "release: {}",
            self.call("DELETE", format!("{}/v2.0/floatingips/{fip_id}", self.network), None).await.0
        ));
        out.push(format!(
            "delete: {}",
            self.call("DELETE", format!("{}/servers/{server}", self.compute), None).await.0
        ));
        self.gone(&server).await;
        let (_, left) = self.call("GET", format!("{}/v2.0/ports/{port_id}", self.network), None).await;
        out.push(format!("pre-made port left after the server, unbound: {}", left["port"]["device_id"] == ""));
        out.push(format!(
            "port delete: {}",
            self.call("DELETE", format!("{}/v2.0/ports/{port_id}", self.network), None).await.0
        ));
        out.push(format!(
            "port delete again: {}",
            self.call("DELETE", format!("{}/v2.0/ports/{port_id}", self.network), None).await.0
        ));
        out
    }
}

/// One scenario against the emulator and the real services: the status codes, error body shapes,
/// state sequences, paging and the fields the client reads must agree.
#[tokio::test]
async fn the_emulator_answers_as_the_real_services_do() {
    let Some(real) = Real::connect().await else { return };
    use openstack_emulator::seed;
    let emulator = openstack_emulator::Emulator::start_demo().await.unwrap_or_else(|e| panic!("{e}"));
    // Real Nova's pace with the fake driver (the emulator's default is instant, for fast suites).
    let pace = openstack_emulator::Delays { build_ms: 500, action_ms: 300, delete_ms: 200, ..Default::default() };
    emulator.set_delays(pace);
    let ids = |network: String, image: String, flavor: String, nohost: String, group: String, external: String| {
        BTreeMap::from([
            ("network", network),
            ("image", image),
            ("flavor", flavor),
            ("nohost", nohost),
            ("group", group),
            ("external", external),
        ])
    };
    let emulated = Cloud::connect(
        &emulator.auth_url(),
        (seed::DEMO_APP_CRED_ID, seed::DEMO_APP_CRED_SECRET),
        ids(
            seed::TENANT_NETWORK.into(),
            seed::IMAGE_UBUNTU.into(),
            seed::FLAVOR_SMALL.into(),
            // The emulator's scheduler switch (set below) stands for a flavor no host fits.
            seed::FLAVOR_SMALL.into(),
            seed::SECURITY_GROUP_WEB.into(),
            seed::EXTERNAL_NETWORK.into(),
        ),
    )
    .await;
    let demo = &real.env["demo"];
    let genuine = Cloud::connect(
        real.env["auth_url"].as_str().unwrap_or_default(),
        (demo["app_cred_id"].as_str().unwrap_or_default(), demo["app_cred_secret"].as_str().unwrap_or_default()),
        ids(
            real.id("network_id"),
            real.id("image_id"),
            real.id("flavor_small"),
            real.id("flavor_nohost"),
            real.id("security_group_web"),
            real.id("external_network_id"),
        ),
    )
    .await;
    emulator.fail_next_creates(1);
    let (ours, theirs) = (emulated.scenario().await, genuine.scenario().await);
    let differences: Vec<String> =
        ours.iter().zip(&theirs).filter(|(a, b)| a != b).map(|(a, b)| format!("emulator `{a}`, real `{b}`")).collect();
    println!("scenario (real):\n{}", theirs.join("\n"));
    assert_eq!(ours.len(), theirs.len());
    assert!(differences.is_empty(), "the emulator differs from the real services:\n{}", differences.join("\n"));
}
