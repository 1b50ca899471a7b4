//! Use-case tests without I/O: the in-memory store and a recording fake provider.

mod action_history;
mod catalog;
mod create;
mod delete;
mod fake_allocations;
mod fake_fabric;
mod fake_groups;
mod fake_network;
mod identities;
mod list;
mod power;
mod protection;
mod provisioning;
mod security_groups;
mod server_ranges;
mod snapshot;
mod sweep;
mod update;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use base64::Engine as _;

use super::*;
use crate::api::parse_json;
use crate::api::v2::networks::NetworkV2Create;
use crate::api::v2::servers::{ServerV2Create, ServerV2Update};
use crate::clock::{RandomIds, SystemClock};
use crate::domain::{PowerState, ProvisioningStatus};
use crate::error::Error;
use crate::events::MemoryBus;
use crate::provider::{
    Compute, Flavor, Flavors, Image, ImageListing, Images, Keypair, Keypairs, PowerAction, ProviderCredential,
    ProviderError, ProviderServer, Receipt, Result as ProviderResult, ServerCreate, ServerPage, ServerPhase,
};
use crate::rbac::{Acl, Caller};
use crate::store::memory::MemoryStore;

pub(super) fn receipt(call: &str) -> Receipt {
    Receipt { request_id: Some(format!("req-{call}")) }
}

/// `caller` asking on a v2 route.
pub(super) fn cx(caller: Caller) -> Context {
    Context { caller, view: v2() }
}

/// The view of the v2 routes.
pub(super) fn v2() -> View {
    View {
        version: crate::domain::ApiVersion::V2,
        path: None,
        rules: Rules {
            networks: crate::rbac::NETWORKS,
            security_groups: crate::rbac::SECURITY_GROUPS,
            server_update: crate::rbac::Operation::Update,
        },
    }
}

/// A provider that keeps servers in memory, records every call, and can fail the next call.
#[derive(Default)]
pub(super) struct FakeProvider {
    calls: Mutex<Vec<String>>,
    servers: Mutex<BTreeMap<String, ProviderServer>>,
    fail_next: Mutex<Option<ProviderError>>,
    /// Methods that always fail as unavailable.
    failing: Mutex<Vec<&'static str>>,
    fail_on_create: Mutex<Option<ProviderError>>,
    ports: Mutex<BTreeMap<String, crate::provider::ProviderPort>>,
    public_ips: Mutex<BTreeMap<String, crate::provider::PublicIp>>,
    /// The cloud has no external network (public IPs cannot be allocated).
    no_external_network: std::sync::atomic::AtomicBool,
    /// Projects, users and networks made for provisioned networks.
    made: Mutex<fake_fabric::Made>,
}

impl FakeProvider {
    fn call(&self, name: &str) -> ProviderResult<()> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).push(name.to_owned());
        if self.failing.lock().unwrap_or_else(|e| e.into_inner()).contains(&name) {
            return Err(ProviderError::unavailable(format!("{name} injected failure")));
        }
        match self.fail_next.lock().unwrap_or_else(|e| e.into_inner()).take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
    fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
    /// Fails the next call (any method) once `create_server` is reached.
    fn fail_next_on_create(&self, e: ProviderError) {
        *self.fail_on_create.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
    }
    fn fail_next(&self, e: ProviderError) {
        *self.fail_next.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
    }
    fn set_phase(&self, phase: ServerPhase) {
        for s in self.servers.lock().unwrap_or_else(|e| e.into_inner()).values_mut() {
            s.phase = phase;
        }
    }
    fn server(&self, id: &str) -> ProviderResult<ProviderServer> {
        let servers = self.servers.lock().unwrap_or_else(|e| e.into_inner());
        servers.get(id).cloned().ok_or_else(|| ProviderError::not_found(format!("server {id}")))
    }
}

#[async_trait]
impl Compute for FakeProvider {
    async fn create_server(&self, _: &ProviderCredential, s: &ServerCreate) -> ProviderResult<(String, Receipt)> {
        self.call("create_server")?;
        if let Some(e) = self.fail_on_create.lock().unwrap_or_else(|e| e.into_inner()).take() {
            return Err(e);
        }
        let id = format!("nova-{}", s.name);
        let server = ProviderServer {
            id: id.clone(),
            name: s.name.clone(),
            phase: ServerPhase::Active,
            metadata: s.metadata.clone(),
            ..Default::default()
        };
        self.servers.lock().unwrap_or_else(|e| e.into_inner()).insert(id.clone(), server);
        Ok((id, receipt("create")))
    }
    async fn get_server(&self, _: &ProviderCredential, id: &str) -> ProviderResult<ProviderServer> {
        self.call("get_server")?;
        self.server(id)
    }
    async fn find_servers(
        &self,
        _: &ProviderCredential,
        key: &str,
        value: &str,
    ) -> ProviderResult<Vec<ProviderServer>> {
        self.call("find_servers")?;
        let servers = self.servers.lock().unwrap_or_else(|e| e.into_inner());
        Ok(servers.values().filter(|s| s.metadata.get(key).map(String::as_str) == Some(value)).cloned().collect())
    }
    async fn list_servers(
        &self,
        _: &ProviderCredential,
        marker: Option<&str>,
        limit: u32,
    ) -> ProviderResult<ServerPage> {
        self.call("list_servers")?;
        let servers = self.servers.lock().unwrap_or_else(|e| e.into_inner());
        let page: Vec<ProviderServer> = servers
            .values()
            .filter(|s| marker.is_none_or(|m| s.id.as_str() > m))
            .take(limit as usize)
            .cloned()
            .collect();
        let next = (page.len() == limit as usize).then(|| page.last().map(|s| s.id.clone())).flatten();
        Ok(ServerPage { servers: page, next })
    }
    async fn delete_server(&self, _: &ProviderCredential, id: &str) -> ProviderResult<Receipt> {
        self.call("delete_server")?;
        self.servers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id)
            .map(|_| receipt("delete"))
            .ok_or_else(|| ProviderError::not_found(id.to_owned()))
    }
    async fn power(&self, _: &ProviderCredential, id: &str, action: PowerAction) -> ProviderResult<Receipt> {
        self.call(&format!("power {action:?}"))?;
        self.server(id).map(|_| receipt("power"))
    }
    async fn resize(&self, _: &ProviderCredential, _: &str, _: &str) -> ProviderResult<Receipt> {
        self.call("resize").map(|_| receipt("resize"))
    }
    async fn confirm_resize(&self, _: &ProviderCredential, _: &str) -> ProviderResult<Receipt> {
        self.call("confirm_resize").map(|_| receipt("confirm"))
    }
    async fn rebuild(&self, _: &ProviderCredential, _: &str, _: &str) -> ProviderResult<Receipt> {
        self.call("rebuild").map(|_| receipt("rebuild"))
    }
    async fn console_output(&self, _: &ProviderCredential, _: &str, _: Option<u32>) -> ProviderResult<String> {
        self.call("console_output").map(|_| "log".into())
    }
    async fn console_url(&self, _: &ProviderCredential, _: &str) -> ProviderResult<String> {
        self.call("console_url").map(|_| "https://vnc".into())
    }
}

#[async_trait]
impl Images for FakeProvider {
    async fn create_image(
        &self,
        _: &ProviderCredential,
        _: &str,
        _: &str,
        _: &BTreeMap<String, String>,
    ) -> ProviderResult<(String, Receipt)> {
        self.call("create_image").map(|_| ("img-new".into(), receipt("image")))
    }
    async fn get_image(&self, _: &ProviderCredential, id: &str) -> ProviderResult<Image> {
        self.call("get_image")?;
        Ok(Image { id: id.into(), state: crate::provider::ImageState::Ready, min_disk_gib: 10, ..Default::default() })
    }
    async fn find_image(&self, _: &ProviderCredential, _: &str, _: &str) -> ProviderResult<Option<Image>> {
        self.call("find_image").map(|_| None)
    }
    /// One global image, `i`, ready, with Unikorn's properties.
    async fn list_images(&self, _: &ProviderCredential, listing: &ImageListing<'_>) -> ProviderResult<Vec<Image>> {
        self.call("list_images")?;
        if !listing.public {
            return Ok(Vec::new());
        }
        let properties = [
            ("unikorn:os:kernel", "linux"),
            ("unikorn:os:family", "debian"),
            ("unikorn:os:distro", "ubuntu"),
            ("unikorn:os:version", "24.04"),
            ("unikorn:virtualization", "any"),
        ];
        Ok(vec![Image {
            id: "i".into(),
            name: "ubuntu".into(),
            state: crate::provider::ImageState::Ready,
            min_disk_gib: 10,
            properties: properties.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            ..Default::default()
        }])
    }
    async fn delete_image(&self, _: &ProviderCredential, _: &str) -> ProviderResult<Receipt> {
        self.call("delete_image").map(|_| receipt("delete_image"))
    }
    async fn publish_image(&self, _: &ProviderCredential, _: &str) -> ProviderResult<Receipt> {
        self.call("publish_image").map(|_| receipt("publish_image"))
    }
}

#[async_trait]
impl Flavors for FakeProvider {
    async fn get_flavor(&self, _: &ProviderCredential, id: &str) -> ProviderResult<Flavor> {
        self.call("get_flavor")?;
        Ok(Flavor { id: id.into(), disk_gib: 20, is_public: true, ..Default::default() })
    }
    /// `f` (20 GB) and `f2` (40 GB), both public.
    async fn list_flavors(&self, _: &ProviderCredential) -> ProviderResult<Vec<Flavor>> {
        self.call("list_flavors")?;
        let flavor = |id: &str, disk_gib| Flavor {
            id: id.into(),
            name: id.into(),
            vcpus: 2,
            ram_mib: 4096,
            disk_gib,
            is_public: true,
            ..Default::default()
        };
        Ok(vec![flavor("f", 20), flavor("f2", 40)])
    }
}

#[async_trait]
impl Keypairs for FakeProvider {
    async fn import_keypair(&self, _: &ProviderCredential, name: &str, key: &str) -> ProviderResult<Keypair> {
        self.call("import_keypair")?;
        Ok(Keypair { name: name.into(), public_key: key.into(), fingerprint: None })
    }
    async fn get_keypair(&self, _: &ProviderCredential, name: &str) -> ProviderResult<Keypair> {
        self.call("get_keypair")?;
        Err(ProviderError::not_found(name.to_owned()))
    }
    async fn delete_keypair(&self, _: &ProviderCredential, _: &str) -> ProviderResult<()> {
        self.call("delete_keypair")
    }
}

pub(super) struct World {
    deps: Deps<MemoryStore, FakeProvider>,
    store: Arc<MemoryStore>,
    provider: Arc<FakeProvider>,
    network: String,
    /// What the use-cases handed to the worker.
    work: Arc<crate::work::HeldWork>,
    allocations: Arc<fake_allocations::FakeAllocations>,
}

pub(super) fn caller(acl: serde_json::Value) -> Caller {
    Caller { subject: "alice".into(), acl: serde_json::from_value::<Acl>(acl).unwrap_or_default() }
}

pub(super) fn admin() -> Caller {
    let all = ["create", "read", "update", "delete"];
    caller(serde_json::json!({"organizations": [{"id": "o", "endpoints": [
        {"name": "region:servers", "operations": all}, {"name": "region:networks:v2", "operations": all},
        {"name": "region:networks:v2/references", "operations": all},
        {"name": "region:securitygroups:v2", "operations": all},
        {"name": "region:images", "operations": all}]}]}))
}

pub(super) async fn world() -> World {
    let store = Arc::new(MemoryStore::default());
    let provider = Arc::new(FakeProvider::default());
    let document = r#"{"regions": [{"id": "r", "name": "r", "type": "openstack",
        "openstack": {"endpoint": "http://k/v3", "serviceAccountSecret": "region-r"}}]}"#;
    let credential = r#"{"domain-id": "d", "user-id": "u", "password": "s", "project-id": "p"}"#;
    let regions = crate::regions::Regions::parse(document)
        .and_then(|r| Ok(r.with_credential("r", crate::regions::RegionCredential::parse("region-r", credential)?)))
        .unwrap_or_else(|e| panic!("{e}"));
    let key = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    let work = Arc::new(crate::work::HeldWork::default());
    let allocations = Arc::new(fake_allocations::FakeAllocations::default());
    let deps = Deps {
        store: store.clone(),
        provider: provider.clone(),
        regions: Arc::new(regions),
        clock: Arc::new(SystemClock),
        ids: Arc::new(RandomIds),
        sealer: Some(Arc::new(crate::sealing::Sealer::from_base64(&key).unwrap_or_else(|e| panic!("{e}")))),
        timing: Timing::default(),
        crash: Default::default(),
        limiter: Arc::new(crate::fairuse::Limiter::off()),
        catalog: Default::default(),
        work: work.clone(),
        allocations: allocations.clone(),
    };
    let body = br#"{"metadata": {"name": "net"}, "spec": {"organizationId": "o", "projectId": "p", "regionId": "r", "providerNetworkId": "pn"}}"#;
    let input = parse_json::<NetworkV2Create>(body).and_then(NetworkV2Create::parse).unwrap_or_else(|e| panic!("{e}"));
    let network = networks::create_network(&deps, &cx(admin()), input).await.unwrap_or_else(|e| panic!("{e}")).id;
    World { deps, store, provider, network, work, allocations }
}

pub(super) fn create_input(network: &str, name: &str) -> crate::domain::ServerCreateInput {
    let body = format!(
        r#"{{"metadata": {{"name": "{name}"}}, "spec": {{"networkId": "{network}", "flavorId": "f", "imageId": "i"}}}}"#
    );
    parse_json::<ServerV2Create>(body.as_bytes()).and_then(ServerV2Create::parse).unwrap_or_else(|e| panic!("{e}"))
}
