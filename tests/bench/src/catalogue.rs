//! The regions' catalogue: provider calls per read (a new container with nothing cached, a new
//! container with the table's copy, a warm one), the latency a warm read adds over the store-only
//! `get`, and create's critical path in provider round trips (the emulator adding a fixed delay to
//! every provider call), now and in the `BENCH_BEFORE` build.

use std::path::Path;
use std::time::{Duration, Instant};

use integration_tests::calls::Calls;
use integration_tests::stack::{ORG, REGION};
use openstack_emulator::Fault;

use shared::store::dynamodb::DynamoStore;
use shared::store::{CatalogKind, CatalogStore};

use crate::fixtures::Fixtures;
use crate::runtime;
use crate::stats::{median, ms};

/// (row, route, query, what it reads)
const READS: &[(&str, &str, &str, CatalogKind)] = &[
    ("flavors", "/api/v1/organizations/{org}/regions/{region}/flavors", "", CatalogKind::Flavors),
    ("images (v1)", "/api/v1/organizations/{org}/regions/{region}/images", "", CatalogKind::Images),
    (
        "images (v2, owned and available)",
        "/api/v2/regions/{region}/images",
        "organizationID={org}",
        CatalogKind::Images,
    ),
    (
        "external networks",
        "/api/v1/organizations/{org}/regions/{region}/externalnetworks",
        "",
        CatalogKind::ExternalNetworks,
    ),
];

pub async fn section(fx: &Fixtures, bins: &Path, before: Option<&Path>, n: usize) -> String {
    reads(fx, n).await + &critical_path(fx, bins, before).await
}

async fn reads(fx: &Fixtures, n: usize) -> String {
    let mut out = String::from(
        "## Catalogue reads (function `regions`)\n\n\
         Provider calls (Keystone tokens in brackets) and DynamoDB round trips waited for: a new container with \
         nothing cached anywhere (its init included), a new container when another has shared the copy in the \
         table, and a warm container. Latency: the warm read and the store-only `get` through their handlers, \
         interleaved, same moto (a warm read waits for no DynamoDB call when the container's fair-use allowance \
         covers it; `get` reads its record).\n\n\
         | read | new container, nothing cached | new container, table's copy | warm | warm median ms | get median ms | read - get ms |\n\
         | --- | --- | --- | --- | ---: | ---: | ---: |\n",
    );
    let get = fx.event("GET", &format!("/api/v2/servers/{}", fx.settled), None);
    for (row, route, query, kind) in READS {
        let path = route.replace("{org}", ORG).replace("{region}", REGION);
        let event = fx.event_with("GET", &path, &query.replace("{org}", ORG), &fx.member, None);
        let _ = fx.stack.deps.store.drop_catalog(REGION, *kind).await;
        let empty = container_read(fx, &event).await;
        let shared_copy = container_read(fx, &event).await;
        let calls = Calls::default();
        let deps =
            crate::cloud(&fx.sdk, DynamoStore::new(calls.client().await, fx.stack.table.clone()), regions::NEEDS).await;
        crate::invoke_cloud("regions", &deps, &event).await;
        calls.take();
        calls.take_waits();
        let warm =
            crate::counted(fx, &calls, &fx.provider_counts(), crate::invoke_cloud("regions", &deps, &event)).await;
        let (mut reads, mut gets) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for _ in 0..n {
            let started = Instant::now();
            let status = crate::invoke_cloud("regions", &deps, &event).await;
            reads.push(started.elapsed());
            let started = Instant::now();
            let got = crate::invoke_cloud("get", &fx.stack.deps, &get).await;
            gets.push(started.elapsed());
            if status != 200 || got != 200 {
                crate::failed(format!("catalogue latency of {row}: answered {status} and get {got}"));
            }
        }
        for counted in [&empty, &shared_copy, &warm] {
            if counted.status != 200 {
                crate::failed(format!("catalogue read {row}: answered {}", counted.status));
            }
        }
        let (read, got) = (ms(median(&reads)), ms(median(&gets)));
        out += &format!(
            "| {row} | {} | {} | {} | {read:.2} | {got:.2} | {:+.2} |\n",
            shown(&empty),
            shown(&shared_copy),
            shown(&warm),
            read - got
        );
    }
    out + "\n"
}

fn shown(counted: &crate::Counted) -> String {
    format!("provider {}; DynamoDB {}", counted.provider.split(',').next().unwrap_or_default(), counted.dynamo)
}

/// A new container's first read: its dependencies built as the function's init builds them.
async fn container_read(fx: &Fixtures, event: &str) -> crate::Counted {
    let calls = Calls::default();
    let before = fx.provider_counts();
    let store = DynamoStore::new(calls.client().await, fx.stack.table.clone());
    let deps = crate::cloud(&fx.sdk, store, regions::NEEDS).await;
    crate::counted(fx, &calls, &before, crate::invoke_cloud("regions", &deps, event)).await
}

/// The delay the emulator adds to every provider call while the critical path is measured.
fn provider_delay() -> u64 {
    std::env::var("BENCH_PROVIDER_DELAY_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(400)
}

async fn critical_path(fx: &Fixtures, bins: &Path, before: Option<&Path>) -> String {
    let delay = provider_delay();
    let mut out = format!(
        "## Create's critical path: provider round trips waited for\n\n\
         The emulator adds {delay} ms to every provider call; a create binary under the local runtime answers one \
         create (warming tokens and the catalogue), then the measured one: round trips = its latency / {delay} ms, \
         rounded. Before: the `BENCH_BEFORE` build.\n\n\
         | create | round trips | ms | before: round trips | before: ms |\n| --- | ---: | ---: | ---: | ---: |\n"
    );
    for (row, networking) in [
        ("plain", None),
        ("security group, source prefix, public IP", Some(crate::fixtures::networking(&fx.group, true))),
    ] {
        let mut cells = Vec::new();
        for dir in [Some(bins), before] {
            let Some(dir) = dir else {
                cells.push("- | -".to_owned());
                continue;
            };
            match timed_create(fx, &dir.join("create"), networking.clone(), delay).await {
                Ok(elapsed) => cells.push(format!("{:.0} | {:.0}", ms(elapsed) / delay as f64, ms(elapsed))),
                Err(e) => {
                    crate::failed(format!("critical path of create ({row}) with {}: {e}", dir.display()));
                    cells.push("failed | -".to_owned());
                }
            }
        }
        out += &format!("| {row} | {} |\n", cells.join(" | "));
    }
    out + "\n"
}

async fn timed_create(
    fx: &Fixtures,
    binary: &Path,
    networking: Option<serde_json::Value>,
    delay: u64,
) -> Result<Duration, String> {
    if !binary.is_file() {
        return Err(format!("no binary {}", binary.display()));
    }
    let events: Vec<String> = (0..2)
        .map(|i| {
            let mut body = fx
                .stack
                .server_body(&format!("bench-path-{}-{i}", uuid::Uuid::new_v4().simple()), &fx.stack.network_id);
            if let Some(networking) = &networking {
                body["spec"]["networking"] = networking.clone();
            }
            fx.event("POST", "/api/v2/servers", Some(&body))
        })
        .collect();
    fx.stack.emulator.inject(Fault::delay("*", "*", delay).forever());
    let run = runtime::run(binary, &fx.env, events).await;
    fx.stack.emulator.clear_faults();
    let run = run?;
    if run.statuses.iter().any(|s| !(200..300).contains(s)) {
        return Err(format!("answered {:?}", run.statuses));
    }
    run.warm.first().copied().ok_or_else(|| "no second answer".to_owned())
}
