//! Start and latency: every function's binary under a local Lambda Runtime API, `cold` cold
//! starts each against a hello-world `lambda_http` binary built with the same profile, then `warm`
//! events to one process. Every answer timed must be a success: a row that measured refusals (a
//! 429 from the limiter, a 4xx from a stale fixture) measured something else, and fails the run.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use crate::fixtures::Fixtures;
use crate::runtime;
use crate::sizes::Sizes;
use crate::stats::{median, ms, p99};

/// Every function the bench starts, in table order (the baseline first).
pub const STARTED: &[&str] = &[
    "hello-lambda",
    "authorizer",
    "list",
    "get",
    "networks",
    "sshcas",
    "update",
    "create",
    "delete",
    "power",
    "console",
    "snapshot",
    "regions",
    "cleanup",
];

pub async fn section(fx: &Fixtures, bins: &Path, before: Option<&Path>, sizes: &Sizes) -> String {
    let (cold, warm) = (sizes.cold, sizes.warm);
    let mut out = format!(
        "## Start and latency ({cold} cold starts, {warm} warm events)\n\n\
         init: process start to the first `next`; cold first: to the first answer (init, first DynamoDB \
         and provider calls); warm: event delivery to answer.\n\n\
         | function | init ms | x hello | cold first ms | warm median ms | warm p99 ms | statuses |{}\n\
         | --- | ---: | ---: | ---: | ---: | ---: | --- |{}\n",
        if before.is_some() { " before: init ms | before: cold first ms | before: warm median ms |" } else { "" },
        if before.is_some() { " ---: | ---: | ---: |" } else { "" },
    );
    let mut hello_init = None;
    for name in STARTED.iter().copied() {
        let now = measure(fx, &bins.join(name), name, 0, cold, warm).await;
        let (init, first, warm_median, warm_p99, statuses) = match &now {
            Ok(m) => m.clone(),
            Err(e) => {
                crate::failed(format!("start of {name}: {e}"));
                out += &format!("| {name} | failed: {e} |\n");
                continue;
            }
        };
        if name == "hello-lambda" {
            hello_init = Some(init);
        }
        let ratio = hello_init.map_or(String::from("-"), |h| format!("{:.2}", ms(init) / ms(h).max(0.001)));
        out += &format!(
            "| {name} | {:.1} | {ratio} | {:.1} | {:.2} | {:.2} | {statuses} |",
            ms(init),
            ms(first),
            ms(warm_median),
            ms(warm_p99)
        );
        if let Some(before) = before.filter(|_| name != "hello-lambda") {
            match measure(fx, &before.join(name), name, 1, cold, warm).await {
                Ok((init, first, warm_median, ..)) => {
                    out += &format!(" {:.1} | {:.1} | {:.2} |", ms(init), ms(first), ms(warm_median))
                }
                Err(e) => {
                    crate::failed(format!("start of {name} (before): {e}"));
                    out += &format!(" failed: {e} | | |");
                }
            }
        } else if before.is_some() {
            out += " - | - | - |";
        }
        out += "\n";
        eprintln!("bench: {name} measured");
    }
    out + "\n"
}

type Measured = (Duration, Duration, Duration, Duration, String);

/// `cold` processes with one event each, then one process with `warm` + 1 events.
async fn measure(
    fx: &Fixtures,
    binary: &Path,
    name: &str,
    set: usize,
    cold: usize,
    warm: usize,
) -> Result<Measured, String> {
    if !binary.is_file() {
        return Err(format!("no binary {}", binary.display()));
    }
    let mut events = fx.events(name, set, cold + warm + 1).into_iter();
    let (mut inits, mut firsts, mut statuses) = (Vec::new(), Vec::new(), BTreeMap::<u16, usize>::new());
    for _ in 0..cold {
        let run = runtime::run(binary, &fx.env, events.by_ref().take(1).collect()).await?;
        inits.push(run.init);
        firsts.push(run.first);
        run.statuses.iter().for_each(|s| *statuses.entry(*s).or_default() += 1);
    }
    let run = runtime::run(binary, &fx.env, events.collect()).await?;
    run.statuses.iter().for_each(|s| *statuses.entry(*s).or_default() += 1);
    let shown = statuses.iter().map(|(s, n)| format!("{s} x{n}")).collect::<Vec<_>>().join(", ");
    if statuses.keys().any(|s| !(200..300).contains(s)) {
        return Err(format!("answers other than 2xx ({shown}): not the function's figures"));
    }
    Ok((median(&inits), median(&firsts), median(&run.warm), p99(&run.warm), shown))
}
