//! The sweep fanned out on the work queue (moto's SQS), planned by the cleanup function's code and
//! matched by the worker function's code, as the local worker runs it: slices converge the same
//! drift and orphans as the inline sweep, with a member's and with an admin's credential; two
//! planners of one tick plan one sweep; a worker killed mid-slice leaves a lease that runs out and
//! a slice the next worker completes; a project whose listing fails fails its slice alone; an
//! unreadable item, or one that failed its last try, goes to the dead-letter queue with its reason.

use std::sync::Arc;
use std::time::{Duration, Instant};

use integration_tests::calls::seeded_server;
use integration_tests::stack::{dynamodb_endpoint, moto_client};
use integration_tests::sweeps::{drift, provider_delta, region_of, seed_projects, sweep_deps, SWEEPER};
use local_api::work::Queues;
use openstack_emulator::{seed, Emulator};
use serde_json::json;
use shared::context::CloudDeps;
use shared::domain::{Effects, ServerRecord};
use shared::provider::ProviderCredential;
use shared::store::dynamodb::DynamoStore;
use shared::store::{ServerStore, SweepStore};
use shared::usecase::cleanup::fan_out::{FanOut, SliceBudget};
use shared::usecase::cleanup::server_ranges::Ranges;
use shared::usecase::cleanup::{run_fanned_out, Report};
use shared::usecase::Timing;

/// Old enough to be taken for an orphan; a slice's listing stays fresh half as long.
const GRACE_S: i64 = 6;

struct Fixture {
    emulator: Emulator,
    deps: CloudDeps,
    store: Arc<DynamoStore>,
    queues: Queues,
    ports: Vec<(ProviderCredential, String)>,
}

/// `projects` identities' projects of 3 servers each, swept through a work queue of their own
/// with the local worker on it.
async fn fixture(projects: usize, lease: Duration) -> Fixture {
    let emulator = Emulator::start_demo().await.unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<String> = (0..projects).map(|i| format!("identity-project-{i}")).collect();
    let regions = region_of(&emulator, &names);
    let client = moto_client();
    let table = format!("fan-{}", uuid::Uuid::new_v4().simple());
    local_api::ensure_table(&client, &table).await.unwrap_or_else(|e| panic!("{e}"));
    let store = Arc::new(DynamoStore::new(client, table.clone()));
    let ports = seed_projects(&regions, &store, &names, 3).await;
    let timing = Timing {
        grace: chrono::Duration::seconds(GRACE_S),
        slice_lease: chrono::Duration::from_std(lease).unwrap_or_default(),
        ..Timing::default()
    };
    let mut deps = sweep_deps(&regions, store.clone(), timing);
    let endpoint = dynamodb_endpoint();
    let queues =
        local_api::work::ensure_queue(&endpoint, &format!("w-{table}")).await.unwrap_or_else(|e| panic!("{e}"));
    deps.work = Arc::new(local_api::work::sdk_queue(&endpoint, &queues).unwrap_or_else(|e| panic!("{e}")));
    local_api::work::start(deps.clone(), &endpoint, queues.clone());
    Fixture { emulator, deps, store, queues, ports }
}

/// Ten records a slice: a few projects each.
fn fan(sweep: &str) -> FanOut {
    // Ranges of a few servers: an admin's region listing split as a large region's is.
    let listing = Ranges { page: 4, chains: 4 };
    FanOut { budget: SliceBudget { records: 10, ..SliceBudget::default() }, listing, ..FanOut::new(sweep) }
}

async fn plan(f: &Fixture, sweep: &str) -> Report {
    let bus = shared::events::MemoryBus::default();
    let deadline = Instant::now() + Duration::from_secs(60);
    run_fanned_out(&f.deps, &bus, deadline, &fan(sweep)).await.unwrap_or_else(|e| panic!("{e}"))
}

/// Waits until `finished` of the sweep's slices are finished (and no more), within `limit`.
async fn finished(f: &Fixture, sweep: &str, finished: u32, limit: Duration) {
    let started = Instant::now();
    loop {
        let summary = f.store.sweep_summary(sweep).await.ok().flatten().unwrap_or_default();
        if summary.finished >= finished {
            assert_eq!(summary.finished, finished, "{summary:?}");
            return;
        }
        assert!(started.elapsed() < limit, "sweep {sweep}: {summary:?} after {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn is_gone(emulator: &Emulator, record_id: &str) -> bool {
    !emulator.servers().iter().any(|s| s.3.get("unikorn:server:id").map(String::as_str) == Some(record_id))
}

#[tokio::test]
async fn slices_converge_what_the_inline_sweep_does_with_either_credential() {
    let f = fixture(12, Duration::from_secs(90)).await;
    let first = plan(&f, "first").await;
    assert!(first.slices_planned >= 4, "36 records, ten a slice: {first:?}");
    finished(&f, "first", first.slices_planned as u32, Duration::from_secs(30)).await;

    // A member's credential: every project listed by the worker that matches it.
    let orphan = drift(&f.ports[0]).await;
    tokio::time::sleep(Duration::from_secs(GRACE_S as u64)).await;
    let before = f.emulator.counters();
    let member = plan(&f, "member").await;
    assert_eq!((member.region_listings, member.sweep.as_deref()), (0, Some("member")), "{member:?}");
    assert_eq!(member.previous_sweep.as_ref().map(|s| s.unfinished()), Some(0), "the first sweep finished");
    finished(&f, "member", member.slices_planned as u32, Duration::from_secs(30)).await;
    let calls = provider_delta(&before, &f.emulator.counters());
    println!("member: {member:?}\n{calls:?}");
    let count = |k: &str| calls.get(k).copied().unwrap_or(0);
    assert_eq!(
        count("GET /compute/v2.1/servers/detail"),
        12 + 2,
        "each project (and the region's own) by a worker; one all_tenants refused"
    );
    assert_eq!(count("PUT /network/v2.0/ports/{id}"), 1, "the drifted port repaired");
    assert!(is_gone(&f.emulator, &orphan), "the orphan removed");

    // An admin's: the planner lists the region once and the slices carry it.
    f.emulator.grant_admin(seed::DEMO_PROJECT_ID, SWEEPER);
    let orphan = drift(&f.ports[4]).await;
    tokio::time::sleep(Duration::from_secs(GRACE_S as u64)).await;
    let before = f.emulator.counters();
    let admin = plan(&f, "admin").await;
    assert_eq!(admin.region_listings, 1, "{admin:?}");
    finished(&f, "admin", admin.slices_planned as u32, Duration::from_secs(30)).await;
    let calls = provider_delta(&before, &f.emulator.counters());
    println!("admin: {admin:?}\n{calls:?}");
    let count = |k: &str| calls.get(k).copied().unwrap_or(0);
    // 36 servers and the orphan in pages of 4, split at three of the records' servers: four ranges
    // of about 9 servers, 3 pages each at most, and the first page (the planner's only listing:
    // no worker lists).
    let nova = count("GET /compute/v2.1/servers/detail");
    assert_eq!(nova as usize, admin.provider_list_calls, "{admin:?}");
    assert!((10..=13).contains(&nova), "the region's servers once, in ranges: {nova} pages");
    assert_eq!(count("GET /network/v2.0/ports"), 1);
    assert_eq!(count("PUT /network/v2.0/ports/{id}"), 1, "the drifted port repaired");
    assert!(is_gone(&f.emulator, &orphan), "the orphan removed");
}

#[tokio::test]
async fn two_planners_of_one_tick_plan_one_sweep() {
    let f = fixture(6, Duration::from_secs(90)).await;
    let (a, b) = tokio::join!(plan(&f, "tick"), plan(&f, "tick"));
    let (planned, taken) = if a.sweep_taken { (b, a) } else { (a, b) };
    assert!(taken.sweep_taken && taken.slices_planned == 0 && taken.sweep.is_none(), "{taken:?}");
    assert!(!planned.sweep_taken && planned.slices_planned >= 2, "{planned:?}");
    finished(&f, "tick", planned.slices_planned as u32, Duration::from_secs(30)).await;
    let summary = f.store.sweep_summary("tick").await.ok().flatten().unwrap_or_default();
    assert_eq!(summary.slices, Some(planned.slices_planned as u32), "one plan's slices, queued once");
}

#[tokio::test]
async fn a_worker_killed_mid_slice_leaves_a_lease_the_next_worker_takes_when_it_runs_out() {
    // The lease runs out before the message comes back (the local queue's 2 s visibility).
    let f = fixture(6, Duration::from_millis(1500)).await;
    let first = plan(&f, "first").await;
    finished(&f, "first", first.slices_planned as u32, Duration::from_secs(30)).await;
    let orphans = [drift(&f.ports[0]).await, drift(&f.ports[3]).await, drift(&f.ports[6]).await];
    tokio::time::sleep(Duration::from_secs(GRACE_S as u64)).await;
    f.deps.crash.arm(shared::crash::SLICE_MIDWAY);
    let report = plan(&f, "crash").await;
    finished(&f, "crash", report.slices_planned as u32, Duration::from_secs(30)).await;
    assert!(!f.deps.crash.is_armed(shared::crash::SLICE_MIDWAY), "a worker died mid-slice");
    for orphan in orphans {
        assert!(is_gone(&f.emulator, &orphan), "every slice finished, the killed one too");
    }
}

#[tokio::test]
async fn a_project_whose_listing_fails_fails_its_slice_alone() {
    let f = fixture(6, Duration::from_secs(90)).await;
    // Records in a project the region's user may not scope a token to: its listing fails.
    let record: ServerRecord = seeded_server(json!({"id": uuid::Uuid::new_v4().to_string(), "name": "far",
        "regionId": "r", "networkId": "net-0", "identityId": "i-far", "providerProjectId": "zz-unreachable",
        "providerId": "nowhere"}));
    f.store.create_server(&record, chrono::Utc::now(), &Effects::default()).await.unwrap_or_else(|e| panic!("{e}"));
    let report = plan(&f, "partial").await;
    let slices = report.slices_planned as u32;
    assert!(slices >= 2, "{report:?}");
    finished(&f, "partial", slices - 1, Duration::from_secs(30)).await;
    // Still failing a while later (retried after its backoff, never finished).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let summary = f.store.sweep_summary("partial").await.ok().flatten().unwrap_or_default();
    assert_eq!(summary.unfinished(), 1, "{summary:?}");
    let next = plan(&f, "after").await;
    assert_eq!(next.previous_sweep.map(|s| s.unfinished()), Some(1), "the next planner reports it");
}

#[tokio::test]
async fn unreadable_items_and_items_out_of_tries_go_to_the_dead_letter_queue_with_their_reason() {
    let f = fixture(1, Duration::from_secs(90)).await;
    let sqs = local_api::events::Sqs::new(&dynamodb_endpoint());
    sqs.send(&f.queues.work, "{\"kind\":\"nonsense\"}").await.unwrap_or_else(|e| panic!("{e}"));
    let started = Instant::now();
    let letters = loop {
        let letters = sqs.peek(&f.queues.dead_letters).await.unwrap_or_default();
        if !letters.is_empty() || started.elapsed() > Duration::from_secs(20) {
            break letters;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(letters[0].0, "{\"kind\":\"nonsense\"}");
    assert!(letters[0].1.as_deref().is_some_and(|r| r.contains("not a work item")), "{letters:?}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(sqs.peek(&f.queues.work).await.unwrap_or_default().is_empty(), "never offered again");

    // An item failing its fifth try goes there too, with its last reason.
    let queue = local_api::work::sdk_queue(&dynamodb_endpoint(), &f.queues).unwrap_or_else(|e| panic!("{e}"));
    let failed = Err(shared::work::Failure::Retry("the provider is down".into()));
    assert!(worker::settle(Some(&queue), "{\"kind\":\"network\",\"networkId\":\"n\"}", "r", 5, failed).await);
    let letters = sqs.peek(&f.queues.dead_letters).await.unwrap_or_default();
    assert!(
        letters.iter().any(|l| l.1.as_deref() == Some("failed 5 times; the last: the provider is down")),
        "{letters:?}"
    );
    let report = plan(&f, "counted").await;
    assert_eq!(report.dead_letters, Some(2), "the planner's report counts them: {report:?}");
}
