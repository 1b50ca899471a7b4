//! Use-case tests without I/O: the in-memory store and a recording fake provider.

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
    Compute, Flavor, Flavors, Image, Images, Keypair, Keypairs, PowerAction, ProviderCredential, ProviderError,
    ProviderServer, Receipt, Result as ProviderResult, ServerCreate, ServerPage, ServerPhase,
};
use crate::rbac::{Acl, Caller};
use crate::store::memory::MemoryStore;

fn receipt(call: &str) -> Receipt {
    Receipt { request_id: Some(format!("req-{call}")) }
}

/// The view of the v2 routes.
fn v2() -> View {
    View {
        version: crate::domain::ApiVersion::V2,
        path: None,
        rules: Rules { networks: crate::rbac::NETWORKS, server_update: crate::rbac::Operation::Update },
    }
}

/// A provider that keeps servers in memory, records every call, and can fail the next call.
#[derive(Default)]
struct FakeProvider {
    calls: Mutex<Vec<String>>,
    servers: Mutex<BTreeMap<String, ProviderServer>>,
    fail_next: Mutex<Option<ProviderError>>,
    /// Methods that always fail as unavailable.
    failing: Mutex<Vec<&'static str>>,
    fail_on_create: Mutex<Option<ProviderError>>,
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
}

#[async_trait]
impl Flavors for FakeProvider {
    async fn get_flavor(&self, _: &ProviderCredential, id: &str) -> ProviderResult<Flavor> {
        self.call("get_flavor")?;
        Ok(Flavor { id: id.into(), disk_gib: 20, ..Default::default() })
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

struct World {
    deps: Deps<MemoryStore, FakeProvider>,
    store: Arc<MemoryStore>,
    provider: Arc<FakeProvider>,
    network: String,
}

fn caller(acl: serde_json::Value) -> Caller {
    Caller { subject: "alice".into(), acl: serde_json::from_value::<Acl>(acl).unwrap_or_default() }
}

fn admin() -> Caller {
    let all = ["create", "read", "update", "delete"];
    caller(serde_json::json!({"organizations": [{"id": "o", "endpoints": [
        {"name": "region:servers", "operations": all}, {"name": "region:networks:v2", "operations": all},
        {"name": "region:images", "operations": all}]}]}))
}

async fn world() -> World {
    let store = Arc::new(MemoryStore::default());
    let provider = Arc::new(FakeProvider::default());
    let identities = crate::identities::Identities::from_json(
        r#"[{"id": "i", "regionId": "r", "organizationId": "o", "projectId": "p", "authUrl": "http://k/v3",
             "applicationCredentialId": "c", "applicationCredentialSecret": "s"}]"#,
    )
    .unwrap_or_default();
    let key = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    let deps = Deps {
        store: store.clone(),
        provider: provider.clone(),
        identities: Arc::new(identities),
        clock: Arc::new(SystemClock),
        ids: Arc::new(RandomIds),
        sealer: Some(Arc::new(crate::sealing::Sealer::from_base64(&key).unwrap_or_else(|e| panic!("{e}")))),
        timing: Timing::default(),
        crash: Default::default(),
    };
    let body = br#"{"metadata": {"name": "net"}, "spec": {"organizationId": "o", "projectId": "p", "regionId": "r", "providerNetworkId": "pn"}}"#;
    let input = parse_json::<NetworkV2Create>(body).and_then(NetworkV2Create::parse).unwrap_or_else(|e| panic!("{e}"));
    let network = networks::create_network(&deps, &admin(), &v2(), input).await.unwrap_or_else(|e| panic!("{e}")).id;
    World { deps, store, provider, network }
}

fn create_input(network: &str, name: &str) -> crate::domain::ServerCreateInput {
    let body = format!(
        r#"{{"metadata": {{"name": "{name}"}}, "spec": {{"networkId": "{network}", "flavorId": "f", "imageId": "i"}}}}"#
    );
    parse_json::<ServerV2Create>(body.as_bytes()).and_then(ServerV2Create::parse).unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn create_records_the_provider_id_and_tells_the_provider_our_id() {
    let w = world().await;
    let record = create_server(&w.deps, &admin(), &v2(), create_input(&w.network, "web"), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(record.provider_id.as_deref(), Some("nova-web"));
    assert_eq!(
        (record.organization_id.as_str(), record.project_id.as_str(), record.region_id.as_str()),
        ("o", "p", "r")
    );
    let nova = w.provider.server("nova-web").unwrap_or_default();
    assert_eq!(nova.metadata.get(META_SERVER_ID), Some(&record.id));
    assert_eq!(w.deps.store.claim_holder(&w.network, "web").await.ok().flatten(), Some(record.id));
}

#[tokio::test]
async fn a_taken_name_never_reaches_the_provider_and_a_failed_create_leaves_nothing() {
    let w = world().await;
    create_server(&w.deps, &admin(), &v2(), create_input(&w.network, "web"), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let creates = |w: &World| w.provider.calls().iter().filter(|c| *c == "create_server").count();
    let err = create_server(&w.deps, &admin(), &v2(), create_input(&w.network, "web"), None).await.expect_err("taken");
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    assert_eq!(creates(&w), 1);

    let before = w.store.item_count();
    // A definite refusal of the create call itself (the image and flavor checks before it succeed).
    w.provider.fail_next_on_create(ProviderError::Rejected {
        what: "server".into(),
        detail: "Invalid key_name provided.".into(),
    });
    let err = create_server(&w.deps, &admin(), &v2(), create_input(&w.network, "db"), None).await.expect_err("refused");
    assert!(matches!(err, Error::Unprocessable(_)), "{err:?}");
    assert_eq!(w.store.item_count(), before, "record and claim removed");
}

#[tokio::test]
async fn a_create_with_an_unknown_outcome_keeps_its_record_until_cleanup_settles_it() {
    let w = world().await;
    let before = w.store.item_count();
    w.provider.failing.lock().unwrap_or_else(|e| e.into_inner()).push("create_server");
    let err =
        create_server(&w.deps, &admin(), &v2(), create_input(&w.network, "db"), None).await.expect_err("provider down");
    assert!(matches!(&err, Error::Unavailable { message, .. } if message.contains("provisioning")), "{err:?}");
    assert_eq!(w.store.item_count(), before + 2, "the provider may still create it: record and claim stay");
    w.provider.failing.lock().unwrap_or_else(|e| e.into_inner()).clear();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let report = cleanup::run(&w.deps, &MemoryBus::default(), deadline).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.records_removed, 0, "within the grace period nothing is removed");
    let mut past_grace = w.deps.clone();
    past_grace.timing.grace = chrono::Duration::zero();
    let report = cleanup::run(&past_grace, &MemoryBus::default(), deadline).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.records_removed, 1, "{report:?}");
    assert_eq!(w.store.item_count(), before, "record and claim removed once the grace period is over");
}

#[tokio::test]
async fn delete_releases_the_name_only_once_the_provider_is_done() {
    let w = world().await;
    let record = create_server(&w.deps, &admin(), &v2(), create_input(&w.network, "web"), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    delete_server(&w.deps, &admin(), &v2(), &record.id).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(w.provider.calls().contains(&"delete_server".to_owned()));
    assert!(w.deps.store.get_server(&record.id).await.ok().flatten().is_none(), "gone at once: removed at once");
    assert_eq!(w.deps.store.claim_holder(&w.network, "web").await.ok().flatten(), None);
}

#[tokio::test]
async fn power_records_the_transition_and_translates_refusals() {
    let w = world().await;
    let record = create_server(&w.deps, &admin(), &v2(), create_input(&w.network, "web"), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let record = get_server(&w.deps, &admin(), &v2(), &record.id).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(record.provisioning_status, ProvisioningStatus::Provisioned);
    let calls = w.provider.calls().len();
    power(&w.deps, &admin(), &v2(), &record.id, PowerAction::Stop).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(w.provider.calls().len(), calls + 1, "exactly one provider call");
    let stored = w.deps.store.get_server(&record.id).await.ok().flatten().unwrap_or_else(|| panic!("gone"));
    assert_eq!(stored.power_state, Some(PowerState::Stopping));
    w.provider.fail_next(ProviderError::Conflict {
        what: "server nova-web".into(),
        detail: "Cannot 'stop' instance nova-web while it is in vm_state stopped".into(),
    });
    let err = power(&w.deps, &admin(), &v2(), &record.id, PowerAction::Stop).await.expect_err("refused");
    assert_eq!(err, Error::invalid("server cannot be stopped in its current state"), "Unikorn's answer");
}

#[tokio::test]
async fn a_server_still_building_refuses_power_without_an_action_call() {
    let w = world().await;
    let record = create_server(&w.deps, &admin(), &v2(), create_input(&w.network, "web"), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    w.provider.set_phase(ServerPhase::Building);
    let err = power(&w.deps, &admin(), &v2(), &record.id, PowerAction::Start).await.expect_err("building");
    assert_eq!(err, Error::invalid("server cannot be started in its current state"));
    assert!(!w.provider.calls().iter().any(|c| c.starts_with("power")));
}

#[tokio::test]
async fn snapshots_check_both_permissions_before_any_provider_call() {
    let w = world().await;
    let record = create_server(&w.deps, &admin(), &v2(), create_input(&w.network, "web"), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let calls = w.provider.calls().len();
    let input = || SnapshotInput {
        name: crate::domain::ResourceName::parse("n", "snap").unwrap_or_else(|e| panic!("{e}")),
        description: None,
        tags: Default::default(),
    };
    let reader = caller(
        serde_json::json!({"organizations": [{"id": "o", "endpoints": [{"name": "region:servers", "operations": ["read"]}]}]}),
    );
    let err = snapshot(&w.deps, &reader, &v2(), &record.id, input(), None).await.expect_err("no image create");
    assert!(matches!(err, Error::Forbidden(_)), "{err:?}");
    let imager = caller(
        serde_json::json!({"organizations": [{"id": "o", "endpoints": [{"name": "region:images", "operations": ["create"]}]}]}),
    );
    let err = snapshot(&w.deps, &imager, &v2(), &record.id, input(), None).await.expect_err("no read");
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    assert_eq!(w.provider.calls().len(), calls, "no provider call for refused snapshots");
    snapshot(&w.deps, &admin(), &v2(), &record.id, input(), None).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(w.provider.calls().contains(&"create_image".to_owned()));
}

#[tokio::test]
async fn an_update_that_changes_no_image_or_flavor_asks_the_provider_nothing() {
    let w = world().await;
    let record = create_server(&w.deps, &admin(), &v2(), create_input(&w.network, "web"), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let calls = w.provider.calls().len();
    let body = br#"{"metadata": {"name": "web", "description": "d"}, "spec": {"flavorId": "f", "imageId": "i"}}"#;
    let input = parse_json::<ServerV2Update>(body).and_then(ServerV2Update::parse).unwrap_or_else(|e| panic!("{e}"));
    let updated =
        update_server(&w.deps, &admin(), &v2(), &record.id, None, input).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(updated.version, record.version + 1);
    assert_eq!(w.provider.calls().len(), calls);
    let body = br#"{"metadata": {"name": "web"}, "spec": {"flavorId": "f2", "imageId": "i"}}"#;
    let input = parse_json::<ServerV2Update>(body).and_then(ServerV2Update::parse).unwrap_or_else(|e| panic!("{e}"));
    let resized = update_server(&w.deps, &admin(), &v2(), &record.id, Some(&updated.etag()), input)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(resized.pending, Some(crate::domain::PendingChange::Resize { .. })), "recorded before the call");
    // The record was never read since create, so it is refreshed once before the resize.
    assert_eq!(w.provider.calls()[calls..], ["get_flavor", "get_server", "resize"].map(str::to_owned));
}

#[tokio::test]
async fn list_merges_scopes_in_id_order_and_pages() {
    let w = world().await;
    let mut ids = Vec::new();
    for name in ["a", "b", "c", "d", "e"] {
        ids.push(
            create_server(&w.deps, &admin(), &v2(), create_input(&w.network, name), None)
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .id,
        );
    }
    ids.sort();
    let page = list_servers(&w.deps, &admin(), &v2(), &ListParams { limit: 2, ..ListParams::default() })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (page.items.iter().map(|s| s.id.clone()).collect::<Vec<_>>(), page.next.clone()),
        (ids[..2].to_vec(), Some(ids[1].clone()))
    );
    let rest = ListParams { limit: 10, after: Some(ids[1].clone()), ..ListParams::default() };
    let page = list_servers(&w.deps, &admin(), &v2(), &rest).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((page.items.len(), page.next), (3, None));
    let nobody = caller(serde_json::json!({"organizations": []}));
    let page = list_servers(&w.deps, &nobody, &v2(), &ListParams { limit: 10, ..ListParams::default() })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(page.items.is_empty());
}

#[tokio::test]
async fn actions_carry_request_ids_and_refusals_and_transitions_are_published_once() {
    use crate::domain::{ActionStatus, Command, ServerState};
    use crate::store::{ActionQuery, ActionStore};
    let w = world().await;
    let record = create_server(&w.deps, &admin(), &v2(), create_input(&w.network, "web"), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let actions = |w: &World, id: String| {
        let store = w.store.clone();
        async move {
            let page = store.list_actions(&id, &ActionQuery { limit: 10, ..Default::default() }).await;
            page.unwrap_or_else(|e| panic!("{e}")).items
        }
    };
    let created = actions(&w, record.id.clone()).await;
    assert_eq!(created[0].action.command, Command::CreateServer);
    assert_eq!(created[0].provider_request_id.as_deref(), Some("req-create"));
    get_server(&w.deps, &admin(), &v2(), &record.id).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(actions(&w, record.id.clone()).await[0].action.status, ActionStatus::Success, "a read saw ACTIVE");

    w.provider.fail_next(ProviderError::Conflict { what: "server".into(), detail: "Cannot 'stop' instance".into() });
    power(&w.deps, &admin(), &v2(), &record.id, PowerAction::Stop).await.expect_err("refused");
    let refused = actions(&w, record.id.clone()).await;
    assert_eq!((refused[0].action.command, refused[0].action.status), (Command::StopServer, ActionStatus::Error));
    assert_eq!(refused[0].action.error.as_ref().map(|e| e.message.as_str()), Some("Cannot 'stop' instance"));

    let bus = crate::events::MemoryBus::default();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    cleanup::run(&w.deps, &bus, deadline).await.unwrap_or_else(|e| panic!("{e}"));
    cleanup::run(&w.deps, &bus, deadline).await.unwrap_or_else(|e| panic!("{e}"));
    let published = bus.published.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let seen: Vec<_> = published.iter().map(|e| (e.previous, e.current)).collect();
    assert_eq!(seen, [(None, ServerState::Provisioning), (Some(ServerState::Provisioning), ServerState::Running)]);
}

#[tokio::test]
async fn a_running_action_past_the_timeout_reads_as_timed_out() {
    use crate::domain::ActionStatus;
    let mut w = world().await;
    let record = create_server(&w.deps, &admin(), &v2(), create_input(&w.network, "web"), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    w.deps.timing.action_timeout = chrono::Duration::zero();
    let params = |status| actions::ActionListParams { status, after: None, limit: 10 };
    let page = actions::list_actions(&w.deps, &admin(), &v2(), &record.id, params(None)).await;
    let listed = page.unwrap_or_else(|e| panic!("{e}")).items;
    assert_eq!(listed[0].action.status, ActionStatus::Error);
    assert_eq!(listed[0].action.error.as_ref().map(|e| e.code.as_str()), Some("timeout"));
    let running =
        actions::list_actions(&w.deps, &admin(), &v2(), &record.id, params(Some(ActionStatus::Running))).await;
    assert!(running.unwrap_or_else(|e| panic!("{e}")).items.is_empty(), "a timed-out action is not listed as running");
}

#[tokio::test]
async fn a_protected_server_is_neither_deleted_nor_cascaded() {
    use crate::domain::Protection;
    let w = world().await;
    let record = create_server(&w.deps, &admin(), &v2(), create_input(&w.network, "web"), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let guarded = Protection { delete: true, rebuild: false };
    set_protection(&w.deps, &admin(), &v2(), &record.id, guarded).await.unwrap_or_else(|e| panic!("{e}"));
    let refused = delete_server(&w.deps, &admin(), &v2(), &record.id).await.expect_err("protected");
    assert_eq!(refused.status_and_code().0, 409, "{refused}");
    let cascade = networks::delete_network(&w.deps, &admin(), &v2(), &w.network).await.expect_err("protected");
    assert!(cascade.to_string().contains(&record.id), "{cascade}");
    assert!(!w.provider.calls().contains(&"delete_server".to_owned()), "nothing reached the provider");
    set_protection(&w.deps, &admin(), &v2(), &record.id, Protection::default()).await.unwrap_or_else(|e| panic!("{e}"));
    delete_server(&w.deps, &admin(), &v2(), &record.id).await.unwrap_or_else(|e| panic!("{e}"));
}
