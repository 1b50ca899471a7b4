//! Conformance with Unikorn's own contract: a client's whole v2 server life cycle through the local
//! API, every response recorded and validated against Unikorn's published OpenAPI document
//! (`../shared/reference/unikorn/server.spec.yaml`) by a maintained validator (openapi-core, in
//! `.venv-api`). A response the document does not allow fails the test, naming the route and the
//! field, unless `docs/contract-extensions.json` lists it.

use integration_tests::stack::*;
use integration_tests::{reference_dir, repo_root};
use openstack_emulator::{seed, Fault};
use serde_json::{json, Value};

struct Recorder<'a> {
    stack: &'a Stack,
    exchanges: Vec<Value>,
}

impl Recorder<'_> {
    async fn call(&mut self, method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> Reply {
        let reply = self.stack.call(method, path, token, body).await;
        self.record(method, path, &reply);
        reply
    }

    async fn send(&mut self, method: &str, path: &str, request: reqwest::RequestBuilder) -> Reply {
        let reply = self.stack.send(request).await;
        self.record(method, path, &reply);
        reply
    }

    /// Soft and hard reboot, stop (each settled by a cleanup run), a stop in the wrong state, a start
    /// without permission, one of a missing server, and the start.
    async fn power_cycle(&mut self, path: &str, missing: &str, admin: &str, reader: &str) {
        for verb in ["softreboot", "hardreboot", "stop"] {
            let reply = self.call("POST", &format!("{path}/{verb}"), Some(admin), None).await;
            assert_eq!(reply.status, 202, "{verb}: {}", reply.body);
            self.stack.cleanup(300).await;
        }
        self.call("POST", &format!("{path}/stop"), Some(admin), None).await;
        self.call("POST", &format!("{path}/start"), Some(reader), None).await;
        self.call("POST", &format!("{missing}/start"), Some(admin), None).await;
        self.call("POST", &format!("{path}/start"), Some(admin), None).await;
    }

    /// Validates every recorded exchange against Unikorn's document (and `docs/contract-extensions.json`).
    fn check(&self, what: &str) {
        let file = std::env::temp_dir().join(format!("exchanges-{}.json", uuid::Uuid::new_v4().simple()));
        std::fs::write(&file, serde_json::to_vec_pretty(&self.exchanges).unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}"));
        let (ok, text) = run_checker("validate.py", &[file, repo_root().join("docs/contract-extensions.json")]);
        assert!(ok, "{what} that Unikorn's document does not allow:\n{text}");
    }

    fn record(&mut self, method: &str, path: &str, reply: &Reply) {
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        let query: serde_json::Map<String, Value> = query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (k.to_owned(), json!(v.replace("%3D", "="))))
            .collect();
        self.exchanges.push(json!({"method": method, "path": path, "query": query, "status": reply.status,
            "body": reply.body}));
    }
}

#[tokio::test]
async fn every_server_route_answers_as_unikorns_document_says() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let reader = stack.token("reader", &project_acl(ORG, PROJECT, &[("region:servers", &["read"])]));
    let mut r = Recorder { stack: &stack, exchanges: Vec::new() };
    let missing = "00000000-0000-4000-8000-000000000000";

    let mut body = stack.server_body("web", &stack.network_id);
    body["metadata"]["tags"] = json!([{"name": "team", "value": "blue"}]);
    let created = r.call("POST", "/api/v2/servers", Some(&admin), Some(&body)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.id();
    let path = format!("/api/v2/servers/{id}");
    r.call("POST", "/api/v2/servers", Some(&admin), Some(&body)).await;
    r.call("POST", "/api/v2/servers", Some(&admin), Some(&json!({"metadata": {}}))).await;
    r.call("POST", "/api/v2/servers", None, Some(&body)).await;
    r.call("POST", "/api/v2/servers", Some(&reader), Some(&stack.server_body("other", &stack.network_id))).await;

    r.call("GET", &path, Some(&admin), None).await;
    r.call("GET", &format!("/api/v2/servers/{missing}"), Some(&admin), None).await;
    r.call("GET", "/api/v2/servers/not-a-uuid", Some(&admin), None).await;
    r.call("GET", &path, None, None).await;
    r.call("GET", "/api/v2/servers", Some(&admin), None).await;
    r.call("GET", &format!("/api/v2/servers?organizationID={ORG}&projectID={PROJECT}"), Some(&admin), None).await;
    r.call("GET", "/api/v2/servers?tag=team%3Dblue", Some(&admin), None).await;
    r.call("GET", "/api/v2/servers?limit=0", Some(&admin), None).await;

    let update = json!({"metadata": {"name": "web", "description": "d"},
        "spec": {"flavorId": seed::FLAVOR_SMALL, "imageId": seed::IMAGE_UBUNTU}});
    r.call("PUT", &path, Some(&admin), Some(&update)).await;
    r.call("PUT", &path, Some(&admin), Some(&json!({"spec": {}}))).await;
    r.call("PUT", &path, Some(&reader), Some(&update)).await;
    r.call("PUT", &format!("/api/v2/servers/{missing}"), Some(&admin), Some(&update)).await;
    let stale = stack.request("PUT", &path, Some(&admin), Some(&update)).header("if-match", "\"1\"");
    r.send("PUT", &path, stale).await;

    r.call("POST", &format!("{path}/start"), Some(&admin), None).await;
    r.power_cycle(&path, &format!("/api/v2/servers/{missing}"), &admin, &reader).await;
    stack.cleanup(300).await;

    r.call("GET", &format!("{path}/consoleoutput"), Some(&admin), None).await;
    r.call("GET", &format!("{path}/consoleoutput?length=5"), Some(&admin), None).await;
    r.call("GET", &format!("{path}/consolesessions"), Some(&admin), None).await;
    r.call("GET", &format!("{path}/sshkey"), Some(&admin), None).await;
    r.call("GET", &format!("/api/v2/servers/{missing}/sshkey"), Some(&admin), None).await;

    let snapshot = json!({"metadata": {"name": "snap"}, "spec": {}});
    let shot = r.call("POST", &format!("{path}/snapshot"), Some(&admin), Some(&snapshot)).await;
    assert_eq!(shot.status, 201, "{}", shot.body);
    r.call("POST", &format!("{path}/snapshot"), Some(&reader), Some(&snapshot)).await;

    stack.emulator.inject(Fault::status("POST", "/compute/v2.1/servers/*/action", 503));
    r.call("POST", &format!("{path}/stop"), Some(&admin), None).await;

    // SSH certificate authorities, and a server bound to one.
    let ca_path = "/api/v2/sshcertificateauthorities";
    let ca_body = |key: &str| {
        json!({"metadata": {"name": "user-ca"}, "spec": {"organizationId": ORG,
        "projectId": PROJECT, "publicKey": key}})
    };
    let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
    let ca = r.call("POST", ca_path, Some(&admin), Some(&ca_body(key))).await;
    assert_eq!(ca.status, 201, "{}", ca.body);
    let ca_id = ca.id();
    r.call("POST", ca_path, Some(&admin), Some(&ca_body("ssh-rsa nope"))).await;
    r.call("POST", ca_path, Some(&reader), Some(&ca_body(key))).await;
    r.call("POST", ca_path, Some(&admin), Some(&json!({"spec": {}}))).await;
    r.call("GET", ca_path, Some(&admin), None).await;
    r.call("GET", &format!("{ca_path}?projectID={PROJECT}&tag=a%3Db"), Some(&admin), None).await;
    r.call("GET", &format!("{ca_path}/{ca_id}"), Some(&admin), None).await;
    r.call("GET", &format!("{ca_path}/{missing}"), Some(&admin), None).await;
    r.call("GET", &format!("{ca_path}/not-a-uuid"), Some(&admin), None).await;
    let mut bound = stack.server_body("bound", &stack.network_id);
    bound["spec"]["sshCertificateAuthorityId"] = json!(ca_id);
    let bound = r.call("POST", "/api/v2/servers", Some(&admin), Some(&bound)).await;
    assert_eq!(bound.status, 201, "{}", bound.body);
    r.call("DELETE", &format!("{ca_path}/{ca_id}"), Some(&admin), None).await;
    r.call("DELETE", &format!("/api/v2/servers/{}", bound.id()), Some(&admin), None).await;
    r.call("DELETE", &format!("{ca_path}/{ca_id}"), Some(&admin), None).await;
    r.call("DELETE", &format!("{ca_path}/{missing}"), Some(&admin), None).await;

    // Over the fair-use limit: 429 with the error body (reads until the organization's bucket is empty).
    let mut over = None;
    for _ in 0..2000 {
        let reply = stack.call("GET", &path, Some(&admin), None).await;
        if reply.status == 429 {
            over = Some(reply);
            break;
        }
    }
    let over = over.unwrap_or_else(|| panic!("the read bucket never ran out"));
    assert_eq!(over.body["error"], "invalid_request", "{}", over.body);
    r.record("GET", &path, &over);

    r.call("DELETE", &path, Some(&reader), None).await;
    r.call("DELETE", &path, Some(&admin), None).await;
    r.call("DELETE", &format!("/api/v2/servers/{missing}"), Some(&admin), None).await;

    r.check("responses");
}

/// The v1 surface's life cycle (identities, networks, servers, power, console, both lists, the
/// errors a client meets), every response validated against Unikorn's document the same way.
#[tokio::test]
async fn every_v1_route_answers_as_unikorns_document_says() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let reader = stack.token("reader", &project_acl(ORG, PROJECT, &[("region:servers", &["read"])]));
    let stranger = stack.token("stranger", &project_acl(ORG_2, PROJECT_C, &[("region:servers", ALL)]));
    let mut r = Recorder { stack: &stack, exchanges: Vec::new() };
    let missing = "00000000-0000-4000-8000-000000000000";

    let identities = format!("/api/v1/organizations/{ORG}/projects/{PROJECT}/identities");
    let identity = r
        .call(
            "POST",
            &identities,
            Some(&admin),
            Some(&json!({"metadata": {"name": "cluster"},
        "spec": {"regionId": REGION}})),
        )
        .await;
    assert_eq!(identity.status, 201, "{}", identity.body);
    let home = format!("{identities}/{}", identity.id());
    r.call(
        "POST",
        &identities,
        Some(&admin),
        Some(&json!({"metadata": {"name": "x"}, "spec": {"regionId": "nowhere"}})),
    )
    .await;
    r.call("POST", &identities, None, Some(&json!({"metadata": {"name": "x"}, "spec": {"regionId": REGION}}))).await;
    r.call("POST", &identities, Some(&reader), Some(&json!({"metadata": {"name": "x"}, "spec": {"regionId": REGION}})))
        .await;
    r.call("GET", &identities, Some(&admin), None).await;
    r.call("GET", &home, Some(&admin), None).await;
    r.call("GET", &format!("{identities}/{missing}"), Some(&admin), None).await;

    let network_body = json!({"metadata": {"name": "net"}, "spec": {"prefix": "10.0.0.0/24",
        "dnsNameservers": ["8.8.8.8"]}});
    let network = r.call("POST", &format!("{home}/networks"), Some(&admin), Some(&network_body)).await;
    assert_eq!(network.status, 201, "{}", network.body);
    let network_id = network.id();
    // Provisioned by the worker in the identity's project; the read then carries its Neutron ids.
    let started = std::time::Instant::now();
    let network_path = format!("{home}/networks/{network_id}");
    while stack.call("GET", &network_path, Some(&admin), None).await.stage() != "provisioned" {
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "the v1 network was never provisioned");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    r.call("POST", &format!("{home}/networks"), Some(&admin), Some(&json!({"metadata": {"name": "n"}}))).await;
    r.call("POST", &format!("{identities}/{missing}/networks"), Some(&admin), Some(&network_body)).await;
    r.call("GET", &format!("{home}/networks"), Some(&admin), None).await;
    r.call("GET", &format!("{home}/networks/{network_id}"), Some(&admin), None).await;
    r.call("GET", &format!("{home}/networks/{missing}"), Some(&admin), None).await;
    for kind in ["identities", "networks"] {
        r.call("GET", &format!("/api/v1/organizations/{ORG}/{kind}"), Some(&admin), None).await;
        r.call("GET", &format!("/api/v1/organizations/{ORG}/{kind}"), Some(&stranger), None).await;
    }

    let mut body = stack.v1_server_body("web", &network_id);
    body["metadata"]["tags"] = json!([{"name": "team", "value": "blue"}]);
    body["spec"]["publicIPAllocation"] = json!({"enabled": false});
    let created = r.call("POST", &format!("{home}/servers"), Some(&admin), Some(&body)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let path = format!("{home}/servers/{}", created.id());
    r.call("POST", &format!("{home}/servers"), Some(&admin), Some(&body)).await;
    r.call("POST", &format!("{home}/servers"), Some(&admin), Some(&json!({"metadata": {}}))).await;
    r.call("POST", &format!("{home}/servers"), None, Some(&body)).await;
    r.call("POST", &format!("{home}/servers"), Some(&reader), Some(&stack.v1_server_body("other", &network_id))).await;
    r.call("POST", &format!("{home}/servers"), Some(&admin), Some(&stack.v1_server_body("other", missing))).await;

    r.call("GET", &path, Some(&admin), None).await;
    r.call("GET", &format!("{home}/servers/{missing}"), Some(&admin), None).await;
    r.call("GET", &format!("{home}/servers/not-a-uuid"), Some(&admin), None).await;
    r.call("GET", &path, Some(&stranger), None).await;
    r.call("GET", &format!("{home}/servers"), Some(&admin), None).await;
    r.call("GET", &format!("/api/v1/organizations/{ORG}/servers"), Some(&admin), None).await;
    r.call("GET", &format!("/api/v1/organizations/{ORG}/servers?tag=team%3Dblue"), Some(&reader), None).await;
    r.call("GET", &format!("/api/v1/organizations/{ORG}/servers"), Some(&stranger), None).await;

    let mut update = stack.v1_server_body("web", &network_id);
    update["metadata"]["description"] = json!("d");
    r.call("PUT", &path, Some(&admin), Some(&update)).await;
    r.call("PUT", &path, Some(&admin), Some(&stack.v1_server_body("renamed", &network_id))).await;
    r.call("PUT", &path, Some(&reader), Some(&update)).await;
    r.call("PUT", &format!("{home}/servers/{missing}"), Some(&admin), Some(&update)).await;

    r.call("GET", &format!("{path}/consoleoutput?length=5"), Some(&admin), None).await;
    r.call("GET", &format!("{path}/consolesessions"), Some(&admin), None).await;
    r.call("GET", &format!("{path}/consolesessions"), Some(&stranger), None).await;
    r.power_cycle(&path, &format!("{home}/servers/{missing}"), &admin, &reader).await;

    r.call("DELETE", &home, Some(&admin), None).await;
    r.call("DELETE", &path, Some(&reader), None).await;
    r.call("DELETE", &path, Some(&admin), None).await;
    r.call("DELETE", &format!("{home}/servers/{missing}"), Some(&admin), None).await;
    stack.cleanup(300).await;
    r.call("DELETE", &format!("{home}/networks/{network_id}"), Some(&admin), None).await;
    r.call("DELETE", &format!("{home}/networks/{missing}"), Some(&admin), None).await;
    r.call("DELETE", &home, Some(&admin), None).await;
    r.call("DELETE", &home, Some(&admin), None).await;

    r.check("v1 responses");
}

/// The region routes as uni-ui and uni-compute read them: regions, detail, flavors, images (v1 and
/// v2, with a snapshot among them), external networks, an image delete refused and done, and the
/// errors each answers.
#[tokio::test]
async fn every_region_route_answers_as_unikorns_document_says() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let mut r = Recorder { stack: &stack, exchanges: Vec::new() };
    let org = format!("/api/v1/organizations/{ORG}");
    let region = format!("{org}/regions/{REGION}");
    let reader = stack.token("reader", &project_acl(ORG, PROJECT, &[("region:servers", &["read"])]));
    r.call("GET", &format!("{org}/regions"), Some(&admin), None).await;
    r.call("GET", &format!("{org}/regions"), Some(&reader), None).await;
    r.call("GET", &format!("{region}/detail"), Some(&admin), None).await;
    r.call("GET", &format!("{org}/regions/region-9/detail"), Some(&admin), None).await;
    r.call("GET", &format!("{region}/flavors"), Some(&admin), None).await;
    r.call("GET", &format!("{org}/regions/Bad_Id/flavors"), Some(&admin), None).await;
    r.call("GET", &format!("{region}/externalnetworks"), Some(&admin), None).await;

    let server = stack.settled_server("web").await;
    let snapshot = json!({"metadata": {"name": "golden"}});
    let image = stack.call("POST", &format!("/api/v2/servers/{server}/snapshot"), Some(&admin), Some(&snapshot)).await;
    assert_eq!(image.status, 201, "{}", image.body);
    r.call("GET", &format!("{region}/images"), Some(&admin), None).await;
    r.call("GET", &format!("/api/v2/regions/{REGION}/images?organizationID={ORG}"), Some(&admin), None).await;
    r.call(
        "GET",
        &format!("/api/v2/regions/{REGION}/images?scope=owned&organizationID={ORG}&status=pending"),
        Some(&admin),
        None,
    )
    .await;
    r.call("GET", &format!("/api/v2/regions/{REGION}/images?scope=mine"), Some(&admin), None).await;
    r.call("GET", "/api/v2/regions/region-9/images", Some(&admin), None).await;
    r.call("DELETE", &format!("{region}/images/{}", seed::IMAGE_UBUNTU), Some(&admin), None).await;
    r.call("DELETE", &format!("{region}/images/not-a-uuid"), Some(&admin), None).await;
    r.call("DELETE", &format!("{region}/images/{}", image.id()), Some(&reader), None).await;
    let deleted = r.call("DELETE", &format!("{region}/images/{}", image.id()), Some(&admin), None).await;
    assert_eq!(deleted.status, 202, "{}", deleted.body);
    r.check("region responses");
}

/// The v2 network routes as uni-ui and terraform call them: create from Unikorn's body, read while
/// pending and once provisioned, list with filters, update, references, a delete refused in use and
/// accepted when free, and the errors each answers.
#[tokio::test]
async fn every_network_route_answers_as_unikorns_document_says() {
    const MISSING: &str = "00000000-0000-4000-8000-000000000000";
    let stack = Stack::start().await;
    let admin = stack.admin();
    let mut r = Recorder { stack: &stack, exchanges: Vec::new() };
    let reader = stack.token("reader", &project_acl(ORG, PROJECT, &[("region:networks:v2", &["read"])]));
    let body = json!({"metadata": {"name": "made"}, "spec": {"organizationId": ORG, "projectId": PROJECT,
        "regionId": REGION, "prefix": "192.168.0.0/24", "dnsNameservers": [], "routes": [{"prefix": "10.1.0.0/16", "nexthop": "192.168.0.9"}]}});
    let created = r.call("POST", "/api/v2/networks", Some(&admin), Some(&body)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.id();
    let path = format!("/api/v2/networks/{id}");
    r.call("GET", &path, Some(&admin), None).await;
    stack.network_stage(&id, "provisioned").await;
    r.call("GET", &path, Some(&admin), None).await;
    r.call(
        "GET",
        &format!("/api/v2/networks?organizationID={ORG}&projectID={PROJECT}&regionID={REGION}"),
        Some(&admin),
        None,
    )
    .await;
    r.call("GET", "/api/v2/networks?tag=a=b", Some(&admin), None).await;
    r.call("GET", &format!("/api/v2/networks/{MISSING}"), Some(&admin), None).await;
    r.call("GET", "/api/v2/networks/not-a-uuid", Some(&admin), None).await;
    let mut small = body.clone();
    small["spec"]["prefix"] = json!("192.168.0.0/25");
    r.call("POST", "/api/v2/networks", Some(&admin), Some(&small)).await;
    r.call("POST", "/api/v2/networks", Some(&reader), Some(&body)).await;
    let mut mars = body.clone();
    mars["spec"]["regionId"] = json!("mars");
    r.call("POST", "/api/v2/networks", Some(&admin), Some(&mars)).await;
    let update = json!({"metadata": {"name": "made"}, "spec": {"dnsNameservers": ["8.8.8.8"]}});
    let updated = r.call("PUT", &path, Some(&admin), Some(&update)).await;
    assert_eq!(updated.status, 202, "{}", updated.body);
    r.call("PUT", &path, Some(&reader), Some(&update)).await;
    r.call("PUT", &format!("/api/v2/networks/{MISSING}"), Some(&admin), Some(&update)).await;
    let reference = format!("{path}/references/things.example.org%2Fone");
    r.call("PUT", &reference, Some(&admin), None).await;
    r.call("DELETE", &path, Some(&admin), None).await;
    r.call("DELETE", &reference, Some(&admin), None).await;
    r.call("DELETE", &path, Some(&reader), None).await;
    let deleted = r.call("DELETE", &path, Some(&admin), None).await;
    assert_eq!(deleted.status, 202, "{}", deleted.body);
    r.call("GET", &path, Some(&admin), None).await;
    r.call("PUT", &path, Some(&admin), Some(&update)).await;
    r.check("network responses");
}

/// `openapi.yaml` is a superset of Unikorn's document for the server, SSH CA, region and v1
/// routes: the same schema names, and every field Unikorn's schemas have.
#[test]
fn our_openapi_is_a_superset_of_unikorns_for_these_routes() {
    let routes = [
        "/api/v2/servers",
        "/api/v2/networks",
        "/api/v2/sshcertificateauthorities",
        "/api/v2/securitygroups",
        "/api/v2/regions",
        "/api/v1/organizations/{organizationID}/",
    ]
    .map(std::path::PathBuf::from);
    let mut args = vec![repo_root().join("openapi.yaml")];
    args.extend(routes);
    let (ok, text) = run_checker("superset.py", &args);
    assert!(ok, "openapi.yaml lacks what Unikorn's document has:\n{text}");
}

/// Runs one of `tests/conformance/*.py` (in `.venv-api`, which `make test` creates) on Unikorn's
/// document and `args`; answers whether it passed and what it printed.
fn run_checker(script: &str, args: &[std::path::PathBuf]) -> (bool, String) {
    let python = std::env::var_os("API_VENV_PYTHON")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv-api/bin/python"));
    let output = std::process::Command::new(&python)
        .arg(repo_root().join("tests/conformance").join(script))
        .arg(reference_dir().join("unikorn/server.spec.yaml"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e} (make test creates .venv-api)", python.display()));
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    println!("{text}{}", String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}
