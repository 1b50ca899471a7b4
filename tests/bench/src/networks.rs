//! Networks at the provider: provider calls per network create (provisioning by the worker) and
//! per delete (teardown), by service, the record writes they cost, and the time from the create's
//! 201 to `provisioned` (and from the delete's 202 to gone), without and with a fixed delay the
//! emulator adds to every provider call.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use identity_emulator::{ALLOCATION, ALLOCATIONS};
use integration_tests::stack::{ORG, PROJECT, REGION};
use openstack_emulator::Fault;
use serde_json::json;

use crate::fixtures::Fixtures;
use crate::stats::{median, ms, p99};

/// Provider requests since `before`, by service (Keystone tokens apart).
pub(crate) fn by_service(now: &BTreeMap<String, u64>, before: &BTreeMap<String, u64>) -> [u64; 5] {
    let diff = |k: &String, v: &u64| v - before.get(k).copied().unwrap_or(0);
    let sum = |f: &dyn Fn(&str) -> bool| -> u64 {
        now.iter().filter(|(k, _)| !k.starts_with("action ") && f(k)).map(|(k, v)| diff(k, v)).sum()
    };
    let tokens = sum(&|k| k == "POST /identity/v3/auth/tokens");
    let keystone = sum(&|k| k.contains(" /identity/") && k != "POST /identity/v3/auth/tokens");
    [
        keystone,
        sum(&|k| k.contains(" /compute/")),
        sum(&|k| k.contains(" /network/")),
        sum(&|k| k.contains(" /volume/")),
        tokens,
    ]
}

/// Waits for the network to read `stage` (`gone`: 404); the time it took.
async fn until(fx: &Fixtures, id: &str, stage: &str) -> Result<Duration, String> {
    until_at(fx, &format!("/api/v2/networks/{id}"), stage).await
}

/// Waits for the resource at `path` to read `stage` (`gone`: 404); the time it took.
pub(crate) async fn until_at(fx: &Fixtures, path: &str, stage: &str) -> Result<Duration, String> {
    let started = Instant::now();
    loop {
        let shown = fx.stack.call("GET", path, Some(&fx.admin), None).await;
        let now = if shown.status == 404 {
            "gone"
        } else {
            shown.body["metadata"]["provisioningStatus"].as_str().unwrap_or("")
        };
        if now == stage {
            return Ok(started.elapsed());
        }
        if started.elapsed() > Duration::from_secs(120) {
            return Err(format!("{path} never {stage}: {}", shown.body));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

struct Measured {
    create_calls: [u64; 5],
    delete_calls: [u64; 5],
    writes: (u64, u64),
    /// Identity's allocation calls: (create, delete).
    identity: (u64, u64),
    provisioned: Vec<Duration>,
    gone: Vec<Duration>,
}

async fn measure(fx: &Fixtures, n: usize) -> Result<Measured, String> {
    let mut m = Measured {
        create_calls: [0; 5],
        delete_calls: [0; 5],
        writes: (0, 0),
        identity: (0, 0),
        provisioned: vec![],
        gone: vec![],
    };
    for i in 0..n {
        let body = json!({"metadata": {"name": format!("bench-net-{i}")}, "spec": {"organizationId": ORG,
            "projectId": PROJECT, "regionId": REGION, "prefix": "10.8.0.0/24", "dnsNameservers": ["192.0.2.53"]}});
        let before = fx.provider_counts();
        let allocations = |route: &str| fx.stack.identity.counter(route);
        let asked = (allocations(ALLOCATIONS), allocations(ALLOCATION));
        let created = fx.stack.call("POST", "/api/v2/networks", Some(&fx.admin), Some(&body)).await;
        if created.status != 201 {
            return Err(format!("create answered {}: {}", created.status, created.body));
        }
        let id = created.id();
        m.provisioned.push(until(fx, &id, "provisioned").await?);
        m.create_calls = by_service(&fx.provider_counts(), &before);
        let network = fx.stack.stored(&format!("NETWORK#{id}"), "NETWORK").await.unwrap_or_default();
        let identity = network["identityId"].as_str().unwrap_or_default().to_owned();
        let identity = fx.stack.stored(&format!("IDENTITY#{identity}"), "IDENTITY").await.unwrap_or_default();
        m.writes = (network["version"].as_u64().unwrap_or(0) + 1, identity["version"].as_u64().unwrap_or(0) + 1);
        let before = fx.provider_counts();
        let deleted = fx.stack.call("DELETE", &format!("/api/v2/networks/{id}"), Some(&fx.admin), None).await;
        if deleted.status != 202 {
            return Err(format!("delete answered {}: {}", deleted.status, deleted.body));
        }
        m.gone.push(until(fx, &id, "gone").await?);
        m.delete_calls = by_service(&fx.provider_counts(), &before);
        m.identity = (allocations(ALLOCATIONS) - asked.0, allocations(ALLOCATION) - asked.1);
    }
    Ok(m)
}

pub(crate) fn row(label: &str, calls: [u64; 5]) -> String {
    let total: u64 = calls[..4].iter().sum();
    format!("| {label} | {total} ({}) | {} | {} | {} | {} |\n", calls[4], calls[0], calls[1], calls[2], calls[3])
}

pub async fn section(fx: &Fixtures, n: usize) -> String {
    let delay = std::env::var("BENCH_NETWORK_DELAY_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(50u64);
    let mut out = format!(
        "## Networks at the provider (function `networks`, then `worker`)\n\n\
         {n} networks from Unikorn's body, one after another, each provisioned then deleted. Provider calls of the \
         last one (Keystone tokens in brackets; its identity's and its network's), the record writes they cost, and \
         the time from the 201 to `provisioned` and from the 202 to gone, read by polling the API every 10 ms (the \
         local worker polls its queue every 100 ms). Then the same with {delay} ms added to every provider call.\n\n\
         | per network | provider calls (tokens) | Keystone | Nova | Neutron | Cinder |\n| --- | ---: | ---: | ---: | ---: | ---: |\n"
    );
    let plain = match measure(fx, n).await {
        Ok(m) => m,
        Err(e) => {
            crate::failed(format!("networks: {e}"));
            return out + "| failed | | | | | |\n\n";
        }
    };
    out += &row("create (provisioning)", plain.create_calls);
    out += &row("delete (teardown)", plain.delete_calls);
    out += &format!(
        "\nIdentity's quota allocation calls: create {}, delete {}. Record writes per create: network {}, identity {}.\n\n\
         | time (ms) | to provisioned p50 | p99 | to gone p50 | p99 |\n| --- | ---: | ---: | ---: | ---: |\n",
        plain.identity.0, plain.identity.1, plain.writes.0, plain.writes.1
    );
    out += &format!(
        "| no added delay | {:.0} | {:.0} | {:.0} | {:.0} |\n",
        ms(median(&plain.provisioned)),
        ms(p99(&plain.provisioned)),
        ms(median(&plain.gone)),
        ms(p99(&plain.gone))
    );
    fx.stack.emulator.inject(Fault::delay("*", "*", delay).forever());
    let slow = measure(fx, n.min(3)).await;
    fx.stack.emulator.clear_faults();
    match slow {
        Ok(m) => {
            out += &format!(
                "| +{delay} ms per provider call | {:.0} | {:.0} | {:.0} | {:.0} |\n",
                ms(median(&m.provisioned)),
                ms(p99(&m.provisioned)),
                ms(median(&m.gone)),
                ms(p99(&m.gone))
            )
        }
        Err(e) => crate::failed(format!("networks with {delay} ms per call: {e}")),
    }
    out + "\n"
}
