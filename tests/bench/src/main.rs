//! `make bench`: one run, one table, figures side by side. Not a test: it reports, and the README
//! says what falls short and why.
//!
//! - Start: every function's release binary under a local Lambda Runtime API, `BENCH_COLD`
//!   (default 20) cold starts each, against a hello-world `lambda_http` binary built with the same
//!   profile; then `BENCH_WARM` events to one process for warm latency. `BENCH_BEFORE` (a folder of
//!   another build's binaries) adds their figures beside.
//! - Overhead: `get` through its handler against a raw `GetItem` of the same item, in-process.
//! - Scaling: the first page of `list` at 100, 1,000 and 10,000 servers in one project.
//! - Calls per operation, cold (init included) and warm, from an SDK interceptor and the
//!   emulator's counters.
//! - Sizes: each function's arm64 zip (`BENCH_ZIPS`, `BENCH_BEFORE_ZIPS`).
//! - Auth: identity and DynamoDB calls per authentication (cold and warm containers, known and new
//!   tokens, a burst of cold containers), its added latency, and a request end to end through the
//!   authorizer.
//!
//! - Catalogue: provider calls per catalogue read (cold, from the table's copy, warm), the latency
//!   a warm read adds over `get`, and create's critical path in provider round trips.
//!
//! `BENCH_SECTIONS=start,overhead,calls,catalogue,networks,sizes,auth,fairuse,moto,scaling` picks sections.

mod auth;
mod catalogue;
mod convergence;
mod fairuse;
mod fixtures;
mod groups;
mod moto;
mod networks;
mod runtime;
mod sizes;
mod start;
mod stats;
mod sweep_fan_out;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use fixtures::Fixtures;
use integration_tests::calls::{bulk_load, seeded_server, Calls};
use serde_json::json;
use shared::context::{CloudDeps, Needs, StoreDeps};
use shared::http::Function;
use shared::store::dynamodb::{items, DynamoStore};
use sizes::Sizes;
use stats::{median, ms, p99};

fn dir(name: &str) -> Option<PathBuf> {
    std::env::var_os(name).map(PathBuf::from).filter(|p| p.is_dir())
}

/// What went wrong in a section: the run ends with a failure status once every section printed.
static FAILURES: Mutex<Vec<String>> = Mutex::new(Vec::new());

pub fn failed(what: String) {
    eprintln!("bench: FAILED: {what}");
    FAILURES.lock().unwrap_or_else(|e| e.into_inner()).push(what);
}

#[tokio::main]
async fn main() {
    let sizes = Sizes::from_env();
    let bins = dir("BENCH_BINS").unwrap_or_else(|| panic!("BENCH_BINS: the folder of the function binaries"));
    let before = dir("BENCH_BEFORE");
    // BENCH_SECTIONS (comma-separated) runs some sections only; all by default.
    let chosen = std::env::var("BENCH_SECTIONS").unwrap_or_default();
    let run = |name: &str| chosen.is_empty() || chosen.split(',').any(|c| c.trim() == name);
    let per_set = if run("start") { sizes.cold + sizes.warm + 1 } else { 0 };
    let fx = Fixtures::start(per_set, if before.is_some() { 2 } else { 1 }).await;
    let now = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC");
    println!("# make bench, {now}, {} cores\n", std::thread::available_parallelism().map_or(0, |n| n.get()));
    // Each section prints as it completes. Scaling runs last: the servers it loads would slow the
    // writes of the other sections.
    if run("start") {
        println!("{}", start::section(&fx, &bins, before.as_deref(), &sizes).await);
    }
    if run("overhead") {
        println!("{}", overhead(&fx, sizes.overhead).await);
    }
    if run("calls") {
        println!("{}", calls(&fx).await);
    }
    if run("catalogue") {
        println!("{}", catalogue::section(&fx, &bins, before.as_deref(), sizes.overhead.min(200)).await);
    }
    if run("networks") {
        println!("{}", networks::section(&fx, sizes.networks).await);
    }
    if run("groups") {
        println!("{}", groups::section(&fx, sizes.networks).await);
    }
    if run("convergence") {
        println!("{}", convergence::section(&sizes.convergence).await);
        println!("{}", convergence::follow_up_section(sizes.networks).await);
    }
    if run("sizes") {
        println!("{}", zip_sizes());
    }
    if run("auth") {
        println!("{}", auth::section(&fx).await);
    }
    if run("fairuse") {
        println!("{}", fairuse::section(&sizes).await);
    }
    if run("moto") {
        println!("{}", moto::section(&sizes).await);
    }
    if run("scaling") {
        println!("{}", scaling(&fx, &sizes.scaling).await);
    }
    let failures = FAILURES.lock().unwrap_or_else(|e| e.into_inner()).clone();
    if !failures.is_empty() {
        eprintln!("bench: {} row(s) measured something other than what they say:", failures.len());
        for failure in &failures {
            eprintln!("  {failure}");
        }
        std::process::exit(1);
    }
}

async fn overhead(fx: &Fixtures, n: usize) -> String {
    let event = fx.event("GET", &format!("/api/v2/servers/{}", fx.settled), None);
    let client = fx.stack.dynamo.clone();
    let key = items::server_key(&fx.settled);
    let (mut handler, mut raw) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..n {
        let started = Instant::now();
        let request = lambda_http::request::from_str(&event).unwrap_or_else(|e| panic!("{e}"));
        let response = get::handle(&fx.stack.deps, request).await;
        handler.push(started.elapsed());
        assert_eq!(response.status().as_u16(), 200, "get through the handler");
        let started = Instant::now();
        let read =
            client.get_item().table_name(&fx.stack.table).set_key(Some(key.clone())).consistent_read(true).send().await;
        raw.push(started.elapsed());
        assert!(read.is_ok_and(|r| r.item().is_some()), "raw GetItem");
    }
    format!(
        "## Overhead: `get` through the handler against a raw GetItem ({n} each, interleaved, same moto)\n\n\
         | | median ms | p99 ms |\n| --- | ---: | ---: |\n\
         | handler (event parse, auth context, GetItem, response) | {:.3} | {:.3} |\n\
         | raw GetItem | {:.3} | {:.3} |\n| ratio | {:.2}x | {:.2}x |\n\n",
        ms(median(&handler)),
        ms(p99(&handler)),
        ms(median(&raw)),
        ms(p99(&raw)),
        ms(median(&handler)) / ms(median(&raw)).max(0.001),
        ms(p99(&handler)) / ms(p99(&raw)).max(0.001),
    )
}

async fn scaling(fx: &Fixtures, sizes: &[usize]) -> String {
    let store: StoreDeps = fx.stack.deps.without_provider();
    let mut out = String::from(
        "## Scaling: first page of `list` (limit 100) by servers in the project (20 requests each)\n\n\
         raw Query: the same index Query (101 items) straight from the SDK, interleaved: what moto itself \
         costs at that size.\n\n\
         | servers | median ms | p99 ms | x 100 | raw Query median ms | raw x 100 | handler / raw |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    let (mut base, mut raw_base) = (None, None);
    for n in sizes.iter().copied() {
        let project = format!("scale-{n}");
        let load: Vec<_> = (0..n)
            .map(|i| {
                let record = seeded_server(json!({"id": format!("{n:04}{i:04x}-0000-4000-8000-000000000000"),
                    "name": format!("s{i}"), "organizationId": "scale-org", "projectId": project,
                    "providerId": format!("nova-{n}-{i}")}));
                items::server_item(&record).unwrap_or_else(|e| panic!("{e}"))
            })
            .collect();
        bulk_load(&fx.stack.dynamo, &fx.stack.table, &load).await;
        let token = fx.stack.token(
            "reader",
            &integration_tests::stack::project_acl("scale-org", &project, &[("region:servers", &["read"])]),
        );
        let event = fx.event_with("GET", "/api/v2/servers", "", &token, None);
        let scope = shared::rbac::Scope::Project("scale-org".into(), project.clone());
        let (index, pk_attr, _, pk) = items::scope_partition(&scope, "SERVER");
        let (mut times, mut raw) = (Vec::new(), Vec::new());
        for _ in 0..20 {
            let started = Instant::now();
            let request = lambda_http::request::from_str(&event).unwrap_or_else(|e| panic!("{e}"));
            let response = list::handle(&store, request).await;
            times.push(started.elapsed());
            let body: serde_json::Value = serde_json::from_slice(response.body().as_ref()).unwrap_or_default();
            assert_eq!(body.as_array().map(Vec::len), Some(100), "a full first page at {n}");
            let started = Instant::now();
            let page = fx
                .stack
                .dynamo
                .query()
                .table_name(&fx.stack.table)
                .index_name(index)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", pk_attr)
                .expression_attribute_values(":pk", items::s(pk.clone()))
                .limit(101)
                .send()
                .await;
            raw.push(started.elapsed());
            assert!(page.map(|p| p.count()).unwrap_or_default() >= 100, "raw Query at {n}");
        }
        let (m, r) = (ms(median(&times)), ms(median(&raw)));
        let (b, rb) = (*base.get_or_insert(m), *raw_base.get_or_insert(r));
        out += &format!(
            "| {n} | {m:.2} | {:.2} | {:.2} | {r:.2} | {:.2} | {:.2} |\n",
            ms(p99(&times)),
            m / b.max(0.001),
            r / rb.max(0.001),
            m / r.max(0.001)
        );
    }
    out + "\n"
}

/// One operation, cold (fresh dependencies built as the function's init builds them, then the
/// first request) and warm (a second request on the same dependencies).
async fn calls(fx: &Fixtures) -> String {
    let mut out = String::from(
        "## Calls per operation (DynamoDB from an SDK interceptor; provider from the emulator's counters)\n\n\
         cold: init (warm-ups) + the first request of a new container; warm: a later request. \
         DynamoDB calls are followed by the round trips waited for (calls in flight together count once).\n\n\
         | operation | cold DynamoDB | cold provider (tokens), of which Neutron | warm DynamoDB | warm provider (tokens), of which Neutron |\n\
         | --- | --- | --- | --- | --- |\n",
    );
    for op in fixtures::OPERATIONS {
        let calls = Calls::default();
        let store = DynamoStore::new(calls.client().await, fx.stack.table.clone());
        let (first, second) = fx.operation_events(op).await;
        // Taken before the dependencies are built: the cold figures include init's calls.
        let before = fx.provider_counts();
        let (cold, warm) = if op.store_only {
            let deps = shared::context::store_deps_on(store).await.unwrap_or_else(|e| panic!("{e}"));
            let cold = counted(fx, &calls, &before, invoke_store(op.function, &deps, &first)).await;
            (cold, counted(fx, &calls, &fx.provider_counts(), invoke_store(op.function, &deps, &second)).await)
        } else {
            let deps = cloud(&fx.sdk, store, fixtures::needs(op.function)).await;
            let cold = counted(fx, &calls, &before, invoke_cloud(op.function, &deps, &first)).await;
            (cold, counted(fx, &calls, &fx.provider_counts(), invoke_cloud(op.function, &deps, &second)).await)
        };
        if cold.status >= 300 || warm.status >= 300 {
            failed(format!("calls of {}: answered {} then {}", op.name, cold.status, warm.status));
        }
        out +=
            &format!("| {} | {} | {} | {} | {} |\n", op.name, cold.dynamo, cold.provider, warm.dynamo, warm.provider);
    }
    out + "\n"
}

/// One request's answer and the calls made since the last count.
struct Counted {
    status: u16,
    dynamo: String,
    provider: String,
}

async fn counted(
    fx: &Fixtures,
    calls: &Calls,
    provider_before: &BTreeMap<String, u64>,
    request: impl std::future::Future<Output = u16>,
) -> Counted {
    let status = request.await;
    let dynamo = format!("{}; {} waited", fmt_calls(&calls.take()), calls.take_waits());
    Counted { status, dynamo, provider: fx.provider_since(provider_before) }
}

async fn cloud(sdk: &shared::aws::Sdk, store: DynamoStore, needs: Needs) -> CloudDeps {
    shared::context::cloud_deps_on(sdk, store, needs).await.unwrap_or_else(|e| panic!("{e}"))
}

fn request(event: &str) -> lambda_http::Request {
    lambda_http::request::from_str(event).unwrap_or_else(|e| panic!("{e}"))
}

async fn invoke_store(function: &str, deps: &StoreDeps, event: &str) -> u16 {
    match function {
        "list" => list::handle(deps, request(event)).await.status().as_u16(),
        other => panic!("{other} is not a store-only function the bench drives"),
    }
}

/// A provider-calling function's handler, as the local API invokes it.
async fn invoke_cloud(name: &str, deps: &CloudDeps, event: &str) -> u16 {
    let function = Function::ALL.into_iter().find(|f| f.name() == name);
    let function = function.unwrap_or_else(|| panic!("no function {name}"));
    local_api::invoke(deps, &local_api::store_deps(deps), function, request(event)).await.status().as_u16()
}

fn fmt_calls(calls: &BTreeMap<String, u64>) -> String {
    if calls.is_empty() {
        return "0".into();
    }
    calls.iter().map(|(op, n)| format!("{op} {n}")).collect::<Vec<_>>().join(", ")
}

fn zip_sizes() -> String {
    let zips = dir("BENCH_ZIPS");
    let before = dir("BENCH_BEFORE_ZIPS");
    let mut out = String::from(
        "## Size: arm64 zips (`cargo lambda build --release --arm64 --output-format zip`)\n\n\
         | function | zip MiB | before MiB |\n| --- | ---: | ---: |\n",
    );
    let size = |d: &Option<PathBuf>, f: &str| {
        d.as_ref()
            .and_then(|d| std::fs::metadata(d.join(f).join("bootstrap.zip")).ok())
            .map_or("-".to_owned(), |m| format!("{:.2}", m.len() as f64 / 1_048_576.0))
    };
    for f in start::STARTED.iter().filter(|f| **f != "hello-lambda") {
        out += &format!("| {f} | {} | {} |\n", size(&zips, f), size(&before, f));
    }
    out
}
