//! What one cleanup run costs at scale: 1,000 servers in 5 regions (each region's own project is
//! the provider identity its servers live in). DynamoDB calls are
//! counted by an SDK interceptor (by operation), provider calls by the emulator's counters. Not a
//! timing test: it asserts call counts, which do not depend on the machine.

use std::collections::BTreeMap;
use std::sync::Arc;

use integration_tests::calls::{bulk_load, seeded_server, Calls};
use integration_tests::sweeps::{provider_delta, sweep_deps};
use openstack_emulator::{seed, Emulator, User};
use serde_json::json;
use shared::domain::{NetworkRecord, ServerRecord};
use shared::provider::openstack::{OpenStackConfig, OpenStackProvider};
use shared::provider::{Attach, Compute, Networking, PortSpec, ServerCreate};
use shared::regions::{RegionCredential, Regions};
use shared::store::dynamodb::{items, DynamoStore};
use shared::store::NetworkStore;
use shared::usecase::Timing;

const IDENTITIES: usize = 5;
const SERVERS_PER_IDENTITY: usize = 200;

#[tokio::test]
async fn one_cleanup_run_over_a_thousand_servers_in_five_identities() {
    let emulator = Emulator::start_demo().await.unwrap_or_else(|e| panic!("{e}"));
    let mut documents = Vec::new();
    let mut credentials = Vec::new();
    for i in 0..IDENTITIES {
        let user = User {
            id: format!("user-{i}"),
            name: format!("user-{i}"),
            domain_id: seed::DOMAIN_ID.into(),
            password: format!("secret-{i}"),
            projects: [format!("nova-project-{i}")].into(),
            // A region's user administers its domain (it makes the networks' projects there).
            domains: [seed::DOMAIN_ID.to_owned()].into(),
        };
        emulator.add_user(user);
        documents.push(json!({"id": format!("r{i}"), "name": format!("r{i}"), "type": "openstack",
            "openstack": {"endpoint": emulator.auth_url(), "serviceAccountSecret": format!("region-r{i}")}}));
        let credential = json!({"domain-id": seed::DOMAIN_ID, "user-id": format!("user-{i}"),
            "password": format!("secret-{i}"), "project-id": format!("nova-project-{i}")});
        credentials.push(RegionCredential::parse("s", &credential.to_string()).unwrap_or_else(|e| panic!("{e}")));
    }
    let mut regions = Regions::parse(&json!({"regions": documents}).to_string()).unwrap_or_else(|e| panic!("{e}"));
    for (i, credential) in credentials.into_iter().enumerate() {
        regions = regions.with_credential(&format!("r{i}"), credential);
    }

    let calls = Calls::default();
    let dynamo = calls.client().await;
    let table = format!("scale-{}", uuid::Uuid::new_v4().simple());
    shared::store::dynamodb::create_table(&dynamo, &table).await.unwrap_or_else(|e| panic!("{e}"));
    let deps = sweep_deps(&regions, Arc::new(DynamoStore::new(dynamo.clone(), table.clone())), Timing::default());

    // Seed: per identity a network and 200 servers, at the provider and in the table.
    let mut pending = Vec::new();
    let seeder = OpenStackProvider::new(OpenStackConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    for i in 0..IDENTITIES {
        let cred = regions.project_credential(&format!("r{i}")).unwrap_or_else(|e| panic!("{e}"));
        let network: NetworkRecord = serde_json::from_value(json!({"id": format!("net-{i}"), "apiVersion": 2,
            "name": "net", "description": null, "tags": [], "organizationId": "o", "projectId": format!("p{i}"),
            "regionId": format!("r{i}"), "identityId": format!("r{i}"), "providerNetworkId": "pn", "createdBy": "seed",
            "creationTime": "2026-01-01T00:00:00Z"}))
        .unwrap_or_else(|e| panic!("{e}"));
        deps.store.create_network(&network).await.unwrap_or_else(|e| panic!("{e}"));
        for n in 0..SERVERS_PER_IDENTITY {
            let id = uuid::Uuid::new_v4().to_string();
            // As the create makes them: a port named after the record, the server booted on it.
            let spec = PortSpec { name: id.clone(), network_id: seed::TENANT_NETWORK.into(), ..PortSpec::default() };
            let (port, _) = seeder.create_port(&cred, &spec).await.unwrap_or_else(|e| panic!("{e}"));
            let create = ServerCreate {
                name: format!("s{n}"),
                image_id: seed::IMAGE_UBUNTU.into(),
                flavor_id: seed::FLAVOR_SMALL.into(),
                attach: Attach::Port(port.id),
                metadata: BTreeMap::from([("unikorn:server:id".to_owned(), id.clone())]),
                ..ServerCreate::default()
            };
            let (pid, _) = seeder.create_server(&cred, &create).await.unwrap_or_else(|e| panic!("{e}"));
            let record: ServerRecord = seeded_server(
                json!({"id": id, "name": format!("s{n}"), "projectId": format!("p{i}"),
                    "networkId": format!("net-{i}"), "regionId": format!("r{i}"), "identityId": format!("r{i}"), "flavorId": seed::FLAVOR_SMALL,
                    "imageId": seed::IMAGE_UBUNTU, "providerId": pid}),
            );
            // Bulk load with the real item layout: moto copies a whole table per transaction.
            let claim_check = chrono::Utc::now() + chrono::Duration::hours(1);
            pending.push(items::server_item(&record).unwrap_or_else(|e| panic!("{e}")));
            pending.push(items::claim_item(&record, claim_check));
        }
        let count = items::n(SERVERS_PER_IDENTITY);
        dynamo
            .update_item()
            .table_name(&table)
            .set_key(Some(items::network_key(&format!("net-{i}"))))
            .update_expression("SET serverCount = :n")
            .expression_attribute_values(":n", count)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    bulk_load(&dynamo, &table, &pending).await;
    calls.take();

    let mut rows = Vec::new();
    let run = |label: &'static str| {
        let deps = deps.clone();
        let calls = calls.clone();
        let emulator = emulator.clone();
        async move {
            let before = emulator.counters();
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
            let bus = shared::events::MemoryBus::default();
            let report = shared::usecase::cleanup::run(&deps, &bus, deadline).await.unwrap_or_else(|e| panic!("{e}"));
            let nova = provider_delta(&before, &emulator.counters());
            let dynamodb = calls.take();
            println!("cleanup run ({label}): provider {nova:?}; DynamoDB {dynamodb:?}; report {report:?}");
            (label, report, nova, dynamodb)
        }
    };
    rows.push(run("first: records learn addresses").await);
    rows.push(run("steady state").await);
    let pids: Vec<String> = emulator.servers().into_iter().map(|s| s.0).take(50).collect();
    for pid in &pids {
        emulator.set_server_state(pid, "stopped", None);
    }
    rows.push(run("50 stopped at the provider").await);

    println!("\n| run | provider calls | DynamoDB calls | records written |\n|---|---|---|---|");
    for (label, report, nova, dynamodb) in &rows {
        let total = |m: &BTreeMap<String, u64>| m.values().sum::<u64>();
        println!(
            "| {label} | {} {nova:?} | {} {dynamodb:?} | {} |",
            total(nova),
            total(dynamodb),
            report.records_written
        );
    }
    let list = "GET /compute/v2.1/servers/detail";
    for (label, report, nova, dynamodb) in &rows {
        assert!(report.complete && report.failures.is_empty(), "{label}: {report:?}");
        // A region's user here is a project member: Nova refuses its region-wide listing (one call
        // per region), then each region's project is listed (one page each).
        assert_eq!(nova.get(list), Some(&(2 * IDENTITIES as u64)), "{label}: one refused, one listing per region");
        assert_eq!(report.region_listings, 0, "{label}");
        assert_eq!(nova.get("GET /compute/v2.1/servers/{id}"), None, "{label}: no call per server");
        // Neutron: one ports and one floating IP listing per region (one page each), nothing per server.
        assert_eq!(nova.get("GET /network/v2.0/ports"), Some(&(IDENTITIES as u64)), "{label}");
        assert_eq!(nova.get("GET /network/v2.0/floatingips"), Some(&(IDENTITIES as u64)), "{label}");
        let per_server = nova.keys().filter(|k| k.contains("/network/") && k.contains("{id}")).count();
        assert_eq!(per_server, 0, "{label}: no Neutron call per server: {nova:?}");
        assert_eq!(report.network_list_calls, 2 * IDENTITIES, "{label}");
        assert_eq!(report.servers_without_port, 0, "{label}");
        assert_eq!(report.records_seen, IDENTITIES * SERVERS_PER_IDENTITY);
        // A write that changes the server's state is a transaction (record, outbox item, action).
        let writes: u64 =
            ["PutItem", "TransactWriteItems"].iter().map(|op| dynamodb.get(*op).copied().unwrap_or(0)).sum();
        // moto copies the table for each transaction; an attempt it answers after the SDK's attempt
        // timeout is sent again, finds its own write (version moved) and re-reads: a few extra calls.
        let expected = report.records_written as u64 + 1;
        assert!(
            (expected..=expected + 5).contains(&writes),
            "{label}: one write per changed record, plus the cursor: {writes} for {expected}"
        );
        let resent = writes - expected;
        let reads: u64 = ["Query", "GetItem"].iter().map(|op| dynamodb.get(*op).copied().unwrap_or(0)).sum();
        assert!(
            reads <= 2 * IDENTITIES as u64 + 4 + resent,
            "{label}: DynamoDB reads grow with pages (and re-sent writes), not servers: {dynamodb:?}"
        );
    }
    assert_eq!(rows[0].1.records_written, IDENTITIES * SERVERS_PER_IDENTITY);
    assert_eq!(rows[1].1.records_written, 0, "nothing changed: nothing written");
    assert_eq!(rows[2].1.records_written, 50);
    assert_eq!(
        (rows[1].1.events_published, rows[2].1.events_published),
        (0, 50),
        "one event per observed transition (running -> stopped), none without one"
    );
    assert_eq!(rows[1].2.get("POST /identity/v3/auth/tokens"), None, "a warm run asks for no new token");
}
