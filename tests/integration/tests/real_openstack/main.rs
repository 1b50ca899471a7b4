//! The provider adapter against real OpenStack: Keystone, Nova (fake virt driver), Placement,
//! Glance and Neutron from PyPI, started once per `make test` by `tests/real-openstack/launch.py`
//! (`REAL_OPENSTACK_ENV` names the file it writes when ready). Every port method the product
//! calls, and the refusals real services showed that the emulator did not.
//!
//! Without `REAL_OPENSTACK_ENV` (a plain `cargo test`) the tests say so and pass; `make test` sets
//! `REAL_OPENSTACK_REQUIRED=1`, which makes a missing tier a failure.
//!
//! One module per area: the provider's port methods, the regions' catalogue, the API on the real
//! services, and the emulator's parity with them.

mod api;
mod catalogue;
mod identities;
mod networks;
mod parity;
mod provider;
mod real_api;
mod security_groups;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value;
use shared::provider::openstack::{OpenStackConfig, OpenStackProvider};
use shared::provider::{
    AllowedAddress, Attach, Compute, CredentialScope, Flavors, Images, Keypairs, Networking, PortSpec, PowerAction,
    ProviderCredential, ProviderError, ServerCreate, ServerPhase,
};

struct Real {
    env: Value,
    provider: OpenStackProvider,
    demo: ProviderCredential,
}

impl Real {
    /// The tier's environment, waiting for the launcher (started in parallel by `make test`).
    async fn connect() -> Option<Real> {
        let Some(path) = std::env::var_os("REAL_OPENSTACK_ENV") else {
            assert!(std::env::var_os("REAL_OPENSTACK_REQUIRED").is_none(), "REAL_OPENSTACK_ENV is not set");
            println!("REAL_OPENSTACK_ENV is not set: the real-OpenStack tier is not running (make test starts it)");
            return None;
        };
        let started = Instant::now();
        let text = loop {
            match std::fs::read_to_string(&path) {
                Ok(text) if !text.trim().is_empty() => break text,
                _ if started.elapsed() > Duration::from_secs(600) => panic!("the real tier never became ready"),
                _ => tokio::time::sleep(Duration::from_millis(500)).await,
            }
        };
        let env: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        if let Some(error) = env["error"].as_str() {
            panic!("the real-OpenStack tier did not start: {error}");
        }
        shared::aws::install_tls_provider();
        let config = OpenStackConfig { timeout: Duration::from_secs(60), ..OpenStackConfig::default() };
        let provider = OpenStackProvider::new(config).unwrap_or_else(|e| panic!("{e}"));
        let demo = credential(&env, "demo");
        Some(Real { env, provider, demo })
    }

    fn id(&self, key: &str) -> String {
        self.env[key].as_str().unwrap_or_else(|| panic!("the tier's env has no {key}")).to_owned()
    }

    async fn port(&self, name: &str) -> shared::provider::ProviderPort {
        let spec = PortSpec { name: name.into(), network_id: self.id("network_id"), ..PortSpec::default() };
        self.provider.create_port(&self.demo, &spec).await.unwrap_or_else(|e| panic!("port: {e}")).0
    }

    async fn boot(&self, name: &str, port: &str) -> String {
        let create = ServerCreate {
            name: name.into(),
            image_id: self.id("image_id"),
            flavor_id: self.id("flavor_small"),
            attach: Attach::Port(port.into()),
            metadata: BTreeMap::from([("unikorn:server:id".to_owned(), format!("record-{name}"))]),
            ..ServerCreate::default()
        };
        self.provider.create_server(&self.demo, &create).await.unwrap_or_else(|e| panic!("create: {e}")).0
    }

    /// Polls until the server is idle in `phase` (real Nova takes ~1 s per step with the fake driver).
    async fn until(&self, id: &str, phase: ServerPhase) {
        let started = Instant::now();
        loop {
            let server = self.provider.get_server(&self.demo, id).await.unwrap_or_else(|e| panic!("get: {e}"));
            if server.phase == phase && !server.busy {
                return;
            }
            assert!(server.phase != ServerPhase::Error, "server {id} went to ERROR: {:?}", server.fault);
            assert!(started.elapsed() < Duration::from_secs(90), "server {id} never reached {phase:?}: {server:?}");
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    async fn gone(&self, id: &str) {
        let started = Instant::now();
        while !matches!(self.provider.get_server(&self.demo, id).await, Err(ProviderError::NotFound { .. })) {
            assert!(started.elapsed() < Duration::from_secs(90), "server {id} was never deleted");
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }
}

/// A region's credential on the tier: the project's privileged user and its password.
fn credential(env: &Value, project: &str) -> ProviderCredential {
    let p = if project == "demo" { &env["demo"] } else { &env["quota_project"] };
    let text = |key: &str| p[key].as_str().unwrap_or_default().to_owned();
    ProviderCredential {
        auth_url: env["auth_url"].as_str().unwrap_or_default().to_owned(),
        user_id: text("user_id"),
        password: text("password"),
        scope: CredentialScope::Project(text("project_id")),
    }
}

/// The test signing key's public half: launch.py signs the tier's images with its private half.
fn signing_key() -> String {
    let path = integration_tests::repo_root().join("tests/fixtures/signing/public.pem");
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{e}"))
}

/// The tier's regions: `REGION` on the demo project, `region-quota` on the project that keeps
/// Nova's default quota; both check the images' signatures.
fn real_regions(env: &Value) -> shared::regions::Regions {
    // The demo region makes VLAN provider networks on physnet2 (launch.py leaves it to provider
    // networks, with no tenant range of Neutron's own).
    let region = |id: &str, key: &str| {
        let mut region = serde_json::json!({"id": id, "name": id, "type": "openstack",
            "openstack": {"endpoint": env["auth_url"], "serviceAccountSecret": format!("secret-{key}"),
                "image": {"selector": {"signingKey": signing_key()}}}});
        if key == "demo" {
            region["openstack"]["network"] = serde_json::json!({"providerNetworks": {"physicalNetwork": "physnet2",
                "vlan": {"segments": [{"startId": 300, "endId": 399}]}}});
        }
        region
    };
    let document = serde_json::json!({"regions": [region(integration_tests::stack::REGION, "demo"),
        region(QUOTA_REGION, "quota_project")]});
    let credential = |key: &str| {
        let p = &env[key];
        let text = serde_json::json!({"domain-id": p["domain_id"], "user-id": p["user_id"],
            "password": p["password"], "project-id": p["project_id"]});
        shared::regions::RegionCredential::parse(key, &text.to_string()).unwrap_or_else(|e| panic!("{e}"))
    };
    shared::regions::Regions::parse(&document.to_string())
        .unwrap_or_else(|e| panic!("{e}"))
        .with_credential(integration_tests::stack::REGION, credential("demo"))
        .with_credential(QUOTA_REGION, credential("quota_project"))
}

/// The tier's region on the project at Nova's default quota.
const QUOTA_REGION: &str = "region-quota";
