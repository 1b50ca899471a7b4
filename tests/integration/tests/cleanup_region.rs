//! A sweep lists the region, not each project, where the region's credential may (a cloud
//! admin's): one region with 20 provisioned networks' projects of servers, swept with a member's
//! credential (every project listed on its own) and then with an admin's (one listing of every
//! project's servers, ports, floating IPs and default groups). Both converge the same drift and
//! orphans; neither ever touches another tenant's objects, whatever they are named.

use std::collections::BTreeMap;
use std::sync::Arc;

use integration_tests::stack::moto_client;
use integration_tests::sweeps::{boot, drift, provider_delta, region_of, seed_projects, sweep_deps, SWEEPER};
use openstack_emulator::{seed, Emulator};
use shared::provider::openstack::{OpenStackConfig, OpenStackProvider};
use shared::store::dynamodb::DynamoStore;
use shared::usecase::Timing;

const PROJECTS: usize = 20;
const SERVERS_PER_PROJECT: usize = 3;

#[tokio::test]
async fn an_admin_credential_lists_the_region_once_and_converges_what_project_listings_do() {
    let emulator = Emulator::start_demo().await.unwrap_or_else(|e| panic!("{e}"));
    let projects: Vec<String> = (0..PROJECTS).map(|i| format!("identity-project-{i}")).collect();
    // The region's user may scope tokens to its own project and to every provisioned network's.
    let regions = region_of(&emulator, &projects);
    let client = moto_client();
    let table = format!("region-{}", uuid::Uuid::new_v4().simple());
    local_api::ensure_table(&client, &table).await.unwrap_or_else(|e| panic!("{e}"));
    let store = Arc::new(DynamoStore::new(client, table));

    // Seed: per project a network record and its servers, at the provider and in the table.
    let ports = seed_projects(&regions, &store, &projects, SERVERS_PER_PROJECT).await;
    let seeder = OpenStackProvider::new(OpenStackConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    // Another tenant's objects carrying our metadata and record-like names: never ours to touch.
    let stranger = integration_tests::other_credential(&emulator);
    let theirs = uuid::Uuid::new_v4().to_string();
    boot(&seeder, &stranger, &theirs).await;
    let is_theirs = |e: &Emulator| e.servers().iter().any(|s| s.3.get("unikorn:server:id") == Some(&theirs));

    let sweep = |label: &'static str| {
        let grace = Timing { grace: chrono::Duration::zero(), ..Timing::default() };
        let (deps, emulator) = (sweep_deps(&regions, store.clone(), grace), emulator.clone());
        async move {
            let before = emulator.counters();
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
            let bus = shared::events::MemoryBus::default();
            let report = shared::usecase::cleanup::run(&deps, &bus, deadline).await.unwrap_or_else(|e| panic!("{e}"));
            let calls = provider_delta(&before, &emulator.counters());
            println!("{label}: {calls:?}\n{report:?}");
            assert!(report.complete && report.failures.is_empty(), "{label}: {report:?}");
            (report, calls)
        }
    };
    // Drift and an orphan in our projects, for each sweep to find.
    let drift = |n: usize| drift(&ports[n]);

    sweep("first sweep: records learn addresses").await;
    drift(0).await;
    let (member, member_calls) = sweep("a member's credential: project by project").await;
    assert_eq!(member.region_listings, 0);
    assert_eq!(member.projects_synced, PROJECTS + 1, "the region's own project and each network's");
    assert_eq!(member.provider_list_calls, PROJECTS + 1);
    assert_eq!(member.network_list_calls, 2 * (PROJECTS + 1));
    assert_eq!((member.ports_repaired, member.orphans_deleted), (1, 1), "{member:?}");

    emulator.grant_admin(seed::DEMO_PROJECT_ID, SWEEPER);
    drift(1).await;
    let (admin, admin_calls) = sweep("an admin's credential: the region at once").await;
    assert_eq!(admin.region_listings, 1);
    assert_eq!(admin.projects_synced, PROJECTS + 1);
    assert_eq!(admin.provider_list_calls, 1, "every project's servers in one page");
    assert_eq!(admin.network_list_calls, 3, "ports, floating IPs, default groups: one page each");
    assert_eq!((admin.ports_repaired, admin.orphans_deleted), (1, 1), "the same repairs: {admin:?}");
    assert_eq!(admin.records_seen, PROJECTS * SERVERS_PER_PROJECT);
    let listings = |calls: &BTreeMap<String, u64>| -> u64 {
        calls.iter().filter(|(k, _)| k.starts_with("GET ") && !k.contains("{id}")).map(|(_, v)| v).sum()
    };
    let tokens = |calls: &BTreeMap<String, u64>| calls.get("POST /identity/v3/auth/tokens").copied().unwrap_or(0);
    println!(
        "listings: member {} (tokens {}), admin {} (tokens {})",
        listings(&member_calls),
        tokens(&member_calls),
        listings(&admin_calls),
        tokens(&admin_calls)
    );
    assert!(listings(&admin_calls) * 10 < listings(&member_calls), "{admin_calls:?} vs {member_calls:?}");
    assert!(is_theirs(&emulator), "another tenant's server is never taken for an orphan");
    let as_them = integration_tests::neutron::NeutronApi::connect_as(
        &emulator,
        seed::OTHER_APP_CRED_ID,
        seed::OTHER_APP_CRED_SECRET,
    );
    let their_ports = as_them.await.ports().await;
    assert!(their_ports.iter().any(|p| p["name"] == theirs.as_str()), "nor its port");
    let (steady, _) = sweep("steady").await;
    assert_eq!((steady.ports_repaired, steady.orphans_deleted, steady.records_written), (0, 0, 0), "{steady:?}");
}
