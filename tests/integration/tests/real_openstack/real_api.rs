//! The local API (the real handlers, moto, the identity emulator) on the real services, and the
//! tier's admin reads: what the API tests of every resource drive and check with.

use super::*;

/// The local API (the real handlers, moto, the identity emulator) on the real services.
pub(super) struct RealApi {
    url: String,
    http: reqwest::Client,
    admin: String,
    pub(super) deps: shared::context::CloudDeps,
    /// What the cleanup passes published.
    bus: shared::events::MemoryBus,
    _identity: identity_emulator::IdentityEmulator,
}

impl RealApi {
    pub(super) async fn start(real: &Real) -> RealApi {
        use integration_tests::stack::{admin_acl, allocations_at, authenticator, local_deps};
        let (mut deps, dynamo, table) =
            local_deps(real_regions(&real.env), std::sync::Arc::new(shared::clock::RandomIds)).await;
        // Real services under a parallel test run answer slower than the emulator's 2 s budget.
        let config = OpenStackConfig { timeout: Duration::from_secs(30), ..OpenStackConfig::default() };
        deps.provider = std::sync::Arc::new(OpenStackProvider::new(config).unwrap_or_else(|e| panic!("{e}")));
        let idp = identity_emulator::IdentityEmulator::start_local().await.unwrap_or_else(|e| panic!("{e}"));
        deps.allocations = allocations_at(&idp.url);
        let gateway = local_api::Gateway {
            authenticator: std::sync::Arc::new(authenticator(&idp.url, &dynamo, &table, Default::default())),
            ingress_certificates: false,
        };
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        let api = local_api::start(deps.clone(), gateway, addr).await.unwrap_or_else(|e| panic!("{e}"));
        let admin = idp.token("admin", &admin_acl());
        let bus = shared::events::MemoryBus::default();
        RealApi { url: api.url, http: reqwest::Client::new(), admin, deps, bus, _identity: idp }
    }

    pub(super) async fn call(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        self.keyed(method, path, body, None).await
    }

    /// One cleanup pass, as the scheduled function runs it, its sweep fanned out and matched by the
    /// worker's code (grace period `grace` seconds; a server without capacity is placed again at once).
    pub(super) async fn cleanup(&self, grace: i64) -> shared::usecase::cleanup::Report {
        let mut deps = self.deps.clone();
        deps.timing.grace = chrono::Duration::seconds(grace);
        deps.timing.reschedule_backoff = chrono::Duration::zero();
        let deadline = Instant::now() + Duration::from_secs(60);
        integration_tests::sweeps::fanned_pass(&deps, &self.bus, deadline).await
    }

    /// The events the cleanup passes published about server `id`, oldest first, as JSON.
    pub(super) fn events_of(&self, id: &str) -> Vec<Value> {
        let published = self.bus.published.lock().unwrap_or_else(|e| e.into_inner());
        published.iter().filter(|e| e.server_id == id).filter_map(|e| serde_json::to_value(e).ok()).collect()
    }

    pub(super) async fn keyed(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        key: Option<&str>,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::GET);
        let mut request = self.http.request(method, format!("{}{path}", self.url)).bearer_auth(&self.admin);
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.unwrap_or_else(|e| panic!("{path}: {e}"));
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub(super) async fn network(&self, project: &str, provider_network: &str) -> String {
        let region = if project == integration_tests::stack::PROJECT_B {
            QUOTA_REGION
        } else {
            integration_tests::stack::REGION
        };
        let body = serde_json::json!({"metadata": {"name": format!("net-{project}")}, "spec": {
            "organizationId": integration_tests::stack::ORG, "projectId": project,
            "regionId": region, "providerNetworkId": provider_network}});
        let (status, network) = self.call("POST", "/api/v2/networks", Some(&body)).await;
        assert_eq!(status, 201, "{network}");
        network["metadata"]["id"].as_str().unwrap_or_default().to_owned()
    }

    /// A security group on `network` through the API, made at real Neutron by the worker's
    /// use-case: its id and the Neutron group's.
    pub(super) async fn group(&self, network: &str, name: &str) -> (String, String) {
        let body = serde_json::json!({"metadata": {"name": name}, "spec": {"networkId": network,
            "rules": [{"direction": "ingress", "protocol": "tcp", "port": 22}]}});
        let (status, group) = self.call("POST", "/api/v2/securitygroups", Some(&body)).await;
        assert_eq!(status, 201, "{group}");
        let id = group["metadata"]["id"].as_str().unwrap_or_default().to_owned();
        let converged = shared::usecase::security_groups::converge_security_group(&self.deps, &id).await;
        assert!(converged.is_ok(), "{converged:?}");
        let (_, shown) = self.call("GET", &format!("/api/v2/securitygroups/{id}"), None).await;
        assert_eq!(shown["metadata"]["provisioningStatus"], "provisioned", "{shown}");
        let stored = shared::store::SecurityGroupStore::get_security_group(self.deps.store.as_ref(), &id).await;
        let neutron = stored.ok().flatten().and_then(|g| g.objects.group_id).unwrap_or_default();
        (id, neutron)
    }

    /// Reads the server until `check` holds (each read refreshes it from Nova while it moves).
    pub(super) async fn until(&self, id: &str, check: impl Fn(&Value) -> bool) -> Value {
        let started = Instant::now();
        loop {
            let (status, server) = self.call("GET", &format!("/api/v2/servers/{id}"), None).await;
            if check(&server) || status == 404 {
                return server;
            }
            assert!(started.elapsed() < Duration::from_secs(90), "server {id} never got there: {server}");
            tokio::time::sleep(Duration::from_millis(400)).await;
        }
    }
}

/// A GET of one of the tier's services (`nova`, `neutron`, `auth_url` for Keystone) as its admin.
pub(super) async fn admin_get(real: &Real, service: &str, path: &str) -> Value {
    let admin = &real.env["admin"];
    let body = serde_json::json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": admin["user"], "domain": {"id": "default"}, "password": admin["password"]}}},
        "scope": {"project": {"name": admin["project"], "domain": {"id": "default"}}}}});
    let http = reqwest::Client::new();
    let auth = format!("{}/auth/tokens", real.id("auth_url"));
    let response = http.post(auth).json(&body).send().await.unwrap_or_else(|e| panic!("{e}"));
    let token = response.headers()["x-subject-token"].to_str().unwrap_or_default().to_owned();
    let url = format!("{}{path}", real.id(service));
    let response = http.get(url).header("X-Auth-Token", token).header("OpenStack-API-Version", "compute 2.100");
    response.send().await.unwrap_or_else(|e| panic!("{e}")).json().await.unwrap_or_default()
}
