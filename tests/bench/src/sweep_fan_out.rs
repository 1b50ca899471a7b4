//! A sweep fanned out on the work queue, for the convergence section: planned by the cleanup
//! function's code, its slices matched by `workers` local workers (the worker function's code on
//! moto's SQS), timed from the plan's start to its last slice finished.

use std::time::{Duration, Instant};

use integration_tests::calls::Calls;
use openstack_emulator::Emulator;
use shared::store::dynamodb::DynamoStore;
use shared::store::SweepStore;
use shared::usecase::cleanup::fan_out::FanOut;

/// What one fanned-out sweep cost.
pub struct Fanned {
    pub provider: u64,
    pub tokens: u64,
    pub dynamodb: u64,
    /// From the plan's start to its last slice finished.
    pub wall: Duration,
    /// The planner's part (listing, records read, slices queued).
    pub planned: Duration,
    pub slices: usize,
}

/// How many slices the local worker matches at once (`BENCH_WORKERS`; the template's reserved
/// concurrency is 50, more than two cores, moto and the emulator here can serve).
pub fn workers() -> usize {
    std::env::var("BENCH_WORKERS").ok().and_then(|v| v.parse().ok()).filter(|n| *n > 0).unwrap_or(8)
}

/// Plans sweep `sweep` with `deps` (whose work queue the local worker works) and waits for it.
pub async fn fanned(
    deps: &shared::context::CloudDeps,
    emulator: &Emulator,
    calls: &Calls,
    watch: &DynamoStore,
    sweep: &str,
) -> Result<Fanned, String> {
    let before = emulator.counters();
    calls.take();
    let started = Instant::now();
    let bus = shared::events::MemoryBus::default();
    let fan = FanOut::new(sweep);
    let deadline = started + Duration::from_secs(3600);
    let report =
        shared::usecase::cleanup::run_fanned_out(deps, &bus, deadline, &fan).await.map_err(|e| e.to_string())?;
    let planned = started.elapsed();
    if !report.complete || !report.failures.is_empty() || report.slices_planned == 0 {
        return Err(format!("sweep {sweep} not planned: {:?}", report.failures.first()));
    }
    loop {
        let summary = watch.sweep_summary(sweep).await.map_err(|e| e.to_string())?.unwrap_or_default();
        if summary.finished as usize >= report.slices_planned {
            break;
        }
        if started.elapsed() > Duration::from_secs(3600) {
            return Err(format!("sweep {sweep}: {summary:?} after an hour"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let wall = started.elapsed();
    let (provider, tokens) = crate::convergence::provider_calls(&before, &emulator.counters());
    let dynamodb = calls.take().values().sum();
    Ok(Fanned { provider, tokens, dynamodb, wall, planned, slices: report.slices_planned })
}
