//! What the sweep tests and the bench's convergence section stand on: one region whose user may
//! scope tokens to many identities' projects, the dependencies a cleanup sweep runs on, and the
//! provider calls a sweep made.

use std::collections::BTreeMap;
use std::sync::Arc;

use openstack_emulator::{seed, Emulator, User};
use serde_json::json;
use shared::regions::{RegionCredential, Regions};
use shared::store::dynamodb::DynamoStore;
use shared::usecase::{Deps, Timing};

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
