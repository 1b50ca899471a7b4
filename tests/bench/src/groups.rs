//! Security groups at Neutron: provider calls per group create (the worker makes the group and
//! its rules), per rule update (one rule replaced of three: only the difference is sent) and per
//! delete, by service, and the time from the answer to the settled read.

use std::time::Duration;

use serde_json::{json, Value};

use crate::fixtures::Fixtures;
use crate::networks::{by_service, row, until_at};
use crate::stats::{median, ms, p99};

fn rule(port: u16) -> Value {
    json!({"direction": "ingress", "protocol": "tcp", "port": port})
}

#[derive(Default)]
struct Measured {
    calls: [[u64; 5]; 3],
    settled: [Vec<Duration>; 3],
}

async fn measure(fx: &Fixtures, network: &str, n: usize) -> Result<Measured, String> {
    let mut m = Measured::default();
    for i in 0..n {
        let body = json!({"metadata": {"name": format!("bench-sg-{i}")},
            "spec": {"networkId": network, "rules": [rule(22), rule(80), rule(443)]}});
        let before = fx.provider_counts();
        let created = fx.stack.call("POST", "/api/v2/securitygroups", Some(&fx.admin), Some(&body)).await;
        if created.status != 201 {
            return Err(format!("create answered {}: {}", created.status, created.body));
        }
        let path = format!("/api/v2/securitygroups/{}", created.id());
        m.settled[0].push(until_at(fx, &path, "provisioned").await?);
        m.calls[0] = by_service(&fx.provider_counts(), &before);

        let update =
            json!({"metadata": {"name": format!("bench-sg-{i}")}, "spec": {"rules": [rule(22), rule(80), rule(8443)]}});
        let before = fx.provider_counts();
        let changed = fx.stack.call("PUT", &path, Some(&fx.admin), Some(&update)).await;
        if changed.status != 202 {
            return Err(format!("update answered {}: {}", changed.status, changed.body));
        }
        m.settled[1].push(until_at(fx, &path, "provisioned").await?);
        m.calls[1] = by_service(&fx.provider_counts(), &before);

        let before = fx.provider_counts();
        let deleted = fx.stack.call("DELETE", &path, Some(&fx.admin), None).await;
        if deleted.status != 202 {
            return Err(format!("delete answered {}: {}", deleted.status, deleted.body));
        }
        m.settled[2].push(until_at(fx, &path, "gone").await?);
        m.calls[2] = by_service(&fx.provider_counts(), &before);
    }
    Ok(m)
}

pub async fn section(fx: &Fixtures, n: usize) -> String {
    let mut out = format!(
        "## Security groups at Neutron (function `securitygroups`, then `worker`)\n\n\
         {n} groups on the stack's network, one after another: each created with three rules, updated (one rule \
         replaced), then deleted. Provider calls of the last one (Keystone tokens in brackets), and the time from \
         the answer to the settled read (polled every 10 ms; the local worker polls its queue every 100 ms).\n\n\
         | per group | provider calls (tokens) | Keystone | Nova | Neutron | Cinder |\n| --- | ---: | ---: | ---: | ---: | ---: |\n"
    );
    let m = match measure(fx, &fx.stack.network_id, n).await {
        Ok(m) => m,
        Err(e) => {
            crate::failed(format!("security groups: {e}"));
            return out + "| failed | | | | | |\n\n";
        }
    };
    for (label, calls) in ["create (3 rules)", "update (1 of 3 rules replaced)", "delete"].iter().zip(m.calls) {
        out += &row(label, calls);
    }
    out += "\n| time (ms) | p50 | p99 |\n| --- | ---: | ---: |\n";
    for (label, times) in ["201 to provisioned", "202 to provisioned", "202 to gone"].iter().zip(&m.settled) {
        out += &format!("| {label} | {:.0} | {:.0} |\n", ms(median(times)), ms(p99(times)));
    }
    out + "\n"
}
