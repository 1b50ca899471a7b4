//! What the sweep tests and the bench's convergence section stand on: one region whose user may
//! scope tokens to many identities' projects, the dependencies a cleanup sweep runs on, and the
//! provider calls a sweep made.

use std::collections::BTreeMap;
use std::sync::Arc;

use openstack_emulator::{seed, Emulator, User};
use serde_json::json;
use shared::domain::{NetworkRecord, ServerRecord};
use shared::provider::openstack::{OpenStackConfig, OpenStackProvider};
use shared::provider::{Attach, Compute, Networking, PortSpec, ProviderCredential, ServerCreate};
use shared::regions::{RegionCredential, Regions};
use shared::store::dynamodb::DynamoStore;
use shared::store::{NetworkStore, ServerStore};
use shared::usecase::{Deps, Timing};

use crate::calls::seeded_server;

/// The region's user of [`region_of`].
pub const SWEEPER: &str = "region-sweeper";

/// Region `r` on the emulator, whose user (a project member until the emulator grants it `admin`
/// on the demo project) may scope tokens to the demo project and to each of `projects`.
pub fn region_of(emulator: &Emulator, projects: &[String]) -> Regions {
    let mut reach: std::collections::BTreeSet<String> = projects.iter().cloned().collect();
    reach.insert(seed::DEMO_PROJECT_ID.into());
    emulator.add_user(User {
        id: SWEEPER.into(),
        name: SWEEPER.into(),
        domain_id: seed::DOMAIN_ID.into(),
        password: "sweeper-secret".into(),
        projects: reach,
        domains: [seed::DOMAIN_ID.to_owned()].into(),
    });
    let document = json!({"regions": [{"id": "r", "name": "r", "type": "openstack",
        "openstack": {"endpoint": emulator.auth_url(), "serviceAccountSecret": "region-r"}}]});
    let credential = json!({"domain-id": seed::DOMAIN_ID, "user-id": SWEEPER, "password": "sweeper-secret",
        "project-id": seed::DEMO_PROJECT_ID});
    Regions::parse(&document.to_string())
        .and_then(|r| Ok(r.with_credential("r", RegionCredential::parse("s", &credential.to_string())?)))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// What a cleanup sweep runs on: the table, the emulator's provider, these regions; no fair-use
/// limits, no work queue, no identity allocations.
pub fn sweep_deps(regions: &Regions, store: Arc<DynamoStore>, timing: Timing) -> shared::context::CloudDeps {
    let config = shared::provider::openstack::OpenStackConfig::default();
    let provider = shared::provider::openstack::OpenStackProvider::new(config).unwrap_or_else(|e| panic!("{e}"));
    Deps {
        store,
        provider: Arc::new(provider),
        regions: Arc::new(regions.clone()),
        clock: Arc::new(shared::clock::SystemClock),
        ids: Arc::new(shared::clock::RandomIds),
        sealer: None,
        timing,
        crash: Default::default(),
        limiter: Arc::new(shared::fairuse::Limiter::off()),
        catalog: Default::default(),
        work: Arc::new(shared::work::HeldWork::default()),
        allocations: Arc::new(shared::identity::allocations::NoAllocations),
    }
}

/// The provider requests made between two readings of the emulator's counters (actions by name
/// apart: they are not requests).
pub fn provider_delta(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    after
        .iter()
        .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0)))
        .filter(|(k, v)| *v > 0 && !k.starts_with("action "))
        .collect()
}

/// A server as a create makes it in the credential's project: a port named after the record, the
/// server on it, carrying the record's id. Answers (server id, port id).
pub async fn boot(p: &OpenStackProvider, cred: &ProviderCredential, record_id: &str) -> (String, String) {
    let spec = PortSpec { name: record_id.into(), network_id: seed::TENANT_NETWORK.into(), ..PortSpec::default() };
    let (port, _) = p.create_port(cred, &spec).await.unwrap_or_else(|e| panic!("{e}"));
    let create = ServerCreate {
        name: format!("s-{record_id}"),
        image_id: seed::IMAGE_UBUNTU.into(),
        flavor_id: seed::FLAVOR_SMALL.into(),
        attach: Attach::Port(port.id.clone()),
        metadata: BTreeMap::from([("unikorn:server:id".to_owned(), record_id.to_owned())]),
        ..ServerCreate::default()
    };
    let (pid, _) = p.create_server(cred, &create).await.unwrap_or_else(|e| panic!("{e}"));
    (pid, port.id)
}

/// Per project of region `r`, a provisioned network's record and `servers` servers, at the provider
/// and in the table. Answers every server's port with the credential that reaches it.
pub async fn seed_projects(
    regions: &Regions,
    store: &DynamoStore,
    projects: &[String],
    servers: usize,
) -> Vec<(ProviderCredential, String)> {
    let seeder = OpenStackProvider::new(OpenStackConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    let mut ports = Vec::new();
    for (i, project) in projects.iter().enumerate() {
        let cred = regions.credential_in("r", Some(project)).unwrap_or_else(|e| panic!("{e}"));
        let network: NetworkRecord = serde_json::from_value(json!({"id": format!("net-{i}"), "apiVersion": 2,
            "name": "net", "description": null, "tags": [], "organizationId": "o", "projectId": "p",
            "regionId": "r", "identityId": format!("i{i}"), "providerNetworkId": "pn", "createdBy": "seed",
            "creationTime": "2026-01-01T00:00:00Z"}))
        .unwrap_or_else(|e| panic!("{e}"));
        store.create_network(&network).await.unwrap_or_else(|e| panic!("{e}"));
        for n in 0..servers {
            let id = uuid::Uuid::new_v4().to_string();
            let (pid, port) = boot(&seeder, &cred, &id).await;
            ports.push((cred.clone(), port));
            let record: ServerRecord = seeded_server(json!({"id": id, "name": format!("s{n}"), "regionId": "r",
                "networkId": format!("net-{i}"), "identityId": format!("i{i}"), "providerProjectId": project,
                "providerId": pid}));
            let effects = shared::domain::Effects::default();
            store.create_server(&record, chrono::Utc::now(), &effects).await.unwrap_or_else(|e| panic!("{e}"));
        }
    }
    ports
}

/// Drift for a sweep to find in the project of `port`: the port opened to any source address, and
/// an orphan server (a record-like id no record has) beside it, whose record id it answers.
pub async fn drift(port: &(ProviderCredential, String)) -> String {
    let (cred, port) = port;
    let seeder = OpenStackProvider::new(OpenStackConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    let pairs = [shared::provider::AllowedAddress { prefix: "0.0.0.0/0".into(), mac_address: None }];
    let default = seeder.default_security_group(cred).await.ok().flatten().unwrap_or_default();
    seeder.update_port(cred, port, &[default], &pairs).await.unwrap_or_else(|e| panic!("{e}"));
    let orphan = uuid::Uuid::new_v4().to_string();
    boot(&seeder, cred, &orphan).await;
    orphan
}

/// One cleanup pass as the tests drive it, its sweep fanned out as deployed: planned (a sweep of
/// its own, slices of at most four records, so a region's projects spread over several), each
/// slice carried as the queue carries it and matched by the worker's code, here, one after another;
/// then the outbox published again, as the next pass would publish what the slices wrote. The
/// report holds what the pass and every slice did.
pub async fn fanned_pass<B: shared::events::EventBus>(
    deps: &shared::context::CloudDeps,
    bus: &B,
    deadline: std::time::Instant,
) -> shared::usecase::cleanup::Report {
    use shared::usecase::cleanup::fan_out::{work_slice, FanOut, SliceBudget, SliceDone};
    use shared::usecase::cleanup::server_ranges::Ranges;
    let mut deps = deps.clone();
    let slices = Arc::new(crate::stack::SliceCatcher::new(deps.work.clone()));
    deps.work = slices.clone();
    let fan = FanOut {
        budget: SliceBudget { records: 4, ..SliceBudget::default() },
        // Ranges of a few servers, so a region listing at once is split as a large one is.
        listing: Ranges { page: 3, chains: 4 },
        ..FanOut::new(uuid::Uuid::new_v4().to_string())
    };
    let mut report = shared::usecase::cleanup::run_fanned_out(&deps, bus, deadline, &fan)
        .await
        .unwrap_or_else(|e| panic!("cleanup: {e}"));
    for slice in slices.take() {
        match work_slice(&deps, &slice).await {
            Ok(SliceDone::Finished(matched)) => report.absorb(*matched),
            Ok(other) => panic!("slice {} not matched: {other:?}", slice.slice),
            Err(why) => report.failures.push(why),
        }
    }
    // What is left is what this second publishing leaves.
    report.events_left = 0;
    shared::usecase::cleanup::publish_outbox(&deps, bus, deadline, &mut report)
        .await
        .unwrap_or_else(|e| panic!("cleanup: {e}"));
    report
}
