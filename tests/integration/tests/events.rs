//! Every payload in `events/` (what `sam local invoke` sends) runs through its function's handler,
//! in order, against moto and the emulator: so the events never rot. There is one event per route.

use std::collections::{BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};

use integration_tests::repo_root;
use integration_tests::stack::{local_deps, regions_in};
use openstack_emulator::Emulator;
use serde_json::Value;
use shared::clock::IdSource;
use shared::http::{Function, ROUTES};

/// Hands out the ids the events name, then random ones.
struct Sequence(Mutex<VecDeque<String>>);

impl IdSource for Sequence {
    fn new_id(&self) -> String {
        let next = self.0.lock().unwrap_or_else(|e| e.into_inner()).pop_front();
        next.unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
    }
}

fn read(name: &str) -> Value {
    let path = repo_root().join("events").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Creates are 201 (a POST to a collection: servers, networks, identities, snapshots, CAs, groups; a
/// network reference's PUT), reads 200, a reference's removal 204, everything else (updates,
/// deletes, power actions) 202.
fn expected_status(route_key: &str) -> u16 {
    let collection =
        ["/servers", "/networks", "/identities", "/snapshot", "/sshcertificateauthorities", "/securitygroups"];
    match route_key.split_once(' ') {
        Some(("PUT", path)) if path.ends_with("/references/{reference}") => 201,
        Some(("DELETE", path)) if path.ends_with("/references/{reference}") => 204,
        Some(("POST", path)) if collection.iter().any(|c| path.ends_with(c)) => 201,
        Some(("PUT", path)) if path.ends_with("/protection") => 200,
        Some(("GET", _)) => 200,
        _ => 202,
    }
}

#[tokio::test]
async fn every_event_runs_through_its_function() {
    let order = read("order.json");
    let order = order.as_array().unwrap_or_else(|| panic!("order.json is not a list"));
    let files: BTreeSet<String> = std::fs::read_dir(repo_root().join("events"))
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|f| f.ends_with(".json") && f != "order.json")
        .collect();
    let listed: BTreeSet<String> = order.iter().filter_map(|o| o["file"].as_str().map(str::to_owned)).collect();
    assert_eq!(files, listed, "order.json lists every event file");

    let route_keys: BTreeSet<String> = ROUTES.iter().map(|r| r.key.to_owned()).collect();
    let event_keys: BTreeSet<String> =
        listed.iter().map(|f| read(f)["routeKey"].as_str().unwrap_or_default().to_owned()).collect();
    assert_eq!(event_keys, route_keys, "one event per route");

    let network_create = read("networks-create.json");
    let spec: Value = serde_json::from_str(network_create["body"].as_str().unwrap_or_default()).unwrap_or_default();
    let network_id = read("networks-get.json")["pathParameters"]["networkID"].clone();
    let server_id = read("servers-get.json")["pathParameters"]["serverID"].clone();
    let ca_id = read("sshcas-get.json")["pathParameters"]["sshCertificateAuthorityID"].clone();
    let group_id = read("securitygroups-get.json")["pathParameters"]["securityGroupID"].clone();
    let v1 = read("v1-servers-get.json")["pathParameters"].clone();
    let v1_network = read("v1-networks-get.json")["pathParameters"]["networkID"].clone();
    let v1_group = read("v1-securitygroups-get.json")["pathParameters"]["securityGroupID"].clone();
    let emulator = Emulator::start_demo().await.unwrap_or_else(|e| panic!("{e}"));
    let regions = regions_in(&emulator, spec["spec"]["regionId"].as_str().unwrap_or_default());
    // The ids the creates get, in the order order.json creates them.
    let ids = [
        network_id,
        server_id,
        ca_id,
        group_id,
        v1["identityID"].clone(),
        v1_network,
        v1_group,
        v1["serverID"].clone(),
    ]
    .iter()
    .filter_map(|v| v.as_str().map(str::to_owned))
    .collect();
    let (deps, ..) = local_deps(regions, Arc::new(Sequence(Mutex::new(ids)))).await;
    let store = deps.without_provider();

    for entry in order {
        let file = entry["file"].as_str().unwrap_or_default();
        let function_name = entry["function"].as_str().unwrap_or_default();
        let function = Function::ALL
            .into_iter()
            .find(|f| f.name() == function_name)
            .unwrap_or_else(|| panic!("{file}: no function {function_name}"));
        let mut event = read(file);
        let route_key = event["routeKey"].as_str().unwrap_or_default().to_owned();
        if route_key == shared::http::routes::GET_ACTION {
            // Action ids are minted at run time (time-ordered): address the server's newest one.
            let server = event["pathParameters"]["serverID"].as_str().unwrap_or_default().to_owned();
            let newest = shared::store::ActionQuery { limit: 1, ..Default::default() };
            let page = shared::store::ActionStore::list_actions(deps.store.as_ref(), &server, &newest).await;
            let id = page.ok().and_then(|p| p.items.first().map(|a| a.action.id.clone())).unwrap_or_default();
            let placeholder = event["pathParameters"]["actionID"].as_str().unwrap_or_default().to_owned();
            event = serde_json::from_str(&event.to_string().replace(&placeholder, &id)).unwrap_or(event);
        }
        if route_key == shared::http::routes::DELETE_IMAGE {
            // The snapshot event's image has Glance's id: address it.
            let owned = emulator.images().into_iter().find(|i| i.properties.contains_key("unikorn:organization:id"));
            let id = owned.map(|i| i.id).unwrap_or_default();
            let placeholder = event["pathParameters"]["imageID"].as_str().unwrap_or_default().to_owned();
            event = serde_json::from_str(&event.to_string().replace(&placeholder, &id)).unwrap_or(event);
        }
        let route = ROUTES.iter().find(|r| r.key == route_key);
        assert_eq!(route.map(|r| r.function), Some(function), "{file}: {route_key} belongs to another function");
        let request = lambda_http::request::from_str(&event.to_string()).unwrap_or_else(|e| panic!("{file}: {e}"));
        let response = local_api::invoke(&deps, &store, function, request).await;
        let body = String::from_utf8_lossy(response.body().as_ref()).into_owned();
        assert_eq!(response.status().as_u16(), expected_status(&route_key), "{file}: {body}");
        println!("event {file}: {} via {function_name}", response.status().as_u16());
    }
    assert!(emulator.servers().is_empty(), "the delete events removed the servers");
}

/// The cleanup function's schedule event (`sam local invoke CleanupFunction -e
/// events/scheduled/cleanup.json`) is what the function decodes, and a pass runs on a fresh stack.
#[tokio::test]
async fn the_schedule_event_decodes_and_a_cleanup_pass_runs() {
    let text = std::fs::read_to_string(repo_root().join("events/scheduled/cleanup.json")).unwrap_or_default();
    let event: aws_lambda_events::eventbridge::EventBridgeEvent<Value> =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("schedule event: {e}"));
    assert_eq!(event.detail_type, "Scheduled Event");
    let emulator = Emulator::start_demo().await.unwrap_or_else(|e| panic!("{e}"));
    let (deps, ..) = local_deps(regions_in(&emulator, "r"), Arc::new(Sequence(Mutex::new(VecDeque::new())))).await;
    let sdk = shared::aws::Sdk::from_env().unwrap_or_else(|e| panic!("{e}"));
    let endpoint = integration_tests::stack::dynamodb_endpoint();
    let name = format!("schedule-{}", uuid::Uuid::new_v4());
    local_api::events::ensure_bus_to_queue(&sdk, &endpoint, &name, &name).await.unwrap_or_else(|e| panic!("{e}"));
    let bus = shared::events::eventbridge::EventBridgeBus::new(sdk.eventbridge(Some(&endpoint)), name);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let report = shared::usecase::cleanup::run(&deps, &bus, deadline).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(report.complete && report.failures.is_empty(), "{report:?}");
    assert_eq!((report.identities_synced, report.provider_list_calls), (1, 1));
}

/// The worker's queue events (`sam local invoke WorkerFunction -e events/queue/work.json`, or
/// `slice.json`) are what the function decodes; its item runs (a network already gone is done), and
/// an unreadable item is refused with its reason, never worked.
#[tokio::test]
async fn the_queue_event_decodes_and_its_item_runs() {
    let text = std::fs::read_to_string(repo_root().join("events/queue/work.json")).unwrap_or_default();
    let event: aws_lambda_events::event::sqs::SqsEvent =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("queue event: {e}"));
    let emulator = Emulator::start_demo().await.unwrap_or_else(|e| panic!("{e}"));
    let (deps, ..) = local_deps(regions_in(&emulator, "r"), Arc::new(Sequence(Mutex::new(VecDeque::new())))).await;
    for record in &event.records {
        let body = record.body.clone().unwrap_or_default();
        assert_eq!(worker::work(&deps, &body).await, Ok(()), "{body}");
    }
    let refused = worker::work(&deps, "{\"kind\":\"nonsense\"}").await;
    assert!(
        matches!(&refused, Err(shared::work::Failure::Unworkable(why)) if why.contains("not a work item")),
        "unreadable: never tried again, {refused:?}"
    );
    assert!(emulator.inventory().is_empty(), "nothing was made for a network that is not there");

    // A sweep's slice (`events/queue/slice.json`): read as one, and, its listing long stale,
    // done with without a look at the provider (the next sweep lists afresh).
    let text = std::fs::read_to_string(repo_root().join("events/queue/slice.json")).unwrap_or_default();
    let event: aws_lambda_events::event::sqs::SqsEvent =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("slice event: {e}"));
    let body = event.records.first().and_then(|r| r.body.clone()).unwrap_or_default();
    let item = shared::work::WorkItem::parse(&body);
    assert!(matches!(&item, Ok(shared::work::WorkItem::Slice(s)) if s.projects.len() == 2), "{item:?}");
    let before = emulator.counters();
    assert_eq!(worker::work(&deps, &body).await, Ok(()));
    assert_eq!(emulator.counters(), before, "a stale slice asks the provider nothing");
}
