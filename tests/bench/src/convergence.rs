//! A cleanup sweep's cost against the number of identities: one region, N provisioned networks'
//! projects of 1 to 5 servers each (seeded through the emulator's APIs and loaded into a fresh
//! table), swept with a project member's credential (each project listed on its own: the sweep
//! before issue 35) and with an admin's (the region listed at once), each done inline (one process
//! matching every project) and fanned out (planned, its slices matched by local workers on moto's
//! SQS). Provider calls from the emulator's counters, DynamoDB calls from an SDK interceptor, wall
//! time without and with a fixed delay added to every provider call.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use integration_tests::calls::{bulk_load, seeded_server, Calls};
use integration_tests::sweeps::{region_of, sweep_deps, SWEEPER};

use crate::sweep_fan_out::{fanned, Fanned};
use openstack_emulator::{seed, Emulator, Fault};
use serde_json::json;
use shared::domain::ServerRecord;
use shared::provider::openstack::{OpenStackConfig, OpenStackProvider};
use shared::provider::{Attach, Compute, Networking, PortSpec, ServerCreate};
use shared::store::dynamodb::{items, DynamoStore};
use shared::usecase::Timing;

struct Sweep {
    provider: u64,
    tokens: u64,
    dynamodb: u64,
    wall: Duration,
    written: usize,
}

fn sum(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>, keep: impl Fn(&str) -> bool) -> u64 {
    after
        .iter()
        .filter(|(k, _)| !k.starts_with("action ") && keep(k))
        .map(|(k, v)| v - before.get(k).copied().unwrap_or(0))
        .sum()
}

/// A sweep's provider calls and Keystone tokens between two readings of the emulator's counters
/// (the catalogue's refresh-ahead, images, is not the sweep's).
pub(crate) fn provider_calls(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>) -> (u64, u64) {
    const TOKENS: &str = "POST /identity/v3/auth/tokens";
    (sum(before, after, |k| k != TOKENS && !k.contains("/image/")), sum(before, after, |k| k == TOKENS))
}

async fn sweep(deps: &shared::context::CloudDeps, emulator: &Emulator, calls: &Calls) -> Result<Sweep, String> {
    let before = emulator.counters();
    calls.take();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(3600);
    let bus = shared::events::MemoryBus::default();
    let report = shared::usecase::cleanup::run(deps, &bus, deadline).await.map_err(|e| e.to_string())?;
    let wall = started.elapsed();
    if !report.complete || !report.failures.is_empty() {
        return Err(format!("sweep incomplete: {:?}", report.failures.first()));
    }
    let (provider, tokens) = provider_calls(&before, &emulator.counters());
    Ok(Sweep { provider, tokens, dynamodb: calls.take().values().sum(), wall, written: report.records_written })
}

/// One region of `n` identities' projects, seeded; the deps that sweep it (their work queue worked
/// by local workers), the table's counter and an uncounted view of the table.
async fn seeded(n: usize) -> Result<(Emulator, shared::context::CloudDeps, Calls, DynamoStore), String> {
    let emulator = Emulator::start_demo().await.map_err(|e| e.to_string())?;
    let projects: Vec<String> = (0..n).map(|i| format!("identity-project-{i}")).collect();
    let regions = region_of(&emulator, &projects);
    let calls = Calls::default();
    let dynamo = calls.patient_client().await;
    let table = format!("converge-{}", uuid::Uuid::new_v4().simple());
    shared::store::dynamodb::create_table(&dynamo, &table).await.map_err(|e| e.to_string())?;
    let seeder = OpenStackProvider::new(OpenStackConfig::default()).map_err(|e| e.to_string())?;
    let mut pending = Vec::new();
    for (i, project) in projects.iter().enumerate() {
        let cred = regions.credential_in("r", Some(project)).map_err(|e| e.to_string())?;
        for s in 0..(1 + i % 5) {
            let id = uuid::Uuid::new_v4().to_string();
            let spec = PortSpec { name: id.clone(), network_id: seed::TENANT_NETWORK.into(), ..PortSpec::default() };
            let (port, _) = seeder.create_port(&cred, &spec).await.map_err(|e| e.to_string())?;
            let create = ServerCreate {
                name: format!("s{s}"),
                image_id: seed::IMAGE_UBUNTU.into(),
                flavor_id: seed::FLAVOR_SMALL.into(),
                attach: Attach::Port(port.id.clone()),
                metadata: BTreeMap::from([("unikorn:server:id".to_owned(), id.clone())]),
                ..ServerCreate::default()
            };
            let (pid, _) = seeder.create_server(&cred, &create).await.map_err(|e| e.to_string())?;
            // The addresses the port has, so the first sweep finds the records steady.
            let record: ServerRecord = seeded_server(json!({"id": id, "name": format!("s{s}"), "regionId": "r",
                "networkId": format!("net-{i}"), "identityId": format!("i{i}"), "providerProjectId": project,
                "providerId": pid, "privateIp": port.private_ip, "macAddress": port.mac_address}));
            pending.push(items::server_item(&record).map_err(|e| e.to_string())?);
        }
    }
    bulk_load(&dynamo, &table, &pending).await;
    // Steady sweeps only: a grace long enough that no slice's listing goes stale however long
    // moto takes to plan the largest region.
    let timing = Timing { grace: chrono::Duration::hours(2), ..Timing::default() };
    let mut deps = sweep_deps(&regions, Arc::new(DynamoStore::new(dynamo, table.clone())), timing);
    let endpoint = integration_tests::stack::dynamodb_endpoint();
    let queues = local_api::work::ensure_queue(&endpoint, &format!("w-{table}")).await?;
    deps.work = Arc::new(local_api::work::sdk_queue(&endpoint, &queues)?);
    local_api::work::start_with(deps.clone(), &endpoint, queues, crate::sweep_fan_out::workers());
    let watch = DynamoStore::new(Calls::default().patient_client().await, table);
    Ok((emulator, deps, calls, watch))
}

fn cells(s: &Sweep) -> String {
    format!("{} ({}) | {} | {:.1}", s.provider, s.tokens, s.dynamodb, s.wall.as_secs_f64())
}

fn fanned_cells(s: &Fanned) -> String {
    format!(
        "{} ({}) | {} | {:.1} ({:.1})",
        s.provider,
        s.tokens,
        s.dynamodb,
        s.wall.as_secs_f64(),
        s.planned.as_secs_f64()
    )
}

/// One size: the inline table's line, the fanned-out table's line, and the admin's fanned-out wall
/// time with the delay (what the wall-time goal compares across sizes).
async fn row(n: usize, delay: u64) -> Result<(String, String, Duration), String> {
    // A large row runs for a long time here: each step says when it is done (stderr).
    let started = Instant::now();
    let done = |step: &str| eprintln!("convergence {n}: {step} after {:.0} s", started.elapsed().as_secs_f64());
    let (emulator, deps, calls, watch) = seeded(n).await?;
    done("seeded");
    // The member's sweeps list each project on its own: above `BENCH_CONVERGENCE_MEMBER_MAX`
    // identities they are left out (the emulator's per-project listing dominates them here).
    let with_member = n <= member_max();
    if !with_member {
        emulator.grant_admin(seed::DEMO_PROJECT_ID, SWEEPER);
    }
    // A first sweep finds the seeded records steady (their addresses seeded); then the measured ones.
    let first = sweep(&deps, &emulator, &calls).await?;
    done(&format!("first sweep ({} records written)", first.written));
    let (mut member, mut member_fanned) = (None, None);
    if with_member {
        member = Some(sweep(&deps, &emulator, &calls).await?);
        done("member");
        member_fanned = Some(fanned(&deps, &emulator, &calls, &watch, "member").await?);
        done("member fanned out");
        emulator.grant_admin(seed::DEMO_PROJECT_ID, SWEEPER);
        sweep(&deps, &emulator, &calls).await?;
    }
    let admin = sweep(&deps, &emulator, &calls).await?;
    done("admin");
    let admin_fanned = fanned(&deps, &emulator, &calls, &watch, "admin").await?;
    done("admin fanned out");
    emulator.inject(Fault::delay("*", "*", delay).forever());
    let slow = sweep(&deps, &emulator, &calls).await?;
    let slow_fanned = fanned(&deps, &emulator, &calls, &watch, "admin-slow").await?;
    emulator.clear_faults();
    done("admin with the delay");
    const NOT_RUN: &str = "not run | | ";
    // A sweep is sequential: the member's, at the same delay, waits at least for each of its calls.
    let member_slow = member.as_ref().map(|m| format!(">= {:.1}", ((m.provider + m.tokens) * delay) as f64 / 1000.0));
    let share = |calls: u64| match &member {
        Some(m) => format!("{:.1}%", 100.0 * calls as f64 / m.provider.max(1) as f64),
        None => "-".to_owned(),
    };
    let inline = format!(
        "| {n} | {} | {} | {} | {:.1} | {} |\n",
        member.as_ref().map(cells).unwrap_or_else(|| NOT_RUN.to_owned()),
        cells(&admin),
        share(admin.provider),
        slow.wall.as_secs_f64(),
        member_slow.unwrap_or_else(|| "-".to_owned()),
    );
    let fanned = format!(
        "| {n} | {} | {} | {} | {} | {:.1} ({:.1}) |\n",
        admin_fanned.slices,
        member_fanned.as_ref().map(fanned_cells).unwrap_or_else(|| NOT_RUN.to_owned()),
        fanned_cells(&admin_fanned),
        share(admin_fanned.provider),
        slow_fanned.wall.as_secs_f64(),
        slow_fanned.planned.as_secs_f64(),
    );
    Ok((inline, fanned, slow_fanned.wall))
}

/// Above how many identities the member's sweeps are left out (`BENCH_CONVERGENCE_MEMBER_MAX`; all
/// sizes by default).
fn member_max() -> usize {
    std::env::var("BENCH_CONVERGENCE_MEMBER_MAX").ok().and_then(|v| v.parse().ok()).unwrap_or(usize::MAX)
}

pub async fn section(sizes: &[usize]) -> String {
    let delay = std::env::var("BENCH_CONVERGENCE_DELAY_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(50u64);
    let workers = crate::sweep_fan_out::workers();
    let mut out = format!(
        "## Convergence: a cleanup sweep against the number of identities (section `convergence`, issue 35)\n\n\
         One region of N identities' projects with 1 to 5 servers each, steady (nothing to repair). Each cell: \
         provider calls (Keystone tokens), DynamoDB calls, wall seconds. Member: the region's credential may not \
         list every project, so each is listed on its own (the sweep before issue 35). Admin: the region is listed \
         at once. Then the admin's sweep with {delay} ms added to every provider call, beside the least the \
         member's would wait at that delay (its calls one after another).\n\n\
         | identities | member: provider (tokens) | DynamoDB | s | admin: provider (tokens) | DynamoDB | s | \
         admin/member provider calls | admin +{delay} ms: s | member +{delay} ms: s |\n\
         | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
    );
    let mut fanned_lines = String::new();
    let mut walls = Vec::new();
    for &n in sizes {
        match row(n, delay).await {
            Ok((inline, fanned, wall)) => {
                out += &inline;
                fanned_lines += &fanned;
                walls.push((n, wall));
            }
            Err(e) => {
                crate::failed(format!("convergence at {n} identities: {e}"));
                out += &format!("| {n} | failed | | | | | | | | |\n");
            }
        }
    }
    let ratios: Vec<String> = match walls.first() {
        Some(&(base, first)) => walls
            .iter()
            .skip(1)
            .map(|(n, w)| format!("{n}: {:.1}x the time at {base}", w.as_secs_f64() / first.as_secs_f64().max(1e-3)))
            .collect(),
        None => Vec::new(),
    };
    out += &format!(
        "\nThe same sweeps fanned out: the cleanup function's code plans (the region listed once where it may, its \
         records read, slices of whole projects queued on moto's SQS), {workers} local workers match the slices (the \
         worker function's code). Cells as above, the wall seconds from the plan's start to its last slice finished \
         (in brackets, the cleanup function's pass: planning and its other steps); the admin's provider calls as a share of the member's inline ones. \
         Wall time with {delay} ms per provider call, against the smallest size: {}.\n\n\
         | identities | slices | member fanned out: provider (tokens) | DynamoDB | s (plan) | admin fanned out: \
         provider (tokens) | DynamoDB | s (plan) | admin/member inline provider calls | admin +{delay} ms: s (plan) |\n\
         | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n{fanned_lines}\n",
        if ratios.is_empty() { "one size only".to_owned() } else { ratios.join(", ") }
    );
    out
}

/// The time from a create whose answer was lost (Nova made the server; the create's own look for
/// it failed too: the caller got a 503) to its record adopted by the follow-up, with the follow-up
/// delay set to `delay`: what is measured beyond the delay is the platform's own part.
pub async fn follow_up_section(samples: usize) -> String {
    use integration_tests::stack::{GatewayOptions, Stack};
    let delay = chrono::Duration::seconds(1);
    let stack = Stack::start_with(GatewayOptions { follow_up: Some(delay), ..GatewayOptions::default() }).await;
    let mut times = Vec::new();
    for i in 0..samples {
        stack.emulator.inject(Fault::dropped("POST", "/compute/v2.1/servers"));
        stack.emulator.inject(Fault::status("GET", "/compute/v2.1/servers/detail", 503));
        let body = stack.server_body(&format!("lost-{i}"), &stack.network_id);
        let reply = stack.call("POST", "/api/v2/servers", Some(&stack.admin()), Some(&body)).await;
        let answered = Instant::now();
        if reply.status != 503 {
            crate::failed(format!("follow-up: the lost create answered {}: {}", reply.status, reply.body));
            return String::new();
        }
        let listed = stack.call("GET", "/api/v2/servers", Some(&stack.admin()), None).await;
        let id = listed
            .body
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| s["metadata"]["name"] == format!("lost-{i}").as_str());
        let Some(id) = id.and_then(|s| s["metadata"]["id"].as_str().map(str::to_owned)) else {
            crate::failed(format!("follow-up: no record for lost-{i}"));
            return String::new();
        };
        loop {
            let stored = stack.stored(&format!("SERVER#{id}"), "SERVER").await;
            if stored.is_some_and(|s| s["providerId"].is_string()) {
                times.push(answered.elapsed());
                break;
            }
            if answered.elapsed() > Duration::from_secs(30) {
                crate::failed(format!("follow-up: lost-{i} not adopted within 30 s"));
                return String::new();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let beyond = |d: Duration| d.as_secs_f64() * 1000.0 - 1000.0;
    format!(
        "## Unanswered creates followed up (section `convergence`, issue 35)\n\n\
         {samples} creates whose answer Nova lost (and the create's one look for the server too: 503 to the caller), \
         each followed up by the worker with the delay set to 1 s: from the 503 to the record adopted, p50 {:.0} ms, \
         p99 {:.0} ms, of which the delay is 1,000 ms. In production the delay is the writing function's timeout and \
         5 s (create: 25 s), so such a create is settled about {:.1} s (p99) after its answer, where the sweep took \
         the grace period (5 min) and up to a minute more.\n\n",
        crate::stats::ms(crate::stats::median(&times)),
        crate::stats::ms(crate::stats::p99(&times)),
        25.0 + beyond(crate::stats::p99(&times)) / 1000.0,
    )
}
